//! Several hub URLs (a cluster of hub nodes sharing a store, issue 13): the client goes past
//! a node that is down or answers 503, waits out a `Retry-After`, moves to the next URL when
//! its node closes with 1012 (service restart) and resumes there with `last_seq`, and stops
//! at once on a 4xx refusal.
//!
//! The "nodes" are [`Node`]s: small front ends on 127.0.0.1:0 that all lead to one real
//! in-process hub (standing in for the shared store), relaying WebSocket frames one by one
//! so that they can close their clients with 1012 like a draining node, and answering
//! chosen requests with a JSON refusal like a node whose game is being taken over.

mod common;

use common::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use werewolf_client::{ClientError, CreatedGame, Hub, RandomStrategy, ReconnectPolicy};
use werewolf_server::RunningHub;

// ---- a hub node in front of the shared hub -------------------------------------------------

/// One request a [`Node`] received.
#[derive(Debug, Clone)]
struct Seen {
    /// When its head was read.
    at: Instant,
    /// The request target (path and query).
    target: String,
    /// A WebSocket upgrade (else a REST call).
    upgrade: bool,
    /// The status it was refused with; `None`: passed on to the hub.
    refused: Option<u16>,
}

/// The next requests a [`Node`] refuses.
#[derive(Debug, Clone, Copy)]
struct Refusal {
    status: u16,
    /// Seconds sent as `Retry-After`.
    retry_after: Option<u64>,
    /// How many more requests to refuse (`usize::MAX`: all).
    remaining: usize,
}

struct NodeShared {
    upstream: SocketAddr,
    refusal: Mutex<Refusal>,
    seen: Mutex<Vec<Seen>>,
    /// Text frames relayed from clients to the hub.
    frames_in: AtomicUsize,
    /// Set to `true`: every relayed socket is closed with 1012.
    restart: tokio::sync::watch::Sender<bool>,
}

/// A front end on 127.0.0.1:0 that passes REST calls (as bytes) and WebSocket frames (one
/// by one) to one hub, or refuses requests as told.
struct Node {
    addr: SocketAddr,
    shared: Arc<NodeShared>,
    accept: JoinHandle<()>,
}

impl Node {
    async fn start(upstream: SocketAddr) -> Node {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("node binds");
        let addr = listener.local_addr().expect("node addr");
        let shared = Arc::new(NodeShared {
            upstream,
            refusal: Mutex::new(Refusal {
                status: 503,
                retry_after: None,
                remaining: 0,
            }),
            seen: Mutex::new(Vec::new()),
            frames_in: AtomicUsize::new(0),
            restart: tokio::sync::watch::channel(false).0,
        });
        let serving = shared.clone();
        let accept = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                tokio::spawn(serve(serving.clone(), tcp));
            }
        });
        Node {
            addr,
            shared,
            accept,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Refuses the next `count` requests with `status` (and `Retry-After`).
    fn refuse(&self, status: u16, retry_after: Option<u64>, count: usize) {
        *self.shared.refusal.lock().expect("refusal") = Refusal {
            status,
            retry_after,
            remaining: count,
        };
    }

    /// Like a node that drains: closes every relayed socket with 1012 and answers every
    /// later request with 503.
    fn restart(&self) {
        self.refuse(503, None, usize::MAX);
        self.shared.restart.send_replace(true);
    }

    fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().expect("seen").clone()
    }

    fn upgrades(&self) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.upgrade).collect()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

async fn serve(shared: Arc<NodeShared>, mut tcp: TcpStream) {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    let end = loop {
        let Ok(n) = tcp.read(&mut buf).await else {
            return;
        };
        if n == 0 || head.len() > 65536 {
            return;
        }
        head.extend_from_slice(&buf[..n]);
        if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
    };
    let text = String::from_utf8_lossy(&head[..end]).into_owned();
    let target = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let upgrade = text.to_ascii_lowercase().contains("upgrade: websocket");
    let refused = {
        let mut refusal = shared.refusal.lock().expect("refusal");
        if refusal.remaining > 0 {
            if refusal.remaining != usize::MAX {
                refusal.remaining -= 1;
            }
            Some(*refusal)
        } else {
            None
        }
    };
    shared.seen.lock().expect("seen").push(Seen {
        at: Instant::now(),
        target: target.clone(),
        upgrade,
        refused: refused.map(|r| r.status),
    });
    if let Some(refusal) = refused {
        let body = json!({"error": "game g1 is moving to another hub node",
                          "status": refusal.status})
        .to_string();
        let retry_after = refusal
            .retry_after
            .map(|s| format!("retry-after: {s}\r\n"))
            .unwrap_or_default();
        let response = format!(
            "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
             {retry_after}connection: close\r\n\r\n{body}",
            refusal.status,
            reason_phrase(refusal.status),
            body.len()
        );
        let _ = tcp.write_all(response.as_bytes()).await;
        let _ = tcp.shutdown().await;
        // read what the client still sends (a request body) so that closing is not a reset
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            while matches!(tcp.read(&mut buf).await, Ok(n) if n > 0) {}
        })
        .await;
        return;
    }
    if upgrade {
        relay_socket(shared, tcp, head, &target).await;
    } else {
        let Ok(mut up) = TcpStream::connect(shared.upstream).await else {
            return;
        };
        if up.write_all(&head).await.is_ok() {
            let _ = tokio::io::copy_bidirectional(&mut tcp, &mut up).await;
        }
    }
}

/// Opens the same socket on the hub, completes the client's upgrade and relays frames
/// until either side closes or the node restarts (then the client gets 1012).
async fn relay_socket(shared: Arc<NodeShared>, tcp: TcpStream, head: Vec<u8>, target: &str) {
    let mut restart = shared.restart.subscribe();
    let Ok((upstream, _)) =
        tokio_tungstenite::connect_async(format!("ws://{}{target}", shared.upstream)).await
    else {
        return;
    };
    // the head was read already: the handshake reads it again from this buffer
    let (read, write) = tcp.into_split();
    let stream = tokio::io::join(std::io::Cursor::new(head).chain(read), write);
    let Ok(client) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    let (mut up_tx, mut up_rx) = upstream.split();
    let (mut client_tx, mut client_rx) = client.split();
    loop {
        tokio::select! {
            _ = restart.changed() => {
                let close = CloseFrame { code: CloseCode::Restart, reason: "service restart".into() };
                let _ = client_tx.send(Message::Close(Some(close))).await;
                // wait for the client's answering close frame (or give up after a while)
                let _ = tokio::time::timeout(Duration::from_secs(2), async {
                    while let Some(Ok(m)) = client_rx.next().await {
                        if m.is_close() { break; }
                    }
                }).await;
                return;
            }
            from_hub = up_rx.next() => match from_hub {
                Some(Ok(m @ (Message::Text(_) | Message::Ping(_)))) => {
                    if client_tx.send(m).await.is_err() { return; }
                }
                Some(Ok(Message::Close(frame))) => {
                    let _ = client_tx.send(Message::Close(frame)).await;
                    return;
                }
                Some(Ok(_)) => {}
                _ => return,
            },
            from_client = client_rx.next() => match from_client {
                Some(Ok(m @ Message::Text(_))) => {
                    shared.frames_in.fetch_add(1, Ordering::SeqCst);
                    if up_tx.send(m).await.is_err() { return; }
                }
                Some(Ok(Message::Close(frame))) => {
                    let _ = up_tx.send(Message::Close(frame)).await;
                    return;
                }
                Some(Ok(_)) => {}
                _ => return,
            },
        }
    }
}

// ---- helpers ----------------------------------------------------------------------------

fn direct(hub: &RunningHub) -> Hub {
    Hub::new(&format!("http://{}", hub.addr())).expect("valid hub URL")
}

/// Short waits for tests (the first wait of an outage is 10–20 ms).
fn quick() -> ReconnectPolicy {
    ReconnectPolicy {
        initial_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        give_up_after: Some(Duration::from_secs(20)),
        ..ReconnectPolicy::default()
    }
}

fn aiwolf5() -> serde_json::Value {
    json!({"preset": "aiwolf5", "rules": "hub", "seed": 11, "players": ["A", "B", "C", "D", "E"],
           "action_timeout_ms": 20_000, "talk_rounds": 1})
}

async fn unstarted_game(client: &Hub) -> CreatedGame {
    let mut body = aiwolf5();
    body["auto_start"] = json!(false);
    client.create_game(&body).await.expect("create game")
}

/// A port nothing listens on.
async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    listener.local_addr().expect("addr")
}

fn json_of(raw: &str) -> serde_json::Value {
    serde_json::from_str(raw).expect("json frame")
}

// ---- tests --------------------------------------------------------------------------------

/// The first URL is a closed port, the second a node answering 503 (its game is being taken
/// over): a REST call, an agent and a viewer all end up on the third URL; the 503 node was
/// asked once per call and the agent is told it is connected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_connection_goes_past_a_closed_port_and_a_node_answering_503() {
    let hub = hub_with(&[]).await;
    let busy = Node::start(hub.addr()).await;
    busy.refuse(503, None, usize::MAX);
    let dead = closed_port().await;
    let hub_url = format!("ws://{}", hub.addr());
    let client = Hub::with_urls([format!("http://{dead}"), busy.url(), hub_url])
        .expect("valid URLs")
        .with_reconnect(quick());
    assert_eq!(client.bases().len(), 3);

    let game = unstarted_game(&client).await;
    let seat = &game.players[0];
    let mut agent = client
        .connect_agent(&game.game_id, &seat.player_id, &seat.token)
        .await
        .expect("agent connects through the third URL");
    let (raw, _) = agent.recv().await.expect("connection frame");
    let welcome = json_of(&raw);
    assert_eq!(welcome["message_type"], "connection", "{raw}");
    assert_eq!(welcome["data"]["game_id"], game.game_id.as_str(), "{raw}");
    assert_eq!(agent.stats().connections, 1);
    let mut viewer = client
        .watch("table", "ui", &game.game_id, None)
        .await
        .expect("viewer connects through the third URL");
    let (raw, _) = viewer.recv().await.expect("connection frame");
    assert_eq!(json_of(&raw)["client_id"], "table", "{raw}");

    let seen = busy.seen();
    assert_eq!(
        seen.iter()
            .map(|s| (s.upgrade, s.refused))
            .collect::<Vec<_>>(),
        [(false, Some(503)), (true, Some(503)), (true, Some(503))],
        "one refused REST call, then one refused upgrade per socket: {seen:?}"
    );
    assert!(seen[0].target.ends_with("/games"), "{seen:?}");
    stop(hub).await;
}

/// A single node refuses the upgrade once with 503 and `Retry-After: 1`: the client does
/// not give up (the node said "not now"), waits the second the node asked for although its
/// own backoff is 10–20 ms, and connects on the next attempt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_with_retry_after_is_retried_after_the_wait() {
    let hub = hub_with(&[]).await;
    let game = unstarted_game(&direct(&hub)).await;
    let node = Node::start(hub.addr()).await;
    node.refuse(503, Some(1), 1);
    let client = Hub::with_urls([node.url()])
        .expect("valid URL")
        .with_reconnect(quick());
    let seat = &game.players[0];
    let started = Instant::now();
    let mut agent = tokio::time::timeout(
        PATIENCE,
        client.connect_agent(&game.game_id, &seat.player_id, &seat.token),
    )
    .await
    .expect("in time")
    .expect("agent connects on the second attempt");
    let took = started.elapsed();
    let (raw, _) = agent.recv().await.expect("connection frame");
    assert_eq!(json_of(&raw)["message_type"], "connection", "{raw}");

    let upgrades = node.upgrades();
    assert_eq!(
        upgrades.iter().map(|s| s.refused).collect::<Vec<_>>(),
        [Some(503), None],
        "{upgrades:?}"
    );
    let gap = upgrades[1].at - upgrades[0].at;
    assert!(
        gap >= Duration::from_millis(950) && gap < Duration::from_secs(3),
        "second attempt {gap:?} after the 503 with Retry-After: 1"
    );
    assert!(took >= Duration::from_millis(950), "{took:?}");

    // without Retry-After and with reconnecting off, a 503 is returned as it is
    node.refuse(503, None, usize::MAX);
    let error = Hub::with_urls([node.url()])
        .expect("valid URL")
        .with_reconnect(ReconnectPolicy::never())
        .connect_agent(&game.game_id, &seat.player_id, &seat.token)
        .await
        .expect_err("refused");
    match &error {
        ClientError::Refused { status, reason } => {
            assert_eq!(*status, 503, "{error}");
            assert!(reason.contains("moving to another hub node"), "{error}");
        }
        other => panic!("expected Refused 503, got {other:?}"),
    }
    stop(hub).await;
}

/// A 4xx refusal is the same on every node: the client stops at the first URL with
/// [`ClientError::Refused`] and never asks the next one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_4xx_refusal_is_final_and_the_next_url_is_not_asked() {
    let hub = hub_with(&[]).await;
    let game = unstarted_game(&direct(&hub)).await;
    let forbidding = Node::start(hub.addr()).await;
    forbidding.refuse(403, None, usize::MAX);
    let next = Node::start(hub.addr()).await;
    let client = Hub::with_urls([forbidding.url(), next.url()])
        .expect("valid URLs")
        .with_reconnect(quick());
    let seat = &game.players[0];
    let started = Instant::now();
    let error = client
        .connect_agent(&game.game_id, &seat.player_id, &seat.token)
        .await
        .expect_err("refused");
    assert!(
        matches!(error, ClientError::Refused { status: 403, .. }),
        "{error:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2), "no retrying");
    assert_eq!(forbidding.upgrades().len(), 1);
    assert!(next.seen().is_empty(), "{:?}", next.seen());
    stop(hub).await;
}

/// A game of five random bots. One seat connects with two URLs, nodes A and B in front of
/// the same hub. In the middle of the game node A drains: it closes the seat's socket with
/// 1012 and answers 503 from then on, while B answers its first request with 503 and
/// `Retry-After: 1` (it is still taking the game over). The seat tries B first (the URL
/// after the lost one), then A, then B again once B's second has passed, and is accepted
/// with `last_seq`; it resumes (`recovered: true`), misses no `seq` and plays to the same
/// `game_over` as everyone else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_1012_moves_the_agent_to_the_next_url_and_it_resumes_with_last_seq() {
    let hub = hub_with(&[]).await;
    let node_a = Node::start(hub.addr()).await;
    let node_b = Node::start(hub.addr()).await;
    let game = direct(&hub)
        .create_game(&aiwolf5())
        .await
        .expect("create game");
    let cluster = Hub::with_urls([node_a.url(), node_b.url()])
        .expect("valid URLs")
        .with_reconnect(quick());

    let seat = game.players[0].clone();
    let mut agent = cluster
        .connect_agent(&game.game_id, &seat.player_id, &seat.token)
        .await
        .expect("seat connects through node A");
    let seqs = Arc::new(Mutex::new(Vec::new()));
    let seen_seqs = seqs.clone();
    let seat_task = tokio::spawn(async move {
        let over = agent
            .play(&mut RandomStrategy::new(0), |raw, _| {
                if let Some(seq) = json_of(raw)["seq"].as_u64() {
                    seen_seqs.lock().expect("seqs").push(seq);
                }
            })
            .await;
        (over, agent)
    });
    let mut others = Vec::new();
    for (i, other) in game.players.iter().enumerate().skip(1) {
        let mut bot = direct(&hub)
            .connect_agent(&game.game_id, &other.player_id, &other.token)
            .await
            .expect("bot connects");
        others.push(tokio::spawn(async move {
            bot.play(&mut RandomStrategy::new(i as u64), |_, _| {})
                .await
                .expect("bot plays to game_over")
        }));
    }

    // node A drains once the seat has answered through it
    tokio::time::timeout(PATIENCE, async {
        while node_a.shared.frames_in.load(Ordering::SeqCst) < 1 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the seat answers a request through node A");
    node_b.refuse(503, Some(1), 1);
    node_a.restart();

    let (over, agent) = tokio::time::timeout(PATIENCE, seat_task)
        .await
        .expect("the seat's game ends in time")
        .expect("seat task");
    let over = over.expect("the seat plays to game_over across the move");
    for bot in others {
        let theirs = tokio::time::timeout(PATIENCE, bot)
            .await
            .expect("game over in time")
            .expect("bot task");
        assert_eq!(json!(theirs.winner), json!(over.winner));
    }

    let stats = agent.stats();
    assert_eq!(stats.connections, 2, "{stats:?}");
    assert_eq!(stats.drops.len(), 1, "{stats:?}");
    assert!(stats.drops[0].contains("1012"), "{stats:?}");
    assert_eq!(stats.recovered, [Some(true)], "{stats:?}");
    assert!(stats.missed.is_empty(), "{stats:?}");
    let seqs: BTreeSet<u64> = seqs.lock().expect("seqs").iter().copied().collect();
    let (first, last) = (
        *seqs.first().expect("frames"),
        *seqs.last().expect("frames"),
    );
    assert_eq!(seqs.len() as u64, last - first + 1, "a gap in {seqs:?}");

    // the order of attempts: A accepted; then B refused (Retry-After: 1), A refused,
    // B accepted with last_seq a second after its refusal
    let a = node_a.upgrades();
    let b = node_b.upgrades();
    assert_eq!(
        a.iter().map(|s| s.refused).collect::<Vec<_>>(),
        [None, Some(503)],
        "{a:?}"
    );
    assert_eq!(
        b.iter().map(|s| s.refused).collect::<Vec<_>>(),
        [Some(503), None],
        "{b:?}"
    );
    assert!(!a[0].target.contains("last_seq"), "{a:?}");
    assert!(b[0].at < a[1].at && a[1].at < b[1].at, "{a:?} {b:?}");
    assert!(
        b[1].at - b[0].at >= Duration::from_millis(950),
        "B was asked again before its Retry-After: {b:?}"
    );
    let resumed_from = b[1]
        .target
        .split(['?', '&'])
        .find_map(|pair| pair.strip_prefix("last_seq="))
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no last_seq in {}", b[1].target));
    assert!(seqs.contains(&resumed_from), "{resumed_from} not received");
    assert!(
        seqs.iter().any(|s| *s > resumed_from),
        "nothing after the move"
    );
    stop(hub).await;
}
