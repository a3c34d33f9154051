//! `werewolf-hub simulate`: plays full games in-process between the engine's random bots (no
//! sockets) and prints one JSON line with the results, the throughput and the log digest.

use clap::Args;
use serde_json::Value;
use std::process::ExitCode;
use std::time::Instant;

/// Options of `werewolf-hub simulate`.
#[derive(Debug, Clone, Args)]
pub struct SimulateArgs {
    /// Role preset: aiwolf5, arena8, aiwolf13 or classic9.
    #[arg(long, default_value = "arena8")]
    pub preset: String,
    /// Number of full games to play.
    #[arg(long, default_value_t = 1000)]
    pub games: u64,
    /// Seed of the whole run; game `i` derives its own seeds from (seed, i).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Whether the werewolves attack on the first night (`false`: AIWolf's rule, only the
    /// seer acts on the first night).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub first_night_attack: bool,
}

/// A finite float as a JSON number (rounded to `decimals`), `null` otherwise.
fn number(x: f64, decimals: i32) -> Value {
    let scale = 10f64.powi(decimals);
    Value::from((x * scale).round() / scale)
}

/// Runs the simulation and prints, last, exactly one JSON line:
/// `{"games","villager_wins","werewolf_wins","avg_days","games_per_sec","digest"}`.
/// An unknown preset → the reason on stderr and exit code 2.
pub fn run(args: &SimulateArgs) -> ExitCode {
    let started = Instant::now();
    let run = werewolf_engine::GameConfig::preset(&args.preset).and_then(|mut config| {
        config.first_night_attack = args.first_night_attack;
        let mut summary = werewolf_engine::simulate_config(&config, args.games, args.seed)?;
        summary.preset = args.preset.clone();
        Ok(summary)
    });
    let summary = match run {
        Ok(s) => s,
        Err(e) => {
            eprintln!("werewolf-hub simulate: {e}");
            return ExitCode::from(2);
        }
    };
    let secs = started.elapsed().as_secs_f64();
    let per_sec = if secs > 0.0 {
        summary.games as f64 / secs
    } else {
        0.0
    };
    if summary.unfinished > 0 || summary.illegal_bot_actions > 0 {
        eprintln!(
            "werewolf-hub simulate: engine bug: {} unfinished games, {} refused bot actions",
            summary.unfinished, summary.illegal_bot_actions
        );
    }
    eprintln!(
        "simulated {} {} games in {:.3} s ({} draws, {} outputs)",
        summary.games, summary.preset, secs, summary.draws, summary.outputs
    );
    println!(
        "{{\"games\":{},\"villager_wins\":{},\"werewolf_wins\":{},\"avg_days\":{},\"games_per_sec\":{},\"digest\":{}}}",
        summary.games,
        summary.villager_wins,
        summary.werewolf_wins,
        number(summary.avg_days, 3),
        number(per_sec, 1),
        Value::String(summary.digest),
    );
    if summary.unfinished > 0 || summary.illegal_bot_actions > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
