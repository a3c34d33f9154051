//! Werewolf rules as a pure, deterministic state machine.
//!
//! No I/O, no clock, no async: the caller (the server, a test, the simulator) feeds inputs and
//! delivers the outputs. All randomness comes from [`GameConfig::seed`], so the same config and
//! the same inputs always give the same game, event for event.
//!
//! # Layout (one concern per file)
//! - `ids.rs` — [`Seat`] and [`RequestId`].
//! - `roles.rs` — [`Role`], [`Team`], [`Winner`].
//! - `config.rs` — [`GameConfig`], [`Preset`], [`RoleCounts`], [`RoleSetup`], [`Timeouts`],
//!   [`TiePolicy`] and setup validation.
//! - `action.rs` — [`ActionKind`] and [`Action`] (what players send).
//! - `events.rs` — [`Output`], [`Event`], [`EventKind`], [`Audience`], [`Request`],
//!   [`RequestClosed`], [`Phase`], [`Death`] (what the engine emits).
//! - `error.rs` — [`SetupError`] and [`ActionError`].
//! - `game.rs` — [`Game`]: creation, inputs ([`Game::act`], [`Game::whisper`],
//!   [`Game::expire`]), deaths, hunters' shots, win check, game over.
//! - `night.rs` — the night and its resolution order.
//! - `day.rs` — discussion, vote, revote, execution.
//! - `view.rs` — [`PlayerView`], [`PublicView`], [`FullView`].
//! - `rng.rs` — [`GameRng`], a hand-rolled SplitMix64 that is stable everywhere.
//! - `bots.rs` — [`RandomBots`], random-but-legal players.
//! - `simulate.rs` — [`simulate`], [`play_game`], [`LogDigest`].
//!
//! # Driving a game
//! ```
//! use werewolf_engine::{Game, GameConfig, Output, RandomBots};
//!
//! let config = GameConfig::preset("arena8").unwrap().with_seed(42);
//! let (mut game, outputs) = Game::new(config, 8).unwrap();
//! let mut queue: Vec<_> = outputs.iter().filter_map(Output::as_request).map(|r| r.id).collect();
//! let mut bots = RandomBots::new(7).with_timeouts(0);
//! while let Some(id) = queue.first().copied() {
//!     queue.remove(0);
//!     let Some(request) = game.pending_request(id) else { continue };
//!     let action = bots.choose(&game, request);
//!     let seat = request.seat;
//!     let outputs = game.act(seat, id, action).unwrap();
//!     queue.extend(outputs.iter().filter_map(Output::as_request).map(|r| r.id));
//! }
//! assert!(game.is_over());
//! ```
//!
//! Every [`Output`] is, in order: an [`Event`] to deliver to its [`Audience`] (full-view
//! spectators are entitled to every event; [`Audience::Spectators`] marks events *only* they
//! see), a new [`Request`] to send to its player with a deadline of `timeout_ms`, or a
//! [`RequestClosed`] notice (answered, timed out, cancelled) telling the server to drop that
//! deadline. Events and requests share one per-game `seq`, strictly increasing from 1.
//! An input that returns an error changes nothing.
//!
//! # Flow
//! Roles are dealt by the seeded RNG, then night 1 → day 1 (dawn: deaths announced;
//! discussion; vote; execution) → night 2 → … until a side wins: the villagers when no
//! werewolf lives; the werewolves when living werewolves ≥ the other living players (the
//! possessed counts among the others). The win condition is checked after the night's deaths
//! (and any hunter shots) and after an execution (and any hunter shot). If neither side has won
//! by the end of day [`GameConfig::max_days`], the game ends in a [`Winner::Draw`].
//! Roles are never revealed on death; [`EventKind::GameOver`] reveals them all.
//!
//! # Night resolution order
//! 1. Nightfall: every living werewolf gets `attack`, every living seer `divine`, every living
//!    doctor `protect` (candidates exclude whom it protected last night unless
//!    [`GameConfig::doctor_same_target_twice`]; self-protection allowed), all at once.
//!    Living werewolves may [`Game::whisper`] until dawn.
//! 2. A divination answers at once: [`EventKind::DivineResult`] to the seer (the possessed is
//!    seen as human).
//! 3. Once every attack vote is in: the victim is the plurality target, a tie broken by the
//!    seeded RNG; no victim if no werewolf voted ([`EventKind::AttackTarget`] to the pack).
//! 4. Then every living witch learns the victim ([`EventKind::WitchSees`]) and, if it has a
//!    usable potion, gets a `witch` request: save (the victim, once per game) and/or poison
//!    (any other living player, once per game). A witch may save itself.
//! 5. When nothing is pending: the victim dies unless protected by a doctor or saved by a
//!    witch; each poisoned player dies (protection does not stop poison). Dawn: deaths
//!    announced (public cause `night`), the medium learns whether yesterday's executed player
//!    was a werewolf, each dead hunter shoots, then the win check, then the discussion.
//!
//! # Day
//! Discussion: [`GameConfig::talk_rounds`] rounds; each round every living player, in seat
//! order rotated by `(day - 1)`, gets one `talk` request in turn (text of at most
//! [`GameConfig::max_talk_chars`] chars, or skip). Vote: all living players at once; each
//! ballot is public if [`GameConfig::public_votes`], else spectators-only (the tally is always
//! public). The plurality is executed; a tie follows [`TiePolicy`] (default: one revote among
//! the tied, then nobody). An executed hunter shoots; then the win check; then night.
//!
//! # Hunter
//! A hunter who dies (attack, poison, execution or another hunter's shot) gets a `shoot`
//! request — the only request ever sent to a dead player — unless no werewolf is left alive.
//! Several dead hunters shoot one after another in seat order.
//!
//! # Timeout defaults ([`Game::expire`], [`timeout_default`])
//! | request | default when it expires |
//! |---|---|
//! | `talk` | skip the turn |
//! | `vote` | abstain |
//! | `attack` | no attack vote (counts for nobody) |
//! | `divine` | no divination, no result |
//! | `protect` | nobody protected (and nobody is barred next night) |
//! | `witch` | no potion used |
//! | `shoot` | no shot |

#![warn(missing_docs)]

mod action;
mod bots;
mod config;
mod day;
mod error;
mod events;
mod game;
mod ids;
mod night;
mod rng;
mod roles;
mod simulate;
mod view;

pub use action::{Action, ActionKind, timeout_default};
pub use bots::RandomBots;
pub use config::{
    AttackDecider, GameConfig, GameRules, MAX_PLAYERS, MIN_PLAYERS, Preset, RoleCounts, RoleSetup,
    TalkOrder, TiePolicy, Timeouts, VoteReveal, VoteTimeout,
};
pub use error::{ActionError, Potion, SetupError};
pub use events::{
    Audience, Ballot, CloseReason, Death, DeathCause, Event, EventKind, Output, Outputs, Phase,
    Request, RequestClosed, VoteCount, VoteOutcome,
};
pub use game::Game;
pub use ids::{RequestId, Seat};
pub use rng::GameRng;
pub use roles::{Role, Team, Winner};
pub use simulate::{
    BotHabits, GameRecord, LogDigest, SimSummary, play_game, play_game_with, simulate,
    simulate_config, simulate_with,
};
pub use view::{
    DeathRecord, FullPlayer, FullView, PlayerView, PublicPlayer, PublicView, WitchOptions,
};
