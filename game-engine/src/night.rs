//! The night: attack votes, divination, protection, the witch, and the fixed resolution order.
//!
//! Order within a night:
//! 1. At nightfall every living werewolf gets an `attack` request, every living seer a `divine`
//!    request and every living doctor a `protect` request, all at once.
//! 2. A divination is answered at once (`divine_result` to the seer).
//! 3. When every attack vote is in (or expired) the victim is decided: plurality of the votes,
//!    ties broken by the seeded RNG, no victim if nobody voted (`attack_target` to the pack).
//! 4. Then every living witch learns the victim (`witch_sees`) and, if it still has a usable
//!    potion, gets a `witch` request.
//! 5. When no request is left, the night resolves: the victim dies unless a doctor protected it
//!    or a witch saved it; every poisoned player dies (protection does not stop poison); deaths
//!    are announced at dawn, the medium learns about yesterday's execution, dead hunters shoot,
//!    and the win condition is checked before the discussion starts.

use crate::day::plurality;
use crate::game::{After, Game, Stage};
use crate::{
    ActionKind, AttackDecider, Audience, Ballot, Death, DeathCause, EventKind, Outputs, Phase,
    Role, Seat, VoteReveal,
};
use serde::Serialize;

/// What has been decided so far tonight.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub(crate) struct NightState {
    /// Attack votes cast: (werewolf, target or none).
    pub(crate) attack_votes: Vec<(Seat, Option<Seat>)>,
    /// Whether the victim has been decided (all attack votes in).
    pub(crate) attack_decided: bool,
    /// Whether the pack is voting again among tied targets ([`crate::GameConfig::attack_revote`]).
    pub(crate) attack_revoting: bool,
    /// The werewolves' victim, once decided.
    pub(crate) victim: Option<Seat>,
    /// Protections: (doctor, target).
    pub(crate) protected: Vec<(Seat, Seat)>,
    /// Whether a witch used its save potion on the victim.
    pub(crate) saved: bool,
    /// Players poisoned tonight.
    pub(crate) poisoned: Vec<Seat>,
    /// Who gets tonight's `attack` requests: every living werewolf, or the one drawn with
    /// [`crate::AttackDecider::RandomWolf`].
    pub(crate) attackers: Vec<Seat>,
    /// [`crate::GameConfig::whisper_rounds`]: the wolves in whisper order (empty: no rounds).
    pub(crate) whisper_order: Vec<Seat>,
    /// Whisper turns taken so far (the next one is `whisper_order[turn % len]`).
    pub(crate) whisper_turn: usize,
}

impl Game {
    /// Nightfall: the next day number, `phase_changed`, and the night's first requests.
    pub(crate) fn start_night(&mut self, out: &mut Outputs) {
        self.day += 1;
        self.phase = Phase::Night;
        self.stage = Stage::Night;
        self.night = NightState::default();
        self.emit(
            out,
            Audience::Everyone,
            EventKind::PhaseChanged {
                phase: Phase::Night,
                day: self.day,
                deaths: Vec::new(),
            },
        );
        // AIWolf's first night: the seer divines, nobody attacks, nobody needs protecting.
        let quiet = self.day == 1 && !self.config.first_night_attack;
        let living: Vec<Seat> = self.living().collect();
        let prey = self.prey();
        let wolves: Vec<Seat> = living
            .iter()
            .copied()
            .filter(|&s| self.role(s).is_werewolf())
            .collect();
        if !quiet {
            self.night.attackers = match self.config.attack_decider {
                AttackDecider::PackVote => wolves.clone(),
                AttackDecider::RandomWolf => self.rng.pick(&wolves).into_iter().collect(),
            };
            if self.config.whisper_rounds > 0 && wolves.len() >= 2 {
                let mut order = wolves;
                self.rng.shuffle(&mut order);
                self.night.whisper_order = order;
            }
        }
        let whispering = !self.night.whisper_order.is_empty();
        for &seat in &living {
            match self.role(seat) {
                Role::Werewolf | Role::Doctor if quiet => {}
                Role::Werewolf if whispering || !self.night.attackers.contains(&seat) => {}
                Role::Werewolf => self.issue(out, seat, ActionKind::Attack, prey.clone()),
                Role::Seer => {
                    let seen = &self.players[seat.index()].divined;
                    let again = self.config.seer_repeat;
                    let candidates = living
                        .iter()
                        .copied()
                        .filter(|&s| s != seat && (again || !seen.contains(&s)))
                        .collect();
                    self.issue(out, seat, ActionKind::Divine, candidates);
                }
                Role::Doctor => {
                    let last = self.players[seat.index()].last_protected;
                    let twice = self.config.doctor_same_target_twice;
                    let own = self.config.doctor_self_protect;
                    let candidates = living
                        .iter()
                        .copied()
                        .filter(|&s| twice || Some(s) != last)
                        .filter(|&s| own || s != seat)
                        .collect();
                    self.issue(out, seat, ActionKind::Protect, candidates);
                }
                _ => {}
            }
        }
        if whispering {
            let first = self.night.whisper_order[0];
            self.issue(out, first, ActionKind::Whisper, Vec::new());
        } else if !quiet && !self.has_pending(ActionKind::Attack) {
            self.decide_attack(out);
        }
        self.maybe_end_night(out);
    }

    /// The living non-werewolves: tonight's possible victims.
    fn prey(&self) -> Vec<Seat> {
        self.living()
            .filter(|&s| !self.role(s).is_werewolf())
            .collect()
    }

    /// A werewolf's whisper turn ([`crate::GameConfig::whisper_rounds`]): said or passed, then
    /// the next turn, or after the last one the attack requests.
    pub(crate) fn on_whisper_turn(&mut self, seat: Seat, text: Option<String>, out: &mut Outputs) {
        let kind = match text {
            Some(text) => EventKind::Whisper { seat, text },
            None => EventKind::WhisperPassed { seat },
        };
        self.emit(out, Audience::Werewolves, kind);
        self.night.whisper_turn += 1;
        let order = &self.night.whisper_order;
        let turns = order.len() * usize::from(self.config.whisper_rounds);
        if self.night.whisper_turn < turns {
            let next = order[self.night.whisper_turn % order.len()];
            self.issue(out, next, ActionKind::Whisper, Vec::new());
        } else {
            let prey = self.prey();
            for wolf in self.night.attackers.clone() {
                self.issue(out, wolf, ActionKind::Attack, prey.clone());
            }
            if !self.has_pending(ActionKind::Attack) {
                self.decide_attack(out);
            }
        }
        self.maybe_end_night(out);
    }

    pub(crate) fn on_attack(&mut self, wolf: Seat, target: Option<Seat>, out: &mut Outputs) {
        self.night.attack_votes.push((wolf, target));
        let audience = if self.config.vote_reveal == VoteReveal::AfterCount {
            Audience::Spectators
        } else {
            Audience::Werewolves
        };
        self.emit(out, audience, EventKind::AttackVoteCast { wolf, target });
        if !self.has_pending(ActionKind::Attack) {
            self.decide_attack(out);
        }
        self.maybe_end_night(out);
    }

    /// All attack votes are in: pick the victim and wake the witches.
    fn decide_attack(&mut self, out: &mut Outputs) {
        let (tally, top) = plurality(
            self.players.len(),
            self.night.attack_votes.iter().map(|&(_, t)| t),
        );
        let ballots: Vec<Ballot> = self
            .night
            .attack_votes
            .iter()
            .map(|&(voter, target)| Ballot { voter, target })
            .collect();
        if top.len() > 1 && self.config.attack_revote && !self.night.attack_revoting {
            // One more round among the tied targets, once the pack has seen the tied round.
            self.night.attack_revoting = true;
            self.night.attack_votes.clear();
            self.emit(
                out,
                Audience::Werewolves,
                EventKind::AttackTie {
                    tied: top.clone(),
                    tally,
                    ballots,
                },
            );
            let wolves: Vec<Seat> = self
                .living()
                .filter(|&s| self.role(s).is_werewolf())
                .collect();
            for wolf in wolves {
                self.issue(out, wolf, ActionKind::Attack, top.clone());
            }
            return;
        }
        let victim = self.rng.pick(&top);
        self.night.victim = victim;
        self.night.attack_decided = true;
        self.emit(
            out,
            Audience::Werewolves,
            EventKind::AttackTarget {
                victim,
                tally,
                ballots,
            },
        );
        let witches: Vec<Seat> = self
            .living()
            .filter(|&s| self.role(s) == Role::Witch)
            .collect();
        for witch in witches {
            let player = &self.players[witch.index()];
            let can_save = player.save_potion && victim.is_some();
            let can_poison = player.poison_potion;
            self.emit(
                out,
                Audience::Player(witch),
                EventKind::WitchSees {
                    witch,
                    victim,
                    can_save,
                    can_poison,
                },
            );
            if can_save || can_poison {
                let candidates = if can_poison {
                    self.living_except(witch)
                } else {
                    Vec::new()
                };
                self.issue(out, witch, ActionKind::Witch, candidates);
            }
        }
    }

    pub(crate) fn on_divine(&mut self, seer: Seat, target: Option<Seat>, out: &mut Outputs) {
        if let Some(target) = target {
            let is_werewolf = self.role(target).is_werewolf();
            let role = self.config.seer_sees_role.then(|| self.role(target));
            self.players[seer.index()].divined.push(target);
            self.emit(
                out,
                Audience::Player(seer),
                EventKind::DivineResult {
                    seer,
                    target,
                    is_werewolf,
                    role,
                },
            );
        }
        self.maybe_end_night(out);
    }

    pub(crate) fn on_protect(&mut self, doctor: Seat, target: Option<Seat>, out: &mut Outputs) {
        if let Some(target) = target {
            self.night.protected.push((doctor, target));
            self.emit(
                out,
                Audience::Spectators,
                EventKind::Protected { doctor, target },
            );
        }
        self.maybe_end_night(out);
    }

    pub(crate) fn on_witch(
        &mut self,
        witch: Seat,
        save: bool,
        poison: Option<Seat>,
        out: &mut Outputs,
    ) {
        let player = &mut self.players[witch.index()];
        if save {
            player.save_potion = false;
            self.night.saved = true;
        }
        if let Some(target) = poison {
            player.poison_potion = false;
            self.night.poisoned.push(target);
        }
        if save || poison.is_some() {
            let saved = if save { self.night.victim } else { None };
            self.emit(
                out,
                Audience::Spectators,
                EventKind::WitchUsed {
                    witch,
                    saved,
                    poisoned: poison,
                },
            );
        }
        self.maybe_end_night(out);
    }

    fn maybe_end_night(&mut self, out: &mut Outputs) {
        if self.stage == Stage::Night && self.pending.is_empty() {
            self.resolve_night(out);
        }
    }

    /// Step 5 of the night order (see the module docs).
    fn resolve_night(&mut self, out: &mut Outputs) {
        let night = std::mem::take(&mut self.night);
        let guarded = night
            .victim
            .is_some_and(|v| night.protected.iter().any(|&(_, t)| t == v));
        let saved = night.saved && night.victim.is_some();
        let mut deaths: Vec<Death> = Vec::with_capacity(2);
        if let Some(victim) = night.victim
            && !guarded
            && !saved
        {
            deaths.push(Death {
                seat: victim,
                cause: DeathCause::Attack,
            });
        }
        let mut poisoned = night.poisoned.clone();
        poisoned.sort_unstable();
        poisoned.dedup();
        for &seat in &poisoned {
            if !deaths.iter().any(|d| d.seat == seat) {
                deaths.push(Death {
                    seat,
                    cause: DeathCause::Poison,
                });
            }
        }
        deaths.sort_unstable_by_key(|d| d.seat);
        for i in 0..self.players.len() {
            let player = &mut self.players[i];
            if player.alive && player.role == Role::Doctor {
                player.last_protected = night
                    .protected
                    .iter()
                    .find(|&&(d, _)| d.index() == i)
                    .map(|&(_, t)| t);
            }
        }
        self.emit(
            out,
            Audience::Spectators,
            EventKind::NightOutcome {
                day: self.day,
                attacked: night.victim,
                guarded,
                saved,
                poisoned,
                deaths: deaths.clone(),
            },
        );
        for death in &deaths {
            self.kill(death.seat, death.cause);
        }
        self.phase = Phase::Day;
        let public: Vec<Death> = deaths
            .iter()
            .map(|d| Death {
                seat: d.seat,
                cause: d.cause.public(),
            })
            .collect();
        self.emit(
            out,
            Audience::Everyone,
            EventKind::PhaseChanged {
                phase: Phase::Day,
                day: self.day,
                deaths: public.clone(),
            },
        );
        for death in public {
            self.emit(
                out,
                Audience::Everyone,
                EventKind::Died {
                    seat: death.seat,
                    cause: death.cause,
                },
            );
        }
        if let Some(target) = self.last_executed.take() {
            let is_werewolf = self.role(target).is_werewolf();
            let mediums: Vec<Seat> = self
                .living()
                .filter(|&s| self.role(s) == Role::Medium)
                .collect();
            for medium in mediums {
                self.emit(
                    out,
                    Audience::Player(medium),
                    EventKind::MediumResult {
                        medium,
                        target,
                        is_werewolf,
                    },
                );
            }
        }
        let hunters = deaths
            .iter()
            .map(|d| d.seat)
            .filter(|&s| self.role(s) == Role::Hunter)
            .collect();
        self.after_deaths(hunters, After::Discussion, out);
    }
}
