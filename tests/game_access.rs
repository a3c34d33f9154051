//! Game access and robustness over a real hub: REST lobby, admin token, impersonation,
//! invalid actions, timeouts, reconnects, observer delay.

mod common;

use common::*;
use futures_util::SinkExt;
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use werewolf_client::{Hub, RandomStrategy, Socket, next_frame};
use werewolf_server::RunningHub;

fn client(hub: &RunningHub) -> Hub {
    Hub::new(&format!("http://{}", hub.addr())).expect("valid hub URL")
}

async fn http(
    hub: &RunningHub,
    method: &str,
    path: &str,
    body: Option<Value>,
    bearer: Option<&str>,
) -> (u16, Value) {
    let addr = hub.addr().to_string();
    let (status, _, text) = common::http_raw(&addr, method, path, body, bearer).await;
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Reads frames until one matches; returns it (earlier ones are dropped).
async fn wait_for(ws: &mut Socket, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    loop {
        let (raw, _) = tokio::time::timeout(PATIENCE, next_frame(ws))
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
            .expect("socket ok")
            .expect("stream open");
        let v: Value = serde_json::from_str(&raw).expect("json");
        if pred(&v) {
            return v;
        }
    }
}

async fn send(ws: &mut Socket, v: Value) {
    ws.send(Message::text(v.to_string())).await.expect("send");
}

fn ws_url(hub: &RunningHub, id: &str, query: &str) -> String {
    format!("ws://{}/ws/{id}?{query}", hub.addr())
}

async fn refused(url: String) -> (u16, String) {
    match tokio_tungstenite::connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => (
            resp.status().as_u16(),
            String::from_utf8_lossy(resp.body().as_deref().unwrap_or_default()).to_string(),
        ),
        Err(e) => panic!("expected an HTTP refusal, got {e}"),
        Ok(_) => panic!("expected a refusal, got a connection"),
    }
}

#[tokio::test]
async fn rest_lobby_create_join_list_show_agents() {
    let hub = hub().await;
    let (status, body) = http(
        &hub,
        "POST",
        "/games",
        Some(json!({"preset": "nope"})),
        None,
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().expect("reason").contains("nope"),
        "{body}"
    );
    let (status, body) = http(
        &hub,
        "POST",
        "/games",
        Some(json!({"preset": "aiwolf5", "rules": "hub", "seed": 3})),
        None,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let gid = body["game_id"].as_str().expect("id").to_owned();
    assert_eq!(body["players"], json!([]), "no names → seats are joined");
    assert!(body["observer_token"].as_str().expect("token").len() >= 32);

    let mut seats = Vec::new();
    for i in 0..5 {
        let (status, seat) = http(
            &hub,
            "POST",
            &format!("/games/{gid}/join"),
            Some(json!({"name": format!("n{i}")})),
            None,
        )
        .await;
        assert_eq!(status, 200, "{seat}");
        seats.push(seat);
    }
    let (status, body) = http(
        &hub,
        "POST",
        &format!("/games/{gid}/join"),
        Some(json!({"name": "late"})),
        None,
    )
    .await;
    assert_eq!(status, 409, "full: {body}");
    let (status, _) = http(
        &hub,
        "POST",
        "/games/nope/join",
        Some(json!({"name": "x"})),
        None,
    )
    .await;
    assert_eq!(status, 404);

    let (_, list) = http(&hub, "GET", "/games", None, None).await;
    let entry = list
        .as_array()
        .expect("list")
        .iter()
        .find(|g| g["game_id"] == gid.as_str())
        .expect("listed")
        .clone();
    assert_eq!(entry["phase"], "lobby");
    assert_eq!(entry["players"], 5);
    assert_eq!(entry["alive"], 5);
    assert!(entry["created_at"].as_f64().is_some());

    // connect one agent: /agents shows it online, the others offline
    let c = client(&hub);
    let s0 = &seats[0];
    let mut a0 = c
        .connect_agent(
            &gid,
            s0["player_id"].as_str().expect("id"),
            s0["token"].as_str().expect("token"),
        )
        .await
        .expect("connect");
    let state = wait_for(&mut a0.ws, "game_state", |v| {
        v["message_type"] == "game_state"
    })
    .await;
    assert_eq!(state["phase"], "lobby");
    let agents = {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let (_, agents) = http(&hub, "GET", "/agents", None, None).await;
            let online = agents
                .as_array()
                .expect("agents")
                .iter()
                .filter(|a| a["status"] == "online")
                .count();
            if online == 1 || tokio::time::Instant::now() > deadline {
                break agents;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let mine = agents
        .as_array()
        .expect("list")
        .iter()
        .find(|a| a["player_id"] == s0["player_id"])
        .expect("listed");
    assert_eq!(mine["status"], "online");
    assert_eq!(mine["game_id"], gid.as_str());
    assert_eq!(mine["seat"], 1);
    assert!(mine["last_seen"].as_f64().is_some());

    // explicit start with seats claimed but agents missing
    let (status, body) = http(&hub, "POST", &format!("/games/{gid}/start"), None, None).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = http(&hub, "POST", &format!("/games/{gid}/start"), None, None).await;
    assert_eq!(status, 409, "already started");
    let (_, show) = http(&hub, "GET", &format!("/games/{gid}"), None, None).await;
    assert_eq!(show["phase"], "night");
    assert_eq!(show["players"].as_array().expect("players").len(), 5);
    assert!(
        show["players"]
            .as_array()
            .expect("p")
            .iter()
            .all(|p| p["role"].is_null()),
        "public view has no roles"
    );
}

#[tokio::test]
async fn admin_token_guards_game_creation() {
    let hub = hub_with(&[("HUB_ADMIN_TOKEN", "s3cret-admin")]).await;
    for (bearer, expected) in [
        (None, 401),
        (Some("wrong"), 401),
        (Some("s3cret-admin"), 201),
    ] {
        let body = Some(json!({"preset": "aiwolf5", "rules": "hub"}));
        let (status, answer) = http(&hub, "POST", "/games", body, bearer).await;
        assert_eq!(status, expected, "bearer {bearer:?}: {answer}");
    }
}

type BotResult = Result<werewolf_schemas::GameOverBody, werewolf_client::ClientError>;

/// Seats a random bot on every seat from `skip` on; returns their tasks.
async fn spawn_bots(
    c: &Hub,
    game: &werewolf_client::CreatedGame,
    skip: usize,
) -> Vec<tokio::task::JoinHandle<BotResult>> {
    let mut bots = Vec::new();
    for (i, s) in game.players.iter().enumerate().skip(skip) {
        let mut a = c
            .connect_agent(&game.game_id, &s.player_id, &s.token)
            .await
            .expect("connect");
        bots.push(tokio::spawn(async move {
            a.play(&mut RandomStrategy::new(i as u64), |_, _| {}).await
        }));
    }
    bots
}

/// Reads the agents' sockets in turn until one of them gets an `action_request`.
async fn first_request(agents: &mut [werewolf_client::Agent]) -> (usize, Value) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no agent got a request"
        );
        for (i, a) in agents.iter_mut().enumerate() {
            let next =
                tokio::time::timeout(Duration::from_millis(100), next_frame(&mut a.ws)).await;
            if let Ok(Ok(Some((raw, _)))) = next {
                let v: Value = serde_json::from_str(&raw).expect("json");
                if v["message_type"] == "action_request" {
                    return (i, v);
                }
            }
        }
    }
}

async fn named_game(hub: &RunningHub, extra: Value) -> werewolf_client::CreatedGame {
    let mut body = json!({"preset": "aiwolf5", "rules": "hub", "seed": 5, "players": ["A", "B", "C", "D", "E"], "talk_rounds": 1});
    for (k, v) in extra.as_object().expect("object") {
        body[k] = v.clone();
    }
    client(hub).create_game(&body).await.expect("create")
}

#[tokio::test]
async fn impersonation_is_refused() {
    let hub = hub().await;
    let game = named_game(&hub, json!({"auto_start": false})).await;
    let gid = &game.game_id;
    let (p0, p1) = (&game.players[0], &game.players[1]);

    let cases: [(&str, String, u16, &str); 6] = [
        (
            &p0.player_id,
            format!("client_type=agent&game_id={gid}&token=bad"),
            401,
            "wrong token",
        ),
        (
            &p0.player_id,
            format!("client_type=agent&game_id={gid}"),
            401,
            "missing token",
        ),
        (
            &p0.player_id,
            format!("client_type=agent&game_id={gid}&token={}", p1.token),
            401,
            "another seat's token",
        ),
        (
            "mallory",
            format!("client_type=agent&game_id={gid}&token={}", p0.token),
            403,
            "client_id must be the seat's player_id",
        ),
        (
            "obs",
            format!("client_type=observer&game_id={gid}&token=guess"),
            401,
            "wrong observer token",
        ),
        (
            "ui",
            "client_type=ui&game_id=nope".to_owned(),
            404,
            "unknown game",
        ),
    ];
    for (client_id, query, expected, why) in cases {
        let (status, body) = refused(ws_url(&hub, client_id, &query)).await;
        assert_eq!(status, expected, "{why}: {body}");
    }
    // seated agents: acting for another seat, answering another's request
    let c = client(&hub);
    let mut agents = Vec::new();
    for s in &game.players {
        agents.push(
            c.connect_agent(gid, &s.player_id, &s.token)
                .await
                .expect("connect"),
        );
    }
    c.start(gid).await.expect("start");
    // find one request and let a different agent try to answer it
    let mut request = None;
    let mut owner = 0;
    for (i, a) in agents.iter_mut().enumerate() {
        let v = wait_for(&mut a.ws, "phase/night", |v| {
            v["message_type"] == "game_state" && v["phase"] == "night"
        })
        .await;
        let _ = v;
        if let Ok(Ok(Some((raw, _)))) =
            tokio::time::timeout(Duration::from_millis(300), next_frame(&mut a.ws)).await
        {
            let v: Value = serde_json::from_str(&raw).expect("json");
            if v["message_type"] == "action_request" && request.is_none() {
                request = Some(v);
                owner = i;
            }
        }
    }
    let request = request.expect("someone got a night request");
    let thief = (owner + 1) % agents.len();
    let rid = request["request_id"].as_str().expect("rid").to_owned();
    let target = request["candidates"][0]["player_id"].clone();
    send(
        &mut agents[thief].ws,
        json!({"message_type": "player_action", "request_id": rid,
        "action": request["action"], "target": target}),
    )
    .await;
    let err = wait_for(&mut agents[thief].ws, "error", |v| {
        v["message_type"] == "error"
    })
    .await;
    assert_eq!(err["code"], "invalid_action", "{err}");
    assert_eq!(err["request_id"], rid.as_str());
    // claiming to be the owner on one's own socket
    send(
        &mut agents[thief].ws,
        json!({"message_type": "player_action", "client_id": game.players[owner].player_id,
        "request_id": rid, "action": request["action"], "target": target}),
    )
    .await;
    let err = wait_for(&mut agents[thief].ws, "error", |v| {
        v["message_type"] == "error"
    })
    .await;
    assert_eq!(err["code"], "client_id_mismatch", "{err}");
    // the owner's request is still open: it can answer it
    send(
        &mut agents[owner].ws,
        json!({"message_type": "player_action", "request_id": rid,
        "action": request["action"], "target": target}),
    )
    .await;
    let ok = wait_for(&mut agents[owner].ws, "accepted", |v| {
        v["message_type"] == "action_result" && v["result"] == "accepted"
    })
    .await;
    assert_eq!(ok["request_id"], rid.as_str());
}

#[tokio::test]
async fn invalid_actions_change_nothing_and_the_game_goes_on() {
    let hub = hub().await;
    let game = named_game(&hub, json!({})).await;
    let c = client(&hub);
    let mut agents = Vec::new();
    for s in &game.players {
        agents.push(
            c.connect_agent(&game.game_id, &s.player_id, &s.token)
                .await
                .expect("connect"),
        );
    }
    let (i, request) = first_request(&mut agents).await;
    let rid = request["request_id"].as_str().expect("rid").to_owned();
    let show = format!("/games/{}", game.game_id);
    let (_, before) = http(&hub, "GET", &show, None, None).await;
    let ws = &mut agents[i].ws;
    let bad = [
        json!({"message_type": "player_action", "request_id": rid, "action": request["action"], "target": "nobody"}),
        json!({"message_type": "player_action", "request_id": "999999", "action": request["action"], "target": request["candidates"][0]["player_id"]}),
        json!({"message_type": "player_action", "request_id": rid, "action": if request["action"] == "vote" { "attack" } else { "vote" }, "target": request["candidates"][0]["player_id"]}),
        json!({"message_type": "player_action", "request_id": "not-a-number", "action": request["action"], "target": null}),
        json!({"message_type": "agent_message", "channel": "wolves", "message_text": ""}),
    ];
    for b in bad {
        send(ws, b.clone()).await;
        let err = wait_for(ws, "error", |v| v["message_type"] == "error").await;
        assert_eq!(err["code"], "invalid_action", "{b} → {err}");
    }
    let (_, after) = http(&hub, "GET", &show, None, None).await;
    assert_eq!(before, after, "refused actions changed the game");
    // the request is still answerable
    send(ws, json!({"message_type": "player_action", "request_id": rid, "action": request["action"], "target": request["candidates"][0]["player_id"]})).await;
    let ok = wait_for(ws, "accepted", |v| {
        v["message_type"] == "action_result" && v["result"] == "accepted"
    })
    .await;
    assert_eq!(ok["request_id"], rid.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_apply_defaults_and_the_game_ends() {
    let hub = hub_with(&[("WS_RATE_PER_SEC", "1000"), ("WS_RATE_BURST", "1000")]).await;
    let game = named_game(&hub, json!({"action_timeout_ms": 150})).await;
    let c = client(&hub);
    // seat 0 connects but never answers; the others play
    let mut silent = c
        .connect_agent(
            &game.game_id,
            &game.players[0].player_id,
            &game.players[0].token,
        )
        .await
        .expect("c");
    let tasks = spawn_bots(&c, &game, 1).await;
    let timed_out = wait_for(&mut silent.ws, "a timeout", |v| {
        v["message_type"] == "action_result" && v["result"] == "timed_out"
    })
    .await;
    assert!(timed_out["request_id"].is_string());
    let over = wait_for(&mut silent.ws, "game_over", |v| {
        v["message_type"] == "game_over"
    })
    .await;
    assert!(over["winner"].is_string());
    for t in tasks {
        t.await.expect("task").expect("bots finish the game");
    }
    let stats = get_json(&hub, "/stats").await;
    let n = stats["timeouts_by_agent"][&game.players[0].player_id]
        .as_u64()
        .expect("counted");
    assert!(n >= 1, "{stats}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disconnected_agent_keeps_its_seat_and_gets_its_requests_again() {
    let hub = hub_with(&[("WS_RATE_PER_SEC", "1000"), ("WS_RATE_BURST", "1000")]).await;
    let game = named_game(&hub, json!({"action_timeout_ms": 60_000})).await;
    let c = client(&hub);
    let mut ui = c
        .connect_viewer("ui-watch", "ui", &game.game_id, None)
        .await
        .expect("ui");
    let mut agents = Vec::new();
    for s in &game.players {
        agents.push(
            c.connect_agent(&game.game_id, &s.player_id, &s.token)
                .await
                .expect("connect"),
        );
    }
    // wait until someone holds a request, then drop that agent without answering
    let (i, request) = first_request(&mut agents).await;
    let seat = game.players[i].clone();
    drop(agents.remove(i));
    let gone = wait_for(&mut ui, "presence offline", |v| {
        v["message_type"] == "presence" && v["connected"] == false
    })
    .await;
    assert_eq!(gone["player_id"], seat.player_id.as_str());

    let mut back = c
        .connect_agent(&game.game_id, &seat.player_id, &seat.token)
        .await
        .expect("reconnect");
    let state = wait_for(&mut back.ws, "state", |v| v["message_type"] == "game_state").await;
    assert_eq!(state["you"]["player_id"], seat.player_id.as_str());
    let again = wait_for(&mut back.ws, "request again", |v| {
        v["message_type"] == "action_request"
    })
    .await;
    assert_eq!(again["request_id"], request["request_id"]);
    assert_eq!(again["deadline"], request["deadline"]);
    let online = wait_for(&mut ui, "presence online", |v| {
        v["message_type"] == "presence" && v["connected"] == true
    })
    .await;
    assert_eq!(online["player_id"], seat.player_id.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_view_is_delayed_behind_the_public_one() {
    let hub = hub_with(&[("WS_RATE_PER_SEC", "1000"), ("WS_RATE_BURST", "1000")]).await;
    let game = named_game(&hub, json!({"observer_delay_ms": 400})).await;
    let c = client(&hub);
    let ui = c
        .connect_viewer("ui-d", "ui", &game.game_id, None)
        .await
        .expect("ui");
    let full = c
        .connect_viewer(
            "full-d",
            "observer",
            &game.game_id,
            Some(&game.observer_token),
        )
        .await
        .expect("obs");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for (name, mut ws) in [("ui", ui), ("full", full)] {
        let tx = tx.clone();
        tokio::spawn(async move {
            loop {
                let Ok(Some((raw, _))) = next_frame(&mut ws).await else {
                    return;
                };
                let v: Value = serde_json::from_str(&raw).expect("json");
                if v["message_type"] == "game_over" {
                    let _ = tx.send(name);
                    return;
                }
            }
        });
    }
    let _bots = spawn_bots(&c, &game, 0).await;
    let first = tokio::time::timeout(Duration::from_secs(60), rx.recv())
        .await
        .expect("ends")
        .expect("name");
    let second = tokio::time::timeout(Duration::from_secs(60), rx.recv())
        .await
        .expect("ends")
        .expect("name");
    assert_eq!(
        (first, second),
        ("ui", "full"),
        "the full view lags the public one"
    );
}

/// `examples/python_agent.py` plays a seat to the end against Rust bots.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_agent_example_plays_a_full_game() {
    let python = python_with_websockets();
    let hub = hub_with(&[("WS_RATE_PER_SEC", "1000"), ("WS_RATE_BURST", "1000")]).await;
    let game = named_game(&hub, json!({"action_timeout_ms": 10_000})).await;
    let c = client(&hub);
    let seat = game.players[0].clone();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/python_agent.py");
    let python = tokio::process::Command::new(&python)
        .args([
            script,
            "--url",
            &format!("ws://{}", hub.addr()),
            "--game",
            &game.game_id,
            "--player",
            &seat.player_id,
            "--token",
            &seat.token,
            "--seed",
            "3",
        ])
        .output();
    let bots = spawn_bots(&c, &game, 1).await;
    let out = tokio::time::timeout(Duration::from_secs(60), python)
        .await
        .expect("python ends")
        .expect("python runs");
    assert!(
        out.status.success(),
        "python agent failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line: Value = serde_json::from_slice(out.stdout.trim_ascii()).expect("one JSON line");
    assert_eq!(line["player_id"], seat.player_id.as_str());
    assert!(
        line["winner"].is_string() && line["role"].is_string(),
        "{line}"
    );
    for b in bots {
        b.await.expect("task").expect("bot finished");
    }
    let stats = get_json(&hub, "/stats").await;
    assert!(
        stats["timeouts_by_agent"].get(&seat.player_id).is_none(),
        "the python agent answered in time: {stats}"
    );
}

#[tokio::test]
async fn game_viewers_do_not_hear_the_lobby_relay() {
    let hub = hub().await;
    let game = named_game(&hub, json!({"auto_start": false})).await;
    let c = client(&hub);
    let mut table = c
        .connect_viewer("table", "ui", &game.game_id, None)
        .await
        .expect("game ui");
    wait_for(&mut table, "initial state", |v| {
        v["message_type"] == "game_state"
    })
    .await;
    let mut lobby_ui = connect(&hub, "lobby_ui", "ui").await;
    let mut lobby_agent = connect(&hub, "lobby_agent", "agent").await;
    send_json(
        &mut lobby_agent,
        agent_message("lobby_agent", "hello lobby"),
    )
    .await;
    assert_eq!(
        recv_json(&mut lobby_ui).await["message_text"],
        "hello lobby"
    );
    let next = tokio::time::timeout(Duration::from_millis(300), next_frame(&mut table)).await;
    assert!(
        next.is_err(),
        "the game's table view heard the lobby: {next:?}"
    );
}

/// A full observer that arrives mid-game, with the delay on, starts from its own snapshot:
/// it never receives frames produced before it attached, so its `seq` only goes up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_full_observer_with_delay_sees_increasing_seq() {
    let hub = hub_with(&[("WS_RATE_PER_SEC", "1000"), ("WS_RATE_BURST", "1000")]).await;
    let game = named_game(&hub, json!({"observer_delay_ms": 300})).await;
    let c = client(&hub);
    let mut ui = c
        .connect_viewer("ui-late", "ui", &game.game_id, None)
        .await
        .expect("ui");
    let _bots = spawn_bots(&c, &game, 0).await;
    // join once the game is under way
    wait_for(&mut ui, "a talk", |v| v["message_type"] == "agent_message").await;
    let mut full = c
        .connect_viewer(
            "full-late",
            "observer",
            &game.game_id,
            Some(&game.observer_token),
        )
        .await
        .expect("observer");
    let mut seqs = Vec::new();
    loop {
        let v = wait_for(&mut full, "game frames", |v| v["seq"].is_u64()).await;
        seqs.push(v["seq"].as_u64().expect("seq"));
        if v["message_type"] == "game_over" {
            break;
        }
    }
    assert!(seqs.len() > 1, "{seqs:?}");
    assert!(
        seqs.windows(2).all(|w| w[1] > w[0]),
        "seq went back: {seqs:?}"
    );
}

/// A finished game stays `GAME_RETENTION_S`, then leaves the registry and closes its
/// remaining connections with 4003.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_games_retire_after_the_retention() {
    let hub = hub_with(&[
        ("GAME_RETENTION_S", "1"),
        ("WS_RATE_PER_SEC", "1000"),
        ("WS_RATE_BURST", "1000"),
    ])
    .await;
    let game = named_game(&hub, json!({})).await;
    let c = client(&hub);
    let mut ui = c
        .connect_viewer("ui-retire", "ui", &game.game_id, None)
        .await
        .expect("ui");
    let _bots = spawn_bots(&c, &game, 0).await;
    wait_for(&mut ui, "game_over", |v| v["message_type"] == "game_over").await;
    let (status, _) = http(&hub, "GET", &format!("/games/{}", game.game_id), None, None).await;
    assert_eq!(status, 200, "still there right after the end");
    let closed = loop {
        match tokio::time::timeout(PATIENCE, next_frame(&mut ui))
            .await
            .expect("closed in time")
        {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("stream ended without a close frame"),
            Err(e) => break e.to_string(),
        }
    };
    assert!(closed.contains("4003"), "{closed}");
    let (status, _) = http(&hub, "GET", &format!("/games/{}", game.game_id), None, None).await;
    assert_eq!(status, 404);
    let (_, list) = http(&hub, "GET", "/games", None, None).await;
    assert!(
        list.as_array()
            .expect("list")
            .iter()
            .all(|g| g["game_id"] != game.game_id.as_str())
    );
}
