//! `POST /games` bodies: parsing and validation into an engine config.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;
use werewolf_engine::{
    GameConfig, RoleCounts, RoleSetup, TalkOrder, TiePolicy, Timeouts, VoteTimeout,
};

/// Body of `POST /games`. Unknown fields are refused, so a typo is an error, not a default.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGame {
    /// `aiwolf5`, `arena8`, `aiwolf13` or `classic9` (default `arena8` unless `roles` is given).
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
    /// override it (`talk`, `vote`, `attack`, `divine`, `protect`, `witch`, `shoot`).
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
    /// Whether day votes are shown as they are cast (default true).
    pub public_votes: Option<bool>,
    /// The rule set the switches below start from: `hub` (the hub's own rules) or `aiwolf`
    /// (AIWolf's); default: the preset's (`aiwolf` for `aiwolf5` / `aiwolf13`, `hub`
    /// otherwise). Each switch given overrides it.
    pub rules: Option<String>,
    /// Whether the werewolves attack (and the doctor protects) on the first night (default
    /// true; `aiwolf*` presets false: AIWolf's rule, only the seer acts on the first night).
    pub first_night_attack: Option<bool>,
    /// Whether a day-0 discussion (no vote) opens the game before the first night (default
    /// false; `aiwolf*` presets true: AIWolf's day 0).
    pub opening_talk: Option<bool>,
    /// `rotating` (seat order, first speaker moves on each day; default) or `random`
    /// (shuffled each day by the game's seed; `aiwolf*` presets).
    pub talk_order: Option<String>,
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
        let roles = match (self.preset, self.roles) {
            (Some(_), Some(_)) => return Err("give either `preset` or `roles`, not both".into()),
            (Some(name), None) => RoleSetup::Preset(
                name.parse()
                    .map_err(|e: werewolf_engine::SetupError| e.to_string())?,
            ),
            (None, Some(map)) => RoleSetup::Counts(parse_roles(&map)?),
            (None, None) => GameConfig::default().roles,
        };
        let base = match self.rules.as_deref() {
            None => GameConfig::new(roles),
            Some("hub") => GameConfig::hub_rules(roles),
            Some("aiwolf") => GameConfig::aiwolf_rules(roles),
            Some(other) => return Err(format!("rules must be `hub` or `aiwolf`, got `{other}`")),
        };
        let mut config = base.with_seed(self.seed.unwrap_or_else(super::secret::seed));
        if let Some(ms) = self.action_timeout_ms {
            config.timeouts_ms =
                Timeouts::all(in_range("action_timeout_ms", ms, 1, MAX_TIMEOUT_MS)?);
        }
        for (kind, &ms) in self.timeouts_ms.iter().flatten() {
            let field = format!("timeouts_ms.{kind}");
            let ms = in_range(&field, ms, 1, MAX_TIMEOUT_MS)?;
            let t = &mut config.timeouts_ms;
            let slot = match kind.as_str() {
                "talk" => &mut t.talk,
                "vote" => &mut t.vote,
                "attack" => &mut t.attack,
                "divine" => &mut t.divine,
                "protect" => &mut t.protect,
                "witch" => &mut t.witch,
                "shoot" => &mut t.shoot,
                other => {
                    return Err(format!(
                        "timeouts_ms has no kind `{other}` (talk, vote, attack, divine, protect, \
                         witch, shoot)"
                    ));
                }
            };
            *slot = ms;
        }
        if let Some(r) = self.talk_rounds {
            config.talk_rounds = in_range("talk_rounds", r, 1, MAX_TALK_ROUNDS)? as u8;
        }
        if let Some(c) = self.max_message_chars {
            let hi = max_message_chars as u64;
            config.max_talk_chars = in_range("max_message_chars", c, 1, hi)? as usize;
        }
        let max_reasoning_chars = match self.max_reasoning_chars {
            Some(c) => in_range("max_reasoning_chars", c, 1, max_message_chars as u64)? as usize,
            None => DEFAULT_MAX_REASONING_CHARS.min(max_message_chars),
        };
        let observer_delay_ms = match self.observer_delay_ms {
            Some(ms) => in_range("observer_delay_ms", ms, 0, MAX_TIMEOUT_MS)?,
            None => 0,
        };
        if let Some(v) = self.public_votes {
            config.public_votes = v;
        }
        if let Some(v) = self.first_night_attack {
            config.first_night_attack = v;
        }
        if let Some(v) = self.opening_talk {
            config.opening_talk = v;
        }
        if let Some(order) = self.talk_order {
            config.talk_order = match order.as_str() {
                "rotating" => TalkOrder::Rotating,
                "random" => TalkOrder::Random,
                other => {
                    return Err(format!(
                        "talk_order must be `rotating` or `random`, got `{other}`"
                    ));
                }
            };
        }
        if let Some(n) = self.skip_limit {
            config.skip_limit = match u64::try_from(n) {
                Ok(n) => Some(in_range("skip_limit", n, 0, MAX_TALK_ROUNDS)? as u8),
                Err(_) if n == -1 => None,
                Err(_) => {
                    return Err(format!(
                        "skip_limit must be -1 (no limit) or 0..={MAX_TALK_ROUNDS}, got {n}"
                    ));
                }
            };
        }
        if let Some(v) = self.self_vote {
            config.self_vote = v;
        }
        if let Some(v) = self.doctor_self_protect {
            config.doctor_self_protect = v;
        }
        if let Some(v) = self.doctor_same_target_twice {
            config.doctor_same_target_twice = v;
        }
        if let Some(policy) = self.tie_policy {
            config.tie_policy = match policy.as_str() {
                "revote_then_no_execution" => TiePolicy::RevoteThenNoExecution,
                "revote_then_random" => TiePolicy::RevoteThenRandom,
                "no_execution" => TiePolicy::NoExecution,
                "random" => TiePolicy::Random,
                "full_revote_then_no_execution" => TiePolicy::FullRevoteThenNoExecution,
                "full_revote_then_random" => TiePolicy::FullRevoteThenRandom,
                other => {
                    return Err(format!(
                        "tie_policy must be `revote_then_no_execution`, `revote_then_random`, \
                         `no_execution`, `random`, `full_revote_then_no_execution` or \
                         `full_revote_then_random`, got `{other}`"
                    ));
                }
            };
        }
        if let Some(v) = self.attack_revote {
            config.attack_revote = v;
        }
        if let Some(v) = self.truncate_talk {
            config.truncate_talk = v;
        }
        if let Some(v) = self.majority_execution {
            config.majority_execution = v;
        }
        if let Some(v) = self.vote_timeout {
            config.vote_timeout = match v.as_str() {
                "abstain" => VoteTimeout::Abstain,
                "random" => VoteTimeout::Random,
                other => {
                    return Err(format!(
                        "vote_timeout must be `abstain` or `random`, got `{other}`"
                    ));
                }
            };
        }
        if let Some(d) = self.max_days {
            config.max_days = in_range("max_days", d, 1, MAX_DAYS)? as u32;
        }
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
mod tests {
    use super::*;

    fn spec(json: &str) -> Result<GameSpec, String> {
        serde_json::from_str::<CreateGame>(json)
            .map_err(|e| e.to_string())?
            .into_spec(16_128)
    }

    #[test]
    fn the_rule_switches_reach_the_engine_and_the_aiwolf_presets_default_to_aiwolf() {
        let aiwolf = spec(r#"{"preset":"aiwolf5"}"#).expect("aiwolf5").config;
        assert!(aiwolf.opening_talk && aiwolf.self_vote && !aiwolf.doctor_self_protect);
        assert_eq!(
            (aiwolf.skip_limit, aiwolf.talk_order, aiwolf.tie_policy),
            (Some(0), TalkOrder::Random, TiePolicy::Random)
        );
        let hubs = spec(
            r#"{"preset":"aiwolf5","opening_talk":false,"talk_order":"rotating","skip_limit":-1,
                "self_vote":false,"doctor_self_protect":true,"doctor_same_target_twice":false,
                "tie_policy":"revote_then_no_execution","first_night_attack":true,
                "talk_rounds":2,"max_days":7}"#,
        )
        .expect("the hub's rules on aiwolf5's roles")
        .config;
        let mut expected = GameConfig::hub_rules(hubs.roles).with_seed(hubs.seed);
        expected.max_days = 7;
        assert_eq!(hubs, expected);
        let two = spec(r#"{"preset":"arena8","skip_limit":2}"#)
            .expect("2")
            .config;
        assert_eq!(two.skip_limit, Some(2));
    }

    #[test]
    fn aiwolf_seats_are_flagged_and_stored() {
        let s = spec(
            r#"{"preset":"aiwolf5","players":[{"name":"kanolab1","protocol":"aiwolf"},"b",
                {"name":"c","protocol":"hub"},{"name":"kanolab2","protocol":"aiwolf"},"e"],
                "bot_seats":[5]}"#,
        )
        .expect("mixed seats");
        assert_eq!(s.aiwolf_seats(), vec![1, 4]);
        assert_eq!(s.names.as_deref().map(|n| n[0].as_str()), Some("kanolab1"));
        let back = GameSpec::from_json(&s.to_json()).expect("stored");
        assert_eq!(back.aiwolf, s.aiwolf);
    }

    #[test]
    fn presets_roles_and_errors() {
        assert_eq!(
            spec(r#"{"preset":"arena8"}"#).expect("arena8").player_count,
            8
        );
        assert_eq!(
            spec(r#"{"preset":"aiwolf13"}"#)
                .expect("aiwolf13")
                .player_count,
            13
        );
        assert_eq!(spec("{}").expect("default").player_count, 8);
        let custom =
            spec(r#"{"roles":{"werewolf":1,"seer":1,"villager":3},"seed":7}"#).expect("custom");
        assert_eq!((custom.player_count, custom.config.seed), (5, 7));
        for (body, needle) in [
            (r#"{"preset":"chess"}"#, "chess"),
            (r#"{"roles":{"vampire":1}}"#, "vampire"),
            (r#"{"roles":{"villager":5}}"#, "werewolf"),
            (r#"{"preset":"arena8","players":["a","b"]}"#, "seat 8"),
            (
                r#"{"preset":"aiwolf5","players":["a","a","b","c","d"]}"#,
                "duplicate",
            ),
            (
                r#"{"preset":"arena8","action_timeout_ms":0}"#,
                "action_timeout_ms",
            ),
            (r#"{"preset":"arena8","colour":"red"}"#, "colour"),
            (r#"{"preset":"arena8","talk_order":"loud"}"#, "talk_order"),
            (r#"{"preset":"arena8","rules":"mafia"}"#, "rules"),
            (
                r#"{"preset":"arena8","vote_timeout":"coin"}"#,
                "vote_timeout",
            ),
            (r#"{"preset":"arena8","timeouts_ms":{"sleep":5}}"#, "sleep"),
            (
                r#"{"preset":"arena8","timeouts_ms":{"vote":0}}"#,
                "timeouts_ms.vote",
            ),
            (
                r#"{"preset":"aiwolf5","players":["a","b","c","d",{"name":"e","protocol":"x"}]}"#,
                "protocol",
            ),
            (
                r#"{"preset":"aiwolf5","players":["a","b","c","d",{"name":"e","protocol":"aiwolf"}],"bots":1}"#,
                "both",
            ),
            (r#"{"preset":"arena8","skip_limit":-2}"#, "skip_limit"),
            (r#"{"preset":"arena8","skip_limit":11}"#, "skip_limit"),
            (r#"{"preset":"arena8","tie_policy":"coin"}"#, "tie_policy"),
            (r#"{"preset":"arena8","max_days":0}"#, "max_days"),
            (
                r#"{"preset":"arena8","observer_delay_ms":999999999999}"#,
                "observer_delay_ms",
            ),
            (
                r#"{"preset":"arena8","max_message_chars":100000000}"#,
                "max_message_chars",
            ),
            (r#"{"preset":"arena8","talk_rounds":0}"#, "talk_rounds"),
            (
                r#"{"preset":"arena8","max_reasoning_chars":0}"#,
                "max_reasoning_chars",
            ),
            (
                r#"{"preset":"arena8","max_reasoning_chars":100000000}"#,
                "max_reasoning_chars",
            ),
            (r#"{"preset":"arena8","bots":9}"#, "bots must be 0..=8"),
            (r#"{"preset":"arena8","bot_seats":[0]}"#, "bot_seats[]"),
            (r#"{"preset":"arena8","bot_seats":[2,2]}"#, "twice"),
            (
                r#"{"preset":"arena8","bots":1,"bot_seats":[1]}"#,
                "not both",
            ),
            (
                r#"{"preset":"arena8","bot_delay_ms":999999999999}"#,
                "bot_delay_ms",
            ),
            (
                r#"{"roles":{"werewolf":200,"villager":3}}"#,
                "roles.werewolf",
            ),
        ] {
            let err = spec(body).expect_err(body);
            assert!(err.to_lowercase().contains(needle), "{body}: {err}");
        }
    }

    #[test]
    fn max_reasoning_chars_defaults_is_stored_and_fits_the_frame_limit() {
        let plain = spec(r#"{"preset":"arena8"}"#).expect("default");
        assert_eq!(plain.max_reasoning_chars, DEFAULT_MAX_REASONING_CHARS);
        let set = spec(r#"{"preset":"arena8","max_reasoning_chars":12}"#).expect("set");
        let back = GameSpec::from_json(&set.to_json()).expect("stored");
        assert_eq!(back.max_reasoning_chars, 12);
        // A game stored before the setting existed reads back with the default.
        let mut old = plain.to_json();
        old.as_object_mut()
            .expect("object")
            .remove("max_reasoning_chars");
        let old = GameSpec::from_json(&old).expect("old record");
        assert_eq!(old.max_reasoning_chars, DEFAULT_MAX_REASONING_CHARS);
        // A hub with a small frame limit lowers the default to what fits.
        let small = serde_json::from_str::<CreateGame>(r#"{"preset":"arena8"}"#)
            .expect("body")
            .into_spec(1000)
            .expect("small hub");
        assert_eq!(small.max_reasoning_chars, 1000);
    }

    #[test]
    fn bots_take_the_last_seats_or_the_listed_ones() {
        let s = spec(r#"{"preset":"arena8","bots":7}"#).expect("bots");
        assert_eq!(s.bot_seats(), vec![2, 3, 4, 5, 6, 7, 8]);
        let names = s.names.clone().expect("named");
        assert_eq!(
            (names[0].as_str(), names[7].as_str()),
            ("Player 1", "Bot 8")
        );
        let s = spec(r#"{"preset":"aiwolf5","bot_seats":[1,3],"bot_delay_ms":20}"#).expect("seats");
        assert_eq!(s.bot_seats(), vec![1, 3]);
        let back = GameSpec::from_json(&s.to_json()).expect("round trip");
        assert_eq!((back.bots, back.bot_delay), (s.bots, s.bot_delay));
        let plain = spec(r#"{"preset":"aiwolf5"}"#).expect("no bots");
        assert!(plain.names.is_none() && plain.bot_seats().is_empty());
    }
}
