//! A Rust bot agent that plays one seat legally (random choices among the candidates).
//!
//! ```text
//! cargo run --example bot_agent -- --url http://127.0.0.1:8000 --game G --player P --token T
//! ```
//! Replace `RandomStrategy` with your own `Strategy` (an LLM call goes in `decide`).
//!
//! The agent stays in the game when its connection drops: it reconnects with backoff and
//! `last_seq` (see `werewolf_client`), trying `--url` then each `--fallback-url`, and
//! stops with one line naming the reason on a close code or a refusal that says not to come
//! back (e.g. `error: hub refused (401 Unauthorized): wrong or missing token for this seat`)
//! and exit code 1.
//!
//! `--url` takes `http://`, `https://`, `ws://` or `wss://` (optional path prefix); a hub
//! with a private CA is trusted with `WEREWOLF_CA_FILE=/path/to/ca.pem`.

use clap::Parser;
use std::process::ExitCode;
use std::time::Duration;
use werewolf_client::{ClientError, Hub, RandomStrategy, ReconnectPolicy};
use werewolf_schemas::ServerMessage;

#[derive(Debug, Parser)]
struct Args {
    /// Hub URL: http(s)://host:port or ws(s)://host:port, optional path prefix.
    #[arg(long, default_value = "http://127.0.0.1:8000")]
    url: String,
    /// Other URLs of the hub, tried in turn when the ones before cannot be reached.
    #[arg(long)]
    fallback_url: Vec<String>,
    /// Game id (from `POST /games`).
    #[arg(long)]
    game: String,
    /// The seat's player id.
    #[arg(long)]
    player: String,
    /// The seat's token.
    #[arg(long)]
    token: String,
    /// Seed of the bot's choices.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Seconds without a connection before giving up.
    #[arg(long, default_value_t = 60.0)]
    give_up_after_s: f64,
    /// Print every frame received.
    #[arg(long)]
    verbose: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The hub of `--url` and `--fallback-url`, trusting `WEREWOLF_CA_FILE` when set.
fn hub(args: &Args) -> Result<Hub, ClientError> {
    let policy = ReconnectPolicy {
        give_up_after: Some(Duration::from_secs_f64(args.give_up_after_s.max(0.0))),
        ..ReconnectPolicy::default()
    };
    let mut hub = Hub::new(&args.url)?
        .with_env_root_certificate()?
        .with_reconnect(policy);
    for url in &args.fallback_url {
        hub = hub.with_fallback(url)?;
    }
    Ok(hub)
}

async fn run(args: &Args) -> Result<(), ClientError> {
    let mut agent = hub(args)?
        .connect_agent(&args.game, &args.player, &args.token)
        .await?;
    let verbose = args.verbose;
    let mut connections = 0;
    let played = agent
        .play(&mut RandomStrategy::new(args.seed), |raw, frame| {
            if verbose {
                println!("{raw}");
            }
            match &frame.message {
                ServerMessage::Connection { .. } => {
                    connections += 1;
                    if connections > 1 {
                        eprintln!("reconnected: {raw}");
                    }
                }
                ServerMessage::GameState(s) if !verbose => {
                    if let Some(you) = &s.you {
                        eprintln!(
                            "{}: day {} {:?}, I am {:?}",
                            you.player_id, s.day, s.phase, you.role
                        );
                    }
                }
                _ => {}
            }
        })
        .await;
    let stats = agent.stats();
    if stats.reconnects() > 0 {
        eprintln!(
            "{}: {} reconnects, recovered {:?}, missed seq ranges {:?}",
            args.player,
            stats.reconnects(),
            stats.recovered,
            stats.missed
        );
    }
    let over = played?;
    println!("game over: {:?} won on day {}", over.winner, over.day);
    Ok(())
}
