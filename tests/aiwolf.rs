//! The AIWolf NLP endpoint (`GET /ws`) against agents built on the AIWolf contest's own client
//! library, `aiwolf-nlp-common` 0.7.0 (installed by `.ci/run`): its packet classes parse every
//! packet the hub sends and raise on an unknown request, a missing `status_map`/`role_map`,
//! a malformed `setting` or a bad role name. One team's agents self-match and play to `FINISH`;
//! every seat's `role_map` shows only what that seat may know.

mod common;

use common::process::HubProc;
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
        if role == "SEER" {
            assert!(r["divines"].as_u64() >= Some(1), "the seer is asked: {r}");
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
    let hub = HubProc::start("memory", None);
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
}

/// With `AIWOLF_PLAYERS=13`, thirteen agents get an `aiwolf13` game: three werewolves who
/// know each other, a possessed, a seer, a bodyguard, a medium.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirteen_agents_get_an_aiwolf13_game() {
    let hub = HubProc::start_with("memory", None, None, &[("AIWOLF_PLAYERS", "13")]);
    let reports = play(&hub, "team", 13, 2).await;
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
