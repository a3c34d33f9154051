//! Game vocabulary shared by several messages.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

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
    /// Whether the seat is played by the hub's built-in bot (present only when true).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bot: bool,
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

/// The kind of a request, and of the action that answers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// Say something (or skip) on one's turn in the day discussion.
    Talk,
    /// Day vote: whom to execute (or abstain).
    Vote,
    /// Night, werewolves: whom to attack.
    Attack,
    /// Night, seer: whom to divine.
    Divine,
    /// Night, doctor: whom to protect.
    Protect,
    /// Night, witch: whether to save the victim and/or whom to poison.
    Witch,
    /// A hunter who just died: whom to shoot (or nobody).
    Shoot,
    /// Night, werewolves, with `whisper_rounds`: one's turn to whisper to the pack (or pass).
    Whisper,
    /// Day, with `talk_order: bidding`: how much one wants the floor for the next turn (0–4).
    Bid,
}

impl ActionKind {
    /// Every kind.
    pub const ALL: [ActionKind; 9] = [
        ActionKind::Talk,
        ActionKind::Vote,
        ActionKind::Attack,
        ActionKind::Divine,
        ActionKind::Protect,
        ActionKind::Witch,
        ActionKind::Shoot,
        ActionKind::Whisper,
        ActionKind::Bid,
    ];

    /// The kind's snake_case name, as serialized (`talk`, `vote`, …).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            ActionKind::Talk => "talk",
            ActionKind::Vote => "vote",
            ActionKind::Attack => "attack",
            ActionKind::Divine => "divine",
            ActionKind::Protect => "protect",
            ActionKind::Witch => "witch",
            ActionKind::Shoot => "shoot",
            ActionKind::Whisper => "whisper",
            ActionKind::Bid => "bid",
        }
    }
}

/// A role dealt to one seat at the start of the game. It never changes afterwards.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Werewolf team. Each night votes with the other living werewolves on a victim; knows the
    /// other werewolves and may whisper to them at night.
    Werewolf,
    /// Villager team, no power.
    Villager,
    /// Villager team. Each night learns whether one living player is a werewolf.
    Seer,
    /// Villager team (a.k.a. bodyguard). Each night protects one living player (self allowed)
    /// from the werewolves' attack; by default not the same player two nights running.
    Doctor,
    /// Villager team. One save potion and one poison potion per game; each night learns the
    /// werewolves' victim and may save it and/or poison someone.
    Witch,
    /// Villager team. When killed, by night or by day, shoots one living player.
    Hunter,
    /// Werewolf team but counted as human: the seer and medium see a human, the win condition
    /// counts it among the "others", and it does not know the werewolves (nor they it).
    Possessed,
    /// Villager team. Each day learns whether the player executed the day before was a werewolf.
    Medium,
}

impl Role {
    /// Every role, in the fixed order used for role counts and dealing.
    pub const ALL: [Role; 8] = [
        Role::Werewolf,
        Role::Villager,
        Role::Seer,
        Role::Doctor,
        Role::Witch,
        Role::Hunter,
        Role::Possessed,
        Role::Medium,
    ];

    /// The team this role wins with.
    #[must_use]
    pub fn team(self) -> Team {
        match self {
            Role::Werewolf | Role::Possessed => Team::Werewolves,
            _ => Team::Villagers,
        }
    }

    /// Whether the seer / medium see this role as a werewolf (only [`Role::Werewolf`]; the
    /// possessed is seen as human). Also: whether it counts as a werewolf for the win condition.
    #[must_use]
    pub fn is_werewolf(self) -> bool {
        self == Role::Werewolf
    }

    /// The role's snake_case name, as serialized.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Role::Werewolf => "werewolf",
            Role::Villager => "villager",
            Role::Seer => "seer",
            Role::Doctor => "doctor",
            Role::Witch => "witch",
            Role::Hunter => "hunter",
            Role::Possessed => "possessed",
            Role::Medium => "medium",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The two sides of the game.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Team {
    /// Every role except werewolf and possessed.
    Villagers,
    /// Werewolves and the possessed.
    Werewolves,
}

/// How a game ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Winner {
    /// No werewolf is alive.
    Villagers,
    /// Living werewolves are at least as many as the other living players.
    Werewolves,
    /// Neither side had won when the day limit (the game's `max_days`) ran out.
    Draw,
    /// Nobody won: the hub ended the game because every seat's agent had been offline for
    /// `GAME_ABANDON_S`. Not a result: leave it out of win-rate statistics.
    Aborted,
}

impl Winner {
    /// Whether a player with `role` is on the winning side (always false for a draw or an
    /// aborted game).
    #[must_use]
    pub fn includes(self, role: Role) -> bool {
        matches!(
            (self, role.team()),
            (Winner::Villagers, Team::Villagers) | (Winner::Werewolves, Team::Werewolves)
        )
    }
}

/// Why a player died.
///
/// Events with a public audience use [`DeathCause::Night`] for night deaths, hiding whether it
/// was the attack or the poison; spectator events and the full view carry the true
/// cause.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeathCause {
    /// Died during the night (public wording for `Attack` or `Poison`).
    Night,
    /// Killed by the werewolves' attack.
    Attack,
    /// Killed by the witch's poison.
    Poison,
    /// Executed by the day vote.
    Execution,
    /// Shot by a dying hunter.
    HunterShot,
}

impl DeathCause {
    /// The cause as told to everyone: `Attack` and `Poison` become `Night`.
    #[must_use]
    pub fn public(self) -> Self {
        match self {
            DeathCause::Attack | DeathCause::Poison => DeathCause::Night,
            other => other,
        }
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
