//! What the engine emits: events (each with an audience and a `seq`), requests it now awaits,
//! and notices that a request was closed.

use crate::{Action, ActionKind, RequestId, Role, RoleCounts, Seat, Team, Winner};
use serde::{Deserialize, Serialize};
pub use werewolf_schemas::DeathCause;

/// The phase of the game, as announced by [`EventKind::PhaseChanged`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Night `day`: werewolves attack, seer divines, doctor protects, witch acts.
    Night,
    /// Dawn of day `day`: the night's deaths are announced; a dead hunter shoots.
    Day,
    /// Day `day`: round-robin talk.
    Discussion,
    /// Day `day`: simultaneous vote (and revote), execution, an executed hunter shoots.
    Vote,
    /// The game is over.
    Ended,
}

impl Phase {
    /// The phase's snake_case name, as serialized (`night`, `day`, …).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Phase::Night => "night",
            Phase::Day => "day",
            Phase::Discussion => "discussion",
            Phase::Vote => "vote",
            Phase::Ended => "ended",
        }
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Who may see an event.
///
/// A *full-view spectator* (observer) is entitled to every event whatever its audience; the
/// audience says which players (and public viewers) see it besides. Use
/// [`crate::Game::audience_includes`] to test one seat.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Every player, public viewers (ui) and spectators.
    Everyone,
    /// This player only (and spectators).
    Player(Seat),
    /// Every seat dealt [`Role::Werewolf`], living or dead (and spectators). The possessed is not
    /// included.
    Werewolves,
    /// Full-view spectators only; no player and no public viewer.
    Spectators,
}

/// One death.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Death {
    /// Who died.
    pub seat: Seat,
    /// Why (public wording in public events).
    pub cause: DeathCause,
}

/// How many votes one player received.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct VoteCount {
    /// The player voted for.
    pub seat: Seat,
    /// Votes received (at least 1; players with no vote are not listed).
    pub votes: u32,
}

/// One ballot of a vote, as published with its count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Ballot {
    /// Who voted.
    pub voter: Seat,
    /// For whom; `None` = abstained, timed out or (attack) cast no vote.
    pub target: Option<Seat>,
}

/// What a day vote decided.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum VoteOutcome {
    /// This player is executed.
    Executed {
        /// The executed player.
        seat: Seat,
    },
    /// A tie: everyone votes again, among the tied players only.
    Revote {
        /// The tied players (sorted by seat).
        tied: Vec<Seat>,
    },
    /// Nobody is executed: nobody got a vote, or a tie with no (more) revote.
    NoExecution {
        /// The tied players, empty when nobody got a vote.
        tied: Vec<Seat>,
    },
}

/// What happened. The variant names serialize as `type` in snake_case.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// The game began. Audience: everyone.
    GameStarted {
        /// Number of players.
        players: u8,
        /// How many of each role are in play (public knowledge).
        roles: RoleCounts,
        /// Whether day votes are public.
        public_votes: bool,
        /// Talk rounds per day.
        talk_rounds: u8,
        /// Maximum chars per talk or whisper.
        max_talk_chars: usize,
    },
    /// A player's own role. Audience: that player.
    RoleAssigned {
        /// The player.
        seat: Seat,
        /// Its role.
        role: Role,
        /// Its team.
        team: Team,
        /// The other werewolves if the player is a werewolf; empty otherwise (the possessed
        /// does not know the werewolves).
        teammates: Vec<Seat>,
    },
    /// A new phase began. Audience: everyone.
    PhaseChanged {
        /// The new phase.
        phase: Phase,
        /// The day number (night N precedes day N; the game starts at night 1).
        day: u32,
        /// With `Phase::Day`: the night's deaths (public causes), sorted by seat; empty otherwise.
        deaths: Vec<Death>,
    },
    /// A player died (one event per death, right when it is announced). Audience: everyone.
    Died {
        /// Who.
        seat: Seat,
        /// Public cause (`night`, `execution` or `hunter_shot`).
        cause: DeathCause,
    },
    /// A player talked in the discussion. Audience: everyone.
    Talk {
        /// The speaker.
        seat: Seat,
        /// The talk round (1-based).
        round: u8,
        /// What was said.
        text: String,
    },
    /// A player skipped its turn (or its talk request timed out). Audience: everyone.
    TalkSkipped {
        /// The player.
        seat: Seat,
        /// The talk round (1-based).
        round: u8,
    },
    /// A player is done talking for today: it said `Over`, used its
    /// [`crate::GameConfig::talks_per_agent`], or passed beyond its
    /// [`crate::GameConfig::skip_limit`]. Audience: everyone.
    TalkOver {
        /// The player.
        seat: Seat,
    },
    /// A werewolf passed its whisper turn ([`crate::GameConfig::whisper_rounds`]). Audience:
    /// werewolves.
    WhisperPassed {
        /// The werewolf.
        seat: Seat,
    },
    /// A bid for the next turn of a [`crate::TalkOrder::Bidding`] discussion. Audience:
    /// spectators (bids are private, as in Werewolf Arena).
    BidCast {
        /// The bidder.
        seat: Seat,
        /// Its bid, 0–4.
        bid: u8,
    },
    /// A werewolf whispered to the pack at night. Audience: werewolves.
    Whisper {
        /// The werewolf.
        seat: Seat,
        /// What was said.
        text: String,
    },
    /// A day ballot, emitted as it is cast. Audience: everyone when votes are public and
    /// [`crate::VoteReveal`] is `as_cast` or `sequential`; otherwise spectators only (the voter
    /// gets [`EventKind::ActionAccepted`]; with `after_count` the ballots reach the players
    /// with [`EventKind::VoteResult`]).
    VoteCast {
        /// The voter.
        voter: Seat,
        /// Whom it voted for; `None` = abstained (or timed out).
        target: Option<Seat>,
        /// Whether this is the revote.
        revote: bool,
    },
    /// The count of a day vote and its outcome. Audience: everyone.
    VoteResult {
        /// The day.
        day: u32,
        /// Whether this was the revote.
        revote: bool,
        /// Votes per player, sorted by seat.
        tally: Vec<VoteCount>,
        /// What the vote decided.
        outcome: VoteOutcome,
        /// Every ballot of this round in the order cast (abstentions included) when votes
        /// are public; empty otherwise.
        #[serde(default)]
        ballots: Vec<Ballot>,
    },
    /// A werewolf's attack vote, emitted as it is cast. Audience: werewolves, except with
    /// [`crate::VoteReveal::AfterCount`]: spectators only (the pack gets the ballots with
    /// [`EventKind::AttackTarget`], or with [`EventKind::AttackTie`] before a revote).
    AttackVoteCast {
        /// The werewolf.
        wolf: Seat,
        /// Its choice; `None` = no vote (timed out or declined).
        target: Option<Seat>,
    },
    /// The pack's choice for tonight (plurality, ties broken by the seeded RNG). Audience:
    /// werewolves.
    AttackTarget {
        /// The victim, `None` if no werewolf voted.
        victim: Option<Seat>,
        /// Attack votes per target, sorted by seat.
        tally: Vec<VoteCount>,
        /// Every attack ballot of the deciding round, in the order cast.
        #[serde(default)]
        ballots: Vec<Ballot>,
    },
    /// The pack's attack vote tied and is voted again among the tied
    /// ([`crate::GameConfig::attack_revote`]). Audience: werewolves.
    AttackTie {
        /// The tied targets, sorted by seat.
        tied: Vec<Seat>,
        /// Attack votes per target, sorted by seat.
        tally: Vec<VoteCount>,
        /// Every ballot of the tied round, in the order cast.
        ballots: Vec<Ballot>,
    },
    /// The seer's result. Audience: that seer.
    DivineResult {
        /// The seer.
        seer: Seat,
        /// Who was divined.
        target: Seat,
        /// Whether the target is a werewolf (the possessed is seen as human).
        is_werewolf: bool,
        /// The target's exact role, with [`crate::GameConfig::seer_sees_role`].
        #[serde(default)]
        role: Option<Role>,
    },
    /// The medium's result about the player executed the day before. Audience: that medium.
    MediumResult {
        /// The medium.
        medium: Seat,
        /// The player executed the day before.
        target: Seat,
        /// Whether that player was a werewolf (the possessed is seen as human).
        is_werewolf: bool,
    },
    /// The witch learns tonight's victim and what it can do. Audience: that witch.
    WitchSees {
        /// The witch.
        witch: Seat,
        /// The werewolves' victim (before protection and potions), `None` if no attack.
        victim: Option<Seat>,
        /// Whether it may save the victim (save potion unused and a victim exists).
        can_save: bool,
        /// Whether it still has the poison potion.
        can_poison: bool,
    },
    /// The doctor protected someone. Audience: spectators.
    Protected {
        /// The doctor.
        doctor: Seat,
        /// Who was protected.
        target: Seat,
    },
    /// The witch used potions. Audience: spectators.
    WitchUsed {
        /// The witch.
        witch: Seat,
        /// The victim it saved, if it used the save potion.
        saved: Option<Seat>,
        /// Whom it poisoned, if it used the poison potion.
        poisoned: Option<Seat>,
    },
    /// How the night resolved. Audience: spectators.
    NightOutcome {
        /// The night.
        day: u32,
        /// The werewolves' victim, if any.
        attacked: Option<Seat>,
        /// Whether a doctor protected the victim.
        guarded: bool,
        /// Whether a witch saved the victim.
        saved: bool,
        /// Players poisoned tonight.
        poisoned: Vec<Seat>,
        /// The night's deaths with their true causes, sorted by seat.
        deaths: Vec<Death>,
    },
    /// A dying hunter's shot. Audience: everyone.
    HunterShot {
        /// The hunter.
        hunter: Seat,
        /// Whom it shot; `None` = no shot.
        target: Option<Seat>,
    },
    /// The engine accepted an action. Audience: the acting player.
    ActionAccepted {
        /// The request it answered.
        request_id: RequestId,
        /// The player.
        seat: Seat,
        /// The action as accepted.
        action: Action,
    },
    /// A request expired and its default was applied. Audience: the player it was for.
    RequestTimedOut {
        /// The expired request.
        request_id: RequestId,
        /// The player it was for.
        seat: Seat,
        /// Its kind.
        kind: ActionKind,
        /// The default that was applied (see [`timeout_default`]).
        applied: Action,
    },
    /// The game is over; every role is revealed. Audience: everyone.
    GameOver {
        /// Who won.
        winner: Winner,
        /// The day the game ended on.
        day: u32,
        /// Every player's role, indexed by seat.
        roles: Vec<Role>,
    },
}

/// One emitted event.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Event {
    /// Per-game sequence number, strictly increasing over everything the game emits (events and
    /// requests share the counter), starting at 1.
    pub seq: u64,
    /// Who may see it.
    pub audience: Audience,
    /// What happened.
    pub kind: EventKind,
}

/// Something the engine now awaits from one player. It stays pending until answered with
/// [`crate::Game::act`], expired with [`crate::Game::expire`], or cancelled.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Request {
    /// Shares the per-game sequence with events.
    pub seq: u64,
    /// The id to answer with.
    pub id: RequestId,
    /// The player asked. Always a living player, except a hunter's `shoot`, which goes to the
    /// hunter who just died.
    pub seat: Seat,
    /// What is asked.
    pub kind: ActionKind,
    /// The valid targets, sorted by seat (for `witch`: the poison targets, empty once the
    /// poison is used; for `talk`: empty).
    pub candidates: Vec<Seat>,
    /// How long the server should wait before calling [`crate::Game::expire`], from the config.
    pub timeout_ms: u64,
}

/// Why a request stopped being pending.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// Answered by [`crate::Game::act`].
    Answered,
    /// Expired by [`crate::Game::expire`]; its default was applied.
    TimedOut,
    /// Dropped by the engine because the game ended.
    Cancelled,
}

/// A request is no longer pending: the server stops its deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RequestClosed {
    /// The request.
    pub id: RequestId,
    /// The player it was for.
    pub seat: Seat,
    /// Why it closed.
    pub reason: CloseReason,
}

/// One item of engine output, in the order the server should process them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Output {
    /// An event to deliver to its audience.
    Event(Event),
    /// A new pending request to send to its player (and start a deadline for).
    Request(Request),
    /// A request that is no longer pending.
    Closed(RequestClosed),
}

impl Output {
    /// The event, if this is one.
    #[must_use]
    pub fn as_event(&self) -> Option<&Event> {
        match self {
            Output::Event(e) => Some(e),
            _ => None,
        }
    }

    /// The request, if this is one.
    #[must_use]
    pub fn as_request(&self) -> Option<&Request> {
        match self {
            Output::Request(r) => Some(r),
            _ => None,
        }
    }

    /// The close notice, if this is one.
    #[must_use]
    pub fn as_closed(&self) -> Option<&RequestClosed> {
        match self {
            Output::Closed(c) => Some(c),
            _ => None,
        }
    }
}

/// What one call into the engine produced, in order.
pub type Outputs = Vec<Output>;
