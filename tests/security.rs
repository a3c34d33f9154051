//! Attacks of issue 17 over a real hub, each tried as an outsider would: evicting a seated
//! agent or a full observer with a token-less connection, probing other seats' request ids,
//! leaving a game to run forever, and out-of-range game settings.

mod common;

use common::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use werewolf_client::{CreatedGame, Hub, RandomStrategy, Socket};
use werewolf_server::RunningHub;

fn client(hub: &RunningHub) -> Hub {
    Hub::new(&format!("http://{}", hub.addr())).expect("valid hub URL")
}

async fn http(hub: &RunningHub, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let c = reqwest::Client::new();
    let url = format!("http://{}{path}", hub.addr());
    let mut req = match method {
        "POST" => c.post(url),
        _ => c.get(url),
    };
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("http");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// `ws://addr/ws/{id}?{query}`.
fn url(hub: &RunningHub, id: &str, query: &str) -> String {
    format!("ws://{}/ws/{id}?{query}", hub.addr())
}

/// An aiwolf5 game with named seats (so every seat is claimed), overridden by `extra`.
async fn named_game(hub: &RunningHub, extra: Value) -> CreatedGame {
    let mut body = json!({"preset": "aiwolf5", "rules": "hub", "seed": 5, "players": ["A", "B", "C", "D", "E"], "talk_rounds": 1});
    for (k, v) in extra.as_object().expect("object") {
        body[k] = v.clone();
    }
    client(hub).create_game(&body).await.expect("create")
}

/// Connects with `url`, expecting the hub to refuse the upgrade. Returns the status and the
/// JSON body, checking that the body is `{"error": "<non-empty text>"}`.
async fn refusal(request: impl IntoClientRequest + Unpin, label: &str) -> (u16, Value) {
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            let status = resp.status().as_u16();
            let raw =
                String::from_utf8_lossy(resp.body().as_deref().unwrap_or_default()).to_string();
            let body: Value = serde_json::from_str(&raw)
                .unwrap_or_else(|_| panic!("{label}: refusal body is not JSON: {raw:?}"));
            assert!(
                body["error"].as_str().is_some_and(|e| !e.is_empty()),
                "{label}: refusal body has no \"error\": {body}"
            );
            (status, body)
        }
        Err(e) => panic!("{label}: expected an HTTP refusal, got {e}"),
        Ok((mut ws, _)) => {
            let _ = ws.close(None).await;
            panic!("{label}: the hub accepted the connection instead of refusing it")
        }
    }
}

/// Next text frame as JSON (pings skipped) before `deadline`; panics on a close, the end of
/// the stream or at the deadline.
async fn next_json_by(ws: &mut Socket, what: &str, deadline: Instant) -> Value {
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
            .unwrap_or_else(|| panic!("stream ended while waiting for {what}"))
            .unwrap_or_else(|e| panic!("transport error while waiting for {what}: {e}"));
        match msg {
            Message::Text(t) => {
                return serde_json::from_str(t.as_str()).expect("server sends JSON");
            }
            Message::Close(frame) => panic!("closed ({frame:?}) while waiting for {what}"),
            _ => continue,
        }
    }
}

/// Next text frame as JSON within `PATIENCE`.
async fn next_json(ws: &mut Socket, what: &str) -> Value {
    next_json_by(ws, what, Instant::now() + PATIENCE).await
}

/// Reads frames until one matches; returns it (earlier ones are dropped).
async fn wait_for(ws: &mut Socket, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let v = next_json_by(ws, what, deadline).await;
        if pred(&v) {
            return v;
        }
    }
}

async fn send(ws: &mut Socket, v: Value) {
    ws.send(Message::text(v.to_string())).await.expect("send");
}

/// The connection is alive and was not disturbed: no close frame, and a `ping` is answered
/// with a `pong`.
async fn assert_undisturbed(ws: &mut Socket, label: &str) {
    send(ws, json!({"message_type": "ping"})).await;
    let deadline = Instant::now() + PATIENCE;
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .unwrap_or_else(|_| panic!("{label}: no pong within the deadline"))
            .unwrap_or_else(|| panic!("{label}: the connection ended"))
            .unwrap_or_else(|e| panic!("{label}: the connection failed: {e}"));
        match msg {
            Message::Text(t) => {
                let v: Value = serde_json::from_str(t.as_str()).expect("json");
                if v["message_type"] == "pong" {
                    return;
                }
            }
            Message::Close(frame) => panic!("{label}: the connection was closed: {frame:?}"),
            _ => continue,
        }
    }
}

/// Reads until the server's close frame; returns its code.
async fn close_code(ws: &mut Socket, what: &str) -> u16 {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .unwrap_or_else(|_| panic!("{what}: no close frame within the deadline"));
        match msg {
            Some(Ok(Message::Close(Some(frame)))) => return u16::from(frame.code),
            Some(Ok(Message::Close(None))) => panic!("{what}: close frame without a code"),
            Some(Ok(_)) => continue,
            Some(Err(e)) => panic!("{what}: transport error before a close frame: {e}"),
            None => panic!("{what}: stream ended without a close frame"),
        }
    }
}

/// Connects and checks the `connection` welcome.
async fn open(request: impl IntoClientRequest + Unpin, label: &str) -> (Socket, Value) {
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .unwrap_or_else(|e| panic!("{label}: connection refused: {e}"));
    let welcome = next_json(&mut ws, "the welcome").await;
    assert_eq!(welcome["message_type"], "connection", "{label}: {welcome}");
    (ws, welcome)
}

/// `ws://…` with an `Authorization` header.
fn with_authorization(
    url: String,
    value: &str,
) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    let mut request = url.into_client_request().expect("request");
    request.headers_mut().insert(
        "authorization",
        HeaderValue::from_str(value).expect("header"),
    );
    request
}

/// `status` of `player_id` in `GET /agents`.
async fn agent_status(hub: &RunningHub, player_id: &str) -> String {
    let (_, agents) = http(hub, "GET", "/agents", None).await;
    agents
        .as_array()
        .expect("agents")
        .iter()
        .find(|a| a["player_id"] == player_id)
        .map(|a| a["status"].as_str().expect("status").to_owned())
        .unwrap_or_else(|| panic!("{player_id} not in /agents: {agents}"))
}

/// Polls `GET /agents` until `player_id` has `status`.
async fn agent_becomes(hub: &RunningHub, player_id: &str, status: &str) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let now = agent_status(hub, player_id).await;
        if now == status {
            return;
        }
        assert!(Instant::now() < deadline, "{player_id} stayed {now}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every connection without the seat's credential that uses a seat's player_id:
/// (label, query). `other_game` is a second game, `other_token` another seat's token.
fn seat_impostors(gid: &str, other_game: &str, other_token: &str) -> Vec<(String, String)> {
    [
        ("lobby ui without client_type", String::new()),
        ("lobby ui", "client_type=ui".to_owned()),
        ("lobby observer", "client_type=observer".to_owned()),
        ("lobby agent (no game_id)", "client_type=agent".to_owned()),
        ("game ui", format!("client_type=ui&game_id={gid}")),
        (
            "game observer",
            format!("client_type=observer&game_id={gid}"),
        ),
        (
            "ui of another game",
            format!("client_type=ui&game_id={other_game}"),
        ),
        (
            "observer of another game",
            format!("client_type=observer&game_id={other_game}"),
        ),
        (
            "agent without token",
            format!("client_type=agent&game_id={gid}"),
        ),
        (
            "agent with an empty token",
            format!("client_type=agent&game_id={gid}&token="),
        ),
        (
            "agent with a wrong token",
            format!("client_type=agent&game_id={gid}&token=wrong"),
        ),
        (
            "agent with another seat's token",
            format!("client_type=agent&game_id={gid}&token={other_token}"),
        ),
        (
            "agent of another game with this seat's id",
            format!("client_type=agent&game_id={other_game}&token={other_token}"),
        ),
    ]
    .into_iter()
    .map(|(l, q)| (l.to_owned(), q))
    .collect()
}

/// Seat refusals are 401, 403 or 409 (spec of issue 17).
fn assert_seat_refusal(label: &str, status: u16, body: &Value) {
    assert!(
        matches!(status, 401 | 403 | 409),
        "{label}: expected 401/403/409, got {status}: {body}"
    );
}

// ---- 1. eviction of a seated agent ----------------------------------------------------------

#[tokio::test]
async fn token_less_connections_cannot_evict_a_seated_agent() {
    let hub = hub().await;
    let game = named_game(&hub, json!({"auto_start": false})).await;
    let other = named_game(&hub, json!({"auto_start": false})).await;
    let gid = &game.game_id;
    let (p0, p1) = (&game.players[0], &game.players[1]);
    let mut agent = client(&hub)
        .connect_agent(gid, &p0.player_id, &p0.token)
        .await
        .expect("the seat's agent connects")
        .ws;
    wait_for(&mut agent, "the agent's game_state", |v| {
        v["message_type"] == "game_state"
    })
    .await;
    agent_becomes(&hub, &p0.player_id, "online").await;

    for (label, query) in seat_impostors(gid, &other.game_id, &p1.token) {
        let label = format!("{label} as {} while it is online", p0.player_id);
        let (status, body) = refusal(url(&hub, &p0.player_id, &query), &label).await;
        assert_seat_refusal(&label, status, &body);
        assert_undisturbed(&mut agent, &label).await;
        assert_eq!(agent_status(&hub, &p0.player_id).await, "online", "{label}");
    }
}

#[tokio::test]
async fn token_less_connections_cannot_take_an_offline_seat() {
    let hub = hub().await;
    let game = named_game(&hub, json!({"auto_start": false})).await;
    let other = named_game(&hub, json!({"auto_start": false})).await;
    let gid = &game.game_id;
    let (p0, p1) = (&game.players[0], &game.players[1]);
    let c = client(&hub);
    // the seat has been online once, then its agent left
    let mut agent = c
        .connect_agent(gid, &p0.player_id, &p0.token)
        .await
        .expect("connect")
        .ws;
    agent_becomes(&hub, &p0.player_id, "online").await;
    agent.close(None).await.expect("close");
    drop(agent);
    agent_becomes(&hub, &p0.player_id, "offline").await;

    for (label, query) in seat_impostors(gid, &other.game_id, &p1.token) {
        let label = format!("{label} as {} while it is offline", p0.player_id);
        let (status, body) = refusal(url(&hub, &p0.player_id, &query), &label).await;
        assert_seat_refusal(&label, status, &body);
    }
    // the seat's own agent still gets back in
    let mut back = c
        .connect_agent(gid, &p0.player_id, &p0.token)
        .await
        .expect("the seat's own token reconnects")
        .ws;
    let state = wait_for(&mut back, "game_state", |v| {
        v["message_type"] == "game_state"
    })
    .await;
    assert_eq!(state["game_id"], gid.as_str());
    assert_undisturbed(&mut back, "reconnected agent").await;
    agent_becomes(&hub, &p0.player_id, "online").await;
}

#[tokio::test]
async fn a_seats_own_token_replaces_its_older_connection() {
    let hub = hub().await;
    let game = named_game(&hub, json!({"auto_start": false})).await;
    let p0 = &game.players[0];
    let c = client(&hub);
    let mut old = c
        .connect_agent(&game.game_id, &p0.player_id, &p0.token)
        .await
        .expect("connect")
        .ws;
    wait_for(&mut old, "game_state", |v| {
        v["message_type"] == "game_state"
    })
    .await;
    let mut new = c
        .connect_agent(&game.game_id, &p0.player_id, &p0.token)
        .await
        .expect("the same token reconnects")
        .ws;
    assert_eq!(close_code(&mut old, "the older connection").await, 4000);
    wait_for(&mut new, "game_state", |v| {
        v["message_type"] == "game_state"
    })
    .await;
    assert_undisturbed(&mut new, "the newer connection").await;
    agent_becomes(&hub, &p0.player_id, "online").await;
}

#[tokio::test]
async fn tokens_are_accepted_in_the_authorization_header() {
    let hub = hub().await;
    let game = named_game(&hub, json!({"auto_start": false})).await;
    let gid = &game.game_id;
    // a started game, so the full view shows roles and the public one does not
    client(&hub).start(gid).await.expect("start");

    for (seat, scheme) in [(0, "Bearer"), (1, "bearer"), (2, "BEARER")] {
        let p = &game.players[seat];
        let label = format!(
            "seat {} with `Authorization: {scheme} <token>`",
            p.player_id
        );
        let request = with_authorization(
            url(
                &hub,
                &p.player_id,
                &format!("client_type=agent&game_id={gid}"),
            ),
            &format!("{scheme} {}", p.token),
        );
        let (mut ws, welcome) = open(request, &label).await;
        assert_eq!(
            welcome["data"]["client_type"], "agent",
            "{label}: {welcome}"
        );
        assert_eq!(
            welcome["data"]["game_id"],
            gid.as_str(),
            "{label}: {welcome}"
        );
        let state = wait_for(&mut ws, "game_state", |v| v["message_type"] == "game_state").await;
        assert_eq!(
            state["you"]["player_id"],
            p.player_id.as_str(),
            "{label}: {state}"
        );
        agent_becomes(&hub, &p.player_id, "online").await;
        // a wrong token in the header is refused like a wrong ?token=
        let wrong = with_authorization(
            url(
                &hub,
                &p.player_id,
                &format!("client_type=agent&game_id={gid}"),
            ),
            &format!("{scheme} wrong"),
        );
        let wrong_label = format!("{label}: wrong header token");
        let (status, body) = refusal(wrong, &wrong_label).await;
        assert_seat_refusal(&wrong_label, status, &body);
        assert_undisturbed(&mut ws, &wrong_label).await;
    }

    for (id, scheme) in [("full-a", "Bearer"), ("full-b", "bearer")] {
        let label = format!("observer with `Authorization: {scheme} <observer_token>`");
        let request = with_authorization(
            url(&hub, id, &format!("client_type=observer&game_id={gid}")),
            &format!("{scheme} {}", game.observer_token),
        );
        let (mut ws, _) = open(request, &label).await;
        let state = wait_for(&mut ws, "game_state", |v| v["message_type"] == "game_state").await;
        let players = state["players"].as_array().expect("players");
        assert_eq!(players.len(), 5);
        assert!(
            players.iter().all(|p| p["role"].is_string()),
            "{label}: got the public view, not the full one: {state}"
        );
    }
}

// ---- 2. eviction of a full observer --------------------------------------------------------

#[tokio::test]
async fn token_less_connections_cannot_evict_a_full_observer() {
    let hub = hub().await;
    let game = named_game(&hub, json!({"auto_start": false})).await;
    let gid = &game.game_id;
    let full = format!(
        "client_type=observer&game_id={gid}&token={}",
        game.observer_token
    );
    let (mut watcher, _) = open(url(&hub, "watcher", &full), "full observer").await;
    wait_for(&mut watcher, "game_state", |v| {
        v["message_type"] == "game_state"
    })
    .await;

    for (label, query) in [
        ("lobby ui without client_type", String::new()),
        ("lobby ui", "client_type=ui".to_owned()),
        ("lobby observer", "client_type=observer".to_owned()),
        ("lobby agent", "client_type=agent".to_owned()),
        ("game ui", format!("client_type=ui&game_id={gid}")),
        (
            "game observer",
            format!("client_type=observer&game_id={gid}"),
        ),
    ] {
        let label = format!("{label} as `watcher`");
        let (status, body) = refusal(url(&hub, "watcher", &query), &label).await;
        assert_eq!(status, 409, "{label}: {body}");
        assert_undisturbed(&mut watcher, &label).await;
    }
    let label = "observer with a wrong token as `watcher`";
    let (status, body) = refusal(
        url(
            &hub,
            "watcher",
            &format!("client_type=observer&game_id={gid}&token=wrong"),
        ),
        label,
    )
    .await;
    assert!((400..500).contains(&status), "{label}: {status} {body}");
    assert_undisturbed(&mut watcher, label).await;

    // the same observer token replaces it
    let (mut again, _) = open(url(&hub, "watcher", &full), "the same observer token").await;
    assert_eq!(close_code(&mut watcher, "the older observer").await, 4000);
    wait_for(&mut again, "game_state", |v| {
        v["message_type"] == "game_state"
    })
    .await;
    assert_undisturbed(&mut again, "the newer observer").await;
}

// ---- 3. lobby replacing lobby (seed 004) ----------------------------------------------------

#[tokio::test]
async fn lobby_clients_still_replace_lobby_clients() {
    let hub = hub().await;
    for (first, second) in [
        ("client_type=ui", "client_type=ui"),
        ("client_type=agent", "client_type=observer"),
        ("client_type=observer", "client_type=agent"),
    ] {
        let label = format!("{first} replaced by {second}");
        let (mut old, _) = open(url(&hub, "lobby-x", first), &label).await;
        let (mut new, welcome) = open(url(&hub, "lobby-x", second), &label).await;
        assert_eq!(welcome["client_id"], "lobby-x");
        assert_eq!(close_code(&mut old, &label).await, 4000, "{label}");
        assert_undisturbed(&mut new, &label).await;
        new.close(None).await.expect("close");
    }
}

// ---- 4. request ids -------------------------------------------------------------------------

/// Every seat's request ids, over a whole classic9 game, are "1", "2", … in the order the seat
/// received them: nothing in them counts other seats' requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_ids_are_numbered_per_seat() {
    let hub = hub_with(&[("WS_RATE_PER_SEC", "1000"), ("WS_RATE_BURST", "1000")]).await;
    let names: Vec<String> = (1..=9).map(|i| format!("P{i}")).collect();
    let game = client(&hub)
        .create_game(&json!({"preset": "classic9", "seed": 11, "players": names,
            "talk_rounds": 1, "action_timeout_ms": 60_000}))
        .await
        .expect("create");
    let c = client(&hub);
    let mut tasks = Vec::new();
    for (i, s) in game.players.iter().enumerate() {
        let mut agent = c
            .connect_agent(&game.game_id, &s.player_id, &s.token)
            .await
            .expect("connect");
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            let over = agent
                .play(&mut RandomStrategy::new(i as u64), |raw, _| {
                    let v: Value = serde_json::from_str(raw).expect("json");
                    if v["message_type"] == "action_request" {
                        ids.push(v["request_id"].as_str().expect("request_id").to_owned());
                    }
                })
                .await;
            (over, ids)
        }));
    }
    let mut per_seat = BTreeMap::new();
    for (task, seat) in tasks.into_iter().zip(&game.players) {
        let (over, ids) = tokio::time::timeout(Duration::from_secs(15), task)
            .await
            .expect("the game ends in time")
            .expect("task");
        over.expect("the bot plays to the end");
        per_seat.insert(seat.player_id.clone(), ids);
    }
    assert!(
        per_seat.values().any(|ids| ids.len() > 1),
        "a game has more than one request: {per_seat:?}"
    );
    for (seat, ids) in &per_seat {
        let expected: Vec<String> = (1..=ids.len()).map(|n| n.to_string()).collect();
        assert_eq!(
            ids, &expected,
            "{seat}'s request ids must count only its own requests; all seats: {per_seat:?}"
        );
    }
}

/// At night a villager answers ids that are not its own: another seat's pending request,
/// another seat's answered one, one never issued, one that is not a number. It must not
/// learn anything: the same code and the same message (apart from the id it sent).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probing_request_ids_gets_one_refusal_for_anything_not_yours() {
    let hub = hub_with(&[("WS_RATE_PER_SEC", "1000"), ("WS_RATE_BURST", "1000")]).await;
    let names: Vec<String> = (1..=9).map(|i| format!("P{i}")).collect();
    let game = client(&hub)
        .create_game(&json!({"preset": "classic9", "seed": 11, "players": names,
            "talk_rounds": 1, "action_timeout_ms": 60_000}))
        .await
        .expect("create");
    let c = client(&hub);
    let mut sockets = Vec::new();
    for s in &game.players {
        sockets.push(
            c.connect_agent(&game.game_id, &s.player_id, &s.token)
                .await
                .expect("connect")
                .ws,
        );
    }
    // night 1 (auto start): werewolves attack, the seer divines, nobody else is asked
    let mut roles = Vec::new();
    let mut requests: Vec<Option<Value>> = Vec::new();
    for ws in &mut sockets {
        let mut role = None;
        let mut request = None;
        let deadline = Instant::now() + PATIENCE;
        loop {
            let v = next_json_by(ws, "night 1", deadline).await;
            if v["message_type"] == "game_state" && v["phase"] == "night" {
                role = Some(v["you"]["role"].as_str().expect("role").to_owned());
            }
            if v["message_type"] == "action_request" {
                request = Some(v);
            }
            match role.as_deref() {
                Some("werewolf" | "seer") if request.is_none() => continue,
                Some(_) => break,
                None => continue,
            }
        }
        roles.push(role.expect("role"));
        requests.push(request);
    }
    let seat_of =
        |role: &str| -> Vec<usize> { (0..roles.len()).filter(|&i| roles[i] == role).collect() };
    let (wolves, seer, villager) = (
        seat_of("werewolf"),
        seat_of("seer")[0],
        seat_of("villager")[0],
    );
    assert!(
        requests[villager].is_none(),
        "a villager has no night request"
    );
    let seers = requests[seer].clone().expect("the seer's request");
    let wolf = requests[wolves[0]].clone().expect("a werewolf's request");

    // one werewolf votes: its request is answered, the night goes on (the other wolf and
    // the seer are still to act)
    let wolf_rid = wolf["request_id"].as_str().expect("rid").to_owned();
    send(
        &mut sockets[wolves[0]],
        json!({"message_type": "player_action", "request_id": wolf_rid,
            "action": "attack", "target": wolf["candidates"][0]["player_id"]}),
    )
    .await;
    wait_for(&mut sockets[wolves[0]], "the attack vote's result", |v| {
        v["message_type"] == "action_result" && v["request_id"] == wolf_rid.as_str()
    })
    .await;

    let seer_rid = seers["request_id"].as_str().expect("rid").to_owned();
    let probes = [
        ("another seat's pending request", seer_rid),
        ("another seat's answered request", wolf_rid),
        ("a request never issued", "999".to_owned()),
        ("not a number", "abc".to_owned()),
    ];
    let mut answers = Vec::new();
    for (what, id) in &probes {
        send(
            &mut sockets[villager],
            json!({"message_type": "player_action", "request_id": id,
                "action": "divine", "target": seers["candidates"][0]["player_id"]}),
        )
        .await;
        let err = wait_for(&mut sockets[villager], "an error", |v| {
            v["message_type"] == "error"
        })
        .await;
        let message = err["message"].as_str().expect("message");
        answers.push((
            *what,
            id.clone(),
            err["code"].clone(),
            message.replace(id.as_str(), "<ID>"),
            message.to_owned(),
        ));
    }
    let (_, _, code, normalized, _) = &answers[0];
    for answer in &answers {
        assert!(
            &answer.2 == code && &answer.3 == normalized,
            "a villager can tell these apart: {answers:#?}"
        );
    }
    assert_eq!(code, "invalid_action", "{answers:#?}");
    for (what, id, _, _, message) in &answers {
        assert_eq!(
            message,
            &format!("request_id `{id}` is not one of your live requests"),
            "{what}"
        );
    }
}

// ---- 5. abandoned games ---------------------------------------------------------------------

/// A ui viewer bound to a started aiwolf5 game whose five agents are connected, with
/// requests that would wait ten minutes. Returns the viewer and the agents.
async fn started_game(hub: &RunningHub) -> (CreatedGame, Socket, Vec<Socket>) {
    let game = named_game(hub, json!({"action_timeout_ms": 600_000})).await;
    let viewer_query = format!("client_type=ui&game_id={}", game.game_id);
    let (mut viewer, _) = open(url(hub, "table", &viewer_query), "viewer").await;
    let c = client(hub);
    let mut agents = Vec::new();
    for s in &game.players {
        agents.push(
            c.connect_agent(&game.game_id, &s.player_id, &s.token)
                .await
                .expect("connect")
                .ws,
        );
    }
    wait_for(&mut viewer, "the night", |v| {
        v["message_type"] == "phase_update" && v["phase"] == "night"
    })
    .await;
    (game, viewer, agents)
}

/// Waits for the viewer's `game_over` and checks it and `GET /games` say "aborted".
async fn expect_aborted(hub: &RunningHub, game: &CreatedGame, viewer: &mut Socket) {
    let over = wait_for(viewer, "game_over (aborted)", |v| {
        v["message_type"] == "game_over"
    })
    .await;
    assert_eq!(over["winner"], "aborted", "{over}");
    assert_eq!(
        over["roles"].as_object().map(|r| r.len()),
        Some(5),
        "roles are revealed: {over}"
    );
    let deadline = Instant::now() + PATIENCE;
    loop {
        let (_, list) = http(hub, "GET", "/games", None).await;
        let entry = list
            .as_array()
            .expect("list")
            .iter()
            .find(|g| g["game_id"] == game.game_id.as_str())
            .cloned()
            .expect("listed");
        if entry["winner"] == "aborted" {
            break;
        }
        assert!(Instant::now() < deadline, "GET /games: {entry}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_game_ends_aborted() {
    let hub = hub_with(&[("GAME_ABANDON_S", "2")]).await;
    let (game, mut viewer, agents) = started_game(&hub).await;
    for mut a in agents {
        let _ = a.close(None).await;
    }
    let left = Instant::now();
    expect_aborted(&hub, &game, &mut viewer).await;
    assert!(
        left.elapsed() >= Duration::from_millis(1500),
        "aborted {:?} after the last agent left, before GAME_ABANDON_S=2",
        left.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_game_with_one_agent_left_is_not_abandoned() {
    let hub = hub_with(&[("GAME_ABANDON_S", "2")]).await;
    let (game, mut viewer, mut agents) = started_game(&hub).await;
    let mut last = agents.pop().expect("an agent");
    for mut a in agents {
        let _ = a.close(None).await;
    }
    // four seats offline for 4 s (twice GAME_ABANDON_S), one still connected: no abort
    let until = Instant::now() + Duration::from_secs(4);
    loop {
        match tokio::time::timeout_at(until, viewer.next()).await {
            Err(_) => break,
            Ok(Some(Ok(Message::Text(t)))) => {
                let v: Value = serde_json::from_str(t.as_str()).expect("json");
                assert_ne!(
                    v["message_type"], "game_over",
                    "aborted while an agent was connected: {v}"
                );
            }
            Ok(Some(Ok(_))) => continue,
            Ok(other) => panic!("viewer lost: {other:?}"),
        }
    }
    assert_undisturbed(&mut last, "the remaining agent").await;
    let _ = last.close(None).await;
    expect_aborted(&hub, &game, &mut viewer).await;
}

// ---- 6. REST bounds -------------------------------------------------------------------------

#[tokio::test]
async fn out_of_range_game_settings_are_refused_naming_the_field() {
    let hub = hub().await;
    let cases: Vec<(Value, &[&str])> = vec![
        (json!({"action_timeout_ms": 0}), &["action_timeout_ms"]),
        (
            json!({"action_timeout_ms": 86_400_001u64}),
            &["action_timeout_ms"],
        ),
        (json!({"talk_rounds": 0}), &["talk_rounds"]),
        (json!({"talk_rounds": 11}), &["talk_rounds"]),
        (json!({"max_message_chars": 0}), &["max_message_chars"]),
        (json!({"max_message_chars": 16_129}), &["max_message_chars"]),
        (
            json!({"max_message_chars": 100_000_000u64}),
            &["max_message_chars"],
        ),
        (
            json!({"observer_delay_ms": 86_400_001u64}),
            &["observer_delay_ms"],
        ),
        (
            json!({"observer_delay_ms": 999_999_999_999u64}),
            &["observer_delay_ms"],
        ),
        (
            json!({"preset": null, "roles": {"werewolf": 200, "seer": 1, "villager": 5}}),
            &["roles", "werewolf"],
        ),
        (
            json!({"preset": null, "roles": {"werewolf": 2, "seer": 1, "villager": 65}}),
            &["roles", "villager"],
        ),
    ];
    let mut wrong = Vec::new();
    for (extra, names) in cases {
        let mut body = json!({"preset": "aiwolf5", "rules": "hub"});
        for (k, v) in extra.as_object().expect("object") {
            if v.is_null() {
                body.as_object_mut().expect("object").remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        let (status, answer) = http(&hub, "POST", "/games", Some(body.clone())).await;
        let error = answer["error"].as_str().unwrap_or_default();
        if status != 400 || !names.iter().any(|n| error.contains(n)) {
            wrong.push(format!("{body} → {status} {answer}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "expected 400 naming the field:\n{}",
        wrong.join("\n")
    );
}

#[tokio::test]
async fn in_range_game_settings_at_the_edges_are_accepted() {
    let hub = hub().await;
    let mut wrong = Vec::new();
    for extra in [
        json!({"action_timeout_ms": 1}),
        json!({"action_timeout_ms": 86_400_000u64}),
        json!({"talk_rounds": 1}),
        json!({"talk_rounds": 10}),
        json!({"max_message_chars": 1}),
        json!({"max_message_chars": 16_128}),
        json!({"observer_delay_ms": 0}),
        json!({"observer_delay_ms": 86_400_000u64}),
        json!({"roles": {"werewolf": 2, "seer": 1, "villager": 61}}),
    ] {
        let mut body = json!({"preset": "aiwolf5", "rules": "hub"});
        for (k, v) in extra.as_object().expect("object") {
            body[k] = v.clone();
        }
        if body.get("roles").is_some() {
            body.as_object_mut().expect("object").remove("preset");
        }
        let (status, answer) = http(&hub, "POST", "/games", Some(body.clone())).await;
        if status != 201 {
            wrong.push(format!("{body} → {status} {answer}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "expected 201 at the edges:\n{}",
        wrong.join("\n")
    );
}
