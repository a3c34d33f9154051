//! One AIWolf agent's line: the packets sent to it, the request it is answering, and AIWolf's
//! timeouts and `NAME` liveness probe (`model/agent.go SendPacket` of
//! `aiwolfdial/aiwolf-nlp-server`).
//!
//! - A request that needs an answer (`TALK`, `WHISPER`, `VOTE`, `DIVINE`, `GUARD`, `ATTACK`)
//!   unanswered within `AIWOLF_ACTION_TIMEOUT_MS` + `AIWOLF_ACCEPTABLE_TIMEOUT_MS`, or timed out
//!   by the hub first (its `action_result` `timed_out`), starts the probe: the agent gets
//!   `{"request":"NAME"}` and has `AIWOLF_RESPONSE_TIMEOUT_MS` to answer.
//! - Its next message equal to the name it connected with: it stays healthy; the request
//!   failed (the hub's timeout applied: talk skipped, vote or target none).
//! - Any other message (the late answer, say) or none in time: the agent has failed, as
//!   AIWolf's `HasError`: nothing more is sent to it (no request, no `INITIALIZE`/`DAILY_*`,
//!   no `FINISH`: AIWolf's `SendPacket` refuses every packet to such an agent), its messages are
//!   ignored, the hub's timeouts play its seat, and its socket is closed when the game ends.
//! - While the probe runs, what the game sends meanwhile is held (AIWolf's game waits for
//!   the probe) and delivered, in order, once the agent has answered its name; a held request
//!   the hub timed out meanwhile is dropped. So a late answer is never applied to a later
//!   request: it either ends the probe (failing the agent) or is refused by the hub as the
//!   answer to a closed request.

use super::json_log::{Entry, GameJsonLog, unix_ms};
use super::packets::Packet;
use super::view::Asked;
use axum::extract::ws::{Message, WebSocket};
use std::collections::{HashSet, VecDeque};
use std::time::Duration;
use tokio::time::Instant;
use tracing::{info, warn};

/// `error` of a request that timed out (the agent answered its name: it stays healthy).
const TIMED_OUT: &str = "response timed out";
/// `error` of a request whose probe got another answer than the agent's name.
const WRONG_NAME: &str = "invalid answer to the NAME probe";
/// `error` of a request whose probe got no answer in time.
const NO_NAME: &str = "no answer to the NAME probe";
/// `error` of a packet not sent because the agent has failed.
const NOT_SENT: &str = "the agent has failed; not sent";
/// `error` of a held request the hub timed out before it could be sent.
const EXPIRED: &str = "expired during the NAME probe; not sent";

/// A packet for the agent, serialized once (sent and logged as the same text).
#[derive(Debug)]
struct Outgoing {
    /// The packet's JSON.
    text: String,
    /// The request it asks, if it needs an answer.
    asked: Option<Asked>,
}

/// The request the agent is answering.
#[derive(Debug)]
struct Pending {
    /// What it asks.
    asked: Asked,
    /// The packet as sent.
    text: String,
    /// When it was sent, Unix ms.
    sent_ms: u64,
    /// When the probe starts if no answer came.
    deadline: Instant,
}

/// A running liveness probe.
#[derive(Debug)]
struct Probe {
    /// The request that timed out.
    failed: Pending,
    /// When the agent has failed if it has not answered its name.
    deadline: Instant,
}

/// One agent's line (see the module doc).
#[derive(Debug)]
pub struct AgentLine {
    /// The agent's socket.
    pub socket: WebSocket,
    /// The name it connected with (what the probe expects back).
    name: String,
    /// Its in-game name (`Agent[NN]`), for the JSON log.
    agent: String,
    /// The game's JSON log (`AIWOLF_LOG_DIR`).
    log: Option<GameJsonLog>,
    /// Action timeout plus grace.
    action: Duration,
    /// Time to answer the probe.
    response: Duration,
    /// The request being answered.
    pending: Option<Pending>,
    /// The probe running.
    probe: Option<Probe>,
    /// Packets held while the probe runs.
    held: VecDeque<Outgoing>,
    /// Hub request ids that expired while their packet was held.
    expired: HashSet<String>,
    /// Whether the agent has failed (AIWolf's `HasError`).
    errored: bool,
}

impl AgentLine {
    /// The line of agent `name` (in-game `agent`) with the hub's AIWolf timeouts.
    pub fn new(
        socket: WebSocket,
        name: String,
        agent: String,
        log: Option<GameJsonLog>,
        config: &crate::Config,
    ) -> AgentLine {
        AgentLine {
            socket,
            name,
            agent,
            log,
            action: Duration::from_millis(config.aiwolf_game_timeout_ms()),
            response: Duration::from_millis(config.aiwolf_response_timeout_ms),
            pending: None,
            probe: None,
            held: VecDeque::new(),
            expired: HashSet::new(),
            errored: false,
        }
    }

    /// Whether a probe is running.
    pub fn probing(&self) -> bool {
        self.probe.is_some()
    }

    /// The request whose timeout started the running probe.
    pub fn probed(&self) -> Option<&Asked> {
        self.probe.as_ref().map(|p| &p.failed.asked)
    }

    /// Whether the agent has failed (AIWolf's `HasError`).
    pub fn failed(&self) -> bool {
        self.errored
    }

    /// When [`AgentLine::on_deadline`] is due.
    pub fn deadline(&self) -> Option<Instant> {
        match &self.probe {
            Some(p) => Some(p.deadline),
            None => self.pending.as_ref().map(|p| p.deadline),
        }
    }

    /// Sends `packet` (asking `asked`, if it needs an answer), holds it during a probe, or
    /// only logs it once the agent has failed.
    pub async fn deliver(
        &mut self,
        packet: &Packet,
        asked: Option<Asked>,
    ) -> Result<(), axum::Error> {
        let text = serde_json::to_string(packet).unwrap_or_default();
        self.send(Outgoing { text, asked }).await
    }

    async fn send(&mut self, out: Outgoing) -> Result<(), axum::Error> {
        if self.errored {
            self.record(&out.text, unix_ms(), None, Some(NOT_SENT));
            return Ok(());
        }
        if self.probe.is_some() {
            self.held.push_back(out);
            return Ok(());
        }
        if let Some(asked) = &out.asked
            && self.expired.remove(&asked.request_id)
        {
            self.record(&out.text, unix_ms(), None, Some(EXPIRED));
            return Ok(());
        }
        let sent_ms = unix_ms();
        self.socket
            .send(Message::Text(out.text.clone().into()))
            .await?;
        match out.asked {
            Some(asked) => {
                if let Some(old) = self.pending.take() {
                    // The hub asked again before this was answered: that one is closed.
                    self.record(&old.text, old.sent_ms, None, Some(TIMED_OUT));
                }
                self.pending = Some(Pending {
                    asked,
                    text: out.text,
                    sent_ms,
                    deadline: Instant::now() + self.action,
                });
            }
            None => self.record(&out.text, sent_ms, None, None),
        }
        Ok(())
    }

    /// A message from the agent: the answer to apply to the request it answers, if it is one.
    pub async fn on_text(&mut self, text: String) -> Result<Option<(Asked, String)>, axum::Error> {
        if self.errored {
            return Ok(None);
        }
        if let Some(probe) = self.probe.take() {
            if text.trim_end_matches('\n') == self.name {
                info!(name = %self.name, "AIWolf agent answered the NAME probe; still in the game");
                self.record(
                    &probe.failed.text,
                    probe.failed.sent_ms,
                    None,
                    Some(TIMED_OUT),
                );
                while let Some(out) = self.held.pop_front() {
                    self.send(out).await?;
                }
            } else {
                self.fail(probe.failed, WRONG_NAME);
            }
            return Ok(None);
        }
        let Some(pending) = self.pending.take() else {
            tracing::debug!(text = %text, "AIWolf answer to nothing; ignored");
            return Ok(None);
        };
        let answer = text.replace('\n', "");
        self.record(&pending.text, pending.sent_ms, Some(&answer), None);
        Ok(Some((pending.asked, text)))
    }

    /// The pending request's deadline passed (start the probe), or the probe's (the agent
    /// has failed).
    pub async fn on_deadline(&mut self) -> Result<(), axum::Error> {
        let now = Instant::now();
        if let Some(probe) = self.probe.take_if(|p| p.deadline <= now) {
            self.fail(probe.failed, NO_NAME);
        } else if self.probe.is_none() && self.pending.as_ref().is_some_and(|p| p.deadline <= now) {
            self.start_probe().await?;
        }
        Ok(())
    }

    /// The hub timed request `request_id` out.
    pub async fn on_timed_out(&mut self, request_id: &str) -> Result<(), axum::Error> {
        if self
            .pending
            .as_ref()
            .is_some_and(|p| p.asked.request_id == request_id)
            && self.probe.is_none()
        {
            self.start_probe().await?;
        } else if self
            .held
            .iter()
            .any(|o| o.asked.as_ref().is_some_and(|a| a.request_id == request_id))
        {
            self.expired.insert(request_id.to_owned());
        }
        Ok(())
    }

    async fn start_probe(&mut self) -> Result<(), axum::Error> {
        let Some(failed) = self.pending.take() else {
            return Ok(());
        };
        info!(name = %self.name, "AIWolf agent did not answer in time; NAME probe");
        let name = serde_json::to_string(&Packet::name()).unwrap_or_default();
        self.probe = Some(Probe {
            failed,
            deadline: Instant::now() + self.response,
        });
        self.socket.send(Message::Text(name.into())).await
    }

    /// The agent has failed: nothing more is sent to it.
    fn fail(&mut self, failed: Pending, why: &'static str) {
        warn!(name = %self.name, reason = why, "AIWolf agent failed; its seat is played by the hub's timeouts");
        self.errored = true;
        self.record(&failed.text, failed.sent_ms, None, Some(why));
        for out in std::mem::take(&mut self.held) {
            self.record(&out.text, unix_ms(), None, Some(NOT_SENT));
        }
    }

    /// One JSON-log entry, if the game is logged.
    fn record(&self, request: &str, sent_ms: u64, response: Option<&str>, error: Option<&str>) {
        if let Some(log) = &self.log {
            log.entry(Entry {
                agent: self.agent.clone(),
                error: error.map(str::to_owned),
                request: request.to_owned(),
                request_timestamp: sent_ms,
                response: response.filter(|r| !r.is_empty()).map(str::to_owned),
                response_timestamp: unix_ms(),
            });
        }
    }
}
