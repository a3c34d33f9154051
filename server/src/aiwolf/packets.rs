//! The AIWolf NLP protocol's packets (`aiwolfdial/aiwolf-nlp-server`, `model/*.go`), as its
//! agents (the `aiwolf-nlp-common` library) parse them: field names, casing and which keys
//! appear for which request.

use serde::Serialize;
use std::collections::BTreeMap;

/// One packet to an agent.
#[derive(Debug, Clone, Serialize)]
pub struct Packet {
    /// `NAME`, `INITIALIZE`, `DAILY_INITIALIZE`, `TALK`, `WHISPER`, `DAILY_FINISH`, `VOTE`,
    /// `DIVINE`, `GUARD`, `ATTACK`, `FINISH`.
    pub request: &'static str,
    /// The game as the agent may see it (every request but `NAME`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info: Option<Info>,
    /// The rules (`INITIALIZE`, `DAILY_INITIALIZE`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setting: Option<Setting>,
    /// Public talks since the agent's last talk packet of the day (`TALK`, `DAILY_FINISH`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub talk_history: Option<Vec<Talk>>,
    /// Wolf whispers since the last such packet (`WHISPER`, `ATTACK`, a wolf's
    /// `DAILY_FINISH`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub whisper_history: Option<Vec<Talk>>,
}

impl Packet {
    /// `{"request":"NAME"}`.
    pub fn name() -> Packet {
        Packet {
            request: "NAME",
            info: None,
            setting: None,
            talk_history: None,
            whisper_history: None,
        }
    }
}

/// `info`.
#[derive(Debug, Clone, Serialize)]
pub struct Info {
    /// The game's id.
    pub game_id: String,
    /// The day (0-based).
    pub day: u32,
    /// The recipient's in-game name (`Agent[NN]`).
    pub agent: String,
    /// The medium's result about yesterday's execution.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub medium_result: Option<Judge>,
    /// The seer's last divination.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub divine_result: Option<Judge>,
    /// Who was executed yesterday.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub executed_agent: Option<String>,
    /// Who the werewolves killed last night.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attacked_agent: Option<String>,
    /// Yesterday's votes (public votes only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vote_list: Option<Vec<Vote>>,
    /// Last night's attack votes (werewolves only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attack_vote_list: Option<Vec<Vote>>,
    /// Talks left to this agent today (`TALK`, `WHISPER`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remain_count: Option<i64>,
    /// Skips left (`TALK`, `WHISPER`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remain_skip: Option<i64>,
    /// Every agent: `ALIVE` or `DEAD`.
    pub status_map: BTreeMap<String, &'static str>,
    /// What the recipient may know of roles: its own (werewolves: every werewolf; `FINISH`:
    /// everyone's).
    pub role_map: BTreeMap<String, &'static str>,
}

/// A divination or medium result.
#[derive(Debug, Clone, Serialize)]
pub struct Judge {
    /// The night or day it was made.
    pub day: u32,
    /// Who judged.
    pub agent: String,
    /// Who was judged.
    pub target: String,
    /// `HUMAN` or `WEREWOLF`.
    pub result: &'static str,
}

/// One vote.
#[derive(Debug, Clone, Serialize)]
pub struct Vote {
    /// The day.
    pub day: u32,
    /// The voter.
    pub agent: String,
    /// The target.
    pub target: String,
}

/// One talk or whisper.
#[derive(Debug, Clone, Serialize)]
pub struct Talk {
    /// Position in the day's list.
    pub idx: usize,
    /// The day.
    pub day: u32,
    /// The round within the day.
    pub turn: u32,
    /// The speaker's in-game name.
    pub agent: String,
    /// What was said (`Skip`, `Over` for a passed turn).
    pub text: String,
    /// A skipped turn.
    pub skip: bool,
    /// The speaker is done for the day.
    pub over: bool,
}

/// `setting`: the rules of the game.
#[derive(Debug, Clone, Serialize)]
pub struct Setting {
    /// Players.
    pub agent_count: usize,
    /// Whether votes are public.
    pub vote_visibility: bool,
    /// Talk limits.
    pub talk: TalkSetting,
    /// Whisper limits.
    pub whisper: TalkSetting,
    /// Day vote.
    pub vote: VoteSetting,
    /// The werewolves' vote.
    pub attack_vote: AttackVoteSetting,
    /// Timeouts in ms.
    pub timeout: TimeoutSetting,
    /// Role counts.
    pub role_num_map: BTreeMap<&'static str, usize>,
}

/// Talk or whisper limits.
#[derive(Debug, Clone, Serialize)]
pub struct TalkSetting {
    /// Turns.
    pub max_count: MaxCount,
    /// Length limits.
    pub max_length: MaxLength,
    /// Skips allowed in a row.
    pub max_skip: i64,
}

/// Turns per agent and rounds per day.
#[derive(Debug, Clone, Serialize)]
pub struct MaxCount {
    /// Per agent and day.
    pub per_agent: i64,
    /// Per day.
    pub per_day: i64,
}

/// Length limits.
#[derive(Debug, Clone, Serialize)]
pub struct MaxLength {
    /// Counted in words.
    pub count_in_word: bool,
    /// Spaces counted.
    pub count_spaces: bool,
    /// Characters per talk.
    pub per_talk: i64,
}

/// Day vote rules.
#[derive(Debug, Clone, Serialize)]
pub struct VoteSetting {
    /// Rounds.
    pub max_count: i64,
    /// Whether one may vote for oneself.
    pub allow_self_vote: bool,
}

/// Attack vote rules.
#[derive(Debug, Clone, Serialize)]
pub struct AttackVoteSetting {
    /// Rounds.
    pub max_count: i64,
    /// Whether a wolf may vote for itself.
    pub allow_self_vote: bool,
    /// Whether the attack may have no target.
    pub allow_no_target: bool,
}

/// Timeouts.
#[derive(Debug, Clone, Serialize)]
pub struct TimeoutSetting {
    /// Per action, ms.
    pub action: u64,
    /// For the liveness probe, ms.
    pub response: u64,
}

/// AIWolf's name of a role.
pub fn role_name(role: werewolf_schemas::Role) -> &'static str {
    use werewolf_schemas::Role;
    match role {
        Role::Werewolf => "WEREWOLF",
        Role::Possessed => "POSSESSED",
        Role::Seer => "SEER",
        Role::Doctor => "BODYGUARD",
        Role::Medium => "MEDIUM",
        // Roles AIWolf does not have are villagers to its agents.
        _ => "VILLAGER",
    }
}

/// `Agent[NN]` of a seat index.
pub fn agent_name(seat: usize) -> String {
    format!("Agent[{:02}]", seat + 1)
}
