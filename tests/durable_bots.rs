//! Seats played by the hub's built-in bots survive a `kill -9` of the hub like any seat: a
//! table of bots killed mid-game and restarted on the same data directory finishes the very
//! game an uninterrupted hub plays from the same seed.

mod common;

use common::process::{HubProc, TempDir};
use serde_json::{Value, json};
use std::time::Duration;

/// How long a game may take, end to end (a deadline, not a measure).
const GAME_LIMIT: Duration = Duration::from_secs(60);

fn body(seed: u64) -> Value {
    json!({"preset": "classic9", "bot_seats": [1, 2, 3, 4, 5, 6, 7, 8, 9], "seed": seed,
           "bot_delay_ms": 25})
}

async fn create(addr: &str, seed: u64) -> (String, String) {
    let (status, _, text) = common::http_raw(addr, "POST", "/games", Some(body(seed)), None).await;
    assert_eq!(status, 201, "{text}");
    let v: Value = serde_json::from_str(&text).expect("json");
    (
        v["game_id"].as_str().expect("gid").to_owned(),
        v["observer_token"].as_str().expect("token").to_owned(),
    )
}

/// The lines of a view of the game.
async fn replay(addr: &str, gid: &str, view: &str, token: &str) -> Vec<String> {
    let path = format!("/games/{gid}/events?view={view}&token={token}");
    let (status, _, text) = common::http_raw(addr, "GET", &path, None, None).await;
    assert_eq!(status, 200, "{path}: {text}");
    text.lines().map(str::to_owned).collect()
}

/// The full view once its `game_over` is in the log (the REST summary may show the winner a
/// turn before that turn's batch is durable and readable).
async fn final_replay(addr: &str, gid: &str, token: &str) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + GAME_LIMIT;
    loop {
        let lines = replay(addr, gid, "full", token).await;
        if lines
            .iter()
            .any(|l| l.contains("\"message_type\":\"game_over\""))
        {
            return lines;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no game_over in the log"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn wait_until_over(addr: &str, gid: &str) {
    let deadline = tokio::time::Instant::now() + GAME_LIMIT;
    loop {
        let (_, _, text) =
            common::http_raw(addr, "GET", &format!("/games/{gid}"), None, None).await;
        let v: Value = serde_json::from_str(&text).expect("json");
        if v["winner"].is_string() {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "never ended: {v}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What the game was, without wall-clock facts (`timestamp`, `deadline`), the game id, and
/// `presence` (none at a table of bots).
fn content(lines: &[String], gid: &str) -> Vec<Value> {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(map) => {
                map.remove("timestamp");
                map.remove("deadline");
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    lines
        .iter()
        .map(|l| {
            let mut v: Value = serde_json::from_str(&l.replace(gid, "GAME")).expect("json");
            strip(&mut v);
            v
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_of_bots_killed_mid_game_finishes_the_same_game() {
    let seed = 2024;
    let expected = reference_game(seed).await;
    assert!(
        expected.len() > 60,
        "a real game: {} frames",
        expected.len()
    );

    for kill_after in [10usize, expected.len() / 2] {
        let dir = TempDir::new("bots");
        let mut hub = HubProc::start("sqlite", Some(dir.path()));
        let (gid, token) = create(&hub.addr, seed).await;
        // Mid-game: once the public view has some frames, SIGKILL.
        let deadline = tokio::time::Instant::now() + GAME_LIMIT;
        loop {
            let public = replay(&hub.addr, &gid, "public", "").await;
            if public.len() >= kill_after / 2 {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the game did not move"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let before = replay(&hub.addr, &gid, "full", &token).await.len();
        hub.kill9();
        assert!(
            before < expected.len(),
            "killed before the end ({before} frames)"
        );
        let restarted = HubProc::start("sqlite", Some(dir.path()));
        wait_until_over(&restarted.addr, &gid).await;
        let got = content(&final_replay(&restarted.addr, &gid, &token).await, &gid);
        if got != expected {
            let at = got
                .iter()
                .zip(&expected)
                .position(|(a, b)| a != b)
                .unwrap_or(got.len().min(expected.len()));
            panic!(
                "killed after {before} frames: the game differs at frame {at} ({} vs {}):\n  {}\n  {}",
                got.len(),
                expected.len(),
                got.get(at).map(Value::to_string).unwrap_or_default(),
                expected.get(at).map(Value::to_string).unwrap_or_default()
            );
        }
    }
}

/// The same with the log in Redis (`HUB_REDIS_URL`): the hub SIGKILLed mid-game and
/// restarted finishes the same game, and Redis itself SIGKILLed and restarted mid-game (AOF,
/// `appendfsync always`) is a pause for the game, not a loss.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_of_bots_on_redis_survives_kill_9_of_the_hub_and_of_redis() {
    let seed = 2024;
    let expected = reference_game(seed).await;

    let dir = TempDir::new("redis");
    let mut redis = common::process::RedisProc::start(dir.path());
    let url = redis.url();
    let env = [
        ("HUB_REDIS_URL", url.as_str()),
        ("HUB_REDIS_LEASE_MS", "1000"),
    ];

    // 1. The hub dies mid-game, with three games of the same seed under way at once (their
    //    turns share the writer's pipelined group commits).
    let mut hub = HubProc::start_with("sqlite", None, None, &env);
    let mut games = Vec::new();
    for _ in 0..3 {
        games.push(create(&hub.addr, seed).await);
    }
    wait_for_frames(&hub.addr, &games[2].0, 20).await;
    assert_running(&hub.addr, &games[2].0).await;
    hub.kill9();
    let hub = HubProc::start_with("sqlite", None, None, &env);
    for (gid, token) in &games {
        wait_until_over(&hub.addr, gid).await;
        let got = content(&final_replay(&hub.addr, gid, token).await, gid);
        assert_same(&got, &expected, "hub killed");
    }

    // 2. Redis dies mid-game and comes back on the same files.
    let (gid, token) = create(&hub.addr, seed).await;
    wait_for_frames(&hub.addr, &gid, 30).await;
    assert_running(&hub.addr, &gid).await;
    redis.kill9_and_restart();
    wait_until_over(&hub.addr, &gid).await;
    let got = content(&final_replay(&hub.addr, &gid, &token).await, &gid);
    assert_same(&got, &expected, "Redis killed");
    assert!(
        !hub.stderr().iter().any(|l| l.contains("halted")),
        "no game halted: {:#?}",
        hub.stderr()
    );

    // `werewolf-hub export` reads the finished games back from Redis.
    let out = std::process::Command::new(common::process::BIN)
        .args(["export", "--redis-url", &url])
        .output()
        .expect("export runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON game per line"))
        .collect();
    assert_eq!(lines.len(), 4, "three games, then one more");
    for game in &lines {
        let players = game["players"].as_array().expect("players");
        assert!(players.iter().all(|p| p["bot"] == true), "{game}");
        let events = game["events"].as_array().expect("events");
        assert!(events.iter().any(|e| e["message_type"] == "game_over"));
    }
}

/// Asserts the game has not ended yet (the kill is mid-game).
async fn assert_running(addr: &str, gid: &str) {
    let (_, _, text) = common::http_raw(addr, "GET", &format!("/games/{gid}"), None, None).await;
    let v: Value = serde_json::from_str(&text).expect("json");
    assert!(v["winner"].is_null(), "the game ended before the kill: {v}");
}

/// Waits until the public view of a game has at least `n` frames.
async fn wait_for_frames(addr: &str, gid: &str, n: usize) {
    let deadline = tokio::time::Instant::now() + GAME_LIMIT;
    while replay(addr, gid, "public", "").await.len() < n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the game did not move"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn assert_same(got: &[Value], expected: &[Value], ctx: &str) {
    if got != expected {
        let at = got
            .iter()
            .zip(expected)
            .position(|(a, b)| a != b)
            .unwrap_or(got.len().min(expected.len()));
        panic!(
            "{ctx}: the game differs at frame {at} ({} vs {}):\n  {}\n  {}",
            got.len(),
            expected.len(),
            got.get(at).map(Value::to_string).unwrap_or_default(),
            expected.get(at).map(Value::to_string).unwrap_or_default()
        );
    }
}

/// Two hubs share one Redis: a game runs on one hub at a time. The owner is frozen
/// (SIGSTOP: a network pause) past its lease; the other hub takes the game over and finishes
/// it; the frozen hub, resumed, is fenced (its appends are refused, its copy of the game
/// halts), and the log is exactly the uninterrupted game's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_owner_is_fenced_and_another_hub_finishes_its_game() {
    let seed = 77;
    let expected = reference_game(seed).await;

    let dir = TempDir::new("fence");
    let redis = common::process::RedisProc::start(dir.path());
    let url = redis.url();
    let env = [
        ("HUB_REDIS_URL", url.as_str()),
        ("HUB_REDIS_LEASE_MS", "1000"),
    ];
    let a = HubProc::start_with("sqlite", None, None, &env);
    let (gid, token) = create_slow(&a.addr, seed).await;
    wait_for_frames(&a.addr, &gid, 10).await;
    let b = HubProc::start_with("sqlite", None, None, &env);
    // While its owner lives, the other hub leaves the game alone.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!lists(&b.addr, &gid).await, "two hubs ran one game");
    assert_running(&a.addr, &gid).await;

    signal(&a, libc::SIGSTOP);
    let deadline = tokio::time::Instant::now() + GAME_LIMIT;
    while !lists(&b.addr, &gid).await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "nobody took the game over"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    signal(&a, libc::SIGCONT);
    wait_until_over(&b.addr, &gid).await;
    // Give the resumed hub time to try (and fail) to write.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let got = content(&final_replay(&b.addr, &gid, &token).await, &gid);
    assert_same(&got, &expected, "owner paused, game taken over");
    let log = a.stderr();
    assert!(
        log.iter()
            .any(|l| l.contains("FENCED") || l.contains("lease lost")),
        "the resumed hub was not fenced: {log:#?}"
    );
}

/// Whether the hub at `addr` runs game `gid` (lists it in memory).
async fn lists(addr: &str, gid: &str) -> bool {
    // `/games` lists the whole cluster; each entry names the node running it.
    let (_, _, text) = common::http_raw(addr, "GET", "/stats", None, None).await;
    let stats: Value = serde_json::from_str(&text).expect("json");
    let me = stats["cluster"]["node_id"].clone();
    let (_, _, text) = common::http_raw(addr, "GET", "/games", None, None).await;
    let games: Value = serde_json::from_str(&text).expect("json");
    games
        .as_array()
        .is_some_and(|g| g.iter().any(|x| x["game_id"] == gid && x["node"] == me))
}

fn signal(hub: &HubProc, sig: libc::c_int) {
    // SAFETY: kill(2) on our own child's pid.
    let rc = unsafe { libc::kill(hub.child.id() as libc::pid_t, sig) };
    assert_eq!(rc, 0, "kill {sig}");
}

/// A rolling deploy: the owner gets SIGTERM, gives its leases up as it stops, and the other
/// hub takes the game over at once and finishes it identically.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drained_hub_hands_its_game_over() {
    let seed = 77;
    let expected = reference_game(seed).await;
    let dir = TempDir::new("drain");
    let redis = common::process::RedisProc::start(dir.path());
    let url = redis.url();
    // A long lease: only the release at shutdown can explain a quick takeover.
    let env = [
        ("HUB_REDIS_URL", url.as_str()),
        ("HUB_REDIS_LEASE_MS", "30000"),
    ];
    let mut a = HubProc::start_with("sqlite", None, None, &env);
    let (gid, token) = create_slow(&a.addr, seed).await;
    let b = HubProc::start_with("sqlite", None, None, &env);
    wait_for_frames(&a.addr, &gid, 10).await;
    assert_running(&a.addr, &gid).await;
    a.terminate();
    // B looks for free games every second: the takeover comes long before the 30 s lease
    // would have run out.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !lists(&b.addr, &gid).await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the game was not handed over"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    wait_until_over(&b.addr, &gid).await;
    let got = content(&final_replay(&b.addr, &gid, &token).await, &gid);
    assert_same(&got, &expected, "owner drained");
}

/// The full view of the game of `seed` played by a hub with nothing in its way.
async fn reference_game(seed: u64) -> Vec<Value> {
    let reference = HubProc::start("memory", None);
    let (gid, token) = create(&reference.addr, seed).await;
    wait_until_over(&reference.addr, &gid).await;
    content(&final_replay(&reference.addr, &gid, &token).await, &gid)
}

/// The game of `seed` with slower bots (150 ms), so it outlasts a pause or a drain (the delay
/// changes no choice and no order): its id and observer token.
async fn create_slow(addr: &str, seed: u64) -> (String, String) {
    let mut slow = body(seed);
    slow["bot_delay_ms"] = json!(150);
    let (status, _, text) = common::http_raw(addr, "POST", "/games", Some(slow), None).await;
    assert_eq!(status, 201, "{text}");
    let created: Value = serde_json::from_str(&text).expect("json");
    (
        created["game_id"].as_str().expect("gid").to_owned(),
        created["observer_token"]
            .as_str()
            .expect("token")
            .to_owned(),
    )
}
