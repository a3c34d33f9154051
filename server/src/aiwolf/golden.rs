//! Golden tests of every AIWolf packet kind the hub sends (`NAME`, `INITIALIZE`,
//! `DAILY_INITIALIZE`, `TALK`, `WHISPER`, `DAILY_FINISH`, `VOTE`, `DIVINE`, `GUARD`, `ATTACK`,
//! `FINISH`), [`super::view::SeatView`] driven through engine games seat by seat exactly as the
//! endpoint drives it (each seat's stream; a `WHISPER` answered, then `ATTACK`):
//! - `tests/aiwolf/golden/shapes.json`: each kind's exact top-level key set and the key sets
//!   and JSON types of `info`, `setting`, talk, vote and judge entries, from AIWolf's
//!   `schema/protocol.schema.json` and `model/packet.go` (the file says which part is from
//!   where);
//! - `tests/aiwolf/golden/examples.json`: AIWolf's example packets of
//!   `docs/aiwolf-protocol-notes.md` §2.5, one per kind, which the same storyline played on the
//!   hub must reproduce (values included, but for `setting`, talk texts and `remain_count`);
//! - who gets which optional key (AIWolf's `logic/common.go buildInfo`, notes §2.2):
//!   `divine_result` only the seer, `medium_result` only the medium, `attack_vote_list` and any
//!   `whisper_history` (and `WHISPER` itself) only werewolves, `setting` only on `INITIALIZE` and
//!   `DAILY_INITIALIZE`, `remain_*` only on `TALK`/`WHISPER`, a `role_map` of the seat's own
//!   role (a werewolf's: every werewolf) until `FINISH`, whose `role_map` is everyone's.

use super::packets::Packet;
use super::scripted::{Played, play, storyline};
use super::view::SeatView;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use werewolf_engine::{GameConfig, RandomBots, Seat};
use werewolf_schemas::Role;

/// The shapes golden.
fn shapes() -> Value {
    serde_json::from_str(include_str!("../../../tests/aiwolf/golden/shapes.json"))
        .expect("shapes.json is JSON")
}

/// The examples golden.
fn examples() -> Value {
    serde_json::from_str(include_str!("../../../tests/aiwolf/golden/examples.json"))
        .expect("examples.json is JSON")
}

/// The `setting` the endpoint gives a game of `preset` with `talk_rounds` rounds.
fn setting(preset: &str, talk_rounds: u8) -> super::packets::Setting {
    let body = json!({"preset": preset, "talk_rounds": talk_rounds, "first_night_attack": false});
    let spec = serde_json::from_value::<crate::games::spec::CreateGame>(body)
        .expect("a body")
        .into_spec(10_000)
        .expect("a spec");
    super::setting_of(&spec, &crate::Config::default())
}

/// Every packet each seat's agent gets, as JSON, in order (`NAME` first).
fn packets(played: &Played, setting: &super::packets::Setting) -> Vec<Vec<Value>> {
    (0..played.ids.len())
        .map(|seat| {
            let mut view = SeatView::new("G".to_owned(), seat, played.ids.clone(), setting.clone());
            let mut out = vec![Packet::name()];
            for m in &played.seats[seat] {
                let (ps, asked) = view.on_frame(m);
                out.extend(ps);
                if asked.is_some_and(|a| a.whisper) {
                    // The pack's phase (one turn here; the turns themselves: `pack`'s tests),
                    // then the attack.
                    out.push(view.whisper_packet(3, 0));
                    out.push(view.attack_packet());
                }
            }
            out.iter()
                .map(|p| serde_json::to_value(p).expect("a packet serializes"))
                .collect()
        })
        .collect()
}

/// Checks `value` against the golden type `ty`; the path names where it differs.
fn check_type(shapes: &Value, value: &Value, ty: &str, path: &str) -> Result<(), String> {
    let fail = |why: String| Err(format!("{path}: {why} (value {value})"));
    let in_enum = |name: &str, v: &Value| {
        shapes["enums"][name]
            .as_array()
            .is_some_and(|e| e.contains(v))
    };
    match ty {
        "string" if value.is_string() => Ok(()),
        "integer" if value.is_i64() || value.is_u64() => Ok(()),
        "boolean" if value.is_boolean() => Ok(()),
        "Request" | "Role" | "Species" | "Status" if in_enum(ty, value) => Ok(()),
        "{Status}" | "{Role}" => {
            let Some(map) = value.as_object() else {
                return fail("not an object".into());
            };
            let inner = &ty[1..ty.len() - 1];
            for (k, v) in map {
                if !in_enum(inner, v) {
                    return fail(format!("`{k}` is not a {inner}"));
                }
            }
            Ok(())
        }
        "{Role:integer}" => {
            let Some(map) = value.as_object() else {
                return fail("not an object".into());
            };
            for (k, v) in map {
                if !in_enum("Role", &json!(k)) || !(v.is_u64() || v.is_i64()) {
                    return fail(format!("`{k}` is not Role:integer"));
                }
            }
            Ok(())
        }
        t if t.starts_with('[') => {
            let Some(items) = value.as_array() else {
                return fail("not an array".into());
            };
            for (i, item) in items.iter().enumerate() {
                check_type(shapes, item, &t[1..t.len() - 1], &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        t => {
            let Some(def) = shapes["types"][t].as_object() else {
                return fail(format!("not a {t}"));
            };
            check_object(shapes, value, def, path)
        }
    }
}

/// An object against a golden definition: every required key, no key the definition lacks.
fn check_object(
    shapes: &Value,
    value: &Value,
    def: &serde_json::Map<String, Value>,
    path: &str,
) -> Result<(), String> {
    let Some(obj) = value.as_object() else {
        return Err(format!("{path}: not an object: {value}"));
    };
    for (key, ty) in def {
        let (name, optional) = match key.strip_suffix('?') {
            Some(n) => (n, true),
            None => (key.as_str(), false),
        };
        match obj.get(name) {
            Some(v) => check_type(
                shapes,
                v,
                ty.as_str().expect("a type"),
                &format!("{path}.{name}"),
            )?,
            None if optional => {}
            None => return Err(format!("{path}: `{name}` is missing: {value}")),
        }
    }
    for key in obj.keys() {
        if !def.contains_key(key) && !def.contains_key(&format!("{key}?")) {
            return Err(format!("{path}: `{key}` is not AIWolf's: {value}"));
        }
    }
    Ok(())
}

/// Checks one packet's shape.
fn check_packet(shapes: &Value, packet: &Value) -> Result<(), String> {
    let request = packet["request"].as_str().unwrap_or("?");
    let Some(def) = shapes["packets"][request].as_object() else {
        return Err(format!(
            "`{request}` is not a request of AIWolf's: {packet}"
        ));
    };
    check_object(shapes, packet, def, request)?;
    let info = &packet["info"];
    let remain_on = shapes["remain_keys_only_on"]
        .as_array()
        .expect("list")
        .contains(&json!(request));
    for key in ["remain_count", "remain_length", "remain_skip"] {
        if info.get(key).is_some() && !remain_on {
            return Err(format!("{request}: `{key}` outside TALK/WHISPER: {packet}"));
        }
    }
    for key in shapes["remain_keys_required_on"][request]
        .as_array()
        .into_iter()
        .flatten()
    {
        let key = key.as_str().expect("a key");
        if info.get(key).is_none() {
            return Err(format!("{request}: `{key}` missing: {packet}"));
        }
    }
    Ok(())
}

/// The recipient rules of one seat's packets.
fn check_recipient(played: &Played, seat: usize, packets: &[Value]) -> Result<(), String> {
    let role = played.game.role_of(Seat(seat as u8)).expect("dealt");
    let name = super::packets::agent_name(seat);
    let role_name = super::packets::role_name(role);
    let wolf = role == Role::Werewolf;
    let wolves: BTreeMap<String, Value> = played
        .game
        .werewolf_seats()
        .map(|w| (super::packets::agent_name(w.index()), json!("WEREWOLF")))
        .collect();
    for p in packets {
        let request = p["request"].as_str().unwrap_or("?");
        let info = &p["info"];
        let at = format!("{request} to {name} ({role_name})");
        let has = |k: &str| info.get(k).is_some();
        if has("divine_result") && role != Role::Seer {
            return Err(format!("{at}: divine_result: {p}"));
        }
        if has("medium_result") && role != Role::Medium {
            return Err(format!("{at}: medium_result: {p}"));
        }
        if has("attack_vote_list") && !wolf {
            return Err(format!("{at}: attack_vote_list: {p}"));
        }
        if (p.get("whisper_history").is_some() || request == "WHISPER" || request == "ATTACK")
            && !wolf
        {
            return Err(format!("{at}: a werewolves' packet or key: {p}"));
        }
        if request == "DAILY_FINISH" && wolf != p.get("whisper_history").is_some() {
            return Err(format!(
                "{at}: whisper_history is for werewolves only, always: {p}"
            ));
        }
        let with_setting = matches!(request, "INITIALIZE" | "DAILY_INITIALIZE");
        if p.get("setting").is_some() != with_setting {
            return Err(format!(
                "{at}: setting only on INITIALIZE/DAILY_INITIALIZE: {p}"
            ));
        }
        if request == "NAME" {
            continue;
        }
        let map = info["role_map"].as_object().cloned().unwrap_or_default();
        if request == "FINISH" {
            let all: BTreeMap<String, Value> = (0..played.ids.len())
                .map(|s| {
                    let r = played.game.role_of(Seat(s as u8)).expect("dealt");
                    (
                        super::packets::agent_name(s),
                        json!(super::packets::role_name(r)),
                    )
                })
                .collect();
            if map.into_iter().collect::<BTreeMap<_, _>>() != all {
                return Err(format!("{at}: FINISH's role_map is everyone's: {p}"));
            }
        } else {
            let mut may: BTreeMap<String, Value> = if wolf {
                wolves.clone()
            } else {
                BTreeMap::new()
            };
            may.insert(name.clone(), json!(role_name));
            if map.into_iter().collect::<BTreeMap<_, _>>() != may {
                return Err(format!("{at}: role_map beyond what it may know: {p}"));
            }
        }
    }
    Ok(())
}

/// Every packet of random `aiwolf5` and `aiwolf13` games (every kind, every role) has AIWolf's
/// shape, and each seat gets only its role's keys.
#[test]
fn aiwolf_every_packet_kind_has_aiwolfs_shape_and_recipients() {
    let shapes = shapes();
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    let mut optional: BTreeMap<String, usize> = BTreeMap::new();
    for (preset, rounds) in [("aiwolf5", 2u8), ("aiwolf13", 2)] {
        for seed in 0..6u64 {
            let mut config = GameConfig::preset(preset).expect("preset").with_seed(seed);
            config.first_night_attack = false;
            config.talk_rounds = rounds;
            let mut bots = RandomBots::new(seed).with_timeouts(0);
            let played = play(config, |g, r| bots.choose(g, r));
            let all = packets(&played, &setting(preset, rounds));
            for (seat, seat_packets) in all.iter().enumerate() {
                for p in seat_packets {
                    if let Err(e) = check_packet(&shapes, p) {
                        panic!("{preset} seed {seed} seat {seat}: {e}");
                    }
                    *kinds
                        .entry(p["request"].as_str().unwrap().to_owned())
                        .or_default() += 1;
                    for key in [
                        "divine_result",
                        "medium_result",
                        "attack_vote_list",
                        "vote_list",
                        "executed_agent",
                        "attacked_agent",
                    ] {
                        if p["info"].get(key).is_some() {
                            *optional.entry(key.to_owned()).or_default() += 1;
                        }
                    }
                }
                if let Err(e) = check_recipient(&played, seat, seat_packets) {
                    panic!("{preset} seed {seed}: {e}");
                }
            }
        }
    }
    for kind in [
        "NAME",
        "INITIALIZE",
        "DAILY_INITIALIZE",
        "TALK",
        "WHISPER",
        "DAILY_FINISH",
        "VOTE",
        "DIVINE",
        "GUARD",
        "ATTACK",
        "FINISH",
    ] {
        assert!(
            kinds.get(kind).is_some_and(|&n| n > 0),
            "{kind} never sent: {kinds:?}"
        );
    }
    for key in [
        "divine_result",
        "medium_result",
        "attack_vote_list",
        "vote_list",
        "executed_agent",
        "attacked_agent",
    ] {
        assert!(
            optional.get(key).is_some_and(|&n| n > 0),
            "{key} never sent: {optional:?}"
        );
    }
}

/// Replaces what the examples do not fix with its shape's name, after checking that shape.
fn normalize(shapes: &Value, packet: &Value) -> Value {
    let mut p = packet.clone();
    if let Some(info) = p.get_mut("info") {
        info["game_id"] = json!("G");
        if let Some(n) = info.get_mut("remain_count") {
            assert!(n.is_i64() || n.is_u64(), "remain_count: {n}");
            *n = json!("integer");
        }
    }
    if let Some(s) = p.get_mut("setting").filter(|s| **s != json!("S5")) {
        check_type(shapes, s, "Setting", "setting").expect("a Setting");
        *s = json!("S5");
    }
    for key in ["talk_history", "whisper_history"] {
        if let Some(list) = p.get_mut(key).and_then(Value::as_array_mut) {
            for entry in list.iter_mut() {
                check_type(shapes, entry, "Talk", key).expect("a Talk");
                *entry = json!("Talk");
            }
            // The number of entries is the game's (its talk rounds), not the example's.
            list.dedup();
        }
    }
    p
}

/// The storyline of AIWolf's examples (notes §2.5) on the hub: each kind's packet is AIWolf's
/// example (`setting`, talk texts and `remain_count` aside), and `NAME` is byte for byte.
#[test]
fn aiwolf_packets_of_the_notes_storyline_are_aiwolfs_examples() {
    let shapes = shapes();
    let examples = examples();
    let played = storyline();
    let all = packets(&played, &setting("aiwolf5", 1));
    assert_eq!(
        serde_json::to_string(&Packet::name()).expect("json"),
        r#"{"request":"NAME"}"#
    );
    let find = |request: &str, seat: usize, day: Option<u64>| -> Value {
        all[seat]
            .iter()
            .find(|p| p["request"] == request && day.is_none_or(|d| p["info"]["day"] == d))
            .cloned()
            .unwrap_or_else(|| panic!("no {request} day {day:?} to seat {seat}: {:#?}", all[seat]))
    };
    let cases = [
        ("NAME", find("NAME", 0, None)),
        ("INITIALIZE to Agent[01]", find("INITIALIZE", 0, None)),
        (
            "DAILY_INITIALIZE day 1 to Agent[01]",
            find("DAILY_INITIALIZE", 0, Some(1)),
        ),
        (
            "DAILY_INITIALIZE day 2 to Agent[02]",
            find("DAILY_INITIALIZE", 1, Some(2)),
        ),
        ("TALK day 1 to Agent[03]", find("TALK", 2, Some(1))),
        (
            "DAILY_FINISH day 1 to Agent[02]",
            find("DAILY_FINISH", 1, Some(1)),
        ),
        ("VOTE day 1 to Agent[04]", find("VOTE", 3, Some(1))),
        ("DIVINE day 0 to Agent[01]", find("DIVINE", 0, Some(0))),
        ("ATTACK day 1 to Agent[02]", find("ATTACK", 1, Some(1))),
        ("FINISH to Agent[01]", find("FINISH", 0, None)),
    ];
    for (name, hub) in cases {
        let want = normalize(&shapes, &examples[name]);
        let got = normalize(&shapes, &hub);
        assert_eq!(
            got,
            want,
            "{name}:\nhub:   {}\nAIWolf: {}",
            serde_json::to_string(&got).unwrap(),
            serde_json::to_string(&want).unwrap()
        );
    }
}
