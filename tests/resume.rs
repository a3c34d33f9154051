//! Resume by `seq` (issue 9) over real sockets: every stream kind (a seat's agent, a public
//! table view, a full observer with and without `observer_delay_ms`) drops mid-game and comes
//! back with `last_seq`, a seat misses a whole discussion round, the `recovered: false`
//! (snapshot) paths, and `GET /games/{id}/events` with its access rules before and after the
//! end.
//!
//! Every game here is played by the test itself: one socket per seat, each answering its
//! `action_request`s at once with a choice derived from the request (so no test waits on a
//! deadline unless it means to), and each stream's frames recorded by `seq`, raw text
//! included, so "no gap, no duplicate, byte for byte" is checked on every frame.

mod common;

use common::hub_with;
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use werewolf_server::RunningHub;

type Ws = common::Ws;

/// How long one test may take, end to end (a deadline, not a measure).
const TEST_LIMIT: Duration = Duration::from_secs(25);

/// A hub whose rate limits stay out of the way of instant bots.
async fn test_hub() -> RunningHub {
    hub_with(&[("WS_RATE_PER_SEC", "1000"), ("WS_RATE_BURST", "1000")]).await
}

/// FNV-1a: a stable hash for the bots' choices.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The answer a seat's bot gives to `request`: a talk derived from the request id, or the
/// candidate picked by a hash of (seat, request id, action).
fn answer_for(seat: usize, request: &Value) -> Value {
    let rid = request["request_id"].as_str().expect("request_id");
    let action = request["action"].as_str().expect("action");
    if action == "talk" {
        return json!({"message_type": "agent_message", "request_id": rid,
                      "message_text": format!("seat {seat} speaks on request {rid}"),
                      "channel": "public"});
    }
    let candidates = request["candidates"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let target = if candidates.is_empty() {
        Value::Null
    } else {
        let h = fnv(&format!("{seat}|{rid}|{action}"));
        candidates[(h % candidates.len() as u64) as usize]["player_id"].clone()
    };
    json!({"message_type": "player_action", "request_id": rid, "action": action,
           "target": target})
}

/// What a slot of the table is.
#[derive(Debug, Clone)]
enum Kind {
    /// A seat's agent, by seat index.
    Seat(usize),
    /// A viewer: client type, client id, token.
    Viewer(&'static str, String, Option<String>),
}

/// One recorded stream: a seat's agent or a viewer.
struct Slot {
    kind: Kind,
    /// Bumped on every (re)connection; events of older connections are ignored.
    generation: u64,
    sink: Option<SplitSink<Ws, Message>>,
    reader: Option<tokio::task::JoinHandle<()>>,
    /// Every game frame received, raw, by `seq`.
    frames: BTreeMap<u64, String>,
    /// The `seq` the next game frame must carry.
    next: u64,
    /// A seat that answers its requests.
    active: bool,
    /// Whether the seat is alive (from its latest `game_state`).
    alive: bool,
    /// Got `game_over`.
    over: bool,
    /// Request ids this seat saw time out.
    expired: std::collections::HashSet<String>,
}

type Event = (usize, u64, Option<String>);

/// A game, its seats and viewers, recorded.
struct Table {
    addr: String,
    created: Value,
    gid: String,
    slots: Vec<Slot>,
    tx: mpsc::UnboundedSender<Event>,
    rx: mpsc::UnboundedReceiver<Event>,
    /// Hold (do not answer) the first `talk` request any seat gets.
    hold_first_talk: bool,
    /// The held request: slot, frame, raw text.
    held: Option<(usize, Value, String)>,
}

impl Table {
    async fn create(hub: &RunningHub, body: Value) -> Table {
        let addr = hub.addr().to_string();
        let (status, text) = http(&addr, "POST", "/games", Some(body), None).await;
        assert_eq!(status, 201, "create: {text}");
        let created: Value = serde_json::from_str(&text).expect("json");
        let gid = created["game_id"].as_str().expect("game_id").to_owned();
        let (tx, rx) = mpsc::unbounded_channel();
        Table {
            addr,
            created,
            gid,
            slots: Vec::new(),
            tx,
            rx,
            hold_first_talk: false,
            held: None,
        }
    }

    fn player_id(&self, seat: usize) -> String {
        self.created["players"][seat]["player_id"]
            .as_str()
            .expect("player_id")
            .to_owned()
    }

    fn token(&self, seat: usize) -> String {
        self.created["players"][seat]["token"]
            .as_str()
            .expect("token")
            .to_owned()
    }

    fn observer_token(&self) -> String {
        self.created["observer_token"]
            .as_str()
            .expect("observer_token")
            .to_owned()
    }

    fn add(&mut self, kind: Kind) -> usize {
        self.slots.push(Slot {
            kind,
            generation: 0,
            sink: None,
            reader: None,
            frames: BTreeMap::new(),
            next: 1,
            active: true,
            alive: true,
            over: false,
            expired: Default::default(),
        });
        self.slots.len() - 1
    }

    fn seat_of(&self, slot: usize) -> Option<usize> {
        match self.slots[slot].kind {
            Kind::Seat(s) => Some(s),
            Kind::Viewer(..) => None,
        }
    }

    /// The URL of `slot`, with `last_seq=<raw>` when given.
    fn url(&self, slot: usize, last_seq: Option<&str>) -> String {
        let mut url = match &self.slots[slot].kind {
            Kind::Seat(s) => format!(
                "ws://{}/ws/{}?client_type=agent&game_id={}&token={}",
                self.addr,
                self.player_id(*s),
                self.gid,
                self.token(*s)
            ),
            Kind::Viewer(t, id, token) => {
                let mut u = format!(
                    "ws://{}/ws/{id}?client_type={t}&game_id={}",
                    self.addr, self.gid
                );
                if let Some(token) = token {
                    u.push_str(&format!("&token={token}"));
                }
                u
            }
        };
        if let Some(n) = last_seq {
            url.push_str(&format!("&last_seq={n}"));
        }
        url
    }

    /// Opens `slot`'s socket (the previous one, if any, is dropped) and reads the
    /// `connection` frame; the caller reads what follows or hands the socket to `attach`.
    async fn open(&mut self, slot: usize, last_seq: Option<&str>) -> (Ws, Value) {
        self.drop_conn(slot);
        let url = self.url(slot, last_seq);
        let (mut ws, _) =
            tokio::time::timeout(common::PATIENCE, tokio_tungstenite::connect_async(&url))
                .await
                .expect("connects in time")
                .unwrap_or_else(|e| panic!("connect {url}: {e}"));
        let (welcome, _) = read_frame(&mut ws, "the connection frame").await;
        assert_eq!(welcome["message_type"], "connection", "{welcome}");
        assert_eq!(welcome["data"]["game_id"], self.gid.as_str(), "{welcome}");
        (ws, welcome)
    }

    /// Hands an open socket to a reader task; its frames come out of `pump`.
    fn attach(&mut self, slot: usize, ws: Ws) {
        let s = &mut self.slots[slot];
        s.generation += 1;
        let generation = s.generation;
        let (sink, mut stream) = ws.split();
        s.sink = Some(sink);
        let tx = self.tx.clone();
        s.reader = Some(tokio::spawn(async move {
            while let Some(msg) = stream.next().await {
                match msg {
                    Ok(Message::Text(t)) => {
                        if tx.send((slot, generation, Some(t.to_string()))).is_err() {
                            return;
                        }
                    }
                    Ok(Message::Close(_)) | Err(_) => break,
                    Ok(_) => {}
                }
            }
            let _ = tx.send((slot, generation, None));
        }));
    }

    /// Drops `slot`'s connection without a close frame (a lost connection); whatever its
    /// reader had not handed over yet is forgotten, as a crashed client forgets it.
    fn drop_conn(&mut self, slot: usize) {
        let s = &mut self.slots[slot];
        s.generation += 1;
        if let Some(r) = s.reader.take() {
            r.abort();
        }
        s.sink = None;
    }

    /// The last `seq` `slot` has recorded (0: none).
    fn last(&self, slot: usize) -> u64 {
        self.slots[slot].next - 1
    }

    /// First connection (snapshot path): `recovered: false`, a `game_state` carrying the
    /// stream's head as its `seq`, then the reader takes over.
    async fn join(&mut self, slot: usize) {
        let (mut ws, welcome) = self.open(slot, None).await;
        assert_eq!(welcome["data"]["recovered"], false, "{welcome}");
        let (state, _) = read_frame(&mut ws, "the snapshot").await;
        assert_eq!(state["message_type"], "game_state", "{state}");
        let head = state["seq"].as_u64().expect("snapshot seq");
        let s = &mut self.slots[slot];
        assert!(s.frames.is_empty(), "join is for a first connection");
        // A fresh stream starts after the head the snapshot reports.
        s.next = head + 1;
        self.attach(slot, ws);
    }

    /// Reconnects `slot` with `last_seq` = what it has: the hub must resume.
    async fn resume(&mut self, slot: usize) {
        let last = self.last(slot);
        let (ws, welcome) = self.open(slot, Some(&last.to_string())).await;
        assert_eq!(
            welcome["data"]["recovered"], true,
            "last_seq={last} is within the stream: {welcome}"
        );
        self.attach(slot, ws);
    }

    async fn send(&mut self, slot: usize, frame: Value) {
        let sink = self.slots[slot].sink.as_mut().expect("connected");
        sink.send(Message::text(frame.to_string()))
            .await
            .expect("send");
    }

    /// The next frame of a current connection within `within` (`None`: nothing came).
    /// Checks the `seq` of every game frame (the next one of its stream: no gap, no
    /// duplicate), records it, and lets active seats answer their requests (except a held
    /// talk).
    async fn pump(&mut self, within: Duration) -> Option<(usize, Value)> {
        let deadline = Instant::now() + within;
        loop {
            let (slot, generation, text) =
                match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                    Err(_) => return None,
                    Ok(ev) => ev.expect("the table holds a sender"),
                };
            if generation != self.slots[slot].generation {
                continue;
            }
            let Some(text) = text else {
                panic!(
                    "slot {slot} ({:?}) lost its connection",
                    self.slots[slot].kind
                );
            };
            let v: Value = serde_json::from_str(&text).expect("server sends JSON");
            if v["message_type"] == "error" {
                // The only error a bot may get: it answered a request it had not yet seen
                // time out (frames of a resumed stream arrive at once, the request before
                // its `timed_out`).
                let rid = v["request_id"].as_str().unwrap_or_default();
                assert!(
                    v["code"] == "invalid_action" && self.slots[slot].expired.contains(rid),
                    "slot {slot} got an error: {v}"
                );
                continue;
            }
            if v["message_type"] == "action_result"
                && v["result"] == "timed_out"
                && let Some(rid) = v["request_id"].as_str()
            {
                self.slots[slot].expired.insert(rid.to_owned());
            }
            if let Some(seq) = v["seq"].as_u64() {
                let s = &mut self.slots[slot];
                assert_eq!(
                    seq, s.next,
                    "slot {slot} ({:?}): expected seq {} (no gap, no duplicate), got {v}",
                    s.kind, s.next
                );
                s.next += 1;
                s.frames.insert(seq, text.clone());
            }
            if v["message_type"] == "game_over" {
                self.slots[slot].over = true;
            }
            if let Some(seat) = self.seat_of(slot) {
                if v["message_type"] == "game_state" {
                    let me = self.player_id(seat);
                    if let Some(p) = v["players"]
                        .as_array()
                        .and_then(|ps| ps.iter().find(|p| p["id"] == me.as_str()))
                    {
                        self.slots[slot].alive = p["alive"] == true;
                    }
                }
                if v["message_type"] == "action_request" && self.slots[slot].active {
                    if self.hold_first_talk && self.held.is_none() && v["action"] == "talk" {
                        self.held = Some((slot, v.clone(), text.clone()));
                    } else {
                        let answer = answer_for(seat, &v);
                        self.send(slot, answer).await;
                    }
                }
            }
            return Some((slot, v));
        }
    }

    /// Pumps until `pred` holds for a frame; panics after `TEST_LIMIT`.
    async fn until(&mut self, what: &str, mut pred: impl FnMut(&Table, usize, &Value) -> bool) {
        let deadline = Instant::now() + TEST_LIMIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "timed out waiting for {what}");
            if let Some((slot, v)) = self.pump(left).await
                && pred(self, slot, &v)
            {
                return;
            }
        }
    }

    /// Pumps until `pred` holds for the table (checked first, then after every frame).
    async fn wait_for(&mut self, what: &str, pred: impl Fn(&Table) -> bool) {
        if pred(self) {
            return;
        }
        self.until(what, |t, _, _| pred(t)).await;
    }

    /// Pumps until every slot in `slots` has had `game_over`.
    async fn play_out(&mut self, slots: &[usize]) {
        let wanted: Vec<usize> = slots.to_vec();
        if !wanted.iter().all(|&s| self.slots[s].over) {
            self.until("game_over on every stream", |t, _, _| {
                wanted.iter().all(|&s| t.slots[s].over)
            })
            .await;
        }
        // the final `game_state` follows `game_over`
        self.settle(Duration::from_millis(300)).await;
    }

    /// Pumps until nothing arrives for `quiet`.
    async fn settle(&mut self, quiet: Duration) {
        let deadline = Instant::now() + TEST_LIMIT;
        while self.pump(quiet).await.is_some() {
            assert!(Instant::now() < deadline, "the table never went quiet");
        }
    }

    /// `GET /games/{id}/events?view=…` (optional `from_seq`, `?token=` or Bearer).
    async fn events(
        &self,
        view: &str,
        from_seq: Option<u64>,
        token: Option<&str>,
        bearer: Option<&str>,
    ) -> (u16, String, String) {
        let mut path = format!("/games/{}/events?view={view}", self.gid);
        if let Some(n) = from_seq {
            path.push_str(&format!("&from_seq={n}"));
        }
        if let Some(t) = token {
            path.push_str(&format!("&token={t}"));
        }
        common::http_raw(&self.addr, "GET", &path, None, bearer).await
    }

    /// The replay of a view as `seq` → raw line (the view must be readable).
    async fn replay(&self, view: &str, token: Option<&str>) -> BTreeMap<u64, String> {
        let (status, ctype, body) = self.events(view, None, token, None).await;
        assert_eq!(status, 200, "replay of {view}: {body}");
        assert!(ctype.starts_with("application/x-ndjson"), "{ctype}");
        ndjson(&body)
    }
}

/// Parses an ndjson body into `seq` → line, checking the numbering is gap-free.
fn ndjson(body: &str) -> BTreeMap<u64, String> {
    let mut out = BTreeMap::new();
    let mut expected = None;
    for line in body.lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("line {line:?}: {e}"));
        let seq = v["seq"]
            .as_u64()
            .unwrap_or_else(|| panic!("no seq: {line}"));
        if let Some(e) = expected {
            assert_eq!(
                seq, e,
                "replay numbering has a gap or a duplicate at {line}"
            );
        }
        expected = Some(seq + 1);
        out.insert(seq, line.to_owned());
    }
    out
}

/// Next text frame as (JSON, raw), pings skipped.
async fn read_frame(ws: &mut Ws, what: &str) -> (Value, String) {
    let deadline = Instant::now() + common::PATIENCE;
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
            .unwrap_or_else(|| panic!("stream ended waiting for {what}"))
            .unwrap_or_else(|e| panic!("transport error waiting for {what}: {e}"));
        match msg {
            Message::Text(t) => {
                let v = serde_json::from_str(t.as_str()).expect("json");
                return (v, t.to_string());
            }
            Message::Close(f) => panic!("closed ({f:?}) waiting for {what}"),
            _ => continue,
        }
    }
}

/// Asserts nothing but pings arrives within `window`.
async fn silent(ws: &mut Ws, window: Duration, what: &str) {
    let deadline = Instant::now() + window;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return,
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            Ok(other) => panic!("{what}: expected nothing more, got {other:?}"),
        }
    }
}

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

/// Asserts a `401` with a JSON `{"error": "…"}` body.
fn assert_401(status: u16, body: &str, why: &str) {
    assert_eq!(status, 401, "{why}: {body}");
    let v: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("{why}: not JSON: {body}"));
    assert!(
        v["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{why}: {body}"
    );
}

/// An aiwolf5 game with named seats; deadlines long enough that nothing expires unless a
/// test says so (a stalled test then fails at its limit instead of passing late).
fn aiwolf5(extra: Value) -> Value {
    let mut body = json!({"preset": "aiwolf5", "rules": "hub", "seed": 11, "players": ["A", "B", "C", "D", "E"],
                          "talk_rounds": 1, "action_timeout_ms": 60_000});
    for (k, v) in extra.as_object().expect("object") {
        body[k] = v.clone();
    }
    body
}

/// Seats every seat (in the lobby; the last one starts the game).
async fn seat_all(t: &mut Table) -> Vec<usize> {
    let n = t.created["players"].as_array().expect("players").len();
    let mut slots = Vec::new();
    for seat in 0..n {
        let slot = t.add(Kind::Seat(seat));
        t.join(slot).await;
        slots.push(slot);
    }
    slots
}

/// Whether `v` is the `phase_update` to `phase` of day `day`.
fn is_phase(v: &Value, phase: &str, day: u64) -> bool {
    v["message_type"] == "phase_update" && v["phase"] == phase && v["day"] == day
}

// ---------------------------------------------------------------------------------------
// 1. Resume for each stream kind
// ---------------------------------------------------------------------------------------

/// A seat's agent drops when day 1's discussion starts; its requests time out while the
/// others play on; it comes back with `last_seq` and gets every frame it missed, then live
/// ones, each byte for byte what the hub logged for its stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seat_agent_resumes_with_last_seq() {
    let hub = test_hub().await;
    let mut t = Table::create(&hub, aiwolf5(json!({"action_timeout_ms": 300}))).await;
    let seats = seat_all(&mut t).await;
    // the first living seat to hear that day 1's discussion starts drops
    let mut dropped = None;
    t.until("a living seat hearing day 1's discussion", |t, slot, v| {
        if t.seat_of(slot).is_some() && t.slots[slot].alive && is_phase(v, "discussion", 1) {
            dropped = Some(slot);
            true
        } else {
            false
        }
    })
    .await;
    let s = dropped.expect("a living seat heard the discussion start");
    let seat = t.seat_of(s).expect("seat");
    t.drop_conn(s);
    let last = t.last(s);
    // the game goes on without it (its own requests time out): wait until its stream
    // has moved on by a few frames, as its log shows
    let token = t.token(seat);
    let view = format!("seat:{}", t.player_id(seat));
    let deadline = Instant::now() + TEST_LIMIT;
    loop {
        let (status, _, body) = t.events(&view, Some(last + 1), Some(&token), None).await;
        assert_eq!(status, 200, "{body}");
        if body.lines().count() >= 4 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the game did not move on without seat {seat}"
        );
        t.pump(Duration::from_millis(50)).await;
    }
    t.resume(s).await;
    // the first frame after the welcome is last + 1 (pump checks every seq after it)
    t.until("the first resumed frame", |_, slot, v| {
        slot == s && v["seq"].is_u64()
    })
    .await;
    assert!(t.slots[s].frames.contains_key(&(last + 1)));
    t.play_out(&seats).await;
    // byte for byte what the hub logged for the seat's stream (open to all after the end)
    let log = t.replay(&view, None).await;
    let got = &t.slots[s].frames;
    assert_eq!(
        got.keys().next(),
        Some(&1),
        "the seat had its stream from seq 1"
    );
    assert_eq!(
        got.keys().last(),
        log.keys().last(),
        "the seat got its stream to the end"
    );
    let resumed = got.range(last + 1..).count();
    assert!(resumed >= 4, "only {resumed} frames after the drop");
    for (seq, text) in got {
        assert_eq!(
            Some(text),
            log.get(seq),
            "seat frame {seq} differs from the log"
        );
    }
}

/// A viewer (`client_type`, with `token` for the full view) drops mid-game and resumes;
/// compared frame by frame with a viewer of the same kind that never disconnected.
async fn viewer_resumes(client_type: &'static str, full: bool, delay_ms: u64) {
    let hub = test_hub().await;
    let mut t = Table::create(&hub, aiwolf5(json!({"observer_delay_ms": delay_ms}))).await;
    let token = full.then(|| t.observer_token());
    let reference = t.add(Kind::Viewer(client_type, "ref-view".into(), token.clone()));
    let viewer = t.add(Kind::Viewer(
        client_type,
        "resuming-view".into(),
        token.clone(),
    ));
    t.join(reference).await;
    t.join(viewer).await;
    // the game pauses at day 1's first talk (so it is surely under way while the viewer is
    // away), then goes on
    t.hold_first_talk = true;
    let seats = seat_all(&mut t).await;
    t.until("day 1's discussion on the viewer", |_, slot, v| {
        slot == viewer && is_phase(v, "discussion", 1)
    })
    .await;
    t.drop_conn(viewer);
    let last = t.last(viewer);
    t.wait_for("the held talk", |t| t.held.is_some()).await;
    // meanwhile, a viewer of the same kind claiming a seq beyond the head gets the snapshot
    // path: a game_state carrying the head, then the frame after it
    let probe = t.add(Kind::Viewer(
        client_type,
        "probe-view".into(),
        token.clone(),
    ));
    let (mut ws, welcome) = t.open(probe, Some(&(last + 100_000).to_string())).await;
    assert_eq!(
        welcome["data"]["recovered"], false,
        "beyond the head: {welcome}"
    );
    let (state, _) = read_frame(&mut ws, "the probe's snapshot").await;
    assert_eq!(state["message_type"], "game_state", "{state}");
    let head = state["seq"].as_u64().expect("seq");
    assert!(
        head >= last,
        "the snapshot's seq is the stream's head: {state}"
    );
    // pump checks that its first live frame is head + 1
    t.slots[probe].next = head + 1;
    t.attach(probe, ws);
    let (s, request, _) = t.held.take().expect("held");
    t.hold_first_talk = false;
    let seat = t.seat_of(s).expect("seat");
    t.send(s, answer_for(seat, &request)).await;
    t.until("the probe's first live frame", |_, slot, v| {
        slot == probe && v["seq"].is_u64()
    })
    .await;
    t.drop_conn(probe);
    // let the game move on by a few frames of this stream
    t.until("the game to move on", |t, _, _| {
        t.last(reference) >= last + 6 || t.slots[reference].over
    })
    .await;
    t.resume(viewer).await;
    let mut all = seats.clone();
    all.extend([reference, viewer]);
    t.play_out(&all).await;
    let (r, v) = (&t.slots[reference].frames, &t.slots[viewer].frames);
    assert_eq!(
        v.keys().last(),
        r.keys().last(),
        "the resumed viewer got the stream to its end"
    );
    let resumed = v.range(last + 1..).count();
    assert!(resumed >= 6, "only {resumed} frames after the drop");
    for (seq, text) in v {
        assert_eq!(
            Some(text),
            r.get(seq),
            "{client_type} frame {seq} differs from the uninterrupted viewer's"
        );
    }
    // and from the log
    let view = if full { "full" } else { "public" };
    let log = t.replay(view, None).await;
    for (seq, text) in v {
        assert_eq!(
            Some(text),
            log.get(seq),
            "{view} frame {seq} differs from the log"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_ui_viewer_resumes_with_last_seq() {
    viewer_resumes("ui", false, 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_observer_resumes_with_last_seq() {
    viewer_resumes("observer", true, 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delayed_full_observer_resumes_with_last_seq() {
    viewer_resumes("observer", true, 250).await;
}

// ---------------------------------------------------------------------------------------
// 2. A seat misses a whole discussion round
// ---------------------------------------------------------------------------------------

/// Talks (`agent_message`) of day `day`'s discussion in a recorded stream, in order.
fn talks_of_day(frames: &BTreeMap<u64, String>, day: u64) -> Vec<(u64, String, String)> {
    let mut inside = false;
    let mut out = Vec::new();
    for (seq, text) in frames {
        let v: Value = serde_json::from_str(text).expect("json");
        if v["message_type"] == "phase_update" {
            inside = is_phase(&v, "discussion", day);
        } else if inside && v["message_type"] == "agent_message" {
            out.push((
                *seq,
                v["agent_id"].as_str().unwrap_or_default().to_owned(),
                v["message_text"].as_str().unwrap_or_default().to_owned(),
            ));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seat_that_misses_a_discussion_round_gets_every_talk_on_resume() {
    let hub = test_hub().await;
    let mut t = Table::create(
        &hub,
        aiwolf5(json!({"talk_rounds": 2, "action_timeout_ms": 300})),
    )
    .await;
    let reference = t.add(Kind::Viewer("ui", "table".into(), None));
    t.join(reference).await;
    let seats = seat_all(&mut t).await;
    // a living seat drops the moment it hears day 1's discussion start
    let mut missing = None;
    t.until("a living seat hearing day 1's discussion", |t, slot, v| {
        if t.seat_of(slot).is_some() && t.slots[slot].alive && is_phase(v, "discussion", 1) {
            missing = Some(slot);
            true
        } else {
            false
        }
    })
    .await;
    let s = missing.expect("a seat");
    t.drop_conn(s);
    let last = t.last(s);
    // the whole round happens without it: it comes back once the vote has started
    t.until("day 1's vote", |_, slot, v| {
        slot == reference && (is_phase(v, "vote", 1) || v["message_type"] == "game_over")
    })
    .await;
    t.resume(s).await;
    let mut all = seats.clone();
    all.push(reference);
    t.play_out(&all).await;
    let table_talks: Vec<(String, String)> = talks_of_day(&t.slots[reference].frames, 1)
        .into_iter()
        .map(|(_, a, b)| (a, b))
        .collect();
    let seat_talks = talks_of_day(&t.slots[s].frames, 1);
    assert!(
        table_talks.len() >= 3,
        "the others talked during the round: {table_talks:?}"
    );
    let after_drop = seat_talks.iter().filter(|(seq, _, _)| *seq > last).count();
    assert_eq!(
        after_drop,
        seat_talks.len(),
        "every talk of the round came after the drop, so by resume"
    );
    let seat_talks: Vec<(String, String)> =
        seat_talks.into_iter().map(|(_, a, b)| (a, b)).collect();
    assert_eq!(
        seat_talks, table_talks,
        "the seat that missed the round got every talk of it, in order"
    );
}

// ---------------------------------------------------------------------------------------
// 3. recovered: false
// ---------------------------------------------------------------------------------------

/// The last `seq` of a replay (0: empty).
fn head_of(log: &BTreeMap<u64, String>) -> u64 {
    log.keys().last().copied().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_paths_say_recovered_false_and_keep_the_numbering() {
    let hub = test_hub().await;
    let mut t = Table::create(&hub, aiwolf5(json!({"action_timeout_ms": 60_000}))).await;
    t.hold_first_talk = true;
    let seats = seat_all(&mut t).await;
    t.wait_for("a held talk request", |t| t.held.is_some())
        .await;
    // the game now waits for that talk: nothing moves
    t.settle(Duration::from_millis(300)).await;
    let (s, request, request_raw) = t.held.clone().expect("held");
    let seat = t.seat_of(s).expect("a seat");
    let (pid, token) = (t.player_id(seat), t.token(seat));
    let request_seq = request["seq"].as_u64().expect("seq");
    let last = t.last(s);
    let view = format!("seat:{pid}");
    let head = head_of(&t.replay(&view, Some(&token)).await);
    assert_eq!(head, last, "the seat has its whole stream");

    // last_seq = head: resumed with nothing to catch up, so no snapshot and no re-sent
    // request (the client has it)
    let (mut ws, welcome) = t.open(s, Some(&head.to_string())).await;
    assert_eq!(
        welcome["data"]["recovered"], true,
        "last_seq = head: {welcome}"
    );
    silent(&mut ws, Duration::from_millis(300), "resumed at the head").await;
    drop(ws);

    // snapshot path, several times: no last_seq, beyond the head, not a number
    let beyond = (head + 1).to_string();
    let far = (head + 1000).to_string();
    let cases: [(Option<&str>, &str); 6] = [
        (None, "no last_seq"),
        (Some(&beyond), "last_seq = head + 1"),
        (Some(&far), "last_seq far beyond the head"),
        (Some("abc"), "last_seq not a number"),
        (Some("-1"), "negative last_seq"),
        (None, "no last_seq again"),
    ];
    for (last_seq, why) in cases {
        let (mut ws, welcome) = t.open(s, last_seq).await;
        assert_eq!(welcome["data"]["recovered"], false, "{why}: {welcome}");
        let (state, _) = read_frame(&mut ws, "snapshot").await;
        assert_eq!(state["message_type"], "game_state", "{why}: {state}");
        assert_eq!(
            state["seq"], head,
            "{why}: the snapshot carries the head: {state}"
        );
        assert_eq!(state["you"]["player_id"], pid.as_str(), "{why}");
        let (again, raw) = read_frame(&mut ws, "the pending request").await;
        assert_eq!(again["message_type"], "action_request", "{why}: {again}");
        assert_eq!(
            raw, request_raw,
            "{why}: the pending request is re-sent as its original frame"
        );
        assert_eq!(again["seq"], request_seq);
        silent(&mut ws, Duration::from_millis(200), why).await;
        drop(ws);
    }
    // the seat comes back once more (snapshot path) and stays; once its presence frames
    // are out, every stream is still
    let (mut ws, welcome) = t.open(s, None).await;
    assert_eq!(welcome["data"]["recovered"], false);
    let (state, _) = read_frame(&mut ws, "snapshot").await;
    assert_eq!(state["seq"], head);
    let (_, raw) = read_frame(&mut ws, "re-sent request").await;
    assert_eq!(raw, request_raw);
    t.attach(s, ws);
    t.settle(Duration::from_millis(300)).await;
    // the seat's stream did not move: no frame was numbered for the reconnects
    let after = head_of(&t.replay(&view, Some(&token)).await);
    assert_eq!(after, head, "reconnects consumed seat seq numbers");

    // viewers on the snapshot path: the snapshot carries the head, the next frame is head+1
    let public_head = head_of(&t.replay("public", None).await);
    let observer = t.observer_token();
    let full_head = head_of(&t.replay("full", Some(&observer)).await);
    assert!(public_head > 0 && full_head > 0);
    let public = t.add(Kind::Viewer("ui", "late-ui".into(), None));
    let public_far = t.add(Kind::Viewer("observer", "late-obs".into(), None));
    let full = t.add(Kind::Viewer(
        "observer",
        "late-full".into(),
        Some(observer.clone()),
    ));
    let full_bad = t.add(Kind::Viewer(
        "observer",
        "late-full-2".into(),
        Some(observer),
    ));
    for (slot, last_seq, head) in [
        (public, None, public_head),
        (
            public_far,
            Some((public_head + 50).to_string()),
            public_head,
        ),
        (full, None, full_head),
        (full_bad, Some("x".to_owned()), full_head),
    ] {
        let (mut ws, welcome) = t.open(slot, last_seq.as_deref()).await;
        assert_eq!(welcome["data"]["recovered"], false, "{welcome}");
        let (state, _) = read_frame(&mut ws, "viewer snapshot").await;
        assert_eq!(state["message_type"], "game_state", "{state}");
        assert_eq!(
            state["seq"], head,
            "a viewer's snapshot carries its stream's head: {state}"
        );
        t.slots[slot].next = head + 1;
        t.attach(slot, ws);
    }

    // the seat answers: the numbering goes on from where it was before all the reconnects
    t.held = None;
    t.hold_first_talk = false;
    t.send(s, answer_for(seat, &request)).await;
    t.until("the answer's result", |_, slot, v| {
        slot == s && v["message_type"] == "action_result"
    })
    .await;
    assert!(
        t.slots[s].frames.contains_key(&(head + 1)),
        "the seat's next live frame is head + 1 = {}",
        head + 1
    );
    // each viewer's first live frame is its head + 1 (pump checks the rest)
    t.until("the talk on every late viewer", |t, _, _| {
        [public, public_far, full, full_bad]
            .iter()
            .all(|&v| !t.slots[v].frames.is_empty())
    })
    .await;
    for (slot, head) in [
        (public, public_head),
        (public_far, public_head),
        (full, full_head),
        (full_bad, full_head),
    ] {
        assert_eq!(
            t.slots[slot].frames.keys().next(),
            Some(&(head + 1)),
            "viewer {:?}: first live frame after its snapshot",
            t.slots[slot].kind
        );
    }
    let mut all = seats.clone();
    all.extend([public, public_far, full, full_bad]);
    t.play_out(&all).await;
    // the seat that reconnected 7 times has exactly the stream the hub logged
    let log = t.replay(&view, None).await;
    assert_eq!(t.slots[s].frames.len(), log.len(), "every frame once");
    for (seq, text) in &t.slots[s].frames {
        assert_eq!(Some(text), log.get(seq), "frame {seq}");
    }
    // and a seat that never disconnected has a stream numbered the same way as its log
    let other = seats
        .iter()
        .copied()
        .find(|&o| o != s)
        .expect("another seat");
    let other_view = format!("seat:{}", t.player_id(t.seat_of(other).expect("seat")));
    let other_log = t.replay(&other_view, None).await;
    assert_eq!(&t.slots[other].frames, &other_log);
}

// ---------------------------------------------------------------------------------------
// 4. GET /games/{id}/events
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_endpoint_serves_live_frames_with_access_rules() {
    let hub = test_hub().await;
    let mut t = Table::create(&hub, aiwolf5(json!({"action_timeout_ms": 60_000}))).await;
    let observer = t.observer_token();
    let public = t.add(Kind::Viewer("ui", "table".into(), None));
    let full = t.add(Kind::Viewer(
        "observer",
        "spectator".into(),
        Some(observer.clone()),
    ));
    t.join(public).await;
    t.join(full).await;
    t.hold_first_talk = true;
    let seats = seat_all(&mut t).await;
    t.wait_for("a held talk request", |t| t.held.is_some())
        .await;
    t.settle(Duration::from_millis(300)).await;
    let (s, request, _) = t.held.clone().expect("held");
    let seat = t.seat_of(s).expect("seat");
    let (pid, token) = (t.player_id(seat), t.token(seat));
    let other = (seat + 1) % seats.len();
    let other_token = t.token(other);
    let seat_view = format!("seat:{pid}");

    // while the game runs: public is open
    let (status, ctype, body) = t.events("public", None, None, None).await;
    assert_eq!(status, 200, "{body}");
    assert!(ctype.starts_with("application/x-ndjson"), "{ctype}");
    assert_eq!(
        ndjson(&body),
        t.slots[public].frames,
        "public replay = live frames"
    );
    assert!(body.ends_with('\n'));
    let (_, _, from) = t.events("public", Some(3), None, None).await;
    let from = ndjson(&from);
    assert_eq!(from.keys().next(), Some(&3), "from_seq is inclusive");
    assert_eq!(
        from,
        t.slots[public]
            .frames
            .range(3..)
            .map(|(k, v)| (*k, v.clone()))
            .collect::<BTreeMap<_, _>>()
    );
    // full needs the observer token, as ?token= or Authorization: Bearer
    let (status, _, body) = t.events("full", None, None, None).await;
    assert_401(status, &body, "full without a token");
    let (status, _, body) = t.events("full", None, Some("nope"), None).await;
    assert_401(status, &body, "full with a wrong token");
    let (status, _, body) = t.events("full", None, None, Some("nope")).await;
    assert_401(status, &body, "full with a wrong bearer");
    let (status, _, body) = t.events("full", None, Some(&token), None).await;
    assert_401(status, &body, "full with a seat's token");
    let (status, _, body) = t.events("full", None, Some(&observer), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        ndjson(&body),
        t.slots[full].frames,
        "full replay = live frames"
    );
    let (status, _, bearer_body) = t.events("full", None, None, Some(&observer)).await;
    assert_eq!(status, 200, "{bearer_body}");
    assert_eq!(bearer_body, body, "bearer and ?token= give the same replay");
    // a seat's view needs that seat's token
    let (status, _, body) = t.events(&seat_view, None, None, None).await;
    assert_401(status, &body, "seat view without a token");
    let (status, _, body) = t.events(&seat_view, None, Some(&other_token), None).await;
    assert_401(status, &body, "seat view with another seat's token");
    let (status, _, body) = t.events(&seat_view, None, Some(&observer), None).await;
    assert_401(status, &body, "seat view with the observer token");
    let (status, _, body) = t.events(&seat_view, None, Some(&token), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        ndjson(&body),
        t.slots[s].frames,
        "seat replay = live frames"
    );
    let (status, _, bearer_body) = t.events(&seat_view, None, None, Some(&token)).await;
    assert_eq!((status, &bearer_body), (200, &body));
    // unknown view → 400, unknown game → 404
    for bad in ["everything", "seat:nobody", "seat:", "Public"] {
        let (status, _, body) = t.events(bad, None, Some(&observer), None).await;
        assert_eq!(status, 400, "view={bad}: {body}");
    }
    let (status, _, body) = common::http_raw(
        &t.addr,
        "GET",
        "/games/no-such-game/events?view=public",
        None,
        None,
    )
    .await;
    assert_eq!(status, 404, "{body}");
    // a malformed query is a 400 with a JSON reason naming the field, not plain text
    let path = format!("/games/{}/events?view=public&from_seq=abc", t.gid);
    let (status, ctype, body) = common::http_raw(&t.addr, "GET", &path, None, None).await;
    assert_eq!(status, 400, "{body}");
    assert!(ctype.starts_with("application/json"), "{ctype}: {body}");
    let reason: Value = serde_json::from_str(&body).expect("JSON body");
    assert!(
        reason["error"]
            .as_str()
            .unwrap_or_default()
            .contains("from_seq"),
        "{body}"
    );
    let (status, _, body) =
        common::http_raw(&t.addr, "GET", "/games?status=bogus", None, None).await;
    assert_eq!(status, 400, "{body}");

    // play to the end: every view is open to anyone
    t.held = None;
    t.hold_first_talk = false;
    t.send(s, answer_for(seat, &request)).await;
    let mut all = seats.clone();
    all.extend([public, full]);
    t.play_out(&all).await;
    assert_eq!(t.replay("public", None).await, t.slots[public].frames);
    assert_eq!(t.replay("full", None).await, t.slots[full].frames);
    let full_log = t.replay("full", None).await;
    assert!(
        full_log.values().any(|l| l.contains("\"game_over\"")),
        "the full replay runs to the end"
    );
    for &slot in &seats {
        let p = t.player_id(t.seat_of(slot).expect("seat"));
        let log = t.replay(&format!("seat:{p}"), None).await;
        assert_eq!(log, t.slots[slot].frames, "seat {p}'s replay after the end");
    }
    let (status, _, body) = t.events("everything", None, None, None).await;
    assert_eq!(status, 400, "{body}");
    let (status, _, body) =
        common::http_raw(&t.addr, "GET", "/games/nope/events?view=full", None, None).await;
    assert_eq!(status, 404, "{body}");
}

/// While the game runs, the full view's history stops at what the observer delay has
/// released: neither the replay endpoint nor a resume hands out a frame early.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_observer_delay_holds_for_replays_and_resumes() {
    let hub = test_hub().await;
    let mut t = Table::create(
        &hub,
        aiwolf5(json!({"observer_delay_ms": 60_000, "action_timeout_ms": 60_000})),
    )
    .await;
    let observer = t.observer_token();
    t.hold_first_talk = true;
    let seats = seat_all(&mut t).await;
    t.wait_for("a held talk request", |t| t.held.is_some())
        .await;
    t.settle(Duration::from_millis(200)).await;
    let public_head = head_of(&t.replay("public", None).await);
    assert!(public_head > 5, "the game is under way");
    let (status, _, body) = t.events("full", None, Some(&observer), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body, "",
        "nothing of the full view is released before the delay"
    );
    // resuming from 0 (the released head) is a resume with nothing to catch up
    let full = t.add(Kind::Viewer(
        "observer",
        "early-full".into(),
        Some(observer.clone()),
    ));
    let (mut ws, welcome) = t.open(full, Some("0")).await;
    assert_eq!(welcome["data"]["recovered"], true, "{welcome}");
    silent(&mut ws, Duration::from_millis(300), "a delayed full view").await;
    drop(ws);
    // claiming frames not yet released is beyond the head: a snapshot, delayed as well
    let (mut ws, welcome) = t.open(full, Some("3")).await;
    assert_eq!(welcome["data"]["recovered"], false, "{welcome}");
    silent(&mut ws, Duration::from_millis(300), "a delayed snapshot").await;
    drop(ws);
    // once the game is over, everything is open
    let (s, request, _) = t.held.clone().expect("held");
    t.held = None;
    t.hold_first_talk = false;
    let seat = t.seat_of(s).expect("seat");
    t.send(s, answer_for(seat, &request)).await;
    t.play_out(&seats).await;
    let full_log = t.replay("full", None).await;
    assert!(
        full_log.values().any(|l| l.contains("\"game_over\"")),
        "the full replay is complete after the end"
    );
}
