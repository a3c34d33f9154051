//! Roles, teams and the winner of a game.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A role dealt to one seat at the start of the game. It never changes afterwards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Team {
    /// Every role except werewolf and possessed.
    Villagers,
    /// Werewolves and the possessed.
    Werewolves,
}

/// How a game ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Winner {
    /// No werewolf is alive.
    Villagers,
    /// Living werewolves are at least as many as the other living players.
    Werewolves,
    /// Neither side had won when the day limit ([`crate::GameConfig::max_days`]) ran out.
    Draw,
}

impl Winner {
    /// Whether a player with `role` is on the winning side (always false for a draw).
    #[must_use]
    pub fn includes(self, role: Role) -> bool {
        matches!(
            (self, role.team()),
            (Winner::Villagers, Team::Villagers) | (Winner::Werewolves, Team::Werewolves)
        )
    }
}
