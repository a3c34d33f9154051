//! RFC 6455 conformance of the hub's socket stack, judged by the Autobahn TestSuite cases as
//! run by the PyPI package `kosoku` (a Rust runner of Autobahn's own case files).
//!
//! The real hub binary runs with `WS_ECHO=true`; kosoku's fuzzing client drives
//! `ws://ADDR/echo`, which echoes every message over the same socket stack and limits as
//! `/ws`. The test reads kosoku's Autobahn-format report (`index.json` and one JSON file per
//! case), prints the verdicts per category and fails on any case that FAILED (or could not
//! run) unless it is in [`ALLOWED_FAILURES`] with a reason.
//!
//! Categories run: 1 framing, 2 pings/pongs, 3 reserved bits, 4 opcodes, 5 fragmentation,
//! 6 UTF-8 handling, 7 close handling, 10 auto-fragmentation. Left out, on purpose:
//! 9 (performance: messages up to 16 MiB, far over `WS_MAX_MESSAGE_BYTES`, and timings that
//! mean nothing on a shared 2-core CI machine) and 12/13 (permessage-deflate, which the hub
//! does not negotiate: every case would only say UNIMPLEMENTED).
//!
//! The interpreter is `$WEREWOLF_PYTHON` (the venv `.ci/run` makes, which installs kosoku)
//! or `python3`; without kosoku the test fails saying how to get it.

mod common;

use common::process::{HubProc, TempDir, wait_exit};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Case-id globs kosoku runs (`-i`).
const INCLUDE: &[&str] = &["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "10.*"];

/// Case ids that may FAIL, each with the reason it is accepted. Empty: every case passes.
/// A case belongs here only when the failure is a deliberate choice of the hub, never to make
/// a red run green.
const ALLOWED_FAILURES: &[(&str, &str)] = &[];

/// Largest message the cases send (1.1.7, 1.1.8, 10.1.1: 65536 bytes of text): the hub's
/// default `WS_MAX_MESSAGE_BYTES`, set explicitly so a changed default shows up here.
const MAX_MESSAGE_BYTES: &str = "65536";

/// The whole run's deadline (it takes about 5 s here; 6.4.x wait 2 s each by design).
const RUN_DEADLINE: Duration = Duration::from_secs(300);

/// The verdict columns printed per category, in this order.
const COLUMNS: [&str; 5] = [
    "OK",
    "NON-STRICT",
    "INFORMATIONAL",
    "UNIMPLEMENTED",
    "FAILED",
];

/// `$WEREWOLF_PYTHON` or `python3`; panics (never skips) when it cannot import kosoku.
fn python_with_kosoku() -> String {
    let python = std::env::var("WEREWOLF_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let ok = Command::new(&python)
        .args(["-c", "import kosoku"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "`{python}` cannot import kosoku (the WebSocket conformance runner): run `bash .ci/run` \
         (it installs kosoku into target/ci-venv and sets WEREWOLF_PYTHON), or \
         `pip install kosoku` into the interpreter named by WEREWOLF_PYTHON"
    );
    python
}

/// One case's outcome as the report states it.
#[derive(Debug)]
struct Case {
    id: String,
    behavior: String,
    behavior_close: String,
    remote_close_code: Option<u64>,
    /// The report's prose for both verdicts (read for failures only).
    why: String,
}

impl Case {
    /// The case's column: FAILED when either verdict is unacceptable (Autobahn's rule: the
    /// message exchange must be OK, NON-STRICT or INFORMATIONAL, the close OK or
    /// INFORMATIONAL); ERROR (the case could not run) counts as FAILED.
    fn verdict(&self) -> &str {
        let close_ok = matches!(self.behavior_close.as_str(), "OK" | "INFORMATIONAL");
        match self.behavior.as_str() {
            "OK" | "NON-STRICT" | "INFORMATIONAL" | "UNIMPLEMENTED" if close_ok => &self.behavior,
            _ => "FAILED",
        }
    }

    fn category(&self) -> &str {
        self.id.split('.').next().unwrap_or("?")
    }
}

/// Reads kosoku's report directory: `index.json` maps agent → case id → verdicts.
fn read_report(dir: &Path) -> Vec<Case> {
    let index_path = dir.join("index.json");
    let text = std::fs::read_to_string(&index_path)
        .unwrap_or_else(|e| panic!("kosoku wrote no report at {}: {e}", index_path.display()));
    let index: Value = serde_json::from_str(&text).expect("index.json is JSON");
    let agents = index.as_object().expect("index.json maps agents");
    assert_eq!(agents.len(), 1, "one agent (the hub) in the report");
    let (_, cases) = agents.iter().next().expect("one agent");
    let mut out: Vec<Case> = cases
        .as_object()
        .expect("the agent's cases")
        .iter()
        .map(|(id, entry)| {
            let field = |k: &str| entry[k].as_str().unwrap_or("?").to_owned();
            let mut case = Case {
                id: id.clone(),
                behavior: field("behavior"),
                behavior_close: field("behaviorClose"),
                remote_close_code: entry["remoteCloseCode"].as_u64(),
                why: String::new(),
            };
            if case.verdict() == "FAILED" {
                case.why = entry["reportfile"]
                    .as_str()
                    .and_then(|f| std::fs::read_to_string(dir.join(f)).ok())
                    .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                    .map(|d| format!("{} / {}", d["result"], d["resultClose"]))
                    .unwrap_or_default();
            }
            case
        })
        .collect();
    let key = |c: &Case| -> Vec<u32> { c.id.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    out.sort_by_key(key);
    out
}

#[test]
fn autobahn_cases_pass_on_the_echo_route() {
    let python = python_with_kosoku();
    let hub = HubProc::start_with(
        "memory",
        None,
        None,
        &[
            ("WS_ECHO", "true"),
            ("WS_MAX_MESSAGE_BYTES", MAX_MESSAGE_BYTES),
            // /echo has no rate limit of its own; high values keep that true if it gets one.
            ("WS_RATE_PER_SEC", "1000000"),
            ("WS_RATE_BURST", "1000000"),
        ],
    );
    let report = TempDir::new("conformance");
    let url = format!("ws://{}/echo", hub.addr);

    // kosoku's console script (`kosoku`, entry point `kosoku._cli:main`), run through the
    // interpreter so that no PATH lookup is needed.
    let mut cmd = Command::new(&python);
    cmd.args([
        "-c",
        "import sys; from kosoku._cli import main; sys.argv[0] = 'kosoku'; main()",
        &url,
        "--parallelism",
        "2",
        "--outdir",
    ])
    .arg(report.path());
    for glob in INCLUDE {
        cmd.args(["--include", glob]);
    }
    let mut child = cmd
        .current_dir(report.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start kosoku");
    // Drain both pipes on threads so a chatty run cannot block on a full pipe.
    let drain = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let out = drain(Box::new(child.stdout.take().expect("stdout")));
    let err = drain(Box::new(child.stderr.take().expect("stderr")));
    let status = wait_exit(&mut child, RUN_DEADLINE);
    let (out, err) = (
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default(),
    );
    // kosoku exits 1 when any case failed; the report says which, so only a missing report
    // is an error of the run itself.
    assert!(
        report.path().join("index.json").exists(),
        "kosoku wrote no report (exit {status}).\nstdout:\n{out}\nstderr:\n{err}\nhub stderr:\n{}",
        hub.stderr().join("\n")
    );
    let cases = read_report(report.path());

    // Per-category counts.
    let mut table: BTreeMap<u32, BTreeMap<&str, usize>> = BTreeMap::new();
    for case in &cases {
        let cat = case.category().parse().unwrap_or(0);
        *table
            .entry(cat)
            .or_default()
            .entry(case.verdict())
            .or_default() += 1;
    }
    println!(
        "kosoku against {url}: {} cases (WS_MAX_MESSAGE_BYTES={MAX_MESSAGE_BYTES})",
        cases.len()
    );
    println!(
        "{:>8} {:>6} {:>10} {:>13} {:>13} {:>6}",
        "category", COLUMNS[0], COLUMNS[1], COLUMNS[2], COLUMNS[3], COLUMNS[4]
    );
    for (cat, counts) in &table {
        let n = |c: &str| counts.get(c).copied().unwrap_or(0);
        println!(
            "{cat:>8} {:>6} {:>10} {:>13} {:>13} {:>6}",
            n(COLUMNS[0]),
            n(COLUMNS[1]),
            n(COLUMNS[2]),
            n(COLUMNS[3]),
            n(COLUMNS[4])
        );
    }
    for case in cases
        .iter()
        .filter(|c| c.behavior != "OK" || c.behavior_close != "OK")
    {
        println!(
            "  {}: behavior={} close={} remote close code={:?} {}",
            case.id, case.behavior, case.behavior_close, case.remote_close_code, case.why
        );
    }

    // Every selected category ran (a kosoku that silently ran nothing must not pass).
    for glob in INCLUDE {
        let cat: u32 = glob.trim_end_matches(".*").parse().expect("category glob");
        assert!(
            table.contains_key(&cat),
            "no case of category {cat} ran.\nstdout:\n{out}\nstderr:\n{err}"
        );
    }

    let failed: Vec<&Case> = cases
        .iter()
        .filter(|c| c.verdict() == "FAILED")
        .filter(|c| !ALLOWED_FAILURES.iter().any(|(id, _)| *id == c.id))
        .collect();
    assert!(
        failed.is_empty(),
        "{} case(s) FAILED (report in a temporary directory; rerun kosoku with --outdir to \
         keep the HTML):\n{}",
        failed.len(),
        failed
            .iter()
            .map(|c| format!(
                "  {}: behavior={} close={} remote close code={:?} {}",
                c.id, c.behavior, c.behavior_close, c.remote_close_code, c.why
            ))
            .collect::<Vec<_>>()
            .join("\n")
    );
    for (id, reason) in ALLOWED_FAILURES {
        if let Some(c) = cases.iter().find(|c| c.id == *id) {
            println!("  allowed: {id} ({}): {reason}", c.verdict());
        }
    }
}
