//! Game vocabulary shared by several messages.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The phase a game is in, as shown on `game_state` and `phase_update`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Seats are filling; the game has not started.
    Lobby,
    /// Werewolves choose a victim; night roles act.
    Night,
    /// Deaths of the night are announced.
    Day,
    /// Players talk in turns.
    Discussion,
    /// Players vote on whom to execute.
    Vote,
    /// The game is over.
    Ended,
}

/// What a player is asked to do, or did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// Speak in the day discussion (or skip).
    Talk,
    /// Vote to execute someone (day).
    Vote,
    /// Werewolf vote for the night's victim.
    Attack,
    /// Seer: learn whether a player is a werewolf.
    Divine,
    /// Doctor: protect a player from tonight's attack.
    Protect,
    /// Witch: save the victim and/or poison someone.
    Witch,
    /// Hunter: shoot someone on death.
    Shoot,
}

/// Who may read an `agent_message`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Everyone at the table (and every ui/observer outside games).
    #[default]
    Public,
    /// The werewolf team only (night whispers).
    Wolves,
}

/// One player as shown in `game_state`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PlayerInfo {
    /// The player's id (the seat's `client_id`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Whether the player is alive.
    pub alive: bool,
    /// Whether the seat's agent is connected now (absent outside games).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connected: Option<bool>,
    /// The role, only where the recipient may know it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
}

/// A role on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Attacks at night with the pack.
    Werewolf,
    /// No power.
    Villager,
    /// Learns each night whether one player is a werewolf.
    Seer,
    /// Protects one player per night from the attack (a.k.a. bodyguard).
    Doctor,
    /// One save and one poison potion per game.
    Witch,
    /// Shoots someone when killed.
    Hunter,
    /// Human, seen as human, wins with the werewolves without knowing them.
    Possessed,
    /// Learns whether the player executed the day before was a werewolf.
    Medium,
}

/// A side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Team {
    /// Wins when no werewolf lives.
    Villagers,
    /// Wins when living werewolves are at least as many as the others.
    Werewolves,
}

/// How a game ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Winner {
    /// No werewolf alive.
    Villagers,
    /// Werewolves reached parity.
    Werewolves,
    /// Neither side had won by the configured day limit.
    Draw,
}

/// Why a player died, as the recipient may know it (`night` hides attack vs poison).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeathCause {
    /// During the night (public wording).
    Night,
    /// The werewolves' attack (full view only).
    Attack,
    /// The witch's poison (full view only).
    Poison,
    /// Executed by the day vote.
    Execution,
    /// Shot by a dying hunter.
    HunterShot,
}

/// One death in `phase_update.deaths`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeathInfo {
    /// Who died.
    pub player_id: String,
    /// Why, in the wording the recipient may see.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<DeathCause>,
}

/// What the recipient of a `game_state` is, when it is a seated player.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct You {
    /// The recipient's player id.
    pub player_id: String,
    /// Its role.
    pub role: Role,
    /// Its side.
    pub team: Team,
    /// Fellow werewolves (werewolves only; empty otherwise).
    pub teammates: Vec<String>,
}
