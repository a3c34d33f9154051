//! Frames the server sends to clients (the protocol's `Event` side).

use crate::client_type::ClientType;
use crate::error::ErrorCode;
use crate::game::{ActionKind, Channel, Phase, PlayerInfo};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One outbound frame: the common envelope plus the typed message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ServerFrame {
    /// The typed message, tagged by `message_type`.
    #[serde(flatten)]
    pub message: ServerMessage,
    /// Whom the frame is about: the connecting or leaving client, the agent that spoke, the
    /// client a reply answers, or `"server"`.
    pub client_id: String,
    /// Server clock when the frame was built, float seconds since the Unix epoch.
    pub timestamp: f64,
}

/// Every message the server sends, tagged by `message_type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "message_type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// Welcome, sent first on every accepted socket.
    Connection {
        /// Details of the accepted connection.
        data: ConnectionData,
    },
    /// A client left; sent to every remaining client.
    Disconnection {
        /// Details of the departed client.
        data: DisconnectionData,
    },
    /// Answer to a client's `ping`.
    Pong(PongBody),
    /// The frame this answers was refused; nothing else changed.
    Error(ErrorBody),
    /// A snapshot of a game as the recipient may see it.
    GameState(GameStateBody),
    /// Something an agent said.
    AgentMessage(AgentMessageOut),
    /// A move made by a player, shown to those entitled to see it.
    PlayerAction(PlayerActionOut),
    /// A game entered a new phase.
    PhaseUpdate(PhaseUpdateBody),
}

/// `connection.data`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConnectionData {
    /// The type this connection was accepted as.
    pub client_type: ClientType,
    /// Seconds of silence after which the server closes the socket (close 4002).
    pub timeout_s: u64,
    /// Largest text frame the server accepts, in bytes (larger → close 1009).
    pub max_message_bytes: usize,
}

/// `disconnection.data`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DisconnectionData {
    /// The type the departed client had.
    pub client_type: ClientType,
    /// Why it left, e.g. `"closed by client"`, `"slow consumer"`.
    pub reason: String,
}

/// `pong` fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PongBody {
    /// The `timestamp` of the `ping` this answers, if it had one (round-trip measurement).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ping_timestamp: Option<f64>,
}

/// `error` fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ErrorBody {
    /// Machine-readable reason.
    pub code: ErrorCode,
    /// Human-readable explanation, naming the offending field where there is one.
    pub message: String,
    /// The `message_type` of the refused frame, when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub related_message_type: Option<String>,
    /// The `request_id` of the refused frame, when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// `game_state` fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GameStateBody {
    /// The game this describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub game_id: Option<String>,
    /// Position in the game's event stream (strictly increasing per game).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// Current phase.
    pub phase: Phase,
    /// Day number (night 1 precedes day 1).
    pub day: u32,
    /// Same as `day`; kept for clients written for seed 004.
    pub current_turn: u32,
    /// Every seat, with roles only where the recipient may know them.
    pub players: Vec<PlayerInfo>,
    /// Living players.
    pub alive_count: u32,
    /// Dead players.
    pub dead_count: u32,
}

/// `agent_message` as relayed by the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AgentMessageOut {
    /// The speaking agent's id, set by the server from the connection (never from the client).
    pub agent_id: String,
    /// The speaking agent's display name.
    pub agent_name: String,
    /// What was said.
    pub message_text: String,
    /// Who may read it.
    pub channel: Channel,
    /// Phase label (seed 004 field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// The game it was said in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub game_id: Option<String>,
    /// Position in the game's event stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
}

/// `player_action` as shown to those entitled to see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PlayerActionOut {
    /// The game.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub game_id: Option<String>,
    /// Position in the game's event stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// Who acted.
    pub player_id: String,
    /// What they did.
    pub action: ActionKind,
    /// On whom (`null`: abstained).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// `phase_update` fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PhaseUpdateBody {
    /// The game.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub game_id: Option<String>,
    /// Position in the game's event stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// The phase entered.
    pub phase: Phase,
    /// Day number.
    pub day: u32,
}

impl ServerMessage {
    /// The wire tag of this message.
    pub fn message_type(&self) -> &'static str {
        match self {
            ServerMessage::Connection { .. } => "connection",
            ServerMessage::Disconnection { .. } => "disconnection",
            ServerMessage::Pong(_) => "pong",
            ServerMessage::Error(_) => "error",
            ServerMessage::GameState(_) => "game_state",
            ServerMessage::AgentMessage(_) => "agent_message",
            ServerMessage::PlayerAction(_) => "player_action",
            ServerMessage::PhaseUpdate(_) => "phase_update",
        }
    }
}

const SERIALIZATION_FAILED: &str = r#"{"message_type":"error","client_id":"server","timestamp":0,"code":"invalid_message","message":"server failed to serialize a frame"}"#;

impl ServerFrame {
    /// Serializes the frame to its JSON text. Infallible for these types (string keys only).
    pub fn to_json(&self) -> String {
        // Cannot fail for these types (string keys, no fallible Serialize impls); should that
        // ever change, the recipient still gets a valid frame instead of a torn socket.
        serde_json::to_string(self).unwrap_or_else(|_| SERIALIZATION_FAILED.to_owned())
    }
}
