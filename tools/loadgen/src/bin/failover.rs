//! Failover time of a clustered hub: how long a game's clients wait when its node dies.
//!
//! Starts `redis-server` on a free port in a temporary directory (append-only file fsynced
//! every second, no snapshots) and two hub nodes over it, A and B (`HUB_REDIS_URL`,
//! `HUB_REDIS_LEASE_MS` = `--lease-ms`). Each run:
//! 1. `POST /games` on A: a game of the hub's built-in bots (every seat, `--bot-delay-ms`
//!    per answer), so it runs on A for a while by itself;
//! 2. a full observer (the observer token) connects through B, which relays it to A, and
//!    reads until it has `--frames-before-kill` stream frames, then for a while longer: run
//!    `i` of `n` waits `i/n` of `--spread-ms` (default a third of the lease, the period at
//!    which a node renews its leases), so the kills land at different points of the renewal
//!    cycle instead of always just after the lease was taken;
//! 3. A is SIGKILLed; the clock starts. B closes the observer (1012, "service restart"); the
//!    observer reconnects through B with `last_seq` every 50 ms while B refuses (503 while A's
//!    lease runs; any refusal is counted by status);
//! 4. **failover time** = kill → the first frame with a `seq` above the last one received
//!    before the kill, i.e. the first frame from the new owner (which is the game's next
//!    event: with nothing left to replay, a bot's answer `--bot-delay-ms` after the takeover;
//!    `reconnected_after_ms`, kill → resuming upgrade accepted, is printed too). It is about
//!    the lease's remaining life at the kill: between two thirds of `--lease-ms` and all of
//!    it (a node renews its leases every third of the lease). The observer then reads to
//!    the game's end, and its stream is checked gap-free across the kill (every `seq` once,
//!    in order, no snapshot standing in for missing frames);
//! 5. a fresh node A is started for the next run (B, which now runs the game, stays).
//!
//! Prints one JSON line: every run's figures, the median, the lease; exit code 0 when every
//! run resumed with a gap-free stream, 1 when not, 2 when it could not run. Every child (the
//! hubs and Redis) is killed on the way out, also after an error.
//!
//! ```text
//! cargo build --release -p werewolf-loadgen && cargo build --release --bin werewolf-hub
//! target/release/failover --lease-ms 5000 --runs 5
//! target/release/failover --lease-ms 1500 --runs 5
//! ```

use clap::Parser;
use futures_util::StreamExt;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::{self, Message};
use werewolf_loadgen::process::{HubProcess, RedisProcess, TempDir, hub_bin};
use werewolf_loadgen::{LoadError, SockOpts, Ws, ws_connect};

/// Time a game's move to another hub node after its node is SIGKILLed; prints one JSON line.
#[derive(Debug, Parser)]
#[command(about)]
struct Args {
    /// The hub binary (default: `werewolf-hub` next to this executable, else
    /// `target/release/werewolf-hub`).
    #[arg(long)]
    hub_bin: Option<PathBuf>,
    /// The Redis server binary.
    #[arg(long, default_value = "redis-server")]
    redis_bin: PathBuf,
    /// The nodes' lease on a game, ms (`HUB_REDIS_LEASE_MS`).
    #[arg(long, default_value_t = 5000)]
    lease_ms: u64,
    /// Kills (runs) to time.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Game preset (every seat a built-in bot).
    #[arg(long, default_value = "classic9")]
    preset: String,
    /// How long a bot waits before answering, ms.
    #[arg(long, default_value_t = 100)]
    bot_delay_ms: u64,
    /// Stream frames the observer must have received before the kill.
    #[arg(long, default_value_t = 20)]
    frames_before_kill: u64,
    /// The kills are spread over this many ms (run `i` of `n` waits `i/n` of it after
    /// `--frames-before-kill`); default: a third of the lease (its renewal period).
    #[arg(long)]
    spread_ms: Option<u64>,
    /// Seconds one run (its game to the end) may take before it fails.
    #[arg(long, default_value_t = 120.0)]
    timeout: f64,
    /// Base seed of the games (run `i` plays seed + i).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Forward the hubs' stderr to ours.
    #[arg(long)]
    hub_log: bool,
}

/// Pause between reconnects while the dead node's game has no new owner.
const RETRY: Duration = Duration::from_millis(50);

/// One timed kill.
#[derive(Debug, Default, Serialize)]
struct Run {
    /// Which run (from 0).
    run: usize,
    /// The game.
    game_id: String,
    /// How long after `--frames-before-kill` the node was killed, ms.
    kill_offset_ms: u64,
    /// SIGKILL of the game's node → first frame from the new owner, ms.
    failover_ms: f64,
    /// SIGKILL → the observer's socket closed by the relaying node, ms.
    closed_after_ms: Option<f64>,
    /// The close code the relaying node sent (1012 expected; null: no close frame).
    close_code: Option<u16>,
    /// SIGKILL → the resuming upgrade accepted, ms.
    reconnected_after_ms: f64,
    /// Reconnects tried until one was accepted (the accepted one included).
    attempts: u64,
    /// Refusals while reconnecting, by HTTP status (`io`: no HTTP answer).
    refusals: BTreeMap<String, u64>,
    /// The first refusal's body, by HTTP status.
    refusal_bodies: BTreeMap<String, String>,
    /// The `connection` frame's `recovered` on the resumed socket.
    recovered: Option<bool>,
    /// The last `seq` received before the socket closed.
    last_seq_before: u64,
    /// The first `seq` received after the resume.
    first_seq_after: u64,
    /// Stream frames received before / after the kill.
    frames_before: u64,
    /// Stream frames received after the resume, to the game's end.
    frames_after: u64,
    /// Whether the observer saw `game_over`.
    completed: bool,
    /// `seq` numbers skipped (across the kill included).
    missing: u64,
    /// Frames whose `seq` did not move forward.
    duplicates: u64,
    /// Snapshots (`game_state`) whose `seq` was past the last frame: a gap filled by state.
    snapshot_gaps: u64,
    /// Every check held: resumed, completed, gap-free.
    gap_free: bool,
}

/// The observer's view of its stream, across reconnects.
#[derive(Debug, Default)]
struct Stream {
    /// Last `seq` received (`None` before the first snapshot).
    last: Option<u64>,
    /// Stream frames received.
    frames: u64,
    /// `seq` numbers skipped.
    missing: u64,
    /// Frames whose `seq` did not move forward.
    duplicates: u64,
    /// Snapshots past the last `seq`.
    snapshot_gaps: u64,
    /// `game_over` seen.
    over: bool,
}

impl Stream {
    /// Takes one frame; its `seq` if it was a stream frame (not a snapshot).
    fn see(&mut self, frame: &Value) -> Option<u64> {
        let seq = frame["seq"].as_u64()?;
        let kind = frame["message_type"].as_str().unwrap_or("");
        // A snapshot carries the last seq it covers and consumes no number: the first frame of
        // a fresh connection, or (after a resume) a fallback when the log cannot fill a gap.
        if kind == "game_state" && self.last.is_none_or(|l| seq != l + 1) {
            if let Some(l) = self.last
                && seq != l
            {
                self.snapshot_gaps += 1;
            }
            self.last = Some(seq);
            return None;
        }
        match self.last {
            Some(l) if seq <= l => {
                self.duplicates += 1;
                return None;
            }
            Some(l) => self.missing += seq - l - 1,
            None => {}
        }
        self.last = Some(seq);
        self.frames += 1;
        if kind == "game_over" {
            self.over = true;
        }
        Some(seq)
    }
}

fn progress(msg: impl AsRef<str>) {
    eprintln!("[failover] {}", msg.as_ref());
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e5).round() / 100.0
}

/// Median of a non-empty list.
fn median(values: &[f64]) -> Option<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    // One thread: the children's death signal follows the thread that started them.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("[failover] cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let outcome = runtime.block_on(bench(&args));
    match outcome {
        Ok(line) => {
            let ok = line["ok"].as_bool().unwrap_or(false);
            println!("{line}");
            if ok {
                ExitCode::SUCCESS
            } else {
                eprintln!("[failover] NOT OK (see the report)");
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("[failover] failed: {e}");
            ExitCode::from(2)
        }
    }
}

/// The cluster under test: Redis and the two nodes (killed when dropped).
struct Cluster {
    /// The hub binary.
    bin: PathBuf,
    /// Every node's environment.
    env: Vec<(String, String)>,
    /// Node A, whose games are killed (none between a kill and the next start).
    a: Option<HubProcess>,
    /// Node B, through which the observer connects.
    b: HubProcess,
    /// Nodes started so far (for labels).
    started: usize,
    /// Forward the hubs' stderr.
    log: bool,
    /// Held for the nodes' lifetime (dropped after them: fields drop in order).
    _redis: RedisProcess,
    /// Redis's and the nodes' files.
    _dir: TempDir,
}

impl Cluster {
    fn start(args: &Args) -> Result<Cluster, LoadError> {
        let dir = TempDir::new("failover")?;
        let redis = RedisProcess::start(&args.redis_bin, dir.path())
            .map_err(|e| LoadError::Setup(format!("`{}`: {e}", args.redis_bin.display())))?;
        progress(format!("redis-server on {}", redis.url()));
        let env: Vec<(String, String)> = vec![
            ("RUST_LOG".into(), "warn".into()),
            ("HUB_REDIS_URL".into(), redis.url()),
            ("HUB_REDIS_PREFIX".into(), "failover".into()),
            ("HUB_REDIS_LEASE_MS".into(), args.lease_ms.to_string()),
            (
                "HUB_DATA_DIR".into(),
                dir.path().join("data").display().to_string(),
            ),
        ];
        let bin = hub_bin(args.hub_bin.as_deref());
        let spawn = |label: &str| {
            HubProcess::spawn(&bin, &env, label, args.hub_log).map_err(|e| {
                LoadError::Setup(format!(
                    "cannot spawn the hub `{}`: {e} (build it with `cargo build --release \
                     --bin werewolf-hub`, or pass --hub-bin)",
                    bin.display()
                ))
            })
        };
        let b = spawn("hub B")?;
        let a = spawn("hub A0")?;
        progress(format!("node B on {}, node A on {}", b.addr, a.addr));
        Ok(Cluster {
            bin: bin.clone(),
            env,
            a: Some(a),
            b,
            started: 1,
            log: args.hub_log,
            _redis: redis,
            _dir: dir,
        })
    }

    /// Node A, started afresh if the last run killed it; returns once B lists it among the
    /// live nodes (B learns of a new node at its next beat, within a second: before that it
    /// cannot relay to it).
    async fn node_a(&mut self, http: &reqwest::Client) -> Result<SocketAddr, LoadError> {
        if self.a.is_none() {
            let label = format!("hub A{}", self.started);
            let hub = HubProcess::spawn(&self.bin, &self.env, &label, self.log)
                .map_err(|e| LoadError::Setup(format!("cannot restart node A: {e}")))?;
            progress(format!("fresh node A on {}", hub.addr));
            self.started += 1;
            self.a = Some(hub);
        }
        let a = self.a.as_ref().expect("just set").addr;
        let url = format!("http://{a}");
        let start = Instant::now();
        loop {
            let stats: Value = http
                .get(format!("http://{}/stats", self.b.addr))
                .send()
                .await?
                .json()
                .await?;
            let listed = stats["cluster"]["nodes"]
                .as_array()
                .is_some_and(|nodes| nodes.iter().any(|n| n["url"] == url.as_str()));
            if listed {
                return Ok(a);
            }
            if start.elapsed() > Duration::from_secs(10) {
                return Err(LoadError::Setup(format!(
                    "node B does not list node A ({url}) after 10 s: {stats}"
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Every run, then the summary line.
async fn bench(args: &Args) -> Result<Value, LoadError> {
    let mut cluster = Cluster::start(args)?;
    let http = reqwest::Client::new();
    let mut runs = Vec::with_capacity(args.runs);
    for run in 0..args.runs {
        let figures = one_run(args, &mut cluster, &http, run).await?;
        progress(format!(
            "run {run}: failover {:.0} ms (closed {:?} after {:?} ms, {} attempts {:?}), gap-free {}",
            figures.failover_ms,
            figures.close_code,
            figures.closed_after_ms,
            figures.attempts,
            figures.refusals,
            figures.gap_free
        ));
        runs.push(figures);
    }
    let times: Vec<f64> = runs.iter().map(|r| r.failover_ms).collect();
    let all_gap_free = runs.iter().all(|r| r.gap_free);
    let all_1012 = runs.iter().all(|r| r.close_code == Some(1012));
    let line = json!({
        "bench": "failover",
        "lease_ms": args.lease_ms,
        "runs": args.runs,
        "preset": args.preset,
        "bot_delay_ms": args.bot_delay_ms,
        "spread_ms": spread_ms(args),
        "kill_offset_ms": runs.iter().map(|r| r.kill_offset_ms).collect::<Vec<_>>(),
        "failover_ms": times,
        "median_ms": median(&times),
        "min_ms": times.iter().copied().reduce(f64::min),
        "max_ms": times.iter().copied().reduce(f64::max),
        "median_reconnected_after_ms": median(&runs.iter().map(|r| r.reconnected_after_ms).collect::<Vec<_>>()),
        "all_closed_1012": all_1012,
        "gap_free": all_gap_free,
        "ok": all_gap_free && runs.len() == args.runs,
        "detail": runs,
    });
    Ok(line)
}

/// One game, one kill.
async fn one_run(
    args: &Args,
    cluster: &mut Cluster,
    http: &reqwest::Client,
    run: usize,
) -> Result<Run, LoadError> {
    let deadline = Instant::now() + Duration::from_secs_f64(args.timeout.max(1.0));
    let a_addr = cluster.node_a(http).await?;
    let b_addr = cluster.b.addr;
    let body = json!({
        "preset": args.preset,
        "bot_seats": (1..=seats(&args.preset)?).collect::<Vec<u64>>(),
        "bot_delay_ms": args.bot_delay_ms,
        "seed": args.seed.wrapping_add(run as u64),
    });
    let response = http
        .post(format!("http://{a_addr}/games"))
        .json(&body)
        .send()
        .await?;
    let status = response.status();
    let text = response.text().await?;
    if !status.is_success() {
        return Err(LoadError::Setup(format!(
            "POST /games on A: {status}: {text}"
        )));
    }
    let created: Value = serde_json::from_str(&text)
        .map_err(|e| LoadError::Setup(format!("POST /games answer: {e}")))?;
    let game_id = created["game_id"].as_str().unwrap_or_default().to_owned();
    let token = created["observer_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut out = Run {
        run,
        game_id: game_id.clone(),
        kill_offset_ms: spread_ms(args) * run as u64 / args.runs.max(1) as u64,
        ..Run::default()
    };
    let path =
        format!("/ws/lg_failover_{run}?client_type=observer&game_id={game_id}&token={token}");

    // Before the kill: through B (relayed to A), until enough stream frames.
    let mut stream = Stream::default();
    let mut ws = ws_connect(b_addr, &path, SockOpts::default()).await?;
    while stream.frames < args.frames_before_kill {
        match next_frame(&mut ws, deadline).await? {
            Event::Frame(v) => {
                stream.see(&v);
                if stream.over {
                    return Err(LoadError::Setup(format!(
                        "game {game_id} ended before the kill: raise --bot-delay-ms"
                    )));
                }
            }
            Event::Closed(code) => {
                return Err(LoadError::Setup(format!(
                    "the observer was closed ({code:?}) before the kill"
                )));
            }
        }
    }

    // Read on until this run's point in the renewal cycle.
    let kill_at = Instant::now() + Duration::from_millis(out.kill_offset_ms);
    while let Ok(event) =
        tokio::time::timeout_at(kill_at.into(), next_frame(&mut ws, deadline)).await
    {
        match event? {
            Event::Frame(v) => {
                stream.see(&v);
                if stream.over {
                    return Err(LoadError::Setup(format!(
                        "game {game_id} ended before the kill: raise --bot-delay-ms"
                    )));
                }
            }
            Event::Closed(code) => {
                return Err(LoadError::Setup(format!(
                    "the observer was closed ({code:?}) before the kill"
                )));
            }
        }
    }

    // The kill.
    let killed = Instant::now();
    if let Some(mut a) = cluster.a.take() {
        a.kill9()?;
    }
    // Frames already on their way still arrive; then B closes the socket.
    loop {
        match next_frame(&mut ws, deadline).await? {
            Event::Frame(v) => {
                stream.see(&v);
            }
            Event::Closed(code) => {
                out.close_code = code;
                out.closed_after_ms = Some(ms(killed.elapsed()));
                break;
            }
        }
    }
    drop(ws);
    out.frames_before = stream.frames;
    let last = stream.last.unwrap_or(0);
    out.last_seq_before = last;

    // Resume through B with last_seq, until a node runs the game again.
    let mut first_after: Option<Instant> = None;
    let frames_at_kill = stream.frames;
    'resume: loop {
        let resume = format!("{path}&last_seq={}", stream.last.unwrap_or(0));
        let mut ws = loop {
            if Instant::now() > deadline {
                return Err(LoadError::Setup(format!(
                    "no node took game {game_id} over within {}s",
                    args.timeout
                )));
            }
            out.attempts += 1;
            match ws_connect(b_addr, &resume, SockOpts::default()).await {
                Ok(ws) => break ws,
                Err(LoadError::Ws(tungstenite::Error::Http(answer))) => {
                    let status = answer.status().as_u16().to_string();
                    *out.refusals.entry(status.clone()).or_default() += 1;
                    out.refusal_bodies.entry(status).or_insert_with(|| {
                        String::from_utf8_lossy(answer.body().as_deref().unwrap_or_default())
                            .into_owned()
                    });
                }
                Err(_) => *out.refusals.entry("io".into()).or_default() += 1,
            }
            tokio::time::sleep(RETRY).await;
        };
        if out.reconnected_after_ms == 0.0 {
            out.reconnected_after_ms = ms(killed.elapsed());
        }
        loop {
            match next_frame(&mut ws, deadline).await? {
                Event::Frame(v) => {
                    if v["message_type"] == "connection" && out.recovered.is_none() {
                        out.recovered = v["data"]["recovered"].as_bool();
                    }
                    if let Some(seq) = stream.see(&v)
                        && seq > last
                        && first_after.is_none()
                    {
                        first_after = Some(Instant::now());
                        out.first_seq_after = seq;
                    }
                    if stream.over {
                        break 'resume;
                    }
                }
                // Closed again (the new owner went away too?): resume once more.
                Event::Closed(code) => {
                    progress(format!("run {run}: resumed socket closed again ({code:?})"));
                    continue 'resume;
                }
            }
        }
    }
    let first_after = first_after.ok_or_else(|| {
        LoadError::Setup(format!(
            "game {game_id} ended without a frame after the kill"
        ))
    })?;
    out.failover_ms = ms(first_after.duration_since(killed));
    out.frames_after = stream.frames - frames_at_kill;
    out.completed = stream.over;
    out.missing = stream.missing;
    out.duplicates = stream.duplicates;
    out.snapshot_gaps = stream.snapshot_gaps;
    out.gap_free = out.completed
        && out.missing == 0
        && out.duplicates == 0
        && out.snapshot_gaps == 0
        && out.first_seq_after == last + 1;
    Ok(out)
}

/// The kills' spread, ms: `--spread-ms`, else a third of the lease.
fn spread_ms(args: &Args) -> u64 {
    args.spread_ms.unwrap_or(args.lease_ms / 3)
}

/// Seats of a preset.
fn seats(preset: &str) -> Result<u64, LoadError> {
    match preset {
        "aiwolf5" => Ok(5),
        "arena8" => Ok(8),
        "classic9" => Ok(9),
        "aiwolf13" => Ok(13),
        _ => Err(LoadError::Setup(format!("unknown preset `{preset}`"))),
    }
}

/// What the observer's socket gave.
enum Event {
    /// A JSON text frame.
    Frame(Value),
    /// The socket ended: the close code, if a close frame came.
    Closed(Option<u16>),
}

/// The next text frame or the socket's end.
async fn next_frame(ws: &mut Ws, deadline: Instant) -> Result<Event, LoadError> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let message = tokio::time::timeout(left, ws.next())
            .await
            .map_err(|_| LoadError::Setup("the run timed out (see --timeout)".into()))?;
        match message {
            Some(Ok(Message::Text(t))) => {
                if let Ok(v) = serde_json::from_str(t.as_str()) {
                    return Ok(Event::Frame(v));
                }
            }
            Some(Ok(Message::Close(frame))) => {
                return Ok(Event::Closed(frame.map(|f| u16::from(f.code))));
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return Ok(Event::Closed(None)),
        }
    }
}
