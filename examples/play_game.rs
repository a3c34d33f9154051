//! Creates a game on a running hub and prints what a spectator sees (the full view) until
//! the winner.
//!
//! ```text
//! cargo run --release &                  # the hub
//! cargo run --example play_game -- --preset arena8                 # 8 Rust bots over sockets
//! cargo run --example play_game -- --preset arena8 --free-seats 1  # your agent against 7 bots
//! ```
//!
//! With `--free-seats N` the hub's built-in bots play every other seat; the example prints,
//! for each free seat, the command that connects an agent to it (Python kit or Rust
//! `bot_agent`), then waits: the game starts when the last free seat's agent connects.
//!
//! `--url` takes `http://`, `https://`, `ws://` or `wss://` (optional path prefix); a hub
//! with a private CA is trusted with `WEREWOLF_CA_FILE=/path/to/ca.pem`. Errors print as
//! one line (`error: hub refused (401 Unauthorized): …`) and exit with code 1.

use clap::Parser;
use serde_json::json;
use std::process::ExitCode;
use werewolf_client::{ClientError, Hub, RandomStrategy, next_frame};
use werewolf_schemas::ServerMessage;

#[derive(Debug, Parser)]
struct Args {
    /// Hub URL: http(s)://host:port or ws(s)://host:port, optional path prefix.
    #[arg(long, default_value = "http://127.0.0.1:8000")]
    url: String,
    /// Role preset.
    #[arg(long, default_value = "arena8")]
    preset: String,
    /// Game seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Request deadline in ms.
    #[arg(long, default_value_t = 5000)]
    action_timeout_ms: u64,
    /// Leave this many seats for your own agents and let the hub's built-in bots play the
    /// rest (absent: this example plays every seat with Rust bots over real sockets).
    #[arg(long)]
    free_seats: Option<usize>,
    /// With `--free-seats`: how long the hub's bots wait before answering, in ms.
    #[arg(long, default_value_t = 300)]
    bot_delay_ms: u64,
    /// Admin token, for hubs started with HUB_ADMIN_TOKEN.
    #[arg(long, env = "HUB_ADMIN_TOKEN")]
    admin_token: Option<String>,
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

async fn run(args: &Args) -> Result<(), ClientError> {
    let mut hub = Hub::new(&args.url)?.with_env_root_certificate()?;
    if let Some(t) = &args.admin_token {
        hub = hub.with_admin_token(t);
    }
    let seats = match args.preset.as_str() {
        "aiwolf5" => 5,
        "classic9" => 9,
        "aiwolf13" => 13,
        _ => 8,
    };
    let names = [
        "Alice", "Bob", "Chloé", "Dmitri", "Eve", "Farid", "Gwen", "Hiro", "Ines", "Jun", "Kofi",
        "Lea", "Mo",
    ];
    let mut body = json!({"preset": args.preset, "seed": args.seed, "players": &names[..seats],
                          "action_timeout_ms": args.action_timeout_ms});
    if let Some(free) = args.free_seats {
        body["bots"] = json!(seats.saturating_sub(free));
        body["bot_delay_ms"] = json!(args.bot_delay_ms);
    }
    let game = hub.create_game(&body).await?;
    println!(
        "game {} created ({} seats, {} played by the hub's bots)",
        game.game_id,
        seats,
        game.bots.len()
    );
    let mut spectator = hub
        .connect_viewer(
            "play_game_spectator",
            "observer",
            &game.game_id,
            Some(&game.observer_token),
        )
        .await?;
    let mut bots = Vec::new();
    if args.free_seats.is_some() {
        for seat in &game.players {
            let command = |kind: &str| {
                seat.commands
                    .as_ref()
                    .and_then(|c| c[kind].as_str())
                    .unwrap_or("(this hub prints no command)")
                    .to_owned()
            };
            println!(
                "free seat {} ({}): connect an agent with",
                seat.player_id, seat.name
            );
            println!("  {}", command("python"));
            println!("  {}", command("rust"));
        }
        if !game.players.is_empty() {
            println!("waiting for the free seats' agents (the game starts when all are in)…");
        }
    }
    let own_seats = if args.free_seats.is_some() {
        &[][..]
    } else {
        &game.players[..]
    };
    for (i, seat) in own_seats.iter().enumerate() {
        let mut agent = hub
            .connect_agent(&game.game_id, &seat.player_id, &seat.token)
            .await?;
        bots.push(tokio::spawn(async move {
            agent
                .play(&mut RandomStrategy::new(i as u64), |_, _| {})
                .await
        }));
    }
    let name_of = |id: &str| {
        let seats = game.players.iter().map(|p| (&p.player_id, &p.name));
        seats
            .chain(game.bots.iter().map(|b| (&b.player_id, &b.name)))
            .find(|(p, _)| *p == id)
            .map_or(id.to_owned(), |(_, name)| name.clone())
    };
    while let Some((_, frame)) = next_frame(&mut spectator).await? {
        match frame.message {
            ServerMessage::PhaseUpdate(p) => println!("── {:?} {} ──", p.phase, p.day),
            ServerMessage::AgentMessage(m) => {
                println!("{} [{:?}]: {}", m.agent_name, m.channel, m.message_text)
            }
            ServerMessage::PlayerAction(a) => println!(
                "{} {:?} → {}",
                name_of(&a.player_id),
                a.action,
                a.target.as_deref().map_or("nobody".to_owned(), name_of)
            ),
            ServerMessage::Death(d) => println!("† {} ({:?})", name_of(&d.player_id), d.cause),
            ServerMessage::GameOver(over) => {
                for (id, role) in &over.roles {
                    println!("{} was {:?}", name_of(id), role);
                }
                println!("winner: {:?} (day {})", over.winner, over.day);
                break;
            }
            _ => {}
        }
    }
    for b in bots {
        b.await
            .map_err(|e| ClientError::Closed(format!("a bot task failed: {e}")))??;
    }
    Ok(())
}
