//! Games over a real hub: full games for every preset, hidden information checked frame by
//! frame against each recipient's entitlement, impersonation, invalid actions, timeouts,
//! reconnects and the REST lobby.

mod common;

use common::*;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use werewolf_client::{Hub, RandomStrategy, next_frame};
use werewolf_server::RunningHub;

fn client(hub: &RunningHub) -> Hub {
    Hub::new(&format!("http://{}", hub.addr())).expect("valid hub URL")
}

fn names(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("bot{i}")).collect()
}

fn seats_of(preset: &str) -> usize {
    match preset {
        "aiwolf5" => 5,
        "arena8" => 8,
        "classic9" => 9,
        "aiwolf13" => 13,
        other => panic!("unknown preset {other}"),
    }
}

/// Everything every recipient received in one game.
struct GameRun {
    game_id: String,
    /// player_id → frames (JSON) the seat's agent received.
    agents: HashMap<String, Vec<Value>>,
    /// Frames of a ui, an observer without token, and an observer with the token.
    ui: Vec<Value>,
    public_observer: Vec<Value>,
    full_observer: Vec<Value>,
    /// player_id → role, from game_over.
    roles: HashMap<String, String>,
    winner: String,
    /// The `rules` every `game_start` must carry: the preset's config with this test's
    /// overrides, as the engine announces it.
    rules: Value,
    /// The preset's config (what the ballots and the seer's results depend on).
    config: werewolf_engine::GameConfig,
}

/// Reads a viewer socket until `game_over`.
async fn watch(mut ws: werewolf_client::Socket) -> Vec<Value> {
    let mut frames = Vec::new();
    loop {
        let next = tokio::time::timeout(Duration::from_secs(60), next_frame(&mut ws))
            .await
            .expect("viewer gets game_over within a minute")
            .expect("viewer socket ok")
            .expect("viewer stream open");
        let value: Value = serde_json::from_str(&next.0).expect("json");
        let over = value["message_type"] == "game_over";
        frames.push(value);
        if over {
            return frames;
        }
    }
}

async fn play_full_game(hub: &RunningHub, preset: &str, seed: u64) -> GameRun {
    let c = client(hub);
    let n = seats_of(preset);
    let game = c
        .create_game(&json!({"preset": preset, "seed": seed, "players": names(n),
                             "action_timeout_ms": 10_000, "talk_rounds": 1}))
        .await
        .expect("create game");
    let gid = game.game_id.clone();
    let mut expected = werewolf_engine::GameConfig::preset(preset).expect("preset");
    expected.timeouts_ms = werewolf_engine::Timeouts::all(10_000);
    expected.talk_rounds = 1;
    let ui = tokio::spawn(watch(
        c.connect_viewer(&format!("ui-{gid}"), "ui", &gid, None)
            .await
            .expect("ui"),
    ));
    let public_obs = tokio::spawn(watch(
        c.connect_viewer(&format!("po-{gid}"), "observer", &gid, None)
            .await
            .expect("obs"),
    ));
    let full_obs = tokio::spawn(watch(
        c.connect_viewer(
            &format!("fo-{gid}"),
            "observer",
            &gid,
            Some(&game.observer_token),
        )
        .await
        .expect("full"),
    ));
    let mut agents = Vec::new();
    for (i, seat) in game.players.iter().enumerate() {
        let mut agent = c
            .connect_agent(&gid, &seat.player_id, &seat.token)
            .await
            .expect("agent connects");
        let id = seat.player_id.clone();
        let bot_seed = seed * 100 + i as u64;
        agents.push(tokio::spawn(async move {
            let mut frames = Vec::new();
            let over = agent
                .play(&mut RandomStrategy::new(bot_seed), |raw, _| {
                    frames.push(serde_json::from_str::<Value>(raw).expect("json"))
                })
                .await
                .expect("agent plays to game_over");
            (id, frames, over)
        }));
    }
    let mut run = GameRun {
        game_id: gid,
        agents: HashMap::new(),
        ui: Vec::new(),
        public_observer: Vec::new(),
        full_observer: Vec::new(),
        roles: HashMap::new(),
        winner: String::new(),
        rules: serde_json::to_value(expected.rules()).expect("rules json"),
        config: expected,
    };
    for task in agents {
        let (id, frames, over) = tokio::time::timeout(Duration::from_secs(60), task)
            .await
            .expect("game ends within a minute")
            .expect("agent task");
        run.roles = over
            .roles
            .iter()
            .map(|(k, v)| (k.clone(), json!(v).as_str().unwrap_or_default().to_owned()))
            .collect();
        run.winner = json!(over.winner).as_str().unwrap_or_default().to_owned();
        run.agents.insert(id, frames);
    }
    run.ui = ui.await.expect("ui task");
    run.public_observer = public_obs.await.expect("observer task");
    run.full_observer = full_obs.await.expect("full observer task");
    run
}

/// Game frames carry a per-recipient `seq` that goes up by exactly one.
fn check_seq(who: &str, frames: &[Value]) {
    let seqs: Vec<u64> = frames.iter().filter_map(|f| f["seq"].as_u64()).collect();
    assert!(!seqs.is_empty(), "{who} got game frames");
    for pair in seqs.windows(2) {
        assert!(
            pair[1] == pair[0] + 1,
            "{who}: seq {} then {} (must be +1)",
            pair[0],
            pair[1]
        );
    }
}

/// The stream opens with `game_start`, announcing every rule of the game and every seat.
fn check_game_start(run: &GameRun, who: &str, frames: &[Value]) {
    // (lobby snapshots carry `seq` 0; viewers also get the lobby's presence frames)
    let first = frames
        .iter()
        .find(|f| {
            f["seq"].as_u64().is_some_and(|s| s >= 1)
                && f["message_type"] != "presence"
                && f["phase"] != "lobby"
        })
        .unwrap_or_else(|| panic!("{who} got no game frame"));
    assert_eq!(
        first["message_type"], "game_start",
        "{who}: first frame {first}"
    );
    assert_eq!(first["rules"], run.rules, "{who}: the announced rules");
    assert_eq!(
        first["players"].as_array().map(Vec::len),
        Some(run.roles.len()),
        "{who}: every seat announced"
    );
    let starts = frames
        .iter()
        .filter(|f| f["message_type"] == "game_start")
        .count();
    assert_eq!(starts, 1, "{who}: one game_start");
}

/// Checks every frame a seated agent received against what its role may know.
fn check_agent(run: &GameRun, player: &str, frames: &[Value]) {
    check_game_start(run, player, frames);
    let role = run.roles[player].as_str();
    let wolf = role == "werewolf";
    let mut my_requests = HashSet::new();
    let mut saw_game_over = false;
    for f in frames {
        let t = f["message_type"].as_str().unwrap_or_default();
        let ctx = || format!("{player} ({role}) got {f}");
        if f["seq"].is_u64() {
            assert_eq!(f["game_id"], run.game_id, "{}", ctx());
        }
        match t {
            "agent_message" if f["channel"] == "wolves" => {
                assert!(wolf, "wolf chat leaked: {}", ctx())
            }
            "player_action" => match f["action"].as_str() {
                // Every preset hides ballots until the count (`vote_reveal: after_count`).
                Some("attack") | Some("vote") => {
                    panic!("a ballot before the count: {}", ctx())
                }
                Some("protect") | Some("witch") | Some("bid") => {
                    panic!("private action leaked: {}", ctx())
                }
                _ => {}
            },
            "vote_result" => {
                let ballots = f["ballots"].as_array().map_or(0, Vec::len);
                if run.config.public_votes {
                    let counted: u64 = f["counts"]
                        .as_array()
                        .expect("counts")
                        .iter()
                        .map(|c| c["votes"].as_u64().unwrap_or(0))
                        .sum();
                    assert!(
                        ballots as u64 >= counted,
                        "every counted ballot is published: {}",
                        ctx()
                    );
                } else {
                    assert_eq!(ballots, 0, "private votes published: {}", ctx());
                }
            }
            "action_request" => {
                my_requests.insert(f["request_id"].as_str().unwrap_or_default().to_owned());
            }
            "action_result" => match (f["action"].as_str(), f["result"].as_str()) {
                (_, Some("accepted" | "timed_out")) => {
                    let rid = f["request_id"].as_str().unwrap_or_default();
                    assert!(
                        my_requests.contains(rid),
                        "someone else's result: {}",
                        ctx()
                    );
                }
                (Some("attack"), _) => assert!(wolf, "pack choice leaked: {}", ctx()),
                (Some("divine"), result) => {
                    assert_eq!(role, "seer", "seer result leaked: {}", ctx());
                    let by_role = run.config.seer_sees_role;
                    assert_eq!(result == Some("role"), by_role, "{}", ctx());
                    if by_role {
                        let target = f["target"].as_str().unwrap_or_default();
                        assert_eq!(f["role"], run.roles[target], "true role: {}", ctx());
                    }
                }
                (Some("medium"), _) => {
                    assert_eq!(role, "medium", "medium result leaked: {}", ctx())
                }
                (Some("witch"), _) => assert_eq!(role, "witch", "witch view leaked: {}", ctx()),
                _ => panic!("unexpected action_result: {}", ctx()),
            },
            "game_state" if !saw_game_over && f["winner"].is_null() => {
                if let Some(you) = f.get("you").filter(|y| !y.is_null()) {
                    assert_eq!(you["player_id"], player);
                    assert_eq!(you["role"], role);
                }
                for p in f["players"].as_array().expect("players") {
                    let Some(shown) = p["role"].as_str() else {
                        continue;
                    };
                    let id = p["id"].as_str().unwrap_or_default();
                    let allowed = id == player || (wolf && run.roles[id] == "werewolf");
                    assert!(allowed, "role of {id} leaked: {}", ctx());
                    assert_eq!(shown, run.roles[id], "true role shown");
                }
            }
            "game_over" => saw_game_over = true,
            _ => {}
        }
    }
    assert!(saw_game_over, "{player} got game_over");
    check_seq(player, frames);
}

/// A ui or an observer without token sees only public events.
fn check_public(run: &GameRun, who: &str, frames: &[Value]) {
    check_game_start(run, who, frames);
    for f in frames {
        let t = f["message_type"].as_str().unwrap_or_default();
        let ctx = || format!("{who} got {f}");
        match t {
            "action_request" | "action_result" => panic!("private frame leaked: {}", ctx()),
            "agent_message" => assert_eq!(f["channel"], "public", "{}", ctx()),
            "player_action" => {
                let a = f["action"].as_str().unwrap_or_default();
                assert!(
                    ["talk", "shoot"].contains(&a),
                    "a ballot or a night action leaked: {}",
                    ctx()
                );
            }
            "game_state" => {
                assert!(f["you"].is_null(), "{}", ctx());
                if f["winner"].is_null() {
                    for p in f["players"].as_array().expect("players") {
                        assert!(p["role"].is_null(), "role leaked: {}", ctx());
                    }
                }
            }
            "death" => assert!(
                ["night", "execution", "hunter_shot"]
                    .contains(&f["cause"].as_str().unwrap_or_default()),
                "true night cause leaked: {}",
                ctx()
            ),
            _ => {}
        }
    }
    assert_eq!(
        frames.last().map(|f| f["message_type"].clone()),
        Some(json!("game_over"))
    );
    check_seq(who, frames);
}

fn check_run(run: &GameRun) {
    assert!(["villagers", "werewolves", "draw"].contains(&run.winner.as_str()));
    for (player, frames) in &run.agents {
        check_agent(run, player, frames);
    }
    check_public(run, "ui", &run.ui);
    check_public(run, "public observer", &run.public_observer);
    check_game_start(run, "full observer", &run.full_observer);
    check_seq("full observer", &run.full_observer);
    // the full view really is full: roles before the end, and the pack's night
    let roles_early = run.full_observer.iter().any(|f| {
        f["message_type"] == "game_state"
            && f["winner"].is_null()
            && f["players"]
                .as_array()
                .is_some_and(|ps| ps.iter().all(|p| p["role"].is_string()))
    });
    assert!(roles_early, "full observer sees every role during the game");
    assert!(
        run.full_observer
            .iter()
            .any(|f| f["message_type"] == "player_action" && f["action"] == "attack"),
        "full observer sees attack votes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_preset_plays_to_game_over_without_leaks() {
    let hub = hub_with(&[("WS_RATE_PER_SEC", "1000"), ("WS_RATE_BURST", "1000")]).await;
    for (i, preset) in ["aiwolf5", "arena8", "classic9", "aiwolf13"]
        .into_iter()
        .enumerate()
    {
        let run = play_full_game(&hub, preset, 11 + i as u64).await;
        assert_eq!(run.agents.len(), seats_of(preset));
        check_run(&run);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn information_never_leaks_across_many_seeded_games() {
    let hub = hub_with(&[("WS_RATE_PER_SEC", "1000"), ("WS_RATE_BURST", "1000")]).await;
    let mut wolf_chat_seen_by_wolves = 0;
    for seed in 0..12u64 {
        let preset = ["arena8", "classic9", "aiwolf13"][seed as usize % 3];
        let run = play_full_game(&hub, preset, 1000 + seed).await;
        check_run(&run);
        for (player, frames) in &run.agents {
            if run.roles[player] == "werewolf" {
                wolf_chat_seen_by_wolves += frames
                    .iter()
                    .filter(|f| f["message_type"] == "agent_message" && f["channel"] == "wolves")
                    .count();
            }
        }
    }
    assert!(
        wolf_chat_seen_by_wolves > 0,
        "the wolves' channel was exercised"
    );
}
