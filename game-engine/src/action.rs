//! What players send: the kinds of action and the actions themselves.

use crate::Seat;
use serde::{Deserialize, Serialize};
pub use werewolf_schemas::ActionKind;

/// A player's answer to a [`crate::Request`]; its kind must match the request's kind.
///
/// Targets must be among the request's `candidates`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Talk: `Some(text)` says `text` (non-blank, at most `max_talk_chars` chars); `None` skips.
    Talk(Option<String>),
    /// Talk, then done talking for today (AIWolf's `Over`): says `text` if `Some`, and the
    /// player gets no more turns this day.
    Over(Option<String>),
    /// A whisper turn ([`crate::GameConfig::whisper_rounds`]): `Some(text)` whispers to the
    /// pack; `None` passes.
    Whisper(Option<String>),
    /// A bid for the floor ([`crate::TalkOrder::Bidding`]), 0–4.
    Bid(u8),
    /// Vote for a candidate, or abstain with `None`.
    Vote(Option<Seat>),
    /// Vote to attack a candidate tonight.
    Attack(Seat),
    /// Cast no attack vote (what a timed-out `attack` request applies).
    NoAttack,
    /// Divine a candidate.
    Divine(Seat),
    /// Divine nobody tonight (what a timed-out `divine` request applies).
    NoDivine,
    /// Protect a candidate from tonight's attack.
    Protect(Seat),
    /// Protect nobody tonight (what a timed-out `protect` request applies).
    NoProtect,
    /// The witch's night: `save` uses the save potion on tonight's victim (needs the potion and
    /// a victim); `poison` uses the poison potion on a candidate.
    Witch {
        /// Use the save potion on the werewolves' victim.
        save: bool,
        /// Use the poison potion on this candidate.
        poison: Option<Seat>,
    },
    /// Shoot a candidate, or nobody with `None`.
    Shoot(Option<Seat>),
}

impl Action {
    /// The request kind this action answers.
    #[must_use]
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::Talk(_) | Action::Over(_) => ActionKind::Talk,
            Action::Whisper(_) => ActionKind::Whisper,
            Action::Bid(_) => ActionKind::Bid,
            Action::Vote(_) => ActionKind::Vote,
            Action::Attack(_) | Action::NoAttack => ActionKind::Attack,
            Action::Divine(_) | Action::NoDivine => ActionKind::Divine,
            Action::Protect(_) | Action::NoProtect => ActionKind::Protect,
            Action::Witch { .. } => ActionKind::Witch,
            Action::Shoot(_) => ActionKind::Shoot,
        }
    }

    /// The single target of the action, if it has one (the poison target for the witch).
    #[must_use]
    pub fn target(&self) -> Option<Seat> {
        match self {
            Action::Vote(t) | Action::Shoot(t) => *t,
            Action::Attack(t) | Action::Divine(t) | Action::Protect(t) => Some(*t),
            Action::Witch { poison, .. } => *poison,
            Action::Talk(_)
            | Action::Over(_)
            | Action::Whisper(_)
            | Action::Bid(_)
            | Action::NoAttack
            | Action::NoDivine
            | Action::NoProtect => None,
        }
    }
}

/// What [`crate::Game::expire`] applies when a request of this kind times out:
/// talk → skip; vote → abstain; attack → no vote (counts for nobody); divine → no
/// divination; protect → nobody protected; witch → no potion used; shoot → no shot;
/// whisper → pass; bid → 0.
#[must_use]
pub fn timeout_default(kind: ActionKind) -> Action {
    match kind {
        ActionKind::Talk => Action::Talk(None),
        ActionKind::Vote => Action::Vote(None),
        ActionKind::Attack => Action::NoAttack,
        ActionKind::Divine => Action::NoDivine,
        ActionKind::Protect => Action::NoProtect,
        ActionKind::Witch => Action::Witch {
            save: false,
            poison: None,
        },
        ActionKind::Shoot => Action::Shoot(None),
        ActionKind::Whisper => Action::Whisper(None),
        ActionKind::Bid => Action::Bid(0),
    }
}
