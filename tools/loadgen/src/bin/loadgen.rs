//! Load generator for werewolf-hub: one scenario per run, one JSON line on stdout.
//!
//! By default it spawns the hub binary itself (`WS_HOST=127.0.0.1 WS_PORT=0`, the address
//! read from the hub's `werewolf-hub listening on ADDR` line) so it knows the PID and can
//! read the server's RSS; `--url` targets a running hub instead (RSS from `--server-pid`).
//! The scenarios live in the `werewolf_loadgen` library; this file parses flags, raises
//! `RLIMIT_NOFILE` (the spawned hub inherits it) and runs one of them. The hub binary is
//! `--hub-bin`, by default `werewolf-hub` next to this executable (both are built into the
//! same `target/release/`), else `target/release/werewolf-hub` under the current directory.
//!
//! ```text
//! cargo build --release --bin werewolf-hub -p werewolf-loadgen
//! target/release/loadgen --scenario relay --clients 1000 --agents 4 --rate 400
//! target/release/loadgen --scenario relay --clients 1000 --agents 4 --rate 100
//! target/release/loadgen --scenario games --games 100 --observers 2
//! target/release/loadgen --scenario burst --games 1000 --preset aiwolf5 --observers 5
//! target/release/loadgen --scenario connect --clients 10000
//! target/release/loadgen --scenario slow --clients 1000 --rate 100 --slow-pct 5
//! target/release/loadgen --scenario relay --smoke      # any scenario, ~1 s
//! ```
//!
//! Exit code: 0 when the report's `ok` holds (every expected frame delivered), 1 when not,
//! 2 when the scenario could not run.

use clap::{Parser, ValueEnum};
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};
use werewolf_loadgen::{
    self as loadgen, BurstOpts, ConnectOpts, GamesOpts, RelayOpts, Report, SlowOpts, Target,
    raise_nofile,
};

/// Which scenario to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// ui clients receive the lobby relay of agents sending at a fixed rate.
    Relay,
    /// Concurrent games of bots answering at once, plus full observers.
    Games,
    /// Many games started at the same instant: time to the last `phase_update`.
    Burst,
    /// Many idle clients connect: time to connect all, server RSS per connection.
    Connect,
    /// Relay with a share of clients that stop reading: healthy p99 against a baseline.
    Slow,
}

/// Load generator for werewolf-hub; prints one JSON line.
#[derive(Debug, Parser)]
#[command(about)]
struct Args {
    /// The scenario.
    #[arg(long, value_enum)]
    scenario: Scenario,
    /// A tiny preset of the scenario (a few seconds), for CI; explicit flags still apply.
    #[arg(long)]
    smoke: bool,
    /// Target a running hub (`http://host:port`, `ws://host:port` or `host:port`) instead of
    /// spawning one.
    #[arg(long)]
    url: Option<String>,
    /// With `--url`: the hub's PID, to read its RSS.
    #[arg(long)]
    server_pid: Option<u32>,
    /// The hub binary to spawn (default: `werewolf-hub` next to this executable, else
    /// `target/release/werewolf-hub`).
    #[arg(long)]
    hub_bin: Option<PathBuf>,
    /// Extra environment for the spawned hub, `KEY=VALUE` (repeatable; overrides the
    /// loadgen's defaults `RUST_LOG=warn WS_RATE_PER_SEC=1000000 WS_RATE_BURST=1000000`).
    #[arg(long = "hub-env", value_name = "KEY=VALUE")]
    hub_env: Vec<String>,
    /// Forward the spawned hub's stderr to ours.
    #[arg(long)]
    hub_log: bool,
    /// Admin token for `POST /games` and `/start` (hubs with `HUB_ADMIN_TOKEN`).
    #[arg(long)]
    admin_token: Option<String>,
    /// Worker threads of the load generator's runtime (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// relay/slow/connect: ui clients (slow: healthy and slow together).
    #[arg(long)]
    clients: Option<usize>,
    /// relay/slow: lobby agents sending.
    #[arg(long)]
    agents: Option<usize>,
    /// relay/slow: messages per second in, over all agents.
    #[arg(long)]
    rate: Option<f64>,
    /// relay/slow: seconds of sending (slow: per phase).
    #[arg(long)]
    duration: Option<f64>,
    /// relay/slow: each agent sends its share every this many ms.
    #[arg(long)]
    tick_ms: Option<u64>,
    /// relay/slow: seconds to wait for the last deliveries after the last send.
    #[arg(long)]
    drain_timeout: Option<f64>,
    /// slow: percent of the clients that stop reading.
    #[arg(long)]
    slow_pct: Option<f64>,
    /// slow: SO_RCVBUF of the slow clients, bytes.
    #[arg(long)]
    slow_recv_buffer: Option<u32>,
    /// games/burst: number of games.
    #[arg(long)]
    games: Option<usize>,
    /// games/burst: full observers per game.
    #[arg(long)]
    observers: Option<usize>,
    /// games/burst: preset (`aiwolf5`, `arena8`, `classic9`, `aiwolf13`).
    #[arg(long)]
    preset: Option<String>,
    /// games: base seed.
    #[arg(long)]
    seed: Option<u64>,
    /// games/burst: seconds before the scenario gives up waiting.
    #[arg(long)]
    timeout: Option<f64>,
    /// Connects (handshakes) in flight at once.
    #[arg(long)]
    concurrency: Option<usize>,
    /// connect: ms to wait after the last connect before reading RSS.
    #[arg(long)]
    settle_ms: Option<u64>,
}

/// A hub process this run started.
struct SpawnedHub {
    /// The child process.
    child: Child,
    /// Where it listens.
    addr: SocketAddr,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some((soft, hard)) = raise_nofile() {
        eprintln!("[loadgen] RLIMIT_NOFILE soft {soft} (hard {hard})");
    }
    let mut spawned = None;
    let target = match &args.url {
        Some(url) => match resolve(url) {
            Ok(addr) => Target {
                addr,
                server_pid: args.server_pid,
                admin_token: args.admin_token.clone(),
            },
            Err(e) => {
                eprintln!("[loadgen] --url {url}: {e}");
                return ExitCode::from(2);
            }
        },
        None => match spawn_hub(&args, &hub_bin(&args)) {
            Ok(hub) => {
                let target = Target {
                    addr: hub.addr,
                    server_pid: Some(hub.child.id()),
                    admin_token: args.admin_token.clone(),
                };
                spawned = Some(hub);
                target
            }
            Err(e) => {
                eprintln!(
                    "[loadgen] cannot spawn the hub `{}`: {e} (build it with `cargo build \
                     --release --bin werewolf-hub`, or pass --hub-bin)",
                    hub_bin(&args).display()
                );
                return ExitCode::from(2);
            }
        },
    };
    eprintln!(
        "[loadgen] {:?} against {} (server pid {:?})",
        args.scenario, target.addr, target.server_pid
    );
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = args.threads {
        builder.worker_threads(n.max(1));
    }
    let runtime = match builder.enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("[loadgen] cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let outcome = runtime.block_on(run(&args, &target));
    let code = match outcome {
        Ok(report) => {
            match serde_json::to_string(&report) {
                Ok(line) => println!("{line}"),
                Err(e) => eprintln!("[loadgen] cannot serialize the report: {e}"),
            }
            if report.ok {
                ExitCode::SUCCESS
            } else {
                eprintln!(
                    "[loadgen] NOT OK: delivered {} of {} expected (see the report)",
                    report.delivered, report.expected
                );
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("[loadgen] scenario failed: {e}");
            ExitCode::from(2)
        }
    };
    if let Some(hub) = spawned {
        stop_hub(hub);
    }
    // Sockets still closing in the background must not hold the exit.
    runtime.shutdown_timeout(Duration::from_millis(100));
    code
}

/// Fills each scenario's options from its defaults (or smoke preset) and the flags.
async fn run(args: &Args, target: &Target) -> Result<Report, loadgen::LoadError> {
    let secs = |s: f64| Duration::from_secs_f64(s.max(0.0));
    let relay_opts = |mut o: RelayOpts| {
        if let Some(v) = args.clients {
            o.clients = v;
        }
        if let Some(v) = args.agents {
            o.agents = v.max(1);
        }
        if let Some(v) = args.rate {
            o.rate = v;
        }
        if let Some(v) = args.duration {
            o.duration = secs(v);
        }
        if let Some(v) = args.tick_ms {
            o.tick = Duration::from_millis(v.max(1));
        }
        if let Some(v) = args.drain_timeout {
            o.drain_timeout = secs(v);
        }
        if let Some(v) = args.concurrency {
            o.concurrency = v;
        }
        o
    };
    match args.scenario {
        Scenario::Relay => {
            let base = if args.smoke {
                RelayOpts::smoke()
            } else {
                RelayOpts::default()
            };
            loadgen::relay(target, &relay_opts(base)).await
        }
        Scenario::Slow => {
            let mut o = if args.smoke {
                SlowOpts::smoke()
            } else {
                SlowOpts::default()
            };
            o.relay = relay_opts(o.relay);
            if let Some(v) = args.slow_pct {
                o.slow_pct = v;
            }
            if let Some(v) = args.slow_recv_buffer {
                o.slow_recv_buffer = v;
            }
            loadgen::slow(target, &o).await
        }
        Scenario::Games => {
            let mut o = if args.smoke {
                GamesOpts::smoke()
            } else {
                GamesOpts::default()
            };
            if let Some(v) = args.games {
                o.games = v;
            }
            if let Some(v) = args.observers {
                o.observers = v;
            }
            if let Some(v) = &args.preset {
                o.preset = v.clone();
            }
            if let Some(v) = args.seed {
                o.seed = v;
            }
            if let Some(v) = args.timeout {
                o.timeout = secs(v);
            }
            if let Some(v) = args.concurrency {
                o.concurrency = v;
            }
            loadgen::games(target, &o).await
        }
        Scenario::Burst => {
            let mut o = if args.smoke {
                BurstOpts::smoke()
            } else {
                BurstOpts::default()
            };
            if let Some(v) = args.games {
                o.games = v;
            }
            if let Some(v) = args.observers {
                o.observers = v;
            }
            if let Some(v) = &args.preset {
                o.preset = v.clone();
            }
            if let Some(v) = args.timeout {
                o.timeout = secs(v);
            }
            if let Some(v) = args.concurrency {
                o.concurrency = v;
            }
            loadgen::burst(target, &o).await
        }
        Scenario::Connect => {
            let mut o = if args.smoke {
                ConnectOpts::smoke()
            } else {
                ConnectOpts::default()
            };
            if let Some(v) = args.clients {
                o.clients = v;
            }
            if let Some(v) = args.concurrency {
                o.concurrency = v;
            }
            if let Some(v) = args.settle_ms {
                o.settle = Duration::from_millis(v);
            }
            loadgen::connect(target, &o).await
        }
    }
}

/// `http://host:port`, `ws://host:port` (the client's URL forms: `werewolf_client::HubUrl`)
/// or `host:port` → a socket address. The load generator speaks plain WebSocket only.
fn resolve(url: &str) -> std::io::Result<SocketAddr> {
    let (host, port) = if url.contains("://") {
        let parsed = werewolf_client::HubUrl::parse(url).map_err(std::io::Error::other)?;
        let http = parsed.http();
        if http.scheme() != "http" {
            return Err(std::io::Error::other(
                "the load generator speaks plain ws:// only (no TLS)",
            ));
        }
        let host = http.host_str().unwrap_or_default();
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        (host, http.port_or_known_default().unwrap_or(80))
    } else {
        let addr = url
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| std::io::Error::other("no address"))?;
        return Ok(addr);
    };
    (host.as_str(), port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::other("no address"))
}

/// The hub binary: `--hub-bin`, else `werewolf-hub` beside this executable (the same cargo
/// target directory and profile), else `target/release/werewolf-hub`.
fn hub_bin(args: &Args) -> PathBuf {
    if let Some(bin) = &args.hub_bin {
        return bin.clone();
    }
    let sibling = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join("werewolf-hub")))
        .filter(|p| p.is_file());
    sibling.unwrap_or_else(|| PathBuf::from("target/release/werewolf-hub"))
}

/// Starts the hub on 127.0.0.1 with an ephemeral port and waits for its address line.
fn spawn_hub(args: &Args, bin: &std::path::Path) -> std::io::Result<SpawnedHub> {
    let mut cmd = Command::new(bin);
    cmd.env("WS_HOST", "127.0.0.1")
        .env("WS_PORT", "0")
        .env("RUST_LOG", "warn")
        // Today's in-memory behaviour unless `--hub-env HUB_STORE=sqlite` asks for the log.
        .env("HUB_STORE", "memory")
        .env("WS_RATE_PER_SEC", "1000000")
        .env("WS_RATE_BURST", "1000000");
    if args.smoke && args.scenario == Scenario::Slow {
        // A short smoke run must still fill a non-reading client's queue.
        cmd.env("WS_SEND_QUEUE", "64");
    }
    for kv in &args.hub_env {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| std::io::Error::other(format!("--hub-env `{kv}`: want KEY=VALUE")))?;
        cmd.env(k, v);
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let stderr = child.stderr.take().expect("stderr was piped");
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(rest) = line.strip_prefix("werewolf-hub listening on ") {
                    match rest.trim().parse() {
                        Ok(addr) => break addr,
                        Err(e) => {
                            let _ = child.kill();
                            return Err(std::io::Error::other(format!("address `{rest}`: {e}")));
                        }
                    }
                }
                eprintln!("[hub] {line}");
            }
            _ => {
                let status = child.wait()?;
                return Err(std::io::Error::other(format!(
                    "exited ({status}) before listening"
                )));
            }
        }
    };
    let forward = args.hub_log;
    // Keep draining stderr so the hub never blocks on a full pipe.
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            if forward {
                eprintln!("[hub] {line}");
            }
        }
    });
    Ok(SpawnedHub { child, addr })
}

/// SIGTERM, then SIGKILL if the hub has not exited within 5 s.
fn stop_hub(mut hub: SpawnedHub) {
    let pid = hub.child.id() as libc::pid_t;
    // SAFETY: kill(2) on our own child's PID.
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        if let Ok(Some(_)) = hub.child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = hub.child.kill();
    let _ = hub.child.wait();
}
