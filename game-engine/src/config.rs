//! Game configuration: presets, role counts, timeouts, rule switches, and their validation.

use crate::{Role, SetupError};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
pub use werewolf_schemas::{
    AttackDecider, GameRules, TalkOrder, TiePolicy, Timeouts, VoteReveal, VoteTimeout,
};

/// The fewest players a game may have.
pub const MIN_PLAYERS: usize = 3;
/// The most players a game may have.
pub const MAX_PLAYERS: usize = 64;

/// A named, ready-made role setup.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    /// 5 players: 1 werewolf, 1 possessed, 1 seer, 2 villagers.
    Aiwolf5,
    /// 8 players: 2 werewolves, seer, doctor, 4 villagers.
    Arena8,
    /// 13 players: 3 werewolves, possessed, seer, doctor, medium, 6 villagers.
    Aiwolf13,
    /// 9 players: 2 werewolves, seer, witch, hunter, 4 villagers.
    Classic9,
}

impl Preset {
    /// Every preset.
    pub const ALL: [Preset; 4] = [
        Preset::Aiwolf5,
        Preset::Arena8,
        Preset::Aiwolf13,
        Preset::Classic9,
    ];

    /// The preset's name (`aiwolf5`, `arena8`, `aiwolf13`, `classic9`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Preset::Aiwolf5 => "aiwolf5",
            Preset::Arena8 => "arena8",
            Preset::Aiwolf13 => "aiwolf13",
            Preset::Classic9 => "classic9",
        }
    }

    /// The preset with this name (case-sensitive), or [`SetupError::UnknownPreset`].
    pub fn from_name(name: &str) -> Result<Self, SetupError> {
        Preset::ALL
            .into_iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| SetupError::UnknownPreset(name.to_owned()))
    }

    /// The role counts of the preset.
    #[must_use]
    pub fn counts(self) -> RoleCounts {
        let base = RoleCounts::default();
        match self {
            Preset::Aiwolf5 => RoleCounts {
                werewolf: 1,
                possessed: 1,
                seer: 1,
                villager: 2,
                ..base
            },
            Preset::Arena8 => RoleCounts {
                werewolf: 2,
                seer: 1,
                doctor: 1,
                villager: 4,
                ..base
            },
            Preset::Aiwolf13 => RoleCounts {
                werewolf: 3,
                possessed: 1,
                seer: 1,
                doctor: 1,
                medium: 1,
                villager: 6,
                ..base
            },
            Preset::Classic9 => RoleCounts {
                werewolf: 2,
                seer: 1,
                witch: 1,
                hunter: 1,
                villager: 4,
                ..base
            },
        }
    }

    /// The number of players the preset is for.
    #[must_use]
    pub fn player_count(self) -> usize {
        self.counts().total()
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Preset {
    type Err = SetupError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Preset::from_name(s)
    }
}

/// How many players get each role. The total is the number of players.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct RoleCounts {
    /// Number of [`Role::Werewolf`].
    pub werewolf: u8,
    /// Number of [`Role::Villager`].
    pub villager: u8,
    /// Number of [`Role::Seer`].
    pub seer: u8,
    /// Number of [`Role::Doctor`].
    pub doctor: u8,
    /// Number of [`Role::Witch`].
    pub witch: u8,
    /// Number of [`Role::Hunter`].
    pub hunter: u8,
    /// Number of [`Role::Possessed`].
    pub possessed: u8,
    /// Number of [`Role::Medium`].
    pub medium: u8,
}

impl RoleCounts {
    /// How many players get `role`.
    #[must_use]
    pub fn get(&self, role: Role) -> u8 {
        match role {
            Role::Werewolf => self.werewolf,
            Role::Villager => self.villager,
            Role::Seer => self.seer,
            Role::Doctor => self.doctor,
            Role::Witch => self.witch,
            Role::Hunter => self.hunter,
            Role::Possessed => self.possessed,
            Role::Medium => self.medium,
        }
    }

    /// A mutable reference to the count of `role`.
    pub fn get_mut(&mut self, role: Role) -> &mut u8 {
        match role {
            Role::Werewolf => &mut self.werewolf,
            Role::Villager => &mut self.villager,
            Role::Seer => &mut self.seer,
            Role::Doctor => &mut self.doctor,
            Role::Witch => &mut self.witch,
            Role::Hunter => &mut self.hunter,
            Role::Possessed => &mut self.possessed,
            Role::Medium => &mut self.medium,
        }
    }

    /// The total number of players.
    #[must_use]
    pub fn total(&self) -> usize {
        Role::ALL.iter().map(|&r| usize::from(self.get(r))).sum()
    }

    /// Counts the roles in `roles`.
    #[must_use]
    pub fn of(roles: &[Role]) -> Self {
        let mut counts = Self::default();
        for &r in roles {
            let c = counts.get_mut(r);
            *c = c.saturating_add(1);
        }
        counts
    }

    /// One entry per player, in [`Role::ALL`] order (the deck before shuffling).
    #[must_use]
    pub fn deck(&self) -> Vec<Role> {
        let mut deck = Vec::with_capacity(self.total());
        for role in Role::ALL {
            deck.extend(std::iter::repeat_n(role, usize::from(self.get(role))));
        }
        deck
    }

    /// Checks that these counts form a playable game for `player_count` players.
    pub fn validate(&self, player_count: usize) -> Result<(), SetupError> {
        if player_count < MIN_PLAYERS {
            return Err(SetupError::TooFewPlayers {
                got: player_count,
                min: MIN_PLAYERS,
            });
        }
        if player_count > MAX_PLAYERS {
            return Err(SetupError::TooManyPlayers {
                got: player_count,
                max: MAX_PLAYERS,
            });
        }
        let total = self.total();
        if total != player_count {
            return Err(SetupError::PlayerCountMismatch {
                expected: total,
                got: player_count,
            });
        }
        let werewolves = usize::from(self.werewolf);
        if werewolves == 0 {
            return Err(SetupError::NoWerewolf);
        }
        let others = total - werewolves;
        if werewolves >= others {
            return Err(SetupError::WerewolvesNotMinority { werewolves, others });
        }
        Ok(())
    }
}

/// Which roles are dealt: a preset, or explicit counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleSetup {
    /// A named preset.
    Preset(Preset),
    /// Custom counts; must pass [`RoleCounts::validate`].
    Counts(RoleCounts),
}

impl RoleSetup {
    /// The role counts this setup deals.
    #[must_use]
    pub fn counts(&self) -> RoleCounts {
        match self {
            RoleSetup::Preset(p) => p.counts(),
            RoleSetup::Counts(c) => *c,
        }
    }
}

/// What a stored config written before `vote_reveal` existed meant: ballots as cast.
fn reveal_before_the_switch() -> VoteReveal {
    VoteReveal::AsCast
}

/// Whether a stored config written before a `true`-by-default switch existed meant it.
fn yes() -> bool {
    true
}

/// Everything that parameterises one game. Missing fields deserialize to the hub's defaults
/// ([`GameConfig::hub_rules`]), so a config stored before a switch existed replays as it was
/// played.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GameConfig {
    /// Seed of the game's RNG (role deal, attack-vote ties, random tie breaks). Same config and
    /// same inputs → same game.
    pub seed: u64,
    /// Which roles are dealt (default `arena8`).
    pub roles: RoleSetup,
    /// Round-robin rounds of talk per day (default 2; 0 → straight to the vote).
    pub talk_rounds: u8,
    /// Maximum length of one talk or whisper, in chars (default 500; at least 1).
    pub max_talk_chars: usize,
    /// Whether each day vote is shown to everyone as it is cast (default true). When false the
    /// ballots go to spectators only (and each voter sees its own); the tally is public anyway.
    pub public_votes: bool,
    /// Timeout per request kind.
    pub timeouts_ms: Timeouts,
    /// Whether the doctor may protect the same player two nights running (default false).
    pub doctor_same_target_twice: bool,
    /// Whether the werewolves attack (and the doctor protects) on the first night (default
    /// true). AIWolf's rule is `false`: on the first night only the seer acts, nobody dies.
    pub first_night_attack: bool,
    /// What a tied day vote does (default: one revote, then no execution).
    pub tie_policy: TiePolicy,
    /// The game ends as a [`crate::Winner::Draw`] if no side has won by the end of this day
    /// (default 50; at least 1). Bounds every game's length.
    pub max_days: u32,
    /// Whether the game opens with a day-0 discussion (talk only, no vote) before the first
    /// night (default false: the game opens with night 1). AIWolf's day 0.
    pub opening_talk: bool,
    /// Who speaks first in each discussion round (default [`TalkOrder::Rotating`]).
    pub talk_order: TalkOrder,
    /// How many passes in a row a player may make in a discussion before a pass means it is
    /// done talking for the day (AIWolf's `max_skip`: with 0, every pass is AIWolf's `Over`).
    /// A spoken talk restores the allowance; a timed-out turn is a pass that costs nothing
    /// (AIWolf's `ForceSkip`). The discussion ends early once every living player is done.
    /// Default `None`: a pass only skips that turn.
    pub skip_limit: Option<u8>,
    /// Whether a day voter may vote for itself (default false; AIWolf allows it).
    pub self_vote: bool,
    /// Whether the doctor (AIWolf's bodyguard) may protect itself (default true; AIWolf
    /// forbids it).
    pub doctor_self_protect: bool,
    /// Whether an execution needs a strict majority of the living players' votes (Werewolf
    /// Arena's rule); otherwise (default) the plurality is executed. Without a majority nobody
    /// is executed and there is no revote.
    pub majority_execution: bool,
    /// What a day vote that times out counts as (default [`VoteTimeout::Abstain`]).
    pub vote_timeout: VoteTimeout,
    /// Whether a tied attack vote is voted again once among the tied targets (then the seeded
    /// RNG picks) instead of the RNG picking at once (default false: AIWolf's and the hub's
    /// rule).
    pub attack_revote: bool,
    /// Whether a talk or whisper longer than `max_talk_chars` is cut to that length (AIWolf
    /// trims) instead of refused with [`crate::ActionError::TextTooLong`] (default false).
    pub truncate_talk: bool,
    /// When ballots become visible (default [`VoteReveal::AfterCount`]; a stored config
    /// without the field means [`VoteReveal::AsCast`], as it was played).
    #[serde(default = "reveal_before_the_switch")]
    pub vote_reveal: VoteReveal,
    /// The most talks one player may say per day; once said, it gets no more turns that day
    /// (default `None`: no cap beyond the rounds).
    pub talks_per_agent: Option<u8>,
    /// The most discussion turns per day, all players together (spoken, skipped or timed
    /// out); the discussion ends after that many (default `None`). With
    /// [`TalkOrder::Bidding`] it is the number of turns and must be set.
    pub talks_per_day: Option<u16>,
    /// Rounds of `whisper` turns among the living werewolves (at least two) before each
    /// night's attack requests (default 0; AIWolf's `whisper.max_count.per_agent`).
    pub whisper_rounds: u8,
    /// Whether a day voter may abstain with `Vote(None)` (default true; Werewolf Arena
    /// requires a vote). A timed-out vote still follows `vote_timeout`.
    #[serde(default = "yes")]
    pub vote_abstain: bool,
    /// Who chooses the night's victim (default [`AttackDecider::PackVote`]).
    pub attack_decider: AttackDecider,
    /// Whether the seer may divine a player it has divined before (default true; Werewolf
    /// Arena forbids it).
    #[serde(default = "yes")]
    pub seer_repeat: bool,
    /// Whether the seer learns the target's exact role instead of werewolf / human (default
    /// false; Werewolf Arena's seer learns the role).
    pub seer_sees_role: bool,
}

impl Default for GameConfig {
    fn default() -> Self {
        Self::hub_rules(RoleSetup::Preset(Preset::Arena8))
    }
}

impl GameConfig {
    /// A config with the default rules for these roles (seed 0): AIWolf's rules for the
    /// `aiwolf5` / `aiwolf13` presets ([`GameConfig::aiwolf_rules`]), Werewolf Arena's for
    /// `arena8` ([`GameConfig::arena_rules`]), the hub's own ([`GameConfig::hub_rules`]) for
    /// `classic9` and custom counts.
    #[must_use]
    pub fn new(roles: RoleSetup) -> Self {
        match roles {
            RoleSetup::Preset(Preset::Aiwolf5 | Preset::Aiwolf13) => Self::aiwolf_rules(roles),
            RoleSetup::Preset(Preset::Arena8) => Self::arena_rules(roles),
            _ => Self::hub_rules(roles),
        }
    }

    /// These roles under the rules of Google's Werewolf Arena (`google/werewolf_arena`,
    /// `werewolf/game.py` and `config.py`; `docs/arena-rules-notes.md`): one living wolf drawn
    /// at random chooses the night's victim; the doctor may protect itself and the same player
    /// every night; the seer learns the exact role and never divines a player twice; the
    /// discussion is 8 turns a day, each given to the highest bidder (0–4, the last speaker
    /// does not bid, ties drawn at random); everyone votes at once, privately, for another
    /// player (no abstention); an exile needs a strict majority of the living, else nobody.
    /// Where the hub differs (the tally is public, the 8 synthetic votes per day are one
    /// vote, the draw after `max_days`) the crate's README says so.
    #[must_use]
    pub fn arena_rules(roles: RoleSetup) -> Self {
        Self {
            talk_order: TalkOrder::Bidding,
            talks_per_day: Some(8),
            public_votes: false,
            vote_abstain: false,
            majority_execution: true,
            tie_policy: TiePolicy::NoExecution,
            attack_decider: AttackDecider::RandomWolf,
            doctor_same_target_twice: true,
            seer_repeat: false,
            seer_sees_role: true,
            ..Self::hub_rules(roles)
        }
    }

    /// These roles under the rules of AIWolf's NLP server (`aiwolfdial/aiwolf-nlp-server`,
    /// `config/default_5.yml` / `default_13.yml` and `logic/*.go`): a day-0 talk, no attack
    /// on the first night, four talk turns per agent in an order shuffled each day, a pass
    /// ends the agent's talk for the day, one vote round with self-votes allowed and ties
    /// broken at random, a bodyguard that may not guard itself but may guard the same player
    /// every night. The table in the crate's README maps each of their rules.
    #[must_use]
    pub fn aiwolf_rules(roles: RoleSetup) -> Self {
        Self {
            talk_rounds: 4,
            first_night_attack: false,
            tie_policy: TiePolicy::Random,
            doctor_same_target_twice: true,
            opening_talk: true,
            talk_order: TalkOrder::Random,
            skip_limit: Some(0),
            self_vote: true,
            doctor_self_protect: false,
            ..Self::hub_rules(roles)
        }
    }

    /// These roles under the hub's own rules (seed 0): the defaults of every switch.
    #[must_use]
    pub fn hub_rules(roles: RoleSetup) -> Self {
        Self {
            seed: 0,
            roles,
            talk_rounds: 2,
            max_talk_chars: 500,
            public_votes: true,
            timeouts_ms: Timeouts::default(),
            doctor_same_target_twice: false,
            first_night_attack: true,
            tie_policy: TiePolicy::default(),
            max_days: 50,
            opening_talk: false,
            talk_order: TalkOrder::Rotating,
            skip_limit: None,
            self_vote: false,
            doctor_self_protect: true,
            majority_execution: false,
            vote_timeout: VoteTimeout::Abstain,
            truncate_talk: false,
            attack_revote: false,
            vote_reveal: VoteReveal::AfterCount,
            talks_per_agent: None,
            talks_per_day: None,
            whisper_rounds: 0,
            vote_abstain: true,
            attack_decider: AttackDecider::PackVote,
            seer_repeat: true,
            seer_sees_role: false,
        }
    }

    /// The default config of the preset named `name` (seed 0), or [`SetupError::UnknownPreset`].
    pub fn preset(name: &str) -> Result<Self, SetupError> {
        Ok(Self::new(RoleSetup::Preset(Preset::from_name(name)?)))
    }

    /// The default config for custom role counts (seed 0); validated when the game is created.
    #[must_use]
    pub fn with_counts(counts: RoleCounts) -> Self {
        Self::new(RoleSetup::Counts(counts))
    }

    /// This config with another seed.
    #[must_use]
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The number of players the role setup deals to.
    #[must_use]
    pub fn player_count(&self) -> usize {
        self.roles.counts().total()
    }

    /// Checks the whole config for a game of `player_count` players; returns the role counts.
    pub fn validate(&self, player_count: usize) -> Result<RoleCounts, SetupError> {
        let counts = self.roles.counts();
        counts.validate(player_count)?;
        if self.max_talk_chars == 0 {
            return Err(SetupError::ZeroTalkLength);
        }
        if self.max_days == 0 {
            return Err(SetupError::ZeroMaxDays);
        }
        if self.talks_per_agent == Some(0) {
            return Err(SetupError::ZeroTalkBudget("talks_per_agent"));
        }
        if self.talks_per_day == Some(0) {
            return Err(SetupError::ZeroTalkBudget("talks_per_day"));
        }
        if self.talk_order == TalkOrder::Bidding && self.talks_per_day.is_none() {
            return Err(SetupError::BiddingWithoutTurns);
        }
        if self.attack_revote && self.attack_decider == AttackDecider::RandomWolf {
            return Err(SetupError::RevoteWithoutPack);
        }
        Ok(counts)
    }

    /// The rules as `game_start` announces them: everything but the seed and the deal.
    #[must_use]
    pub fn rules(&self) -> GameRules {
        let counts = self.roles.counts();
        GameRules {
            roles: Role::ALL
                .iter()
                .filter(|&&r| counts.get(r) > 0)
                .map(|&r| (r, counts.get(r)))
                .collect(),
            talk_rounds: self.talk_rounds,
            talk_order: self.talk_order,
            opening_talk: self.opening_talk,
            skip_limit: self.skip_limit,
            talks_per_agent: self.talks_per_agent,
            talks_per_day: self.talks_per_day,
            max_message_chars: self.max_talk_chars,
            truncate_talk: self.truncate_talk,
            whisper_rounds: self.whisper_rounds,
            vote_reveal: self.vote_reveal,
            public_votes: self.public_votes,
            self_vote: self.self_vote,
            vote_abstain: self.vote_abstain,
            tie_policy: self.tie_policy,
            majority_execution: self.majority_execution,
            vote_timeout: self.vote_timeout,
            attack_decider: self.attack_decider,
            attack_revote: self.attack_revote,
            first_night_attack: self.first_night_attack,
            doctor_self_protect: self.doctor_self_protect,
            doctor_same_target_twice: self.doctor_same_target_twice,
            seer_repeat: self.seer_repeat,
            seer_sees_role: self.seer_sees_role,
            max_days: self.max_days,
            timeouts_ms: self.timeouts_ms,
        }
    }
}
