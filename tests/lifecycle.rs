//! Process lifecycle: graceful shutdown (in-process and by SIGTERM to the real binary),
//! invalid configuration, and seed 004's Python client run unchanged against the binary.

mod common;

use common::process::HubProc;
use common::*;
use std::process::Command;
use std::time::Duration;

#[tokio::test]
async fn shutdown_closes_every_socket_with_1001() {
    let hub = hub().await;
    let mut clients = vec![
        connect(&hub, "ui_1", "ui").await,
        connect(&hub, "agent_1", "agent").await,
        connect(&hub, "obs_1", "observer").await,
    ];
    let addr = hub.addr();
    hub.shutdown().trigger();
    for ws in &mut clients {
        let (close, _) = recv_close(ws).await;
        assert_eq!(u16::from(close.expect("close frame").code), 1001);
    }
    tokio::time::timeout(Duration::from_secs(5), hub.stopped())
        .await
        .expect("stops within 5 s")
        .expect("clean stop");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "listener is closed"
    );
}

#[tokio::test]
async fn sigterm_closes_sockets_with_1001_and_exits_within_5s() {
    let mut hub = HubProc::start("memory", None);
    let url = format!("ws://{}/ws/agent_1?client_type=agent", hub.addr);
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connects to the binary");
    assert_eq!(recv_json(&mut ws).await["message_type"], "connection");
    let status = Command::new("kill")
        .args(["-TERM", &hub.child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let (close, _) = recv_close(&mut ws).await;
    assert_eq!(u16::from(close.expect("close frame").code), 1001);
    let status = common::process::wait_exit(&mut hub.child, Duration::from_secs(5));
    assert!(status.success(), "clean exit, got {status}");
}

#[test]
fn invalid_config_prints_one_line_naming_the_variable_and_fails() {
    for (var, value) in [
        ("WS_PORT", "eighty"),
        ("WS_TIMEOUT", "0"),
        ("WS_MAX_MESSAGE_BYTES", "-5"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_werewolf-hub"))
            .env(var, value)
            .output()
            .expect("run binary");
        assert!(!out.status.success(), "{var}={value} must fail");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
        assert!(stderr.contains(var), "names {var}: {stderr}");
    }
}

/// Seed 004's client, as shipped in `examples/python_client.py`, against the real binary.
/// Needs a Python with `websockets` (`.ci/run` makes a venv with it; see `python_with_websockets`).
#[test]
fn seed_python_client_works_unchanged() {
    let python = python_with_websockets();
    let hub = HubProc::start("memory", None);
    let addr = hub.addr.clone();
    let script = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/python_client.py"
    ))
    .expect("example exists");
    // The seed hard-codes localhost:8000; point it at this test's port and nothing else.
    let port = addr.rsplit(':').next().expect("port");
    assert!(script.contains("ws://localhost:8000/"));
    let script = script.replace("ws://localhost:8000/", &format!("ws://localhost:{port}/"));
    let out = Command::new(&python)
        .args(["-c", &script])
        .output()
        .expect("python runs");
    drop(hub);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    let welcome: serde_json::Value =
        serde_json::from_str(lines[0].strip_prefix("Connecté: ").expect("welcome line"))
            .expect("json");
    assert_eq!(welcome["message_type"], "connection");
    assert_eq!(welcome["client_id"], "my_client");
    let pong: serde_json::Value =
        serde_json::from_str(lines[1].strip_prefix("Reçu: ").expect("reply line")).expect("json");
    assert_eq!(pong["message_type"], "pong");
}
