//! The AIWolf NLP endpoint (`GET /ws`) against agents built on the AIWolf contest's own client
//! library, `aiwolf-nlp-common` 0.7.0 (installed by `.ci/run`): its packet classes parse every
//! packet the hub sends and raise on an unknown request, a missing `status_map`/`role_map`,
//! a malformed `setting` or a bad role name. One team's agents self-match and play to `FINISH`;
//! every seat's `role_map` shows only what that seat may know, and no packet leaks a whisper, a
//! divination, a medium's result or the attack votes to a seat that may not have them (each
//! agent audits every packet it gets). AIWolf's game log of each game (`GET
//! /games/{id}/aiwolf/game.log`, and `AIWOLF_LOG_DIR/game/`) agrees with the game's full log.

mod common;

use common::process::{HubProc, TempDir};
use serde_json::Value;
use std::collections::BTreeMap;

/// The CI venv's Python, which must have `aiwolf-nlp-common`.
fn python_with_aiwolf() -> String {
    let python = std::env::var("WEREWOLF_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let ok = std::process::Command::new(&python)
        .args(["-c", "import aiwolf_nlp_common"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "`{python}` cannot import aiwolf_nlp_common: run `bash .ci/run` (it installs \
         aiwolf-nlp-common==0.7.0 in its venv and sets WEREWOLF_PYTHON)"
    );
    python
}

/// Runs `count` agents of `team` against the AIWolf endpoint at `url` (with the script's
/// `env`: `AIWOLF_TOKEN`, `AIWOLF_SLOW`); their reports, or what went wrong.
fn self_match(
    url: &str,
    team: &str,
    count: usize,
    seed: u64,
    env: &[(String, String)],
) -> Result<Vec<Value>, String> {
    let out = std::process::Command::new(python_with_aiwolf())
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/aiwolf/self_match.py"
        ))
        .arg(url)
        .arg(team)
        .arg(count.to_string())
        .arg(seed.to_string())
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "agents failed: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON report per agent"))
        .collect())
}

/// `self_match` on the hub's own port, off the async runtime, failing with the hub's log.
async fn play(hub: &HubProc, team: &'static str, count: usize, seed: u64) -> Vec<Value> {
    let url = format!("ws://{}/ws", hub.addr);
    play_at(hub, url, team, count, seed, &[]).await
}

/// `self_match` against `url` with the script's `env`.
async fn play_at(
    hub: &HubProc,
    url: String,
    team: &'static str,
    count: usize,
    seed: u64,
    env: &[(&str, &str)],
) -> Vec<Value> {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let result = tokio::task::spawn_blocking(move || self_match(&url, team, count, seed, &env))
        .await
        .expect("agents");
    result.unwrap_or_else(|e| panic!("{e}\nhub: {:#?}", hub.stderr()))
}

fn map(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .expect("a map")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("a role").to_owned()))
        .collect()
}

/// Checks one finished game of `reports`: everyone reached `FINISH` with the full and
/// consistent role map, role counts as dealt, and no seat ever saw a role it may not know.
fn check_game(reports: &[Value], counts: &[(&str, usize)]) {
    let finish = map(&reports[0]["finish_role_map"]);
    assert_eq!(finish.len(), reports.len(), "FINISH names every agent");
    for (role, n) in counts {
        assert_eq!(
            finish.values().filter(|r| r == role).count(),
            *n,
            "{role} dealt: {finish:?}"
        );
    }
    let wolves: Vec<&String> = finish
        .iter()
        .filter(|(_, r)| *r == "WEREWOLF")
        .map(|(a, _)| a)
        .collect();
    for r in reports {
        assert_eq!(map(&r["finish_role_map"]), finish, "one FINISH for all");
        let me = r["agent"].as_str().expect("agent");
        let role = r["role"].as_str().expect("role");
        assert_eq!(finish[me], role, "INITIALIZE told {me} its real role");
        let seen: Vec<BTreeMap<String, String>> = std::iter::once(&r["init_role_map"])
            .chain(r["role_maps"].as_array().into_iter().flatten())
            .map(map)
            .collect();
        for m in &seen {
            if role == "WEREWOLF" {
                let expected: BTreeMap<String, String> = wolves
                    .iter()
                    .map(|w| ((*w).clone(), "WEREWOLF".to_owned()))
                    .collect();
                assert_eq!(
                    *m, expected,
                    "{me}: a werewolf knows the werewolves, no one else"
                );
            } else {
                assert_eq!(
                    *m,
                    BTreeMap::from([(me.to_owned(), role.to_owned())]),
                    "{me}: its own role only"
                );
            }
        }
        let requests: Vec<&str> = r["requests"]
            .as_array()
            .expect("requests")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(
            requests[..3],
            ["NAME", "INITIALIZE", "DAILY_INITIALIZE"],
            "{me}"
        );
        assert_eq!(requests.last(), Some(&"FINISH"), "{me}");
        let leaks = r["leaks"].as_array().expect("the agent's audit");
        assert!(leaks.is_empty(), "{me} ({role}) was told: {leaks:#?}");
        if role == "SEER" {
            assert!(r["divines"].as_u64() >= Some(1), "the seer is asked: {r}");
            // The first night's divination (AIWolf's night 0) reaches it on day 1.
            assert!(
                r["divine_results"].as_u64() >= Some(1),
                "the seer hears its divinations: {r}"
            );
        } else {
            assert!(r.get("divines").is_none(), "{me} is no seer: {r}");
            assert!(
                r.get("divine_results").is_none(),
                "{me}: no divine result to a non-seer"
            );
        }
        if role != "WEREWOLF" {
            assert!(
                !requests.contains(&"ATTACK"),
                "{me}: attack asked of a non-wolf"
            );
        }
    }
    assert!(
        reports.iter().any(|r| r["requests"]
            .as_array()
            .unwrap()
            .iter()
            .any(|q| q == "TALK")),
        "agents talked"
    );
    assert!(
        reports.iter().any(|r| r["requests"]
            .as_array()
            .unwrap()
            .iter()
            .any(|q| q == "VOTE")),
        "agents voted"
    );
}

/// Five `kanolab` agents (as the AIWolf agent kit starts them) self-match into an `aiwolf5`
/// game and play it to `FINISH`; the game is a normal hub game (listed, replayable). With
/// `AIWOLF_LOG_DIR`, the game's AIWolf JSON log holds every packet each agent received.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_agents_of_one_team_self_match_and_finish() {
    let logs = TempDir::new("aiwolf-json-log");
    let dir = logs.path().to_str().expect("utf-8 path").to_owned();
    let hub = HubProc::start_with("memory", None, None, &[("AIWOLF_LOG_DIR", &dir)]);
    let reports = play(&hub, "kanolab", 5, 1).await;
    assert_eq!(reports.len(), 5);
    check_game(
        &reports,
        &[
            ("WEREWOLF", 1),
            ("POSSESSED", 1),
            ("SEER", 1),
            ("VILLAGER", 2),
        ],
    );
    for r in &reports {
        assert_eq!(r["agent_count"], 5, "{r}");
        assert_eq!(r["role_num_map"]["WEREWOLF"], 1, "{r}");
        assert_eq!(r["role_num_map"]["POSSESSED"], 1, "{r}");
    }
    let (_, _, text) = common::http_raw(&hub.addr, "GET", "/games", None, None).await;
    let games: Vec<Value> = serde_json::from_str(&text).expect("json");
    assert_eq!(games.len(), 1, "one hub game: {games:?}");
    assert!(games[0]["winner"].is_string(), "it ended: {games:?}");
    let names: Vec<String> = {
        let gid = games[0]["game_id"].as_str().expect("gid");
        let (_, _, text) =
            common::http_raw(&hub.addr, "GET", &format!("/games/{gid}"), None, None).await;
        let v: Value = serde_json::from_str(&text).expect("json");
        v["players"]
            .as_array()
            .expect("players")
            .iter()
            .map(|p| p["name"].as_str().unwrap_or("").to_owned())
            .collect()
    };
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        ["kanolab1", "kanolab2", "kanolab3", "kanolab4", "kanolab5"],
        "seats carry the agents' names"
    );
    for r in &reports {
        let timeout = &r["timeout"];
        assert_eq!(
            *timeout,
            serde_json::json!({"action": 60000, "response": 120000})
        );
    }

    // AIWolf's json_logger file: one per game, `{timestamp}_{teams}.json`.
    let win_side = match games[0]["winner"].as_str() {
        Some("villagers") => "VILLAGER",
        Some("werewolves") => "WEREWOLF",
        _ => "NONE",
    };
    let expected: usize = reports
        .iter()
        .map(|r| r["raw"].as_array().unwrap().len())
        .sum();
    let (path, log) = json_log(logs.path(), expected).await;
    let file = path.file_name().unwrap().to_string_lossy().into_owned();
    let (stamp, teams) = file.split_once('_').expect("{timestamp}_{teams}.json");
    assert!(stamp.parse::<u64>().is_ok(), "{file}");
    assert_eq!(teams, "kanolab_kanolab_kanolab_kanolab_kanolab.json");
    let keys: Vec<&String> = log.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["agents", "entries", "game_id", "win_side"]);
    assert_eq!(log["win_side"], win_side);
    assert_eq!(log["game_id"], games[0]["game_id"]);
    let agents = log["agents"].as_array().expect("agents");
    assert_eq!(agents.len(), 5);
    let finish = map(&reports[0]["finish_role_map"]);
    for a in agents {
        let r = reports
            .iter()
            .find(|r| r["name"] == a["name"])
            .unwrap_or_else(|| panic!("an agent of the log is no agent: {a}"));
        let me = format!("Agent[{:02}]", a["idx"].as_u64().expect("idx"));
        assert_eq!(r["agent"], me.as_str(), "idx is the seat: {a}");
        assert_eq!(a["role"], finish[&me].as_str(), "{a}");
        assert_eq!(a["team"], "kanolab");
    }
    let entries = log["entries"].as_array().expect("entries");
    for r in &reports {
        let me = r["agent"].as_str().expect("agent");
        let mine: Vec<&Value> = entries.iter().filter(|e| e["agent"] == me).collect();
        let requests: Vec<&str> = mine
            .iter()
            .map(|e| e["request"].as_str().unwrap())
            .collect();
        let received: Vec<&str> = r["raw"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        assert_eq!(requests, received, "{me}: one entry per packet, as sent");
        for e in mine {
            let asks = ["TALK", "WHISPER", "VOTE", "DIVINE", "GUARD", "ATTACK"]
                .iter()
                .any(|q| {
                    e["request"]
                        .as_str()
                        .unwrap()
                        .starts_with(&format!("{{\"request\":\"{q}\""))
                });
            assert_eq!(
                e.get("response").is_some(),
                asks,
                "answered exactly when asked: {e}"
            );
            assert!(e.get("error").is_none(), "{e}");
            assert!(e["request_timestamp"].as_u64() <= e["response_timestamp"].as_u64());
            assert!(
                e["request_timestamp"].as_u64() > Some(1_700_000_000_000),
                "ms: {e}"
            );
        }
    }
    // AIWolf's game log: served, and written where AIWolf's game logger writes it.
    let gid = games[0]["game_id"].as_str().expect("gid");
    let csv = check_aiwolf_log(&hub.addr, gid, None).await;
    let files = wait_for_files(&logs.path().join("game")).await;
    assert_eq!(files.len(), 1, "one log file: {files:?}");
    let stem = files[0]
        .file_name()
        .and_then(|n| n.to_str())
        .expect("a name")
        .to_owned();
    let (stamp, teams) = stem
        .strip_suffix(".log")
        .and_then(|s| s.split_once('_'))
        .expect("{timestamp}_{teams}.log");
    assert!(
        stamp.parse::<u64>().is_ok_and(|t| t > 1_600_000_000),
        "{stem}"
    );
    assert_eq!(teams, "kanolab_kanolab_kanolab_kanolab_kanolab", "{stem}");
    let written = std::fs::read_to_string(&files[0]).expect("readable");
    assert_eq!(written, csv, "the file is the served log");
    assert!(
        !written.ends_with('\n'),
        "no trailing newline, as AIWolf writes it"
    );
    for (i, name) in names.iter().enumerate() {
        let line = format!("0,status,{},", i + 1);
        let status = csv.lines().find(|l| l.starts_with(&line)).expect("status");
        assert!(
            status.ends_with(&format!(",{name},Agent[{:02}]", i + 1)),
            "original and in-game names: {status}"
        );
    }
}

/// The files of `dir` once there is one (the log is written when the game's end is stored).
async fn wait_for_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let files: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        if !files.is_empty() || tokio::time::Instant::now() > deadline {
            return files;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Fetches a finished game's AIWolf log (with `token` if given) once its end is in it, and
/// checks it against the game's full log: a status block of every agent for each day from 0
/// to the end, every execution and every attack as the hub's deaths were, the winner.
async fn check_aiwolf_log(addr: &str, gid: &str, token: Option<&str>) -> String {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    let path = format!("/games/{gid}/aiwolf/game.log");
    let csv = loop {
        let (status, ctype, csv) = common::http_raw(addr, "GET", &path, None, token).await;
        assert_eq!(status, 200, "{csv}");
        assert!(ctype.starts_with("text/plain"), "{ctype}");
        if csv.contains(",result,") {
            break csv;
        }
        assert!(tokio::time::Instant::now() < deadline, "no result: {csv}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let (_, _, full) = common::http_raw(
        addr,
        "GET",
        &format!("/games/{gid}/events?view=full"),
        None,
        None,
    )
    .await;
    let (_, _, shown) = common::http_raw(addr, "GET", &format!("/games/{gid}"), None, None).await;
    let shown: Value = serde_json::from_str(&shown).expect("json");
    let ids: Vec<String> = shown["players"]
        .as_array()
        .expect("players")
        .iter()
        .map(|p| p["id"].as_str().expect("id").to_owned())
        .collect();
    let idx = |id: &Value| -> usize {
        1 + ids
            .iter()
            .position(|i| Some(i.as_str()) == id.as_str())
            .expect("a seat")
    };
    let (mut executed, mut killed, mut choices, mut winner) = (Vec::new(), Vec::new(), 0, None);
    for frame in full.lines() {
        let f: Value = serde_json::from_str(frame).expect("a frame");
        match f["message_type"].as_str() {
            Some("vote_result") if f["executed"].is_string() => executed.push(idx(&f["executed"])),
            Some("phase_update") if f["phase"] == "day" => {
                for d in f["deaths"].as_array().into_iter().flatten() {
                    killed.push(idx(&d["player_id"]));
                }
            }
            Some("action_result") if f["action"] == "attack" && f["result"] == "pack_choice" => {
                choices += 1
            }
            Some("game_over") => winner = f["winner"].as_str().map(str::to_owned),
            _ => {}
        }
    }
    let lines: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    let result = lines.last().expect("lines");
    assert_eq!(result[1], "result", "{csv}");
    let end: u32 = result[0].parse().expect("day");
    for day in 0..=end {
        let block: Vec<&Vec<&str>> = lines
            .iter()
            .filter(|l| l[1] == "status" && l[0] == day.to_string())
            .collect();
        let seats: Vec<String> = block.iter().map(|l| l[2].to_owned()).collect();
        let want: Vec<String> = (1..=ids.len()).map(|i| i.to_string()).collect();
        assert_eq!(seats, want, "day {day}'s status block:\n{csv}");
    }
    let of = |kind: &str| -> Vec<&Vec<&str>> { lines.iter().filter(|l| l[1] == kind).collect() };
    let execute: Vec<usize> = of("execute")
        .iter()
        .map(|l| l[2].parse().unwrap())
        .collect();
    assert_eq!(execute, executed, "executions:\n{csv}");
    let attacks = of("attack");
    assert_eq!(attacks.len(), choices, "one attack line per attack:\n{csv}");
    let mut died: Vec<usize> = attacks
        .iter()
        .filter(|l| l[3] == "true" && l[2] != "-1")
        .map(|l| l[2].parse().unwrap())
        .collect();
    died.sort_unstable();
    killed.sort_unstable();
    assert_eq!(
        died, killed,
        "attacks that killed are the night deaths:\n{csv}"
    );
    let side = match winner.as_deref() {
        Some("villagers") => "VILLAGER",
        Some("werewolves") => "WEREWOLF",
        _ => "NONE",
    };
    assert_eq!(result[4], side, "{csv}");
    csv
}

/// `GET /games/{id}/aiwolf/game.log` of a REST game of bots: a running game's log needs the
/// observer token (401 without it or with another, JSON reasons), is open once the game is
/// over, and agrees with the game's full log; an unknown game is 404.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aiwolf_game_log_of_a_rest_game_needs_the_observer_token_while_it_runs() {
    let hub = HubProc::start("memory", None);
    let body = serde_json::json!({"preset": "aiwolf13", "bot_seats": (1..=13).collect::<Vec<u32>>(),
                                  "seed": 11, "bot_delay_ms": 40});
    let (status, _, text) = common::http_raw(&hub.addr, "POST", "/games", Some(body), None).await;
    assert_eq!(status, 201, "{text}");
    let created: Value = serde_json::from_str(&text).expect("json");
    let gid = created["game_id"].as_str().expect("gid");
    let observer = created["observer_token"].as_str().expect("token");
    let path = format!("/games/{gid}/aiwolf/game.log");
    let (status, ctype, text) = common::http_raw(&hub.addr, "GET", &path, None, None).await;
    assert_eq!(status, 401, "{text}");
    assert!(ctype.starts_with("application/json"), "{ctype}");
    let reason: Value = serde_json::from_str(&text).expect("a JSON reason");
    assert!(
        reason["error"]
            .as_str()
            .is_some_and(|e| e.contains("observer token")),
        "{reason}"
    );
    let (status, _, text) =
        common::http_raw(&hub.addr, "GET", &format!("{path}?token=nope"), None, None).await;
    assert_eq!(status, 401, "{text}");
    let (status, _, text) = common::http_raw(&hub.addr, "GET", &path, None, Some(observer)).await;
    assert_eq!(
        status, 200,
        "the observer reads it while the game runs: {text}"
    );
    let (status, _, text) =
        common::http_raw(&hub.addr, "GET", "/games/nope/aiwolf/game.log", None, None).await;
    assert_eq!(status, 404, "{text}");
    // Over: open to all, and right.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let (_, _, text) =
            common::http_raw(&hub.addr, "GET", &format!("/games/{gid}"), None, None).await;
        let shown: Value = serde_json::from_str(&text).expect("json");
        if shown["winner"].is_string() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never ended: {shown}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let csv = check_aiwolf_log(&hub.addr, gid, None).await;
    assert!(
        csv.contains(",guard,"),
        "the bodyguard's guards are logged:\n{csv}"
    );
    assert!(
        csv.contains(",attackVote,"),
        "the attack votes are logged:\n{csv}"
    );
}

/// The one AIWolf JSON log under `dir/json`, once it is final (`win_side` set and `entries`
/// entries).
async fn json_log(dir: &std::path::Path, entries: usize) -> (std::path::PathBuf, Value) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let mut last = None;
    loop {
        let files: Vec<std::path::PathBuf> = std::fs::read_dir(dir.join("json"))
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        let done: Vec<std::path::PathBuf> = files
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .cloned()
            .collect();
        if let [path] = done.as_slice()
            && let Ok(text) = std::fs::read_to_string(path)
            && let Ok(v) = serde_json::from_str::<Value>(&text)
        {
            if v["win_side"] != "NONE" && v["entries"].as_array().map(Vec::len) >= Some(entries) {
                return (path.clone(), v);
            }
            last = Some(v);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no final JSON log in {}: {files:?} {last:?}",
            dir.display()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The address of the hub's AIWolf-only listener (`AIWOLF_PORT`), from its stderr.
fn aiwolf_url(hub: &HubProc) -> String {
    hub.stderr()
        .iter()
        .find_map(|l| {
            l.strip_prefix("werewolf-hub AIWolf endpoint listening on ")
                .map(|u| u.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("no AIWolf listener line: {:#?}", hub.stderr()))
}

/// `AIWOLF_PORT=0`: a second port serving only `GET /ws`; a team plays a whole game through it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_plays_through_the_aiwolf_only_port() {
    let hub = HubProc::start_with("memory", None, None, &[("AIWOLF_PORT", "0")]);
    let url = aiwolf_url(&hub);
    let addr = url
        .strip_prefix("ws://")
        .and_then(|u| u.strip_suffix("/ws"))
        .expect("ws://addr/ws")
        .to_owned();
    assert_ne!(addr, hub.addr, "a port of its own");
    for path in ["/health", "/games", "/ws/someone"] {
        let (status, _, body) = common::http_raw(&addr, "GET", path, None, None).await;
        assert_eq!(status, 404, "{path} is not served there: {body}");
    }
    let reports = play_at(&hub, url, "porter", 5, 4, &[]).await;
    check_game(
        &reports,
        &[
            ("WEREWOLF", 1),
            ("POSSESSED", 1),
            ("SEER", 1),
            ("VILLAGER", 2),
        ],
    );
    let (_, _, text) = common::http_raw(&hub.addr, "GET", "/games", None, None).await;
    let games: Vec<Value> = serde_json::from_str(&text).expect("json");
    assert!(games[0]["winner"].is_string(), "the game ended: {games:?}");
}

/// A `PLAYER` token signed with `secret`.
fn jwt(alg: jsonwebtoken::Algorithm, secret: &str, claims: Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(alg),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("signs")
}

/// `AIWOLF_SECRET_KEY`: agents with their team's token (sent by aiwolf-nlp-common's `Client`
/// as `Authorization: Bearer`) play; a bad token gets 401 before the upgrade; another team's
/// token is closed with 1008 after `NAME`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_auth_as_aiwolfs_server() {
    use futures_util::{SinkExt, StreamExt};
    use jsonwebtoken::Algorithm;
    use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};
    const SECRET: &str = "contest-secret-key";
    let hub = HubProc::start_with("memory", None, None, &[("AIWOLF_SECRET_KEY", SECRET)]);
    let url = format!("ws://{}/ws", hub.addr);

    // Refused before the upgrade: no token, a bad signature, a RECEIVER token, expired.
    let expired = serde_json::json!({"role": "PLAYER", "team": "kanolab", "exp": 1_000_000});
    for (token, why) in [
        (String::new(), "token is required"),
        (
            jwt(
                Algorithm::HS256,
                "wrong",
                serde_json::json!({"role": "PLAYER", "team": "kanolab"}),
            ),
            "invalid token",
        ),
        (
            jwt(
                Algorithm::HS256,
                SECRET,
                serde_json::json!({"role": "RECEIVER"}),
            ),
            "not a PLAYER token",
        ),
        (jwt(Algorithm::HS256, SECRET, expired), "token expired"),
    ] {
        let mut request = url.as_str().into_client_request().expect("request");
        if !token.is_empty() {
            request.headers_mut().insert(
                "Authorization",
                format!("Bearer {token}").parse().expect("header"),
            );
        }
        match tokio_tungstenite::connect_async(request).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), 401, "{why}");
                let body = String::from_utf8_lossy(response.body().as_deref().unwrap_or_default())
                    .into_owned();
                let v: Value = serde_json::from_str(&body).expect("JSON error body");
                assert!(v["error"].as_str().unwrap().contains(why), "{body}");
            }
            other => panic!("{why}: expected 401, got {other:?}"),
        }
    }

    // Another team's (valid) token in ?token= (which wins over a header): 1008 after NAME.
    let other = jwt(
        Algorithm::HS512,
        SECRET,
        serde_json::json!({"role": "PLAYER", "team": "rivals"}),
    );
    let mine = jwt(
        Algorithm::HS256,
        SECRET,
        serde_json::json!({"role": "PLAYER", "team": "kanolab"}),
    );
    let mut request = format!("{url}?token={other}")
        .into_client_request()
        .expect("request");
    request.headers_mut().insert(
        "Authorization",
        format!("Bearer {mine}").parse().expect("header"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("upgraded");
    let name = ws.next().await.expect("NAME").expect("frame");
    assert_eq!(
        name.into_text().expect("text").as_str(),
        r#"{"request":"NAME"}"#
    );
    ws.send(Message::text("kanolab1\n")).await.expect("send");
    match tokio::time::timeout(common::PATIENCE, ws.next())
        .await
        .expect("closed in time")
    {
        Some(Ok(Message::Close(Some(frame)))) => {
            assert_eq!(u16::from(frame.code), 1008);
            assert!(
                !frame.reason.contains("rivals"),
                "says nothing of the token's team: {frame:?}"
            );
        }
        other => panic!("expected close 1008, got {other:?}"),
    }

    // The team's own token: a whole game (HS384 too: any HMAC algorithm).
    let token = jwt(
        Algorithm::HS384,
        SECRET,
        serde_json::json!({"role": "PLAYER", "team": "kanolab"}),
    );
    let reports = play_at(&hub, url, "kanolab", 5, 5, &[("AIWOLF_TOKEN", &token)]).await;
    assert!(reports.iter().all(|r| r.get("finish_role_map").is_some()));
}

/// AIWolf's timeouts and `NAME` probe, with short timeouts: an agent that leaves a request
/// unanswered and then answers the probe with its name stays in the game; one whose late
/// answer reaches the probe has failed: it gets nothing more (not even `FINISH`, as on
/// AIWolf's server) and its seat is played by the hub's timeouts to the game's end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_name_probe_after_a_timeout_keeps_or_fails_the_agent() {
    let logs = TempDir::new("aiwolf-probe");
    let dir = logs.path().to_str().expect("utf-8 path").to_owned();
    let hub = HubProc::start_with(
        "memory",
        None,
        None,
        &[
            ("AIWOLF_ACTION_TIMEOUT_MS", "1000"),
            ("AIWOLF_ACCEPTABLE_TIMEOUT_MS", "500"),
            ("AIWOLF_RESPONSE_TIMEOUT_MS", "3000"),
            ("AIWOLF_LOG_DIR", &dir),
        ],
    );
    let url = format!("ws://{}/ws", hub.addr);
    let reports = play_at(
        &hub,
        url,
        "slow",
        5,
        6,
        &[
            ("AIWOLF_SLOW", "slow2:silent,slow3:late"),
            ("AIWOLF_SLOW_S", "2.5"),
        ],
    )
    .await;
    let report = |name: &str| {
        reports
            .iter()
            .find(|r| r["name"] == name)
            .expect(name)
            .clone()
    };
    let requests = |r: &Value| -> Vec<String> {
        r["requests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| q.as_str().unwrap().to_owned())
            .collect()
    };
    for r in &reports {
        assert_eq!(
            r["timeout"],
            serde_json::json!({"action": 1000, "response": 3000}),
            "{r}"
        );
    }

    let kept = report("slow2");
    let seen = requests(&kept);
    let at = kept["slow_at"].as_u64().expect("slow_at") as usize;
    assert_eq!(seen[at], "TALK");
    assert_eq!(
        seen[at + 1],
        "NAME",
        "the probe follows the unanswered request: {seen:?}"
    );
    assert!(
        seen[at + 2..]
            .iter()
            .any(|q| ["TALK", "VOTE", "DIVINE", "ATTACK"].contains(&q.as_str())),
        "still asked after the probe: {seen:?}"
    );
    assert_eq!(seen.last().map(String::as_str), Some("FINISH"));

    let failed = report("slow3");
    let seen = requests(&failed);
    let at = failed["slow_at"].as_u64().expect("slow_at") as usize;
    assert_eq!(seen[at], "TALK");
    assert_eq!(seen[at + 1], "NAME", "{seen:?}");
    assert_eq!(
        seen.len(),
        at + 2,
        "nothing after the failed probe: {seen:?}"
    );
    assert_eq!(failed["closed"], true, "its socket is closed at the end");
    assert!(failed.get("finish_role_map").is_none());

    for r in reports.iter().filter(|r| r["name"] != "slow3") {
        assert!(
            r.get("finish_role_map").is_some(),
            "the game went on to FINISH: {r}"
        );
    }
    let (_, _, text) = common::http_raw(&hub.addr, "GET", "/games", None, None).await;
    let games: Vec<Value> = serde_json::from_str(&text).expect("json");
    assert!(games[0]["winner"].is_string(), "the game ended: {games:?}");

    // The JSON log says why: the kept agent's request timed out, the failed agent's probe got
    // another answer and later packets were not sent.
    let expected: usize = reports
        .iter()
        .map(|r| r["raw"].as_array().unwrap().len())
        .sum();
    let (_, log) = json_log(logs.path(), expected).await;
    let entries = log["entries"].as_array().unwrap();
    let errors = |agent: &Value| -> Vec<String> {
        entries
            .iter()
            .filter(|e| e["agent"] == *agent)
            .filter_map(|e| e["error"].as_str().map(str::to_owned))
            .collect()
    };
    assert!(errors(&kept["agent"]).contains(&"response timed out".to_owned()));
    let failed_errors = errors(&failed["agent"]);
    assert_eq!(
        failed_errors[0], "invalid answer to the NAME probe",
        "{failed_errors:?}"
    );
    assert!(
        failed_errors[1..]
            .iter()
            .all(|e| e == "the agent has failed; not sent")
            && failed_errors.len() > 1,
        "{failed_errors:?}"
    );
}

/// With `AIWOLF_PLAYERS=13`, thirteen agents get an `aiwolf13` game: three werewolves who
/// know each other, a possessed, a seer, a bodyguard, a medium.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirteen_agents_get_an_aiwolf13_game() {
    let hub = HubProc::start_with("memory", None, None, &[("AIWOLF_PLAYERS", "13")]);
    let reports = play(&hub, "team", 13, 2).await;
    let (_, _, text) = common::http_raw(&hub.addr, "GET", "/games", None, None).await;
    let games: Vec<Value> = serde_json::from_str(&text).expect("json");
    let gid = games[0]["game_id"].as_str().expect("gid");
    let csv = check_aiwolf_log(&hub.addr, gid, None).await;
    assert!(
        csv.contains(",whisper,"),
        "the pack's whispers are logged:\n{csv}"
    );
    check_game(
        &reports,
        &[
            ("WEREWOLF", 3),
            ("POSSESSED", 1),
            ("SEER", 1),
            ("BODYGUARD", 1),
            ("MEDIUM", 1),
            ("VILLAGER", 6),
        ],
    );
    // The pack whispers before each attack, and hears each other.
    let wolves: Vec<&Value> = reports.iter().filter(|r| r["role"] == "WEREWOLF").collect();
    assert!(
        wolves.iter().any(|w| w["whispers"].as_u64() >= Some(1)),
        "the pack was asked to whisper: {wolves:?}"
    );
    assert!(
        wolves
            .iter()
            .any(|w| w["whispers_heard"].as_u64() >= Some(1)),
        "the whispers reached the pack in whisper_history: {wolves:?}"
    );
    check_whisper_phases(&wolves);
}

/// The pack's nights as AIWolf plays them: each wolf's `WHISPER`s of a night are at most
/// `whisper.max_count.per_agent` (4), count `remain_count` down, stop after its `Over`, and
/// come before its `ATTACK`; and by its `ATTACK` (over its `WHISPER` and `ATTACK` packets of the
/// night) each wolf has heard every whisper the other wolves said that night.
fn check_whisper_phases(wolves: &[&Value]) {
    // (day, agent) -> texts said that night (Over included).
    let mut said: BTreeMap<(u64, String), Vec<String>> = BTreeMap::new();
    for w in wolves {
        let me = w["agent"].as_str().expect("agent").to_owned();
        for s in w["whispered"].as_array().into_iter().flatten() {
            let day = s["day"].as_u64().expect("day");
            let text = s["text"].as_str().expect("text").to_owned();
            said.entry((day, me.clone())).or_default().push(text);
        }
    }
    let mut attacks = 0;
    let mut rounds = 0;
    for w in wolves {
        let me = w["agent"].as_str().expect("agent");
        // Per night: the whispers heard so far, the WHISPERs' remain_count, whether ATTACK came.
        let mut heard: BTreeMap<u64, Vec<(String, String)>> = BTreeMap::new();
        let mut counts: BTreeMap<u64, Vec<i64>> = BTreeMap::new();
        let mut attacked: BTreeMap<u64, bool> = BTreeMap::new();
        for raw in w["raw"].as_array().expect("raw packets") {
            let p: Value = serde_json::from_str(raw.as_str().expect("a packet")).expect("json");
            let request = p["request"].as_str().expect("request");
            let day = p["info"]["day"].as_u64().unwrap_or(0);
            if !matches!(request, "WHISPER" | "ATTACK") {
                continue;
            }
            for t in p["whisper_history"].as_array().into_iter().flatten() {
                let agent = t["agent"].as_str().expect("agent").to_owned();
                let text = t["text"].as_str().expect("text").to_owned();
                heard.entry(day).or_default().push((agent, text));
            }
            assert!(
                !attacked.get(&day).copied().unwrap_or(false),
                "{me}: {request} after ATTACK on day {day}"
            );
            if request == "WHISPER" {
                let remain = p["info"]["remain_count"].as_i64().expect("remain_count");
                counts.entry(day).or_default().push(remain);
                continue;
            }
            attacked.insert(day, true);
            attacks += 1;
            for ((d, other), texts) in &said {
                if *d != day || other == me {
                    continue;
                }
                for text in texts.iter().filter(|t| *t != "Over") {
                    assert!(
                        heard[&day].contains(&(other.clone(), text.clone())),
                        "{me} attacked on day {day} without hearing {other}'s `{text}`: \
                         heard {:?}",
                        heard[&day]
                    );
                }
            }
        }
        for (day, remain) in &counts {
            assert!(
                remain.len() <= 4,
                "{me}: over 4 WHISPERs on day {day}: {remain:?}"
            );
            assert!(
                remain.windows(2).all(|p| p[1] == p[0] - 1) && remain.first() == Some(&3),
                "{me}: remain_count counts down from 3 on day {day}: {remain:?}"
            );
            let mine = &said[&(*day, me.to_owned())];
            assert_eq!(mine.len(), remain.len(), "{me}: one answer per WHISPER");
            assert!(
                mine.iter()
                    .position(|t| t == "Over")
                    .is_none_or(|i| i + 1 == mine.len()),
                "{me}: no WHISPER after its Over on day {day}: {mine:?}"
            );
            rounds = rounds.max(remain.len());
        }
    }
    assert!(attacks >= 1, "the pack attacked after whispering");
    assert!(
        rounds >= 2,
        "the pack whispered more than one round on some night"
    );
}

/// A game created through `POST /games` shared by two AIWolf agents (seats flagged
/// `protocol: aiwolf`, taken through `GET /ws?game_id=…` with the seat's token), two of the
/// hub's own JSON agents and a hub bot: everyone plays to the end of the same game, the AIWolf
/// agents through their own library's parsing, with nothing leaked to any seat.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aiwolf_agents_hub_agents_and_a_bot_share_one_rest_game() {
    let hub = HubProc::start("memory", None);
    let body = serde_json::json!({
        "preset": "aiwolf5",
        "seed": 11,
        "players": [
            {"name": "kanolab1", "protocol": "aiwolf"},
            "native1",
            {"name": "kanolab2", "protocol": "aiwolf"},
            {"name": "native2", "protocol": "hub"},
            "Bot 5"
        ],
        "bot_seats": [5],
        "action_timeout_ms": 20000,
    });
    let (status, _, text) = common::http_raw(&hub.addr, "POST", "/games", Some(body), None).await;
    assert_eq!(status, 201, "{text}");
    let created: Value = serde_json::from_str(&text).expect("json");
    let gid = created["game_id"].as_str().expect("gid").to_owned();
    let seats = created["players"].as_array().expect("seats");
    let flagged: Vec<&Value> = seats.iter().filter(|s| s["protocol"] == "aiwolf").collect();
    let natives: Vec<&Value> = seats
        .iter()
        .filter(|s| s.get("protocol").is_none())
        .collect();
    assert_eq!(
        flagged
            .iter()
            .map(|s| s["name"].as_str())
            .collect::<Vec<_>>(),
        [Some("kanolab1"), Some("kanolab2")]
    );
    assert_eq!(natives.len(), 2, "{text}");
    assert_eq!(created["config"]["aiwolf_seats"], serde_json::json!([1, 3]));

    // Refusals before any upgrade: an unknown game, a wrong token, a hub seat's token.
    let url = format!("ws://{}/ws?game_id={gid}", hub.addr);
    let refused = |u: String, token: Option<String>| async move {
        let mut req =
            tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
                u.as_str(),
            )
            .expect("request");
        if let Some(t) = token {
            req.headers_mut().insert(
                "authorization",
                format!("Bearer {t}").parse().expect("header"),
            );
        }
        match tokio_tungstenite::connect_async(req).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(r)) => r.status().as_u16(),
            other => panic!("{u}: not refused: {:?}", other.map(|_| ())),
        }
    };
    let native_token = natives[0]["token"].as_str().map(str::to_owned);
    assert_eq!(
        refused(
            format!("ws://{}/ws?game_id=nope", hub.addr),
            native_token.clone()
        )
        .await,
        404
    );
    assert_eq!(refused(url.clone(), Some("wrong".to_owned())).await, 401);
    assert_eq!(refused(url.clone(), native_token).await, 401);

    // The hub's agents (the Rust SDK's random strategy) on their seats.
    let client = werewolf_client::Hub::new(&format!("http://{}", hub.addr)).expect("hub");
    let mut agents = Vec::new();
    for (i, s) in natives.iter().enumerate() {
        let mut a = client
            .connect_agent(
                &gid,
                s["player_id"].as_str().expect("id"),
                s["token"].as_str().expect("token"),
            )
            .await
            .expect("connect");
        agents.push(tokio::spawn(async move {
            a.play(
                &mut werewolf_client::RandomStrategy::new(i as u64),
                |_, _| {},
            )
            .await
        }));
    }
    // The AIWolf agents, each with its seat's token (the library sends it as Bearer).
    let tokens: Vec<&str> = flagged
        .iter()
        .map(|s| s["token"].as_str().expect("token"))
        .collect();
    let tokens = tokens.join(",");
    let reports = play_at(
        &hub,
        url,
        "kanolab",
        2,
        3,
        &[("AIWOLF_SEAT_TOKENS", tokens.as_str())],
    )
    .await;
    let mut overs = Vec::new();
    for a in agents {
        overs.push(
            a.await
                .expect("task")
                .expect("the hub agent played to game_over"),
        );
    }
    // Both AIWolf agents played their own seats (1 and 3) to FINISH, saw only what their seat
    // may know, and agree with the hub agents on the outcome.
    let winner = overs[0].winner;
    assert!(overs.iter().all(|o| o.winner == winner));
    let roles = &overs[0].roles;
    for (r, seat) in reports.iter().zip([1usize, 3]) {
        let me = format!("Agent[{seat:02}]");
        assert_eq!(r["agent"], me.as_str(), "{r}");
        assert!(r["errors"].as_array().is_some_and(Vec::is_empty), "{r}");
        let leaks = r["leaks"].as_array().expect("audit");
        assert!(leaks.is_empty(), "{me}: {leaks:#?}");
        let finish = map(&r["finish_role_map"]);
        assert_eq!(finish.len(), 5, "{r}");
        let id = format!("{gid}-p{seat}");
        let role = serde_json::to_value(roles[&id]).expect("role");
        let aiwolf_role = match role.as_str().expect("role") {
            "doctor" => "BODYGUARD".to_owned(),
            other => other.to_uppercase(),
        };
        assert_eq!(finish[&me], aiwolf_role, "the FINISH role is the hub's");
        for seen in r["role_maps"].as_array().expect("role maps") {
            let seen = map(seen);
            assert_eq!(seen.get(&me), Some(&aiwolf_role));
            for (who, role) in &seen {
                assert!(
                    who == &me || (aiwolf_role == "WEREWOLF" && role == "WEREWOLF"),
                    "{me} was shown {who}: {role}"
                );
            }
        }
        let requests: Vec<&str> = r["requests"]
            .as_array()
            .expect("requests")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(requests.first(), Some(&"NAME"));
        assert!(requests.contains(&"INITIALIZE") && requests.contains(&"TALK"));
        assert_eq!(
            r["timeout"]["action"], 20000,
            "setting.timeout.action is this game's deadline: {r}"
        );
        assert_eq!(requests.last(), Some(&"FINISH"));
    }
    // A normal hub game: listed over, its AIWolf game log served.
    let csv = check_aiwolf_log(&hub.addr, &gid, None).await;
    assert!(csv.starts_with("0,status,1,"), "{csv}");
    assert!(csv.contains(",kanolab1,Agent[01]") && csv.contains(",native1,Agent[02]"));
}

/// `AIWOLF_SELF_MATCH=false`: AIWolf's mixed match. Five agents of five teams make one game
/// (one agent per team), which they play to `FINISH`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_of_five_teams_are_matched_when_self_match_is_off() {
    let hub = HubProc::start_with("memory", None, None, &[("AIWOLF_SELF_MATCH", "false")]);
    let url = format!("ws://{}/ws", hub.addr);
    let reports = play_at(&hub, url, "team", 5, 4, &[("AIWOLF_MIXED", "1")]).await;
    check_game(
        &reports,
        &[
            ("WEREWOLF", 1),
            ("POSSESSED", 1),
            ("SEER", 1),
            ("VILLAGER", 2),
        ],
    );
    let (_, _, text) = common::http_raw(&hub.addr, "GET", "/games", None, None).await;
    let games: Vec<Value> = serde_json::from_str(&text).expect("json");
    assert_eq!(games.len(), 1, "{text}");
    let gid = games[0]["game_id"].as_str().expect("gid");
    let (_, _, text) =
        common::http_raw(&hub.addr, "GET", &format!("/games/{gid}"), None, None).await;
    let game: Value = serde_json::from_str(&text).expect("json");
    let mut teams: Vec<String> = game["players"]
        .as_array()
        .expect("players")
        .iter()
        .map(|p| {
            p["name"]
                .as_str()
                .expect("name")
                .trim_end_matches(|c: char| c.is_ascii_digit())
                .to_owned()
        })
        .collect();
    teams.sort();
    teams.dedup();
    assert_eq!(teams.len(), 5, "one agent per team: {text}");
}
