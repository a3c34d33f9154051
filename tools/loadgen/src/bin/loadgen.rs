//! Load generator for werewolf-hub: one scenario per run, one JSON line on stdout.
//!
//! By default it spawns the hub binary itself (`WS_HOST=127.0.0.1 WS_PORT=0`, the address
//! read from the hub's `werewolf-hub listening on ADDR` line) so it knows the PID and can
//! read the server's RSS; `--url` targets a running hub instead (RSS from `--server-pid`).
//! A hub of several nodes: `--nodes N` spawns N hubs with the same `--hub-env`, which must
//! name the Redis they share (`HUB_REDIS_URL`), or `--url` repeated targets running nodes;
//! REST (creating and starting games) goes to the first node, WebSocket clients to the nodes
//! in turn, and RSS and CPU are summed over the spawned nodes (each node's in
//! `server_rss_per_node_kib`, `server_cpu_pct_per_node`).
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
//! target/release/loadgen --scenario games --nodes 2 --hub-env HUB_REDIS_URL=redis://127.0.0.1:6379
//! ```
//!
//! Exit code: 0 when the report's `ok` holds (every expected frame delivered), 1 when not,
//! 2 when the scenario could not run.

use clap::{Parser, ValueEnum};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use werewolf_loadgen::process::{HubProcess, hub_bin};
use werewolf_loadgen::{
    self as loadgen, BurstOpts, ConnectOpts, GamesOpts, Peer, RelayOpts, Report, SlowOpts, Target,
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
    /// spawning one; repeated: the nodes of one clustered hub (REST goes to the first).
    #[arg(long)]
    url: Vec<String>,
    /// With `--url`: the hub's PID, to read its RSS (repeated: one per `--url`, in order).
    #[arg(long)]
    server_pid: Vec<u32>,
    /// Spawn this many hub nodes, all with the same `--hub-env`, which must then set
    /// `HUB_REDIS_URL` (the nodes are one hub through that Redis).
    #[arg(long, default_value_t = 1)]
    nodes: usize,
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

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some((soft, hard)) = raise_nofile() {
        eprintln!("[loadgen] RLIMIT_NOFILE soft {soft} (hard {hard})");
    }
    let mut spawned = Vec::new();
    let target = if args.url.is_empty() {
        match spawn_hubs(&args) {
            Ok(hubs) => {
                let target = Target {
                    addr: hubs[0].addr,
                    server_pid: Some(hubs[0].pid()),
                    admin_token: args.admin_token.clone(),
                    peers: hubs[1..]
                        .iter()
                        .map(|h| Peer {
                            addr: h.addr,
                            pid: Some(h.pid()),
                        })
                        .collect(),
                };
                spawned = hubs;
                target
            }
            Err(e) => {
                eprintln!("[loadgen] {e}");
                return ExitCode::from(2);
            }
        }
    } else {
        let mut addrs = Vec::new();
        for url in &args.url {
            match resolve(url) {
                Ok(addr) => addrs.push(addr),
                Err(e) => {
                    eprintln!("[loadgen] --url {url}: {e}");
                    return ExitCode::from(2);
                }
            }
        }
        let pid = |i: usize| args.server_pid.get(i).copied();
        Target {
            addr: addrs[0],
            server_pid: pid(0),
            admin_token: args.admin_token.clone(),
            peers: addrs[1..]
                .iter()
                .enumerate()
                .map(|(i, &addr)| Peer {
                    addr,
                    pid: pid(i + 1),
                })
                .collect(),
        }
    };
    if target.peers.is_empty() {
        eprintln!(
            "[loadgen] {:?} against {} (server pid {:?})",
            args.scenario, target.addr, target.server_pid
        );
    } else {
        let peers: Vec<String> = target
            .peers
            .iter()
            .map(|p| format!("{} (pid {:?})", p.addr, p.pid))
            .collect();
        eprintln!(
            "[loadgen] {:?} against {} nodes: {} (server pid {:?}, REST), {}",
            args.scenario,
            target.nodes(),
            target.addr,
            target.server_pid,
            peers.join(", ")
        );
    }
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
    stop_hubs(spawned);
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

/// The environment of every spawned hub: the loadgen's defaults, then `--hub-env`.
fn hub_env(args: &Args) -> Result<Vec<(String, String)>, String> {
    let mut user = Vec::new();
    for kv in &args.hub_env {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| format!("--hub-env `{kv}`: want KEY=VALUE"))?;
        user.push((k.to_owned(), v.to_owned()));
    }
    let redis = user.iter().any(|(k, _)| k == "HUB_REDIS_URL")
        || std::env::var_os("HUB_REDIS_URL").is_some();
    let mut env: Vec<(String, String)> = vec![
        ("RUST_LOG".into(), "warn".into()),
        ("WS_RATE_PER_SEC".into(), "1000000".into()),
        ("WS_RATE_BURST".into(), "1000000".into()),
    ];
    if !redis {
        // Today's in-memory behaviour unless `--hub-env HUB_STORE=sqlite` asks for the log
        // (with `HUB_REDIS_URL`, Redis is the store and `memory` would be refused).
        env.push(("HUB_STORE".into(), "memory".into()));
    }
    if args.smoke && args.scenario == Scenario::Slow {
        // A short smoke run must still fill a non-reading client's queue.
        env.push(("WS_SEND_QUEUE".into(), "64".into()));
    }
    if args.nodes > 1 && !redis {
        return Err(format!(
            "--nodes {} needs the Redis the nodes share: add --hub-env HUB_REDIS_URL=redis://HOST:PORT \
             (and a fresh --hub-env HUB_REDIS_PREFIX=… per run); without it each node would be \
             a hub of its own",
            args.nodes
        ));
    }
    env.extend(user);
    Ok(env)
}

/// Starts `--nodes` hubs on 127.0.0.1 with ephemeral ports, one after the other; on any
/// failure the ones already started are stopped (dropped).
fn spawn_hubs(args: &Args) -> Result<Vec<HubProcess>, String> {
    if args.nodes == 0 {
        return Err("--nodes must be at least 1".into());
    }
    let env = hub_env(args)?;
    let bin = hub_bin(args.hub_bin.as_deref());
    let mut hubs = Vec::with_capacity(args.nodes);
    for n in 0..args.nodes {
        let label = if args.nodes == 1 {
            "hub".to_owned()
        } else {
            format!("hub {n}")
        };
        match HubProcess::spawn(&bin, &env, &label, args.hub_log) {
            Ok(hub) => hubs.push(hub),
            Err(e) => {
                return Err(format!(
                    "cannot spawn the hub `{}`: {e} (build it with `cargo build --release \
                     --bin werewolf-hub`, or pass --hub-bin)",
                    bin.display()
                ));
            }
        }
    }
    Ok(hubs)
}

/// SIGTERM to every hub at once, then SIGKILL to any that has not exited within 5 s.
fn stop_hubs(mut hubs: Vec<HubProcess>) {
    for hub in &hubs {
        hub.terminate();
    }
    for hub in &mut hubs {
        hub.wait_or_kill(Duration::from_secs(5));
    }
}
