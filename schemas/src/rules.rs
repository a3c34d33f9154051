//! The rules of one game as the wire states them: every switch of the engine, announced to
//! every client in `game_start` and accepted by `POST /games`.
//!
//! The engine (`werewolf-engine`) re-exports these enums and [`Timeouts`] and keeps them in its
//! `GameConfig`; [`GameRules`] is that config without the seed and the deal.

use crate::game::{ActionKind, Role};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What happens when the day vote ends in a tie.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TiePolicy {
    /// One revote among the tied players; if that ties too, nobody is executed. (Default.)
    #[default]
    RevoteThenNoExecution,
    /// One revote among the tied players; if that ties too, the seeded RNG picks one of them.
    RevoteThenRandom,
    /// Nobody is executed, no revote.
    NoExecution,
    /// The seeded RNG picks one of the tied players, no revote.
    Random,
    /// One full revote (every living player a candidate again); a second tie → nobody.
    FullRevoteThenNoExecution,
    /// One full revote; a second tie → the seeded RNG picks one of the tied.
    FullRevoteThenRandom,
}

impl TiePolicy {
    /// Whether a first tie leads to a revote.
    #[must_use]
    pub fn revotes(self) -> bool {
        !matches!(self, TiePolicy::NoExecution | TiePolicy::Random)
    }

    /// Whether the revote is among every living player rather than among the tied.
    #[must_use]
    pub fn full_revote(self) -> bool {
        matches!(
            self,
            TiePolicy::FullRevoteThenNoExecution | TiePolicy::FullRevoteThenRandom
        )
    }

    /// Whether a final tie is broken at random (otherwise nobody is executed).
    #[must_use]
    pub fn breaks_final_tie(self) -> bool {
        matches!(
            self,
            TiePolicy::RevoteThenRandom | TiePolicy::Random | TiePolicy::FullRevoteThenRandom
        )
    }
}

/// Who speaks when in a discussion.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TalkOrder {
    /// Rounds in seat order, starting one seat later each day so the first speaker changes.
    /// (Default.)
    #[default]
    Rotating,
    /// Rounds in an order shuffled by the seeded RNG at the start of each discussion, the same
    /// for every round of that day (AIWolf's rule).
    Random,
    /// Werewolf Arena's floor: before each turn every living player but the last speaker
    /// bids 0–4 (`bid` requests, all at once); the highest bid speaks, ties broken by the
    /// seeded RNG; `talks_per_day` turns a day.
    Bidding,
}

/// What a day vote that times out counts as.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum VoteTimeout {
    /// An abstention. (Default.)
    #[default]
    Abstain,
    /// A vote for one of the candidates, picked by the seeded RNG.
    Random,
}

/// When the ballots of a vote (day votes; attack votes, to the pack) become visible.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum VoteReveal {
    /// Everyone votes at once; no ballot is shown to a player before the count, then every
    /// ballot is published with the result (`vote_result`; `action_result` `pack_choice` to
    /// the pack). (Default.)
    #[default]
    AfterCount,
    /// Everyone votes at once and each ballot is shown the moment it is cast (the hub's rule
    /// before issue 15: what a voter knows depends on how fast it answers).
    AsCast,
    /// Day voters are asked one at a time, in seat order starting one seat later each day;
    /// each ballot is shown as it is cast, so every voter sees the earlier ballots (Kaggle's
    /// variant). Attack votes stay simultaneous, shown to the pack as cast.
    Sequential,
}

/// Who chooses the night's victim.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttackDecider {
    /// Every living werewolf votes; the plurality is the victim. (Default.)
    #[default]
    PackVote,
    /// One living werewolf, drawn by the seeded RNG each night, chooses alone (Werewolf
    /// Arena's rule); the others get no `attack` request.
    RandomWolf,
}

/// Timeout of each kind of request, in milliseconds. The engine only copies these into its
/// requests; the server owns the clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Timeouts {
    /// For a `talk` request (default 60 000).
    pub talk: u64,
    /// For a day `vote` request (default 30 000).
    pub vote: u64,
    /// For a werewolf's `attack` request (default 30 000).
    pub attack: u64,
    /// For the seer's `divine` request (default 30 000).
    pub divine: u64,
    /// For the doctor's `protect` request (default 30 000).
    pub protect: u64,
    /// For the witch's `witch` request (default 30 000).
    pub witch: u64,
    /// For the hunter's `shoot` request (default 30 000).
    pub shoot: u64,
    /// For a werewolf's `whisper` turn (default 30 000).
    pub whisper: u64,
    /// For a `bid` for the floor (default 15 000).
    pub bid: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            talk: 60_000,
            vote: 30_000,
            attack: 30_000,
            divine: 30_000,
            protect: 30_000,
            witch: 30_000,
            shoot: 30_000,
            whisper: 30_000,
            bid: 15_000,
        }
    }
}

impl Timeouts {
    /// The same timeout for every kind.
    #[must_use]
    pub fn all(ms: u64) -> Self {
        Self {
            talk: ms,
            vote: ms,
            attack: ms,
            divine: ms,
            protect: ms,
            witch: ms,
            shoot: ms,
            whisper: ms,
            bid: ms,
        }
    }

    /// The timeout for `kind`.
    #[must_use]
    pub fn get(&self, kind: ActionKind) -> u64 {
        match kind {
            ActionKind::Talk => self.talk,
            ActionKind::Vote => self.vote,
            ActionKind::Attack => self.attack,
            ActionKind::Divine => self.divine,
            ActionKind::Protect => self.protect,
            ActionKind::Witch => self.witch,
            ActionKind::Shoot => self.shoot,
            ActionKind::Whisper => self.whisper,
            ActionKind::Bid => self.bid,
        }
    }

    /// A mutable reference to the timeout for `kind`.
    pub fn get_mut(&mut self, kind: ActionKind) -> &mut u64 {
        match kind {
            ActionKind::Talk => &mut self.talk,
            ActionKind::Vote => &mut self.vote,
            ActionKind::Attack => &mut self.attack,
            ActionKind::Divine => &mut self.divine,
            ActionKind::Protect => &mut self.protect,
            ActionKind::Witch => &mut self.witch,
            ActionKind::Shoot => &mut self.shoot,
            ActionKind::Whisper => &mut self.whisper,
            ActionKind::Bid => &mut self.bid,
        }
    }
}

/// Every rule of a game: what `game_start` announces to every client and `GET /games/{id}`
/// shows under `config`. Each field is an engine switch settable through `POST /games`;
/// `game-engine/README.md` lists their defaults per preset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct GameRules {
    /// How many players get each role (public knowledge; roles with none are omitted).
    pub roles: BTreeMap<Role, u8>,
    /// Discussion rounds per day (round-robin orders); 0 → straight to the vote.
    pub talk_rounds: u8,
    /// Who speaks when.
    pub talk_order: TalkOrder,
    /// Whether day 0 is a discussion without a vote before the first night.
    pub opening_talk: bool,
    /// How many passes in a row a player may make before a pass ends its talk for the day
    /// (`null`: a pass only skips that turn; 0: every pass is AIWolf's `Over`). An explicit
    /// `over` always ends it.
    pub skip_limit: Option<u8>,
    /// The most talks one player may say per day (`null`: no cap beyond the rounds).
    pub talks_per_agent: Option<u8>,
    /// The most discussion turns per day, all players together (`null`: no cap beyond the
    /// rounds; with `bidding` the number of turns).
    pub talks_per_day: Option<u16>,
    /// The longest talk or whisper, in characters.
    pub max_message_chars: usize,
    /// Whether a longer talk is cut to `max_message_chars` (else refused).
    pub truncate_talk: bool,
    /// Rounds of `whisper` turns among the living werewolves before each night's attack vote
    /// (none for a lone wolf); free whispers are allowed all night anyway.
    pub whisper_rounds: u8,
    /// When ballots become visible.
    pub vote_reveal: VoteReveal,
    /// Whether ballots are shown to players at all (else spectators only; the tally is public).
    pub public_votes: bool,
    /// Whether a day voter may vote for itself.
    pub self_vote: bool,
    /// Whether a day voter may abstain (`target: null`).
    pub vote_abstain: bool,
    /// What a tied day vote does.
    pub tie_policy: TiePolicy,
    /// Whether an execution needs a strict majority of the living (else the plurality).
    pub majority_execution: bool,
    /// What a day vote that times out counts as.
    pub vote_timeout: VoteTimeout,
    /// Who chooses the night's victim.
    pub attack_decider: AttackDecider,
    /// Whether a tied attack vote is voted again among the tied (else the seeded RNG picks).
    pub attack_revote: bool,
    /// Whether the werewolves attack on the first night.
    pub first_night_attack: bool,
    /// Whether the doctor may protect itself.
    pub doctor_self_protect: bool,
    /// Whether the doctor may protect the same player two nights running.
    pub doctor_same_target_twice: bool,
    /// Whether the seer may divine a player it divined before.
    pub seer_repeat: bool,
    /// Whether the seer learns the exact role (else werewolf or human).
    pub seer_sees_role: bool,
    /// The game is a draw if nobody has won by the end of this day.
    pub max_days: u32,
    /// Timeout of each kind of request, in milliseconds.
    pub timeouts_ms: Timeouts,
}
