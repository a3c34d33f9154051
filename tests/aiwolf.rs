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

/// Runs `count` agents of `team` against the AIWolf endpoint of the hub at `addr`; their
/// reports, or what went wrong.
fn self_match(addr: &str, team: &str, count: usize, seed: u64) -> Result<Vec<Value>, String> {
    let out = std::process::Command::new(python_with_aiwolf())
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/aiwolf/self_match.py"
        ))
        .arg(format!("ws://{addr}/ws"))
        .arg(team)
        .arg(count.to_string())
        .arg(seed.to_string())
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

/// `self_match` off the async runtime, failing with the hub's log.
async fn play(hub: &HubProc, team: &'static str, count: usize, seed: u64) -> Vec<Value> {
    let addr = hub.addr.clone();
    let result = tokio::task::spawn_blocking(move || self_match(&addr, team, count, seed))
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
/// game and play it to `FINISH`; the game is a normal hub game (listed, replayable).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_agents_of_one_team_self_match_and_finish() {
    let logs = TempDir::new("aiwolf-logs");
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
}
