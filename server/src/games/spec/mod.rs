//! `POST /games` bodies: parsing and validation into an engine config.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;
use werewolf_engine::{GameConfig, Preset, RoleCounts, RoleSetup};

mod switches;
pub use switches::MAX_TALKS_PER_DAY;

/// Body of `POST /games`. Unknown fields are refused, so a typo is an error, not a default.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGame {
    /// `aiwolf5`, `arena8`, `aiwolf13` or `classic9`, each under its anchor's rules unless
    /// `rules` says otherwise. Absent (and no `roles`): arena8's table (2 werewolves, seer,
    /// doctor, 4 villagers) under the hub's own rules.
    pub preset: Option<String>,
    /// Custom role counts, e.g. `{"werewolf": 2, "seer": 1, "villager": 5}`; each 0 to
    /// [`werewolf_engine::MAX_PLAYERS`].
    pub roles: Option<BTreeMap<String, u64>>,
    /// RNG seed (random when absent); the same seed and inputs replay the same game.
    pub seed: Option<u64>,
    /// Seats, one per player: a name, or `{"name", "protocol": "hub" | "aiwolf"}` (an
    /// `aiwolf` seat is played by an AIWolf agent through `GET /ws?game_id=…` with the seat's
    /// token); absent → seats are claimed with `POST /games/{id}/join`.
    pub players: Option<Vec<PlayerEntry>>,
    /// Deadline of every request, in ms, 1 to [`MAX_TIMEOUT_MS`] (default: the engine's,
    /// 60 s talk / 30 s others).
    pub action_timeout_ms: Option<u64>,
    /// Deadlines per request kind, in ms, each 1 to [`MAX_TIMEOUT_MS`], e.g.
    /// `{"talk": 90000, "vote": 20000}`; applied after `action_timeout_ms`, so the kinds given
    /// override it (`talk`, `vote`, `attack`, `divine`, `protect`, `witch`, `shoot`,
    /// `whisper`, `bid`).
    pub timeouts_ms: Option<BTreeMap<String, u64>>,
    /// Talk rounds per day, 1 to [`MAX_TALK_ROUNDS`] (default 2).
    pub talk_rounds: Option<u64>,
    /// Maximum chars per talk or whisper, 1 to what fits in `WS_MAX_MESSAGE_BYTES`
    /// ([`crate::Config::max_message_chars`]; default 500).
    pub max_message_chars: Option<u64>,
    /// Longest private `reasoning` an answer may carry, in chars, 1 to what fits in
    /// `WS_MAX_MESSAGE_BYTES` (default [`DEFAULT_MAX_REASONING_CHARS`], or that ceiling when
    /// lower). Longer is refused, or cut to it with `truncate_talk`.
    pub max_reasoning_chars: Option<u64>,
    /// Delay of the full (observer-token) view, in ms, 0 to [`MAX_TIMEOUT_MS`] (default 0).
    pub observer_delay_ms: Option<u64>,
    /// Whether players see the ballots at all (default true; `arena8` false: only the
    /// outcome and tally). Spectators always do.
    pub public_votes: Option<bool>,
    /// When ballots become visible: `after_count` (default: hidden until everyone has voted,
    /// then published with `vote_result`; attack ballots to the pack with its choice),
    /// `as_cast` (each shown as it is cast) or `sequential` (day voters asked one at a time,
    /// each seeing the earlier ballots).
    pub vote_reveal: Option<String>,
    /// Whether a day voter may abstain with `target: null` (default true; `arena8` false).
    pub vote_abstain: Option<bool>,
    /// The rule set the switches below start from: `hub` (the hub's own rules), `aiwolf`
    /// (AIWolf's) or `arena` (Werewolf Arena's); default: the preset's (`aiwolf` for
    /// `aiwolf5` / `aiwolf13`, `arena` for `arena8`, `hub` otherwise). Each switch given
    /// overrides it.
    pub rules: Option<String>,
    /// Whether the werewolves attack (and the doctor protects) on the first night (default
    /// true; `aiwolf*` presets false: AIWolf's rule, only the seer acts on the first night).
    pub first_night_attack: Option<bool>,
    /// Whether a day-0 discussion (no vote) opens the game before the first night (default
    /// false; `aiwolf*` presets true: AIWolf's day 0).
    pub opening_talk: Option<bool>,
    /// `rotating` (seat order, first speaker moves on each day; default), `random`
    /// (shuffled each day by the game's seed; `aiwolf*` presets) or `bidding` (Werewolf
    /// Arena's: before each turn the living bid 0–4 for the floor; needs `talks_per_day`;
    /// `arena8`).
    pub talk_order: Option<String>,
    /// The most talks one player may say per day, 1 to 255, or -1 for no cap (default).
    pub talks_per_agent: Option<i64>,
    /// The most discussion turns per day, all players together, 1 to
    /// [`MAX_TALKS_PER_DAY`], or -1 for no cap (default; `arena8` 8, the number of turns
    /// with `bidding`).
    pub talks_per_day: Option<i64>,
    /// Rounds of `whisper` turns among the living werewolves (two or more) before each
    /// night's attack, 0 to [`MAX_TALK_ROUNDS`] (default 0).
    pub whisper_rounds: Option<u64>,
    /// Passes in a row a player may make before a pass ends its talk for the day, 0 to
    /// [`MAX_TALK_ROUNDS`], or -1 for no limit (default -1; `aiwolf*` presets 0: a pass is
    /// AIWolf's `Over`).
    pub skip_limit: Option<i64>,
    /// Whether a day voter may vote for itself (default false; `aiwolf*` presets true).
    pub self_vote: Option<bool>,
    /// Whether the doctor (bodyguard) may protect itself (default true; `aiwolf*` false).
    pub doctor_self_protect: Option<bool>,
    /// Whether the doctor may protect the same player two nights running (default false;
    /// `aiwolf*` presets true).
    pub doctor_same_target_twice: Option<bool>,
    /// A tied day vote: `revote_then_no_execution` (default), `revote_then_random`,
    /// `no_execution`, `random` (`aiwolf*` presets: AIWolf's one round, random pick),
    /// `full_revote_then_no_execution` or `full_revote_then_random` (every living player a
    /// candidate again).
    pub tie_policy: Option<String>,
    /// Whether a tied attack vote is voted again once among the tied (default false: the
    /// seeded RNG picks one at once).
    pub attack_revote: Option<bool>,
    /// Who chooses the night's victim: `pack_vote` (every living werewolf votes; default) or
    /// `random_wolf` (one living werewolf drawn each night chooses alone; `arena8`).
    pub attack_decider: Option<String>,
    /// Whether the seer may divine a player twice (default true; `arena8` false).
    pub seer_repeat: Option<bool>,
    /// Whether the seer learns the exact role instead of werewolf / human (default false;
    /// `arena8` true).
    pub seer_sees_role: Option<bool>,
    /// Whether a talk or whisper longer than `max_message_chars` (and a `reasoning` longer
    /// than `max_reasoning_chars`) is cut to it (default false: refused with an `error`).
    pub truncate_talk: Option<bool>,
    /// Whether an execution needs a strict majority of the living players (Werewolf Arena's
    /// rule; default false: the plurality is executed).
    pub majority_execution: Option<bool>,
    /// What a timed-out day vote counts as: `abstain` (default) or `random` (a random
    /// candidate).
    pub vote_timeout: Option<String>,
    /// The game is a draw if nobody has won by the end of this day, 1 to [`MAX_DAYS`]
    /// (default 50).
    pub max_days: Option<u64>,
    /// Start as soon as every seat's agent is connected (default true); otherwise only
    /// `POST /games/{id}/start` starts it.
    pub auto_start: Option<bool>,
    /// How many seats the hub's built-in bots play: the last `bots` seats (0 to the number
    /// of seats). The other seats are named and get their tokens in the answer.
    pub bots: Option<u64>,
    /// Which seats the built-in bots play, by seat number from 1 (instead of `bots`).
    pub bot_seats: Option<Vec<u64>>,
    /// How long a bot waits before answering, in ms, 0 to [`MAX_TIMEOUT_MS`] (default 0).
    pub bot_delay_ms: Option<u64>,
}

/// One seat of `POST /games` `players`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum PlayerEntry {
    /// The seat's name; the hub's own protocol.
    Name(String),
    /// The seat's name and the protocol its agent speaks.
    Seat {
        /// The seat's name.
        name: String,
        /// `hub` (default: the hub's protocol, `/ws/{player_id}`) or `aiwolf` (an AIWolf
        /// agent, `GET /ws?game_id=…`).
        protocol: Option<String>,
    },
}

impl PlayerEntry {
    /// The seat's name.
    fn name(&self) -> &str {
        match self {
            PlayerEntry::Name(n) | PlayerEntry::Seat { name: n, .. } => n,
        }
    }

    /// Whether the seat is for an AIWolf agent, or why the protocol is unknown.
    fn aiwolf(&self) -> Result<bool, String> {
        match self {
            PlayerEntry::Seat {
                protocol: Some(p), ..
            } => match p.as_str() {
                "hub" => Ok(false),
                "aiwolf" => Ok(true),
                other => Err(format!(
                    "players[].protocol must be `hub` or `aiwolf`, got `{other}`"
                )),
            },
            _ => Ok(false),
        }
    }
}

/// A validated game setup.
#[derive(Debug, Clone)]
pub struct GameSpec {
    /// The engine configuration (seed included).
    pub config: GameConfig,
    /// Number of seats.
    pub player_count: usize,
    /// Seat names when given up front.
    pub names: Option<Vec<String>>,
    /// Delay of the full view.
    pub observer_delay: Duration,
    /// Whether the game starts by itself once every seat is connected.
    pub auto_start: bool,
    /// `bots[seat]`: whether the hub's built-in bot plays the seat (length `player_count`).
    pub bots: Vec<bool>,
    /// How long a bot waits before answering.
    pub bot_delay: Duration,
    /// `aiwolf[seat]`: whether an AIWolf agent plays the seat through `GET /ws` (length
    /// `player_count`; never a bot seat).
    pub aiwolf: Vec<bool>,
    /// Longest private `reasoning` an answer may carry, in chars.
    pub max_reasoning_chars: usize,
}

impl GameSpec {
    /// The setup as stored in the log (and returned by `POST /games`): the engine config
    /// (seed included) and the hub's settings of the game.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "config": self.config,
            "player_count": self.player_count,
            "names": self.names,
            "observer_delay_ms": self.observer_delay.as_millis() as u64,
            "auto_start": self.auto_start,
            "bot_seats": self.bot_seats(),
            "bot_delay_ms": self.bot_delay.as_millis() as u64,
            "aiwolf_seats": self.aiwolf_seats(),
            "max_reasoning_chars": self.max_reasoning_chars,
        })
    }

    /// AIWolf seats by number from 1.
    pub fn aiwolf_seats(&self) -> Vec<usize> {
        (0..self.player_count)
            .filter(|&i| self.is_aiwolf(i))
            .map(|i| i + 1)
            .collect()
    }

    /// Whether an AIWolf agent plays seat index `seat`.
    pub fn is_aiwolf(&self, seat: usize) -> bool {
        self.aiwolf.get(seat).copied().unwrap_or(false)
    }

    /// Bot seats by number from 1.
    pub fn bot_seats(&self) -> Vec<usize> {
        (0..self.player_count)
            .filter(|&i| self.is_bot(i))
            .map(|i| i + 1)
            .collect()
    }

    /// Whether the built-in bot plays seat index `seat`.
    pub fn is_bot(&self, seat: usize) -> bool {
        self.bots.get(seat).copied().unwrap_or(false)
    }

    /// Reads what [`Self::to_json`] wrote.
    pub fn from_json(value: &serde_json::Value) -> Result<GameSpec, String> {
        #[derive(Deserialize)]
        struct Stored {
            config: GameConfig,
            player_count: usize,
            names: Option<Vec<String>>,
            observer_delay_ms: u64,
            auto_start: bool,
            #[serde(default)]
            bot_seats: Vec<usize>,
            #[serde(default)]
            bot_delay_ms: u64,
            #[serde(default)]
            aiwolf_seats: Vec<usize>,
            /// Games stored before the setting existed had the default.
            #[serde(default = "default_max_reasoning_chars")]
            max_reasoning_chars: usize,
        }
        let s: Stored = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
        let flags = |numbers: &[usize]| {
            let mut flags = vec![false; s.player_count];
            for n in numbers {
                if let Some(b) = n.checked_sub(1).and_then(|i| flags.get_mut(i)) {
                    *b = true;
                }
            }
            flags
        };
        let bots = flags(&s.bot_seats);
        let aiwolf = flags(&s.aiwolf_seats);
        Ok(GameSpec {
            config: s.config,
            player_count: s.player_count,
            names: s.names,
            observer_delay: Duration::from_millis(s.observer_delay_ms),
            auto_start: s.auto_start,
            bots,
            bot_delay: Duration::from_millis(s.bot_delay_ms),
            aiwolf,
            max_reasoning_chars: s.max_reasoning_chars,
        })
    }

    /// The engine config without its seed: public while the game runs (the seed deals the
    /// roles, so it is revealed only when the game is over).
    pub fn public_config(&self) -> serde_json::Value {
        let mut config = serde_json::to_value(&self.config).unwrap_or_default();
        if let Some(map) = config.as_object_mut() {
            map.remove("seed");
        }
        config
    }
}

/// `max_reasoning_chars` when `POST /games` does not set it.
pub const DEFAULT_MAX_REASONING_CHARS: usize = 4000;

fn default_max_reasoning_chars() -> usize {
    DEFAULT_MAX_REASONING_CHARS
}

/// Longest seat name, in chars.
pub const MAX_NAME_CHARS: usize = 64;
/// Longest accepted request timeout and observer delay (one day), in ms.
pub const MAX_TIMEOUT_MS: u64 = 86_400_000;
/// Most talk rounds per day.
pub const MAX_TALK_ROUNDS: u64 = 10;
/// Highest day limit.
pub const MAX_DAYS: u64 = 1000;

/// `Ok(value)` if `lo <= value <= hi`, else the 400 reason naming the field.
fn in_range(field: &str, value: u64, lo: u64, hi: u64) -> Result<u64, String> {
    if (lo..=hi).contains(&value) {
        Ok(value)
    } else {
        Err(format!("{field} must be {lo}..={hi}, got {value}"))
    }
}

impl CreateGame {
    /// Validates and builds the spec; the error is the reason for a 400.
    /// `max_message_chars` is the hub's ceiling for the field of that name.
    pub fn into_spec(self, max_message_chars: usize) -> Result<GameSpec, String> {
        let roles = match (self.preset.as_deref(), self.roles.as_ref()) {
            (Some(_), Some(_)) => return Err("give either `preset` or `roles`, not both".into()),
            (Some(name), None) => RoleSetup::Preset(
                name.parse()
                    .map_err(|e: werewolf_engine::SetupError| e.to_string())?,
            ),
            (None, Some(map)) => RoleSetup::Counts(parse_roles(map)?),
            // No preset named: arena8's table under the hub's own rules (`preset: arena8`
            // means Werewolf Arena's rules).
            (None, None) => RoleSetup::Counts(Preset::Arena8.counts()),
        };
        let base = switches::base(self.rules.as_deref(), roles)?;
        let mut config = base.with_seed(self.seed.unwrap_or_else(super::secret::seed));
        self.apply_switches(&mut config, max_message_chars)?;
        let max_reasoning_chars = match self.max_reasoning_chars {
            Some(c) => in_range("max_reasoning_chars", c, 1, max_message_chars as u64)? as usize,
            None => DEFAULT_MAX_REASONING_CHARS.min(max_message_chars),
        };
        let observer_delay_ms = match self.observer_delay_ms {
            Some(ms) => in_range("observer_delay_ms", ms, 0, MAX_TIMEOUT_MS)?,
            None => 0,
        };
        let player_count = config.player_count();
        config.validate(player_count).map_err(|e| e.to_string())?;
        let mut aiwolf = vec![false; player_count];
        if let Some(entries) = &self.players {
            if entries.len() != player_count {
                return Err(format!(
                    "players lists {} names but the roles seat {player_count}",
                    entries.len()
                ));
            }
            let mut seen = std::collections::HashSet::new();
            for (i, entry) in entries.iter().enumerate() {
                let n = entry.name();
                validate_name(n)?;
                if !seen.insert(n) {
                    return Err(format!("duplicate player name `{n}`"));
                }
                aiwolf[i] = entry.aiwolf()?;
            }
        }
        let bots = bot_seats(self.bots, self.bot_seats, player_count)?;
        if let Some(i) = (0..player_count).find(|&i| bots[i] && aiwolf[i]) {
            return Err(format!(
                "seat {} is both a bot seat and an AIWolf seat",
                i + 1
            ));
        }
        let bot_delay_ms = match self.bot_delay_ms {
            Some(ms) => in_range("bot_delay_ms", ms, 0, MAX_TIMEOUT_MS)?,
            None => 0,
        };
        // With bots, every seat is named now: the free seats' tokens are in the answer.
        let names = match self.players {
            Some(entries) => Some(entries.iter().map(|e| e.name().to_owned()).collect()),
            None if bots.contains(&true) => Some(
                bots.iter()
                    .enumerate()
                    .map(|(i, &bot)| {
                        if bot {
                            format!("Bot {}", i + 1)
                        } else {
                            format!("Player {}", i + 1)
                        }
                    })
                    .collect(),
            ),
            None => None,
        };
        Ok(GameSpec {
            config,
            player_count,
            names,
            observer_delay: Duration::from_millis(observer_delay_ms),
            auto_start: self.auto_start.unwrap_or(true),
            bots,
            bot_delay: Duration::from_millis(bot_delay_ms),
            aiwolf,
            max_reasoning_chars,
        })
    }
}

/// Which seats the built-in bots play, from `bots` (the last n seats) or `bot_seats`
/// (numbers from 1).
fn bot_seats(
    count: Option<u64>,
    seats: Option<Vec<u64>>,
    player_count: usize,
) -> Result<Vec<bool>, String> {
    let mut bots = vec![false; player_count];
    match (count, seats) {
        (Some(_), Some(_)) => return Err("give either `bots` or `bot_seats`, not both".into()),
        (Some(n), None) => {
            let n = in_range("bots", n, 0, player_count as u64)? as usize;
            for b in &mut bots[player_count - n..] {
                *b = true;
            }
        }
        (None, Some(numbers)) => {
            for n in numbers {
                let i = in_range("bot_seats[]", n, 1, player_count as u64)? as usize - 1;
                if std::mem::replace(&mut bots[i], true) {
                    return Err(format!("bot_seats lists seat {n} twice"));
                }
            }
        }
        (None, None) => {}
    }
    Ok(bots)
}

/// A seat name: 1–64 chars, no control characters.
pub fn validate_name(name: &str) -> Result<(), String> {
    let chars = name.chars().count();
    if name.trim().is_empty() || chars > MAX_NAME_CHARS {
        return Err(format!(
            "a player name must be 1 to {MAX_NAME_CHARS} visible chars"
        ));
    }
    if name.chars().any(char::is_control) {
        return Err("a player name must not contain control characters".into());
    }
    Ok(())
}

fn parse_roles(map: &BTreeMap<String, u64>) -> Result<RoleCounts, String> {
    let mut counts = RoleCounts::default();
    for (name, &n) in map {
        let field = format!("roles.{name}");
        let n = in_range(&field, n, 0, werewolf_engine::MAX_PLAYERS as u64)? as u8;
        let slot = match name.as_str() {
            "werewolf" => &mut counts.werewolf,
            "villager" => &mut counts.villager,
            "seer" => &mut counts.seer,
            "doctor" | "bodyguard" => &mut counts.doctor,
            "witch" => &mut counts.witch,
            "hunter" => &mut counts.hunter,
            "possessed" => &mut counts.possessed,
            "medium" => &mut counts.medium,
            other => {
                return Err(format!(
                    "unknown role `{other}`; roles: werewolf, villager, seer, doctor, witch, hunter, possessed, medium"
                ));
            }
        };
        *slot = slot.saturating_add(n);
    }
    Ok(counts)
}

#[cfg(test)]
mod tests;
