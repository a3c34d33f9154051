//! `werewolf-loadgen`: load generator for werewolf-hub, the scenarios of the performance
//! issue, callable in-process. A tool beside the hub, not part of it.
//!
//! # Layout
//! - This module holds every scenario as an `async fn` taking a [`Target`] (the hub's address,
//!   optionally its PID for RSS; for a hub of several nodes over one Redis, the other nodes
//!   too: REST goes to the first, WebSocket clients to the nodes in turn, RSS and CPU are
//!   summed) and the scenario's options, returning one [`Report`]:
//!   [`relay`], [`games`], [`burst`], [`connect`], [`slow`]. Each options struct has a
//!   `smoke()` preset that runs in about a second (used by `tests/loadgen_smoke.rs` of this
//!   crate).
//! - `src/bin/loadgen.rs` (the `loadgen` binary) is the command line: it parses flags,
//!   raises `RLIMIT_NOFILE`, spawns the hub binary (one node or `--nodes N`) or targets
//!   `--url`, runs one scenario and prints the report as exactly one JSON line on stdout
//!   (progress goes to stderr).
//! - `src/bin/failover.rs` (the `failover` binary) times a game's move to another node
//!   after its node is SIGKILLed; [`process`] starts the hubs and Redis of both binaries.
//! - Shared pieces, above the scenarios: WebSocket connect with small buffers
//!   ([`ws_connect`]), a sharded HDR latency recorder, samplers of the server's RSS
//!   ([`rss_kib`], `/proc/<pid>/status`), of CPU time ([`cpu_s`], to show how the two cores
//!   were split between hub and load generator) and of kernel TCP memory ([`tcp_mem_kib`],
//!   where a non-reading client's backlog lives), and bounded-concurrency spawning.
//!
//! # Measuring
//! Everything runs in one process, so latency is measured against one monotonic base
//! ([`now_ns`]): a sender embeds its send time in the frame (relay: `message_text` is
//! `lg:{phase}:{agent}:{seq}:{send_ns}`), the receiver records `now - sent` in µs. Every
//! scenario counts `delivered` against `expected` and sets [`Report::ok`] when they match.

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use rand::Rng;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::borrow::Cow;
use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use werewolf_schemas::{ResultValue, ServerFrame, ServerMessage};

use werewolf_client::CreatedGame;

pub mod process;

/// A client socket of the load generator.
pub type Ws = WebSocketStream<TcpStream>;

/// What can stop a scenario before it measures anything.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Socket-level failure.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// WebSocket handshake or transport failure.
    #[error("websocket: {0}")]
    Ws(#[from] tokio_tungstenite::tungstenite::Error),
    /// HTTP failure.
    #[error("http: {0}")]
    Http(#[from] reqwest::Error),
    /// The hub answered something unexpected, or a setup step failed.
    #[error("{0}")]
    Setup(String),
}

/// The hub under load.
#[derive(Debug, Clone)]
pub struct Target {
    /// Where the hub listens (with several nodes: the first one; every REST call goes here).
    pub addr: SocketAddr,
    /// The hub's process, for `VmRSS` (none for an in-process hub or an unknown PID).
    pub server_pid: Option<u32>,
    /// Sent as `Authorization: Bearer` on `POST /games` and `/start` when set.
    pub admin_token: Option<String>,
    /// The other nodes of the same hub (a cluster over one Redis, `HUB_REDIS_URL`): the
    /// WebSocket clients are spread round-robin over `addr` and these. Empty: one node.
    pub peers: Vec<Peer>,
}

/// Another node of a clustered hub.
#[derive(Debug, Clone)]
pub struct Peer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its process, for `VmRSS` and CPU time (none when unknown).
    pub pid: Option<u32>,
}

impl Target {
    /// A target without a known PID or admin token.
    pub fn new(addr: SocketAddr) -> Self {
        Target {
            addr,
            server_pid: None,
            admin_token: None,
            peers: Vec::new(),
        }
    }

    /// How many nodes the hub has (1 without peers).
    pub fn nodes(&self) -> usize {
        1 + self.peers.len()
    }

    /// Where WebSocket client number `i` connects: the nodes in turn, `addr` first.
    pub fn ws_addr(&self, i: usize) -> SocketAddr {
        match i % self.nodes() {
            0 => self.addr,
            n => self.peers[n - 1].addr,
        }
    }

    /// Every node's PID, `addr`'s first.
    fn pids(&self) -> Vec<Option<u32>> {
        std::iter::once(self.server_pid)
            .chain(self.peers.iter().map(|p| p.pid))
            .collect()
    }

    /// `VmRSS` summed over the nodes, KiB (null when any node's is unknown).
    pub fn server_rss_kib(&self) -> Option<u64> {
        rss_sum(&self.pids())
    }

    /// Each node's `VmRSS`, KiB, `addr`'s first.
    pub fn rss_per_node_kib(&self) -> Vec<Option<u64>> {
        self.pids().into_iter().map(rss_kib).collect()
    }
}

/// One scenario's result: the fixed fields of the issue plus scenario-specific `extra`.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `relay`, `games`, `burst`, `connect` or `slow`.
    pub scenario: String,
    /// Clients the scenario measured (receivers; for games and burst, every recipient).
    pub clients: usize,
    /// Frames (or requests) the load generator sent.
    pub sent: u64,
    /// Frames counted at the receivers.
    pub delivered: u64,
    /// Frames the receivers should have got.
    pub expected: u64,
    /// `delivered` per second of the delivery window.
    pub delivered_per_s: f64,
    /// Median latency, µs (what is timed depends on the scenario; see `latency_of`).
    pub p50_us: Option<u64>,
    /// 99th percentile latency, µs.
    pub p99_us: Option<u64>,
    /// 99.9th percentile latency, µs.
    pub p999_us: Option<u64>,
    /// Server `VmRSS` at the end of the measurement, KiB (null without a PID).
    pub server_rss_kib: Option<u64>,
    /// Whether every check of the scenario held (`delivered == expected` at least).
    pub ok: bool,
    /// Scenario-specific fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Report {
    fn new(scenario: &str) -> Self {
        Report {
            scenario: scenario.to_owned(),
            clients: 0,
            sent: 0,
            delivered: 0,
            expected: 0,
            delivered_per_s: 0.0,
            p50_us: None,
            p99_us: None,
            p999_us: None,
            server_rss_kib: None,
            ok: false,
            extra: Map::new(),
        }
    }

    fn set(&mut self, key: &str, value: impl Serialize) {
        self.extra.insert(
            key.to_owned(),
            serde_json::to_value(value).unwrap_or(Value::Null),
        );
    }

    /// With several nodes: `nodes` and each node's RSS now, `server_rss_per_node_kib`
    /// (`server_rss_kib` is their sum).
    fn per_node(&mut self, target: &Target) {
        if !target.peers.is_empty() {
            self.set("nodes", target.nodes());
            self.set("server_rss_per_node_kib", target.rss_per_node_kib());
        }
    }

    fn latency(&mut self, hist: &Histogram<u64>) {
        if !hist.is_empty() {
            self.p50_us = Some(hist.value_at_quantile(0.50));
            self.p99_us = Some(hist.value_at_quantile(0.99));
            self.p999_us = Some(hist.value_at_quantile(0.999));
            self.set("max_us", hist.max());
            self.set("latency_samples", hist.len());
        }
    }
}

// ---- shared pieces -------------------------------------------------------------------------

/// Nanoseconds since the load generator's monotonic base (set on first use).
pub fn now_ns() -> u64 {
    static BASE: OnceLock<Instant> = OnceLock::new();
    BASE.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// `VmRSS` of a process in KiB, from `/proc/<pid>/status`.
pub fn rss_kib(pid: Option<u32>) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// `VmRSS` of several processes summed, KiB (null when any is unknown).
fn rss_sum(pids: &[Option<u32>]) -> Option<u64> {
    pids.iter().map(|&p| rss_kib(p)).sum()
}

/// CPU time (user + system) of a process in seconds, from `/proc/<pid>/stat`; `None`
/// for the load generator itself.
pub fn cpu_s(pid: Option<u32>) -> Option<f64> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/stat"),
        None => "/proc/self/stat".to_owned(),
    };
    let stat = std::fs::read_to_string(path).ok()?;
    // Fields after the command name (which may hold spaces): state is field 3, utime 14.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on every Linux this runs on.
    Some(ticks as f64 / 100.0)
}

/// CPU time of a server process (`None` for an unknown PID, never the load generator's).
fn server_cpu_s(pid: Option<u32>) -> Option<f64> {
    pid.and_then(|p| cpu_s(Some(p)))
}

/// CPU use of the server and of the load generator over a measurement window.
struct CpuMeter {
    /// The server's PIDs, one per node (none: not measured).
    pids: Vec<Option<u32>>,
    /// Each node's CPU seconds at the start.
    server: Vec<Option<f64>>,
    /// Load generator CPU seconds at the start.
    own: Option<f64>,
    /// Window start.
    at: Instant,
}

impl CpuMeter {
    fn start(target: &Target) -> Self {
        let pids = target.pids();
        CpuMeter {
            server: pids.iter().map(|&p| server_cpu_s(p)).collect(),
            pids,
            own: cpu_s(None),
            at: Instant::now(),
        }
    }

    /// Adds `server_cpu_pct` (summed over the nodes; with several, `server_cpu_pct_per_node`
    /// too) and `loadgen_cpu_pct` (100 = one core busy) under `prefix`.
    fn report(&self, report: &mut Report, prefix: &str) {
        let wall = self.at.elapsed().as_secs_f64().max(1e-9);
        let pct = |start: Option<f64>, now: Option<f64>| {
            start
                .zip(now)
                .map(|(a, b)| ((b - a) / wall * 1000.0).round() / 10.0)
        };
        let per_node: Vec<Option<f64>> = self
            .pids
            .iter()
            .zip(&self.server)
            .map(|(&p, &start)| pct(start, server_cpu_s(p)))
            .collect();
        let server: Option<f64> = per_node
            .iter()
            .copied()
            .sum::<Option<f64>>()
            .map(|v| (v * 10.0).round() / 10.0);
        report.set(&format!("{prefix}server_cpu_pct"), server);
        if per_node.len() > 1 {
            report.set(&format!("{prefix}server_cpu_pct_per_node"), per_node);
        }
        report.set(
            &format!("{prefix}loadgen_cpu_pct"),
            pct(self.own, cpu_s(None)),
        );
    }
}

/// Memory of every TCP socket on the machine (kernel buffers: what a non-reading client
/// costs beyond the server's RSS), KiB, from `/proc/net/sockstat` (`TCP: … mem PAGES`).
pub fn tcp_mem_kib() -> Option<u64> {
    let sockstat = std::fs::read_to_string("/proc/net/sockstat").ok()?;
    let line = sockstat.lines().find(|l| l.starts_with("TCP:"))?;
    let mut words = line.split_whitespace();
    words.find(|w| *w == "mem")?;
    Some(words.next()?.parse::<u64>().ok()? * 4)
}

/// Samples the server's RSS and the kernel's TCP memory every 50 ms, keeping the peaks.
struct RssSampler {
    /// Highest RSS sample so far, KiB (0: none).
    peak: Arc<AtomicU64>,
    /// Highest TCP memory sample so far, KiB.
    tcp_peak: Arc<AtomicU64>,
    /// The sampling task.
    task: JoinHandle<()>,
}

impl RssSampler {
    /// Samples the sum over the target's nodes.
    fn start(target: &Target) -> Self {
        let pids = target.pids();
        let peak = Arc::new(AtomicU64::new(rss_sum(&pids).unwrap_or(0)));
        let tcp_peak = Arc::new(AtomicU64::new(tcp_mem_kib().unwrap_or(0)));
        let (keep, keep_tcp) = (peak.clone(), tcp_peak.clone());
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(50)).await;
                if let Some(v) = rss_sum(&pids) {
                    keep.fetch_max(v, Ordering::Relaxed);
                }
                if let Some(v) = tcp_mem_kib() {
                    keep_tcp.fetch_max(v, Ordering::Relaxed);
                }
            }
        });
        RssSampler {
            peak,
            tcp_peak,
            task,
        }
    }

    /// Stops sampling; the RSS peak (null without samples).
    fn stop(self) -> Option<u64> {
        self.stop_both().0
    }

    /// Stops sampling; the RSS peak and the TCP memory peak.
    fn stop_both(self) -> (Option<u64>, Option<u64>) {
        self.task.abort();
        (
            Some(self.peak.load(Ordering::Relaxed)).filter(|&v| v > 0),
            Some(self.tcp_peak.load(Ordering::Relaxed)).filter(|&v| v > 0),
        )
    }
}

/// Latencies in µs, recorded from many tasks into a few mutex-guarded histograms.
#[derive(Debug)]
struct Recorder {
    /// Shards; a task records into `shards[key % len]`.
    shards: Vec<Mutex<Histogram<u64>>>,
}

/// Shards per recorder: enough that two worker threads rarely meet on one lock.
const SHARDS: usize = 16;
/// Largest latency recorded exactly (an hour, in µs); larger values saturate.
const MAX_LATENCY_US: u64 = 3_600_000_000;

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("static histogram bounds are valid")
}

impl Recorder {
    fn new() -> Self {
        Recorder {
            shards: (0..SHARDS).map(|_| Mutex::new(new_histogram())).collect(),
        }
    }

    fn record(&self, key: usize, us: u64) {
        let mut h = self.shards[key % SHARDS]
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        h.saturating_record(us.max(1));
    }

    fn merged(&self) -> Histogram<u64> {
        let mut all = new_histogram();
        for shard in &self.shards {
            let h = shard.lock().unwrap_or_else(|p| p.into_inner());
            all.add(&*h).expect("shards share the bounds");
        }
        all
    }
}

/// Socket options of a load-generator client.
#[derive(Debug, Clone, Copy)]
pub struct SockOpts {
    /// tungstenite read buffer, bytes (its default, 128 KiB, is far too large for 10k clients).
    pub read_buffer: usize,
    /// `SO_RCVBUF` before connecting (a small one makes a non-reading client back up fast).
    pub recv_buffer: Option<u32>,
}

impl Default for SockOpts {
    fn default() -> Self {
        SockOpts {
            // tungstenite zeroes the free part of this buffer on every read: keep it small.
            read_buffer: 4096,
            recv_buffer: None,
        }
    }
}

/// Connects `ws://addr{path}` with TCP_NODELAY and small buffers.
pub async fn ws_connect(addr: SocketAddr, path: &str, opts: SockOpts) -> Result<Ws, LoadError> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    if let Some(n) = opts.recv_buffer {
        socket.set_recv_buffer_size(n)?;
    }
    let stream = socket.connect(addr).await?;
    stream.set_nodelay(true)?;
    let config = WebSocketConfig::default()
        .read_buffer_size(opts.read_buffer)
        .write_buffer_size(4096);
    let (ws, _) = tokio_tungstenite::client_async_with_config(
        format!("ws://{addr}{path}"),
        stream,
        Some(config),
    )
    .await?;
    Ok(ws)
}

/// How long setup steps (a connect, a welcome) may take before the scenario fails.
const SETUP_PATIENCE: Duration = Duration::from_secs(30);

/// Connects and reads the `connection` welcome.
async fn connect_welcomed(addr: SocketAddr, path: &str, opts: SockOpts) -> Result<Ws, LoadError> {
    let work = async {
        let mut ws = ws_connect(addr, path, opts).await?;
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(t))) => {
                    if light(t.as_str()).is_some_and(|l| l.message_type == "connection") {
                        return Ok(ws);
                    }
                }
                Some(Ok(Message::Close(f))) => {
                    return Err(LoadError::Setup(format!("closed before welcome: {f:?}")));
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
                None => return Err(LoadError::Setup("closed before welcome".into())),
            }
        }
    };
    tokio::time::timeout(SETUP_PATIENCE, work)
        .await
        .map_err(|_| LoadError::Setup(format!("no welcome within {SETUP_PATIENCE:?} on {path}")))?
}

/// The fields every check needs, parsed without building a tree.
#[derive(Debug, Deserialize)]
struct Light<'a> {
    /// The frame's type.
    #[serde(borrow)]
    message_type: Cow<'a, str>,
    /// Position in a game stream (game frames only).
    #[serde(default)]
    seq: Option<u64>,
    /// The server's clock when it built the frame (epoch seconds).
    #[serde(default)]
    timestamp: Option<f64>,
}

/// Wall clock, epoch seconds (to compare with frames' server `timestamp`).
fn epoch_s() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn light(text: &str) -> Option<Light<'_>> {
    serde_json::from_str(text).ok()
}

/// Spawns `make(i, gate)` for `i in 0..n`; each task passes its gate ([`Gate::enter`]) for
/// its setup part, so at most `limit` setups run at once while the rest of each task
/// (reading, playing) runs unbounded.
fn spawn_bounded<T, F, Fut>(n: usize, limit: usize, make: F) -> Vec<JoinHandle<T>>
where
    T: Send + 'static,
    F: Fn(usize, Gate) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
{
    let semaphore = Arc::new(Semaphore::new(limit.max(1)));
    (0..n)
        .map(|i| tokio::spawn(make(i, Gate(semaphore.clone()))))
        .collect()
}

/// Admission to a bounded setup step (see [`spawn_bounded`]).
struct Gate(Arc<Semaphore>);

impl Gate {
    /// Waits for a slot; the slot is held until the returned permit is dropped.
    async fn enter(&self) -> Option<OwnedSemaphorePermit> {
        self.0.clone().acquire_owned().await.ok()
    }
}

/// Waits for every handle; a panicked or aborted task gives `None`.
async fn join_all<T>(handles: Vec<JoinHandle<T>>) -> Vec<Option<T>> {
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.ok());
    }
    out
}

/// Minimal HTTP helper for the hub's REST calls.
#[derive(Debug, Clone)]
struct Http {
    /// Shared client (its pool keeps connections warm).
    client: reqwest::Client,
    /// `http://addr` (the first node: REST calls go here).
    base: String,
    /// `http://addr` of every node, the first included (for counts summed over the nodes).
    nodes: Vec<String>,
    /// Bearer token for admin calls.
    admin: Option<String>,
}

impl Http {
    fn new(target: &Target) -> Self {
        Http {
            client: reqwest::Client::new(),
            base: format!("http://{}", target.addr),
            nodes: (0..target.nodes())
                .map(|i| format!("http://{}", target.ws_addr(i)))
                .collect(),
            admin: target.admin_token.clone(),
        }
    }

    async fn post(&self, path: &str, body: &Value) -> Result<Value, LoadError> {
        let mut request = self.client.post(format!("{}{path}", self.base)).json(body);
        if let Some(t) = &self.admin {
            request = request.bearer_auth(t);
        }
        let response = request.send().await?;
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            return Err(LoadError::Setup(format!("POST {path}: {status}: {text}")));
        }
        serde_json::from_str(&text).map_err(|e| LoadError::Setup(format!("POST {path}: {e}")))
    }

    /// `GET` on the node at `base`.
    async fn get(&self, base: &str, path: &str) -> Result<Value, LoadError> {
        let response = self.client.get(format!("{base}{path}")).send().await?;
        let text = response.text().await?;
        serde_json::from_str(&text).map_err(|e| LoadError::Setup(format!("GET {path}: {e}")))
    }

    /// `/health.connections`, summed over the nodes (a relayed socket is counted once: by
    /// the game's node, not by the node relaying it).
    async fn connections(&self) -> Option<u64> {
        let mut sum = 0;
        for base in &self.nodes {
            sum += self.get(base, "/health").await.ok()?["connections"].as_u64()?;
        }
        Some(sum)
    }

    /// A `/stats` counter, summed over the nodes.
    async fn counter(&self, name: &str) -> Option<u64> {
        let mut sum = 0;
        for base in &self.nodes {
            sum += self.get(base, "/stats").await.ok()?["counters"][name].as_u64()?;
        }
        Some(sum)
    }
}

fn progress(msg: impl AsRef<str>) {
    eprintln!("[loadgen {:>8.3}s] {}", now_ns() as f64 / 1e9, msg.as_ref());
}

fn secs(ns: u64) -> f64 {
    ns as f64 / 1e9
}

/// A frame the relay receivers recognise: `lg:{phase}:{agent}:{seq}:{sent_ns}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Marker {
    /// Which measurement phase sent it.
    phase: usize,
    /// Sending agent index.
    agent: usize,
    /// The agent's sequence number within the phase.
    seq: u64,
    /// Send time, [`now_ns`].
    sent_ns: u64,
}

/// Finds the marker in a relayed `agent_message` without parsing the whole frame (this
/// runs once per delivery, hundreds of thousands of times a second).
fn parse_marker(text: &str) -> Option<Marker> {
    const KEY: &[u8] = b"\"message_text\":\"lg:";
    let bytes = text.as_bytes();
    // Anchor on the `:"lg:` tail of the key with a byte scan, then check the whole key.
    let mut from = 0;
    let start = loop {
        let at = from + bytes.get(from..)?.iter().position(|&b| b == b'l')?;
        if at >= KEY.len() - 3 && bytes[at + 3 - KEY.len()..].starts_with(KEY) {
            break at + 3;
        }
        from = at + 1;
    };
    let mut fields = [0u64; 4];
    let mut i = start;
    for (n, field) in fields.iter_mut().enumerate() {
        let begin = i;
        while let Some(d) = bytes.get(i).filter(|b| b.is_ascii_digit()) {
            *field = field.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
            i += 1;
        }
        let sep = if n == 3 { b'"' } else { b':' };
        if i == begin || bytes.get(i) != Some(&sep) {
            return None;
        }
        i += 1;
    }
    Some(Marker {
        phase: fields[0] as usize,
        agent: fields[1] as usize,
        seq: fields[2],
        sent_ns: fields[3],
    })
}

// ---- relay and slow ------------------------------------------------------------------------

/// Measurement phases a relay rig can run (slow: baseline, then with slow clients).
const PHASES: usize = 2;

/// Options of [`relay`] (and of each phase of [`slow`]).
#[derive(Debug, Clone)]
pub struct RelayOpts {
    /// ui clients receiving the relay (for [`slow`]: healthy and slow together).
    pub clients: usize,
    /// Lobby agents sending `agent_message`.
    pub agents: usize,
    /// Messages per second in, over all agents.
    pub rate: f64,
    /// How long the agents send (per phase).
    pub duration: Duration,
    /// Each agent sends its share once per tick.
    pub tick: Duration,
    /// Connects in flight at once.
    pub concurrency: usize,
    /// How long to wait for the last deliveries after the last send.
    pub drain_timeout: Duration,
}

impl Default for RelayOpts {
    fn default() -> Self {
        RelayOpts {
            clients: 1000,
            agents: 4,
            rate: 400.0,
            duration: Duration::from_secs(10),
            tick: Duration::from_millis(10),
            concurrency: 256,
            drain_timeout: Duration::from_secs(10),
        }
    }
}

impl RelayOpts {
    /// About a second of light load, for CI.
    pub fn smoke() -> Self {
        RelayOpts {
            clients: 20,
            agents: 2,
            rate: 200.0,
            duration: Duration::from_secs(1),
            tick: Duration::from_millis(10),
            concurrency: 64,
            drain_timeout: Duration::from_secs(10),
        }
    }
}

/// Counters of one relay receiver: written by its task, read by the coordinator.
#[derive(Debug, Default)]
struct ReceiverSlot {
    /// Marked frames received, per phase.
    delivered: [AtomicU64; PHASES],
    /// When the last marked frame arrived, per phase ([`now_ns`]).
    last_ns: [AtomicU64; PHASES],
    /// Marked frames not in per-agent sequence (lost, duplicated or reordered).
    out_of_order: AtomicU64,
    /// Other frames (e.g. `disconnection` notices).
    other: AtomicU64,
    /// Set once the socket ended before the load generator closed it.
    ended: AtomicBool,
    /// The server's close code, if it sent one (0: none).
    close_code: AtomicU64,
}

/// Reads relayed frames until stopped; records latency per phase.
async fn relay_receiver(
    mut ws: Ws,
    key: usize,
    agents: usize,
    slot: Arc<ReceiverSlot>,
    recorders: Arc<[Recorder; PHASES]>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    let mut next_seq = vec![[0u64; PHASES]; agents];
    loop {
        let message = tokio::select! {
            biased;
            m = ws.next() => m,
            _ = &mut stop => {
                let _ = tokio::time::timeout(Duration::from_secs(1), ws.close(None)).await;
                return;
            }
        };
        match message {
            Some(Ok(Message::Text(text))) => {
                let now = now_ns();
                match parse_marker(text.as_str()) {
                    Some(m) if m.phase < PHASES => {
                        slot.delivered[m.phase].fetch_add(1, Ordering::Relaxed);
                        slot.last_ns[m.phase].store(now, Ordering::Relaxed);
                        recorders[m.phase].record(key, now.saturating_sub(m.sent_ns) / 1000);
                        match next_seq.get_mut(m.agent) {
                            Some(next) => {
                                if next[m.phase] != m.seq {
                                    slot.out_of_order.fetch_add(1, Ordering::Relaxed);
                                }
                                next[m.phase] = m.seq + 1;
                            }
                            None => {
                                slot.out_of_order.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                    _ => {
                        slot.other.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            Some(Ok(Message::Close(frame))) => {
                let code = frame.map_or(1005, |f| u64::from(u16::from(f.code)));
                slot.close_code.store(code, Ordering::Relaxed);
                slot.ended.store(true, Ordering::Relaxed);
                return;
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => {
                slot.ended.store(true, Ordering::Relaxed);
                return;
            }
        }
    }
}

/// An agent's reader: counts `error` frames (e.g. `rate_limited`) until stopped.
async fn agent_reader(
    mut stream: SplitStream<Ws>,
    errors: Arc<AtomicU64>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    loop {
        let message = tokio::select! {
            biased;
            _ = &mut stop => return,
            m = stream.next() => m,
        };
        match message {
            Some(Ok(Message::Text(text))) => {
                if light(text.as_str()).is_some_and(|l| l.message_type == "error") {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return,
        }
    }
}

/// Result of one agent's sending in one phase.
struct SendOutcome {
    /// The sink, handed back for the next phase.
    sink: SplitSink<Ws, Message>,
    /// Frames written and flushed.
    sent: u64,
    /// When the first frame was written ([`now_ns`]), if any.
    first_ns: Option<u64>,
    /// Why sending stopped early.
    error: Option<String>,
}

/// What an agent sends in a phase.
#[derive(Debug, Clone, Copy)]
struct SendPlan {
    /// Phase number (in the marker).
    phase: usize,
    /// Agent index (in the marker).
    agent: usize,
    /// This agent's messages per second.
    rate: f64,
    /// Frames to send in total.
    total: u64,
    /// Send interval.
    tick: Duration,
    /// Delay before the first tick (staggers the agents).
    offset: Duration,
}

/// Sends `plan.total` frames at `plan.rate`, in ticks, as evenly as the clock allows.
async fn send_phase(mut sink: SplitSink<Ws, Message>, plan: SendPlan) -> SendOutcome {
    tokio::time::sleep(plan.offset).await;
    let start = Instant::now();
    let mut ticker = tokio::time::interval(plan.tick);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut sent = 0u64;
    let mut first_ns = None;
    let mut error = None;
    while sent < plan.total {
        ticker.tick().await;
        let due = ((plan.rate * start.elapsed().as_secs_f64()).floor() as u64 + 1).min(plan.total);
        let burst = async {
            for seq in sent..due {
                let t = now_ns();
                first_ns.get_or_insert(t);
                let text = format!(
                    "{{\"message_type\":\"agent_message\",\"message_text\":\"lg:{}:{}:{seq}:{t}\"}}",
                    plan.phase, plan.agent
                );
                sink.feed(Message::text(text)).await?;
            }
            sink.flush().await
        };
        if let Err(e) = burst.await {
            error = Some(e.to_string());
            break;
        }
        sent = due;
    }
    SendOutcome {
        sink,
        sent,
        first_ns,
        error,
    }
}

/// Connected ui receivers and lobby agents, reusable across phases.
struct RelayRig {
    /// One per healthy receiver.
    slots: Vec<Arc<ReceiverSlot>>,
    /// Receiver tasks.
    receivers: Vec<JoinHandle<()>>,
    /// Stops the receiver and agent-reader tasks.
    stops: Vec<tokio::sync::oneshot::Sender<()>>,
    /// Agents' write halves (taken while a phase sends).
    sinks: Vec<Option<SplitSink<Ws, Message>>>,
    /// Agent reader tasks.
    agent_readers: Vec<JoinHandle<()>>,
    /// `error` frames the agents received.
    agent_errors: Arc<AtomicU64>,
    /// Latency per phase.
    recorders: Arc<[Recorder; PHASES]>,
    /// Time to connect every receiver and agent.
    connect_ms: f64,
}

/// Outcome of one relay phase.
struct PhaseResult {
    /// Frames the agents sent.
    sent: u64,
    /// Marked frames the healthy receivers got.
    delivered: u64,
    /// `sent × healthy receivers`.
    expected: u64,
    /// From the first send to the last delivery, ns.
    window_ns: u64,
    /// From the first send to the end of sending, ns.
    send_ns: u64,
    /// Latency of the phase.
    hist: Histogram<u64>,
    /// Send errors.
    send_errors: Vec<String>,
}

impl RelayRig {
    async fn connect(
        target: &Target,
        receivers: usize,
        opts: &RelayOpts,
    ) -> Result<Self, LoadError> {
        let t0 = Instant::now();
        let recorders: Arc<[Recorder; PHASES]> = Arc::new([Recorder::new(), Recorder::new()]);
        let slots: Vec<Arc<ReceiverSlot>> = (0..receivers)
            .map(|_| Arc::new(ReceiverSlot::default()))
            .collect();
        let (ready_tx, mut ready_rx) = tokio::sync::mpsc::unbounded_channel::<Result<(), String>>();
        let mut stops = Vec::new();
        let mut stop_rxs = Vec::new();
        for _ in 0..receivers + opts.agents {
            let (tx, rx) = tokio::sync::oneshot::channel();
            stops.push(tx);
            stop_rxs.push(Mutex::new(Some(rx)));
        }
        let stop_rxs = Arc::new(stop_rxs);
        let agents = opts.agents;
        let receivers_handles = spawn_bounded(receivers, opts.concurrency, |i, gate| {
            let slot = slots[i].clone();
            let recorders = recorders.clone();
            let ready = ready_tx.clone();
            let stop = take_stop(&stop_rxs, i);
            let addr = target.ws_addr(i);
            async move {
                let permit = gate.enter().await;
                let path = format!("/ws/lg_ui_{i}?client_type=ui");
                let ws = match connect_welcomed(addr, &path, SockOpts::default()).await {
                    Ok(ws) => ws,
                    Err(e) => {
                        let _ = ready.send(Err(e.to_string()));
                        return;
                    }
                };
                drop(permit);
                let _ = ready.send(Ok(()));
                relay_receiver(ws, i, agents, slot, recorders, stop).await;
            }
        });
        wait_ready(&mut ready_rx, receivers, "ui receivers").await?;
        progress(format!("{receivers} ui receivers connected"));

        let mut sinks = Vec::new();
        let mut agent_readers = Vec::new();
        let agent_errors = Arc::new(AtomicU64::new(0));
        for a in 0..opts.agents {
            let path = format!("/ws/lg_agent_{a}?client_type=agent");
            let ws = connect_welcomed(target.ws_addr(a), &path, SockOpts::default()).await?;
            let (sink, stream) = ws.split();
            sinks.push(Some(sink));
            let stop = take_stop(&stop_rxs, receivers + a);
            agent_readers.push(tokio::spawn(agent_reader(
                stream,
                agent_errors.clone(),
                stop,
            )));
        }
        Ok(RelayRig {
            slots,
            receivers: receivers_handles,
            stops,
            sinks,
            agent_readers,
            agent_errors,
            recorders,
            connect_ms: t0.elapsed().as_secs_f64() * 1e3,
        })
    }

    /// Sends for `opts.duration` at `opts.rate`, then waits for the deliveries.
    async fn run_phase(&mut self, phase: usize, opts: &RelayOpts) -> PhaseResult {
        let agents = self.sinks.len();
        let per_agent = opts.rate / agents.max(1) as f64;
        let total = (per_agent * opts.duration.as_secs_f64()).round() as u64;
        let t_begin = now_ns();
        let mut handles = Vec::new();
        for (agent, sink) in self.sinks.iter_mut().enumerate() {
            let Some(sink) = sink.take() else { continue };
            let plan = SendPlan {
                phase,
                agent,
                rate: per_agent,
                total,
                tick: opts.tick,
                offset: opts.tick.mul_f64(agent as f64 / agents as f64),
            };
            handles.push((agent, tokio::spawn(send_phase(sink, plan))));
        }
        let mut sent = 0;
        let mut first_ns = u64::MAX;
        let mut send_errors = Vec::new();
        for (agent, handle) in handles {
            match handle.await {
                Ok(outcome) => {
                    sent += outcome.sent;
                    first_ns = first_ns.min(outcome.first_ns.unwrap_or(u64::MAX));
                    if let Some(e) = outcome.error {
                        send_errors.push(e);
                    }
                    self.sinks[agent] = Some(outcome.sink);
                }
                Err(e) => send_errors.push(e.to_string()),
            }
        }
        let send_end = now_ns();
        let first_ns = if first_ns == u64::MAX {
            t_begin
        } else {
            first_ns
        };
        let expected = sent * self.slots.len() as u64;
        let deadline = Instant::now() + opts.drain_timeout;
        let delivered = loop {
            let delivered: u64 = self
                .slots
                .iter()
                .map(|s| s.delivered[phase].load(Ordering::Relaxed))
                .sum();
            let all_ended = self.slots.iter().all(|s| s.ended.load(Ordering::Relaxed));
            if delivered >= expected || Instant::now() >= deadline || all_ended {
                break delivered;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        let last = self
            .slots
            .iter()
            .map(|s| s.last_ns[phase].load(Ordering::Relaxed))
            .max()
            .unwrap_or(send_end);
        PhaseResult {
            sent,
            delivered,
            expected,
            window_ns: last.max(first_ns + 1) - first_ns,
            send_ns: send_end.saturating_sub(first_ns),
            hist: self.recorders[phase].merged(),
            send_errors,
        }
    }

    fn out_of_order(&self) -> u64 {
        self.slots
            .iter()
            .map(|s| s.out_of_order.load(Ordering::Relaxed))
            .sum()
    }

    fn other_frames(&self) -> u64 {
        self.slots
            .iter()
            .map(|s| s.other.load(Ordering::Relaxed))
            .sum()
    }

    /// Receivers whose socket ended under load, by close code (0: no close frame).
    fn ended(&self) -> HashMap<String, u64> {
        let mut out = HashMap::new();
        for s in &self.slots {
            if s.ended.load(Ordering::Relaxed) {
                *out.entry(s.close_code.load(Ordering::Relaxed).to_string())
                    .or_default() += 1;
            }
        }
        out
    }

    /// Closes every socket (best effort, bounded).
    async fn close(self) {
        for stop in self.stops {
            let _ = stop.send(());
        }
        drop(self.sinks);
        let all = self.receivers.into_iter().chain(self.agent_readers);
        let _ = tokio::time::timeout(Duration::from_secs(3), join_all(all.collect())).await;
    }
}

fn take_stop(
    stops: &Arc<Vec<Mutex<Option<tokio::sync::oneshot::Receiver<()>>>>>,
    i: usize,
) -> tokio::sync::oneshot::Receiver<()> {
    stops[i]
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
        .expect("each stop receiver is taken once")
}

/// Waits for `n` readiness reports; fails on the first error.
async fn wait_ready(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<Result<(), String>>,
    n: usize,
    what: &str,
) -> Result<(), LoadError> {
    for got in 0..n {
        match rx.recv().await {
            Some(Ok(())) => {}
            Some(Err(e)) => {
                return Err(LoadError::Setup(format!(
                    "{what}: {got} of {n} ready, then: {e}"
                )));
            }
            None => {
                return Err(LoadError::Setup(format!(
                    "{what}: {got} of {n} ready, then the tasks ended"
                )));
            }
        }
    }
    Ok(())
}

/// `relay`: `clients` ui receivers, `agents` lobby agents sending `agent_message` at `rate`
/// msgs/s in total for `duration`. Latency: send → receipt of each relayed frame.
pub async fn relay(target: &Target, opts: &RelayOpts) -> Result<Report, LoadError> {
    let mut rig = RelayRig::connect(target, opts.clients, opts).await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let rss = RssSampler::start(target);
    progress(format!(
        "relay: {} msgs/s from {} agents for {:?}",
        opts.rate, opts.agents, opts.duration
    ));
    let cpu = CpuMeter::start(target);
    let phase = rig.run_phase(0, opts).await;
    let peak = rss.stop();
    let mut report = Report::new("relay");
    cpu.report(&mut report, "");
    report.clients = opts.clients;
    report.sent = phase.sent;
    report.delivered = phase.delivered;
    report.expected = phase.expected;
    report.delivered_per_s = phase.delivered as f64 / secs(phase.window_ns);
    report.latency(&phase.hist);
    report.server_rss_kib = target.server_rss_kib();
    report.per_node(target);
    report.set("latency_of", "agent_message send -> receipt at each ui");
    report.set("agents", opts.agents);
    report.set("rate_in", opts.rate);
    report.set("sent_per_s", phase.sent as f64 / secs(phase.send_ns.max(1)));
    report.set(
        "offered_per_s",
        phase.expected as f64 / secs(phase.send_ns.max(1)),
    );
    report.set("window_s", secs(phase.window_ns));
    report.set("connect_ms", rig.connect_ms);
    report.set("out_of_order", rig.out_of_order());
    report.set("other_frames", rig.other_frames());
    report.set("receivers_ended", rig.ended());
    report.set("agent_errors", rig.agent_errors.load(Ordering::Relaxed));
    report.set("send_errors", &phase.send_errors);
    report.set("server_rss_peak_kib", peak);
    report.ok = phase.delivered == phase.expected
        && phase.sent > 0
        && rig.out_of_order() == 0
        && phase.send_errors.is_empty();
    rig.close().await;
    Ok(report)
}

/// Options of [`slow`].
#[derive(Debug, Clone)]
pub struct SlowOpts {
    /// The relay load of each phase; `relay.clients` counts healthy and slow clients.
    pub relay: RelayOpts,
    /// Share of `relay.clients` that stop reading, in percent.
    pub slow_pct: f64,
    /// `SO_RCVBUF` of the slow clients, bytes (small, so they back up quickly).
    pub slow_recv_buffer: u32,
    /// How long a slow client is read at the end to learn how it was cut.
    pub verdict_timeout: Duration,
}

impl Default for SlowOpts {
    fn default() -> Self {
        SlowOpts {
            relay: RelayOpts {
                rate: 100.0,
                duration: Duration::from_secs(20),
                ..RelayOpts::default()
            },
            slow_pct: 5.0,
            slow_recv_buffer: 4096,
            verdict_timeout: Duration::from_secs(5),
        }
    }
}

impl SlowOpts {
    /// A short run for CI (pair it with a small `WS_SEND_QUEUE` so the slow get cut).
    pub fn smoke() -> Self {
        SlowOpts {
            relay: RelayOpts {
                clients: 20,
                rate: 400.0,
                ..RelayOpts::smoke()
            },
            slow_pct: 10.0,
            slow_recv_buffer: 4096,
            verdict_timeout: Duration::from_secs(3),
        }
    }
}

/// How a slow client ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// The server sent a close frame with this code.
    Closed(u16),
    /// The connection ended without a close frame (dropped at the TCP level).
    Dropped,
    /// Still open when the verdict timeout ran out.
    Open,
}

/// Reads a parked slow client until it ends (or the timeout), to learn how it was cut.
async fn verdict(mut ws: Ws, limit: Duration) -> Fate {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return Fate::Open,
            Ok(Some(Ok(Message::Close(frame)))) => {
                return Fate::Closed(frame.map_or(1005, |f| u16::from(f.code)));
            }
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(_)) | None) => return Fate::Dropped,
        }
    }
}

/// `slow`: a relay phase with healthy clients only (baseline), then the same load with
/// `slow_pct` % more clients that never read. Reports both healthy p99s, their ratio, how the
/// slow clients were cut and the server's RSS peak in each phase.
pub async fn slow(target: &Target, opts: &SlowOpts) -> Result<Report, LoadError> {
    let total = opts.relay.clients;
    let slow_n = ((total as f64) * opts.slow_pct / 100.0).round() as usize;
    let healthy = total.saturating_sub(slow_n);
    let http = Http::new(target);
    let mut rig = RelayRig::connect(target, healthy, &opts.relay).await?;
    tokio::time::sleep(Duration::from_millis(200)).await;

    progress(format!("slow: baseline phase, {healthy} healthy clients"));
    let rss = RssSampler::start(target);
    let base_cpu = CpuMeter::start(target);
    let base = rig.run_phase(0, &opts.relay).await;
    let (base_peak, base_tcp_peak) = rss.stop_both();
    let mut report = Report::new("slow");
    base_cpu.report(&mut report, "baseline_");
    let base_rss = target.server_rss_kib();
    let cut_before = http.counter("slow_consumers_closed").await;

    let sock = SockOpts {
        read_buffer: 4096,
        recv_buffer: Some(opts.slow_recv_buffer),
    };
    let parked = spawn_bounded(slow_n, opts.relay.concurrency, |i, gate| {
        let addr = target.ws_addr(i);
        async move {
            let _permit = gate.enter().await;
            connect_welcomed(addr, &format!("/ws/lg_slow_{i}?client_type=ui"), sock).await
        }
    });
    let mut slow_sockets = Vec::new();
    for handle in join_all(parked).await {
        match handle {
            Some(Ok(ws)) => slow_sockets.push(ws),
            Some(Err(e)) => return Err(e),
            None => return Err(LoadError::Setup("a slow client's task died".into())),
        }
    }
    progress(format!("slow: {slow_n} clients connected and not reading"));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let rss = RssSampler::start(target);
    let cpu = CpuMeter::start(target);
    let with = rig.run_phase(1, &opts.relay).await;
    let (with_peak, with_tcp_peak) = rss.stop_both();
    cpu.report(&mut report, "");
    let with_rss = target.server_rss_kib();

    let fates = join_all(
        slow_sockets
            .into_iter()
            .map(|ws| tokio::spawn(verdict(ws, opts.verdict_timeout)))
            .collect(),
    )
    .await;
    let closed_4001 = fates
        .iter()
        .filter(|f| **f == Some(Fate::Closed(4001)))
        .count();
    let closed_other = fates
        .iter()
        .filter(|f| matches!(f, Some(Fate::Closed(c)) if *c != 4001))
        .count();
    let dropped = fates.iter().filter(|f| **f == Some(Fate::Dropped)).count();
    let still_open = fates.len() - closed_4001 - closed_other - dropped;
    let cut_after = http.counter("slow_consumers_closed").await;

    report.clients = total;
    report.sent = base.sent + with.sent;
    report.delivered = base.delivered + with.delivered;
    report.expected = base.expected + with.expected;
    report.delivered_per_s = with.delivered as f64 / secs(with.window_ns);
    report.latency(&with.hist);
    report.server_rss_kib = with_rss;
    report.per_node(target);
    let base_p99 = (!base.hist.is_empty()).then(|| base.hist.value_at_quantile(0.99));
    report.set(
        "latency_of",
        "agent_message send -> receipt at each healthy ui",
    );
    report.set("healthy_clients", healthy);
    report.set("slow_clients", slow_n);
    report.set("rate_in", opts.relay.rate);
    report.set(
        "baseline_p50_us",
        (!base.hist.is_empty()).then(|| base.hist.value_at_quantile(0.5)),
    );
    report.set("baseline_p99_us", base_p99);
    report.set(
        "baseline_p999_us",
        (!base.hist.is_empty()).then(|| base.hist.value_at_quantile(0.999)),
    );
    report.set(
        "baseline_delivered_per_s",
        base.delivered as f64 / secs(base.window_ns),
    );
    report.set("baseline_delivered", base.delivered);
    report.set("baseline_expected", base.expected);
    report.set(
        "p99_ratio",
        match (base_p99, report.p99_us) {
            (Some(b), Some(w)) if b > 0 => Some(w as f64 / b as f64),
            _ => None,
        },
    );
    report.set("slow_cut", closed_4001 + dropped + closed_other);
    report.set("slow_closed_4001", closed_4001);
    report.set("slow_closed_other", closed_other);
    report.set("slow_dropped", dropped);
    report.set("slow_still_open", still_open);
    report.set(
        "server_slow_consumers_closed",
        cut_after.zip(cut_before).map(|(a, b)| a - b),
    );
    report.set("baseline_rss_kib", base_rss);
    report.set("baseline_rss_peak_kib", base_peak);
    report.set("server_rss_peak_kib", with_peak);
    report.set("baseline_tcp_mem_peak_kib", base_tcp_peak);
    report.set("tcp_mem_peak_kib", with_tcp_peak);
    report.set("slow_all_cut", still_open == 0);
    report.set("out_of_order", rig.out_of_order());
    report.set("receivers_ended", rig.ended());
    report.set("agent_errors", rig.agent_errors.load(Ordering::Relaxed));
    let mut errors = base.send_errors.clone();
    errors.extend(with.send_errors.iter().cloned());
    report.set("send_errors", &errors);
    report.ok = report.delivered == report.expected
        && base.sent > 0
        && with.sent > 0
        && rig.out_of_order() == 0
        && errors.is_empty();
    rig.close().await;
    Ok(report)
}

// ---- games and burst -----------------------------------------------------------------------

/// Seats of a preset (the loadgen names them `P1`..`Pn` up front).
fn preset_seats(preset: &str) -> Option<usize> {
    match preset {
        "aiwolf5" => Some(5),
        "arena8" => Some(8),
        "classic9" => Some(9),
        "aiwolf13" => Some(13),
        _ => None,
    }
}

/// Creates `n` games with `body` (plus `players` and a per-game `seed`), 32 calls at once.
async fn create_games(
    http: &Http,
    n: usize,
    preset: &str,
    body: Value,
    seed: u64,
) -> Result<Vec<CreatedGame>, LoadError> {
    let seats = preset_seats(preset)
        .ok_or_else(|| LoadError::Setup(format!("unknown preset `{preset}`")))?;
    let names: Vec<String> = (1..=seats).map(|i| format!("P{i}")).collect();
    let handles = spawn_bounded(n, 32, |i, gate| {
        let http = http.clone();
        let mut body = body.clone();
        body["preset"] = json!(preset);
        body["players"] = json!(names);
        body["seed"] = json!(seed.wrapping_add(i as u64));
        async move {
            let _permit = gate.enter().await;
            let value = http.post("/games", &body).await?;
            serde_json::from_value::<CreatedGame>(value)
                .map_err(|e| LoadError::Setup(format!("POST /games answer: {e}")))
        }
    });
    let mut games = Vec::with_capacity(n);
    for created in join_all(handles).await {
        games.push(created.ok_or_else(|| LoadError::Setup("a create task died".into()))??);
    }
    Ok(games)
}

/// Checks that a game stream's `seq` is gap-free.
#[derive(Debug, Default, Clone, Copy)]
struct StreamCheck {
    /// Last `seq` seen (`None` before the first game frame).
    last: Option<u64>,
    /// Game frames received (distinct `seq`s).
    delivered: u64,
    /// `seq` numbers skipped.
    missing: u64,
    /// Frames whose `seq` did not move forward.
    duplicates: u64,
}

impl StreamCheck {
    fn see(&mut self, seq: u64) {
        match self.last {
            None => {
                self.last = Some(seq);
                self.delivered = 1;
            }
            Some(last) if seq > last => {
                self.missing += seq - last - 1;
                self.delivered += 1;
                self.last = Some(seq);
            }
            Some(_) => self.duplicates += 1,
        }
    }
}

/// What one game recipient (bot agent or full observer) saw.
#[derive(Debug, Default, Clone)]
struct Recipient {
    /// Its stream's check.
    check: StreamCheck,
    /// It got `game_over`.
    completed: bool,
    /// When its last game frame arrived ([`now_ns`]).
    last_ns: u64,
    /// `error` frames it got.
    errors: u64,
    /// Frames it sent (answers).
    sent: u64,
    /// `action_request`s it got.
    requests: u64,
    /// Why it stopped early.
    failure: Option<String>,
}

/// Options of [`games`].
#[derive(Debug, Clone)]
pub struct GamesOpts {
    /// Concurrent games.
    pub games: usize,
    /// Full observers (with the observer token) per game.
    pub observers: usize,
    /// Game preset.
    pub preset: String,
    /// Every request's deadline, ms (large: bots answer at once).
    pub action_timeout_ms: u64,
    /// Connects in flight at once.
    pub concurrency: usize,
    /// The whole run must end within this.
    pub timeout: Duration,
    /// Base seed of the games and bots.
    pub seed: u64,
}

impl Default for GamesOpts {
    fn default() -> Self {
        GamesOpts {
            games: 100,
            observers: 2,
            preset: "arena8".into(),
            action_timeout_ms: 600_000,
            concurrency: 256,
            timeout: Duration::from_secs(300),
            seed: 1,
        }
    }
}

impl GamesOpts {
    /// A few games, for CI.
    pub fn smoke() -> Self {
        GamesOpts {
            games: 3,
            observers: 1,
            timeout: Duration::from_secs(60),
            ..GamesOpts::default()
        }
    }
}

/// Who a game recipient is.
#[derive(Debug, Clone)]
enum Role {
    /// A seat's bot: answers every request at once.
    Bot {
        /// RNG seed of its choices.
        seed: u64,
        /// Action round-trip latency goes here.
        recorder: Arc<Recorder>,
    },
    /// A full observer: reads only.
    Observer,
}

/// Plays (or watches) one game until `game_over` and the final `game_state`.
async fn game_recipient(
    addr: SocketAddr,
    path: String,
    gate: Gate,
    role: Role,
    key: usize,
    deadline: tokio::time::Instant,
) -> Recipient {
    let mut out = Recipient::default();
    let permit = gate.enter().await;
    let mut ws = match connect_welcomed(addr, &path, SockOpts::default()).await {
        Ok(ws) => ws,
        Err(e) => {
            out.failure = Some(e.to_string());
            return out;
        }
    };
    drop(permit);
    let mut rng = match &role {
        Role::Bot { seed, .. } => StdRng::seed_from_u64(*seed),
        Role::Observer => StdRng::seed_from_u64(0),
    };
    let mut pending: HashMap<String, u64> = HashMap::new();
    let mut deadline = deadline;
    loop {
        let text = match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => {
                if !out.completed {
                    out.failure = Some("timed out before game_over".into());
                }
                break;
            }
            Ok(None) => {
                out.failure = Some("connection ended".into());
                break;
            }
            Ok(Some(Err(e))) => {
                out.failure = Some(e.to_string());
                break;
            }
            Ok(Some(Ok(Message::Close(frame)))) => {
                out.failure = Some(format!("closed by the server: {frame:?}"));
                break;
            }
            Ok(Some(Ok(Message::Text(text)))) => text,
            Ok(Some(Ok(_))) => continue,
        };
        let now = now_ns();
        let Some(l) = light(text.as_str()) else {
            out.errors += 1;
            continue;
        };
        if let Some(seq) = l.seq {
            out.check.see(seq);
            out.last_ns = now;
        }
        match &*l.message_type {
            "action_request" | "action_result" | "error" => {
                let Role::Bot { recorder, .. } = &role else {
                    continue;
                };
                let Ok(frame) = serde_json::from_str::<ServerFrame>(text.as_str()) else {
                    out.errors += 1;
                    continue;
                };
                match frame.message {
                    ServerMessage::ActionRequest(request) => {
                        out.requests += 1;
                        use werewolf_schemas::ActionKind as K;
                        let reply = if request.action == K::Talk {
                            json!({"message_type": "agent_message",
                                   "request_id": request.request_id,
                                   "message_text": "loadgen bot: nothing to report."})
                        } else if request.action == K::Whisper {
                            json!({"message_type": "player_action",
                                   "request_id": request.request_id,
                                   "action": "whisper", "text": "loadgen bot: agreed."})
                        } else if request.action == K::Bid {
                            json!({"message_type": "player_action",
                                   "request_id": request.request_id,
                                   "action": "bid", "bid": rng.random_range(0..=4u8)})
                        } else {
                            json!({"message_type": "player_action",
                                   "request_id": request.request_id,
                                   "action": request.action,
                                   "target": request.candidates.choose(&mut rng).map(|c| &c.player_id)})
                        };
                        pending.insert(request.request_id, now_ns());
                        if let Err(e) = ws.send(Message::text(reply.to_string())).await {
                            out.failure = Some(e.to_string());
                            break;
                        }
                        out.sent += 1;
                    }
                    ServerMessage::ActionResult(result)
                        if result.result == ResultValue::Accepted =>
                    {
                        if let Some(sent) = result.request_id.and_then(|id| pending.remove(&id)) {
                            recorder.record(key, now.saturating_sub(sent) / 1000);
                        }
                    }
                    ServerMessage::Error(error) => {
                        out.errors += 1;
                        if let Some(id) = error.request_id {
                            pending.remove(&id);
                        }
                    }
                    _ => {}
                }
            }
            "game_over" => {
                out.completed = true;
                // The final game_state follows at once; don't wait long for it.
                deadline = deadline.min(tokio::time::Instant::now() + Duration::from_secs(3));
            }
            "game_state" if out.completed => break,
            _ => {}
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), ws.close(None)).await;
    out
}

/// `games`: `games` concurrent games of bots answering at once plus `observers` full
/// observers each. Latency: `player_action` sent → its `action_result: accepted`.
/// `expected` counts the game frames each recipient's gap-free `seq` says it should have.
pub async fn games(target: &Target, opts: &GamesOpts) -> Result<Report, LoadError> {
    let http = Http::new(target);
    let body = json!({"action_timeout_ms": opts.action_timeout_ms});
    let created = create_games(&http, opts.games, &opts.preset, body, opts.seed).await?;
    progress(format!(
        "games: {} {} games created",
        created.len(),
        opts.preset
    ));
    let deadline = tokio::time::Instant::now() + opts.timeout;
    let rss = RssSampler::start(target);

    let watchers: Vec<(String, String)> = created
        .iter()
        .enumerate()
        .flat_map(|(g, game)| {
            (0..opts.observers).map(move |k| {
                (
                    format!(
                        "/ws/lg_obs_{g}_{k}?client_type=observer&game_id={}&token={}",
                        game.game_id, game.observer_token
                    ),
                    game.game_id.clone(),
                )
            })
        })
        .collect();
    // Observers first, so they see every game from its start.
    let observer_handles = spawn_bounded(watchers.len(), opts.concurrency, |i, gate| {
        game_recipient(
            target.ws_addr(i),
            watchers[i].0.clone(),
            gate,
            Role::Observer,
            i,
            deadline,
        )
    });
    wait_connections(&http, watchers.len()).await;

    let recorder = Arc::new(Recorder::new());
    let seats: Vec<String> = created
        .iter()
        .flat_map(|game| {
            game.players.iter().map(move |p| {
                format!(
                    "/ws/{}?client_type=agent&game_id={}&token={}",
                    p.player_id, game.game_id, p.token
                )
            })
        })
        .collect();
    let cpu = CpuMeter::start(target);
    let t0 = now_ns();
    let bot_handles = spawn_bounded(seats.len(), opts.concurrency, |i, gate| {
        let role = Role::Bot {
            seed: opts.seed.wrapping_mul(1_000_003).wrapping_add(i as u64),
            recorder: recorder.clone(),
        };
        game_recipient(target.ws_addr(i), seats[i].clone(), gate, role, i, deadline)
    });
    progress(format!(
        "games: {} bots and {} observers playing",
        seats.len(),
        watchers.len()
    ));
    let bots = join_all(bot_handles).await;
    let observers = join_all(observer_handles).await;
    let peak = rss.stop();

    let seats_per_game = preset_seats(&opts.preset).unwrap_or(1);
    let mut completed_games = 0;
    for g in 0..created.len() {
        let all = bots[g * seats_per_game..(g + 1) * seats_per_game]
            .iter()
            .all(|r| r.as_ref().is_some_and(|r| r.completed));
        if all {
            completed_games += 1;
        }
    }
    let everyone: Vec<Recipient> = bots
        .iter()
        .chain(observers.iter())
        .map(|r| {
            r.clone().unwrap_or_else(|| Recipient {
                failure: Some("task died".into()),
                ..Recipient::default()
            })
        })
        .collect();
    let delivered: u64 = everyone.iter().map(|r| r.check.delivered).sum();
    let missing: u64 = everyone.iter().map(|r| r.check.missing).sum();
    let duplicates: u64 = everyone.iter().map(|r| r.check.duplicates).sum();
    let last = everyone.iter().map(|r| r.last_ns).max().unwrap_or(t0);
    let failures: Vec<&String> = everyone.iter().filter_map(|r| r.failure.as_ref()).collect();
    let incomplete = everyone.iter().filter(|r| !r.completed).count();
    let hist = recorder.merged();

    let mut report = Report::new("games");
    cpu.report(&mut report, "");
    report.clients = everyone.len();
    report.sent = everyone.iter().map(|r| r.sent).sum();
    report.delivered = delivered;
    report.expected = delivered + missing;
    report.delivered_per_s = delivered as f64 / secs(last.saturating_sub(t0).max(1));
    report.latency(&hist);
    report.server_rss_kib = target.server_rss_kib();
    report.per_node(target);
    report.set(
        "latency_of",
        "player_action sent -> its action_result accepted",
    );
    report.set("games", opts.games);
    report.set("games_completed", completed_games);
    report.set("preset", &opts.preset);
    report.set("observers_per_game", opts.observers);
    report.set("duration_s", secs(last.saturating_sub(t0)));
    report.set("requests", everyone.iter().map(|r| r.requests).sum::<u64>());
    report.set(
        "error_frames",
        everyone.iter().map(|r| r.errors).sum::<u64>(),
    );
    report.set("duplicates", duplicates);
    report.set("incomplete_recipients", incomplete);
    report.set("failures", failures.len());
    report.set("first_failure", failures.first());
    report.set(
        "frames_per_recipient",
        delivered as f64 / everyone.len().max(1) as f64,
    );
    report.set("server_rss_peak_kib", peak);
    report.ok = missing == 0
        && duplicates == 0
        && incomplete == 0
        && failures.is_empty()
        && completed_games == opts.games;
    Ok(report)
}

/// Reads one HTTP/1.1 response head; its status code.
async fn read_status(mut stream: TcpStream) -> Option<u16> {
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 512];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = std::str::from_utf8(&buf).ok()?;
    head.split_whitespace().nth(1)?.parse().ok()
}

/// Waits (up to the setup patience) until the hub counts `n` connections.
async fn wait_connections(http: &Http, n: usize) {
    let deadline = Instant::now() + SETUP_PATIENCE;
    while Instant::now() < deadline {
        if http.connections().await.is_some_and(|c| c >= n as u64) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Options of [`burst`].
#[derive(Debug, Clone)]
pub struct BurstOpts {
    /// Games started at once.
    pub games: usize,
    /// Game preset (its agents are recipients).
    pub preset: String,
    /// Full observers per game (recipients too).
    pub observers: usize,
    /// Connects in flight at once.
    pub concurrency: usize,
    /// How long to wait for the last `phase_update`.
    pub timeout: Duration,
}

impl Default for BurstOpts {
    fn default() -> Self {
        BurstOpts {
            games: 1000,
            preset: "aiwolf5".into(),
            observers: 5,
            concurrency: 256,
            timeout: Duration::from_secs(30),
        }
    }
}

impl BurstOpts {
    /// A few games, for CI.
    pub fn smoke() -> Self {
        BurstOpts {
            games: 10,
            ..BurstOpts::default()
        }
    }
}

/// What one burst recipient saw.
#[derive(Debug, Clone, Default)]
struct BurstSeen {
    /// When its first `phase_update` arrived ([`now_ns`]).
    phase_ns: Option<u64>,
    /// How long after the server produced that `phase_update` it arrived, in µs (wall
    /// clocks of the same machine: the frame's `timestamp` against the receipt time).
    lag_after_change_us: Option<u64>,
    /// Why it stopped early.
    failure: Option<String>,
}

/// Connects, reports ready once attached (first `game_state`), records the first
/// `phase_update`, then idles until stopped.
async fn burst_recipient(
    addr: SocketAddr,
    path: String,
    gate: Gate,
    ready: tokio::sync::mpsc::UnboundedSender<Result<(), String>>,
    got: Arc<AtomicUsize>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) -> BurstSeen {
    let mut seen = BurstSeen::default();
    let permit = gate.enter().await;
    let mut ws = match connect_welcomed(addr, &path, SockOpts::default()).await {
        Ok(ws) => ws,
        Err(e) => {
            let _ = ready.send(Err(e.to_string()));
            seen.failure = Some(e.to_string());
            return seen;
        }
    };
    drop(permit);
    let mut attached = false;
    loop {
        let message = tokio::select! {
            biased;
            _ = &mut stop => break,
            m = ws.next() => m,
        };
        let text = match message {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Close(frame))) => {
                seen.failure = Some(format!("closed by the server: {frame:?}"));
                break;
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => {
                seen.failure = Some(e.to_string());
                break;
            }
            None => {
                seen.failure = Some("connection ended".into());
                break;
            }
        };
        let now = now_ns();
        let Some(l) = light(text.as_str()) else {
            continue;
        };
        if !attached && l.message_type == "game_state" {
            attached = true;
            let _ = ready.send(Ok(()));
        } else if seen.phase_ns.is_none() && l.message_type == "phase_update" {
            seen.phase_ns = Some(now);
            if let Some(ts) = l.timestamp {
                let lag_s = (epoch_s() - ts).max(0.0);
                seen.lag_after_change_us = Some((lag_s * 1e6) as u64);
            }
            got.fetch_add(1, Ordering::Relaxed);
        }
    }
    if !attached {
        let _ = ready.send(Err(seen
            .failure
            .clone()
            .unwrap_or_else(|| "stopped before attaching".into())));
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), ws.close(None)).await;
    seen
}

/// `burst`: `games` games (not auto-started), every recipient connected and attached, then
/// `POST /games/{id}/start` for all at once. Latency: burst start → each recipient's first
/// `phase_update`; `last_delivery_ms` is the slowest.
pub async fn burst(target: &Target, opts: &BurstOpts) -> Result<Report, LoadError> {
    let addr = target.addr;
    let http = Http::new(target);
    let body = json!({"action_timeout_ms": 600_000, "auto_start": false});
    let created = create_games(&http, opts.games, &opts.preset, body, 7).await?;
    progress(format!("burst: {} games created", created.len()));
    let mut paths = Vec::new();
    for (g, game) in created.iter().enumerate() {
        for p in &game.players {
            paths.push(format!(
                "/ws/{}?client_type=agent&game_id={}&token={}",
                p.player_id, game.game_id, p.token
            ));
        }
        for k in 0..opts.observers {
            paths.push(format!(
                "/ws/lg_obs_{g}_{k}?client_type=observer&game_id={}&token={}",
                game.game_id, game.observer_token
            ));
        }
    }
    let n = paths.len();
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::unbounded_channel();
    let got = Arc::new(AtomicUsize::new(0));
    let mut stops = Vec::with_capacity(n);
    let mut stop_rxs = Vec::with_capacity(n);
    for _ in 0..n {
        let (tx, rx) = tokio::sync::oneshot::channel();
        stops.push(tx);
        stop_rxs.push(Mutex::new(Some(rx)));
    }
    let stop_rxs = Arc::new(stop_rxs);
    let t_connect = Instant::now();
    let handles = spawn_bounded(n, opts.concurrency, |i, gate| {
        burst_recipient(
            target.ws_addr(i),
            paths[i].clone(),
            gate,
            ready_tx.clone(),
            got.clone(),
            take_stop(&stop_rxs, i),
        )
    });
    wait_ready(&mut ready_rx, n, "burst recipients").await?;
    let connect_ms = t_connect.elapsed().as_secs_f64() * 1e3;
    progress(format!(
        "burst: {n} recipients attached in {connect_ms:.0} ms"
    ));

    // One open HTTP/1.1 connection per game with its `POST /start` preformatted, so the
    // burst costs the load generator one write each, not a client request pipeline.
    let mut conns = Vec::with_capacity(created.len());
    for game in &created {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let auth = target
            .admin_token
            .as_ref()
            .map(|t| format!("authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        let request = format!(
            "POST /games/{}/start HTTP/1.1\r\nhost: {addr}\r\n{auth}content-type: application/json\r\ncontent-length: 2\r\n\r\n{{}}",
            game.game_id
        );
        conns.push((stream, request));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let rss_before = target.server_rss_kib();
    let rss = RssSampler::start(target);

    let cpu = CpuMeter::start(target);
    let t0 = now_ns();
    let mut write_failures = 0;
    for (stream, request) in &mut conns {
        if stream.write_all(request.as_bytes()).await.is_err() {
            write_failures += 1;
        }
    }
    let written = now_ns();
    let starts: Vec<JoinHandle<(bool, u64)>> = conns
        .into_iter()
        .map(|(stream, _)| {
            tokio::spawn(async move {
                let ok = tokio::time::timeout(SETUP_PATIENCE, read_status(stream))
                    .await
                    .ok()
                    .flatten()
                    .is_some_and(|status| (200..300).contains(&status));
                (ok, now_ns())
            })
        })
        .collect();
    let deadline = Instant::now() + opts.timeout;
    while got.load(Ordering::Relaxed) < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let mut report = Report::new("burst");
    cpu.report(&mut report, "");
    let mut start_failures = write_failures;
    let mut starts_done = t0;
    for s in join_all(starts).await {
        match s {
            Some((true, done)) => starts_done = starts_done.max(done),
            _ => start_failures += 1,
        }
    }
    let peak = rss.stop();
    let rss_after = target.server_rss_kib();
    for stop in stops {
        let _ = stop.send(());
    }
    let seen = join_all(handles).await;
    let mut hist = new_histogram();
    let mut after_change = new_histogram();
    let mut last = 0u64;
    let mut delivered = 0u64;
    for s in seen.iter().flatten() {
        if let Some(lag) = s.lag_after_change_us {
            after_change.saturating_record(lag.max(1));
        }
        if let Some(at) = s.phase_ns {
            let lat = at.saturating_sub(t0);
            last = last.max(lat);
            delivered += 1;
            hist.saturating_record((lat / 1000).max(1));
        }
    }
    let failures: Vec<&String> = seen
        .iter()
        .flatten()
        .filter_map(|s| s.failure.as_ref())
        .collect();

    report.clients = n;
    report.sent = created.len() as u64;
    report.delivered = delivered;
    report.expected = n as u64;
    report.delivered_per_s = delivered as f64 / secs(last.max(1));
    report.latency(&hist);
    report.server_rss_kib = rss_after;
    report.per_node(target);
    report.set(
        "latency_of",
        "burst start -> first phase_update at each recipient",
    );
    report.set("games", opts.games);
    report.set("recipients_per_game", n / created.len().max(1));
    report.set("last_delivery_ms", last as f64 / 1e6);
    report.set(
        "after_change_p50_ms",
        after_change.value_at_quantile(0.5) as f64 / 1e3,
    );
    report.set(
        "after_change_p99_ms",
        after_change.value_at_quantile(0.99) as f64 / 1e3,
    );
    report.set("after_change_max_ms", after_change.max() as f64 / 1e3);
    report.set("starts_written_ms", written.saturating_sub(t0) as f64 / 1e6);
    report.set(
        "starts_done_ms",
        starts_done.saturating_sub(t0) as f64 / 1e6,
    );
    report.set("start_failures", start_failures);
    report.set("connect_ms", connect_ms);
    report.set("failures", failures.len());
    report.set("first_failure", failures.first());
    report.set("rss_before_kib", rss_before);
    report.set("server_rss_peak_kib", peak);
    report.ok = delivered == n as u64 && start_failures == 0;
    Ok(report)
}

// ---- connect -------------------------------------------------------------------------------

/// Options of [`connect`].
#[derive(Debug, Clone)]
pub struct ConnectOpts {
    /// ui clients to connect.
    pub clients: usize,
    /// Connects in flight at once.
    pub concurrency: usize,
    /// Pause after the last connect before reading RSS.
    pub settle: Duration,
    /// How long to wait for the hub to count zero connections after closing.
    pub close_timeout: Duration,
}

impl Default for ConnectOpts {
    fn default() -> Self {
        ConnectOpts {
            clients: 10_000,
            concurrency: 256,
            settle: Duration::from_secs(1),
            close_timeout: Duration::from_secs(30),
        }
    }
}

impl ConnectOpts {
    /// A few hundred clients, for CI.
    pub fn smoke() -> Self {
        ConnectOpts {
            clients: 200,
            concurrency: 64,
            settle: Duration::from_millis(100),
            close_timeout: Duration::from_secs(20),
        }
    }
}

/// `connect`: `clients` idle ui clients connect (at most `concurrency` handshakes at once).
/// Latency: TCP connect → `connection` welcome, per client. Reports the server's RSS per
/// idle connection and how long the hub takes to see them all gone after they close.
pub async fn connect(target: &Target, opts: &ConnectOpts) -> Result<Report, LoadError> {
    let http = Http::new(target);
    let rss_before = target.server_rss_kib();
    let sock = SockOpts {
        read_buffer: 4096,
        recv_buffer: None,
    };
    let cpu = CpuMeter::start(target);
    let t0 = now_ns();
    let handles = spawn_bounded(opts.clients, opts.concurrency, |i, gate| {
        let addr = target.ws_addr(i);
        async move {
            let _permit = gate.enter().await;
            let start = now_ns();
            let ws = connect_welcomed(addr, &format!("/ws/lg_idle_{i}?client_type=ui"), sock).await;
            let done = now_ns();
            (ws, done - start, done)
        }
    });
    let results = join_all(handles).await;
    let mut hist = new_histogram();
    let mut sockets = Vec::with_capacity(opts.clients);
    let mut failures = 0u64;
    let mut first_failure = None;
    let mut last = t0;
    for r in results {
        match r {
            Some((Ok(ws), took, done)) => {
                hist.saturating_record((took / 1000).max(1));
                last = last.max(done);
                sockets.push(ws);
            }
            Some((Err(e), _, _)) => {
                failures += 1;
                first_failure.get_or_insert(e.to_string());
            }
            None => failures += 1,
        }
    }
    let connect_all_ns = last - t0;
    let mut report = Report::new("connect");
    cpu.report(&mut report, "");
    progress(format!(
        "connect: {} clients in {:.0} ms",
        sockets.len(),
        connect_all_ns as f64 / 1e6
    ));
    tokio::time::sleep(opts.settle).await;
    let rss_after = target.server_rss_kib();
    let server_count = http.connections().await;

    let connected = sockets.len();
    let t_close = Instant::now();
    let closers: Vec<JoinHandle<()>> = sockets
        .into_iter()
        .map(|mut ws| {
            tokio::spawn(async move {
                let _ = tokio::time::timeout(Duration::from_secs(1), ws.close(None)).await;
            })
        })
        .collect();
    join_all(closers).await;
    let mut close_all_ms = None;
    let deadline = t_close + opts.close_timeout;
    let mut left = None;
    while Instant::now() < deadline {
        left = http.connections().await;
        if left == Some(0) {
            close_all_ms = Some(t_close.elapsed().as_secs_f64() * 1e3);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    report.clients = opts.clients;
    report.sent = opts.clients as u64;
    report.delivered = connected as u64;
    report.expected = opts.clients as u64;
    report.delivered_per_s = connected as f64 / secs(connect_all_ns.max(1));
    report.latency(&hist);
    report.server_rss_kib = rss_after;
    report.per_node(target);
    report.set(
        "latency_of",
        "tcp connect -> connection welcome, per client",
    );
    report.set("connect_all_ms", connect_all_ns as f64 / 1e6);
    report.set("concurrency", opts.concurrency);
    report.set("rss_before_kib", rss_before);
    report.set("rss_after_kib", rss_after);
    report.set(
        "rss_per_conn_kib",
        rss_before
            .zip(rss_after)
            .filter(|_| connected > 0)
            .map(|(b, a)| (a as f64 - b as f64) / connected as f64),
    );
    report.set("server_connections", server_count);
    report.set("close_all_ms", close_all_ms);
    report.set(
        "connections_left",
        if close_all_ms.is_some() {
            Some(0)
        } else {
            left
        },
    );
    report.set("failures", failures);
    report.set("first_failure", first_failure);
    report.ok = connected == opts.clients && server_count.is_none_or(|c| c >= connected as u64);
    Ok(report)
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit; returns the new (soft, hard).
pub fn raise_nofile() -> Option<(libc::rlim_t, libc::rlim_t)> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return None;
        }
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max;
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return None;
            }
        }
    }
    Some((limit.rlim_cur, limit.rlim_max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_is_found_in_a_relayed_frame() {
        let frame = r#"{"message_type":"agent_message","agent_id":"lg_agent_1","agent_name":"lg_agent_1","message_text":"lg:1:3:42:123456789","channel":"public","client_id":"lg_agent_1","timestamp":1.5}"#;
        assert_eq!(
            parse_marker(frame),
            Some(Marker {
                phase: 1,
                agent: 3,
                seq: 42,
                sent_ns: 123_456_789
            })
        );
        for bad in [
            r#"{"message_type":"disconnection","client_id":"lg_ui_1"}"#,
            r#"{"message_text":"lg:1:3:42"}"#,
            r#"{"message_text":"lg:1:x:42:7"}"#,
            r#"{"message_text":"lg:1:2:3:99999999999999999999999"}"#,
            r#"{"message_text":"lg:"#,
        ] {
            assert_eq!(parse_marker(bad), None, "{bad}");
        }
    }

    #[test]
    fn stream_check_counts_gaps_and_duplicates() {
        let mut c = StreamCheck::default();
        for seq in [4, 5, 7, 7, 8] {
            c.see(seq);
        }
        assert_eq!((c.delivered, c.missing, c.duplicates), (4, 1, 1));
    }
}
