//! `werewolf-hub`: runs the hub (default) or other subcommands.

mod simulate;

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use std::time::Duration;
use werewolf_server::Config;

/// Game-event hub for multi-agent Werewolf.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// What to run; without one, the hub serves (configured by WS_* environment variables).
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the hub (the default).
    Serve,
    /// Play full games in-process between random bots and print one JSON line of results.
    Simulate(simulate::SimulateArgs),
    /// Print every finished game of a durable store as one JSON line (config, seed,
    /// players and roles, winner, days, full event list); schema:
    /// `schemas/json/export_line.schema.json`.
    Export(ExportArgs),
}

/// Arguments of `export`.
#[derive(Debug, clap::Args)]
struct ExportArgs {
    /// The hub's data directory (its `HUB_DATA_DIR`).
    #[arg(long, default_value = "./data")]
    data_dir: std::path::PathBuf,
    /// Only games that ended at or after this time (epoch seconds).
    #[arg(long)]
    since: Option<f64>,
}

/// Hard cap on shutdown: sockets get their 1001 close within the grace, the process exits.
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(5);

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None | Some(Command::Serve) => serve(),
        Some(Command::Simulate(args)) => simulate::run(&args),
        Some(Command::Export(args)) => export(&args),
    }
}

fn export(args: &ExportArgs) -> ExitCode {
    use werewolf_server::store::{export, sqlite};
    let file = args.data_dir.join(sqlite::FILE_NAME);
    if !file.is_file() {
        eprintln!("werewolf-hub export: no store at {}", file.display());
        return ExitCode::from(2);
    }
    let store = match sqlite::SqliteStore::open(&args.data_dir, false) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("werewolf-hub export: {e}");
            return ExitCode::from(2);
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match export::export(&store, args.since, &mut out) {
        Ok(n) => {
            eprintln!("werewolf-hub export: {n} finished games");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("werewolf-hub export: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve() -> ExitCode {
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("werewolf-hub: {e}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("werewolf-hub: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let mut signals = match werewolf_server::shutdown::OsSignals::install() {
            Ok(s) => s,
            Err(e) => {
                eprintln!("werewolf-hub: cannot install signal handlers: {e}");
                return ExitCode::FAILURE;
            }
        };
        let hub = match werewolf_server::start(config).await {
            Ok(h) => h,
            // The store is unusable: one line naming the file and the problem.
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                eprintln!("werewolf-hub: store: {e}");
                return ExitCode::from(2);
            }
            Err(e) => {
                eprintln!("werewolf-hub: cannot listen: {e}");
                return ExitCode::FAILURE;
            }
        };
        eprintln!("werewolf-hub listening on {}", hub.addr());
        signals.recv().await;
        tracing::info!("shutdown requested");
        hub.shutdown().trigger();
        match tokio::time::timeout(SHUTDOWN_DEADLINE, hub.stopped()).await {
            Ok(Ok(())) => ExitCode::SUCCESS,
            Ok(Err(e)) => {
                eprintln!("werewolf-hub: server error: {e}");
                ExitCode::FAILURE
            }
            Err(_) => ExitCode::SUCCESS,
        }
    })
}
