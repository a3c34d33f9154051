//! Machine-readable reasons carried by `error` frames.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Why the server answered a frame with `error`.
///
/// Every variant is the client's fault; the frame it concerns was dropped and nothing else
/// changed. The connection stays open unless a close code says otherwise (see the README).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The text frame is not valid JSON, or not a JSON object.
    MalformedJson,
    /// The object has no string `message_type`.
    MissingMessageType,
    /// `message_type` names no message of this protocol.
    UnknownMessageType,
    /// A field is missing or of the wrong type for this `message_type`.
    InvalidMessage,
    /// The message type exists but this client may not send it (server-only, or not for
    /// this client_type).
    NotPermitted,
    /// The frame claims a `client_id` other than the connection's own.
    ClientIdMismatch,
    /// The per-connection inbound rate limit was exceeded; the frame was dropped.
    RateLimited,
    /// A binary frame was sent; the protocol is JSON text frames only.
    BinaryNotSupported,
    /// A game action was sent by a client that is not seated in a game.
    NotInGame,
    /// The game refused the action (wrong phase, dead actor, invalid target, someone else's
    /// or an unknown request, already answered, text too long...). Nothing changed.
    InvalidAction,
    /// The game's inbox is full; retry shortly.
    GameBusy,
    /// The hub could not make the game's log durable (disk full, I/O error): the game is
    /// halted until the hub restarts and recovers it from what was stored.
    StoreUnavailable,
}

impl ErrorCode {
    /// The wire name, e.g. `"malformed_json"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::MalformedJson => "malformed_json",
            ErrorCode::MissingMessageType => "missing_message_type",
            ErrorCode::UnknownMessageType => "unknown_message_type",
            ErrorCode::InvalidMessage => "invalid_message",
            ErrorCode::NotPermitted => "not_permitted",
            ErrorCode::ClientIdMismatch => "client_id_mismatch",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::BinaryNotSupported => "binary_not_supported",
            ErrorCode::NotInGame => "not_in_game",
            ErrorCode::InvalidAction => "invalid_action",
            ErrorCode::GameBusy => "game_busy",
            ErrorCode::StoreUnavailable => "store_unavailable",
        }
    }
}
