//! One serialization of a game message shared by every stream it goes to.
//!
//! A game event reaches several streams (each seat, the public view, the full view) and
//! each stream numbers its frames with its own gap-free `seq`, so the frames differ only
//! in that number. [`SeqStamped`] serializes the message once with a sentinel `seq`, keeps
//! the text before and after the number, and builds each stream's frame by copying the two
//! halves around its own `seq`: one `serde_json` pass per event instead of one per stream.

use axum::extract::ws::Utf8Bytes;
use std::fmt::Write;
use werewolf_schemas::{ServerFrame, ServerMessage};

use super::wire;
use crate::clock::now_epoch_s;

/// The placeholder `seq` the message is serialized with; it never reaches a client.
const SENTINEL: u64 = u64::MAX;
/// The key the number follows.
const SEQ_KEY: &str = "\"seq\":";
/// `"seq":` followed by the sentinel, as serde_json writes it.
const SENTINEL_FIELD: &str = "\"seq\":18446744073709551615";

/// A serialized message waiting for its `seq`.
#[derive(Debug)]
pub struct SeqStamped {
    /// Everything up to and including `"seq":`.
    head: String,
    /// Everything after the number.
    tail: String,
}

impl SeqStamped {
    /// Serializes `message` once, stamped now, from `client_id`. Messages without a `seq`
    /// (lobby and control frames) never come here; if one did, it would be sent unchanged.
    pub fn new(mut message: ServerMessage, client_id: &str) -> Self {
        wire::set_seq(&mut message, SENTINEL);
        let json = ServerFrame {
            message,
            client_id: client_id.to_owned(),
            timestamp: now_epoch_s(),
        }
        .to_json();
        match find_seq_field(&json) {
            Some(at) => SeqStamped {
                head: json[..at + SEQ_KEY.len()].to_owned(),
                tail: json[at + SENTINEL_FIELD.len()..].to_owned(),
            },
            None => SeqStamped {
                head: json,
                tail: String::new(),
            },
        }
    }

    /// The frame for a stream whose next number is `seq`.
    pub fn with_seq(&self, seq: u64) -> Utf8Bytes {
        Utf8Bytes::from(self.text(seq))
    }

    /// [`Self::with_seq`] as a `String`.
    pub fn text(&self, seq: u64) -> String {
        if self.tail.is_empty() {
            return self.head.clone();
        }
        let mut text = String::with_capacity(self.head.len() + 20 + self.tail.len());
        text.push_str(&self.head);
        // Writing into a String cannot fail.
        let _ = write!(text, "{seq}");
        text.push_str(&self.tail);
        text
    }

    /// Rebuilds a stamped frame from its stored halves.
    pub fn from_parts(head: String, tail: String) -> Self {
        SeqStamped { head, tail }
    }

    /// Everything up to and including `"seq":` (the whole frame when it has no `seq`).
    pub fn head(&self) -> &str {
        &self.head
    }

    /// Everything after the number (empty when the frame has no `seq`).
    pub fn tail(&self) -> &str {
        &self.tail
    }
}

/// Where the message's own `"seq":<sentinel>` starts. Only an object key can be preceded by
/// `{` or `,` and an unescaped quote: inside a JSON string every `"` is written `\"`, so a
/// player who types `"seq":18446744073709551615` cannot move the splice point.
fn find_seq_field(json: &str) -> Option<usize> {
    json.match_indices(SENTINEL_FIELD)
        .map(|(at, _)| at)
        .find(|&at| at > 0 && matches!(json.as_bytes()[at - 1], b'{' | b','))
}

#[cfg(test)]
mod tests {
    use super::*;
    use werewolf_schemas::{AgentMessageOut, Channel, PresenceBody};

    fn say(text: &str) -> ServerMessage {
        ServerMessage::AgentMessage(AgentMessageOut {
            agent_id: "p1".into(),
            agent_name: "Alice".into(),
            message_text: text.into(),
            channel: Channel::Public,
            phase: Some("day".into()),
            game_id: Some("g1".into()),
            seq: None,
        })
    }

    fn parsed(bytes: &Utf8Bytes) -> serde_json::Value {
        serde_json::from_str(bytes.as_str()).expect("valid JSON")
    }

    #[test]
    fn the_sentinel_field_is_what_serde_json_writes() {
        assert_eq!(SENTINEL_FIELD, format!("{SEQ_KEY}{SENTINEL}"));
    }

    #[test]
    fn each_stream_gets_its_own_seq_and_otherwise_the_same_frame() {
        let stamped = SeqStamped::new(say("hello"), "p1");
        let (a, b) = (
            parsed(&stamped.with_seq(1)),
            parsed(&stamped.with_seq(12_345)),
        );
        assert_eq!(a["seq"], 1);
        assert_eq!(b["seq"], 12_345);
        let mut same = b.clone();
        same["seq"] = 1.into();
        assert_eq!(a, same);
    }

    #[test]
    fn matches_a_direct_serialization_apart_from_the_timestamp() {
        let stamped = parsed(&SeqStamped::new(say("hi"), "p1").with_seq(7));
        let mut message = say("hi");
        wire::set_seq(&mut message, 7);
        let mut direct = serde_json::to_value(ServerFrame {
            message,
            client_id: "p1".into(),
            timestamp: 0.0,
        })
        .expect("serializable");
        direct["timestamp"] = stamped["timestamp"].clone();
        assert_eq!(stamped, direct);
    }

    #[test]
    fn a_player_quoting_the_sentinel_cannot_move_the_splice_point() {
        let sly = "\"seq\":18446744073709551615,{\"seq\":18446744073709551615";
        let frame = parsed(&SeqStamped::new(say(sly), "p1").with_seq(3));
        assert_eq!(frame["seq"], 3);
        assert_eq!(frame["message_text"], sly);
    }

    #[test]
    fn bodies_with_a_required_seq_are_spliced_too() {
        let presence = ServerMessage::Presence(PresenceBody {
            game_id: "g1".into(),
            seq: 0,
            player_id: "p2".into(),
            connected: true,
            last_seen: 1.5,
        });
        let frame = parsed(&SeqStamped::new(presence, "game_engine").with_seq(9));
        assert_eq!(frame["seq"], 9);
        assert_eq!(frame["player_id"], "p2");
    }
}
