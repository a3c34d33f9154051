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
}

/// Hard cap on shutdown: sockets get their 1001 close within the grace, the process exits.
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(5);

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None | Some(Command::Serve) => serve(),
        Some(Command::Simulate(args)) => simulate::run(&args),
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
