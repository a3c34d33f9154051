//! The binary as an operator runs it: flags mirroring every environment variable (flags win),
//! a TOML config file (the environment wins over it), host names for `WS_HOST`, bind
//! failures naming the address and the setting, and admin tokens pasted with a stray space.

mod common;

use common::process::BIN;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use werewolf_server::config::SETTINGS;

/// Starts the binary with `args` and `env` (on top of a clean hub environment) and waits for
/// its address line; returns the child and the address.
fn start(args: &[&str], env: &[(&str, &str)]) -> (Child, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env("HUB_STORE", "memory")
        .env_remove("WS_HOST")
        .env_remove("WS_PORT")
        .env_remove("HUB_ADMIN_TOKEN")
        .env_remove("WS_ECHO")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(addr) = line.strip_prefix("werewolf-hub listening on ") {
                let _ = tx.send(addr.trim().to_owned());
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the hub prints its address");
    (child, addr)
}

/// Runs the binary to its exit; returns the exit code and stderr.
fn run_to_exit(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env("HUB_STORE", "memory")
        .env_remove("WS_HOST")
        .env_remove("WS_PORT");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn help_lists_every_setting_with_its_variable_and_default() {
    let out = Command::new(BIN)
        .args(["serve", "--help"])
        .output()
        .expect("help");
    let help = String::from_utf8_lossy(&out.stdout);
    for s in SETTINGS {
        assert!(
            help.contains(&format!("--{} ", s.flag)),
            "--{} missing:\n{help}",
            s.flag
        );
        assert!(
            help.contains(&format!("[env: {}", s.var)),
            "{} missing:\n{help}",
            s.var
        );
    }
    assert!(help.contains("[default: 8000]"), "{help}");
    assert!(help.contains("--config"), "{help}");
}

#[tokio::test]
async fn flags_win_over_the_environment_and_a_host_name_binds() {
    // The environment asks for an impossible host; the flags correct it.
    let (child, addr) = start(
        &["--host", "localhost", "--port", "0"],
        &[("WS_HOST", "no-such-host.invalid"), ("WS_PORT", "1")],
    );
    assert!(
        addr.starts_with("127.0.0.1:") || addr.starts_with("[::1]:"),
        "{addr}"
    );
    let (status, _, _) = common::http_raw(&addr, "GET", "/health", None, None).await;
    assert_eq!(status, 200);
    stop(child);
    // `serve` takes the same flags.
    let (child, addr) = start(&["serve", "--host", "127.0.0.1", "--port", "0"], &[]);
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    stop(child);
}

#[tokio::test]
async fn a_config_file_sets_what_the_environment_does_not() {
    let dir = common::process::TempDir::new("cli");
    let file = dir.path().join("hub.toml");
    std::fs::write(
        &file,
        "ws_host = \"127.0.0.1\"\nws_port = 0\nws_echo = true\nhub_store = \"memory\"\n",
    )
    .expect("write");
    let path = file.to_str().expect("utf-8 path");
    let (child, addr) = start(&["--config", path], &[]);
    let (status, _, _) = common::http_raw(&addr, "GET", "/echo", None, None).await;
    assert_ne!(status, 404, "ws_echo = true from the file serves /echo");
    stop(child);
    // The environment wins over the file.
    let (child, addr) = start(&["--config", path], &[("WS_ECHO", "false")]);
    let (status, _, _) = common::http_raw(&addr, "GET", "/echo", None, None).await;
    assert_eq!(status, 404, "WS_ECHO=false beats the file");
    stop(child);

    std::fs::write(&file, "ws_prot = 9000\n").expect("write");
    let (code, stderr) = run_to_exit(&["--config", path], &[]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("ws_prot"), "{stderr}");
}

#[test]
fn a_port_in_use_is_named_with_its_setting() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();
    let (code, stderr) = run_to_exit(&["--host", "127.0.0.1", "--port", &port], &[]);
    assert_eq!(code, 1, "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.contains("cannot listen"))
        .unwrap_or_else(|| panic!("no bind error line: {stderr}"));
    assert!(line.contains(&format!("127.0.0.1:{port}")), "{line}");
    assert!(
        line.contains("WS_PORT") && line.contains("--port"),
        "{line}"
    );
    drop(taken);

    let (code, stderr) = run_to_exit(&["--host", "bad host!"], &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("WS_HOST"), "{stderr}");
}

#[tokio::test]
async fn an_admin_token_with_a_stray_space_still_matches() {
    let (child, addr) = start(
        &["--host", "127.0.0.1", "--port", "0"],
        &[("HUB_ADMIN_TOKEN", "  s3cret-admin-token\n")],
    );
    let body = serde_json::json!({"preset": "aiwolf5", "rules": "hub"});
    let (status, _, text) = common::http_raw(
        &addr,
        "POST",
        "/games",
        Some(body.clone()),
        Some("s3cret-admin-token"),
    )
    .await;
    assert_eq!(status, 201, "{text}");
    let (status, _, _) = common::http_raw(&addr, "POST", "/games", Some(body), None).await;
    assert_eq!(status, 401);
    stop(child);

    let (code, stderr) = run_to_exit(&[], &[("HUB_ADMIN_TOKEN", "two words here")]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("HUB_ADMIN_TOKEN"), "{stderr}");
}

/// A game leaves INFO lines with its `game_id` for each milestone; a refused request logs
/// its reason.
#[tokio::test]
async fn a_game_logs_its_milestones_with_its_id() {
    let hub = common::process::HubProc::start("memory", None);
    let body = serde_json::json!({"preset": "aiwolf5", "rules": "hub", "bots": 5, "seed": 3});
    let (status, _, text) = common::http_raw(&hub.addr, "POST", "/games", Some(body), None).await;
    assert_eq!(status, 201, "{text}");
    let gid = serde_json::from_str::<serde_json::Value>(&text).expect("json")["game_id"]
        .as_str()
        .expect("gid")
        .to_owned();
    let (status, _, _) = common::http_raw(&hub.addr, "GET", "/games/nope", None, None).await;
    assert_eq!(status, 404);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let log = hub.stderr();
        let mine = |what: &str| {
            log.iter()
                .any(|l| l.contains(what) && l.contains(gid.as_str()))
        };
        if [
            "game created",
            "game started",
            "phase",
            "death",
            "game over",
        ]
        .iter()
        .all(|w| mine(w))
        {
            assert!(
                log.iter()
                    .any(|l| l.contains("request refused") && l.contains("404")),
                "{log:#?}"
            );
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{log:#?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
