//! A Rust bot agent that plays one seat legally (random choices among the candidates).
//!
//! ```text
//! cargo run --example bot_agent -- --url http://127.0.0.1:8000 --game G --player P --token T
//! ```
//! Replace `RandomStrategy` with your own `Strategy` (an LLM call goes in `decide`).

use clap::Parser;
use werewolf_hub::client::{Hub, RandomStrategy};
use werewolf_schemas::ServerMessage;

#[derive(Debug, Parser)]
struct Args {
    /// Hub base URL.
    #[arg(long, default_value = "http://127.0.0.1:8000")]
    url: String,
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
    /// Print every frame received.
    #[arg(long)]
    verbose: bool,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let hub = Hub::new(&args.url);
    let mut agent = hub
        .connect_agent(&args.game, &args.player, &args.token)
        .await?;
    let verbose = args.verbose;
    let over = agent
        .play(&mut RandomStrategy::new(args.seed), |raw, frame| {
            if verbose {
                println!("{raw}");
            } else if let ServerMessage::GameState(s) = &frame.message {
                if let Some(you) = &s.you {
                    eprintln!(
                        "{}: day {} {:?}, I am {:?}",
                        you.player_id, s.day, s.phase, you.role
                    );
                }
            }
        })
        .await?;
    println!("game over: {:?} won on day {}", over.winner, over.day);
    Ok(())
}
