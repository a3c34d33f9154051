//! Leak audit (issue 17, item 3): no public surface may depend on a hidden role while a game
//! runs.
//!
//! Real bot games (`classic9`, `arena8`; several seeds) are played on real hubs in two modes:
//! night actors answering every request after a short random delay, and night actors never
//! answering their night requests (attack, divine, protect, witch) so that these expire. Day
//! requests are always answered. Each game has a hub of its own (hub-wide counters then
//! belong to one game), all games run at once. Meanwhile a poller snapshots every surface
//! anyone can read without a seat's or the observer's token — `GET /agents`, `/games`,
//! `/games/{id}`, `/stats`, `/health` — every ~25 ms and right after every frame of the
//! public stream (phase boundaries), two public viewers (a `ui` and a token-less `observer`)
//! record every frame of the public stream, presence frames included, and a lobby `ui` (no
//! game) records what the lobby hears. Every connection is made before the game starts and
//! kept until it ends; server pings are off for the test (`WS_PING_INTERVAL`), so nothing but
//! the game moves the counters.
//!
//! When the game is over (roles known from `game_over.roles`) the recording is audited:
//!
//! 1. **Nights are silent.** Between the public `phase_update` to `night` (and the
//!    `game_state` that follows it) and the next `phase_update`, no field of any surface may
//!    change at all — only `/health.uptime_s`, a clock, is left out. Nobody connects or
//!    disconnects during the games of this test, so presence cannot change either.
//! 2. **Per-seat activity is not public while the game runs.** From the start to the end of
//!    the game `/agents` (every field of every seat: `last_seen`, `timeouts`, `status`, ...),
//!    `/stats.clients`, `/stats.timeouts_by_agent`, `/stats.counters` (all but
//!    `frames_delivered`, which follows the public stream, and `errors_sent`, see
//!    [`ERRORS_SENT`]) and `/health.connections` do not change. (Spec: `last_seen` moves only with presence; `timeouts` is null until the end;
//!    `timeouts_by_agent` lists only ended games; frames to and from seats are counted when
//!    the game ends.) This also catches what a night leaves behind at dawn, e.g. timeouts of
//!    night requests that all expire at the instant the night ends.
//! 3. **`frames_delivered` follows the public stream only.** At every quiet point (inside a
//!    night) its growth since the first quiet point equals the public frames delivered to the
//!    two viewers since then (or is zero, for a hub that counts the public stream at the end
//!    too).
//! 4. **The public stream is the same whatever the roles do at night:** a night carries only
//!    its `phase_update` and one `game_state` produced with it (server timestamps within
//!    50 ms), no `presence` frame appears while the game runs, and the lobby hears nothing.
//!
//! After the end, per-seat counts may appear: `/agents.timeouts` must then be a number equal
//! to the timed-out requests the seat really had (which also shows that the timing-out mode
//! did exercise timeouts).
//!
//! A finding names the night (or phase), the surface, the field, the seat and the seat's role,
//! and which roles changed and which did not.

mod common;

use common::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;
use werewolf_client::{Agent, Hub, Knowledge, RandomStrategy, Socket, Strategy, next_frame};
use werewolf_schemas::{ActionKind, ResultKind, ResultValue, ServerMessage};

/// Public viewers per game: a `ui` and an `observer` without the token.
const VIEWERS: usize = 2;
/// Period of the poller (it also runs right after every public frame).
const POLL: Duration = Duration::from_millis(25);
/// A snapshot that ends less than this before anyone (a viewer or a seat) receives the next
/// phase boundary is not counted as inside the phase: counters move when a frame is queued,
/// a little before it is read.
const TAIL: Duration = Duration::from_millis(50);
/// How long a bot takes to answer a night request in [`Mode::Answering`], ms: long enough
/// for several snapshots inside every night, short enough for the whole test to stay fast.
const NIGHT_DELAY_MS: std::ops::RangeInclusive<u64> = 100..=600;
/// How long a bot takes to answer a day request (talk, vote, shoot), ms.
const DAY_DELAY_MS: std::ops::RangeInclusive<u64> = 5..=40;
/// `action_timeout_ms` when the night actors let their requests expire.
const SHORT_TIMEOUT_MS: u64 = 400;
/// Games whose findings are shown in full in the failure message (the others in one line).
const DETAILED_GAMES: usize = 4;
/// The whole test must stay well under a minute.
const GAME_BUDGET: Duration = Duration::from_secs(45);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Every request answered after a short random delay.
    Answering,
    /// Night requests (attack, divine, protect, witch) never answered; day ones answered.
    TimingOut,
}

impl Mode {
    fn describe(self) -> &'static str {
        match self {
            Mode::Answering => "night actors answering",
            Mode::TimingOut => "night actors timing out",
        }
    }
}

fn is_night_action(kind: ActionKind) -> bool {
    matches!(
        kind,
        ActionKind::Attack | ActionKind::Divine | ActionKind::Protect | ActionKind::Witch
    )
}

fn seats_of(preset: &str) -> usize {
    match preset {
        "arena8" => 8,
        "classic9" => 9,
        other => panic!("unknown preset {other}"),
    }
}

// ---- bots ---------------------------------------------------------------------------------

/// What a bot saw of its own seat (the test is entitled to it; the public is not).
#[derive(Debug, Default)]
struct BotLog {
    player_id: String,
    night_requests: usize,
    night_answered: usize,
    timed_out: usize,
    /// Error frames or a socket that ended early: the bots must play cleanly.
    problems: Vec<String>,
    /// Error frames by request_id (an answer that arrived after its request had expired,
    /// possible under load, is not a problem).
    errors: Vec<(Option<String>, String)>,
    /// Requests that timed out.
    expired: BTreeSet<String>,
    /// When this seat received each `phase_update` (phase, day) and `game_over`: seats may
    /// hear of a phase boundary before the public viewers do.
    boundaries: Vec<(String, u64, Instant)>,
    /// Ballots this seat received with `vote_result`s.
    ballots_published: usize,
}

/// Marks every bot's private `reasoning`: it must reach nobody while the game runs.
const REASONING_MARK: &str = "private-reasoning-mark";

/// Plays one seat: answers requests after a random delay (night ones never in
/// [`Mode::TimingOut`]); wolves whisper to the pack when they answer an attack.
async fn bot(mut agent: Agent, seed: u64, mode: Mode) -> BotLog {
    let mut log = BotLog {
        player_id: agent.player_id.clone(),
        ..BotLog::default()
    };
    let mut strategy = RandomStrategy::new(seed);
    let mut rng = StdRng::seed_from_u64(seed ^ 0x1ea4_a0d1);
    let mut state = None;
    let mut last_result = None;
    // (when, frames to send then)
    let mut due: Vec<(Instant, Vec<Value>)> = Vec::new();
    loop {
        let next_due = due.iter().map(|(at, _)| *at).min();
        tokio::select! {
            next = next_frame(&mut agent.ws) => {
                let (raw, frame) = match next {
                    Ok(Some(f)) => f,
                    other => {
                        log.problems.push(format!("socket ended before game_over: {other:?}"));
                        return log;
                    }
                };
                if raw.contains(REASONING_MARK) {
                    log.problems.push(format!("private reasoning reached a seat: {raw}"));
                }
                match frame.message {
                    ServerMessage::GameState(s) => state = Some(s),
                    ServerMessage::ActionResult(r) => {
                        if r.result == ResultValue::TimedOut {
                            log.timed_out += 1;
                            log.expired.extend(r.request_id.clone());
                        }
                        if r.result == ResultValue::Accepted
                            && matches!(
                                r.action,
                                ResultKind::Attack
                                    | ResultKind::Divine
                                    | ResultKind::Protect
                                    | ResultKind::Witch
                            )
                        {
                            log.night_answered += 1;
                        }
                        if matches!(
                            r.action,
                            ResultKind::Divine | ResultKind::Medium | ResultKind::Witch
                        ) && r.result != ResultValue::Accepted
                        {
                            last_result = Some(r);
                        }
                    }
                    ServerMessage::ActionRequest(request) => {
                        let night = is_night_action(request.action);
                        if night {
                            log.night_requests += 1;
                            if mode == Mode::TimingOut {
                                continue;
                            }
                        }
                        let knowledge = Knowledge {
                            state: state.as_ref(),
                            last_result: last_result.as_ref(),
                        };
                        let mut frames = Vec::new();
                        if request.action == ActionKind::Attack
                            && let Some(text) = strategy.whisper(&request, &knowledge) {
                                frames.push(json!({"message_type": "agent_message",
                                    "channel": "wolves", "message_text": text}));
                            }
                        let mut answer = strategy.decide(&request, &knowledge).reply_to(&request);
                        answer["reasoning"] =
                            json!(format!("{REASONING_MARK} of {}", log.player_id));
                        frames.push(answer);
                        let delay_ms = if night {
                            rng.random_range(NIGHT_DELAY_MS)
                        } else {
                            rng.random_range(DAY_DELAY_MS)
                        };
                        due.push((Instant::now() + Duration::from_millis(delay_ms), frames));
                    }
                    ServerMessage::Error(e) => log.errors.push((e.request_id, raw)),
                    // Votes are hidden until the count (both presets audited use
                    // `vote_reveal: after_count`): no ballot, day or attack, may reach a seat
                    // as it is cast; the ballots come with `vote_result` / `pack_choice`.
                    ServerMessage::PlayerAction(a)
                        if matches!(a.action, ActionKind::Vote | ActionKind::Attack) =>
                    {
                        log.problems.push(format!("a ballot reached a seat before the count: {raw}"));
                    }
                    ServerMessage::VoteResult(v) => log.ballots_published += v.ballots.len(),
                    ServerMessage::PhaseUpdate(p) => {
                        let phase = json!(p.phase).as_str().unwrap_or("?").to_owned();
                        log.boundaries.push((phase, u64::from(p.day), Instant::now()));
                    }
                    ServerMessage::GameOver(over) => {
                        let late = |id: &Option<String>| id.as_ref().is_some_and(|id| log.expired.contains(id));
                        let errors = std::mem::take(&mut log.errors);
                        log.problems.extend(
                            errors
                                .into_iter()
                                .filter(|(id, _)| !late(id))
                                .map(|(_, raw)| format!("error frame: {raw}")),
                        );
                        log.boundaries.push(("game_over".into(), u64::from(over.day), Instant::now()));
                        return log;
                    }
                    _ => {}
                }
            }
            _ = tokio::time::sleep_until(next_due.unwrap_or_else(Instant::now)), if next_due.is_some() => {
                let now = Instant::now();
                let (ready, later): (Vec<_>, Vec<_>) = due.drain(..).partition(|(at, _)| *at <= now);
                due = later;
                for frame in ready.into_iter().flat_map(|(_, frames)| frames) {
                    if let Err(e) = agent.send(frame).await {
                        log.problems.push(format!("send failed: {e}"));
                        return log;
                    }
                }
            }
        }
    }
}

// ---- public recording ---------------------------------------------------------------------

/// One public-stream frame and when the viewer received it.
#[derive(Debug, Clone)]
struct Seen {
    frame: Value,
    at: Instant,
}

/// Records a public viewer's frames until `game_over`, waking the poller after each.
async fn viewer(mut ws: Socket, wake: Arc<Notify>) -> Vec<Seen> {
    let mut seen = Vec::new();
    loop {
        let (raw, _) = tokio::time::timeout(GAME_BUDGET, next_frame(&mut ws))
            .await
            .expect("the public stream reaches game_over in time")
            .expect("public viewer socket ok")
            .expect("public viewer stream open");
        let frame: Value = serde_json::from_str(&raw).expect("json");
        let over = frame["message_type"] == "game_over";
        seen.push(Seen {
            frame,
            at: Instant::now(),
        });
        wake.notify_one();
        if over {
            return seen;
        }
    }
}

/// Every public surface, read in this order; `game_first`/`game_last` bracket the others.
#[derive(Debug, Clone)]
struct Snapshot {
    start: Instant,
    end: Instant,
    game_first: Value,
    agents: Value,
    stats: Value,
    games: Value,
    health: Value,
    /// `/metrics` as `{series: value}`, without the scrapes' own HTTP counts.
    metrics: Value,
    game_last: Value,
}

async fn get(http: &reqwest::Client, base: &str, path: &str) -> Value {
    let resp = http
        .get(format!("{base}{path}"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    assert!(resp.status().is_success(), "GET {path}: {}", resp.status());
    resp.json()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

async fn snapshot(http: &reqwest::Client, base: &str, game_id: &str) -> Snapshot {
    let path = format!("/games/{game_id}");
    let start = Instant::now();
    let game_first = get(http, base, &path).await;
    let agents = get(http, base, "/agents").await;
    let stats = get(http, base, "/stats").await;
    let games = get(http, base, "/games").await;
    let health = get(http, base, "/health").await;
    let metrics = get_metrics(http, base).await;
    let game_last = get(http, base, &path).await;
    Snapshot {
        start,
        end: Instant::now(),
        game_first,
        agents,
        stats,
        games,
        health,
        metrics,
        game_last,
    }
}

/// `GET /metrics` as a JSON object of its samples. The REST answers counter is left out: the
/// poller's own requests move it.
async fn get_metrics(http: &reqwest::Client, base: &str) -> Value {
    let text = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .expect("GET /metrics")
        .text()
        .await
        .expect("GET /metrics body");
    let samples: serde_json::Map<String, Value> = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter(|l| !l.starts_with("werewolf_http_responses_total{route=\"rest\""))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            Some((series.to_owned(), Value::String(value.to_owned())))
        })
        .collect();
    Value::Object(samples)
}

/// Snapshots every `POLL` and right after every public frame until `stop`.
async fn poller(
    base: String,
    game_id: String,
    wake: Arc<Notify>,
    stop: Arc<AtomicBool>,
) -> Vec<Snapshot> {
    let http = reqwest::Client::new();
    let mut snaps = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        snaps.push(snapshot(&http, &base, &game_id).await);
        tokio::select! {
            _ = wake.notified() => {
                // let the viewers take the rest of the burst (phase_update + game_state)
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            _ = tokio::time::sleep(POLL) => {}
        }
    }
    snaps
}

// ---- one game -----------------------------------------------------------------------------

struct Run {
    label: String,
    game_id: String,
    /// player_id → role, from `game_over.roles`.
    roles: BTreeMap<String, String>,
    /// The two viewers' recordings.
    public: Vec<Vec<Seen>>,
    /// What a lobby `ui` (no game) received after its welcome.
    lobby: Vec<Seen>,
    snaps: Vec<Snapshot>,
    bots: Vec<BotLog>,
    /// `/agents` and `/stats` once the game is over and its timeouts are public.
    agents_after: Value,
    stats_after: Value,
}

/// One audited game; with `redis`, on a hub that is a node of a cluster over that Redis
/// (its `/stats.cluster`, `/games[].node` and cluster metrics are then audited too).
async fn play(preset: &'static str, seed: u64, mode: Mode, redis: Option<String>) -> Run {
    // Server pings would move `frames_delivered` at arbitrary times: none during the test
    // (the interval is capped at WS_TIMEOUT / 2 = 150 s).
    let mut vars = vec![
        ("WS_RATE_PER_SEC", "1000"),
        ("WS_RATE_BURST", "1000"),
        ("WS_PING_INTERVAL", "3600"),
    ];
    // A cluster of its own per game (its own key prefix): hub-wide figures belong to one game.
    let prefix = format!("leak-{preset}-{seed}-{mode:?}");
    if let Some(url) = redis.as_deref() {
        vars.extend([
            ("HUB_REDIS_URL", url),
            ("HUB_REDIS_PREFIX", prefix.as_str()),
            ("HUB_STORE", "sqlite"),
        ]);
    }
    let hub = hub_with(&vars).await;
    let base = format!("http://{}", hub.addr());
    let c = Hub::new(&base).expect("valid hub URL");
    let n = seats_of(preset);
    let timeout_ms = match mode {
        Mode::Answering => 10_000,
        Mode::TimingOut => SHORT_TIMEOUT_MS,
    };
    let names: Vec<String> = (1..=n).map(|i| format!("bot{i}")).collect();
    let mut body = json!({"preset": preset, "seed": seed, "players": names,
        "action_timeout_ms": timeout_ms, "talk_rounds": 1, "auto_start": false});
    if preset == "arena8" {
        // Werewolf Arena's rules: bidding for the floor; 3 turns a day keep the game within
        // its budget (strict-majority exiles make the games long).
        body["talks_per_day"] = json!(3);
    }
    let game = c.create_game(&body).await.expect("create game");
    let gid = game.game_id.clone();
    let label = format!("{preset} seed {seed}, {}", mode.describe());

    let wake = Arc::new(Notify::new());
    let mut viewers = Vec::new();
    for (id, kind) in [("audit-ui", "ui"), ("audit-observer", "observer")] {
        let ws = c
            .connect_viewer(id, kind, &gid, None)
            .await
            .expect("public viewer connects");
        viewers.push(tokio::spawn(viewer(ws, wake.clone())));
    }
    // The lobby is public too: a game must not show there at all.
    let mut lobby_ws = connect(&hub, "audit-lobby", "ui").await;
    let lobby_seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let lobby_task = tokio::spawn({
        let seen = lobby_seen.clone();
        async move {
            while let Ok(Some((raw, _))) = next_frame(&mut lobby_ws).await {
                let frame = serde_json::from_str(&raw).expect("json");
                seen.lock().expect("lock").push(Seen {
                    frame,
                    at: Instant::now(),
                });
            }
        }
    });
    let mut bots = Vec::new();
    for (i, seat) in game.players.iter().enumerate() {
        let agent = c
            .connect_agent(&gid, &seat.player_id, &seat.token)
            .await
            .expect("agent connects");
        bots.push(tokio::spawn(bot(agent, seed * 100 + i as u64, mode)));
    }
    // Every connection settled (presence, /stats, /agents) before the game starts: nothing
    // connects or disconnects until it ends.
    let clients = n + VIEWERS + 1;
    stats_until(&hub, "every client registered", |s| {
        s["total_clients"] == clients
    })
    .await;
    let deadline = Instant::now() + PATIENCE;
    loop {
        let agents = get_json(&hub, "/agents").await;
        let online = agents
            .as_array()
            .expect("agents")
            .iter()
            .filter(|a| a["status"] == "online")
            .count();
        if online == n {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "agents never all online: {agents}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;

    let stop = Arc::new(AtomicBool::new(false));
    let polling = tokio::spawn(poller(
        base.clone(),
        gid.clone(),
        wake.clone(),
        stop.clone(),
    ));
    c.start(&gid).await.expect("start");

    let mut public = Vec::new();
    for v in viewers {
        public.push(v.await.expect("viewer task"));
    }
    for seen in public.iter().flatten() {
        assert!(
            !seen.frame.to_string().contains(REASONING_MARK),
            "{label}: private reasoning reached a public viewer: {}",
            seen.frame
        );
    }
    stop.store(true, Ordering::Relaxed);
    wake.notify_one();
    let snaps = polling.await.expect("poller task");
    lobby_task.abort();
    let lobby = lobby_seen.lock().expect("lock").clone();
    let mut logs = Vec::new();
    for b in bots {
        logs.push(
            tokio::time::timeout(PATIENCE, b)
                .await
                .expect("bots reach game_over")
                .expect("bot task"),
        );
    }
    let over = &public[0].last().expect("game_over").frame;
    let roles: BTreeMap<String, String> = over["roles"]
        .as_object()
        .expect("game_over.roles")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("?").to_owned()))
        .collect();

    // Once the game has ended its timeouts are public: wait for them.
    let deadline = Instant::now() + PATIENCE;
    let agents_after = loop {
        let agents = get_json(&hub, "/agents").await;
        let all_numbers = agents
            .as_array()
            .expect("agents")
            .iter()
            .filter(|a| a["game_id"] == gid.as_str())
            .all(|a| a["timeouts"].is_u64());
        if all_numbers || Instant::now() > deadline {
            break agents;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let stats_after = get_json(&hub, "/stats").await;
    Run {
        label,
        game_id: gid,
        roles,
        public,
        lobby,
        snaps,
        bots: logs,
        agents_after,
        stats_after,
    }
}

// ---- the audit ----------------------------------------------------------------------------

/// One phase of the public stream: from its `phase_update` to the next one.
#[derive(Debug)]
struct Segment {
    phase: String,
    day: u64,
    /// Index range in the aligned public recording.
    frames: std::ops::Range<usize>,
    /// The first viewer received the segment's `phase_update`.
    began: Instant,
    /// Every viewer has received every frame of the segment (for a night: its opening
    /// burst, which is all it may contain).
    settled: Instant,
    /// The first recipient (a viewer or a seat) received the next boundary.
    next_boundary: Option<Instant>,
}

impl Segment {
    fn label(&self) -> String {
        if self.phase == "ended" {
            "the end".to_owned()
        } else {
            format!("{} {}", self.phase, self.day)
        }
    }
}

/// Flattens a surface into `field → value`; array entries are named by their id
/// (`player_id`, `client_id`, `game_id` or `id`) so that a seat's fields carry its id.
fn flatten(prefix: &str, v: &Value, out: &mut BTreeMap<String, Value>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                flatten(&format!("{prefix}.{k}"), child, out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let key = ["player_id", "client_id", "game_id", "id"]
                    .iter()
                    .find_map(|k| child.get(*k).and_then(Value::as_str))
                    .map_or_else(|| i.to_string(), str::to_owned);
                flatten(&format!("{prefix}[{key}]"), child, out);
            }
        }
        leaf => {
            out.insert(prefix.to_owned(), leaf.clone());
        }
    }
}

/// `/health.uptime_s` is a clock: it changes on every read, for everyone alike, and says
/// nothing about the game. The only field left out of the night check.
const ALWAYS_CHANGES: &str = "GET /health .uptime_s";
/// Moves with every public-stream delivery (talks, votes); checked by rule 3 outside nights.
const FRAMES_DELIVERED: &str = "GET /stats .counters.frames_delivered";
/// The bots make no mistakes, but under load a day answer can arrive after its deadline and
/// be refused; whether such an error counts at once is not for this test to say, so this
/// counter is held still at night only (rule 1), where no answer is ever late.
const ERRORS_SENT: &str = "GET /stats .counters.errors_sent";

fn fields(s: &Snapshot) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for (surface, v) in [
        ("GET /agents ", &s.agents),
        ("GET /stats ", &s.stats),
        ("GET /games ", &s.games),
        ("GET /games/{id} ", &s.game_last),
        ("GET /health ", &s.health),
        ("GET /metrics ", &s.metrics),
    ] {
        flatten(surface, v, &mut out);
    }
    out.remove(ALWAYS_CHANGES);
    out
}

/// Surfaces that must not change at all from the start to the end of a game (rule 2): the
/// phase and the public stream legitimately move `/games`, `/games/{id}` and
/// `frames_delivered`; nothing else about seats or connections may move.
fn constant_while_running(key: &str) -> bool {
    (key.starts_with("GET /agents ")
        || key.starts_with("GET /stats ")
        || key.starts_with("GET /health "))
        && key != FRAMES_DELIVERED
        && key != ERRORS_SENT
}

/// How a field moved: when it first moved (rule 2) and its successive values.
struct Moved {
    when: Option<String>,
    order: usize,
    values: Vec<Value>,
}

fn show_values(values: &[Value]) -> String {
    let shown: Vec<String> = values.iter().take(4).map(Value::to_string).collect();
    let more = if values.len() > 4 { " → …" } else { "" };
    format!("{}{more}", shown.join(" → "))
}

/// `villager, villager, witch` → `villager ×2, witch`.
fn count_roles<'a>(roles: impl IntoIterator<Item = &'a str>) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for r in roles {
        *counts.entry(r).or_default() += 1;
    }
    if counts.is_empty() {
        return "none".to_owned();
    }
    counts
        .into_iter()
        .map(|(r, n)| {
            if n == 1 {
                r.to_owned()
            } else {
                format!("{r} ×{n}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One finding: what leaked (a field, or a kind of problem) and the full description.
struct Finding {
    what: String,
    line: String,
}

struct Auditor<'a> {
    run: &'a Run,
    findings: Vec<Finding>,
}

impl Auditor<'_> {
    fn find(&mut self, what: impl Into<String>, line: String) {
        self.findings.push(Finding {
            what: what.into(),
            line,
        });
    }

    /// The seat a field belongs to, if any.
    fn seat_of(&self, key: &str) -> Option<String> {
        key.split(['[', ']', '.', ' '])
            .find(|seg| self.run.roles.contains_key(*seg))
            .map(str::to_owned)
    }

    fn role(&self, seat: &str) -> &str {
        self.run.roles.get(seat).map_or("?", String::as_str)
    }

    /// Reports moved fields. Per-seat fields are grouped across seats so that the message
    /// shows which seats (and roles) moved and which did not: the role explanation.
    fn report(&mut self, when: &str, rule: &str, moved: BTreeMap<String, Moved>) {
        let mut per_field: BTreeMap<String, Vec<(String, Moved)>> = BTreeMap::new();
        for (key, m) in moved {
            match self.seat_of(&key) {
                Some(seat) => per_field
                    .entry(key.replace(&seat, "<seat>"))
                    .or_default()
                    .push((seat, m)),
                None => {
                    let during = m.when.map_or_else(String::new, |w| format!(" (from {w})"));
                    let line = format!(
                        "{when}: {key} changed{during}: {} — {rule}",
                        show_values(&m.values)
                    );
                    self.find(key, line);
                }
            }
        }
        for (field, mut seats) in per_field {
            seats.sort_by_key(|(_, m)| m.order);
            let moved_seats: BTreeSet<&str> = seats.iter().map(|(s, _)| s.as_str()).collect();
            let movers: Vec<String> = seats
                .iter()
                .map(|(seat, m)| match &m.when {
                    Some(w) => format!("{seat} ({}, from {w})", self.role(seat)),
                    None => format!("{seat} ({})", self.role(seat)),
                })
                .collect();
            let still = count_roles(
                self.run
                    .roles
                    .iter()
                    .filter(|(s, _)| !moved_seats.contains(s.as_str()))
                    .map(|(_, r)| r.as_str()),
            );
            let mut line = format!(
                "{when}: {field} changed for {} of {} seats: {}; unchanged for: {still} — {rule}",
                seats.len(),
                self.run.roles.len(),
                movers.join(", "),
            );
            for (seat, m) in seats.iter().take(3) {
                let _ = write!(
                    line,
                    "\n        {seat} ({}): {}",
                    self.role(seat),
                    show_values(&m.values)
                );
            }
            self.find(field, line);
        }
    }
}

/// The findings, and how many snapshots fell inside each night.
fn audit(run: &Run) -> (Vec<Finding>, Vec<usize>) {
    let mut a = Auditor {
        run,
        findings: Vec::new(),
    };
    // Align the two viewers from the game's first phase_update on.
    let start_of = |seen: &[Seen]| {
        seen.iter()
            .position(|s| s.frame["message_type"] == "phase_update")
            .expect("the public stream shows the game start")
    };
    let streams: Vec<&[Seen]> = run.public.iter().map(|v| &v[start_of(v)..]).collect();
    let shape = |s: &[Seen]| -> Vec<(Value, Value)> {
        s.iter()
            .map(|x| (x.frame["seq"].clone(), x.frame["message_type"].clone()))
            .collect()
    };
    if streams.iter().any(|s| shape(s) != shape(streams[0])) {
        a.find(
            "the public stream",
            format!(
                "the ui and the token-less observer got different public streams: {:?} vs {:?}",
                shape(streams[0]),
                shape(streams[1])
            ),
        );
        return (a.findings, Vec::new());
    }
    let frames: Vec<&Value> = streams[0].iter().map(|s| &s.frame).collect();
    let first_viewer = |i: usize| streams.iter().map(|s| s[i].at).min().expect("viewers");
    let last_viewer = |i: usize| streams.iter().map(|s| s[i].at).max().expect("viewers");
    // A boundary frame reaches seats too, maybe before the viewers.
    let first_recipient = |i: usize| {
        let f = frames[i];
        let kind = if f["message_type"] == "game_over" {
            "game_over"
        } else {
            f["phase"].as_str().unwrap_or("?")
        };
        let day = f["day"].as_u64().unwrap_or(0);
        run.bots
            .iter()
            .flat_map(|b| &b.boundaries)
            .filter(|(k, d, _)| k == kind && *d == day)
            .map(|(_, _, at)| *at)
            .chain([first_viewer(i)])
            .min()
            .expect("viewers")
    };
    let boundaries: Vec<usize> = (0..frames.len())
        .filter(|&i| {
            ["phase_update", "game_over"]
                .contains(&frames[i]["message_type"].as_str().unwrap_or(""))
        })
        .collect();
    let mut segments = Vec::new();
    for (k, &b) in boundaries.iter().enumerate() {
        if frames[b]["message_type"] == "game_over" {
            break;
        }
        let end = boundaries.get(k + 1).copied().unwrap_or(frames.len());
        segments.push(Segment {
            phase: frames[b]["phase"].as_str().unwrap_or("?").to_owned(),
            day: frames[b]["day"].as_u64().unwrap_or(0),
            frames: b..end,
            began: first_viewer(b),
            settled: last_viewer(end - 1),
            next_boundary: (end < frames.len()).then(|| first_recipient(end)),
        });
    }
    let Some(ended) = segments.iter().position(|s| s.phase == "ended") else {
        a.find(
            "the public stream",
            "the public stream never showed phase `ended`".into(),
        );
        return (a.findings, Vec::new());
    };
    let game_end = first_recipient(segments[ended].frames.start);
    let game_start = segments[0].settled;
    let label_at = |t: Instant| {
        segments
            .iter()
            .rev()
            .find(|seg| seg.began <= t)
            .map_or_else(|| "the start".to_owned(), Segment::label)
    };

    // Rule 4: a night carries its phase_update and the game_state produced with it (same
    // server timestamp, give or take 50 ms), nothing else; no presence while the game runs.
    for seg in segments.iter().filter(|s| s.phase == "night") {
        let opening = frames[seg.frames.start];
        let rest = &frames[seg.frames.start + 1..seg.frames.end];
        for &f in rest {
            let gap = f["timestamp"].as_f64().unwrap_or(0.0)
                - opening["timestamp"].as_f64().unwrap_or(0.0);
            let ok = f["message_type"] == "game_state"
                && f["phase"] == "night"
                && f["day"] == seg.day
                && gap.abs() < 0.05;
            if !ok {
                a.find(
                    "the public stream at night",
                    format!(
                        "{}: the public stream carried {f} {:.0} ms into the night — only the \
                     night's phase_update and the game_state sent with it may appear",
                        seg.label(),
                        gap * 1000.0
                    ),
                );
            }
        }
        if rest.len() > 1 {
            a.find(
                "the public stream at night",
                format!(
                    "{}: {} public frames after the night's phase_update, expected one game_state",
                    seg.label(),
                    rest.len()
                ),
            );
        }
    }
    for seen in run.lobby.iter().filter(|x| x.at >= segments[0].began) {
        if seen.at <= game_end {
            let line = format!(
                "{}: the lobby received {} while the game ran",
                label_at(seen.at),
                seen.frame
            );
            a.find("the lobby", line);
        }
    }
    for seg in &segments[..ended] {
        for &f in &frames[seg.frames.clone()] {
            if f["message_type"] == "presence" {
                a.find(
                    "presence frames",
                    format!(
                        "{}: presence frame on the public stream although nobody connected or \
                     disconnected: {f}",
                        seg.label()
                    ),
                );
            }
        }
    }

    // Rule 1: nothing changes during a night. A snapshot is inside night N when it began
    // after every viewer had the night's opening frames, ended TAIL before anyone got the
    // next boundary, and both of its /games/{id} reads say night N.
    let phase_is = |v: &Value, phase: &str, day: u64| v["phase"] == phase && v["day"] == day;
    let mut quiet: Vec<&Snapshot> = Vec::new();
    let mut coverage = Vec::new();
    for seg in segments.iter().filter(|s| s.phase == "night") {
        let inside: Vec<&Snapshot> = run
            .snaps
            .iter()
            .filter(|s| {
                s.start >= seg.settled
                    && seg.next_boundary.is_some_and(|b| s.end + TAIL <= b)
                    && phase_is(&s.game_first, "night", seg.day)
                    && phase_is(&s.game_last, "night", seg.day)
            })
            .collect();
        let flat: Vec<BTreeMap<String, Value>> = inside.iter().map(|s| fields(s)).collect();
        let mut moved: BTreeMap<String, Moved> = BTreeMap::new();
        for (order, f) in flat.iter().enumerate().skip(1) {
            let keys: BTreeSet<&String> = f.keys().chain(flat[0].keys()).collect();
            for key in keys {
                let before = flat[order - 1]
                    .get(key)
                    .cloned()
                    .unwrap_or(json!("<absent>"));
                let now = f.get(key).cloned().unwrap_or(json!("<absent>"));
                if before != now {
                    moved
                        .entry(key.clone())
                        .or_insert_with(|| Moved {
                            when: None,
                            order,
                            values: vec![before],
                        })
                        .values
                        .push(now);
                }
            }
        }
        a.report(
            &format!("{} ({} snapshots)", seg.label(), inside.len()),
            "nothing public may change during a night",
            moved,
        );
        coverage.push(inside.len());
        quiet.extend(inside);
    }

    // Rule 2: per-seat surfaces do not change while the game runs (reported with the phase
    // in which each field first moved).
    let running: Vec<&Snapshot> = run
        .snaps
        .iter()
        .filter(|s| {
            s.start >= game_start
                && s.end + TAIL <= game_end
                && ![json!("lobby"), json!("ended")].contains(&s.game_first["phase"])
                && ![json!("lobby"), json!("ended")].contains(&s.game_last["phase"])
        })
        .collect();
    if let Some(first) = running.first() {
        let base = fields(first);
        let mut moved: BTreeMap<String, Moved> = BTreeMap::new();
        for (order, s) in running.iter().enumerate().skip(1) {
            let now = fields(s);
            let keys: BTreeSet<&String> = now.keys().chain(base.keys()).collect();
            for key in keys.into_iter().filter(|k| constant_while_running(k)) {
                let v = now.get(key).cloned().unwrap_or(json!("<absent>"));
                let b = base.get(key).cloned().unwrap_or(json!("<absent>"));
                if v == b && !moved.contains_key(key) {
                    continue;
                }
                let m = moved.entry(key.clone()).or_insert_with(|| Moved {
                    when: Some(label_at(s.start)),
                    order,
                    values: vec![b],
                });
                if m.values.last() != Some(&v) {
                    m.values.push(v);
                }
            }
        }
        a.report(
            "while the game ran",
            "per-seat activity must not be public before the game ends",
            moved,
        );
    }

    // Rule 3: between quiet points frames_delivered grows by exactly the public frames the
    // viewers got (or never, if the hub counts the public stream at the end as well).
    if let Some(base) = quiet.first() {
        let received = |s: &Snapshot| -> u64 {
            streams
                .iter()
                .map(|v| v.iter().filter(|x| x.at <= s.start).count() as u64)
                .sum()
        };
        let counter = |s: &Snapshot| {
            s.stats["counters"]["frames_delivered"]
                .as_u64()
                .unwrap_or(0)
        };
        let pairs: Vec<(&Snapshot, u64, u64)> = quiet[1..]
            .iter()
            .map(|s| {
                (
                    *s,
                    counter(s).saturating_sub(counter(base)),
                    received(s) - received(base),
                )
            })
            .collect();
        let live = pairs.iter().all(|(_, grew, public)| grew == public);
        let never = pairs.iter().all(|(_, grew, _)| *grew == 0);
        if !live
            && !never
            && let Some((s, grew, public)) = pairs.iter().find(|(_, g, p)| g != p)
        {
            let (from, to) = (label_at(base.start), label_at(s.start));
            let span = if from == to {
                format!("within {to}")
            } else {
                format!("from {from} to {to}")
            };
            let line = format!(
                "{to}: {FRAMES_DELIVERED} grew by {grew} {span} (between two quiet points), \
                     while the public stream delivered {public} frames to the {VIEWERS} \
                     viewers — frames to or from seats must not be counted before the game ends"
            );
            a.find(format!("{FRAMES_DELIVERED} vs the public stream"), line);
        }
    }

    // After the end: the timeouts are public, and true.
    let after: BTreeMap<&str, &Value> = run
        .agents_after
        .as_array()
        .expect("agents")
        .iter()
        .filter(|x| x["game_id"] == run.game_id.as_str())
        .map(|x| (x["player_id"].as_str().unwrap_or("?"), &x["timeouts"]))
        .collect();
    for b in &run.bots {
        let shown = after
            .get(b.player_id.as_str())
            .copied()
            .cloned()
            .unwrap_or(Value::Null);
        if shown != json!(b.timed_out) {
            a.find(
                "timeouts after the end",
                format!(
                    "after the end: GET /agents [{}].timeouts is {shown}, but the seat ({}) had {} \
                 timed-out requests",
                    b.player_id,
                    a.role(&b.player_id),
                    b.timed_out
                ),
            );
        }
        let listed = &run.stats_after["timeouts_by_agent"][&b.player_id];
        if b.timed_out > 0 && *listed != json!(b.timed_out) {
            a.find("timeouts after the end", format!(
                "after the end: GET /stats .timeouts_by_agent.{} is {listed}, but the seat ({}) \
                 had {} timed-out requests",
                b.player_id,
                a.role(&b.player_id),
                b.timed_out
            ));
        }
    }
    (a.findings, coverage)
}

/// What the test needs to have happened for the audit to mean something.
fn premises(run: &Run, mode: Mode) -> Vec<String> {
    let mut out = Vec::new();
    for b in &run.bots {
        for p in &b.problems {
            out.push(format!(
                "bot {} ({}): {p}",
                b.player_id,
                run.roles.get(&b.player_id).map_or("?", String::as_str)
            ));
        }
    }
    let night_requests: usize = run.bots.iter().map(|b| b.night_requests).sum();
    let answered: usize = run.bots.iter().map(|b| b.night_answered).sum();
    let timed_out: usize = run.bots.iter().map(|b| b.timed_out).sum();
    match mode {
        Mode::Answering if answered == 0 => out.push("no night request was answered".into()),
        Mode::TimingOut if timed_out == 0 || answered > 0 => out.push(format!(
            "night requests should all time out: {timed_out} timed out, {answered} answered"
        )),
        _ => {}
    }
    if night_requests == 0 {
        out.push("no night request at all".into());
    }
    // classic9 (the hub's rules) publishes the ballots with the count; arena8 (Werewolf
    // Arena's) keeps them private.
    let published: usize = run.bots.iter().map(|b| b.ballots_published).sum();
    if run.label.contains("classic9") && published == 0 {
        out.push("no vote_result carried the ballots".into());
    }
    if run.label.contains("arena8") && published > 0 {
        out.push(format!(
            "arena8's votes are private, yet {published} ballots were published"
        ));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_public_surface_depends_on_a_hidden_role() {
    let mut plan = Vec::new();
    // Interleaved so that the games shown in full cover both presets and both modes.
    for seed in [1u64, 2, 3] {
        for preset in ["classic9", "arena8"] {
            for mode in [Mode::Answering, Mode::TimingOut] {
                plan.push((preset, seed, mode));
            }
        }
    }
    audit_games(plan, None).await;
}

/// The same audit on hubs that are cluster nodes over a real Redis: the cluster's public
/// additions (`/stats.cluster` node records and totals, `/games[].node`,
/// `werewolf_relayed_connections`, `werewolf_cluster_nodes`) must not move either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_public_surface_depends_on_a_hidden_role_in_a_cluster() {
    let dir = common::process::TempDir::new("leak-cluster");
    let redis = common::process::RedisProc::start(dir.path());
    let plan = vec![
        ("classic9", 4, Mode::Answering),
        ("arena8", 4, Mode::TimingOut),
    ];
    audit_games(plan, Some(redis.url())).await;
}

/// Plays every game of `plan` at once (each on a hub of its own; with `redis`, hubs that are
/// cluster nodes over it) and audits them; panics with the findings.
async fn audit_games(plan: Vec<(&'static str, u64, Mode)>, redis: Option<String>) {
    let began = std::time::Instant::now();
    let tasks: Vec<_> = plan
        .iter()
        .map(|&(preset, seed, mode)| {
            let redis = redis.clone();
            tokio::spawn(async move {
                tokio::time::timeout(GAME_BUDGET, play(preset, seed, mode, redis))
                    .await
                    .unwrap_or_else(|_| panic!("{preset} seed {seed} ({mode:?}) ended in time"))
            })
        })
        .collect();
    let mut report = String::new();
    let mut premise_report = String::new();
    let mut leaking = 0;
    // what leaked → in which games
    let mut summary: BTreeMap<String, usize> = BTreeMap::new();
    for (task, &(_, _, mode)) in tasks.into_iter().zip(&plan) {
        let run = task.await.expect("game task");
        let (findings, coverage) = audit(&run);
        eprintln!(
            "{} (game {}): {} snapshots, snapshots inside each night {:?}",
            run.label,
            run.game_id,
            run.snaps.len(),
            coverage
        );
        for p in premises(&run, mode) {
            let _ = writeln!(premise_report, "  {}: {p}", run.label);
        }
        if coverage.iter().all(|&n| n < 2) {
            let _ = writeln!(
                premise_report,
                "  {}: no night was observed twice (snapshots inside each night {coverage:?})",
                run.label
            );
        }
        if findings.is_empty() {
            continue;
        }
        leaking += 1;
        let whats: BTreeSet<&String> = findings.iter().map(|f| &f.what).collect();
        for what in &whats {
            *summary.entry((*what).clone()).or_default() += 1;
        }
        if leaking > DETAILED_GAMES {
            let whats: Vec<&str> = whats.iter().map(|w| w.as_str()).collect();
            let _ = writeln!(
                report,
                "\n{} (game {}): {} findings: {}",
                run.label,
                run.game_id,
                findings.len(),
                whats.join("; ")
            );
            continue;
        }
        let roles: Vec<String> = run.roles.iter().map(|(p, r)| format!("{p}={r}")).collect();
        let _ = writeln!(
            report,
            "\n{} (game {}; roles {}):",
            run.label,
            run.game_id,
            roles.join(" ")
        );
        for f in findings.iter().take(10) {
            let _ = writeln!(report, "  - {}", f.line);
        }
        if findings.len() > 10 {
            let _ = writeln!(report, "  … and {} more", findings.len() - 10);
        }
    }
    eprintln!(
        "leak audit: {} games in {:.1?}",
        plan.len(),
        began.elapsed()
    );
    if !report.is_empty() {
        let what: Vec<String> = summary
            .iter()
            .map(|(what, games)| format!("  {what}: {games} of {} games", plan.len()))
            .collect();
        let premises = if premise_report.is_empty() {
            String::new()
        } else {
            format!("\n\nAlso, the games did not go as planned:\n{premise_report}")
        };
        panic!(
            "public surfaces depend on hidden roles in {leaking} of {} games.\n\
             What moved while it must not:\n{}\n\nPer game (<seat> stands for each seat's \
             player_id):{report}{premises}",
            plan.len(),
            what.join("\n")
        );
    }
    assert!(
        premise_report.is_empty(),
        "the audit's games did not go as planned (the audit would prove nothing):\n{premise_report}"
    );
}
