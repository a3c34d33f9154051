//! Helpers shared by the end-to-end tests: a real hub on 127.0.0.1:0 and real WebSocket
//! clients (tokio-tungstenite).

#![allow(dead_code)]

pub mod process;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use werewolf_server::{Config, RunningHub};

/// How long a test waits for a frame it expects before failing (a deadline, not a measure).
pub const PATIENCE: Duration = Duration::from_secs(10);

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Starts a hub on 127.0.0.1 with an ephemeral port and the given overrides of the
/// environment variables (e.g. `[("WS_SEND_QUEUE", "8")]`).
pub async fn hub_with(vars: &[(&str, &str)]) -> RunningHub {
    let mut env: Vec<(String, String)> = vec![
        ("WS_HOST".into(), "127.0.0.1".into()),
        ("WS_PORT".into(), "0".into()),
        // Tests that need the durable log set HUB_STORE=sqlite and their own HUB_DATA_DIR.
        ("HUB_STORE".into(), "memory".into()),
    ];
    // A test's own value wins over a default (envy refuses a variable given twice).
    env.retain(|(k, _)| !vars.iter().any(|(v, _)| v == k));
    env.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let config = Config::from_vars(env).expect("test config is valid");
    werewolf_server::start(config).await.expect("hub starts")
}

/// A hub with default settings.
pub async fn hub() -> RunningHub {
    hub_with(&[]).await
}

/// `ws://addr/ws/{id}?client_type={t}`.
pub fn ws_url(hub: &RunningHub, id: &str, client_type: &str) -> String {
    format!("ws://{}/ws/{id}?client_type={client_type}", hub.addr())
}

/// Connects and consumes the `connection` welcome, checking it.
pub async fn connect(hub: &RunningHub, id: &str, client_type: &str) -> Ws {
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url(hub, id, client_type))
        .await
        .expect("websocket connects");
    let welcome = recv_json(&mut ws).await;
    assert_eq!(welcome["message_type"], "connection", "{welcome}");
    assert_eq!(welcome["client_id"], id);
    assert_eq!(welcome["data"]["client_type"], client_type);
    ws
}

/// Next data frame as JSON, skipping pings/pongs. Panics on close or timeout.
pub async fn recv_json(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(PATIENCE, ws.next())
            .await
            .expect("a frame within the deadline")
            .expect("stream open")
            .expect("no transport error");
        match msg {
            Message::Text(t) => {
                return serde_json::from_str(t.as_str()).expect("server sends JSON");
            }
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

/// Reads until the server's close frame; returns it. Data frames before it are returned too.
pub async fn recv_close(ws: &mut Ws) -> (Option<CloseFrame>, Vec<Value>) {
    let mut before = Vec::new();
    loop {
        let msg = tokio::time::timeout(PATIENCE, ws.next())
            .await
            .expect("close within the deadline");
        match msg {
            Some(Ok(Message::Close(frame))) => return (frame, before),
            Some(Ok(Message::Text(t))) => {
                before.push(serde_json::from_str(t.as_str()).expect("server sends JSON"))
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => panic!("transport error before close frame: {e}"),
            None => panic!("stream ended without a close frame"),
        }
    }
}

/// Asserts that no data frame arrives within `window` (pings are ignored).
pub async fn expect_silence(ws: &mut Ws, window: Duration) {
    let deadline = tokio::time::Instant::now() + window;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return,
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            Ok(other) => panic!("expected silence, got {other:?}"),
        }
    }
}

/// Sends a JSON value as a text frame.
pub async fn send_json(ws: &mut Ws, value: Value) {
    ws.send(Message::text(value.to_string()))
        .await
        .expect("send");
}

/// Sends raw text.
pub async fn send_text(ws: &mut Ws, text: &str) {
    ws.send(Message::text(text.to_owned())).await.expect("send");
}

/// A seed-004 style ping.
pub fn ping(id: &str) -> Value {
    json!({"message_type": "ping", "client_id": id, "timestamp": 1706580000.0})
}

/// A seed-004 style agent_message.
pub fn agent_message(id: &str, text: &str) -> Value {
    json!({"message_type": "agent_message", "client_id": id, "timestamp": 1706580000.0,
           "agent_name": "Alice", "message_text": text, "phase": "discussion"})
}

/// GET a JSON endpoint of the hub.
pub async fn get_json(hub: &RunningHub, path: &str) -> Value {
    let resp = reqwest::get(format!("http://{}{path}", hub.addr()))
        .await
        .expect("http get");
    assert!(resp.status().is_success(), "GET {path}: {}", resp.status());
    resp.json().await.expect("json body")
}

/// Polls `/stats` until `pred` holds (state changes on the server are asynchronous).
pub async fn stats_until(hub: &RunningHub, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let stats = get_json(hub, "/stats").await;
        if pred(&stats) {
            return stats;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "stats never showed {what}: {stats}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The Python interpreter for the tests that run Python clients: `$WEREWOLF_PYTHON` (the
/// venv `.ci/run` makes) or `python3`. Fails, never skips, when it lacks `websockets`.
pub fn python_with_websockets() -> String {
    let python = std::env::var("WEREWOLF_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let ok = std::process::Command::new(&python)
        .args(["-c", "import websockets"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "`{python}` cannot import websockets: run `bash .ci/run` (it makes a venv and sets \
         WEREWOLF_PYTHON), or `pip install websockets`"
    );
    python
}

/// One HTTP call to the hub at `addr` (`host:port`): status, `content-type` and body text.
/// `body` is sent as JSON; `bearer` as `Authorization: Bearer`.
pub async fn http_raw(
    addr: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
    bearer: Option<&str>,
) -> (u16, String, String) {
    let c = reqwest::Client::new();
    let url = format!("http://{addr}{path}");
    let mut req = match method {
        "POST" => c.post(url),
        "DELETE" => c.delete(url),
        _ => c.get(url),
    };
    if let Some(b) = body {
        req = req.json(&b);
    }
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("http");
    let status = resp.status().as_u16();
    let ctype = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, ctype, resp.text().await.expect("body"))
}
