//! Frames a client sends to the server (the protocol's `Request` side).

use crate::client_type::ClientType;
use crate::error::ErrorCode;
use crate::game::{ActionKind, Channel};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// One inbound frame: the common envelope plus the typed message.
///
/// `client_id` and `timestamp` are optional on the way in: the server knows who sent the
/// frame and stamps its own time. A `client_id` that is present must equal the connection's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClientFrame {
    /// The typed message, tagged by `message_type`.
    #[serde(flatten)]
    pub message: ClientMessage,
    /// The sender's id; if present it must match the id in the WebSocket URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Sender's clock, float seconds since the Unix epoch (informational).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<f64>,
}

/// Every message a client may send, tagged by `message_type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "message_type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// Application-level keep-alive; answered by `pong` to the sender only.
    Ping {},
    /// Answer to a server `ping`; only refreshes the connection's liveness.
    Pong {},
    /// Talk: outside a game, relayed to every ui and observer (agents only).
    AgentMessage(AgentMessageIn),
    /// A game move answering an `action_request` (agents seated in a game only).
    PlayerAction(PlayerActionIn),
}

/// `agent_message` as sent by an agent.
///
/// Fields the server owns (`agent_id`) are ignored if present: the relay always names the
/// connection that sent it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AgentMessageIn {
    /// What the agent says.
    pub message_text: String,
    /// The talk request this answers, inside a game.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// `public` (default) or `wolves` (night whisper, werewolves only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    /// Display name outside a game (inside one, the seat's name is used instead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_name: Option<String>,
    /// Free-form phase label, relayed as is outside a game (seed 004 compatibility).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// Private reasoning behind a talk or whisper inside a game: never shown to anyone while
    /// the game runs, stored with it, and readable once it is over (`GET
    /// /games/{id}/events?view=reasoning`, the replay, the export). At most the game's
    /// `max_reasoning_chars`. Refused outside a game (there is nothing to keep it with).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<String>,
}

/// `player_action` as sent by an agent answering an `action_request`.
///
/// The request's `response_schema` is the exact shape expected. `target` must be present for
/// every action but `talk` (`null` abstains, explicitly); a `talk` carries `text` instead
/// (`null` skips the turn). A frame missing its key is refused with `invalid_message`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PlayerActionIn {
    /// The `request_id` of the `action_request` this answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// What kind of action this is; must match the request.
    pub action: ActionKind,
    /// The chosen player id, or `null` to abstain / skip / shoot nobody. Required (the key)
    /// for every action but `talk`. Outer `None`: the key was absent.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<String>")]
    pub target: Option<Option<String>>,
    /// Witch only: use the save potion on tonight's victim (absent: false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub save: Option<bool>,
    /// Talk only: what to say, or `null` to skip the turn. Required (the key) for `talk`.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<String>")]
    pub text: Option<Option<String>>,
    /// Talk only: `true` ends the agent's talking for today, after `text` if any (AIWolf's
    /// `Over`); absent or `false`: more turns may come.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub over: Option<bool>,
    /// Bid only (`talk_order: bidding`): how much the agent wants the next turn, 0–4.
    /// Required for `bid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bid: Option<u8>,
    /// Private reasoning behind this answer (any kind): never shown to anyone while the game
    /// runs, stored with the game, and readable once it is over (`GET
    /// /games/{id}/events?view=reasoning`, the replay, the export). At most the game's
    /// `max_reasoning_chars` (the request's `max_reasoning_chars`); longer is refused with an
    /// `error` (cut to it when the game's `truncate_talk` is set). Kept only if the answer is
    /// accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<String>,
}

/// A key that is present (even as `null`) is `Some`; an absent one stays the default `None`.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

impl PlayerActionIn {
    /// The chosen target (`None`: abstain or absent).
    pub fn target(&self) -> Option<&str> {
        self.target.as_ref().and_then(|t| t.as_deref())
    }

    /// Whether the frame has the keys its action needs; the refusal names the field.
    pub fn check_fields(&self) -> Result<(), String> {
        let name = self.action.name();
        match self.action {
            ActionKind::Talk | ActionKind::Whisper => {
                if self.text.is_none() {
                    return Err(format!(
                        "missing field `text`: a `{name}` answer carries `text` (what you say, or null to pass the turn)"
                    ));
                }
                if let Some(t) = self.target() {
                    return Err(format!("a `{name}` takes `text`, not `target` (got `{t}`)"));
                }
            }
            ActionKind::Bid if self.target().is_some() || self.text.clone().flatten().is_some() => {
                let got = self.target().unwrap_or("null");
                return Err(format!(
                    "a `bid` answer carries `bid` (0-4), not a `target` or a `text` (got `target` `{got}`)"
                ));
            }
            ActionKind::Bid => match self.bid {
                None => {
                    return Err(
                        "missing field `bid`: a bid answer carries `bid`, an integer 0-4".into(),
                    );
                }
                Some(b) if b > 4 => {
                    return Err(format!("`bid` must be 0-4, got {b}"));
                }
                Some(_) => {}
            },
            _ => {
                if self.target.is_none() {
                    return Err(format!(
                        "missing field `target`: a `{name}` answer names a player_id from the request's candidates, or null to abstain (explicitly)"
                    ));
                }
                if self.text.is_some() {
                    return Err(format!("`text` is for talk answers, not `{name}`"));
                }
            }
        }
        if self.over.is_some() && self.action != ActionKind::Talk {
            return Err(format!("`over` is for talk answers, not `{name}`"));
        }
        if self.bid.is_some() && self.action != ActionKind::Bid {
            return Err(format!("`bid` is for bid answers, not `{name}`"));
        }
        if self.save.is_some() && self.action != ActionKind::Witch {
            return Err(format!(
                "`save` is for witch answers, not `{}`",
                self.action.name()
            ));
        }
        Ok(())
    }
}

impl ClientMessage {
    /// The wire tag of this message.
    pub fn message_type(&self) -> &'static str {
        match self {
            ClientMessage::Ping {} => "ping",
            ClientMessage::Pong {} => "pong",
            ClientMessage::AgentMessage(_) => "agent_message",
            ClientMessage::PlayerAction(_) => "player_action",
        }
    }

    /// Whether a client of this type may send this message.
    pub fn allowed_for(&self, client_type: ClientType) -> bool {
        match self {
            ClientMessage::Ping {} | ClientMessage::Pong {} => true,
            ClientMessage::AgentMessage(_) | ClientMessage::PlayerAction(_) => {
                client_type == ClientType::Agent
            }
        }
    }
}

/// Tags of messages only the server sends: recognised, but refused from clients.
pub const SERVER_ONLY_TYPES: &[&str] = &[
    "connection",
    "disconnection",
    "error",
    "game_start",
    "game_state",
    "phase_update",
    "action_request",
    "action_result",
    "game_over",
    "vote_result",
    "death",
    "presence",
    "reasoning",
];

/// Tags a client may send.
pub const CLIENT_TYPES: &[&str] = &["ping", "pong", "agent_message", "player_action"];

/// Why an inbound text frame could not become a [`ClientFrame`]. Always the client's fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InboundError {
    /// Not JSON, or JSON that is not an object.
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    /// No string `message_type` field.
    #[error("missing message_type: every frame needs a string `message_type`")]
    MissingMessageType,
    /// A `message_type` this protocol does not have.
    #[error(
        "unknown message_type `{0}`; clients may send: ping, pong, agent_message, player_action"
    )]
    UnknownMessageType(String),
    /// A `message_type` only the server sends.
    #[error(
        "`{0}` is sent by the server; clients may send: ping, pong, agent_message, player_action"
    )]
    ServerOnly(String),
    /// A known client message whose fields do not fit.
    #[error("invalid `{message_type}`: {detail}")]
    InvalidMessage {
        /// The frame's `message_type`.
        message_type: String,
        /// serde's account of the first field that did not fit.
        detail: String,
    },
}

impl InboundError {
    /// The error code an `error` frame reports for this.
    pub fn code(&self) -> ErrorCode {
        match self {
            InboundError::MalformedJson(_) => ErrorCode::MalformedJson,
            InboundError::MissingMessageType => ErrorCode::MissingMessageType,
            InboundError::UnknownMessageType(_) => ErrorCode::UnknownMessageType,
            InboundError::ServerOnly(_) => ErrorCode::NotPermitted,
            InboundError::InvalidMessage { .. } => ErrorCode::InvalidMessage,
        }
    }

    /// The `message_type` the failed frame carried, when it had one.
    pub fn message_type(&self) -> Option<&str> {
        match self {
            InboundError::MalformedJson(_) | InboundError::MissingMessageType => None,
            InboundError::UnknownMessageType(t) | InboundError::ServerOnly(t) => Some(t),
            InboundError::InvalidMessage { message_type, .. } => Some(message_type),
        }
    }
}

/// Only the tag, read first so errors can name it and tell unknown from server-only types.
#[derive(Deserialize)]
struct Head<'a> {
    #[serde(borrow, default)]
    message_type: Option<Cow<'a, str>>,
}

/// Parses one inbound text frame.
///
/// Never panics on any input. Distinguishes malformed JSON, a missing or unknown tag, a
/// server-only tag, and a known message with bad fields, so the client gets a precise error.
pub fn parse_client_frame(text: &str) -> Result<ClientFrame, InboundError> {
    // serde reads a struct from a JSON array too (`[]` would be a frame without a
    // `message_type`): anything but an object is malformed first.
    if !text.trim_start().starts_with('{') {
        return Err(match serde_json::from_str::<serde::de::IgnoredAny>(text) {
            Ok(_) => InboundError::MalformedJson("expected a JSON object".to_owned()),
            Err(e) => InboundError::MalformedJson(e.to_string()),
        });
    }
    let head: Head<'_> = serde_json::from_str(text).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => {
            if !text.trim_start().starts_with('{') {
                InboundError::MalformedJson("expected a JSON object".to_owned())
            } else if let Err(syntax) = serde_json::from_str::<serde::de::IgnoredAny>(text) {
                // A non-string `message_type` stops the read before the rest of the text is
                // seen: `{"message_type":5,` is still malformed JSON first.
                InboundError::MalformedJson(syntax.to_string())
            } else {
                InboundError::MissingMessageType
            }
        }
        _ => InboundError::MalformedJson(e.to_string()),
    })?;
    let Some(tag) = head.message_type else {
        return Err(InboundError::MissingMessageType);
    };
    if !CLIENT_TYPES.contains(&tag.as_ref()) {
        return Err(if SERVER_ONLY_TYPES.contains(&tag.as_ref()) {
            InboundError::ServerOnly(tag.into_owned())
        } else {
            InboundError::UnknownMessageType(tag.into_owned())
        });
    }
    let frame: ClientFrame =
        serde_json::from_str(text).map_err(|e| InboundError::InvalidMessage {
            message_type: tag.to_string(),
            detail: e.to_string(),
        })?;
    if let ClientMessage::PlayerAction(action) = &frame.message {
        action
            .check_fields()
            .map_err(|detail| InboundError::InvalidMessage {
                message_type: tag.into_owned(),
                detail,
            })?;
    }
    Ok(frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_ping_parses() {
        let f = parse_client_frame(
            r#"{"message_type":"ping","client_id":"ui_client_1","timestamp":1706580000.0}"#,
        )
        .expect("seed ping");
        assert_eq!(f.message, ClientMessage::Ping {});
        assert_eq!(f.client_id.as_deref(), Some("ui_client_1"));
    }

    #[test]
    fn seed_agent_message_parses_and_ignores_agent_id() {
        let f = parse_client_frame(
            r#"{"message_type":"agent_message","client_id":"agent_alice","timestamp":1706580000.0,
            "agent_id":"agent_1","agent_name":"Alice","message_text":"Bob!","phase":"discussion"}"#,
        )
        .expect("seed agent_message");
        let ClientMessage::AgentMessage(m) = f.message else {
            panic!("wrong variant: {:?}", f.message)
        };
        assert_eq!(m.message_text, "Bob!");
        assert_eq!(m.agent_name.as_deref(), Some("Alice"));
        assert_eq!(m.phase.as_deref(), Some("discussion"));
    }

    #[test]
    fn errors_are_classified() {
        let cases: &[(&str, ErrorCode, Option<&str>)] = &[
            ("{not json", ErrorCode::MalformedJson, None),
            ("[1,2]", ErrorCode::MalformedJson, None),
            ("[]", ErrorCode::MalformedJson, None),
            (
                " [{\"message_type\":\"ping\"}]",
                ErrorCode::MalformedJson,
                None,
            ),
            ("\"ping\"", ErrorCode::MalformedJson, None),
            ("{}", ErrorCode::MissingMessageType, None),
            (r#"{"message_type":5,"#, ErrorCode::MalformedJson, None),
            (r#"{"message_type":5}"#, ErrorCode::MissingMessageType, None),
            (
                r#"{"message_type":"dance"}"#,
                ErrorCode::UnknownMessageType,
                Some("dance"),
            ),
            (
                r#"{"message_type":"game_state"}"#,
                ErrorCode::NotPermitted,
                Some("game_state"),
            ),
            (
                r#"{"message_type":"agent_message","message_text":7}"#,
                ErrorCode::InvalidMessage,
                Some("agent_message"),
            ),
            (
                r#"{"message_type":"ping","timestamp":"noon"}"#,
                ErrorCode::InvalidMessage,
                Some("ping"),
            ),
            (
                r#"{"message_type":"player_action","action":"fly"}"#,
                ErrorCode::InvalidMessage,
                Some("player_action"),
            ),
            (
                r#"{"message_type":"player_action","action":"vote"}"#,
                ErrorCode::InvalidMessage,
                Some("player_action"),
            ),
            (
                r#"{"message_type":"player_action","action":"talk","target":null}"#,
                ErrorCode::InvalidMessage,
                Some("player_action"),
            ),
        ];
        for (text, code, tag) in cases {
            let err = parse_client_frame(text).expect_err(text);
            assert_eq!(err.code(), *code, "{text}: {err}");
            assert_eq!(err.message_type(), *tag, "{text}");
        }
    }

    #[test]
    fn target_must_be_present_and_null_abstains() {
        let missing = parse_client_frame(r#"{"message_type":"player_action","action":"vote"}"#)
            .expect_err("no target");
        assert!(
            missing.to_string().contains("missing field `target`"),
            "{missing}"
        );
        let f =
            parse_client_frame(r#"{"message_type":"player_action","action":"vote","target":null}"#)
                .expect("explicit abstention");
        let ClientMessage::PlayerAction(a) = f.message else {
            panic!()
        };
        assert_eq!(a.target, Some(None));
        let f = parse_client_frame(
            r#"{"message_type":"player_action","action":"talk","text":null,"request_id":"4"}"#,
        )
        .expect("talk skip");
        let ClientMessage::PlayerAction(a) = f.message else {
            panic!()
        };
        assert_eq!(a.text, Some(None));
        let err = parse_client_frame(
            r#"{"message_type":"player_action","action":"divine","target":"p2","save":true}"#,
        )
        .expect_err("save on a divine");
        assert!(err.to_string().contains("`save`"), "{err}");
    }

    #[test]
    fn permissions_by_client_type() {
        let talk = ClientMessage::AgentMessage(AgentMessageIn {
            message_text: "hi".into(),
            request_id: None,
            channel: None,
            agent_name: None,
            phase: None,
            reasoning: None,
        });
        assert!(talk.allowed_for(ClientType::Agent));
        assert!(!talk.allowed_for(ClientType::Ui));
        assert!(!talk.allowed_for(ClientType::Observer));
        assert!(ClientMessage::Ping {}.allowed_for(ClientType::Ui));
    }
}
