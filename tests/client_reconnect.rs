//! The client's reconnects (issue 9, "Resume by seq"), end to end against real hubs: a TCP
//! proxy between the client and the hub cuts every connection at chosen moments (the client
//! sees a real TCP loss), refuses new ones for a while, and can point at another hub.
//!
//! Tests that need the server side of issue 9 (`last_seq`, `connection.data.recovered`,
//! `GET /games/{id}/events`, the durable store) say so in their doc comment; the others
//! check what the client must do with any hub (close-code table, give-up budget, refusals,
//! fallback URLs).

mod common;

use common::*;
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use werewolf_client::{
    Agent, ClientError, CreatedGame, Hub, Knowledge, RandomStrategy, ReconnectPolicy, Strategy,
    Viewer,
};
use werewolf_schemas::{GameOverBody, ResultKind, ServerMessage};
use werewolf_server::{Config, RunningHub};

/// Settings of every hub here (the common helper keeps them in memory).
const FAST: [(&str, &str); 2] = [("WS_RATE_PER_SEC", "1000"), ("WS_RATE_BURST", "1000")];

/// How long the bots here think before answering: a game lasts a few seconds.
const BOT_DELAY: Duration = Duration::from_millis(80);

/// How long a whole game may take here, outages included.
const GAME_BUDGET: Duration = Duration::from_secs(60);

// ---- a TCP proxy the test can cut -------------------------------------------------------

/// Forwards TCP connections to a hub. [`Proxy::cut`] drops every live connection at once
/// (both ends see the TCP connection end, as when a NAT or a Wi-Fi link drops it) and makes
/// new connections fail until [`Proxy::restore`].
struct Proxy {
    addr: SocketAddr,
    shared: Arc<ProxyShared>,
    accept: JoinHandle<()>,
}

struct ProxyShared {
    up: AtomicBool,
    upstream: Mutex<SocketAddr>,
    links: Mutex<Vec<JoinHandle<()>>>,
}

impl Proxy {
    async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy binds");
        let addr = listener.local_addr().expect("proxy addr");
        let shared = Arc::new(ProxyShared {
            up: AtomicBool::new(true),
            upstream: Mutex::new(upstream),
            links: Mutex::new(Vec::new()),
        });
        let s = shared.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !s.up.load(Ordering::SeqCst) {
                    drop(client); // the handshake fails: the client must try again later
                    continue;
                }
                let upstream = *s.upstream.lock().expect("lock");
                let link = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                s.links.lock().expect("lock").push(link);
            }
        });
        Proxy {
            addr,
            shared,
            accept,
        }
    }

    /// `http://` URL of the proxy.
    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Drops every live connection and refuses new ones.
    fn cut(&self) {
        self.shared.up.store(false, Ordering::SeqCst);
        for link in self.shared.links.lock().expect("lock").drain(..) {
            link.abort();
        }
    }

    /// Accepts connections again.
    fn restore(&self) {
        self.shared.up.store(true, Ordering::SeqCst);
    }

    /// Forwards new connections to another hub.
    fn point_at(&self, upstream: SocketAddr) {
        *self.shared.upstream.lock().expect("lock") = upstream;
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

// ---- helpers ------------------------------------------------------------------------------

fn direct(hub: &RunningHub) -> Hub {
    Hub::new(&format!("http://{}", hub.addr())).expect("valid hub URL")
}

fn now_s() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs_f64()
}

async fn aiwolf5(hub: &RunningHub, extra: Value) -> CreatedGame {
    let mut body = json!({"preset": "aiwolf5", "rules": "hub", "seed": 9, "players": ["A", "B", "C", "D", "E"],
                          "talk_rounds": 3, "action_timeout_ms": 30_000});
    for (k, v) in extra.as_object().expect("object") {
        body[k] = v.clone();
    }
    direct(hub).create_game(&body).await.expect("create")
}

/// A bot that answers each request after `delay` (so that a game lasts long enough to be
/// cut several times), through [`Agent::recv`] and [`Agent::send`]. Returns every frame it
/// was given.
async fn slow_bot(
    mut agent: Agent,
    seed: u64,
    delay: Duration,
) -> Result<(GameOverBody, Vec<String>, Agent), ClientError> {
    let mut strategy = RandomStrategy::new(seed);
    let (mut state, mut last_result) = (None, None);
    let mut frames = Vec::new();
    loop {
        let (raw, frame) = agent.recv().await?;
        frames.push(raw);
        match frame.message {
            ServerMessage::GameState(s) => state = Some(s),
            ServerMessage::ActionResult(r)
                if matches!(
                    r.action,
                    ResultKind::Divine | ResultKind::Medium | ResultKind::Witch
                ) =>
            {
                last_result = Some(r)
            }
            ServerMessage::ActionRequest(request) => {
                tokio::time::sleep(delay).await;
                let knowledge = Knowledge {
                    state: state.as_ref(),
                    last_result: last_result.as_ref(),
                };
                let answer = strategy.decide(&request, &knowledge).reply_to(&request);
                // a send on a dead socket is fine: the answer is kept and re-sent after the
                // reconnect
                let _ = agent.send(answer).await;
            }
            ServerMessage::GameOver(over) => return Ok((over, frames, agent)),
            _ => {}
        }
    }
}

/// Reads a viewer until `game_over`; returns the frames.
async fn watch_to_the_end(mut viewer: Viewer) -> (Vec<String>, Viewer) {
    let mut frames = Vec::new();
    loop {
        let (raw, frame) = viewer.recv().await.expect("viewer reads to the end");
        frames.push(raw);
        if matches!(frame.message, ServerMessage::GameOver(_)) {
            return (frames, viewer);
        }
    }
}

fn json_of(raw: &str) -> Value {
    serde_json::from_str(raw).expect("json")
}

/// The stream frames of a recording (frames with a `seq`), without the `game_state`
/// snapshots that follow each `connection` frame (they carry the head, not a number of
/// their own).
fn stream_frames(frames: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut after_connection = false;
    for raw in frames {
        let v = json_of(raw);
        if v["message_type"] == "connection" {
            after_connection = true;
            continue;
        }
        if v.get("seq").is_none() {
            continue;
        }
        let snapshot = after_connection && v["message_type"] == "game_state";
        after_connection = false;
        if !snapshot {
            out.push(raw.clone());
        }
    }
    out
}

/// Asserts that the stream frames' `seq` go up by one each time.
fn assert_gap_free(who: &str, frames: &[String]) {
    let seqs: Vec<u64> = frames
        .iter()
        .map(|raw| json_of(raw)["seq"].as_u64().expect("seq"))
        .collect();
    assert!(!seqs.is_empty(), "{who}: no stream frame");
    for pair in seqs.windows(2) {
        assert_eq!(
            pair[1],
            pair[0] + 1,
            "{who}: seq {} follows {}: {seqs:?}",
            pair[1],
            pair[0]
        );
    }
}

/// `GET /games/{id}/events?view=...` (ndjson), one line per frame, through `game_over`.
async fn replay(hub: &RunningHub, game_id: &str, view: &str) -> Vec<String> {
    let url = format!("http://{}/games/{game_id}/events?view={view}", hub.addr());
    let response = reqwest::get(url).await.expect("replay GET");
    let status = response.status();
    let text = response.text().await.expect("replay body");
    assert!(status.is_success(), "replay of {view}: {status} {text}");
    let mut lines = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        lines.push(line.to_owned());
        if json_of(line)["message_type"] == "game_over" {
            break;
        }
    }
    lines
}

/// Whether any frame was built by the hub while the proxy was down.
fn built_during(frames: &[String], outages: &[(f64, f64)]) -> bool {
    frames.iter().any(|raw| {
        let t = json_of(raw)["timestamp"].as_f64().unwrap_or(0.0);
        outages.iter().any(|(from, to)| t > *from && t < *to)
    })
}

/// A ReconnectPolicy with short waits for tests.
fn quick() -> ReconnectPolicy {
    ReconnectPolicy {
        initial_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        give_up_after: Some(Duration::from_secs(20)),
        ..ReconnectPolicy::default()
    }
}

// ---- tests --------------------------------------------------------------------------------

/// Needs the server side of issue 9. A seat's agent (in [`Agent::play`]), a table view and
/// a full observer go through a proxy that cuts every connection several times while the
/// game runs (the other seats keep playing meanwhile). Each reconnects by itself with
/// `last_seq`, is told `recovered: true`, and ends with exactly the frames of its stream:
/// gap-free `seq`, nothing twice, byte-identical to the hub's replay of that stream,
/// including frames the hub built while it was cut off. The agent answered every request
/// (no timeout).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_and_viewers_resume_across_tcp_drops_without_missing_a_frame() {
    let hub = hub_with(&FAST).await;
    let game = aiwolf5(&hub, json!({})).await;
    let proxy = Proxy::start(hub.addr()).await;
    let via_proxy = Hub::new(&proxy.url())
        .expect("valid hub URL")
        .with_reconnect(quick());
    let gid = game.game_id.clone();

    let ui = via_proxy
        .watch("table", "ui", &gid, None)
        .await
        .expect("ui");
    let full = via_proxy
        .watch("spectator", "observer", &gid, Some(&game.observer_token))
        .await
        .expect("observer");
    let ui = tokio::spawn(watch_to_the_end(ui));
    let full = tokio::spawn(watch_to_the_end(full));

    let seat = game.players[0].clone();
    let mut agent = via_proxy
        .connect_agent(&gid, &seat.player_id, &seat.token)
        .await
        .expect("agent");
    let player = tokio::spawn(async move {
        let mut frames = Vec::new();
        let over = agent
            .play(&mut RandomStrategy::new(7), |raw, _| {
                frames.push(raw.to_owned())
            })
            .await;
        (over, frames, agent)
    });
    let mut bots = Vec::new();
    for (i, s) in game.players.iter().enumerate().skip(1) {
        let agent = direct(&hub)
            .connect_agent(&gid, &s.player_id, &s.token)
            .await
            .expect("bot");
        bots.push(tokio::spawn(slow_bot(agent, i as u64, BOT_DELAY)));
    }

    // cut for 150 ms every 300 ms until the seat's agent is done
    let mut outages = Vec::new();
    tokio::time::sleep(Duration::from_millis(100)).await;
    while !player.is_finished() && outages.len() < 100 {
        let from = now_s();
        proxy.cut();
        tokio::time::sleep(Duration::from_millis(150)).await;
        proxy.restore();
        outages.push((from, now_s()));
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let (over, frames, agent) = tokio::time::timeout(GAME_BUDGET, player)
        .await
        .expect("the game ends")
        .expect("task");
    let over = over.expect("the agent plays to game_over through the cuts");
    for bot in bots {
        bot.await.expect("task").expect("bot finishes");
    }
    let (ui_frames, ui) = ui.await.expect("ui task");
    let (full_frames, full) = full.await.expect("observer task");
    eprintln!("{} outages", outages.len());
    assert!(
        outages.len() >= 2,
        "the game was cut {} times: make it longer",
        outages.len()
    );

    let stats = agent.stats().clone();
    assert!(stats.reconnects() >= 1, "the agent was cut: {stats:?}");
    for (who, stats) in [
        ("agent", &stats),
        ("ui", ui.stats()),
        ("full observer", full.stats()),
    ] {
        eprintln!("{who}: {stats:?}");
        assert!(stats.reconnects() >= 1, "{who}: {stats:?}");
        assert!(
            stats.recovered.iter().all(|r| *r == Some(true)),
            "{who}: every reconnect resumed from last_seq: {stats:?}"
        );
        assert!(stats.missed.is_empty(), "{who} missed frames: {stats:?}");
    }

    // gap-free, nothing twice, and exactly the hub's record of each stream
    let seat_view = format!("seat:{}", seat.player_id);
    for (who, frames, view) in [
        ("agent", &frames, seat_view.as_str()),
        ("ui", &ui_frames, "public"),
        ("full observer", &full_frames, "full"),
    ] {
        let stream = stream_frames(frames);
        assert_gap_free(who, &stream);
        let logged = replay(&hub, &gid, view).await;
        assert_eq!(
            stream, logged,
            "{who}: received frames == the hub's replay of {view}"
        );
    }
    assert!(
        built_during(&stream_frames(&full_frames), &outages),
        "some frames were built while the proxy was down (and recovered)"
    );
    assert_eq!(over.game_id, gid);
    let stats = get_json(&hub, "/stats").await;
    assert!(
        stats["timeouts_by_agent"].get(&seat.player_id).is_none(),
        "the agent answered every request in time: {stats}"
    );
}

/// A close code whose table entry says "do not reconnect" ends the agent with a typed error
/// at once: here 4000, when another connection with the seat's token replaces it. The
/// newer connection is not evicted in turn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_agent_stops_with_4000_and_does_not_come_back() {
    let hub = hub_with(&FAST).await;
    let game = aiwolf5(&hub, json!({"auto_start": false})).await;
    let seat = game.players[0].clone();
    let mut agent = direct(&hub)
        .with_reconnect(quick())
        .connect_agent(&game.game_id, &seat.player_id, &seat.token)
        .await
        .expect("agent");
    let reader = tokio::spawn(async move {
        let result = loop {
            if let Err(e) = agent.recv().await {
                break e;
            }
        };
        (result, agent)
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let url = format!(
        "ws://{}/ws/{}?client_type=agent&game_id={}&token={}",
        hub.addr(),
        seat.player_id,
        game.game_id,
        seat.token
    );
    let (mut newer, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("the same token reconnects");
    let (error, agent) = tokio::time::timeout(PATIENCE, reader)
        .await
        .expect("the agent stops")
        .expect("task");
    match &error {
        ClientError::HubClosed { code, meaning, .. } => {
            assert_eq!(*code, 4000, "{error}");
            assert!(meaning.contains("replaced"), "{error}");
        }
        other => panic!("expected HubClosed 4000, got {other:?}"),
    }
    assert!(error.to_string().contains("4000"), "{error}");
    assert_eq!(agent.stats().connections, 1, "no reconnect after 4000");
    // the newer connection stays: nothing closes it within a while
    let deadline = tokio::time::Instant::now() + Duration::from_millis(600);
    while let Ok(next) = tokio::time::timeout_at(deadline, newer.next()).await {
        match next {
            Some(Ok(Message::Close(frame))) => panic!("the newer connection was closed: {frame:?}"),
            Some(Ok(_)) => continue,
            other => panic!("the newer connection ended: {other:?}"),
        }
    }
}

/// A hub that stays unreachable: the agent retries with backoff, then gives up with
/// [`ClientError::GaveUp`] once its budget is spent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_gives_up_when_the_hub_stays_unreachable() {
    let hub = hub_with(&FAST).await;
    let game = aiwolf5(&hub, json!({"auto_start": false})).await;
    let proxy = Proxy::start(hub.addr()).await;
    let seat = game.players[0].clone();
    let policy = ReconnectPolicy {
        initial_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(100),
        give_up_after: Some(Duration::from_millis(700)),
        ..ReconnectPolicy::default()
    };
    let mut agent = Hub::new(&proxy.url())
        .expect("valid hub URL")
        .with_reconnect(policy)
        .connect_agent(&game.game_id, &seat.player_id, &seat.token)
        .await
        .expect("agent");
    let (raw, _) = agent.recv().await.expect("connection frame");
    assert_eq!(json_of(&raw)["message_type"], "connection");
    proxy.cut();
    let started = tokio::time::Instant::now();
    let error = loop {
        match tokio::time::timeout(PATIENCE, agent.recv())
            .await
            .expect("gives up in time")
        {
            Ok(_) => continue,
            Err(e) => break e,
        }
    };
    let took = started.elapsed();
    match &error {
        ClientError::GaveUp { attempts, .. } => assert!(*attempts >= 3, "{error}"),
        other => panic!("expected GaveUp, got {other:?}"),
    }
    assert!(
        took >= Duration::from_millis(600) && took < Duration::from_secs(5),
        "gave up after {took:?}"
    );
    assert_eq!(agent.stats().drops.len(), 1, "{:?}", agent.stats());
}

/// A reconnect the hub refuses before the upgrade (here 404: the proxy now leads to a hub
/// that does not know the game) ends the agent with [`ClientError::Refused`] and the hub's
/// JSON reason, without retrying.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_reconnect_ends_with_the_status_and_the_reason() {
    let hub = hub_with(&FAST).await;
    let other = hub_with(&FAST).await;
    let game = aiwolf5(&hub, json!({"auto_start": false})).await;
    let proxy = Proxy::start(hub.addr()).await;
    let seat = game.players[0].clone();
    let mut agent = Hub::new(&proxy.url())
        .expect("valid hub URL")
        .with_reconnect(quick())
        .connect_agent(&game.game_id, &seat.player_id, &seat.token)
        .await
        .expect("agent");
    agent.recv().await.expect("connection frame");
    proxy.point_at(other.addr());
    proxy.cut();
    proxy.restore();
    let error = loop {
        match tokio::time::timeout(PATIENCE, agent.recv())
            .await
            .expect("ends in time")
        {
            Ok(_) => continue,
            Err(e) => break e,
        }
    };
    match &error {
        ClientError::Refused { status, reason } => {
            assert_eq!(*status, 404, "{error}");
            // the hub's JSON `error` field, not the raw body
            assert!(!reason.is_empty() && !reason.starts_with('{'), "{reason}");
        }
        other => panic!("expected Refused 404, got {other:?}"),
    }
}

/// Several hub URLs: calls and connections go to the next one when the first is down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_hub_url_is_tried_when_the_first_is_down() {
    let hub = hub_with(&FAST).await;
    let dead = {
        let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        l.local_addr().expect("addr")
    };
    let c = Hub::new(&format!("http://{dead}"))
        .and_then(|h| h.with_fallback(&format!("ws://{}", hub.addr())))
        .expect("valid hub URLs");
    assert_eq!(c.bases().len(), 2);
    let game = c
        .create_game(
            &json!({"preset": "aiwolf5", "rules": "hub", "players": ["A", "B", "C", "D", "E"],
                             "auto_start": false}),
        )
        .await
        .expect("create through the fallback URL");
    let seat = &game.players[0];
    let mut agent = c
        .connect_agent(&game.game_id, &seat.player_id, &seat.token)
        .await
        .expect("connect through the fallback URL");
    let (raw, _) = agent.recv().await.expect("connection frame");
    assert_eq!(json_of(&raw)["message_type"], "connection");
    let mut viewer = c
        .watch("table", "ui", &game.game_id, None)
        .await
        .expect("viewer through the fallback URL");
    let (raw, _) = viewer.recv().await.expect("connection frame");
    assert_eq!(json_of(&raw)["client_id"], "table");
}

/// Needs the server side of issue 9 (durable store). The hub stops (close 1001) in the
/// middle of a game and starts again on the same data directory at another address, behind
/// the same proxy: every agent reconnects by itself with backoff and `last_seq`, resumes
/// (`recovered: true`), and the game plays to its end with the same result for all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_come_back_after_a_hub_restart_on_the_same_data_dir() {
    let dir = std::env::temp_dir().join(format!(
        "werewolf-client-reconnect-{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_nanos()
    ));
    let durable = || {
        let vars = [
            ("WS_HOST", "127.0.0.1"),
            ("WS_PORT", "0"),
            ("WS_RATE_PER_SEC", "1000"),
            ("WS_RATE_BURST", "1000"),
            ("HUB_STORE", "sqlite"),
        ];
        let mut env: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        env.push(("HUB_DATA_DIR".into(), dir.to_string_lossy().into_owned()));
        werewolf_server::start(Config::from_vars(env).expect("config"))
    };
    let first = durable().await.expect("the hub starts");
    let game = aiwolf5(&first, json!({})).await;
    let proxy = Proxy::start(first.addr()).await;
    let via_proxy = Hub::new(&proxy.url())
        .expect("valid hub URL")
        .with_reconnect(quick());
    let mut seats = Vec::new();
    for (i, s) in game.players.iter().enumerate() {
        let agent = via_proxy
            .connect_agent(&game.game_id, &s.player_id, &s.token)
            .await
            .expect("agent");
        seats.push(tokio::spawn(slow_bot(agent, i as u64, BOT_DELAY)));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        seats.iter().all(|s| !s.is_finished()),
        "the game is still running when the hub stops"
    );
    first.shutdown().trigger();
    first.stopped().await.expect("the first hub stops");
    let second = durable()
        .await
        .expect("the hub starts again on the same data dir");
    proxy.point_at(second.addr());

    let mut winners = Vec::new();
    for seat in seats {
        let (over, frames, agent) = tokio::time::timeout(GAME_BUDGET, seat)
            .await
            .expect("the game ends")
            .expect("task")
            .expect("every agent plays to game_over across the restart");
        let stats = agent.stats();
        eprintln!("{}: {stats:?}", agent.player_id);
        assert!(stats.reconnects() >= 1, "{stats:?}");
        assert!(
            stats.drops.iter().any(|d| d.contains("1001")),
            "closed with 1001 by the stopping hub: {stats:?}"
        );
        assert!(
            stats.recovered.iter().all(|r| *r == Some(true)),
            "resumed from last_seq: {stats:?}"
        );
        assert!(stats.missed.is_empty(), "missed frames: {stats:?}");
        assert!(
            json_of(frames.last().expect("frames"))["message_type"] == "game_over",
            "ends with game_over"
        );
        winners.push(over.winner);
    }
    assert!(winners.windows(2).all(|w| w[0] == w[1]), "{winners:?}");
    drop(second);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `examples/python_agent.py` through the cutting proxy: it reconnects by itself and
/// finishes the game; with the server side of issue 9 it resumes every time
/// (`recovered: true`) and misses nothing (its last stderr line sums this up).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_agent_resumes_across_tcp_drops() {
    let python = python_with_websockets();
    let hub = hub_with(&FAST).await;
    let game = aiwolf5(&hub, json!({})).await;
    let proxy = Proxy::start(hub.addr()).await;
    let seat = game.players[0].clone();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/python_agent.py");
    let python = tokio::spawn(
        tokio::process::Command::new(&python)
            .args([
                script,
                "--url",
                &format!("ws://{}", proxy.addr),
                "--game",
                &game.game_id,
                "--player",
                &seat.player_id,
                "--token",
                &seat.token,
                "--seed",
                "3",
            ])
            .kill_on_drop(true)
            .output(),
    );
    let mut bots = Vec::new();
    for (i, s) in game.players.iter().enumerate().skip(1) {
        let agent = direct(&hub)
            .connect_agent(&game.game_id, &s.player_id, &s.token)
            .await
            .expect("bot");
        bots.push(tokio::spawn(slow_bot(agent, i as u64, BOT_DELAY)));
    }
    // python takes a moment to start: first cut once it is seated
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let agents = get_json(&hub, "/agents").await;
        let online = agents
            .as_array()
            .expect("list")
            .iter()
            .any(|a| a["player_id"] == seat.player_id.as_str() && a["status"] == "online");
        if online {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "python never connected"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut cuts = 0;
    tokio::time::sleep(Duration::from_millis(100)).await;
    while !python.is_finished() && cuts < 100 {
        proxy.cut();
        tokio::time::sleep(Duration::from_millis(150)).await;
        proxy.restore();
        cuts += 1;
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let out = tokio::time::timeout(GAME_BUDGET, python)
        .await
        .expect("python ends")
        .expect("task")
        .expect("python runs");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    eprintln!("python stderr:\n{stderr}");
    assert!(out.status.success(), "python agent failed: {stderr}");
    let line: Value = serde_json::from_slice(out.stdout.trim_ascii()).expect("one JSON line");
    assert_eq!(line["player_id"], seat.player_id.as_str(), "{line}");
    assert!(line["winner"].is_string(), "{line}");
    for bot in bots {
        bot.await.expect("task").expect("bot finishes");
    }
    assert!(cuts >= 2, "cut {cuts} times: make the game longer");
    let summary = stderr
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("resume: "))
        .unwrap_or_else(|| panic!("no resume summary on stderr: {stderr}"));
    let summary: Value = serde_json::from_str(summary).expect("JSON summary");
    assert!(
        summary["reconnects"].as_u64().unwrap_or(0) >= 1,
        "{summary}\n{stderr}"
    );
    // with the server side of issue 9
    assert!(
        summary["recovered"]
            .as_array()
            .expect("list")
            .iter()
            .all(|r| *r == json!(true)),
        "every reconnect resumed: {summary}\n{stderr}"
    );
    assert_eq!(summary["missed"], json!([]), "{summary}\n{stderr}");
}
