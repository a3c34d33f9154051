//! Typed errors: an invalid game setup, and an invalid input to a running game.

use crate::{ActionKind, Phase, RequestId, Seat};
use thiserror::Error;

/// Why a [`crate::GameConfig`] cannot make a game.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum SetupError {
    /// The preset name is not one of [`crate::Preset::ALL`].
    #[error("unknown preset `{0}` (known: aiwolf5, arena8, aiwolf13, classic9)")]
    UnknownPreset(String),
    /// The role counts add up to a different number of players than the game was created with.
    #[error("the roles are for {expected} players but the game has {got}")]
    PlayerCountMismatch {
        /// Players the role setup deals to.
        expected: usize,
        /// Players the game was created with.
        got: usize,
    },
    /// Fewer players than [`crate::MIN_PLAYERS`].
    #[error("{got} players is too few (at least {min})")]
    TooFewPlayers {
        /// Players asked for.
        got: usize,
        /// The minimum.
        min: usize,
    },
    /// More players than [`crate::MAX_PLAYERS`].
    #[error("{got} players is too many (at most {max})")]
    TooManyPlayers {
        /// Players asked for.
        got: usize,
        /// The maximum.
        max: usize,
    },
    /// The setup has no werewolf, so the villagers would win before the first night.
    #[error("the setup needs at least one werewolf")]
    NoWerewolf,
    /// Werewolves are not fewer than the other players, so they would win at once.
    #[error("{werewolves} werewolves against {others} others: the werewolves must be fewer")]
    WerewolvesNotMinority {
        /// Werewolves in the setup.
        werewolves: usize,
        /// Every other role (possessed included).
        others: usize,
    },
    /// `max_talk_chars` is 0: no talk could ever be said.
    #[error("max_talk_chars must be at least 1")]
    ZeroTalkLength,
    /// `max_days` is 0: the game could not even play its first day.
    #[error("max_days must be at least 1")]
    ZeroMaxDays,
    /// `talk_order: bidding` without `talks_per_day`: the day would have no turn count.
    #[error("talk_order `bidding` needs talks_per_day (the number of turns a day, e.g. 8)")]
    BiddingWithoutTurns,
    /// `talks_per_agent` or `talks_per_day` is 0: use `talk_rounds: 0` for no discussion.
    #[error("{0} must be at least 1 (for no discussion, set talk_rounds to 0)")]
    ZeroTalkBudget(&'static str),
    /// `attack_revote` with [`crate::AttackDecider::RandomWolf`]: one wolf never ties.
    #[error("attack_revote needs attack_decider `pack_vote` (a lone chooser cannot tie)")]
    RevoteWithoutPack,
}

/// Which witch potion an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Potion {
    /// The potion that saves the werewolves' victim.
    Save,
    /// The potion that kills a chosen player.
    Poison,
}

impl std::fmt::Display for Potion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Potion::Save => "save",
            Potion::Poison => "poison",
        })
    }
}

/// Why an input was refused. When any of these is returned, the game state is unchanged.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ActionError {
    /// The game is over; it accepts no more input.
    #[error("the game is over")]
    GameOver,
    /// The seat is not in this game.
    #[error("{0} is not in this game")]
    UnknownSeat(Seat),
    /// The seat's player is dead (the only thing a dead player may do is answer a hunter's
    /// `shoot` request addressed to it).
    #[error("{0} is dead")]
    DeadActor(Seat),
    /// No request with this id was ever issued in this game.
    #[error("{0} does not exist")]
    UnknownRequest(RequestId),
    /// The request was issued but is no longer pending: answered, expired or cancelled.
    #[error("{0} was already answered, expired or cancelled")]
    AlreadyAnswered(RequestId),
    /// The request is pending but addressed to another seat.
    #[error("{request_id} is not addressed to {seat}")]
    NotYourRequest {
        /// The request named.
        request_id: RequestId,
        /// The seat that tried to answer it.
        seat: Seat,
    },
    /// The action's kind is not the kind the request asks for (e.g. a vote sent for a night
    /// `attack` request).
    #[error("the request asks for `{expected}`, not `{got}`")]
    WrongAction {
        /// The kind the request asks for.
        expected: ActionKind,
        /// The kind that was sent.
        got: ActionKind,
    },
    /// The input is not allowed in the current phase (a whisper outside the night).
    #[error("not allowed during the {phase} phase")]
    WrongPhase {
        /// The current phase.
        phase: Phase,
    },
    /// The target is not one of the request's candidates.
    #[error("{target} is not a valid target")]
    InvalidTarget {
        /// The refused target.
        target: Seat,
    },
    /// The witch's potion was already used, or (save) there is no victim to save.
    #[error("the {potion} potion is not available")]
    PotionUnavailable {
        /// The potion asked for.
        potion: Potion,
    },
    /// The text is longer than [`crate::GameConfig::max_talk_chars`] (counted in chars).
    #[error("text of {len} chars is over the limit of {max}")]
    TextTooLong {
        /// The text's length in chars (counting stops at `max + 1`).
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The text is empty or only whitespace (to skip a talk, send `Talk(None)`).
    #[error("empty text (send no text to skip)")]
    EmptyText,
    /// Only werewolves may whisper.
    #[error("{0} is not a werewolf")]
    NotAWerewolf(Seat),
    /// A day vote without a target where [`crate::GameConfig::vote_abstain`] is false.
    #[error("this game requires a vote: abstaining is not allowed")]
    MustVote,
    /// A bid outside 0–4.
    #[error("a bid is 0-4, not {0}")]
    BidOutOfRange(u8),
}
