//! Crash-recovery benchmark: how long a hub takes to bring back N games after `kill -9`.
//!
//! Spawns the release hub binary on a fresh SQLite data directory, creates `--games` games
//! (half left in the lobby, half started, so their night requests are pending), kills the
//! hub with SIGKILL, starts it again on the same directory and measures the time from the
//! restart to the hub listening (recovery runs before it listens) and to `GET /games`
//! listing every game. Prints one JSON line; exits 1 if a game is missing.
//!
//! ```text
//! cargo build --release --bin werewolf-hub --example recovery_bench
//! target/release/examples/recovery_bench --games 1000 --runs 3
//! ```

use clap::Parser;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// Crash-recovery benchmark.
#[derive(Debug, Parser)]
struct Args {
    /// Games to create (half lobby, half running).
    #[arg(long, default_value_t = 1000)]
    games: usize,
    /// Kill-and-restart measurements on the same store.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// The hub binary.
    #[arg(long, default_value = "target/release/werewolf-hub")]
    hub_bin: PathBuf,
    /// Preset of every game.
    #[arg(long, default_value = "arena8")]
    preset: String,
}

fn spawn(bin: &Path, dir: &Path) -> std::io::Result<(Child, SocketAddr, Instant)> {
    let started = Instant::now();
    let mut child = Command::new(bin)
        .env("WS_HOST", "127.0.0.1")
        .env("WS_PORT", "0")
        .env("RUST_LOG", "warn")
        .env("HUB_STORE", "sqlite")
        .env("HUB_DATA_DIR", dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let stderr = child.stderr.take().expect("piped");
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(rest) = line.strip_prefix("werewolf-hub listening on ") {
                    break rest.trim().parse().map_err(std::io::Error::other)?;
                }
                eprintln!("[hub] {line}");
            }
            _ => return Err(std::io::Error::other("hub exited before listening")),
        }
    };
    std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
    Ok((child, addr, started))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let dir = std::env::temp_dir().join(format!("recovery-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let http = reqwest::Client::new();
    let (mut hub, addr, _) = match spawn(&args.hub_bin, &dir) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("recovery_bench: {e}");
            return ExitCode::from(2);
        }
    };
    let base = format!("http://{addr}");
    let create_started = Instant::now();
    let seats = match args.preset.as_str() {
        "aiwolf5" => 5,
        "classic9" => 9,
        "aiwolf13" => 13,
        _ => 8,
    };
    let names: Vec<String> = (0..seats).map(|i| format!("p{i}")).collect();
    for i in 0..args.games {
        let body = serde_json::json!({
            "preset": args.preset, "seed": i, "players": names,
            "auto_start": false, "action_timeout_ms": 600_000,
        });
        let created: serde_json::Value =
            match http.post(format!("{base}/games")).json(&body).send().await {
                Ok(r) => r.json().await.unwrap_or_default(),
                Err(e) => {
                    eprintln!("recovery_bench: create: {e}");
                    let _ = hub.kill();
                    return ExitCode::from(2);
                }
            };
        if i % 2 == 1 {
            let id = created["game_id"].as_str().unwrap_or_default();
            let _ = http.post(format!("{base}/games/{id}/start")).send().await;
        }
    }
    let create_ms = create_started.elapsed().as_secs_f64() * 1000.0;
    let db_bytes: u64 = std::fs::read_dir(&dir)
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0);
    let mut listen_ms = Vec::new();
    let mut listed_ms = Vec::new();
    let mut ok = true;
    for _ in 0..args.runs {
        let _ = hub.kill(); // SIGKILL
        let _ = hub.wait();
        let (child, addr, started) = match spawn(&args.hub_bin, &dir) {
            Ok(h) => h,
            Err(e) => {
                eprintln!("recovery_bench: restart: {e}");
                return ExitCode::from(2);
            }
        };
        hub = child;
        listen_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        let games: Vec<serde_json::Value> =
            match http.get(format!("http://{addr}/games")).send().await {
                Ok(r) => r.json().await.unwrap_or_default(),
                Err(_) => Vec::new(),
            };
        listed_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        let running = games.iter().filter(|g| g["phase"] != "lobby").count();
        if games.len() != args.games || running != args.games / 2 {
            eprintln!(
                "recovery_bench: {} games back ({running} running), expected {}",
                games.len(),
                args.games
            );
            ok = false;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let _ = hub.kill();
    let _ = hub.wait();
    let _ = std::fs::remove_dir_all(&dir);
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    println!(
        "{}",
        serde_json::json!({
            "scenario": "recovery", "games": args.games, "preset": args.preset,
            "create_ms": create_ms, "store_bytes": db_bytes,
            "restart_to_listening_ms": listen_ms.clone(),
            "restart_to_listed_ms": listed_ms.clone(),
            "median_listening_ms": median(&mut listen_ms),
            "median_listed_ms": median(&mut listed_ms),
            "ok": ok,
        })
    );
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
