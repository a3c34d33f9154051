//! Resuming a stream: which received frames are new (duplicates after a reconnect, snapshots,
//! re-sent requests), the answers kept until the hub closes their request and re-sent after
//! a reconnect, and the [`ResumeStats`] counting it all.

use super::ClientError;
use super::reconnect::{IDLE_SLACK, Session};
use serde::Deserialize;
use serde_json::Value;
use std::time::Duration;
use werewolf_schemas::{ErrorCode, ServerFrame, ServerMessage};

/// What happened to a connection's stream across reconnects.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResumeStats {
    /// Connections opened (the first one included).
    pub connections: u32,
    /// For each reconnect, in order: the `connection` frame's `data.recovered` (`None`: the
    /// hub did not say, i.e. it does not support `last_seq`).
    pub recovered: Vec<Option<bool>>,
    /// Ranges of `seq` (inclusive) this client never received: the hub could not resume
    /// and sent a snapshot instead, or the stream had a gap.
    pub missed: Vec<(u64, u64)>,
    /// Frames dropped as duplicates (already received).
    pub duplicates: u64,
    /// Answers re-sent after a reconnect or a `game_busy` refusal.
    pub answers_resent: u64,
    /// Why each connection that dropped ended, in order.
    pub drops: Vec<String>,
}

impl ResumeStats {
    /// Reconnects so far.
    pub fn reconnects(&self) -> u32 {
        self.connections.saturating_sub(1)
    }
}

/// Wait before re-sending an answer the hub refused with `game_busy`.
const BUSY_RETRY: Duration = Duration::from_millis(50);

/// The `seq` of any frame, read without the typed schema.
#[derive(Deserialize)]
struct SeqOnly {
    #[serde(default)]
    seq: Option<u64>,
}

/// An answer this client sent, kept until the hub closes its request.
#[derive(Debug)]
pub(super) struct Answer {
    /// The connection it was last sent on.
    epoch: u32,
    /// The frame's text.
    text: String,
}

/// What to do with a received frame.
#[derive(Debug, Default)]
pub(super) struct Admission {
    /// Hand it to the caller.
    pub(super) deliver: bool,
    /// Frames to send back (re-sent answers), after `pause`.
    pub(super) send: Vec<String>,
    /// Wait before sending.
    pub(super) pause: Duration,
}

impl Admission {
    fn deliver() -> Self {
        Admission {
            deliver: true,
            ..Admission::default()
        }
    }
}

impl Session {
    /// Refuses a frame larger than the hub accepts.
    pub(super) fn check_size(&self, text: &str) -> Result<(), ClientError> {
        match self.max_message_bytes {
            Some(limit) if text.len() > limit => Err(ClientError::TooBig {
                size: text.len(),
                limit,
            }),
            _ => Ok(()),
        }
    }

    /// Keeps an answer to a request until the hub closes the request.
    pub(super) fn record_answer(&mut self, value: &Value, text: &str) {
        let answers = matches!(
            value["message_type"].as_str(),
            Some("player_action" | "agent_message")
        );
        let Some(id) = value["request_id"].as_str().filter(|_| answers) else {
            return;
        };
        if self.closed.contains(id) {
            return;
        }
        self.answers.insert(
            id.to_owned(),
            Answer {
                epoch: self.epoch,
                text: text.to_owned(),
            },
        );
        self.last_answer = Some(id.to_owned());
    }

    /// Whether `seq` was received already.
    fn seen_seq(&self, seq: u64) -> bool {
        self.last_seq.is_some_and(|last| seq <= last)
    }

    /// Moves the head to `seq`, noting a gap.
    fn advance(&mut self, seq: u64) {
        match self.last_seq {
            Some(last) if seq > last => {
                if seq > last + 1 {
                    self.stats.missed.push((last + 1, seq - 1));
                }
                self.last_seq = Some(seq);
            }
            Some(_) => {}
            None => self.last_seq = Some(seq),
        }
    }

    fn duplicate(&mut self) -> Admission {
        self.stats.duplicates += 1;
        Admission::default()
    }

    /// Decides whether a received frame is new, and what to send back.
    pub(super) fn admit(&mut self, raw: &str, frame: &ServerFrame) -> Admission {
        match &frame.message {
            ServerMessage::Connection { data } => {
                self.idle = Duration::from_secs(data.timeout_s.max(1)) + IDLE_SLACK;
                self.max_message_bytes = Some(data.max_message_bytes);
                self.recovered = serde_json::from_str::<Value>(raw)
                    .ok()
                    .and_then(|v| v["data"]["recovered"].as_bool());
                if self.epoch > 1 {
                    self.stats.recovered.push(self.recovered);
                }
                // Answers sent on an earlier connection whose request is still open: the hub
                // may never have got them. Re-sent now; a refusal of one is dropped.
                let mut send = Vec::new();
                for (id, answer) in &mut self.answers {
                    if answer.epoch < self.epoch {
                        answer.epoch = self.epoch;
                        send.push(answer.text.clone());
                        self.resent.insert(id.clone());
                    }
                }
                self.stats.answers_resent += send.len() as u64;
                return Admission {
                    deliver: true,
                    send,
                    pause: Duration::ZERO,
                };
            }
            ServerMessage::Error(error) => {
                let Some(id) = &error.request_id else {
                    return Admission::deliver();
                };
                if error.code == ErrorCode::InvalidAction && self.resent.remove(id) {
                    // a re-sent answer whose original had arrived after all
                    self.answers.remove(id);
                    return self.duplicate();
                }
                if error.code == ErrorCode::GameBusy
                    && let Some(answer) = self.answers.get(id)
                {
                    self.stats.answers_resent += 1;
                    return Admission {
                        deliver: true,
                        send: vec![answer.text.clone()],
                        pause: BUSY_RETRY,
                    };
                }
                return Admission::deliver();
            }
            _ => {}
        }
        let Some(seq) = serde_json::from_str::<SeqOnly>(raw)
            .ok()
            .and_then(|m| m.seq)
        else {
            return Admission::deliver();
        };
        let fresh = std::mem::replace(&mut self.fresh, false);
        match &frame.message {
            ServerMessage::GameState(_) if fresh => {
                // A snapshot: it carries the stream head (older hubs: a new number).
                if let Some(last) = self.last_seq {
                    let through = if self.recovered.is_none() {
                        seq.saturating_sub(1)
                    } else {
                        seq
                    };
                    if through > last {
                        self.stats.missed.push((last + 1, through));
                    }
                }
                self.last_seq = Some(self.last_seq.map_or(seq, |last| last.max(seq)));
                Admission::deliver()
            }
            ServerMessage::ActionRequest(request) => {
                // Re-sent requests keep their original (older) seq; judge them by id.
                self.advance(seq);
                let id = &request.request_id;
                if self.answers.contains_key(id)
                    || self.closed.contains(id)
                    || self.seen.get(id) == Some(&self.epoch)
                {
                    return self.duplicate();
                }
                self.seen.insert(id.clone(), self.epoch);
                Admission::deliver()
            }
            _ if self.seen_seq(seq) => self.duplicate(),
            message => {
                self.advance(seq);
                if let ServerMessage::ActionResult(result) = message
                    && let Some(id) = &result.request_id
                {
                    self.answers.remove(id);
                    self.closed.insert(id.clone());
                }
                Admission::deliver()
            }
        }
    }
}
#[cfg(test)]
mod tests {
    //! The resume bookkeeping on scripted frames: the paths a live hub with `last_seq`
    //! support rarely takes (snapshots after a failed resume, hubs without `last_seq`,
    //! re-sent requests, lost answers). End-to-end tests: `tests/client_reconnect.rs`.

    use super::*;
    use crate::ReconnectPolicy;
    use crate::connect::parse_frame;
    use serde_json::json;

    fn session() -> Session {
        let url = crate::HubUrl::parse("ws://127.0.0.1:1").expect("valid URL");
        let mut s = Session::new(
            vec![url.socket(
                "p",
                [("client_type", "agent"), ("game_id", "g"), ("token", "t")],
            )],
            crate::tls::client_config(&[]).expect("TLS config"),
            ReconnectPolicy::default(),
        );
        s.connected();
        s
    }

    fn connection(recovered: Option<bool>) -> String {
        let mut data = json!({"client_type": "agent", "timeout_s": 60,
                              "max_message_bytes": 1000, "game_id": "g"});
        if let Some(r) = recovered {
            data["recovered"] = json!(r);
        }
        json!({"message_type": "connection", "client_id": "p", "timestamp": 1.0, "data": data})
            .to_string()
    }

    fn state(seq: u64) -> String {
        json!({"message_type": "game_state", "client_id": "game_engine", "timestamp": 1.0,
               "game_id": "g", "seq": seq, "phase": "vote", "day": 1, "current_turn": 1,
               "players": [], "alive_count": 5, "dead_count": 0})
        .to_string()
    }

    fn request(seq: u64, id: &str) -> String {
        json!({"message_type": "action_request", "client_id": "game_engine", "timestamp": 1.0,
               "game_id": "g", "seq": seq, "request_id": id, "action": "vote",
               "candidates": [{"player_id": "q", "name": "Q"}], "response_schema": {}, "deadline": 2.0})
        .to_string()
    }

    fn result(seq: u64, id: &str) -> String {
        json!({"message_type": "action_result", "client_id": "game_engine", "timestamp": 1.0,
               "game_id": "g", "seq": seq, "request_id": id, "action": "vote",
               "target": "q", "result": "accepted"})
        .to_string()
    }

    fn death(seq: u64) -> String {
        json!({"message_type": "death", "client_id": "game_engine", "timestamp": 1.0,
               "game_id": "g", "seq": seq, "player_id": "q", "cause": "night"})
        .to_string()
    }

    fn error(code: &str, id: &str) -> String {
        json!({"message_type": "error", "client_id": "server", "timestamp": 1.0,
               "code": code, "message": "no", "request_id": id})
        .to_string()
    }

    fn admit(s: &mut Session, raw: &str) -> Admission {
        s.admit(raw, &parse_frame(raw).expect("valid frame"))
    }

    /// Delivers `raws` in order; returns which were delivered.
    fn run(s: &mut Session, raws: &[String]) -> Vec<bool> {
        raws.iter().map(|r| admit(s, r).deliver).collect()
    }

    fn answer(s: &mut Session, id: &str) {
        let value = json!({"message_type": "player_action", "request_id": id,
                           "action": "vote", "target": "q"});
        s.record_answer(&value, &value.to_string());
    }

    #[test]
    fn a_resumed_stream_is_delivered_once_and_in_full() {
        let mut s = session();
        assert_eq!(
            s.url(0).as_str(),
            "ws://127.0.0.1:1/ws/p?client_type=agent&game_id=g&token=t"
        );
        let first = [connection(Some(false)), state(0), death(1), death(2)];
        assert!(run(&mut s, &first).iter().all(|d| *d));
        assert_eq!(s.last_seq, Some(2));
        s.connected();
        assert!(s.url(0).as_str().ends_with("&token=t&last_seq=2"));
        let second = [connection(Some(true)), death(3), death(2), death(4)];
        assert_eq!(run(&mut s, &second), [true, true, false, true]);
        assert_eq!(s.stats.recovered, [Some(true)]);
        assert!(s.stats.missed.is_empty());
        assert_eq!(s.stats.duplicates, 1);
        assert_eq!(s.last_seq, Some(4));
    }

    #[test]
    fn a_snapshot_after_a_failed_resume_reports_what_was_missed() {
        let mut s = session();
        run(
            &mut s,
            &[connection(None), state(0), death(1), request(2, "1")],
        );
        s.connected();
        // the hub could not resume: a snapshot at its head (5), then the pending request
        // again with its original seq: delivered again (not answered yet), once
        let again = [
            connection(Some(false)),
            state(5),
            request(2, "1"),
            request(2, "1"),
            death(6),
        ];
        assert_eq!(run(&mut s, &again), [true, true, true, false, true]);
        assert_eq!(s.stats.missed, [(3, 5)]);
        assert_eq!(s.last_seq, Some(6));
    }

    #[test]
    fn an_answer_lost_with_the_connection_is_sent_again_once() {
        let mut s = session();
        run(&mut s, &[connection(None), state(0), request(1, "1")]);
        answer(&mut s, "1");
        s.connected();
        let welcome = admit(&mut s, &connection(Some(false)));
        assert!(welcome.deliver);
        assert_eq!(welcome.send.len(), 1, "the kept answer is re-sent");
        assert!(welcome.send[0].contains("\"request_id\":\"1\""));
        // the re-sent request is not shown again; the hub's refusal of a duplicate answer
        // (the first had arrived after all) is dropped
        assert_eq!(
            run(
                &mut s,
                &[state(1), request(1, "1"), error("invalid_action", "1")]
            ),
            [true, false, false]
        );
        assert!(s.answers.is_empty());
        s.connected();
        assert!(admit(&mut s, &connection(Some(true))).send.is_empty());
    }

    #[test]
    fn an_accepted_answer_is_not_sent_again() {
        let mut s = session();
        run(&mut s, &[connection(None), state(0), request(1, "1")]);
        answer(&mut s, "1");
        assert!(admit(&mut s, &result(2, "1")).deliver);
        s.connected();
        assert!(admit(&mut s, &connection(Some(true))).send.is_empty());
        // a refusal of a frame that was not re-sent is shown
        assert!(admit(&mut s, &error("invalid_action", "1")).deliver);
    }

    #[test]
    fn hubs_without_last_seq_number_the_snapshot_and_resend_requests_anew() {
        let mut s = session();
        run(&mut s, &[connection(None), state(1), request(2, "1")]);
        answer(&mut s, "1");
        s.connected();
        // an older hub: no `recovered`; the snapshot takes the next number (3), the pending
        // request comes again with a new one (4)
        let welcome = admit(&mut s, &connection(None));
        assert_eq!(welcome.send.len(), 1);
        assert_eq!(
            run(&mut s, &[state(3), request(4, "1"), result(5, "1")]),
            [true, false, true]
        );
        assert!(s.stats.missed.is_empty(), "{:?}", s.stats);
        assert_eq!(s.stats.recovered, [None]);
        // frames built while away show as missed
        s.connected();
        run(&mut s, &[connection(None), state(9)]);
        assert_eq!(s.stats.missed, [(6, 8)]);
    }

    #[test]
    fn game_busy_resends_the_answer_after_a_pause() {
        let mut s = session();
        run(&mut s, &[connection(None), state(0), request(1, "1")]);
        answer(&mut s, "1");
        let busy = admit(&mut s, &error("game_busy", "1"));
        assert!(busy.deliver);
        assert_eq!(busy.send.len(), 1);
        assert_eq!(busy.pause, BUSY_RETRY);
    }

    #[test]
    fn oversized_frames_are_refused_locally() {
        let mut s = session();
        assert!(
            s.check_size(&"x".repeat(5000)).is_ok(),
            "limit not known yet"
        );
        admit(&mut s, &connection(None));
        assert!(matches!(
            s.check_size(&"x".repeat(1001)),
            Err(ClientError::TooBig {
                size: 1001,
                limit: 1000
            })
        ));
    }
}
