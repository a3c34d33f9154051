//! The socket layer under abuse (issue 17): RFC 6455 close codes for protocol violations
//! (sent as hand-built frames over raw TCP), slowloris, the connection cap, hundreds of
//! concurrent client-initiated closes, the opt-in echo route, and no token in a trace log.

mod common;

use common::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::io::Read;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use werewolf_server::RunningHub;

/// Deadline of every single read on a raw socket: a missing frame fails instead of hanging.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

// ---------------------------------------------------------------------------------------
// Raw WebSocket frames over a plain TCP stream
// ---------------------------------------------------------------------------------------

const OP_CONT: u8 = 0x0;
const OP_TEXT: u8 = 0x1;
const OP_BINARY: u8 = 0x2;
const OP_CLOSE: u8 = 0x8;
const OP_PING: u8 = 0x9;

/// A frame as it goes on the wire. `rsv` is the three RSV bits (0..=7); a mask is applied
/// when `masked` (clients must mask, the server must not).
fn frame(fin: bool, rsv: u8, opcode: u8, payload: &[u8], masked: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 14);
    out.push(u8::from(fin) << 7 | (rsv & 0x7) << 4 | (opcode & 0xf));
    let mask_bit = if masked { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.push(mask_bit | n as u8),
        n if n <= u16::MAX as usize => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    if masked {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        out.extend_from_slice(&key);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    } else {
        out.extend_from_slice(payload);
    }
    out
}

/// A well-formed masked client frame with FIN set.
fn client_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    frame(true, 0, opcode, payload, true)
}

/// A frame received from the server.
#[derive(Debug)]
struct ServerFrame {
    fin: bool,
    opcode: u8,
    payload: Vec<u8>,
}

impl ServerFrame {
    /// The close code of a close frame (`None`: a close frame without a code).
    fn close_code(&self) -> Option<u16> {
        (self.payload.len() >= 2).then(|| u16::from_be_bytes([self.payload[0], self.payload[1]]))
    }

    fn describe(&self) -> String {
        format!(
            "opcode {:#x} fin {} {:?}",
            self.opcode,
            self.fin,
            String::from_utf8_lossy(&self.payload)
        )
    }
}

/// A raw client connection after a hand-made HTTP upgrade.
struct RawWs {
    stream: TcpStream,
    /// Bytes read but not yet parsed.
    buf: Vec<u8>,
}

/// Reads with [`READ_TIMEOUT`]; `Ok(0)` is EOF.
async fn read_some(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut chunk = [0u8; 8192];
    let n = tokio::time::timeout(READ_TIMEOUT, stream.read(&mut chunk))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "read timed out"))??;
    buf.extend_from_slice(&chunk[..n]);
    Ok(n)
}

impl RawWs {
    /// Opens a TCP connection, sends the upgrade request for `path` and checks the `101`
    /// answer.
    async fn upgrade(addr: SocketAddr, path: &str) -> RawWs {
        let mut stream = TcpStream::connect(addr).await.expect("tcp connect");
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        stream
            .write_all(request.as_bytes())
            .await
            .expect("write upgrade request");
        let mut buf = Vec::new();
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let n = read_some(&mut stream, &mut buf)
                .await
                .unwrap_or_else(|e| panic!("reading the upgrade answer for {path}: {e}"));
            assert!(
                n > 0,
                "connection closed during the upgrade of {path}: {:?}",
                String::from_utf8_lossy(&buf)
            );
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        assert!(
            head.starts_with("HTTP/1.1 101"),
            "expected 101 Switching Protocols for {path}, got: {head}{}",
            String::from_utf8_lossy(&buf[head_end..])
        );
        buf.drain(..head_end);
        RawWs { stream, buf }
    }

    /// Upgrades `/ws/{id}?client_type=ui` and consumes the `connection` welcome.
    async fn lobby_ui(hub: &RunningHub, id: &str) -> RawWs {
        let mut raw = RawWs::upgrade(hub.addr(), &format!("/ws/{id}?client_type=ui")).await;
        let welcome = raw.next_frame().await.expect("welcome frame");
        assert_eq!(welcome.opcode, OP_TEXT, "{}", welcome.describe());
        let v: Value = serde_json::from_slice(&welcome.payload).expect("welcome is JSON");
        assert_eq!(v["message_type"], "connection", "{v}");
        assert_eq!(v["client_id"], id, "{v}");
        raw
    }

    /// Writes bytes; a write error is returned (the server may already have closed).
    async fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes).await
    }

    /// The next server frame; `Err` with a reason on EOF, error or timeout.
    async fn next_frame(&mut self) -> Result<ServerFrame, String> {
        loop {
            if let Some((frame, used)) = parse_server_frame(&self.buf)? {
                self.buf.drain(..used);
                return Ok(frame);
            }
            match read_some(&mut self.stream, &mut self.buf).await {
                Ok(0) => return Err("EOF".to_owned()),
                Ok(_) => continue,
                Err(e) => return Err(e.to_string()),
            }
        }
    }

    /// Reads until the server's close frame and returns its code. Panics (naming `case` and
    /// what arrived before) when the connection ends or stalls without one.
    async fn close_code(&mut self, case: &str) -> Option<u16> {
        let mut seen = Vec::new();
        loop {
            match self.next_frame().await {
                Ok(f) if f.opcode == OP_CLOSE => return f.close_code(),
                Ok(f) => seen.push(f.describe()),
                Err(why) => {
                    panic!("{case}: no close frame from the server ({why}); before: {seen:?}")
                }
            }
        }
    }
}

/// Parses one unmasked server frame from the front of `buf`: `Ok(None)` if incomplete.
fn parse_server_frame(buf: &[u8]) -> Result<Option<(ServerFrame, usize)>, String> {
    if buf.len() < 2 {
        return Ok(None);
    }
    let fin = buf[0] & 0x80 != 0;
    let opcode = buf[0] & 0x0f;
    if buf[1] & 0x80 != 0 {
        return Err(format!("server sent a masked frame (opcode {opcode:#x})"));
    }
    let (len, mut at) = match buf[1] & 0x7f {
        126 if buf.len() >= 4 => (u16::from_be_bytes([buf[2], buf[3]]) as usize, 4),
        127 if buf.len() >= 10 => {
            let mut b = [0u8; 8];
            b.copy_from_slice(&buf[2..10]);
            (u64::from_be_bytes(b) as usize, 10)
        }
        126 | 127 => return Ok(None),
        n => (n as usize, 2),
    };
    if buf.len() < at + len {
        return Ok(None);
    }
    let payload = buf[at..at + len].to_vec();
    at += len;
    Ok(Some((
        ServerFrame {
            fin,
            opcode,
            payload,
        },
        at,
    )))
}

// ---------------------------------------------------------------------------------------
// 1. Protocol violations → RFC 6455 close codes
// ---------------------------------------------------------------------------------------

/// One violation on its own lobby connection; returns the code of the server's close frame.
async fn violation_close_code(hub: &RunningHub, id: &str, bytes: &[u8]) -> Option<u16> {
    let mut raw = RawWs::lobby_ui(hub, id).await;
    raw.write(bytes).await.expect("write the offending frame");
    raw.close_code(id).await
}

#[tokio::test]
async fn protocol_violations_get_rfc6455_close_codes() {
    let hub = hub().await;
    let ping_json = ping("x").to_string();
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        (
            "invalid_utf8_text",
            client_frame(OP_TEXT, &[b'{', 0xff, 0xfe, 0xfd, b'}']),
            1007,
        ),
        (
            "rsv1_without_extension",
            frame(true, 0b100, OP_TEXT, ping_json.as_bytes(), true),
            1002,
        ),
        ("reserved_opcode_3", client_frame(0x3, b"hello"), 1002),
        (
            "unmasked_client_frame",
            frame(true, 0, OP_TEXT, ping_json.as_bytes(), false),
            1002,
        ),
        (
            "fragmented_ping",
            frame(false, 0, OP_PING, b"half", true),
            1002,
        ),
        (
            "ping_with_126_bytes",
            client_frame(OP_PING, &[b'p'; 126]),
            1002,
        ),
        (
            "continuation_without_start",
            client_frame(OP_CONT, b"orphan"),
            1002,
        ),
    ];
    let mut wrong = Vec::new();
    for (case, bytes, want) in &cases {
        let got = violation_close_code(&hub, case, bytes).await;
        if got != Some(*want) {
            wrong.push(format!("{case}: expected close code {want}, got {got:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} violations got the wrong close code:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
    // the hub is still serving
    let mut ok = connect(&hub, "after_violations", "ui").await;
    send_json(&mut ok, ping("after_violations")).await;
    assert_eq!(recv_json(&mut ok).await["message_type"], "pong");
}

#[tokio::test]
async fn fragmented_message_over_the_limit_gets_1009() {
    let hub = hub_with(&[("WS_MAX_MESSAGE_BYTES", "1024")]).await;
    let mut raw = RawWs::lobby_ui(&hub, "fragments").await;
    // 8 fragments of 200 bytes: each is small, the message (1600 bytes) is over 1024.
    let piece = [b'a'; 200];
    let mut bytes = frame(false, 0, OP_TEXT, &piece, true);
    for _ in 0..6 {
        bytes.extend(frame(false, 0, OP_CONT, &piece, true));
    }
    bytes.extend(frame(true, 0, OP_CONT, &piece, true));
    // the server may close before reading everything; what matters is its close frame
    let _ = raw.write(&bytes).await;
    assert_eq!(
        raw.close_code("fragmented 1600-byte message").await,
        Some(1009),
        "a fragmented message over WS_MAX_MESSAGE_BYTES must get 1009"
    );
    // a fragmented message under the limit is assembled and served
    let mut raw = RawWs::lobby_ui(&hub, "fragments_ok").await;
    let text = ping("fragments_ok").to_string();
    let (a, b) = text.as_bytes().split_at(text.len() / 2);
    let mut bytes = frame(false, 0, OP_TEXT, a, true);
    bytes.extend(frame(true, 0, OP_CONT, b, true));
    raw.write(&bytes).await.expect("write fragments");
    let reply = raw.next_frame().await.expect("a reply");
    let v: Value = serde_json::from_slice(&reply.payload).expect("JSON reply");
    assert_eq!(v["message_type"], "pong", "{v}");
}

// ---------------------------------------------------------------------------------------
// 2. Slowloris
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_requests_are_closed_by_the_header_timeout() {
    const N: usize = 200;
    let hub = hub_with(&[("HTTP_HEADER_TIMEOUT_S", "2")]).await;
    let addr = hub.addr();
    let start = Instant::now();
    // 2 s of timeout plus generous slack for a loaded machine
    let deadline = tokio::time::Instant::now() + Duration::from_secs(8);
    let mut tasks = Vec::new();
    for _ in 0..N {
        tasks.push(tokio::spawn(async move {
            let mut s = TcpStream::connect(addr).await.expect("tcp connect");
            s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
                .await
                .expect("partial request");
            // then nothing: wait for the server to end the connection
            let mut sink = [0u8; 1024];
            loop {
                match tokio::time::timeout_at(deadline, s.read(&mut sink)).await {
                    Err(_) => return false, // still open at the deadline
                    Ok(Ok(0)) | Ok(Err(_)) => return true,
                    Ok(Ok(_)) => continue, // e.g. a 408 response before the close
                }
            }
        }));
    }
    let mut still_open = 0;
    for t in tasks {
        if !t.await.expect("task") {
            still_open += 1;
        }
    }
    assert_eq!(
        still_open,
        0,
        "{still_open} of {N} half-sent requests were still open {:?} after they started \
         (HTTP_HEADER_TIMEOUT_S=2)",
        start.elapsed()
    );
    // the hub still serves normal requests
    let health = get_json(&hub, "/health").await;
    assert_eq!(health["status"], "ok", "{health}");
}

// ---------------------------------------------------------------------------------------
// 3. Connection cap
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn connection_cap_refuses_with_503_and_frees_slots() {
    let hub = hub_with(&[("WS_MAX_CONNECTIONS", "5")]).await;
    let mut clients = Vec::new();
    for i in 0..5 {
        clients.push(connect(&hub, &format!("cap_{i}"), "ui").await);
    }
    match tokio_tungstenite::connect_async(ws_url(&hub, "cap_over", "ui")).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status().as_u16(), 503, "over the cap: {resp:?}");
            let body: Value = serde_json::from_slice(resp.body().as_deref().unwrap_or_default())
                .expect("the 503 has a JSON body");
            assert!(body["error"].is_string(), "{body}");
        }
        Err(e) => panic!("the 6th upgrade should get HTTP 503, got error {e}"),
        Ok(_) => panic!("the 6th upgrade was accepted with WS_MAX_CONNECTIONS=5"),
    }
    // the five under the cap are untouched
    for (i, ws) in clients.iter_mut().enumerate() {
        let id = format!("cap_{i}");
        send_json(ws, ping(&id)).await;
        let m = recv_json(ws).await;
        assert_eq!(m["message_type"], "pong", "{id}: {m}");
    }
    // free one slot: a new connection gets in
    let mut gone = clients.remove(0);
    gone.close(None).await.expect("close");
    while let Ok(Some(_)) = tokio::time::timeout(PATIENCE, gone.next()).await {} // to EOF
    drop(gone);
    stats_until(&hub, "4 clients after one left", |s| {
        s["total_clients"] == 4
    })
    .await;
    // The slot is released when the closed socket's task ends, which may trail /stats by a
    // moment: a 503 is retried briefly, anything else fails.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut again = loop {
        match tokio_tungstenite::connect_async(ws_url(&hub, "cap_again", "ui")).await {
            Ok((ws, _)) => break ws,
            Err(tokio_tungstenite::tungstenite::Error::Http(resp))
                if resp.status().as_u16() == 503 && tokio::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            Err(e) => panic!("a freed slot must be usable again, got {e}"),
        }
    };
    assert_eq!(recv_json(&mut again).await["message_type"], "connection");
    send_json(&mut again, ping("cap_again")).await;
    assert_eq!(recv_json(&mut again).await["message_type"], "pong");
}

// ---------------------------------------------------------------------------------------
// 4. Hundreds of concurrent client-initiated closes
// ---------------------------------------------------------------------------------------

/// Connects `n` lobby ui clients (`{prefix}_{i}`), makes them all send a Close frame (1000)
/// at the same moment, and returns the clients that did not get the hub's close frame
/// within `within` of sending their own (with why), and the slowest answer seen.
async fn close_storm(
    hub: &RunningHub,
    prefix: &str,
    n: usize,
    within: Duration,
) -> (Vec<String>, Duration) {
    let mut clients = Vec::with_capacity(n);
    for i in 0..n {
        let id = format!("{prefix}_{i}");
        let ws = connect(hub, &id, "ui").await;
        clients.push((id, ws));
    }
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let mut tasks = Vec::with_capacity(n);
    for (id, mut ws) in clients {
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            let close = Message::Close(Some(CloseFrame {
                code: CloseCode::Normal,
                reason: "".into(),
            }));
            barrier.wait().await;
            let sent = tokio::time::Instant::now();
            if let Err(e) = ws.send(close).await {
                return Err(format!("{id}: sending close: {e}"));
            }
            loop {
                match tokio::time::timeout_at(sent + within, ws.next()).await {
                    Err(_) => return Err(format!("{id}: no close frame within {within:?}")),
                    Ok(Some(Ok(Message::Close(_)))) => return Ok(sent.elapsed()),
                    Ok(Some(Ok(_))) => continue, // presence frames of the others
                    Ok(Some(Err(e))) => return Err(format!("{id}: transport error: {e}")),
                    Ok(None) => return Err(format!("{id}: stream ended without a close frame")),
                }
            }
        }));
    }
    let mut failures = Vec::new();
    let mut slowest = Duration::ZERO;
    for t in tasks {
        match t.await.expect("client task") {
            Ok(took) => slowest = slowest.max(took),
            Err(why) => failures.push(why),
        }
    }
    (failures, slowest)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_concurrent_closes_all_get_the_hub_close_frame() {
    const N: usize = 300;
    /// The same storm several times over: on a 2-core machine, against today's hub (which
    /// drops the close reply when a frame for the client is written after its Close was read),
    /// one storm of 300 loses some replies in about 3 runs out of 4; five in a row in
    /// practically every run.
    const ROUNDS: usize = 5;
    const ANSWER_WITHIN: Duration = Duration::from_secs(2);
    let hub = hub().await;
    let mut report = Vec::new();
    for round in 0..ROUNDS {
        let (failures, slowest) =
            close_storm(&hub, &format!("closer{round}"), N, ANSWER_WITHIN).await;
        if !failures.is_empty() {
            report.push(format!(
                "round {round}: {} of {N} got no close frame within {ANSWER_WITHIN:?} of their \
                 own (slowest answer: {slowest:?}); e.g. {:?}",
                failures.len(),
                &failures[..failures.len().min(3)]
            ));
        }
        stats_until(&hub, "every closer gone", |s| s["total_clients"] == 0).await;
    }
    assert!(
        report.is_empty(),
        "client-initiated closes without the hub's close frame, {ROUNDS} rounds of {N} \
         concurrent closes:\n{}",
        report.join("\n")
    );
}

// ---------------------------------------------------------------------------------------
// 5. The echo route
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn echo_route_is_opt_in_and_uses_the_same_socket_rules() {
    // off by default
    let plain = hub().await;
    let resp = reqwest::get(format!("http://{}/echo", plain.addr()))
        .await
        .expect("http get");
    assert_eq!(resp.status().as_u16(), 404, "/echo without WS_ECHO");
    match tokio_tungstenite::connect_async(format!("ws://{}/echo", plain.addr())).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status().as_u16(), 404)
        }
        Err(e) => panic!("expected a 404 for the /echo upgrade, got {e}"),
        Ok(_) => panic!("/echo accepted an upgrade without WS_ECHO"),
    }

    let hub = hub_with(&[("WS_ECHO", "true")]).await;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/echo", hub.addr()))
        .await
        .expect("the echo route upgrades with WS_ECHO=true");
    let text = "not JSON at all — ünïcode ✓";
    ws.send(Message::text(text)).await.expect("send text");
    let binary = vec![0u8, 1, 2, 0xff, 0xfe, 42];
    ws.send(Message::binary(binary.clone()))
        .await
        .expect("send binary");
    let mut echoed = Vec::new();
    while echoed.len() < 2 {
        match tokio::time::timeout(PATIENCE, ws.next()).await {
            Err(_) => panic!("no echo within {PATIENCE:?}; got {echoed:?}"),
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            Ok(Some(Ok(m))) => echoed.push(m),
            Ok(other) => panic!("echo socket ended: {other:?} after {echoed:?}"),
        }
    }
    assert_eq!(echoed[0], Message::text(text));
    assert_eq!(echoed[1], Message::binary(binary));

    // the same close codes apply on /echo
    let mut raw = RawWs::upgrade(hub.addr(), "/echo").await;
    raw.write(&client_frame(OP_TEXT, &[0xc3, 0x28]))
        .await
        .expect("write invalid UTF-8");
    assert_eq!(raw.close_code("/echo invalid UTF-8").await, Some(1007));
    let mut raw = RawWs::upgrade(hub.addr(), "/echo").await;
    raw.write(&client_frame(OP_BINARY, b"raw bytes"))
        .await
        .expect("write binary");
    let back = raw.next_frame().await.expect("binary echo");
    assert_eq!(
        (back.opcode, back.payload.as_slice()),
        (OP_BINARY, &b"raw bytes"[..])
    );
}

// ---------------------------------------------------------------------------------------
// 6. No token in a RUST_LOG=trace log of the real binary
// ---------------------------------------------------------------------------------------

/// The child process, killed when the test ends (also on panic).
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits for the binary's `listening on` line in its log file.
fn wait_listening(log: &std::path::Path, child: &mut Child) -> String {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(line) = text
            .lines()
            .find_map(|l| l.strip_prefix("werewolf-hub listening on "))
        {
            return line.trim().to_owned();
        }
        if let Some(status) = child.try_wait().expect("try_wait") {
            panic!("the hub exited ({status}) before listening: {text}");
        }
        assert!(Instant::now() < deadline, "the hub never listened: {text}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Reads frames until one with `message_type == what`.
async fn wait_type(ws: &mut Ws, what: &str) -> Value {
    loop {
        let m = recv_json(ws).await;
        if m["message_type"] == what {
            return m;
        }
    }
}

#[tokio::test]
async fn no_token_in_a_trace_log() {
    let log_path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "socket_abuse_trace_{}_{}.log",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_nanos()
    ));
    let log = std::fs::File::create(&log_path).expect("create log file");
    let child = Command::new(env!("CARGO_BIN_EXE_werewolf-hub"))
        .env("WS_HOST", "127.0.0.1")
        .env("WS_PORT", "0")
        .env("RUST_LOG", "trace")
        .env("HUB_STORE", "memory")
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("dup log"))
        .stderr(log)
        .spawn()
        .expect("spawn hub");
    let mut child = KillOnDrop(child);
    let addr = wait_listening(&log_path, &mut child.0);

    let created: Value = reqwest::Client::new()
        .post(format!("http://{addr}/games"))
        .json(&json!({"preset": "aiwolf5", "players": ["a", "b", "c", "d", "e"]}))
        .send()
        .await
        .expect("POST /games")
        .json()
        .await
        .expect("JSON answer");
    let gid = created["game_id"].as_str().expect("game_id").to_owned();
    let observer_token = created["observer_token"]
        .as_str()
        .expect("observer_token")
        .to_owned();
    let seats: Vec<(String, String)> = created["players"]
        .as_array()
        .expect("players")
        .iter()
        .map(|p| {
            (
                p["player_id"].as_str().expect("player_id").to_owned(),
                p["token"].as_str().expect("token").to_owned(),
            )
        })
        .collect();
    assert_eq!(seats.len(), 5, "{created}");
    let mut tokens: Vec<(String, String)> = seats
        .iter()
        .map(|(id, t)| (format!("seat {id}"), t.clone()))
        .collect();
    tokens.push(("observer".to_owned(), observer_token.clone()));
    for (who, t) in &tokens {
        assert!(
            t.len() >= 16,
            "{who}'s token is long enough to grep for: {t:?}"
        );
    }

    // seat 1: token in the query string
    let (p1, t1) = &seats[0];
    let (mut a1, _) = tokio_tungstenite::connect_async(format!(
        "ws://{addr}/ws/{p1}?client_type=agent&game_id={gid}&token={t1}"
    ))
    .await
    .expect("seat 1 connects with ?token=");
    // seat 2: token in an Authorization header (the outcome is checked after the grep, so
    // that today's code fails on the leak first)
    let (p2, t2) = &seats[1];
    let mut request = format!("ws://{addr}/ws/{p2}?client_type=agent&game_id={gid}")
        .into_client_request()
        .expect("request");
    request.headers_mut().insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {t2}")).expect("header"),
    );
    let bearer = tokio_tungstenite::connect_async(request).await;
    // the full observer
    let (mut obs, _) = tokio_tungstenite::connect_async(format!(
        "ws://{addr}/ws/watcher?client_type=observer&game_id={gid}&token={observer_token}"
    ))
    .await
    .expect("observer connects with ?token=");
    // a refused attempt carrying a real token (wrong game): refusals are logged too
    let (p3, t3) = &seats[2];
    let refused = tokio_tungstenite::connect_async(format!(
        "ws://{addr}/ws/{p3}?client_type=agent&game_id=no-such-game&token={t3}"
    ))
    .await;
    assert!(
        refused.is_err(),
        "a seat token for the wrong game is refused"
    );

    // a few frames each way
    assert_eq!(
        wait_type(&mut a1, "connection").await["client_id"],
        p1.as_str()
    );
    send_json(&mut a1, ping(p1)).await;
    wait_type(&mut a1, "pong").await;
    assert_eq!(
        wait_type(&mut obs, "connection").await["client_id"],
        "watcher"
    );
    send_json(&mut obs, ping("watcher")).await;
    wait_type(&mut obs, "pong").await;
    let bearer_outcome = match bearer {
        Ok((mut a2, _)) => {
            assert_eq!(
                wait_type(&mut a2, "connection").await["client_id"],
                p2.as_str()
            );
            send_json(&mut a2, ping(p2)).await;
            wait_type(&mut a2, "pong").await;
            a2.close(None).await.expect("close seat 2");
            Ok(())
        }
        Err(e) => Err(e.to_string()),
    };
    a1.close(None).await.expect("close seat 1");
    recv_close(&mut a1).await;
    obs.close(None).await.expect("close observer");
    recv_close(&mut obs).await;
    // let the hub log the disconnections, then stop it
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(child);

    let mut bytes = Vec::new();
    std::fs::File::open(&log_path)
        .expect("open log")
        .read_to_end(&mut bytes)
        .expect("read log");
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.contains(&gid) && text.lines().count() > 20,
        "the trace log is too thin to mean anything ({} lines, game id {gid} present: {}): {}",
        text.lines().count(),
        text.contains(&gid),
        log_path.display()
    );
    let leaked: Vec<String> = tokens
        .iter()
        .filter_map(|(who, t)| {
            let hits = text.matches(t.as_str()).count();
            let first = text.lines().find(|l| l.contains(t.as_str()))?;
            Some(format!("{who}: {hits} times, e.g. {first}"))
        })
        .collect();
    assert!(
        leaked.is_empty(),
        "tokens in the RUST_LOG=trace log ({}):\n{}",
        log_path.display(),
        leaked.join("\n")
    );
    assert_eq!(
        bearer_outcome,
        Ok(()),
        "seat 2 with Authorization: Bearer <token> must connect"
    );
    let _ = std::fs::remove_file(&log_path);
}
