//! `POST /games` bodies: what is accepted, what is refused and why.

use super::*;
use werewolf_engine::{TalkOrder, TiePolicy};

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
        (
            r#"{"preset":"arena8","max_reasoning_chars":0}"#,
            "max_reasoning_chars",
        ),
        (
            r#"{"preset":"arena8","max_reasoning_chars":100000000}"#,
            "max_reasoning_chars",
        ),
        (r#"{"preset":"arena8","talk_rounds":0}"#, "talk_rounds"),
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

#[test]
fn arena8_follows_werewolf_arena_and_the_default_game_keeps_the_hubs_rules() {
    use werewolf_engine::{AttackDecider, VoteReveal};
    let arena = spec(r#"{"preset":"arena8"}"#).expect("arena8").config;
    assert_eq!(arena.talk_order, TalkOrder::Bidding);
    assert_eq!(arena.talks_per_day, Some(8));
    assert_eq!(arena.attack_decider, AttackDecider::RandomWolf);
    assert!(arena.majority_execution && !arena.vote_abstain && !arena.public_votes);
    assert!(arena.seer_sees_role && !arena.seer_repeat && arena.doctor_same_target_twice);
    let plain = spec("{}").expect("default").config;
    assert_eq!(
        plain,
        GameConfig::hub_rules(plain.roles).with_seed(plain.seed)
    );
    assert_eq!(plain.player_count(), 8);
    assert_eq!(plain.vote_reveal, VoteReveal::AfterCount);
    let hub = spec(r#"{"preset":"arena8","rules":"hub"}"#)
        .expect("hub")
        .config;
    assert_eq!(hub.talk_order, TalkOrder::Rotating);
    let arena9 = spec(r#"{"preset":"classic9","rules":"arena"}"#)
        .expect("arena rules")
        .config;
    assert_eq!(arena9.attack_decider, AttackDecider::RandomWolf);
}

#[test]
fn every_new_switch_is_settable_and_checked() {
    use werewolf_engine::{AttackDecider, VoteReveal};
    let c = spec(
        r#"{"preset":"classic9","vote_reveal":"sequential","vote_abstain":false,
            "talks_per_agent":2,"talks_per_day":7,"whisper_rounds":2,"talk_order":"bidding",
            "attack_decider":"random_wolf","seer_repeat":false,"seer_sees_role":true,
            "timeouts_ms":{"whisper":1234,"bid":567}}"#,
    )
    .expect("switches")
    .config;
    assert_eq!(c.vote_reveal, VoteReveal::Sequential);
    assert!(!c.vote_abstain && !c.seer_repeat && c.seer_sees_role);
    assert_eq!((c.talks_per_agent, c.talks_per_day), (Some(2), Some(7)));
    assert_eq!(c.whisper_rounds, 2);
    assert_eq!(c.attack_decider, AttackDecider::RandomWolf);
    assert_eq!((c.timeouts_ms.whisper, c.timeouts_ms.bid), (1234, 567));
    let none = spec(r#"{"preset":"arena8","talks_per_day":-1,"talk_order":"random"}"#)
        .expect("no cap")
        .config;
    assert_eq!(none.talks_per_day, None);
    for (body, field) in [
        (r#"{"vote_reveal":"later"}"#, "vote_reveal"),
        (r#"{"talks_per_agent":0}"#, "talks_per_agent"),
        (r#"{"talks_per_day":-3}"#, "talks_per_day"),
        (r#"{"whisper_rounds":11}"#, "whisper_rounds"),
        (r#"{"attack_decider":"alpha"}"#, "attack_decider"),
        (r#"{"timeouts_ms":{"nap":5}}"#, "nap"),
        (r#"{"rules":"kaggle"}"#, "rules"),
        // A bad combination: bidding without a turn count.
        (r#"{"preset":"arena8","talks_per_day":-1}"#, "talks_per_day"),
        (
            r#"{"preset":"arena8","attack_revote":true}"#,
            "attack_revote",
        ),
    ] {
        let err = spec(body).expect_err(body);
        assert!(err.contains(field), "{body}: {err}");
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
