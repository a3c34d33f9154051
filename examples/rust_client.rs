//! A minimal Rust client: connects, pings, optionally speaks, and prints what arrives.
//!
//! ```text
//! cargo run --example rust_client -- --id agent_alice --client-type agent --say "Bob is the wolf"
//! cargo run --example rust_client -- --id ui_1            # a ui that prints the relay
//! ```
//!
//! `--url` takes `http://`, `https://`, `ws://` or `wss://` (optional path prefix); a hub
//! with a private CA is trusted with `WEREWOLF_CA_FILE=/path/to/ca.pem`. Errors print as
//! one line (`error: hub refused (400 Bad Request): …`) and exit with code 1.

use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::process::ExitCode;
use tokio_tungstenite::tungstenite::Message;
use werewolf_client::{ClientError, Hub};
use werewolf_schemas::{ServerFrame, ServerMessage};

#[derive(Debug, Parser)]
struct Args {
    /// Hub URL: http(s)://host:port or ws(s)://host:port, optional path prefix.
    #[arg(long, default_value = "ws://127.0.0.1:8000")]
    url: String,
    /// This client's id.
    #[arg(long, default_value = "rust_client")]
    id: String,
    /// agent, ui or observer.
    #[arg(long, default_value = "ui")]
    client_type: String,
    /// As an agent, say this once connected (relayed to every ui and observer).
    #[arg(long)]
    say: Option<String>,
    /// Stop after this many frames (0: run until the hub closes the socket).
    #[arg(long, default_value_t = 0)]
    frames: usize,
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
    let hub = Hub::new(&args.url)?.with_env_root_certificate()?;
    let query = [("client_type", args.client_type.as_str())];
    let mut ws = hub.connect_socket(&args.id, &query).await?;
    eprintln!("connected to {}", hub.socket_url(&args.id, query));
    ws.send(Message::text(
        json!({"message_type": "ping", "client_id": args.id}).to_string(),
    ))
    .await?;
    if let Some(text) = &args.say {
        let talk = json!({"message_type": "agent_message", "message_text": text});
        ws.send(Message::text(talk.to_string())).await?;
    }
    let mut seen = 0;
    while let Some(frame) = ws.next().await {
        match frame? {
            Message::Text(text) => {
                // Typed decoding with the protocol crate; unknown shapes are printed raw.
                match serde_json::from_str::<ServerFrame>(text.as_str()) {
                    Ok(ServerFrame {
                        message: ServerMessage::AgentMessage(m),
                        ..
                    }) => {
                        println!("{} says: {}", m.agent_name, m.message_text)
                    }
                    Ok(f) => println!("{}: {}", f.message.message_type(), text.as_str()),
                    Err(_) => println!("raw: {}", text.as_str()),
                }
                seen += 1;
                if args.frames != 0 && seen >= args.frames {
                    break;
                }
            }
            Message::Close(frame) => {
                println!("closed by hub: {frame:?}");
                break;
            }
            _ => {}
        }
    }
    Ok(())
}
