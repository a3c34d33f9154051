//! Private reasoning (issue 15) on real hubs and real sockets: agents attach `reasoning` to
//! talks, votes, night actions and whispers; nobody receives any of it while the game runs
//! (every seat, a public `ui`, an observer with the token, every REST view), the
//! `reasoning` view is refused during the game whatever the token and afterwards holds
//! exactly the reasoning of the accepted answers; the export carries it; an over-long one is
//! refused (or cut with `truncate_talk`); and it survives a `kill -9` of the hub.

mod common;

use common::process::{BIN, HubProc, TempDir};
use common::{PATIENCE, Ws, http_raw, send_json};
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use tokio_tungstenite::tungstenite::Message;

/// Every reasoning text the tests send starts with this; no live frame may contain it.
const MARK: &str = "SECRET-REASONING";
/// Request deadline of the games: long enough that nothing times out.
const TIMEOUT_MS: u64 = 30_000;

async fn create_game(addr: &str, body: Value) -> Value {
    let (status, _, text) = http_raw(addr, "POST", "/games", Some(body), None).await;
    assert_eq!(status, 201, "create: {text}");
    serde_json::from_str(&text).expect("json")
}

async fn open(url: &str) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .unwrap_or_else(|e| panic!("connect {url}: {e}"));
    ws
}

/// The next text frame; `None` when the socket ends (a killed hub).
async fn next_text(ws: &mut Ws) -> Option<String> {
    loop {
        match tokio::time::timeout(PATIENCE * 3, ws.next()).await {
            Err(_) => panic!("no frame within {:?}", PATIENCE * 3),
            Ok(Some(Ok(Message::Text(t)))) => return Some(t.as_str().to_owned()),
            Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => return None,
            Ok(Some(Ok(_))) => continue,
        }
    }
}

/// A viewer's frames until `game_over` (or the socket's end).
async fn watch(mut ws: Ws) -> Vec<String> {
    let mut frames = Vec::new();
    while let Some(text) = next_text(&mut ws).await {
        let over = text.contains("\"message_type\":\"game_over\"");
        frames.push(text);
        if over {
            break;
        }
    }
    frames
}

/// `GET /games/{gid}/events?view=…`: status and body.
async fn view(addr: &str, gid: &str, view: &str, token: Option<&str>) -> (u16, String, String) {
    let path = format!("/games/{gid}/events?view={view}");
    http_raw(addr, "GET", &path, None, token).await
}

/// The reasoning view of a finished game, parsed.
async fn reasoning_lines(addr: &str, gid: &str) -> Vec<Value> {
    let (status, _, body) = view(addr, gid, "reasoning", None).await;
    assert_eq!(status, 200, "reasoning view of a finished game: {body}");
    body.lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// Checks the 403 of the reasoning view while the game runs, with `tokens` (and none).
async fn assert_reasoning_closed(addr: &str, gid: &str, tokens: &[&str]) {
    for token in tokens.iter().map(Some).chain([None]) {
        let (status, ctype, body) = view(addr, gid, "reasoning", token.copied()).await;
        assert_eq!(status, 403, "reasoning view during the game: {body}");
        assert!(ctype.contains("json"), "{ctype}: {body}");
        let reason: Value = serde_json::from_str(&body).expect("a JSON error");
        let text = reason.to_string();
        assert!(text.contains("when the game is over"), "{text}");
        assert!(!text.contains(MARK), "{text}");
    }
}

/// What one seat sent and had accepted.
#[derive(Debug, Default)]
struct SeatLog {
    player_id: String,
    /// Every frame received, raw.
    frames: Vec<String>,
    /// request_id (or `whisper:{text}`) → reasoning sent with it.
    sent: BTreeMap<String, String>,
    /// Requests whose `action_result` said accepted.
    accepted: BTreeSet<String>,
    /// Whisper texts the seat heard back from the pack channel (accepted whispers).
    whispered: BTreeSet<String>,
    /// Reasoning sent with answers the hub refused (must never be stored).
    refused: Vec<String>,
    /// `error` frames.
    errors: Vec<Value>,
    over: bool,
}

impl SeatLog {
    /// (request_id or whisper key, reasoning) of every answer the hub confirmed.
    fn confirmed(&self) -> BTreeMap<String, String> {
        self.sent
            .iter()
            .filter(|(key, _)| match key.strip_prefix("whisper:") {
                Some(text) => self.whispered.contains(text),
                None => self.accepted.contains(*key),
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

/// How a seat plays.
#[derive(Clone, Default)]
struct Plan {
    /// On the first vote request any seat gets (the game cannot end while it is pending):
    /// the 403 checks of the reasoning view, with these tokens; the flag says it was done.
    check_closed: Option<(String, String, Vec<String>, Arc<AtomicBool>)>,
    /// Once: an answer the engine refuses (target not a candidate), with reasoning.
    send_refused: bool,
    /// Counts reasoning the hub confirmed, across seats.
    confirmed: Option<Arc<AtomicUsize>>,
}

/// Plays a seat until `game_over` or the end of the socket: every request is answered at
/// once, legally, with a unique reasoning; talks go alternately as `agent_message` and as
/// `player_action`; wolves whisper with reasoning before attacking.
async fn play_seat(mut ws: Ws, mut log: SeatLog, mut plan: Plan) -> SeatLog {
    while let Some(text) = next_text(&mut ws).await {
        let v: Value = serde_json::from_str(&text).expect("json");
        log.frames.push(text);
        let me = log.player_id.clone();
        match v["message_type"].as_str().unwrap_or_default() {
            "action_request" => {
                let rid = v["request_id"].as_str().expect("request_id").to_owned();
                let action = v["action"].as_str().expect("action").to_owned();
                if action == "vote"
                    && let Some((addr, gid, tokens, done)) = plan.check_closed.take()
                    && !done.swap(true, Ordering::SeqCst)
                {
                    let tokens: Vec<&str> = tokens.iter().map(String::as_str).collect();
                    assert_reasoning_closed(&addr, &gid, &tokens).await;
                }
                // (A request re-issued after a restart is answered again, identically.)
                let reasoning = format!("{MARK} {me} request {rid} ({action}): ünïcödé ✓");
                if plan.send_refused && action != "talk" {
                    plan.send_refused = false;
                    let bad = format!("{MARK} REFUSED {me} {rid}");
                    log.refused.push(bad.clone());
                    let mut wrong = answer(&v, &me, &bad);
                    wrong["target"] = json!("nobody-at-all");
                    send_json(&mut ws, wrong).await;
                }
                let said = format!("whisper of {me} at {rid}");
                let key = format!("whisper:{said}");
                if action == "attack" && !log.sent.contains_key(&key) {
                    let why = format!("{MARK} {me} whisper {rid}");
                    log.sent.insert(key, why.clone());
                    send_json(
                        &mut ws,
                        json!({"message_type": "agent_message", "channel": "wolves",
                        "message_text": said, "reasoning": why}),
                    )
                    .await;
                }
                send_json(&mut ws, answer(&v, &me, &reasoning)).await;
                log.sent.insert(rid, reasoning);
            }
            "action_result" if v["result"] == "accepted" => {
                if let Some(rid) = v["request_id"].as_str()
                    && log.accepted.insert(rid.to_owned())
                    && let Some(c) = &plan.confirmed
                {
                    c.fetch_add(1, Ordering::SeqCst);
                }
            }
            "agent_message" if v["channel"] == "wolves" && v["agent_id"] == me.as_str() => {
                if let Some(t) = v["message_text"].as_str() {
                    log.whispered.insert(t.to_owned());
                }
            }
            "error" => log.errors.push(v),
            "game_over" => {
                log.over = true;
                break;
            }
            _ => {}
        }
    }
    log
}

/// A legal answer to `request` with `reasoning`: talks (as `agent_message` from even seats,
/// as `player_action` from odd ones), the first candidate otherwise, no potion for the witch.
fn answer(request: &Value, me: &str, reasoning: &str) -> Value {
    let rid = &request["request_id"];
    let seat_no: usize = me
        .rsplit('p')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    match request["action"].as_str().expect("action") {
        "talk" if seat_no.is_multiple_of(2) => json!({"message_type": "agent_message",
            "request_id": rid, "message_text": format!("{me} talks"), "reasoning": reasoning}),
        "talk" => json!({"message_type": "player_action", "request_id": rid,
            "action": "talk", "text": format!("{me} talks"), "reasoning": reasoning}),
        "witch" => json!({"message_type": "player_action", "request_id": rid,
            "action": "witch", "target": null, "save": false, "reasoning": reasoning}),
        action => json!({"message_type": "player_action", "request_id": rid,
            "action": action, "target": request["candidates"][0]["player_id"],
            "reasoning": reasoning}),
    }
}

fn seat_url(addr: &str, created: &Value, seat: usize) -> String {
    let p = &created["players"][seat];
    format!(
        "ws://{addr}/ws/{}?client_type=agent&game_id={}&token={}",
        p["player_id"].as_str().expect("id"),
        created["game_id"].as_str().expect("gid"),
        p["token"].as_str().expect("token")
    )
}

/// Asserts that no frame of `frames` (what `who` received live) carries any reasoning.
fn assert_clean(frames: &[String], who: &str) {
    assert!(!frames.is_empty(), "{who} received nothing");
    for f in frames {
        assert!(!f.contains(MARK), "{who} received reasoning: {f}");
    }
}

/// The stored reasoning lines: well formed, gap-free, and each naming a frame of the full
/// view; returns them by (player_id, request_id or whisper key) → text.
fn check_lines(lines: &[Value], gid: &str, full: &[Value]) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    let mut last_after = 0;
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["message_type"], "reasoning", "{l}");
        assert_eq!(l["game_id"], gid, "{l}");
        assert_eq!(l["seq"], i as u64 + 1, "gap-free reasoning stream: {l}");
        let after = l["after_seq"].as_u64().expect("after_seq");
        assert!(after >= last_after && after as usize <= full.len(), "{l}");
        last_after = after;
        let pid = l["player_id"].as_str().expect("player_id").to_owned();
        assert_eq!(l["client_id"], pid.as_str(), "{l}");
        let text = l["text"].as_str().expect("text").to_owned();
        let key = if l["whisper"] == true {
            assert!(l["request_id"].is_null() && l["action"].is_null(), "{l}");
            let said = full
                .iter()
                .take(after as usize)
                .rev()
                .find(|f| f["channel"] == "wolves" && f["agent_id"] == pid.as_str())
                .unwrap_or_else(|| panic!("no whisper of {pid} before {l}"));
            format!("whisper:{}", said["message_text"].as_str().expect("text"))
        } else {
            let rid = l["request_id"].as_str().expect("request_id");
            assert!(
                text.contains(&format!(
                    "request {rid} ({})",
                    l["action"].as_str().expect("action")
                )),
                "request id and action match the answer: {l}"
            );
            // The answer's first full-view frame: its acceptance, just before the action.
            let shown = &full[after as usize - 1];
            assert_eq!(
                (
                    &shown["message_type"],
                    &shown["request_id"],
                    &shown["action"],
                    &shown["result"]
                ),
                (
                    &json!("action_result"),
                    &json!(rid),
                    &l["action"],
                    &json!("accepted")
                ),
                "after_seq names the answer's acceptance: {l} / {shown}"
            );
            rid.to_owned()
        };
        assert!(out.insert((pid, key), text).is_none(), "stored twice: {l}");
    }
    out
}

fn full_frames(lines: &[String]) -> Vec<Value> {
    lines
        .iter()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect()
}

async fn full_view(addr: &str, gid: &str) -> Vec<String> {
    let (status, _, body) = view(addr, gid, "full", None).await;
    assert_eq!(status, 200, "{body}");
    body.lines().map(str::to_owned).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reasoning_is_never_delivered_live_and_is_replayed_exactly_once_the_game_is_over() {
    let dir = TempDir::new("reasoning");
    let mut hub = HubProc::start("sqlite", Some(dir.path()));
    let addr = hub.addr.clone();
    let names: Vec<String> = (1..=9).map(|i| format!("Seat {i}")).collect();
    let created = create_game(
        &addr,
        json!({"preset": "classic9", "seed": 4, "players": names, "talk_rounds": 1,
               "action_timeout_ms": TIMEOUT_MS}),
    )
    .await;
    let gid = created["game_id"].as_str().expect("gid").to_owned();
    let obs = created["observer_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let ui = tokio::spawn(watch(
        open(&format!("ws://{addr}/ws/ui-1?client_type=ui&game_id={gid}")).await,
    ));
    let public_obs = tokio::spawn(watch(
        open(&format!(
            "ws://{addr}/ws/obs-1?client_type=observer&game_id={gid}"
        ))
        .await,
    ));
    let full_obs = tokio::spawn(watch(
        open(&format!(
            "ws://{addr}/ws/obs-2?client_type=observer&game_id={gid}&token={obs}"
        ))
        .await,
    ));
    let checked = Arc::new(AtomicBool::new(false));
    let mut seats = Vec::new();
    for seat in 0..9 {
        let token = created["players"][seat]["token"].as_str().expect("t");
        let tokens = vec![obs.clone(), token.to_owned()];
        let plan = Plan {
            check_closed: Some((addr.clone(), gid.clone(), tokens, checked.clone())),
            send_refused: seat < 3,
            confirmed: None,
        };
        let log = SeatLog {
            player_id: created["players"][seat]["player_id"]
                .as_str()
                .expect("id")
                .to_owned(),
            ..SeatLog::default()
        };
        let ws = open(&seat_url(&addr, &created, seat)).await;
        seats.push(tokio::spawn(play_seat(ws, log, plan)));
    }
    let mut logs = Vec::new();
    for s in seats {
        logs.push(s.await.expect("seat task"));
    }
    for (who, frames) in [
        ("the ui", ui.await.expect("ui")),
        ("the token-less observer", public_obs.await.expect("obs")),
        ("the full observer", full_obs.await.expect("full")),
    ] {
        assert!(
            frames.last().is_some_and(|f| f.contains("game_over")),
            "{who}"
        );
        assert_clean(&frames, who);
    }
    let mut expected = BTreeMap::new();
    let mut refused = Vec::new();
    for log in &logs {
        assert!(log.over, "{} saw game_over", log.player_id);
        assert_clean(&log.frames, &log.player_id);
        for e in &log.errors {
            let text = e["message"].as_str().unwrap_or_default();
            assert!(
                text.contains("`target`"),
                "only the deliberate refusals: {e}"
            );
        }
        assert_eq!(
            log.errors.len(),
            log.refused.len(),
            "{}: {:?}",
            log.player_id,
            log.errors
        );
        refused.extend(log.refused.iter().cloned());
        for (key, text) in log.confirmed() {
            expected.insert((log.player_id.clone(), key), text);
        }
    }
    assert!(
        checked.load(Ordering::SeqCst),
        "the reasoning view was checked during the game"
    );
    assert!(!refused.is_empty(), "refused answers carried reasoning");
    let kinds: BTreeSet<String> = expected
        .values()
        .filter_map(|t| t.split(['(', ')']).nth(1).map(str::to_owned))
        .collect();
    for kind in ["talk", "vote", "attack", "divine"] {
        assert!(
            kinds.contains(kind),
            "reasoning on {kind} answers: {kinds:?}"
        );
    }
    assert!(
        expected.keys().any(|(_, k)| k.starts_with("whisper:")),
        "a whisper carried reasoning"
    );
    // Every stored view and the game's page carry none of it either.
    let full_lines = full_view(&addr, &gid).await;
    let mut views = vec!["public".to_owned(), "full".to_owned()];
    views.extend(logs.iter().map(|l| format!("seat:{}", l.player_id)));
    for v in &views {
        let (status, _, body) = view(&addr, &gid, v, None).await;
        assert_eq!(status, 200, "{v}: {body}");
        assert!(!body.contains(MARK), "view {v} carries reasoning");
    }
    let (_, _, page) = http_raw(&addr, "GET", &format!("/games/{gid}"), None, None).await;
    assert!(!page.contains(MARK), "{page}");
    // After the end: exactly the reasoning of the accepted answers.
    let lines = reasoning_lines(&addr, &gid).await;
    let stored = check_lines(&lines, &gid, &full_frames(&full_lines));
    assert_eq!(
        stored, expected,
        "the reasoning view holds exactly the accepted answers' reasoning"
    );
    for r in &refused {
        assert!(
            !lines.iter().any(|l| l["text"] == r.as_str()),
            "refused answer's reasoning stored: {r}"
        );
    }
    // The export carries the same lines.
    hub.terminate();
    let out = Command::new(BIN)
        .arg("export")
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .expect("run export");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line: Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
    assert_eq!(
        line["reasoning"].as_array().expect("reasoning"),
        &lines,
        "export = view"
    );
}

/// Plays seat 1 of a game of bots whose `max_reasoning_chars` is 40: its first answer carries
/// 41 chars of reasoning; then the same answer with 40. Returns the game's reasoning lines,
/// the first request's id and what the two answers got back.
async fn over_long_first_answer(addr: &str, truncate: bool) -> (Vec<Value>, String, Vec<Value>) {
    let created = create_game(
        addr,
        json!({"preset": "arena8", "rules": "hub", "seed": 3, "bots": 7, "max_reasoning_chars": 40,
               "truncate_talk": truncate, "action_timeout_ms": TIMEOUT_MS}),
    )
    .await;
    let gid = created["game_id"].as_str().expect("gid").to_owned();
    let me = created["players"][0]["player_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let mut ws = open(&seat_url(addr, &created, 0)).await;
    let (mut first, mut replies) = (None::<String>, Vec::new());
    while let Some(text) = next_text(&mut ws).await {
        let v: Value = serde_json::from_str(&text).expect("json");
        match v["message_type"].as_str().unwrap_or_default() {
            "action_request" if first.is_none() => {
                let rid = v["request_id"].as_str().expect("rid").to_owned();
                send_json(&mut ws, answer(&v, &me, &"é".repeat(41))).await;
                // Refused (or cut): either way exactly one reply concerns this answer.
                let reply = loop {
                    let r: Value =
                        serde_json::from_str(&next_text(&mut ws).await.expect("a reply"))
                            .expect("json");
                    if r["message_type"] == "error" || r["request_id"] == rid.as_str() {
                        break r;
                    }
                };
                replies.push(reply);
                if !truncate {
                    send_json(&mut ws, answer(&v, &me, &"é".repeat(40))).await;
                    let reply = loop {
                        let r: Value =
                            serde_json::from_str(&next_text(&mut ws).await.expect("a reply"))
                                .expect("json");
                        if r["message_type"] == "error" || r["request_id"] == rid.as_str() {
                            break r;
                        }
                    };
                    replies.push(reply);
                }
                first = Some(rid);
            }
            "action_request" => send_json(&mut ws, answer(&v, &me, "fine")).await,
            "error" => panic!("only the first answer may be refused: {v}"),
            "game_over" => break,
            _ => {}
        }
    }
    (
        reasoning_lines(addr, &gid).await,
        first.expect("a request came"),
        replies,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_long_reasoning_is_refused_and_the_request_stays_pending_or_is_cut() {
    let hub = HubProc::start("memory", None);
    // Refused: nothing changes, the request stays pending, the right length is accepted.
    let (lines, rid, replies) = over_long_first_answer(&hub.addr, false).await;
    assert_eq!(replies[0]["message_type"], "error", "{replies:?}");
    assert_eq!(replies[0]["code"], "invalid_action", "{replies:?}");
    assert_eq!(replies[0]["request_id"], rid.as_str(), "{replies:?}");
    let why = replies[0]["message"].as_str().expect("message");
    assert!(why.contains("max_reasoning_chars (40 characters)"), "{why}");
    assert_eq!(
        (&replies[1]["message_type"], &replies[1]["result"]),
        (&json!("action_result"), &json!("accepted")),
        "the request was still pending: {replies:?}"
    );
    assert_eq!(lines[0]["request_id"], rid.as_str());
    assert_eq!(lines[0]["text"], "é".repeat(40));
    assert!(
        !lines.iter().any(|l| l["text"] == "é".repeat(41)),
        "{lines:?}"
    );
    assert!(lines[1..].iter().all(|l| l["text"] == "fine"), "{lines:?}");
    // With `truncate_talk`: accepted, cut to the limit.
    let (lines, rid, replies) = over_long_first_answer(&hub.addr, true).await;
    assert_eq!(replies[0]["result"], "accepted", "{replies:?}");
    assert_eq!(lines[0]["request_id"], rid.as_str());
    assert_eq!(
        lines[0]["text"],
        "é".repeat(40),
        "cut to max_reasoning_chars"
    );
    // Bad settings are a 400 naming the field.
    let (status, _, body) = http_raw(
        &hub.addr,
        "POST",
        "/games",
        Some(json!({"preset": "arena8", "max_reasoning_chars": 0})),
        None,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("max_reasoning_chars"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reasoning_survives_a_kill_9_of_the_hub() {
    let dir = TempDir::new("reasoning-kill");
    let mut hub = HubProc::start("sqlite", Some(dir.path()));
    let names: Vec<String> = (1..=9).map(|i| format!("Seat {i}")).collect();
    let created = create_game(
        &hub.addr,
        json!({"preset": "classic9", "seed": 4, "players": names, "talk_rounds": 1,
               "action_timeout_ms": TIMEOUT_MS}),
    )
    .await;
    let gid = created["game_id"].as_str().expect("gid").to_owned();
    let confirmed = Arc::new(AtomicUsize::new(0));
    let plan = Plan {
        confirmed: Some(confirmed.clone()),
        ..Plan::default()
    };
    let mut logs: Vec<SeatLog> = (0..9)
        .map(|seat| SeatLog {
            player_id: created["players"][seat]["player_id"]
                .as_str()
                .expect("id")
                .to_owned(),
            ..SeatLog::default()
        })
        .collect();
    let mut before_kill = BTreeSet::new();
    for round in 0..2 {
        let mut tasks = Vec::new();
        for (seat, log) in logs.drain(..).enumerate() {
            let ws = open(&seat_url(&hub.addr, &created, seat)).await;
            tasks.push(tokio::spawn(play_seat(ws, log, plan.clone())));
        }
        if round == 0 {
            // Day 1's talks and some votes are acknowledged, then SIGKILL mid-game.
            while confirmed.load(Ordering::SeqCst) < 12 {
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
            hub.kill9();
        }
        for t in tasks {
            logs.push(t.await.expect("seat task"));
        }
        if round == 0 {
            assert!(logs.iter().all(|l| !l.over), "killed before the end");
            for log in &logs {
                before_kill.extend(log.confirmed().into_values());
            }
            hub = HubProc::start("sqlite", Some(dir.path()));
        }
    }
    assert!(
        logs.iter().all(|l| l.over),
        "the recovered game ran to its end"
    );
    let lines = reasoning_lines(&hub.addr, &gid).await;
    let stored: BTreeSet<String> = lines
        .iter()
        .map(|l| l["text"].as_str().expect("text").to_owned())
        .collect();
    let sent: BTreeSet<String> = logs.iter().flat_map(|l| l.sent.values().cloned()).collect();
    assert!(before_kill.len() >= 12, "{before_kill:?}");
    let lost: Vec<&String> = before_kill.difference(&stored).collect();
    assert!(
        lost.is_empty(),
        "acknowledged reasoning lost by the kill: {lost:?}"
    );
    assert!(stored.is_subset(&sent), "only what was sent is stored");
    assert!(
        stored.len() > before_kill.len(),
        "reasoning after the restart is stored too"
    );
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(
            l["seq"],
            i as u64 + 1,
            "the stream's seq continues after recovery: {l}"
        );
    }
}
