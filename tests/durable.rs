//! The durable store (issue 9) with real processes and real files: the hub binary on
//! `HUB_STORE=sqlite` with its own temporary `HUB_DATA_DIR`, killed with SIGKILL at random
//! points of a game and restarted on the same directory; tokens surviving a restart and never
//! stored in plain text; refusals of unusable stores at startup; `werewolf-hub export`;
//! finished games served from the store once retired from memory; a disk that fills up
//! mid-game.
//!
//! Games are played by [`Players`]: one socket per seat, driven by one loop that answers ONE
//! request at a time, only once every socket has been quiet for a moment, always the pending
//! request of the lowest seat (then the lowest request id), and with a choice derived from
//! the request alone. So the engine's inputs come in the same order whatever the scheduling,
//! and a game with the same seed is the same game, interrupted or not.

mod common;

use common::process::{BIN, HubProc, TempDir};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

type Ws = common::Ws;

/// Request deadlines far beyond any test: nothing may expire on its own, so the inputs are
/// only the bots' answers.
const NEVER_MS: u64 = 600_000;

/// How long every socket must be quiet before the next answer: all frames of one hub turn
/// are handed to the sockets together, so this only has to cover loopback delivery.
const QUIET: Duration = Duration::from_millis(40);

/// How long a game may take, end to end.
const GAME_LIMIT: Duration = Duration::from_secs(40);

/// A small deterministic generator (xorshift64*), seeded per run and printed on failure.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

// ---------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------

async fn http(
    addr: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
    bearer: Option<&str>,
) -> (u16, String) {
    let (status, _, text) = common::http_raw(addr, method, path, body, bearer).await;
    (status, text)
}

async fn create_game(addr: &str, body: Value) -> Value {
    let (status, text) = http(addr, "POST", "/games", Some(body), None).await;
    assert_eq!(status, 201, "create: {text}");
    serde_json::from_str(&text).expect("json")
}

/// `GET /games/{gid}/events?view=…` as raw lines (the view must be readable).
async fn replay_lines(addr: &str, gid: &str, view: &str, token: Option<&str>) -> Vec<String> {
    let mut path = format!("/games/{gid}/events?view={view}");
    if let Some(t) = token {
        path.push_str(&format!("&token={t}"));
    }
    let (status, body) = http(addr, "GET", &path, None, None).await;
    assert_eq!(status, 200, "{path}: {body}");
    body.lines().map(str::to_owned).collect()
}

// ---------------------------------------------------------------------------------------
// Deterministic players
// ---------------------------------------------------------------------------------------

/// FNV-1a.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The answer of seat `seat` to `request`, from what the request says only (candidates as
/// seat numbers, so the game id inside player ids does not matter).
fn answer_for(seat: usize, gid: &str, request: &Value) -> Value {
    let rid = request["request_id"].as_str().expect("request_id");
    let action = request["action"].as_str().expect("action");
    if action == "talk" {
        return json!({"message_type": "agent_message", "request_id": rid,
                      "message_text": format!("seat {seat} says {}", fnv(rid) % 1000),
                      "channel": "public"});
    }
    let candidates = request["candidates"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let names: Vec<String> = candidates
        .iter()
        .map(|c| c["player_id"].as_str().unwrap_or_default().replace(gid, ""))
        .collect();
    let target = if candidates.is_empty() {
        Value::Null
    } else {
        let h = fnv(&format!("{seat}|{rid}|{action}|{}", names.join(",")));
        candidates[(h % candidates.len() as u64) as usize]["player_id"].clone()
    };
    json!({"message_type": "player_action", "request_id": rid, "action": action,
           "target": target})
}

struct Conn {
    generation: u64,
    sink: Option<SplitSink<Ws, Message>>,
    reader: Option<tokio::task::JoinHandle<()>>,
    /// Every game frame received, raw, by `seq`.
    frames: BTreeMap<u64, String>,
    /// The `seq` the next game frame must carry.
    next: u64,
    over: bool,
}

/// (connection, generation, a text frame or why the connection ended).
type Event = (usize, u64, Result<String, String>);

/// Every seat of one game (connections `0..n`) plus a full observer (connection `n`).
struct Players {
    addr: String,
    gid: String,
    created: Value,
    conns: Vec<Conn>,
    tx: mpsc::UnboundedSender<Event>,
    rx: mpsc::UnboundedReceiver<Event>,
    /// Requests seen and not closed, by (seat, request number).
    pending: BTreeMap<(usize, u64), Value>,
    /// The first frame of every request, by (seat, request number).
    first_frames: BTreeMap<(usize, u64), Value>,
    /// Requests received again as a new frame (re-issued after a restart).
    reissued: usize,
    /// Epoch seconds of the last restart of the hub.
    restarted_at: Option<f64>,
    /// The answer sent and not yet acknowledged.
    inflight: Option<(usize, String)>,
    answers: usize,
    /// Record `store_unavailable` errors instead of failing on them.
    tolerate_store_errors: bool,
    /// The `store_unavailable` errors received, by connection.
    store_errors: Vec<(usize, Value)>,
}

impl Players {
    fn new(addr: &str, created: Value) -> Players {
        let n = created["players"].as_array().expect("players").len();
        let (tx, rx) = mpsc::unbounded_channel();
        Players {
            addr: addr.to_owned(),
            gid: created["game_id"].as_str().expect("gid").to_owned(),
            created,
            conns: (0..=n)
                .map(|_| Conn {
                    generation: 0,
                    sink: None,
                    reader: None,
                    frames: BTreeMap::new(),
                    next: 1,
                    over: false,
                })
                .collect(),
            tx,
            rx,
            pending: BTreeMap::new(),
            first_frames: BTreeMap::new(),
            reissued: 0,
            restarted_at: None,
            inflight: None,
            answers: 0,
            tolerate_store_errors: false,
            store_errors: Vec::new(),
        }
    }

    fn seats(&self) -> usize {
        self.conns.len() - 1
    }

    fn player_id(&self, seat: usize) -> String {
        self.created["players"][seat]["player_id"]
            .as_str()
            .expect("id")
            .to_owned()
    }

    fn token(&self, seat: usize) -> String {
        self.created["players"][seat]["token"]
            .as_str()
            .expect("token")
            .to_owned()
    }

    fn url(&self, conn: usize) -> String {
        if conn < self.seats() {
            format!(
                "ws://{}/ws/{}?client_type=agent&game_id={}&token={}",
                self.addr,
                self.player_id(conn),
                self.gid,
                self.token(conn)
            )
        } else {
            format!(
                "ws://{}/ws/full-observer?client_type=observer&game_id={}&token={}",
                self.addr,
                self.gid,
                self.created["observer_token"].as_str().expect("token")
            )
        }
    }

    /// Connects everyone: the first time on the snapshot path, afterwards with `last_seq`
    /// (which must resume: whatever a client saw was durable before it was sent).
    async fn connect_all(&mut self, first: bool, ctx: &str) {
        // the observer first, so it sees the game from its start
        let n = self.seats();
        for conn in std::iter::once(n).chain(0..n) {
            let mut url = self.url(conn);
            let last = self.conns[conn].next - 1;
            if !first {
                url.push_str(&format!("&last_seq={last}"));
            }
            let (mut ws, _) =
                tokio::time::timeout(common::PATIENCE, tokio_tungstenite::connect_async(&url))
                    .await
                    .unwrap_or_else(|_| panic!("{ctx}: connect timed out"))
                    .unwrap_or_else(|e| panic!("{ctx}: connect {url}: {e}"));
            let welcome = read_json(&mut ws, ctx).await;
            assert_eq!(welcome["message_type"], "connection", "{ctx}: {welcome}");
            if first {
                assert_eq!(welcome["data"]["recovered"], false, "{ctx}: {welcome}");
                let state = read_json(&mut ws, ctx).await;
                assert_eq!(state["message_type"], "game_state", "{ctx}: {state}");
                self.conns[conn].next = state["seq"].as_u64().expect("seq") + 1;
            } else {
                assert_eq!(
                    welcome["data"]["recovered"], true,
                    "{ctx}: connection {conn} had seen up to seq {last}: after a restart the hub must still have it"
                );
            }
            self.attach(conn, ws);
        }
    }

    fn attach(&mut self, conn: usize, ws: Ws) {
        let c = &mut self.conns[conn];
        c.generation += 1;
        let generation = c.generation;
        let (sink, mut stream) = ws.split();
        c.sink = Some(sink);
        let tx = self.tx.clone();
        c.reader = Some(tokio::spawn(async move {
            while let Some(msg) = stream.next().await {
                match msg {
                    Ok(Message::Text(t)) => {
                        if tx.send((conn, generation, Ok(t.to_string()))).is_err() {
                            return;
                        }
                    }
                    Ok(Message::Close(frame)) => {
                        let _ = tx.send((conn, generation, Err(format!("close {frame:?}"))));
                        return;
                    }
                    Err(e) => {
                        let _ = tx.send((conn, generation, Err(format!("error {e}"))));
                        return;
                    }
                    Ok(_) => {}
                }
            }
            let _ = tx.send((conn, generation, Err("end of stream".into())));
        }));
    }

    /// Forgets every connection (the hub died under them).
    fn drop_all(&mut self) {
        for c in &mut self.conns {
            c.generation += 1;
            if let Some(r) = c.reader.take() {
                r.abort();
            }
            c.sink = None;
        }
        self.inflight = None;
    }

    /// Handles one frame: numbering check, bookkeeping of requests.
    fn on_frame(&mut self, conn: usize, text: String, ctx: &str) {
        let v: Value = serde_json::from_str(&text).expect("json");
        if self.tolerate_store_errors
            && v["message_type"] == "error"
            && v["code"] == "store_unavailable"
        {
            self.store_errors.push((conn, v));
            return;
        }
        assert_ne!(v["message_type"], "error", "{ctx}: connection {conn}: {v}");
        if let Some(seq) = v["seq"].as_u64() {
            let c = &mut self.conns[conn];
            assert_eq!(
                seq, c.next,
                "{ctx}: connection {conn}: expected seq {} (no gap, no duplicate): {v}",
                c.next
            );
            c.next += 1;
            c.frames.insert(seq, text);
        }
        if v["message_type"] == "game_over" {
            self.conns[conn].over = true;
        }
        if conn >= self.seats() {
            return;
        }
        let rid = v["request_id"].as_str().unwrap_or_default().to_owned();
        let number: u64 = rid.parse().unwrap_or(0);
        match v["message_type"].as_str() {
            Some("action_request") => {
                if let Some(first) = self.first_frames.get(&(conn, number)) {
                    // Re-issued after a restart: a new frame (new seq) of the same request,
                    // whose deadline is the restart + the request's full timeout.
                    self.reissued += 1;
                    assert_eq!(
                        (&v["action"], &v["candidates"]),
                        (&first["action"], &first["candidates"]),
                        "{ctx}: re-issued request differs: {v} vs {first}"
                    );
                    assert!(v["seq"].as_u64() > first["seq"].as_u64(), "{ctx}: {v}");
                    let restarted = self.restarted_at.expect("only after a restart");
                    let deadline = v["deadline"].as_f64().expect("deadline");
                    assert!(
                        deadline >= restarted + (NEVER_MS / 1000) as f64 - 5.0,
                        "{ctx}: a recovered request gets its full timeout again from the \
                         restart ({restarted}): {v}"
                    );
                } else {
                    self.first_frames.insert((conn, number), v.clone());
                }
                // a request re-issued after a restart replaces the one seen before
                self.pending.insert((conn, number), v);
            }
            Some("action_result") if !rid.is_empty() => {
                self.pending.remove(&(conn, number));
                if self.inflight.as_ref() == Some(&(conn, rid)) {
                    self.inflight = None;
                }
            }
            _ => {}
        }
    }

    /// The next frame within `within` (`None`: quiet). A lost connection is returned as
    /// `Some(Err(why))`.
    async fn pump(&mut self, within: Duration, ctx: &str) -> Option<Result<(), String>> {
        let deadline = Instant::now() + within;
        loop {
            let (conn, generation, text) =
                match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                    Err(_) => return None,
                    Ok(ev) => ev.expect("sender held"),
                };
            if generation != self.conns[conn].generation {
                continue;
            }
            match text {
                Ok(t) => {
                    self.on_frame(conn, t, ctx);
                    return Some(Ok(()));
                }
                Err(why) => return Some(Err(format!("connection {conn}: {why}"))),
            }
        }
    }

    /// Pumps until nothing arrives for `quiet`; a lost connection fails.
    async fn settle(&mut self, quiet: Duration, ctx: &str) {
        while let Some(r) = self.pump(quiet, ctx).await {
            if let Err(why) = r {
                panic!("{ctx}: a connection was lost: {why}");
            }
        }
    }

    fn all_over(&self) -> bool {
        self.conns.iter().all(|c| c.over)
    }

    /// Sends the next answer: the lowest seat's lowest pending request.
    async fn answer_next(&mut self, ctx: &str) -> bool {
        let Some((&(seat, _), request)) = self.pending.iter().next() else {
            return false;
        };
        let answer = answer_for(seat, &self.gid, request);
        let rid = request["request_id"].as_str().expect("rid").to_owned();
        self.inflight = Some((seat, rid));
        self.answers += 1;
        let sink = self.conns[seat].sink.as_mut().expect("connected");
        sink.send(Message::text(answer.to_string()))
            .await
            .unwrap_or_else(|e| panic!("{ctx}: send: {e}"));
        true
    }
}

async fn read_json(ws: &mut Ws, ctx: &str) -> Value {
    let deadline = Instant::now() + common::PATIENCE;
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .unwrap_or_else(|_| panic!("{ctx}: no frame in time"))
            .unwrap_or_else(|| panic!("{ctx}: stream ended"))
            .unwrap_or_else(|e| panic!("{ctx}: transport error: {e}"));
        if let Message::Text(t) = msg {
            return serde_json::from_str(t.as_str()).expect("json");
        }
    }
}

/// When to kill the hub: after `answers` answers were sent, and how.
#[derive(Debug, Clone, Copy)]
enum KillMode {
    /// Right after sending an answer (it may or may not be committed).
    RightAfterSend,
    /// A few ms after sending an answer (around its commit and delivery).
    SoonAfterSend(u64),
    /// Once everything is quiet, before the next answer.
    WhenQuiet,
}

/// Plays the game to its end, killing `hub` (SIGKILL) as `plan` says and restarting it on
/// `data_dir` each time. Returns how many kills happened.
async fn play(
    players: &mut Players,
    mut hub: Option<&mut HubProc>,
    plan: &[(usize, KillMode)],
    data_dir: Option<&Path>,
    ctx: &str,
) -> usize {
    let deadline = Instant::now() + GAME_LIMIT;
    let mut kills = 0;
    let mut plan = plan.iter().copied().peekable();
    loop {
        assert!(
            Instant::now() < deadline,
            "{ctx}: the game did not end in time ({} answers)",
            players.answers
        );
        let mut kill_now = None;
        match players.pump(QUIET, ctx).await {
            Some(Ok(())) => continue,
            Some(Err(why)) => {
                let log = hub.as_deref().map(HubProc::stderr).unwrap_or_default();
                let tail = &log[log.len().saturating_sub(30)..];
                panic!(
                    "{ctx}: a connection was lost while the hub was up ({} answers): {why}\nhub stderr (tail): {tail:#?}",
                    players.answers
                )
            }
            None => {
                if players.all_over() {
                    break;
                }
                if players.inflight.is_some() {
                    continue;
                }
                if let Some(&(at, KillMode::WhenQuiet)) = plan.peek()
                    && players.answers >= at
                {
                    kill_now = Some(KillMode::WhenQuiet);
                }
                if kill_now.is_none() {
                    assert!(
                        players.answer_next(ctx).await,
                        "{ctx}: everything is quiet, the game is not over and nothing is pending"
                    );
                    if let Some(&(at, mode)) = plan.peek()
                        && players.answers >= at
                        && !matches!(mode, KillMode::WhenQuiet)
                    {
                        kill_now = Some(mode);
                    }
                }
            }
        }
        if let Some(mode) = kill_now {
            plan.next();
            if let KillMode::SoonAfterSend(ms) = mode {
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            let hub = hub.as_deref_mut().expect("a hub process to kill");
            hub.kill9();
            kills += 1;
            players.drop_all();
            let old = std::mem::replace(hub, HubProc::start("sqlite", data_dir));
            assert_no_panic(&old.stderr(), ctx);
            players.addr = hub.addr.clone();
            players.restarted_at = Some(
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .expect("clock")
                    .as_secs_f64(),
            );
            players
                .connect_all(false, &format!("{ctx}, after kill {kills} ({mode:?})"))
                .await;
        }
    }
    // the last game_state follows game_over
    players.settle(Duration::from_millis(200), ctx).await;
    kills
}

fn assert_no_panic(stderr: &[String], ctx: &str) {
    assert!(
        !stderr.iter().any(|l| l.contains("panicked")),
        "{ctx}: the hub panicked: {stderr:#?}"
    );
}

/// A full-view replay reduced to its game content: the game id replaced, `presence` frames
/// dropped, and the fields removed that are wall-clock or connection facts rather than game
/// content — `timestamp` (when a frame was made), `deadline` (wall-clock time of a phase's
/// or request's end: a recovered request gets its full timeout again from the restart),
/// `last_seen` (connection times) — plus `seq`: `presence` frames (a seat connecting, and
/// every seat reconnecting after each restart) are numbered in the full stream too, so the
/// numbers of the frames after them shift by the number of reconnects. Each replay's own
/// numbering is checked to be gap-free separately.
fn game_content(lines: &[String], gid: &str) -> Vec<Value> {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(map) => {
                for key in ["timestamp", "deadline", "last_seen", "seq"] {
                    map.remove(key);
                }
                for (_, inner) in map.iter_mut() {
                    strip(inner);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    lines
        .iter()
        .map(|l| serde_json::from_str::<Value>(&l.replace(gid, "GAME")).expect("json"))
        .filter(|v| v["message_type"] != "presence")
        .map(|mut v| {
            strip(&mut v);
            v
        })
        .collect()
}

fn assert_gap_free(lines: &[String], what: &str) {
    for (i, l) in lines.iter().enumerate() {
        let v: Value = serde_json::from_str(l).expect("json");
        assert_eq!(v["seq"], (i + 1) as u64, "{what}: line {i}: {l}");
    }
}

fn game_over_of(lines: &[String], gid: &str) -> Value {
    let line = lines
        .iter()
        .find(|l| l.contains("\"message_type\":\"game_over\""))
        .expect("a game_over line");
    serde_json::from_str(&line.replace(gid, "GAME")).expect("json")
}

fn game_body(seed: u64) -> Value {
    json!({"preset": "arena8", "rules": "hub", "seed": seed,
           "players": ["Ann", "Bob", "Cat", "Dan", "Eve", "Fay", "Gus", "Hal"],
           "talk_rounds": 1, "action_timeout_ms": NEVER_MS})
}

// ---------------------------------------------------------------------------------------
// 5. Kill and replay
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_game_killed_repeatedly_replays_identically_to_an_uninterrupted_one() {
    let run_seed = std::env::var("DURABLE_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .expect("clock")
                .as_nanos() as u64
                | 1
        });
    let mut rng = Rng(run_seed);
    // three kills at random points of the game (it takes about 70 answers): after k answers,
    // the first k in 0..=19 (0: as soon as the game has started), then growing by 2..=21
    let mut plan = Vec::new();
    let mut at = 0;
    for i in 0..3 {
        at += if i == 0 { 0 } else { 2 } + rng.below(20) as usize;
        let mode = match rng.below(3) {
            0 => KillMode::RightAfterSend,
            1 => KillMode::SoonAfterSend(1 + rng.below(15)),
            _ => KillMode::WhenQuiet,
        };
        plan.push((at, mode));
    }
    let ctx = format!("kill plan {plan:?} (DURABLE_KILL_SEED={run_seed})");

    // interrupted, on the durable store
    let dir = TempDir::new("kill");
    let mut hub = HubProc::start("sqlite", Some(dir.path()));
    let created = create_game(&hub.addr, game_body(4242)).await;
    let mut players = Players::new(&hub.addr, created);
    players.connect_all(true, &ctx).await;
    let kills = play(&mut players, Some(&mut hub), &plan, Some(dir.path()), &ctx).await;
    assert!(
        kills >= 2,
        "{ctx}: the game ended after {} answers, before most planned kills",
        players.answers
    );
    assert!(
        players.reissued >= 1,
        "{ctx}: requests pending at a kill are re-issued as new frames after the restart"
    );
    let gid = players.gid.clone();
    let full = replay_lines(&hub.addr, &gid, "full", None).await;
    assert_gap_free(&full, "full replay of the interrupted game");
    // the observer that reconnected with last_seq after every kill got exactly the log
    let observed: Vec<String> = players.conns[players.seats()]
        .frames
        .values()
        .cloned()
        .collect();
    assert_eq!(
        observed, full,
        "{ctx}: the full observer's frames vs the log"
    );
    // and so did every seat, byte for byte
    for seat in 0..players.seats() {
        let view = format!("seat:{}", players.player_id(seat));
        let log = replay_lines(&hub.addr, &gid, &view, None).await;
        let got: Vec<String> = players.conns[seat].frames.values().cloned().collect();
        assert_eq!(got, log, "{ctx}: seat {seat}'s frames vs its log");
    }
    assert_no_panic(&hub.stderr(), &ctx);
    // one more kill after the end: the finished game is back, listed with its winner, its
    // table view shows the end, its replay is unchanged
    hub.kill9();
    players.drop_all();
    let hub = HubProc::start("sqlite", Some(dir.path()));
    let (status, list) = http(&hub.addr, "GET", "/games", None, None).await;
    assert_eq!(status, 200, "{list}");
    let list: Value = serde_json::from_str(&list).expect("json");
    let entry = list
        .as_array()
        .expect("list")
        .iter()
        .find(|g| g["game_id"] == gid.as_str())
        .unwrap_or_else(|| {
            panic!("{ctx}: the finished game is not listed after a restart: {list}")
        });
    assert!(entry["winner"].is_string(), "{ctx}: {entry}");
    let (mut ws, _) = tokio_tungstenite::connect_async(format!(
        "ws://{}/ws/late-table?client_type=ui&game_id={gid}",
        hub.addr
    ))
    .await
    .expect("a table view connects to the finished game");
    let _welcome = read_json(&mut ws, &ctx).await;
    let state = read_json(&mut ws, &ctx).await;
    assert_eq!(state["phase"], "ended", "{ctx}: {state}");
    assert_eq!(
        replay_lines(&hub.addr, &gid, "full", None).await,
        full,
        "{ctx}: the replay after one more restart"
    );
    assert_no_panic(&hub.stderr(), &ctx);
    drop(hub);

    // uninterrupted, in memory
    let (ref_full, ref_gid, ref_answers) = reference_game(4242).await;
    let content = assert_same_game(&full, &gid, &ref_full, &ref_gid, &ctx);
    eprintln!(
        "{ctx}: {kills} kills, {} answers ({ref_answers} in the reference run), {} re-issued \
         requests, {} full-view frames ({} in the reference run), {content} of game content",
        players.answers,
        players.reissued,
        full.len(),
        ref_full.len(),
    );
}

/// The same game (`game_body(seed)`) played without interruption on a memory hub: its
/// full-view replay, its game id and how many answers it took.
async fn reference_game(seed: u64) -> (Vec<String>, String, usize) {
    let mut reference = HubProc::start("memory", None);
    let created = create_game(&reference.addr, game_body(seed)).await;
    let mut players = Players::new(&reference.addr, created);
    players.connect_all(true, "reference run").await;
    let kills = play(
        &mut players,
        Some(&mut reference),
        &[],
        None,
        "reference run",
    )
    .await;
    assert_eq!(kills, 0);
    let gid = players.gid.clone();
    let full = replay_lines(&reference.addr, &gid, "full", None).await;
    assert_gap_free(&full, "full replay of the reference game");
    assert_no_panic(&reference.stderr(), "reference run");
    (full, gid, players.answers)
}

/// Asserts two full-view replays are the same game (see [`game_content`]), with the same
/// winner and roles; returns the number of game-content frames.
fn assert_same_game(
    full: &[String],
    gid: &str,
    ref_full: &[String],
    ref_gid: &str,
    ctx: &str,
) -> usize {
    let (a, b) = (game_content(full, gid), game_content(ref_full, ref_gid));
    if a != b {
        let first = a
            .iter()
            .zip(&b)
            .position(|(x, y)| x != y)
            .unwrap_or(a.len().min(b.len()));
        panic!(
            "{ctx}: the interrupted game's full view differs from the uninterrupted one at \
             frame {first} (of {} vs {}):\n  interrupted: {}\n  reference:   {}",
            a.len(),
            b.len(),
            a.get(first).map(Value::to_string).unwrap_or_default(),
            b.get(first).map(Value::to_string).unwrap_or_default()
        );
    }
    let (over, ref_over) = (game_over_of(full, gid), game_over_of(ref_full, ref_gid));
    assert_eq!(over["winner"], ref_over["winner"], "{ctx}");
    assert_eq!(over["roles"], ref_over["roles"], "{ctx}");
    assert!(
        over["winner"].is_string() && over["roles"].as_object().is_some_and(|r| r.len() >= 5),
        "{ctx}: {over}"
    );
    a.len()
}

// ---------------------------------------------------------------------------------------
// 6. Tokens survive a restart, and are not stored
// ---------------------------------------------------------------------------------------

/// Connects to `url` and returns the welcome and the first frame after it.
async fn open_two(url: &str) -> (Value, Value) {
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .unwrap_or_else(|e| panic!("connect {url}: {e}"));
    let welcome = read_json(&mut ws, url).await;
    let next = read_json(&mut ws, url).await;
    (welcome, next)
}

async fn refused_status(url: &str) -> (u16, String) {
    match tokio_tungstenite::connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => (
            resp.status().as_u16(),
            String::from_utf8_lossy(resp.body().as_deref().unwrap_or_default()).to_string(),
        ),
        Err(e) => panic!("expected an HTTP refusal, got {e}"),
        Ok(_) => panic!("{url}: expected a refusal, got a connection"),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_survive_a_kill_and_are_stored_only_hashed() {
    let dir = TempDir::new("tokens");
    let mut hub = HubProc::start("sqlite", Some(dir.path()));
    // a running game (every seat connected, so it starts) and a lobby game with a joined seat
    let created = create_game(&hub.addr, game_body(7)).await;
    let mut players = Players::new(&hub.addr, created.clone());
    players.connect_all(true, "tokens").await;
    // let it run a few answers
    for _ in 0..3 {
        players.settle(QUIET, "tokens").await;
        assert!(players.answer_next("tokens").await, "a request is pending");
    }
    players.settle(QUIET, "tokens").await;
    let lobby = create_game(
        &hub.addr,
        json!({"preset": "aiwolf5", "rules": "hub", "seed": 3, "action_timeout_ms": NEVER_MS}),
    )
    .await;
    let lobby_gid = lobby["game_id"].as_str().expect("gid").to_owned();
    let (status, joined) = http(
        &hub.addr,
        "POST",
        &format!("/games/{lobby_gid}/join"),
        Some(json!({"name": "Joiner"})),
        None,
    )
    .await;
    assert_eq!(status, 200, "{joined}");
    let joined: Value = serde_json::from_str(&joined).expect("json");

    hub.kill9();
    players.drop_all();
    let first_stderr = hub.stderr();
    let hub = HubProc::start("sqlite", Some(dir.path()));
    let addr = hub.addr.clone();
    let gid = players.gid.clone();

    // every seat's old token still opens its seat
    for seat in 0..players.seats() {
        let url = format!(
            "ws://{addr}/ws/{}?client_type=agent&game_id={gid}&token={}",
            players.player_id(seat),
            players.token(seat)
        );
        let (welcome, state) = open_two(&url).await;
        assert_eq!(welcome["message_type"], "connection", "{welcome}");
        assert_eq!(
            welcome["data"]["recovered"], false,
            "no last_seq: {welcome}"
        );
        assert_eq!(state["message_type"], "game_state", "{state}");
        assert_eq!(state["you"]["player_id"], players.player_id(seat).as_str());
        assert_ne!(
            state["phase"], "lobby",
            "the recovered game is running: {state}"
        );
    }
    // so does the observer token, for the full view (roles shown)
    let observer_token = created["observer_token"].as_str().expect("token");
    let (welcome, state) = open_two(&format!(
        "ws://{addr}/ws/spectator?client_type=observer&game_id={gid}&token={observer_token}"
    ))
    .await;
    assert_eq!(welcome["message_type"], "connection", "{welcome}");
    assert!(
        state["players"]
            .as_array()
            .expect("players")
            .iter()
            .all(|p| p["role"].is_string()),
        "the full view shows every role: {state}"
    );
    let (status, body) = http(
        &addr,
        "GET",
        &format!("/games/{gid}/events?view=full"),
        None,
        Some(observer_token),
    )
    .await;
    assert_eq!(status, 200, "observer token on the replay endpoint: {body}");
    // and the joined seat of the lobby game
    let (welcome, state) = open_two(&format!(
        "ws://{addr}/ws/{}?client_type=agent&game_id={lobby_gid}&token={}",
        joined["player_id"].as_str().expect("id"),
        joined["token"].as_str().expect("token")
    ))
    .await;
    assert_eq!(welcome["message_type"], "connection", "{welcome}");
    assert_eq!(state["phase"], "lobby", "{state}");

    // GET /games/{id} of the recovered running game: its config, but not the seed (which
    // deals the roles) until it is over
    let (status, shown) = http(&addr, "GET", &format!("/games/{gid}"), None, None).await;
    assert_eq!(status, 200, "{shown}");
    let shown: Value = serde_json::from_str(&shown).expect("json");
    assert!(shown["config"].is_object(), "{shown}");
    assert!(
        shown.get("seed").is_none() && shown["config"]["config"].get("seed").is_none(),
        "the seed of a running game is hidden: {shown}"
    );
    assert!(!shown.to_string().contains("\"seed\""), "{shown}");
    // wrong tokens are still refused
    let p0 = players.player_id(0);
    let cases = [
        format!("ws://{addr}/ws/{p0}?client_type=agent&game_id={gid}&token=0123456789abcdef"),
        format!(
            "ws://{addr}/ws/{p0}?client_type=agent&game_id={gid}&token={}",
            players.token(1)
        ),
        format!("ws://{addr}/ws/{p0}?client_type=agent&game_id={gid}&token={observer_token}"),
        format!("ws://{addr}/ws/spy?client_type=observer&game_id={gid}&token=guess"),
        format!(
            "ws://{addr}/ws/spy?client_type=observer&game_id={gid}&token={}",
            lobby["observer_token"].as_str().expect("token")
        ),
    ];
    for url in &cases {
        let (status, body) = refused_status(url).await;
        assert_eq!(status, 401, "{url}: {body}");
    }
    let (status, body) = http(
        &addr,
        "GET",
        &format!("/games/{gid}/events?view=full&token=guess"),
        None,
        None,
    )
    .await;
    assert_eq!(status, 401, "{body}");

    // no token is in the store's files in plain text; their SHA-256 hashes are
    let mut tokens: Vec<String> = (0..players.seats()).map(|s| players.token(s)).collect();
    tokens.push(observer_token.to_owned());
    tokens.push(lobby["observer_token"].as_str().expect("token").to_owned());
    tokens.push(joined["token"].as_str().expect("token").to_owned());
    let mut bytes = Vec::new();
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir.path()).expect("data dir") {
        let path = entry.expect("entry").path();
        files.push(path.display().to_string());
        bytes.push(std::fs::read(&path).expect("read store file"));
    }
    assert!(
        files.iter().any(|f| f.ends_with("hub.sqlite3")),
        "the store file is there: {files:?}"
    );
    for token in &tokens {
        for (file, content) in files.iter().zip(&bytes) {
            assert!(
                !contains(content, token.as_bytes()),
                "token {token} is in {file} in plain text"
            );
            assert!(
                !contains(content, token.to_uppercase().as_bytes()),
                "token {token} is in {file} (upper case)"
            );
        }
        let hash = werewolf_server::store::hash_token(token);
        assert!(
            bytes.iter().any(|b| contains(b, &hash)),
            "the SHA-256 of token {token} is stored (so the scan looks at the right bytes)"
        );
    }
    // nor in what the hub logged
    for line in first_stderr.iter().chain(&hub.stderr()) {
        for token in &tokens {
            assert!(!line.contains(token.as_str()), "token logged: {line}");
        }
    }
    assert_no_panic(&first_stderr, "first run");
    assert_no_panic(&hub.stderr(), "second run");
}

// ---------------------------------------------------------------------------------------
// 7. Startup refusals
// ---------------------------------------------------------------------------------------

/// Runs the hub on `data_dir`, expecting a refusal: exit code 2, one line on stderr naming
/// `names`, no panic. Kills it and fails if it starts serving instead.
fn assert_refuses(data_dir: &Path, names: &str, why: &str) {
    let mut child = Command::new(BIN)
        .env("WS_HOST", "127.0.0.1")
        .env("WS_PORT", "0")
        .env("HUB_STORE", "sqlite")
        .env("HUB_DATA_DIR", data_dir)
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("try_wait") {
            break s;
        }
        if start.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            let mut err = String::new();
            let _ = std::io::Read::read_to_string(child.stderr.as_mut().expect("stderr"), &mut err);
            panic!("{why}: the hub started instead of refusing the store: {err}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().expect("stderr"), &mut err)
        .expect("stderr");
    assert!(!err.contains("panicked"), "{why}: panic: {err}");
    assert_eq!(status.code(), Some(2), "{why}: exit code; stderr: {err}");
    let lines: Vec<&str> = err.trim_end().lines().collect();
    assert_eq!(lines.len(), 1, "{why}: exactly one line: {err:?}");
    assert!(lines[0].contains(names), "{why}: names {names}: {err:?}");
}

/// Makes a real store in `dir`: a hub runs, a game is created, SIGTERM. The hub leaves its
/// WAL behind at exit (SQLite replays it at the next open), so the store is then opened and
/// closed once in-process, which checkpoints the WAL into the main file and removes it: the
/// file's own header is then the store's truth.
async fn real_store(dir: &Path) {
    let mut hub = HubProc::start("sqlite", Some(dir));
    create_game(&hub.addr, game_body(1)).await;
    hub.terminate();
    assert_no_panic(&hub.stderr(), "making a store");
    let store = werewolf_server::store::sqlite::SqliteStore::open(dir, false).expect("open");
    drop(store);
    let wal = dir.join("hub.sqlite3-wal");
    let start = std::time::Instant::now();
    while wal.exists() && std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0) > 0 {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the WAL was not checkpointed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_from_a_newer_version_is_refused() {
    let dir = TempDir::new("newer");
    real_store(dir.path()).await;
    let file = dir.store();
    let mut bytes = std::fs::read(&file).expect("store");
    assert_eq!(&bytes[..16], b"SQLite format 3\0");
    // user_version: 4 bytes, big-endian, at offset 60 of the header
    assert_eq!(
        &bytes[60..64],
        &1u32.to_be_bytes(),
        "schema version 1 today"
    );
    bytes[60..64].copy_from_slice(&999u32.to_be_bytes());
    std::fs::write(&file, &bytes).expect("write");
    assert_refuses(dir.path(), &file.display().to_string(), "user_version 999");
    // the refusal left the file alone
    assert_eq!(std::fs::read(&file).expect("store"), bytes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_and_truncated_stores_are_refused() {
    // random bytes
    let dir = TempDir::new("random");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let noise: Vec<u8> = (0..16_384).map(|_| rng.next() as u8).collect();
    std::fs::write(dir.store(), &noise).expect("write");
    assert_refuses(
        dir.path(),
        &dir.store().display().to_string(),
        "random bytes",
    );
    // truncated copies of a real store
    let real = TempDir::new("real");
    real_store(real.path()).await;
    let full = std::fs::read(real.store()).expect("store");
    assert!(
        full.len() >= 8192,
        "a store of several pages: {}",
        full.len()
    );
    for keep in [100, full.len() / 2] {
        let dir = TempDir::new("truncated");
        std::fs::write(dir.store(), &full[..keep]).expect("write");
        assert_refuses(
            dir.path(),
            &dir.store().display().to_string(),
            &format!("store truncated to {keep} of {} bytes", full.len()),
        );
    }
}

#[test]
fn an_unwritable_data_dir_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("readonly");
    let ro = dir.path().join("ro");
    std::fs::create_dir(&ro).expect("mkdir");
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).expect("chmod");
    let probe = ro.join("probe");
    let privileged = std::fs::write(&probe, b"x").is_ok();
    if !privileged {
        assert_refuses(&ro, &ro.display().to_string(), "a read-only data dir");
    } else {
        // Running as root: chmod does not stop root's writes. Use places no one can write:
        // /proc/self is an existing directory where no file can be created, and a regular
        // file where the directory should be cannot become one.
        let _ = std::fs::remove_file(&probe);
        assert_refuses(
            Path::new("/proc/self"),
            "/proc/self/hub.sqlite3",
            "a data dir where no file can be created (/proc/self)",
        );
        let file = dir.path().join("not-a-dir");
        std::fs::write(&file, b"x").expect("write");
        assert_refuses(&file, &file.display().to_string(), "a file as data dir");
    }
}

// ---------------------------------------------------------------------------------------
// 8. Export
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_writes_one_line_per_finished_game_matching_the_replay() {
    let dir = TempDir::new("export");
    let mut hub = HubProc::start("sqlite", Some(dir.path()));
    let created = create_game(
        &hub.addr,
        json!({"preset": "aiwolf5", "rules": "hub", "seed": 21, "players": ["A", "B", "C", "D", "E"],
               "talk_rounds": 1, "action_timeout_ms": NEVER_MS}),
    )
    .await;
    assert_eq!(
        created["seed"], 21,
        "POST /games returns the seed: {created}"
    );
    assert_eq!(created["config"]["config"]["seed"], 21, "{created}");
    // a second game stays in the lobby: not finished, not exported
    let lobby = create_game(&hub.addr, json!({"preset": "aiwolf5", "rules": "hub"})).await;
    let mut players = Players::new(&hub.addr, created.clone());
    players.connect_all(true, "export").await;
    play(&mut players, Some(&mut hub), &[], None, "export").await;
    let gid = players.gid.clone();
    let full = replay_lines(&hub.addr, &gid, "full", None).await;
    let over: Value = serde_json::from_str(
        full.iter()
            .find(|l| l.contains("\"message_type\":\"game_over\""))
            .expect("game_over"),
    )
    .expect("json");
    let (_, shown) = http(&hub.addr, "GET", &format!("/games/{gid}"), None, None).await;
    let shown: Value = serde_json::from_str(&shown).expect("json");
    assert_eq!(
        shown["seed"], 21,
        "GET /games/{{id}} shows the seed once over: {shown}"
    );
    hub.terminate();
    assert_no_panic(&hub.stderr(), "export run");

    let export = |extra: &[&str]| {
        let out = Command::new(BIN)
            .arg("export")
            .arg("--data-dir")
            .arg(dir.path())
            .args(extra)
            .output()
            .expect("run export");
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(out.status.success(), "export {extra:?} failed: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        String::from_utf8(out.stdout).expect("utf8")
    };
    let stdout = export(&[]);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one line per finished game: {stdout}");
    let line: Value = serde_json::from_str(lines[0]).expect("a JSON line");
    assert_eq!(line["game_id"], gid.as_str());
    assert_ne!(line["game_id"], lobby["game_id"]);
    assert_eq!(line["seed"], 21);
    assert_eq!(
        line["config"], created["config"],
        "the config given at creation"
    );
    assert_eq!(line["config"]["config"]["seed"], 21);
    let (created_at, ended_at) = (
        line["created_at"].as_f64().expect("created_at"),
        line["ended_at"].as_f64().expect("ended_at"),
    );
    assert!(created_at > 1.0e9 && ended_at >= created_at, "{line}");
    assert_eq!(line["winner"], over["winner"]);
    assert_eq!(line["days"], over["day"]);
    let players_out = line["players"].as_array().expect("players");
    assert_eq!(players_out.len(), 5);
    for (i, p) in players_out.iter().enumerate() {
        let seat = &created["players"][i];
        assert_eq!(p["player_id"], seat["player_id"], "{p}");
        assert_eq!(p["name"], seat["name"], "{p}");
        assert_eq!(
            p["role"],
            over["roles"][seat["player_id"].as_str().expect("id")],
            "{p}"
        );
    }
    let events: Vec<Value> = full
        .iter()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(
        line["events"].as_array().expect("events"),
        &events,
        "the export's events are the full-view replay"
    );
    // --since: games that ended at or after it
    assert_eq!(export(&["--since", &format!("{}", ended_at + 1000.0)]), "");
    assert_eq!(export(&["--since", "0"]).lines().count(), 1);
}

// ---------------------------------------------------------------------------------------
// Finished games after they retire from memory
// ---------------------------------------------------------------------------------------

/// `GET /games[?status=…]` as JSON.
async fn list_games(addr: &str, query: &str) -> Vec<Value> {
    let (status, body) = http(addr, "GET", &format!("/games{query}"), None, None).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<Value>(&body)
        .expect("json")
        .as_array()
        .expect("list")
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retired_game_is_listed_and_replayed_from_the_store() {
    let dir = TempDir::new("retired");
    let data_dir = dir.path().display().to_string();
    let vars = [
        ("HUB_STORE", "sqlite"),
        ("HUB_DATA_DIR", data_dir.as_str()),
        ("GAME_RETENTION_S", "1"),
        ("WS_RATE_PER_SEC", "1000"),
        ("WS_RATE_BURST", "1000"),
    ];
    let hub = common::hub_with(&vars).await;
    let addr = hub.addr().to_string();
    let created = create_game(
        &addr,
        json!({"preset": "aiwolf5", "rules": "hub", "seed": 5, "players": ["A", "B", "C", "D", "E"],
               "talk_rounds": 1, "action_timeout_ms": NEVER_MS}),
    )
    .await;
    let mut players = Players::new(&addr, created);
    players.connect_all(true, "retired").await;
    play(&mut players, None, &[], None, "retired").await;
    let gid = players.gid.clone();
    let full = replay_lines(&addr, &gid, "full", None).await;
    let over = game_over_of(&full, &gid);
    // it retires from memory after GAME_RETENTION_S
    let deadline = Instant::now() + Duration::from_secs(10);
    while list_games(&addr, "")
        .await
        .iter()
        .any(|g| g["game_id"] == gid.as_str())
    {
        assert!(Instant::now() < deadline, "the game never retired");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let check = |addr: String, label: &'static str| {
        let (gid, full, over) = (gid.clone(), full.clone(), over.clone());
        let seat0 = (players.player_id(0), players.conns[0].frames.clone());
        async move {
            let finished = list_games(&addr, "?status=finished").await;
            let entry = finished
                .iter()
                .find(|g| g["game_id"] == gid.as_str())
                .unwrap_or_else(|| panic!("{label}: not in ?status=finished: {finished:?}"));
            assert_eq!(entry["winner"], over["winner"], "{label}: {entry}");
            for status in ["lobby", "running"] {
                let list = list_games(&addr, &format!("?status={status}")).await;
                assert!(
                    list.iter().all(|g| g["game_id"] != gid.as_str()),
                    "{label}: listed as {status}"
                );
            }
            let (status, shown) = http(&addr, "GET", &format!("/games/{gid}"), None, None).await;
            assert_eq!(status, 200, "{label}: {shown}");
            let shown: Value = serde_json::from_str(&shown).expect("json");
            assert_eq!(shown["seed"], 5, "{label}: {shown}");
            assert_eq!(shown["winner"], over["winner"], "{label}: {shown}");
            assert_eq!(
                replay_lines(&addr, &gid, "full", None).await,
                full,
                "{label}: full replay from the store"
            );
            let seat_log = replay_lines(&addr, &gid, &format!("seat:{}", seat0.0), None).await;
            let live: Vec<String> = seat0.1.values().cloned().collect();
            assert_eq!(seat_log, live, "{label}: seat replay from the store");
            let public = replay_lines(&addr, &gid, "public", None).await;
            assert!(
                public.last().is_some_and(|l| l.contains("\"game_state\"")),
                "{label}: the public replay runs to the end"
            );
            let (status, body) = http(
                &addr,
                "GET",
                &format!("/games/{gid}/events?view=bogus"),
                None,
                None,
            )
            .await;
            assert_eq!(status, 400, "{label}: {body}");
        }
    };
    check(addr.clone(), "retired").await;
    // and after a restart on the same directory
    hub.shutdown().trigger();
    tokio::time::timeout(Duration::from_secs(10), hub.stopped())
        .await
        .expect("stops")
        .expect("clean stop");
    let hub = common::hub_with(&vars).await;
    check(hub.addr().to_string(), "after a restart").await;
}

// ---------------------------------------------------------------------------------------
// A full disk at runtime
// ---------------------------------------------------------------------------------------

/// The largest file of a data directory (the log's WAL, in practice), in bytes.
fn largest_file(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .expect("data dir")
        .map(|e| e.expect("entry").metadata().expect("metadata").len())
        .max()
        .unwrap_or(0)
}

/// Both runs of the full-disk test keep the whole game in the WAL: with the periodic
/// checkpoint, the WAL restarts whenever one completes, so its size at any moment (and so
/// when a file-size limit bites) would depend on the machine's load. Without it, the WAL
/// grows the same way in both runs.
const NO_CHECKPOINTS: &[(&str, &str)] = &[("HUB_STORE_CHECKPOINT_MS", "0")];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_halts_the_game_and_a_restart_recovers_it() {
    let ctx = "full disk";
    // The uninterrupted game first, on a store of its own: the reference for the content,
    // and the measure of how far its log's files grow (at the start and at the end).
    let (ref_full, ref_gid, limit) = {
        let dir = TempDir::new("full-ref");
        let mut hub = HubProc::start_with("sqlite", Some(dir.path()), None, NO_CHECKPOINTS);
        let created = create_game(&hub.addr, game_body(99)).await;
        let mut players = Players::new(&hub.addr, created);
        players.connect_all(true, "reference run").await;
        players.settle(Duration::from_millis(100), ctx).await;
        let at_start = largest_file(dir.path());
        play(&mut players, Some(&mut hub), &[], None, "reference run").await;
        let at_end = largest_file(dir.path());
        assert!(
            at_end > at_start,
            "{ctx}: the log grows ({at_start} → {at_end})"
        );
        let gid = players.gid.clone();
        let full = replay_lines(&hub.addr, &gid, "full", None).await;
        // a disk that fills about half way through the game
        (full, gid, at_start + (at_end - at_start) / 2)
    };
    let dir = TempDir::new("full");
    // Without root (tmpfs mounts) a full disk is simulated per process: RLIMIT_FSIZE makes
    // every write that would grow a file past `limit` fail (EFBIG), as on a full disk.
    let mut hub = HubProc::start_with("sqlite", Some(dir.path()), Some(limit), NO_CHECKPOINTS);
    let created = create_game(&hub.addr, game_body(99)).await;
    let mut players = Players::new(&hub.addr, created);
    players.tolerate_store_errors = true;
    players.connect_all(true, ctx).await;
    let deadline = Instant::now() + GAME_LIMIT;
    loop {
        assert!(Instant::now() < deadline, "{ctx}: the store never filled");
        match players.pump(QUIET, ctx).await {
            Some(Ok(())) => continue,
            Some(Err(why)) => panic!(
                "{ctx}: connection lost: {why}; hub stderr: {:#?}",
                hub.stderr()
            ),
            None => {}
        }
        if !players.store_errors.is_empty() {
            break;
        }
        assert!(
            !players.all_over(),
            "{ctx}: the game ended before its log reached {limit} bytes"
        );
        if players.inflight.is_none() {
            assert!(players.answer_next(ctx).await, "{ctx}: nothing pending");
        }
    }
    let answers_before_full = players.answers;
    players.settle(Duration::from_millis(300), ctx).await;
    // every client of the game was told, with `store_unavailable`
    for conn in 0..players.conns.len() {
        assert!(
            players.store_errors.iter().any(|(c, _)| *c == conn),
            "{ctx}: connection {conn} was not told the game halted: {:?}",
            players.store_errors
        );
    }
    // inputs to the halted game are refused with the same code
    let before = players.store_errors.len();
    players.inflight = None;
    assert!(
        players.answer_next(ctx).await,
        "{ctx}: a request is pending"
    );
    players.settle(Duration::from_millis(300), ctx).await;
    let refusal = players.store_errors[before..]
        .iter()
        .find(|(_, e)| e["related_message_type"] != "game")
        .unwrap_or_else(|| {
            panic!(
                "{ctx}: the answer was not refused: {:?}",
                players.store_errors
            )
        });
    assert_eq!(refusal.1["code"], "store_unavailable", "{refusal:?}");
    // the hub itself is fine
    let (status, _) = http(&hub.addr, "GET", "/health", None, None).await;
    assert_eq!(status, 200);
    // a new game is either refused with a reason (503) or, if its small commit still fit,
    // accepted and durable (checked after the restart): never accepted and lost
    let (status, body) = http(&hub.addr, "POST", "/games", Some(game_body(1)), None).await;
    let late_game: Option<Value> = match status {
        201 => Some(serde_json::from_str(&body).expect("json")),
        503 => {
            assert!(
                serde_json::from_str::<Value>(&body).is_ok_and(|v| v["error"].is_string()),
                "{body}"
            );
            None
        }
        other => panic!("{ctx}: creating a game on a full disk: {other} {body}"),
    };
    let log = hub.stderr();
    assert_no_panic(&log, ctx);

    // restart with room on the disk: the game comes back from what was committed, every
    // client resumes (what it saw was committed), and the game plays to its end
    hub.kill9();
    players.drop_all();
    players.tolerate_store_errors = false;
    hub = HubProc::start("sqlite", Some(dir.path()));
    players.addr = hub.addr.clone();
    players.restarted_at = Some(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_secs_f64(),
    );
    players
        .connect_all(false, "full disk, after the restart")
        .await;
    if let Some(late) = &late_game {
        let late_gid = late["game_id"].as_str().expect("gid");
        let (status, shown) =
            http(&hub.addr, "GET", &format!("/games/{late_gid}"), None, None).await;
        assert_eq!(
            status, 200,
            "{ctx}: a game created (201) on the full disk is lost: {shown}"
        );
        let url = format!(
            "ws://{}/ws/{}?client_type=agent&game_id={late_gid}&token={}",
            hub.addr,
            late["players"][0]["player_id"].as_str().expect("id"),
            late["players"][0]["token"].as_str().expect("token")
        );
        let (welcome, state) = open_two(&url).await;
        assert_eq!(welcome["message_type"], "connection", "{welcome}");
        assert_eq!(state["phase"], "lobby", "{state}");
    }
    play(&mut players, Some(&mut hub), &[], None, ctx).await;
    let gid = players.gid.clone();
    let full = replay_lines(&hub.addr, &gid, "full", None).await;
    assert_gap_free(&full, "full replay after the full disk");
    assert_same_game(&full, &gid, &ref_full, &ref_gid, ctx);
    assert_no_panic(&hub.stderr(), ctx);
    eprintln!(
        "{ctx}: the store filled after {answers_before_full} answers; {} answers in all; \
         a game created on the full disk: {}; first error: {}",
        players.answers,
        if late_game.is_some() {
            "accepted (201)"
        } else {
            "refused (503)"
        },
        players.store_errors[0].1
    );
}

// ---------------------------------------------------------------------------------------
// The observer delay across a restart
// ---------------------------------------------------------------------------------------

/// Frames of the full view still inside `observer_delay_ms` when the hub dies must not be
/// released early by the restarted hub: the delay is what keeps spectators from relaying
/// the game live to its players.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_does_not_release_delayed_full_view_frames_early() {
    let ctx = "delayed full view across a restart";
    let dir = TempDir::new("delay");
    let mut hub = HubProc::start("sqlite", Some(dir.path()));
    let mut body = game_body(17);
    body["observer_delay_ms"] = json!(60_000);
    let created = create_game(&hub.addr, body).await;
    let observer = created["observer_token"]
        .as_str()
        .expect("token")
        .to_owned();
    // seats only: the full observer of `Players` would wait a minute for its snapshot
    let mut players = Players::new(&hub.addr, created);
    let n = players.seats();
    for seat in 0..n {
        let url = players.url(seat);
        let (mut ws, _) = tokio_tungstenite::connect_async(&url)
            .await
            .expect("connect");
        let welcome = read_json(&mut ws, ctx).await;
        assert_eq!(welcome["message_type"], "connection");
        let state = read_json(&mut ws, ctx).await;
        players.conns[seat].next = state["seq"].as_u64().expect("seq") + 1;
        players.attach(seat, ws);
    }
    for _ in 0..4 {
        players.settle(QUIET, ctx).await;
        assert!(
            players.answer_next(ctx).await,
            "{ctx}: a request is pending"
        );
    }
    players.settle(QUIET, ctx).await;
    let gid = players.gid.clone();
    let public = replay_lines(&hub.addr, &gid, "public", None).await;
    assert!(public.len() > 8, "{ctx}: the game is under way");
    let before = replay_lines(&hub.addr, &gid, "full", Some(&observer)).await;
    assert!(
        before.is_empty(),
        "{ctx}: nothing is released within the delay: {before:?}"
    );
    hub.kill9();
    players.drop_all();
    let hub = HubProc::start("sqlite", Some(dir.path()));
    let after = replay_lines(&hub.addr, &gid, "full", Some(&observer)).await;
    assert!(
        after.is_empty(),
        "{ctx}: after the restart, {} full-view frames made within the last minute were \
         released at once (observer_delay_ms = 60000), the first: {}",
        after.len(),
        after.first().map(String::as_str).unwrap_or_default()
    );
    // nor to a full observer resuming from 0
    let url = format!(
        "ws://{}/ws/spectator?client_type=observer&game_id={gid}&token={observer}&last_seq=0",
        hub.addr
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(&url)
        .await
        .expect("connect");
    let welcome = read_json(&mut ws, ctx).await;
    assert_eq!(welcome["message_type"], "connection", "{welcome}");
    let early = tokio::time::timeout(Duration::from_millis(500), ws.next()).await;
    assert!(
        !matches!(early, Ok(Some(Ok(Message::Text(_))))),
        "{ctx}: a full observer got a frame at once after the restart: {early:?}"
    );
}
