//! Records of finished and running games: a line of `GET /games/{id}/events` and a line of
//! `werewolf-hub export`.

use crate::game::{Role, Winner};
use crate::outbound::ServerFrame;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One line of `GET /games/{id}/events` (JSON lines): a frame of the requested stream,
/// byte for byte as it was sent live (same `seq`, same `timestamp`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct ReplayLine(pub ServerFrame);

/// One line of `werewolf-hub export`: a finished game with everything needed to analyse or
/// reproduce it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ExportedGame {
    /// The game's id.
    pub game_id: String,
    /// Epoch seconds of creation.
    pub created_at: f64,
    /// Epoch seconds of the end.
    pub ended_at: f64,
    /// The seed: with the same inputs, the engine replays the same game.
    pub seed: u64,
    /// The setup: `config` (the engine's, seed included), `player_count`, `names`,
    /// `observer_delay_ms`, `auto_start`.
    pub config: serde_json::Value,
    /// Every seat, in seat order.
    pub players: Vec<ExportedPlayer>,
    /// Who won (`aborted`: not a result).
    pub winner: Winner,
    /// The day the game ended on.
    pub days: u32,
    /// Every frame of the full view, in order, as sent live.
    pub events: Vec<serde_json::Value>,
    /// Every `reasoning` frame (the players' private reasoning behind their accepted
    /// answers), in order; each names the `events` frame it follows by `after_seq`.
    #[serde(default)]
    pub reasoning: Vec<serde_json::Value>,
}

/// One seat of an exported game.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ExportedPlayer {
    /// `{game_id}-p{n}`.
    pub player_id: String,
    /// Its name.
    pub name: String,
    /// Its role, from `game_over`.
    pub role: Option<Role>,
    /// Whether the hub's built-in bot played the seat.
    #[serde(default)]
    pub bot: bool,
}
