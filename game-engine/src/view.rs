//! Read-only views of a game: per player (what that player may know), public, and full.

use crate::game::Game;
use crate::{DeathCause, Phase, Request, Role, RoleCounts, Seat, Team, Winner};
use serde::{Deserialize, Serialize};

/// When and how a player died.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DeathRecord {
    /// The day number of the night or day it died in.
    pub day: u32,
    /// The true cause (full view) or the public one (player and public views).
    pub cause: DeathCause,
}

/// What a witch can do tonight (see [`Game::witch_options`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WitchOptions {
    /// The werewolves' victim, `None` if they chose nobody.
    pub victim: Option<Seat>,
    /// The save potion is unused and there is a victim.
    pub can_save: bool,
    /// The poison potion is unused.
    pub can_poison: bool,
}

/// One player as someone else may see it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PublicPlayer {
    /// The seat.
    pub seat: Seat,
    /// Alive or dead.
    pub alive: bool,
    /// When and how it died (public cause).
    pub death: Option<DeathRecord>,
    /// Its role, only where the viewer may know it: its own, fellow werewolves for a werewolf,
    /// and everyone's after game over. Never revealed by death.
    pub role: Option<Role>,
}

/// What one player may know.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PlayerView {
    /// The viewer.
    pub seat: Seat,
    /// The viewer's role.
    pub role: Role,
    /// The viewer's team.
    pub team: Team,
    /// The other werewolves if the viewer is a werewolf (living or dead); empty otherwise.
    pub teammates: Vec<Seat>,
    /// Whether the viewer is alive.
    pub alive: bool,
    /// Current day number.
    pub day: u32,
    /// Current phase.
    pub phase: Phase,
    /// Role counts in play (public).
    pub roles: RoleCounts,
    /// Everyone, with roles only where the viewer may know them.
    pub players: Vec<PublicPlayer>,
    /// The viewer's pending requests.
    pub pending: Vec<Request>,
    /// The witch's potions left as (save, poison), for a witch; `None` otherwise.
    pub potions: Option<(bool, bool)>,
    /// The winner, once over.
    pub winner: Option<Winner>,
}

/// What anyone (public viewers) may know.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PublicView {
    /// Current day number.
    pub day: u32,
    /// Current phase.
    pub phase: Phase,
    /// Role counts in play.
    pub roles: RoleCounts,
    /// Everyone; roles only after game over.
    pub players: Vec<PublicPlayer>,
    /// The winner, once over.
    pub winner: Option<Winner>,
}

/// One player with everything known about it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FullPlayer {
    /// The seat.
    pub seat: Seat,
    /// Its role.
    pub role: Role,
    /// Its team.
    pub team: Team,
    /// Alive or dead.
    pub alive: bool,
    /// When and how it died (true cause).
    pub death: Option<DeathRecord>,
    /// Doctor: whom it protected last night.
    pub last_protected: Option<Seat>,
    /// Witch: potions left as (save, poison); `None` for other roles.
    pub potions: Option<(bool, bool)>,
}

/// Everything (for full-view spectators and the server).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FullView {
    /// Current day number.
    pub day: u32,
    /// Current phase.
    pub phase: Phase,
    /// Role counts in play.
    pub roles: RoleCounts,
    /// Every player.
    pub players: Vec<FullPlayer>,
    /// Every pending request.
    pub pending: Vec<Request>,
    /// Tonight's victim once decided (night phase only).
    pub night_victim: Option<Seat>,
    /// The player executed today, if any (the medium learns about it at the next dawn).
    pub last_executed: Option<Seat>,
    /// The winner, once over.
    pub winner: Option<Winner>,
}

impl Game {
    fn public_player(&self, seat: Seat, show_role: bool) -> PublicPlayer {
        let p = &self.players[seat.index()];
        PublicPlayer {
            seat,
            alive: p.alive,
            death: p.death.map(|d| DeathRecord {
                day: d.day,
                cause: d.cause.public(),
            }),
            role: (show_role || self.winner.is_some()).then_some(p.role),
        }
    }

    /// What `seat` may know; `None` for a seat not in the game.
    #[must_use]
    pub fn view_for(&self, seat: Seat) -> Option<PlayerView> {
        let me = self.players.get(seat.index())?;
        let wolf = me.role.is_werewolf();
        let players = self
            .seats()
            .map(|s| {
                let show = s == seat || (wolf && self.players[s.index()].role.is_werewolf());
                self.public_player(s, show)
            })
            .collect();
        Some(PlayerView {
            seat,
            role: me.role,
            team: me.role.team(),
            teammates: if wolf {
                self.werewolf_seats().filter(|&s| s != seat).collect()
            } else {
                Vec::new()
            },
            alive: me.alive,
            day: self.day,
            phase: self.phase,
            roles: self.counts,
            players,
            pending: self
                .pending
                .iter()
                .filter(|r| r.seat == seat)
                .cloned()
                .collect(),
            potions: (me.role == Role::Witch).then_some((me.save_potion, me.poison_potion)),
            winner: self.winner,
        })
    }

    /// What anyone may know: alive/dead, public causes, roles only after game over.
    #[must_use]
    pub fn public_view(&self) -> PublicView {
        PublicView {
            day: self.day,
            phase: self.phase,
            roles: self.counts,
            players: self.seats().map(|s| self.public_player(s, false)).collect(),
            winner: self.winner,
        }
    }

    /// Everything: roles, true death causes, potions, pending requests.
    #[must_use]
    pub fn full_view(&self) -> FullView {
        FullView {
            day: self.day,
            phase: self.phase,
            roles: self.counts,
            players: self
                .seats()
                .map(|seat| {
                    let p = &self.players[seat.index()];
                    FullPlayer {
                        seat,
                        role: p.role,
                        team: p.role.team(),
                        alive: p.alive,
                        death: p.death,
                        last_protected: p.last_protected,
                        potions: (p.role == Role::Witch)
                            .then_some((p.save_potion, p.poison_potion)),
                    }
                })
                .collect(),
            pending: self.pending.clone(),
            night_victim: if self.phase == Phase::Night {
                self.night.victim
            } else {
                None
            },
            last_executed: self.last_executed,
            winner: self.winner,
        }
    }
}
