//! The Python agent kit (`clients/python`, package `werewolf_agent`) against a real hub: the
//! command `POST /games` hands out plays a seat against the hub's bots to `game_over`, the
//! LLM path talks to a fake OpenAI-compatible server, refusals read as one line, and the
//! package's own unit tests pass (including every answer sent here checked against the
//! `response_schema` of its request).
//!
//! The interpreter is `$WEREWOLF_PYTHON` (`.ci/run` makes a venv with the package, `websockets`
//! and `jsonschema`, and sets it), else `python3`. These tests never skip: without the
//! package they fail and say how to get it.

mod common;

use common::*;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use werewolf_server::RunningHub;

const FAST: [(&str, &str); 2] = [("WS_RATE_PER_SEC", "1000"), ("WS_RATE_BURST", "1000")];

/// How long one agent process may take (a whole arena8 game against bots included).
const GAME_BUDGET: Duration = Duration::from_secs(120);

/// The Python interpreter with the package, checked: fails (never skips) without it.
fn python() -> String {
    let python = std::env::var("WEREWOLF_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let out = std::process::Command::new(&python)
        .args(["-c", "import werewolf_agent, websockets, jsonschema"])
        .output();
    match out {
        Ok(o) if o.status.success() => python,
        Ok(o) => panic!(
            "`{python}` cannot import werewolf_agent, websockets and jsonschema: run `bash .ci/run`, \
             or `pip install ./clients/python jsonschema` and set WEREWOLF_PYTHON to that \
             interpreter\n{}",
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => panic!(
            "cannot run `{python}` ({e}): run `bash .ci/run`, or `pip install ./clients/python \
             jsonschema` and set WEREWOLF_PYTHON to that interpreter"
        ),
    }
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A scratch file path unique to this test process.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("werewolf-python-kit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    path
}

/// `POST /games`: an arena8 game whose last 7 seats are the hub's bots.
async fn bot_game(hub: &RunningHub, seed: u64) -> Value {
    let body = json!({"preset": "arena8", "bots": 7, "seed": seed, "action_timeout_ms": 2000});
    let (status, _, text) =
        http_raw(&hub.addr().to_string(), "POST", "/games", Some(body), None).await;
    assert_eq!(status, 201, "create: {text}");
    let created: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(
        created["players"].as_array().map(Vec::len),
        Some(1),
        "{created}"
    );
    assert_eq!(
        created["bots"].as_array().map(Vec::len),
        Some(7),
        "{created}"
    );
    created
}

/// The seat's `commands.python`, as the create answer gives it, run with `python`, with its
/// `--url` pointed at `url`.
fn seat_command(python: &str, seat: &Value, url: &str) -> tokio::process::Command {
    let line = seat["commands"]["python"]
        .as_str()
        .expect("commands.python");
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        &words[..3],
        ["python", "-m", "werewolf_agent"],
        "commands.python: {line}"
    );
    let mut args: Vec<String> = words[1..].iter().map(|w| w.to_string()).collect();
    let at = args
        .iter()
        .position(|a| a == "--url")
        .unwrap_or_else(|| panic!("no --url in {line}"));
    args[at + 1] = url.to_owned();
    let mut cmd = tokio::process::Command::new(python);
    cmd.args(&args)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("PYTHONUNBUFFERED", "1")
        .env_remove("OPENAI_BASE_URL")
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_MODEL")
        .kill_on_drop(true);
    cmd
}

async fn finish(cmd: &mut tokio::process::Command, what: &str) -> Output {
    let out = tokio::time::timeout(GAME_BUDGET, cmd.output())
        .await
        .unwrap_or_else(|_| panic!("{what}: the agent did not end within {GAME_BUDGET:?}"))
        .expect("python runs");
    eprintln!(
        "{what} stderr:\n{}",
        String::from_utf8_lossy(&out.stderr).trim_end()
    );
    out
}

/// Checks a finished agent: exit 0, its result line, decisions logged; returns the result.
fn played(out: &Output, seat: &Value) -> Value {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the agent failed: {stderr}");
    let result: Value = serde_json::from_slice(out.stdout.trim_ascii())
        .unwrap_or_else(|e| panic!("one JSON line on stdout ({e}): {:?}", out.stdout));
    assert_eq!(result["player_id"], seat["player_id"], "{result}");
    assert!(
        result["winner"].is_string() && result["role"].is_string(),
        "{result}"
    );
    let decisions = result["decisions"].as_u64().unwrap_or(0);
    assert!(decisions > 0, "it answered requests: {result}");
    let logged = stderr
        .lines()
        .filter(|l| l.contains(": request ") && l.contains(" -> "))
        .count() as u64;
    assert_eq!(logged, decisions, "one log line per decision:\n{stderr}");
    result
}

/// The game's full replay ends with `game_over`: after it come only the final `game_state`
/// (phase `ended`) and `presence` frames (the agents leaving).
async fn replay_ends_with_game_over(hub: &RunningHub, game_id: &str) {
    let (status, _, text) = http_raw(
        &hub.addr().to_string(),
        "GET",
        &format!("/games/{game_id}/events?view=full"),
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let frames: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    let over = frames
        .iter()
        .rposition(|f| f["message_type"] == "game_over")
        .unwrap_or_else(|| panic!("no game_over in the replay: {text}"));
    for f in &frames[over + 1..] {
        let epilogue = f["message_type"] == "presence"
            || (f["message_type"] == "game_state" && f["phase"] == "ended");
        assert!(epilogue, "after game_over: {f}");
    }
}

/// Lines of the `WEREWOLF_AGENT_RECORD` file: `{player_id, request, answer}`.
fn recorded(path: &PathBuf) -> Vec<Value> {
    std::fs::read_to_string(path)
        .expect("the agent recorded its answers")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

/// (a) and (d): the package's command plays a seat against 7 bots to the end; then the
/// package's unit tests pass, with every answer it sent checked against its request's
/// `response_schema`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_package_agent_plays_bots_to_game_over_and_its_unit_tests_pass() {
    let python = python();
    let hub = hub_with(&FAST).await;
    let created = bot_game(&hub, 5).await; // seat 1 is the doctor: it acts on night 1
    let game_id = created["game_id"].as_str().expect("game_id");
    let seat = &created["players"][0];
    let record = scratch("answers.jsonl");
    let mut cmd = seat_command(&python, seat, &format!("http://{}", hub.addr()));
    cmd.env("WEREWOLF_AGENT_RECORD", &record);
    let out = finish(&mut cmd, "random agent").await;
    let result = played(&out, seat);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("random: OPENAI_BASE_URL is not set"),
        "without an endpoint it plays random legal moves: {stderr}"
    );
    replay_ends_with_game_over(&hub, game_id).await;
    let answers = recorded(&record);
    assert_eq!(answers.len() as u64, result["decisions"].as_u64().unwrap());
    let stats = get_json(&hub, "/stats").await;
    assert!(
        stats["timeouts_by_agent"]
            .get(seat["player_id"].as_str().unwrap())
            .is_none(),
        "the agent answered in time: {stats}"
    );

    // (d) the unit tests, the recorded answers included
    let unit = tokio::process::Command::new(&python)
        .args(["-m", "unittest", "discover", "-v", "clients/python/tests"])
        .current_dir(repo())
        .env("WEREWOLF_RECORDED_ANSWERS", &record)
        .output()
        .await
        .expect("unittest runs");
    let report = String::from_utf8_lossy(&unit.stderr);
    eprintln!("unittest:\n{report}");
    assert!(unit.status.success(), "the package's unit tests fail");
    assert!(!report.contains("skipped"), "no test may skip here");
    for test in [
        "test_every_server_frame",
        "test_every_answer",
        "test_every_answer_fits_its_request_schema",
    ] {
        assert!(
            report
                .lines()
                .any(|l| l.starts_with(test) && l.ends_with("ok")),
            "{test} ran and passed"
        );
    }
}

/// A fake OpenAI-compatible `/chat/completions`: checks each call asks for strict JSON-schema
/// output and answers with the first non-null value of each enum of that schema (and a line
/// of text where there is no enum). Returns its address and the bodies it received.
async fn fake_openai() -> (String, Arc<Mutex<Vec<Value>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let calls: Arc<Mutex<Vec<Value>>> = Arc::default();
    let seen = calls.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                let (head_end, length) = loop {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
                        let length = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        break (end + 4, length);
                    }
                };
                while buf.len() < head_end + length {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let body: Value =
                    serde_json::from_slice(&buf[head_end..head_end + length]).unwrap_or_default();
                let (status, reply) = match answer_from(&head, &body) {
                    Ok(answer) => (
                        "200 OK",
                        json!({"id": "fake", "object": "chat.completion", "choices": [{
                            "index": 0, "finish_reason": "stop",
                            "message": {"role": "assistant", "content": answer.to_string()}}]}),
                    ),
                    Err(why) => ("400 Bad Request", json!({"error": {"message": why}})),
                };
                seen.lock().unwrap().push(body);
                let text = reply.to_string();
                let response = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                    text.len()
                );
                let _ = sock.write_all(response.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    (format!("http://{addr}/v1"), calls)
}

/// What the fake model answers to one chat completion request, or why it refuses it.
fn answer_from(head: &str, body: &Value) -> Result<Value, String> {
    if !head.starts_with("POST /v1/chat/completions ") {
        return Err(format!(
            "unexpected request: {}",
            head.lines().next().unwrap_or("")
        ));
    }
    if !head
        .to_lowercase()
        .contains("authorization: bearer test-key")
    {
        return Err("no bearer key".into());
    }
    let format = &body["response_format"];
    if format["type"] != "json_schema" || format["json_schema"]["strict"] != json!(true) {
        return Err(format!(
            "not a strict json_schema response_format: {format}"
        ));
    }
    let schema = &format["json_schema"]["schema"];
    let props = schema["properties"]
        .as_object()
        .ok_or("the schema has no properties")?;
    if body["messages"].as_array().is_none_or(|m| m.is_empty()) {
        return Err("no messages".into());
    }
    let mut answer = serde_json::Map::new();
    for (key, prop) in props {
        let value = match prop["enum"].as_array() {
            Some(values) => values
                .iter()
                .find(|v| !v.is_null())
                .or(values.first())
                .cloned()
                .ok_or("empty enum")?,
            None if prop["type"] == "boolean" => json!(false),
            None => json!("The fake model thinks the quiet ones are suspicious."),
        };
        answer.insert(key.clone(), value);
    }
    Ok(Value::Object(answer))
}

/// (b) the LLM path: every decision goes to the (fake) endpoint with the request's own
/// schema in strict mode, and its answers are played.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_llm_agent_asks_an_openai_compatible_endpoint_with_the_strict_schema() {
    let python = python();
    let (base, calls) = fake_openai().await;
    let hub = hub_with(&FAST).await;
    let created = bot_game(&hub, 5).await; // seat 1 is the doctor: it acts on night 1
    let game_id = created["game_id"].as_str().expect("game_id");
    let seat = &created["players"][0];
    let record = scratch("llm-answers.jsonl");
    let mut cmd = seat_command(&python, seat, &format!("http://{}", hub.addr()));
    cmd.env("OPENAI_BASE_URL", &base)
        .env("OPENAI_API_KEY", "test-key")
        .env("OPENAI_MODEL", "fake-model")
        .env("WEREWOLF_AGENT_RECORD", &record);
    let out = finish(&mut cmd, "llm agent").await;
    let result = played(&out, seat);
    replay_ends_with_game_over(&hub, game_id).await;

    let calls = calls.lock().unwrap().clone();
    let decisions = result["decisions"].as_u64().unwrap();
    assert!(!calls.is_empty(), "the agent called the endpoint");
    assert_eq!(calls.len() as u64, decisions, "one call per decision");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let by_llm = stderr
        .lines()
        .filter(|l| l.contains("[llm fake-model"))
        .count() as u64;
    assert_eq!(
        by_llm, decisions,
        "every decision came from the model:\n{stderr}"
    );
    for call in &calls {
        assert_eq!(call["model"], "fake-model");
        assert_eq!(call["response_format"]["json_schema"]["name"], "answer");
    }
    // each call carried exactly the schema of the request it answered
    for line in recorded(&record) {
        let schema = &line["request"]["response_schema"];
        assert!(
            calls
                .iter()
                .any(|c| &c["response_format"]["json_schema"]["schema"] == schema),
            "no call carried the schema of request {}",
            line["request"]["request_id"]
        );
        let prompt = calls
            .iter()
            .find(|c| &c["response_format"]["json_schema"]["schema"] == schema)
            .and_then(|c| c["messages"][1]["content"].as_str())
            .unwrap_or_default()
            .to_owned();
        for c in line["request"]["candidates"]
            .as_array()
            .expect("candidates")
        {
            let name = c["name"].as_str().unwrap();
            assert!(prompt.contains(name), "the prompt names {name}: {prompt}");
        }
    }
}

/// Runs the seat's `commands.python` with some of its flags' values swapped, expecting a
/// refusal; returns its stderr (checked to be one line).
async fn refused(python: &str, hub: &RunningHub, seat: &Value, swap: &[(&str, &str)]) -> String {
    let line = seat["commands"]["python"]
        .as_str()
        .expect("commands.python");
    let mut args: Vec<String> = line.split_whitespace().skip(1).map(str::to_owned).collect();
    let url = format!("http://{}", hub.addr());
    for (flag, value) in swap.iter().chain([&("--url", url.as_str())]) {
        let at = args
            .iter()
            .position(|a| a == flag)
            .unwrap_or_else(|| panic!("no {flag} in {line}"));
        args[at + 1] = (*value).to_owned();
    }
    let mut fixed = tokio::process::Command::new(python);
    fixed
        .args(&args)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .kill_on_drop(true);
    let out = tokio::time::timeout(PATIENCE, fixed.output())
        .await
        .expect("a refusal ends the agent at once")
        .expect("python runs");
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "exit code 1 on a refusal: {stderr}"
    );
    assert!(out.stdout.is_empty(), "nothing on stdout");
    assert_eq!(
        stderr.lines().count(),
        1,
        "one line, no traceback: {stderr}"
    );
    stderr
}

/// (c) refusals before the upgrade: 401, 403 (a bot's seat, an id that is no seat), 404,
/// 409 each end the agent with one line `error: hub refused (NNN …): <the hub's reason>`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_print_one_line_and_exit_1() {
    let python = python();
    let hub = hub_with(&FAST).await;
    let created = bot_game(&hub, 3).await;
    let game_id = created["game_id"].as_str().unwrap();
    let seat = &created["players"][0];
    let bot = created["bots"][0]["player_id"].as_str().unwrap();

    let line = refused(&python, &hub, seat, &[("--token", "wrong-token")]).await;
    assert!(
        line.starts_with("error: hub refused (401 Unauthorized): ") && line.contains("token"),
        "{line}"
    );
    let line = refused(&python, &hub, seat, &[("--player", bot)]).await;
    assert!(
        line.starts_with("error: hub refused (403 Forbidden): ") && line.contains("bot"),
        "{line}"
    );
    let line = refused(&python, &hub, seat, &[("--player", "someone-else")]).await;
    assert!(
        line.starts_with("error: hub refused (403 Forbidden): ") && line.contains("not a seat"),
        "{line}"
    );
    let line = refused(&python, &hub, seat, &[("--game", "no-such-game")]).await;
    assert!(
        line.starts_with("error: hub refused (404 Not Found): ") && line.contains("no-such-game"),
        "{line}"
    );

    // 409: the id is held by a connection with another credential (a full observer here);
    // an agent that names no game asks for it without that credential
    let observer = format!(
        "ws://{}/ws/watcher?client_type=observer&game_id={game_id}&token={}",
        hub.addr(),
        created["observer_token"].as_str().unwrap()
    );
    let (mut watcher, _) = tokio_tungstenite::connect_async(observer)
        .await
        .expect("full observer");
    let welcome = recv_json(&mut watcher).await;
    assert_eq!(welcome["message_type"], "connection", "{welcome}");
    let line = refused(
        &python,
        &hub,
        seat,
        &[("--game", ""), ("--player", "watcher")],
    )
    .await;
    assert!(
        line.starts_with("error: hub refused (409 Conflict): ") && line.contains("watcher"),
        "{line}"
    );
}
