//! Several hub processes over one real Redis as one hub (issue 13): any node serves any client
//! of any game, a game survives the SIGKILL of its node, Redis restarts are a pause, a
//! draining node hands its games over, REST, `/stats` and the lobby span the cluster.
//!
//! The game's seats are played by agents in this test, each on its own socket to some node,
//! answering every request from its content alone (so the same game gets the same answers in
//! every run); viewers read the public and the full stream. After a kill every client
//! reconnects through another node with `last_seq`.

mod common;

use common::process::{HubProc, RedisProc, TempDir};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

/// The longest a game of this file may take.
const GAME_LIMIT: Duration = Duration::from_secs(120);

/// One client of the game: a seat's agent or a viewer.
#[derive(Debug, Clone)]
struct Member {
    /// For messages.
    label: String,
    /// `/ws/{client_id}`.
    client_id: String,
    /// The query, without `last_seq`.
    query: String,
    /// Index into the node list of its first connection; later ones move on.
    first_node: usize,
    /// Whether it answers requests (a seat's agent).
    answers: bool,
}

/// What a member received, and how.
#[derive(Debug, Default)]
struct Received {
    /// Every stream frame (those with a `seq`, snapshots aside), in order of arrival.
    frames: Vec<Value>,
    /// Their `seq`s, in order.
    seqs: Vec<u64>,
    /// The `recovered` flag of every `connection` frame.
    recovered: Vec<bool>,
    /// Nodes it connected through, in order.
    nodes: Vec<usize>,
    /// Close codes it was given.
    closes: Vec<u16>,
    /// `game_state` snapshots whose `seq` was not the last one received (a gap).
    snapshot_gaps: Vec<(u64, u64)>,
    /// The `seq` of the first snapshot (the stream's head when the member first came).
    base: u64,
    /// Upgrades refused with 503 while the game moved.
    refusals: usize,
}

/// `p{n}` of a player id.
fn seat_of(player_id: &str) -> &str {
    player_id.rsplit_once('-').map_or(player_id, |(_, n)| n)
}

/// The answer a seat gives to a request: a pure function of the request.
fn answer(me: &str, request: &Value) -> Value {
    let rid = request["request_id"].clone();
    let action = request["action"].as_str().expect("action");
    if action == "talk" {
        return json!({"message_type": "player_action", "request_id": rid, "action": "talk",
                      "text": format!("{} speaks ({})", seat_of(me), rid.as_str().unwrap_or(""))});
    }
    // Chosen from what is asked, not by whom: the pack's votes agree, so the order in which
    // answers given at once reach the engine (network timing, in any run) changes nothing.
    let candidates = request["candidates"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let pick = (candidates
        .iter()
        // The seat part of the id only: the game id differs between runs.
        .flat_map(|c| {
            let id = c["player_id"].as_str().unwrap_or("");
            seat_of(id).bytes()
        })
        .chain(action.bytes())
        .map(u64::from)
        .sum::<u64>())
        % (candidates.len() as u64 + 1);
    let target = candidates
        .get(pick as usize)
        .map(|c| c["player_id"].clone())
        .unwrap_or(Value::Null);
    let mut a = json!({"message_type": "player_action", "request_id": rid, "action": action,
                       "target": target});
    if action == "witch" {
        a["save"] = json!(false);
    }
    a
}

/// Plays one member until the game is over: connects through `nodes[first_node]`, and after
/// every drop through the next node, with `last_seq`; a seat re-sends its answers to the
/// requests still open (an answer the dead node never applied is applied now; one it applied
/// is refused, changing nothing). `progress` counts the full-stream frames of viewers.
async fn play(
    member: Member,
    nodes: Arc<Vec<String>>,
    answer_delay: Duration,
    progress: Arc<AtomicUsize>,
) -> Received {
    let mut got = Received::default();
    let mut node = member.first_node;
    let mut last_seq: Option<u64> = None;
    let mut open: BTreeMap<String, (f64, Value)> = BTreeMap::new();
    let deadline = Instant::now() + GAME_LIMIT;
    'connect: loop {
        assert!(
            Instant::now() < deadline,
            "{}: the game did not end",
            member.label
        );
        let mut url = format!(
            "ws://{}/ws/{}?{}",
            nodes[node], member.client_id, member.query
        );
        if let Some(n) = last_seq {
            url.push_str(&format!("&last_seq={n}"));
        }
        let ws = tokio::time::timeout(
            Duration::from_secs(5),
            tokio_tungstenite::connect_async(url.as_str()),
        )
        .await;
        let mut ws = match ws {
            Ok(Ok((ws, _))) => ws,
            Ok(Err(tokio_tungstenite::tungstenite::Error::Http(answer))) => {
                // While the game moves between nodes: 503, retry (never a 404 or 401).
                let status = answer.status().as_u16();
                assert_eq!(status, 503, "{}: refused while reconnecting", member.label);
                got.refusals += 1;
                node = (node + 1) % nodes.len();
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            // The node is gone: the next one.
            _ => {
                node = (node + 1) % nodes.len();
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        got.nodes.push(node);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs_f64();
        for (_, a) in open.values().filter(|(due, _)| *due > now) {
            let _ = ws.send(Message::Text(a.to_string().into())).await;
        }
        loop {
            let next = tokio::time::timeout(Duration::from_secs(30), ws.next()).await;
            let message = match next {
                Ok(Some(Ok(m))) => m,
                _ => {
                    node = (node + 1) % nodes.len();
                    continue 'connect;
                }
            };
            let text = match message {
                Message::Text(t) => t,
                Message::Close(frame) => {
                    let code = frame.map_or(0, |f| u16::from(f.code));
                    got.closes.push(code);
                    assert_ne!(code, 4003, "{}: game removed before its end", member.label);
                    node = (node + 1) % nodes.len();
                    continue 'connect;
                }
                _ => continue,
            };
            let v: Value = serde_json::from_str(text.as_str()).expect("json frame");
            let kind = v["message_type"].as_str().unwrap_or("").to_owned();
            if kind == "connection" {
                got.recovered
                    .push(v["data"]["recovered"].as_bool().unwrap_or(false));
                continue;
            }
            let Some(seq) = v["seq"].as_u64() else {
                continue;
            };
            let have = last_seq.unwrap_or(0);
            // A first connection starts with a snapshot; later ones resume.
            if kind == "game_state" && (last_seq.is_none() || seq != have + 1) {
                // A snapshot consumes no number: it must carry the last one we have.
                if seq != have && last_seq.is_some() {
                    got.snapshot_gaps.push((have, seq));
                }
                if last_seq.is_none() {
                    got.base = seq;
                }
                last_seq = Some(seq);
                continue;
            }
            got.seqs.push(seq);
            last_seq = Some(seq);
            got.frames.push(v.clone());
            if member.query.contains("client_type=observer") && member.query.contains("token=") {
                progress.fetch_add(1, Ordering::Relaxed);
            }
            if kind == "action_request" && member.answers {
                let a = answer(&member.client_id, &v);
                let rid = v["request_id"].as_str().unwrap_or("").to_owned();
                open.insert(rid, (v["deadline"].as_f64().unwrap_or(0.0), a.clone()));
                tokio::time::sleep(answer_delay).await;
                let _ = ws.send(Message::Text(a.to_string().into())).await;
            }
            if kind == "game_over" {
                let _ = ws.close(None).await;
                return got;
            }
        }
    }
}

/// Creates the game on `addr`: nine named seats, long deadlines (no request may expire
/// while its node is down).
async fn create(addr: &str, seed: u64) -> (String, Vec<(String, String)>, String) {
    let names: Vec<String> = (1..=9).map(|i| format!("agent{i}")).collect();
    let body = json!({"preset": "classic9", "seed": seed, "players": names,
                      "action_timeout_ms": 60000});
    let (status, _, text) = common::http_raw(addr, "POST", "/games", Some(body), None).await;
    assert_eq!(status, 201, "{text}");
    let v: Value = serde_json::from_str(&text).expect("json");
    let seats = v["players"]
        .as_array()
        .expect("players")
        .iter()
        .map(|p| {
            (
                p["player_id"].as_str().expect("id").to_owned(),
                p["token"].as_str().expect("token").to_owned(),
            )
        })
        .collect();
    (
        v["game_id"].as_str().expect("gid").to_owned(),
        seats,
        v["observer_token"].as_str().expect("obs").to_owned(),
    )
}

/// The game's members: seat `i` first connects through node `i % nodes`, the viewers (a ui
/// and a full observer) through the last node.
fn members(gid: &str, seats: &[(String, String)], observer: &str, nodes: usize) -> Vec<Member> {
    let mut out: Vec<Member> = seats
        .iter()
        .enumerate()
        .map(|(i, (id, token))| Member {
            label: id.clone(),
            client_id: id.clone(),
            query: format!("client_type=agent&game_id={gid}&token={token}"),
            first_node: i % nodes,
            answers: true,
        })
        .collect();
    out.push(Member {
        label: "ui".into(),
        client_id: format!("{gid}-table"),
        query: format!("client_type=ui&game_id={gid}"),
        first_node: nodes - 1,
        answers: false,
    });
    out.push(Member {
        label: "observer".into(),
        client_id: format!("{gid}-watcher"),
        query: format!("client_type=observer&game_id={gid}&token={observer}"),
        first_node: nodes - 1,
        answers: false,
    });
    out
}

/// Every member's `seq`s are 1, 2, 3, … with nothing missing or repeated, across reconnects.
fn assert_gap_free(label: &str, got: &Received) {
    let expected: Vec<u64> = (got.base + 1..=got.base + got.seqs.len() as u64).collect();
    assert_eq!(
        got.seqs, expected,
        "{label}: stream not gap-free across reconnects"
    );
    assert!(
        got.snapshot_gaps.is_empty(),
        "{label}: a reconnect fell back to a snapshot past a gap: {:?}",
        got.snapshot_gaps
    );
}

/// The full view's frames as a game, without wall-clock facts and connection facts
/// (`presence` frames and the players' `connected` in `game_state`: who was connected when
/// differs with every run), each day-part's frames
/// sorted (answers given at once reach the engine in network order, in any run).
fn canonical(frames: &[Value], gid: &str) -> Vec<Vec<String>> {
    let mut parts: Vec<Vec<String>> = vec![Vec::new()];
    for frame in frames {
        let mut v = frame.clone();
        if v["message_type"] == "presence" {
            continue;
        }
        let phase_change = v["message_type"] == "phase_update";
        if let Some(m) = v.as_object_mut() {
            for key in ["timestamp", "deadline", "seq", "game_id"] {
                m.remove(key);
            }
            // Ballots are published in the order cast, which is arrival order: the set is
            // the game's, the order is the connections'.
            if let Some(ballots) = m.get_mut("ballots").and_then(Value::as_array_mut) {
                ballots.sort_by_key(Value::to_string);
            }
            // Who was connected at that moment is a connection fact too.
            if let Some(players) = m.get_mut("players").and_then(Value::as_array_mut) {
                for p in players.iter_mut().filter_map(Value::as_object_mut) {
                    p.remove("connected");
                }
            }
        }
        let text = v.to_string().replace(gid, "G");
        if phase_change {
            parts.push(Vec::new());
        }
        parts.last_mut().expect("a part").push(text);
    }
    for part in &mut parts {
        part.sort();
    }
    parts
}

/// The full view as the store has it, from any node.
async fn full_replay(addr: &str, gid: &str, token: &str) -> Vec<Value> {
    let path = format!("/games/{gid}/events?view=full&token={token}");
    let (status, _, text) = common::http_raw(addr, "GET", &path, None, None).await;
    assert_eq!(status, 200, "{text}");
    text.lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

/// Runs one game with every member on its own task; `during` runs once the full observer has
/// seen `after` frames.
async fn run_game(
    nodes: Vec<String>,
    gid: &str,
    members: Vec<Member>,
    after: usize,
    during: impl FnOnce(),
) -> Vec<(Member, Received)> {
    let nodes = Arc::new(nodes);
    let progress = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for m in members {
        let (nodes, progress) = (nodes.clone(), progress.clone());
        tasks.push(tokio::spawn(async move {
            let got = play(m.clone(), nodes, Duration::from_millis(25), progress).await;
            (m, got)
        }));
    }
    let limit = Instant::now() + GAME_LIMIT;
    while progress.load(Ordering::Relaxed) < after {
        assert!(Instant::now() < limit, "game {gid} did not get going");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    during();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("member task"));
    }
    out
}

/// The reference: the same game on one hub on its own, nobody interrupted.
async fn reference(seed: u64) -> Vec<Vec<String>> {
    let hub = HubProc::start("memory", None);
    let (gid, seats, observer) = create(&hub.addr, seed).await;
    let played = run_game(
        vec![hub.addr.clone()],
        &gid,
        members(&gid, &seats, &observer, 1),
        0,
        || {},
    )
    .await;
    for (m, got) in &played {
        assert_gap_free(&m.label, got);
    }
    canonical(&full_replay(&hub.addr, &gid, &observer).await, &gid)
}

/// What every test of a disturbed game checks: each member's stream is gap-free and it
/// resumed after every reconnect, ending on a node not in `gone`; the full view the observer
/// received live is the stored one; the game is the uninterrupted one and finished.
fn assert_same_game(
    played: &[(Member, Received)],
    stored: &[Value],
    gid: &str,
    expected: &[Vec<String>],
    gone: &[usize],
) {
    for (m, got) in played {
        assert_gap_free(&m.label, got);
        let last = *got.nodes.last().expect("connected at least once");
        assert!(
            !gone.contains(&last),
            "{}: every client ends on a live node: {:?}",
            m.label,
            got.nodes
        );
        if got.nodes.len() > 1 {
            assert!(
                got.recovered[1..].iter().all(|r| *r),
                "{}: every reconnect resumed from last_seq: {:?}",
                m.label,
                got.recovered
            );
        }
    }
    let (_, full) = played
        .iter()
        .find(|(m, _)| m.label == "observer")
        .expect("observer");
    let from = full.base as usize;
    assert_eq!(
        full.frames,
        stored[from..from + full.frames.len()],
        "the full view as received live is the stored one"
    );
    let got = canonical(stored, gid);
    assert_eq!(got.len(), expected.len(), "same number of day-parts");
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert_eq!(g, e, "day-part {i} differs from the uninterrupted game");
    }
    assert!(
        stored.iter().any(|f| f["message_type"] == "game_over"),
        "the game finished"
    );
}

fn node_env(redis: &str, lease_ms: &str) -> Vec<(String, String)> {
    vec![
        ("HUB_REDIS_URL".into(), redis.to_owned()),
        ("HUB_REDIS_LEASE_MS".into(), lease_ms.to_owned()),
    ]
}

fn start_node(env: &[(String, String)]) -> HubProc {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    HubProc::start_with("sqlite", None, None, &env)
}

/// Three nodes, one Redis. The game runs on node 0; its seats sit on all three nodes, its
/// viewers on node 2. Node 0 is SIGKILLed mid-game: another node takes the game over from
/// its log, every client comes back through a live node with `last_seq`, every stream is
/// gap-free, the full view each viewer received is the stored one byte for byte, and the
/// game is the uninterrupted game.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_nodes_survive_the_owner_s_kill_9() {
    let seed = 4242;
    let expected = reference(seed).await;

    let dir = TempDir::new("cluster3");
    let redis = RedisProc::start(dir.path());
    // Longer than a dead node's record lives (3 s): for a while the game's lease names a node
    // that is known to be gone, and nodes answer 503 until the lease runs out.
    let env = node_env(&redis.url(), "4000");
    let mut owner = start_node(&env);
    let b = start_node(&env);
    let c = start_node(&env);
    let nodes = vec![owner.addr.clone(), b.addr.clone(), c.addr.clone()];
    let (gid, seats, observer) = create(&owner.addr, seed).await;

    let owner_pid = owner.child.id();
    let played = run_game(
        nodes.clone(),
        &gid,
        members(&gid, &seats, &observer, 3),
        30,
        move || {
            // SAFETY: kill(2) on our own child.
            assert_eq!(
                unsafe { libc::kill(owner_pid as libc::pid_t, libc::SIGKILL) },
                0
            );
        },
    )
    .await;
    let _ = owner.child.wait();

    let stored = full_replay(&b.addr, &gid, &observer).await;
    assert_same_game(&played, &stored, &gid, &expected, &[0]);
    assert!(
        played.iter().any(|(_, g)| g.refusals > 0),
        "some client reached a node while the game was between nodes"
    );
    // Every client sat on the dead node or on a relay to it: each came back.
    for (m, got) in &played {
        assert!(
            got.nodes.len() > 1,
            "{}: reconnected: {:?}",
            m.label,
            got.nodes
        );
        assert!(
            got.closes.iter().all(|&c| c == 1012 || c == 0),
            "{}: told to reconnect (1012) or cut: {:?}",
            m.label,
            got.closes
        );
    }
    // The game did move: its new node took it over from the log.
    let took_over = [&b, &c]
        .iter()
        .any(|n| n.stderr().iter().any(|l| l.contains("took over")));
    assert!(took_over, "another node took the game over");
}

/// A node that is stopped (SIGTERM) in the middle of a game closes its clients with 1012
/// (service restart), gives the game's lease up, and another node finishes the game: nothing
/// lost, nothing repeated, the same game.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_draining_node_closes_with_1012_and_hands_its_game_over() {
    let seed = 99;
    let expected = reference(seed).await;
    let dir = TempDir::new("cluster-drain");
    let redis = RedisProc::start(dir.path());
    // A long lease: the handover must come from the drain giving it up, not from expiry.
    let env = node_env(&redis.url(), "30000");
    let mut draining = start_node(&env);
    let b = start_node(&env);
    let nodes = vec![draining.addr.clone(), b.addr.clone()];
    let (gid, seats, observer) = create(&draining.addr, seed).await;
    // Everyone starts on the node that will drain.
    let mut all = members(&gid, &seats, &observer, 1);
    for m in &mut all {
        m.first_node = 0;
    }
    let pid = draining.child.id();
    let started = Instant::now();
    let played = run_game(nodes, &gid, all, 30, move || {
        // SAFETY: kill(2) on our own child.
        assert_eq!(unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) }, 0);
    })
    .await;
    let status = common::process::wait_exit(&mut draining.child, Duration::from_secs(10));
    assert!(status.success(), "clean exit after SIGTERM: {status}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the game moved before the 30 s lease could run out"
    );
    let stored = full_replay(&b.addr, &gid, &observer).await;
    assert_same_game(&played, &stored, &gid, &expected, &[0]);
    for (m, got) in &played {
        assert_eq!(
            got.closes.first(),
            Some(&1012),
            "{}: told 1012 (service restart) by the draining node",
            m.label
        );
    }
}

/// Redis is SIGKILLed mid-game and restarted on its files (AOF, `appendfsync always`): the
/// game pauses and goes on, on the same node, with every client through either node seeing
/// a gap-free stream and the same game.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_redis_restart_mid_game_is_a_pause() {
    let seed = 7;
    let expected = reference(seed).await;
    let dir = TempDir::new("cluster-redis");
    let redis = Arc::new(std::sync::Mutex::new(RedisProc::start(dir.path())));
    let url = redis.lock().expect("redis").url();
    let env = node_env(&url, "5000");
    let a = start_node(&env);
    let b = start_node(&env);
    let nodes = vec![a.addr.clone(), b.addr.clone()];
    let (gid, seats, observer) = create(&a.addr, seed).await;
    let restart = redis.clone();
    let played = run_game(
        nodes,
        &gid,
        members(&gid, &seats, &observer, 2),
        30,
        move || restart.lock().expect("redis").kill9_and_restart(),
    )
    .await;
    let stored = full_replay(&b.addr, &gid, &observer).await;
    assert_same_game(&played, &stored, &gid, &expected, &[]);
    for hub in [&a, &b] {
        assert!(
            !hub.stderr().iter().any(|l| l.contains("halted")),
            "no game halted: {:#?}",
            hub.stderr()
        );
    }
}

/// REST on any node sees every game and agent and acts on games another node runs; `/stats`
/// adds the nodes up; the lobby relay and `disconnection` notices reach lobby clients on
/// every node; a relayed socket is counted once, by the node holding it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_stats_and_the_lobby_span_the_nodes() {
    let dir = TempDir::new("cluster-rest");
    let redis = RedisProc::start(dir.path());
    let env = node_env(&redis.url(), "5000");
    let a = start_node(&env);
    let b = start_node(&env);

    // A game in its lobby on A, joined through B.
    let body = json!({"preset": "aiwolf5", "rules": "hub", "auto_start": false});
    let (status, _, text) = common::http_raw(&a.addr, "POST", "/games", Some(body), None).await;
    assert_eq!(status, 201, "{text}");
    let gid = serde_json::from_str::<Value>(&text).expect("json")["game_id"]
        .as_str()
        .expect("gid")
        .to_owned();
    let path = format!("/games/{gid}/join");
    let (status, _, text) = common::http_raw(
        &b.addr,
        "POST",
        &path,
        Some(json!({"name": "remote"})),
        None,
    )
    .await;
    assert_eq!(status, 200, "join through the other node: {text}");
    let seat: Value = serde_json::from_str(&text).expect("json");
    let (status, _, text) = common::http_raw(
        &b.addr,
        "POST",
        &path,
        Some(json!({"name": "remote"})),
        None,
    )
    .await;
    assert_eq!(status, 409, "the owner's refusal comes back as is: {text}");
    let (status, _, text) =
        common::http_raw(&b.addr, "GET", &format!("/games/{gid}"), None, None).await;
    assert_eq!(status, 200, "{text}");
    let view: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(view["game_id"], gid.as_str(), "{view}");
    let owner = stats(&a.addr).await["cluster"]["node_id"].clone();
    assert!(owner.is_string(), "a node id");
    for node in [&a, &b] {
        let (_, _, text) = common::http_raw(&node.addr, "GET", "/games", None, None).await;
        let list: Vec<Value> = serde_json::from_str(&text).expect("json");
        let listed: Vec<&Value> = list
            .iter()
            .filter(|g| g["game_id"] == gid.as_str())
            .collect();
        assert_eq!(listed.len(), 1, "every node lists the game once: {list:?}");
        assert_eq!(listed[0]["node"], owner, "with the node running it");
        let (_, _, text) = common::http_raw(&node.addr, "GET", "/agents", None, None).await;
        let agents: Vec<Value> = serde_json::from_str(&text).expect("json");
        assert!(
            agents.iter().any(|g| g["name"] == "remote"),
            "every node lists the agent: {agents:?}"
        );
    }

    // The seat's agent through B (relayed to A); a ui on A, a lobby agent on B.
    let player = seat["player_id"].as_str().expect("id");
    let token = seat["token"].as_str().expect("token");
    let url = format!(
        "ws://{}/ws/{player}?client_type=agent&game_id={gid}&token={token}",
        b.addr
    );
    let (mut agent, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .expect("seat through B");
    let welcome = next_json(&mut agent).await;
    assert_eq!(welcome["data"]["game_id"], gid.as_str(), "{welcome}");
    let bad = format!(
        "ws://{}/ws/{player}?client_type=agent&game_id={gid}&token=wrong",
        b.addr
    );
    match tokio_tungstenite::connect_async(bad.as_str()).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => {
            assert_eq!(r.status().as_u16(), 401, "the owner's refusal, relayed")
        }
        other => panic!("a wrong token must be refused: {other:?}"),
    }
    let (mut ui, _) =
        tokio_tungstenite::connect_async(format!("ws://{}/ws/table-a?client_type=ui", a.addr))
            .await
            .expect("ui on A");
    next_json(&mut ui).await;
    let (mut lobby, _) =
        tokio_tungstenite::connect_async(format!("ws://{}/ws/chat-b?client_type=agent", b.addr))
            .await
            .expect("lobby agent on B");
    next_json(&mut lobby).await;

    // `/stats`: each node its own sockets (the relayed seat on B only), the cluster all three.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let sa = stats(&a.addr).await;
        let sb = stats(&b.addr).await;
        let ids = |s: &Value| -> Vec<String> {
            s["clients"]
                .as_array()
                .expect("clients")
                .iter()
                .map(|c| c["client_id"].as_str().unwrap_or("").to_owned())
                .collect()
        };
        let settled = sa["cluster"]["total_clients"] == 3 && sb["cluster"]["total_clients"] == 3;
        if settled {
            assert_eq!(ids(&sa), vec!["table-a".to_owned()], "{sa}");
            let mut on_b = ids(&sb);
            on_b.sort();
            assert_eq!(on_b, vec!["chat-b".to_owned(), player.to_owned()], "{sb}");
            assert_eq!(sb["cluster"]["nodes"].as_array().map(Vec::len), Some(2));
            assert_eq!(sb["cluster"]["by_type"]["agent"], 2, "{sb}");
            let (_, _, metrics) = common::http_raw(&b.addr, "GET", "/metrics", None, None).await;
            assert!(
                metrics.contains("werewolf_relayed_connections{client_type=\"agent\"} 1"),
                "{metrics}"
            );
            assert!(metrics.contains("werewolf_cluster_nodes 2"), "{metrics}");
            break;
        }
        assert!(Instant::now() < deadline, "cluster totals: {sa} {sb}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The lobby relay crosses nodes, and so does the notice of a lobby client leaving.
    let said = json!({"message_type": "agent_message", "message_text": "hello from B"});
    lobby
        .send(Message::Text(said.to_string().into()))
        .await
        .expect("send");
    let heard = next_json(&mut ui).await;
    assert_eq!(heard["message_type"], "agent_message", "{heard}");
    assert_eq!(heard["message_text"], "hello from B", "{heard}");
    assert_eq!(heard["agent_id"], "chat-b", "{heard}");
    lobby.close(None).await.expect("close");
    let gone = next_json(&mut ui).await;
    assert_eq!(gone["message_type"], "disconnection", "{gone}");
    assert_eq!(gone["client_id"], "chat-b", "{gone}");
    agent.close(None).await.expect("close");
}

async fn stats(addr: &str) -> Value {
    let (status, _, text) = common::http_raw(addr, "GET", "/stats", None, None).await;
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).expect("json")
}

/// The next text frame as JSON.
async fn next_json<S>(ws: &mut S) -> Value
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        let m = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a frame within 10 s")
            .expect("open")
            .expect("frame");
        if let Message::Text(t) = m {
            return serde_json::from_str(t.as_str()).expect("json");
        }
    }
}
