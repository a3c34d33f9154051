//! The machine's floor for a burst: how long one pre-serialized write to each of N loopback
//! TCP sockets takes to reach N readers, with no hub, no WebSocket framing and no JSON.
//!
//! The `burst` scenario of the `loadgen` binary asks the hub to deliver one `phase_update`
//! (plus the `game_state` and `action_request` that follow it, coalesced into one write) to
//! each of 10,000 recipients. Whatever the hub does, each recipient costs at least one
//! `send` into the kernel's TCP stack and one `recv` out of it, on the same cores as the
//! load generator. This program measures exactly that and nothing else, so the hub's burst
//! figure can be read as a ratio to what the machine can do at all:
//!
//! - a **sender** process (this binary re-run with `--sender`) accepts N connections, then
//!   on "go" stamps a wall-clock `t0` into one buffer and writes it to every socket from
//!   `--sender-threads` blocking threads (the hub has two runtime workers);
//! - the **receiver** (this process, a multi-threaded tokio runtime like the load
//!   generator's) has one task per socket reading `--bytes` bytes, and records when the
//!   last one is complete.
//!
//! With `--no-read` the receiver connects and never reads, which leaves the sender's own
//! cost: what the hub could reach if the readers were on other cores.
//!
//! One JSON line per run: `{"scenario":"loopback_floor","clients":…,"bytes":…,
//! "sender_threads":…,"send_ms":…,"last_delivery_ms":…,"p50_ms":…}`.
//!
//! ```sh
//! cargo run --release -p werewolf-loadgen --bin loopback_floor -- --clients 10000 --bytes 1400 --runs 3
//! ```

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Parser;
use tokio::io::AsyncReadExt;
use werewolf_loadgen::raise_nofile;

/// Flags; the defaults mirror `loadgen --scenario burst --games 1000 --observers 5`.
#[derive(Debug, Parser)]
struct Flags {
    /// Receiving sockets (the burst has 1,000 games × 10 recipients).
    #[arg(long, default_value_t = 10_000)]
    clients: usize,
    /// Bytes written to each socket in one write (a burst recipient's coalesced frames).
    #[arg(long, default_value_t = 1400)]
    bytes: usize,
    /// Threads of the sender writing in parallel.
    #[arg(long, default_value_t = 2)]
    sender_threads: usize,
    /// Runs, one JSON line each.
    #[arg(long, default_value_t = 1)]
    runs: usize,
    /// Connect but never read: `send_ms` is then the sender's cost alone (the kernel still
    /// queues every byte at the receiving socket), with no reader competing for the cores.
    #[arg(long)]
    no_read: bool,
    /// Internal: run as the sender child.
    #[arg(long, hide = true)]
    sender: bool,
}

fn epoch_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

fn main() -> ExitCode {
    let flags = Flags::parse();
    // Each side holds `clients` sockets.
    let _ = raise_nofile();
    let result = if flags.sender {
        sender(&flags)
    } else {
        (0..flags.runs).try_for_each(|_| receiver(&flags))
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("loopback_floor: {e}");
            ExitCode::FAILURE
        }
    }
}

type Fallible = Result<(), Box<dyn std::error::Error>>;

/// The child: prints its port, accepts `clients`, waits for "go" on stdin, writes, prints
/// how long the writes took.
fn sender(flags: &Flags) -> Fallible {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    println!("{}", listener.local_addr()?.port());
    std::io::stdout().flush()?;
    let mut sockets = Vec::with_capacity(flags.clients);
    for _ in 0..flags.clients {
        let (socket, _) = listener.accept()?;
        socket.set_nodelay(true)?;
        sockets.push(socket);
    }
    let mut go = String::new();
    std::io::stdin().lock().read_line(&mut go)?;
    // Let the receiver's runtime settle into epoll_wait, as the load generator's does.
    std::thread::sleep(Duration::from_millis(200));
    let t0 = epoch_ns();
    let mut payload = vec![b'x'; flags.bytes.max(8)];
    payload[..8].copy_from_slice(&t0.to_le_bytes());
    let chunk = flags.clients.div_ceil(flags.sender_threads.max(1)).max(1);
    let failures = AtomicU64::new(0);
    std::thread::scope(|scope| {
        for part in sockets.chunks_mut(chunk) {
            let (payload, failures) = (&payload, &failures);
            scope.spawn(move || {
                for socket in part {
                    if socket.write_all(payload).is_err() {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let send_ms = (epoch_ns() - t0) as f64 / 1e6;
    println!("{send_ms} {}", failures.load(Ordering::Relaxed));
    std::io::stdout().flush()?;
    // Keep the sockets open until the receiver has read everything and closes stdin.
    let _ = std::io::stdin().lock().read_line(&mut go);
    Ok(())
}

/// The parent: spawns the sender, connects, says "go", waits for every socket's bytes.
fn receiver(flags: &Flags) -> Fallible {
    let exe = std::env::current_exe()?;
    let mut child = Command::new(exe)
        .args([
            "--sender",
            "--clients",
            &flags.clients.to_string(),
            "--bytes",
            &flags.bytes.to_string(),
            "--sender-threads",
            &flags.sender_threads.to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut child_out = BufReader::new(child.stdout.take().ok_or("no sender stdout")?);
    let mut child_in = child.stdin.take().ok_or("no sender stdin")?;
    let mut line = String::new();
    child_out.read_line(&mut line)?;
    let port: u16 = line.trim().parse()?;

    let runtime = tokio::runtime::Runtime::new()?;
    let bytes = flags.bytes.max(8);
    let (arrivals, t0, idle) = runtime.block_on(async {
        let mut sockets = Vec::with_capacity(flags.clients);
        for _ in 0..flags.clients {
            sockets.push(tokio::net::TcpStream::connect(("127.0.0.1", port)).await?);
        }
        let t0 = Arc::new(AtomicU64::new(0));
        if flags.no_read {
            writeln!(child_in, "go")?;
            return Ok((Vec::new(), 0, Some(sockets)));
        }
        let tasks: Vec<_> = sockets
            .into_iter()
            .map(|mut socket| {
                let t0 = t0.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; bytes];
                    socket.read_exact(&mut buf).await.ok()?;
                    let at = epoch_ns();
                    let mut stamp = [0u8; 8];
                    stamp.copy_from_slice(&buf[..8]);
                    t0.store(u64::from_le_bytes(stamp), Ordering::Relaxed);
                    Some(at)
                })
            })
            .collect();
        writeln!(child_in, "go")?;
        let mut arrivals = Vec::with_capacity(tasks.len());
        for task in tasks {
            if let Ok(Some(at)) = task.await {
                arrivals.push(at);
            }
        }
        Ok::<_, Box<dyn std::error::Error>>((arrivals, t0.load(Ordering::Relaxed), None))
    })?;
    line.clear();
    child_out.read_line(&mut line)?;
    drop(idle);
    let mut fields = line.split_whitespace();
    let send_ms: f64 = fields.next().ok_or("sender said nothing")?.parse()?;
    let send_failures: u64 = fields.next().unwrap_or("0").parse()?;
    drop(child_in);
    let mut rest = String::new();
    let _ = child_out.read_to_string(&mut rest);
    let _ = child.wait();

    let mut lags: Vec<f64> = arrivals
        .iter()
        .map(|&at| at.saturating_sub(t0) as f64 / 1e6)
        .collect();
    lags.sort_by(f64::total_cmp);
    let last = lags.last().copied().unwrap_or(f64::NAN);
    let p50 = lags.get(lags.len() / 2).copied().unwrap_or(f64::NAN);
    println!(
        "{}",
        serde_json::json!({
            "scenario": "loopback_floor",
            "clients": flags.clients,
            "delivered": lags.len(),
            "bytes": bytes,
            "sender_threads": flags.sender_threads,
            "send_failures": send_failures,
            "send_ms": send_ms,
            "last_delivery_ms": last,
            "p50_ms": p50,
        })
    );
    Ok(())
}
