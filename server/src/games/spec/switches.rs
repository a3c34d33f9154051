//! The rule switches of `POST /games`: each field given overrides the rule set it starts from
//! (`rules`, else the preset's), each checked with a 400 reason that names the field.

use super::{CreateGame, MAX_DAYS, MAX_TALK_ROUNDS, MAX_TIMEOUT_MS, in_range};
use serde::de::DeserializeOwned;
use werewolf_engine::{ActionKind, GameConfig, RoleSetup, Timeouts};

/// Most turns a day (`talks_per_day`).
pub const MAX_TALKS_PER_DAY: u64 = 1000;

/// The rule set `rules` names (`hub`, `aiwolf`, `arena`), or the preset's own when absent.
pub(super) fn base(rules: Option<&str>, roles: RoleSetup) -> Result<GameConfig, String> {
    Ok(match rules {
        None => GameConfig::new(roles),
        Some("hub") => GameConfig::hub_rules(roles),
        Some("aiwolf") => GameConfig::aiwolf_rules(roles),
        Some("arena") => GameConfig::arena_rules(roles),
        Some(other) => {
            return Err(format!(
                "rules must be `hub`, `aiwolf` or `arena`, got `{other}`"
            ));
        }
    })
}

/// `value` as one of the snake_case names of `T`, or the 400 reason naming `field` and the
/// accepted values.
fn choice<T: DeserializeOwned>(field: &str, value: &str, accepted: &[&str]) -> Result<T, String> {
    serde_json::from_value(serde_json::Value::String(value.to_owned())).map_err(|_| {
        let list: Vec<String> = accepted.iter().map(|a| format!("`{a}`")).collect();
        format!("{field} must be one of {}, got `{value}`", list.join(", "))
    })
}

/// `-1` → `None` (no limit), `0..=hi` → that value, else the reason.
fn limit(field: &str, n: i64, lo: u64, hi: u64) -> Result<Option<u64>, String> {
    match u64::try_from(n) {
        Ok(n) => in_range(field, n, lo, hi).map(Some),
        Err(_) if n == -1 => Ok(None),
        Err(_) => Err(format!(
            "{field} must be -1 (no limit) or {lo}..={hi}, got {n}"
        )),
    }
}

impl CreateGame {
    /// Applies every switch given to `config`. `max_message_chars` is the hub's ceiling.
    pub(super) fn apply_switches(
        &self,
        config: &mut GameConfig,
        max_message_chars: usize,
    ) -> Result<(), String> {
        if let Some(ms) = self.action_timeout_ms {
            config.timeouts_ms =
                Timeouts::all(in_range("action_timeout_ms", ms, 1, MAX_TIMEOUT_MS)?);
        }
        for (kind, &ms) in self.timeouts_ms.iter().flatten() {
            let field = format!("timeouts_ms.{kind}");
            let ms = in_range(&field, ms, 1, MAX_TIMEOUT_MS)?;
            let names: Vec<&str> = ActionKind::ALL.iter().map(|k| k.name()).collect();
            let kind: ActionKind = choice("timeouts_ms keys", kind, &names)?;
            *config.timeouts_ms.get_mut(kind) = ms;
        }
        if let Some(r) = self.talk_rounds {
            config.talk_rounds = in_range("talk_rounds", r, 1, MAX_TALK_ROUNDS)? as u8;
        }
        if let Some(c) = self.max_message_chars {
            let hi = max_message_chars as u64;
            config.max_talk_chars = in_range("max_message_chars", c, 1, hi)? as usize;
        }
        let flags = [
            (self.public_votes, &mut config.public_votes),
            (self.first_night_attack, &mut config.first_night_attack),
            (self.opening_talk, &mut config.opening_talk),
            (self.self_vote, &mut config.self_vote),
            (self.doctor_self_protect, &mut config.doctor_self_protect),
            (
                self.doctor_same_target_twice,
                &mut config.doctor_same_target_twice,
            ),
            (self.attack_revote, &mut config.attack_revote),
            (self.truncate_talk, &mut config.truncate_talk),
            (self.majority_execution, &mut config.majority_execution),
            (self.vote_abstain, &mut config.vote_abstain),
            (self.seer_repeat, &mut config.seer_repeat),
            (self.seer_sees_role, &mut config.seer_sees_role),
        ];
        for (given, slot) in flags {
            if let Some(v) = given {
                *slot = v;
            }
        }
        if let Some(order) = &self.talk_order {
            config.talk_order = choice("talk_order", order, &["rotating", "random", "bidding"])?;
        }
        if let Some(n) = self.skip_limit {
            config.skip_limit = limit("skip_limit", n, 0, MAX_TALK_ROUNDS)?.map(|n| n as u8);
        }
        if let Some(n) = self.talks_per_agent {
            config.talks_per_agent =
                limit("talks_per_agent", n, 1, u64::from(u8::MAX))?.map(|n| n as u8);
        }
        if let Some(n) = self.talks_per_day {
            config.talks_per_day =
                limit("talks_per_day", n, 1, MAX_TALKS_PER_DAY)?.map(|n| n as u16);
        }
        if let Some(n) = self.whisper_rounds {
            config.whisper_rounds = in_range("whisper_rounds", n, 0, MAX_TALK_ROUNDS)? as u8;
        }
        if let Some(policy) = &self.tie_policy {
            config.tie_policy = choice(
                "tie_policy",
                policy,
                &[
                    "revote_then_no_execution",
                    "revote_then_random",
                    "no_execution",
                    "random",
                    "full_revote_then_no_execution",
                    "full_revote_then_random",
                ],
            )?;
        }
        if let Some(v) = &self.vote_timeout {
            config.vote_timeout = choice("vote_timeout", v, &["abstain", "random"])?;
        }
        if let Some(v) = &self.vote_reveal {
            config.vote_reveal =
                choice("vote_reveal", v, &["after_count", "as_cast", "sequential"])?;
        }
        if let Some(v) = &self.attack_decider {
            config.attack_decider = choice("attack_decider", v, &["pack_vote", "random_wolf"])?;
        }
        if let Some(d) = self.max_days {
            config.max_days = in_range("max_days", d, 1, MAX_DAYS)? as u32;
        }
        Ok(())
    }
}
