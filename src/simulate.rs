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
    /// seer acts on the first night). Default: the preset's.
    #[arg(long, action = clap::ArgAction::Set)]
    pub first_night_attack: Option<bool>,
    /// Play the preset's roles under the hub's own rules (the `aiwolf*` presets otherwise
    /// follow AIWolf's).
    #[arg(long)]
    pub hub_rules: bool,
    /// A JSON file holding a whole engine config (`GameConfig`, e.g. from a replay); replaces
    /// `--preset` and `--hub-rules`. Missing fields take the hub's defaults.
    #[arg(long, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
    /// The bots let one request in N time out (0 = never).
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub bot_timeouts: u32,
    /// The bots abstain from one day vote in N (0 = always vote).
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub bot_abstentions: u32,
}

/// The config the options describe, or why not.
fn config_of(args: &SimulateArgs) -> Result<(werewolf_engine::GameConfig, String), String> {
    use werewolf_engine::{GameConfig, Preset, RoleSetup};
    let (mut config, name) = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let config: GameConfig = serde_json::from_str(&text)
                .map_err(|e| format!("{} is not an engine config: {e}", path.display()))?;
            (config, "custom".to_owned())
        }
        None => {
            let preset = Preset::from_name(&args.preset).map_err(|e| e.to_string())?;
            let roles = RoleSetup::Preset(preset);
            let config = if args.hub_rules {
                GameConfig::hub_rules(roles)
            } else {
                GameConfig::new(roles)
            };
            (config, preset.name().to_owned())
        }
    };
    if let Some(v) = args.first_night_attack {
        config.first_night_attack = v;
    }
    Ok((config, name))
}

/// The Wilson score interval (95 %) of `wins` out of `n`.
fn wilson(wins: u64, n: u64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 0.0);
    }
    let (z, n) = (1.959_964, n as f64);
    let p = wins as f64 / n;
    let centre = p + z * z / (2.0 * n);
    let margin = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
    let denom = 1.0 + z * z / n;
    ((centre - margin) / denom, (centre + margin) / denom)
}

/// A finite float as a JSON number (rounded to `decimals`), `null` otherwise.
fn number(x: f64, decimals: i32) -> Value {
    let scale = 10f64.powi(decimals);
    Value::from((x * scale).round() / scale)
}

/// Runs the simulation and prints, last, exactly one JSON line:
/// `{"games","villager_wins","werewolf_wins","draws","werewolf_win_rate","werewolf_win_rate_ci95",
/// "avg_days","games_per_sec","digest"}`. A bad preset or config → the reason on stderr, exit 2.
pub fn run(args: &SimulateArgs) -> ExitCode {
    let started = Instant::now();
    let habits = werewolf_engine::BotHabits {
        timeout_one_in: args.bot_timeouts,
        abstain_one_in: args.bot_abstentions,
    };
    let run = config_of(args).and_then(|(config, name)| {
        let mut summary = werewolf_engine::simulate_with(&config, args.games, args.seed, habits)
            .map_err(|e| e.to_string())?;
        summary.preset = name;
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
    let rate = if summary.games > 0 {
        summary.werewolf_wins as f64 / summary.games as f64
    } else {
        0.0
    };
    let (lo, hi) = wilson(summary.werewolf_wins, summary.games);
    println!(
        "{{\"games\":{},\"villager_wins\":{},\"werewolf_wins\":{},\"draws\":{},\"werewolf_win_rate\":{},\"werewolf_win_rate_ci95\":[{},{}],\"avg_days\":{},\"games_per_sec\":{},\"digest\":{}}}",
        summary.games,
        summary.villager_wins,
        summary.werewolf_wins,
        summary.draws,
        number(rate, 4),
        number(lo, 4),
        number(hi, 4),
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
