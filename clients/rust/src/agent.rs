//! [`Agent`]: a seat's connection, its play loop with a [`Strategy`], and the answers it
//! sends (kept and re-sent across reconnects).

use super::reconnect::Session;
use super::{ClientError, Knowledge, ReconnectPolicy, ResumeStats, Socket, Strategy};
use futures_util::SinkExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use werewolf_schemas::{
    ActionKind, ActionResultBody, GameOverBody, GameStateBody, ResultKind, ServerFrame,
    ServerMessage,
};

/// A seat's connected agent. It reconnects by itself while read through [`Agent::play`] or
/// [`Agent::recv`] (see the module docs).
#[derive(Debug)]
pub struct Agent {
    /// The socket (replaced on every reconnect). Reading it directly bypasses reconnecting
    /// and duplicate suppression.
    pub ws: Socket,
    /// The seat's player id.
    pub player_id: String,
    /// Latest `game_state`.
    pub(super) state: Option<GameStateBody>,
    /// Latest private result.
    pub(super) last_result: Option<ActionResultBody>,
    /// Reconnect and resume bookkeeping.
    pub(super) session: Session,
}

impl Agent {
    /// Plays until `game_over`, answering every request with `strategy`, reconnecting when
    /// the connection drops. `on_frame` sees every frame received once (raw text and typed):
    /// each connection's `connection` frame, snapshots, and every stream frame exactly once
    /// (duplicates after a reconnect are not shown again).
    pub async fn play(
        &mut self,
        strategy: &mut dyn Strategy,
        mut on_frame: impl FnMut(&str, &ServerFrame),
    ) -> Result<GameOverBody, ClientError> {
        loop {
            let (raw, frame) = self.recv().await?;
            on_frame(&raw, &frame);
            match frame.message {
                ServerMessage::GameState(state) => self.state = Some(state),
                ServerMessage::ActionResult(result) => {
                    if matches!(
                        result.action,
                        ResultKind::Divine | ResultKind::Medium | ResultKind::Witch
                    ) {
                        self.last_result = Some(result);
                    }
                }
                ServerMessage::ActionRequest(request) => {
                    let (whisper, decision) = {
                        let knowledge = Knowledge {
                            state: self.state.as_ref(),
                            last_result: self.last_result.as_ref(),
                        };
                        let whisper = (request.action == ActionKind::Attack)
                            .then(|| strategy.whisper(&request, &knowledge))
                            .flatten();
                        (whisper, strategy.answer(&request, &knowledge))
                    };
                    if let Some(text) = whisper {
                        self.send_lossy(json!({"message_type": "agent_message", "channel": "wolves", "message_text": text}))
                            .await?;
                    }
                    self.send_lossy(decision.reply_to(&request)).await?;
                }
                ServerMessage::GameOver(over) => return Ok(over),
                _ => {}
            }
        }
    }

    /// The next frame new to this agent, reconnecting (with backoff and `last_seq`) when the
    /// connection drops. Duplicates are dropped; a request the hub re-sends is delivered
    /// again unless it was answered with [`Agent::send`] (then the answer is re-sent).
    pub async fn recv(&mut self) -> Result<(String, ServerFrame), ClientError> {
        self.session.recv(&mut self.ws).await
    }

    /// Sends one JSON frame. An answer (a `player_action` or `agent_message` with a
    /// `request_id`) is kept until its `action_result` arrives, and re-sent after a
    /// reconnect (an answer without `request_id` is not kept). A frame over the hub's size
    /// limit is refused ([`ClientError::TooBig`]).
    pub async fn send(&mut self, value: Value) -> Result<(), ClientError> {
        let text = value.to_string();
        self.session.check_size(&text)?;
        self.session.record_answer(&value, &text);
        self.ws.send(Message::text(text)).await?;
        Ok(())
    }

    /// Like [`Agent::send`], but a transport error is left for the next read to notice (it
    /// reconnects, and the kept answer is re-sent then).
    async fn send_lossy(&mut self, value: Value) -> Result<(), ClientError> {
        let text = value.to_string();
        self.session.check_size(&text)?;
        self.session.record_answer(&value, &text);
        let _ = self.ws.send(Message::text(text)).await;
        Ok(())
    }

    /// The highest `seq` received on this seat's stream (sent as `last_seq` on reconnect).
    pub fn last_seq(&self) -> Option<u64> {
        self.session.last_seq
    }

    /// What happened across reconnects.
    pub fn stats(&self) -> &ResumeStats {
        &self.session.stats
    }

    /// Changes how this agent reconnects.
    pub fn set_reconnect(&mut self, policy: ReconnectPolicy) {
        self.session.policy = policy;
    }
}
