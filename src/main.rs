//! `werewolf-hub`: runs the hub (default) or other subcommands.

mod simulate;

use clap::{Arg, ArgMatches, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use werewolf_server::Config;
use werewolf_server::config::SETTINGS;

/// Game-event hub for multi-agent Werewolf.
#[derive(Debug, Parser)]
#[command(version, about, args_conflicts_with_subcommands = true)]
struct Cli {
    /// What to run; without one, the hub serves.
    #[command(subcommand)]
    command: Option<Command>,
    /// The hub's settings, when serving without the `serve` word.
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the hub (the default). Every setting is a flag, an environment variable or a
    /// key of the `--config` file; a flag wins over the environment, which wins over the file.
    Serve(ServeArgs),
    /// Play full games in-process between random bots and print one JSON line of results.
    Simulate(simulate::SimulateArgs),
    /// Print every finished game of a durable store as one JSON line (config, seed,
    /// players and roles, winner, days, full event list); schema:
    /// `schemas/json/export_line.schema.json`.
    Export(ExportArgs),
}

/// The hub's settings as flags: one per environment variable of [`SETTINGS`], plus
/// `--config`.
#[derive(Debug, Clone, Default)]
struct ServeArgs {
    /// A TOML file of settings (keys: the variables in lower case, e.g. `ws_port = 9000`).
    config: Option<PathBuf>,
    /// Settings given as flags, by variable name.
    flags: Vec<(String, String)>,
}

impl clap::FromArgMatches for ServeArgs {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let mut args = ServeArgs::default();
        args.update_from_arg_matches(matches)?;
        Ok(args)
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        if let Some(path) = matches.get_one::<String>("HUB_CONFIG") {
            self.config = Some(PathBuf::from(path));
        }
        for setting in SETTINGS {
            // The environment is read by `Config::from_sources` itself; only flags here.
            if matches.value_source(setting.var) == Some(clap::parser::ValueSource::CommandLine)
                && let Some(v) = matches.get_one::<String>(setting.var)
            {
                self.flags.push((setting.var.to_owned(), v.clone()));
            }
        }
        Ok(())
    }
}

impl clap::Args for ServeArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        let defaults = Config::defaults();
        let mut cmd = cmd.arg(
            Arg::new("HUB_CONFIG")
                .long("config")
                .env("HUB_CONFIG")
                .value_name("FILE")
                .help("TOML file of settings (keys: the variables below in lower case)"),
        );
        for setting in SETTINGS {
            let mut arg = Arg::new(setting.var)
                .long(setting.flag)
                .env(setting.var)
                .value_name("VALUE")
                .help(setting.help);
            match defaults.get(setting.var).map(String::as_str) {
                Some("") | None => {}
                Some(default) => arg = arg.default_value(default.to_owned()),
            }
            if matches!(setting.var, "HUB_ADMIN_TOKEN" | "AIWOLF_SECRET_KEY") {
                arg = arg.hide_env_values(true);
            }
            cmd = cmd.arg(arg);
        }
        cmd
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
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
    /// Read the games from this Redis server instead of `--data-dir` (the hub's
    /// `HUB_REDIS_URL`).
    #[arg(long, env = "HUB_REDIS_URL")]
    redis_url: Option<String>,
    /// The hub's Redis key prefix (`HUB_REDIS_PREFIX`).
    #[arg(long, env = "HUB_REDIS_PREFIX", default_value = "wwh")]
    redis_prefix: String,
}

/// Hard cap on shutdown: sockets get their 1001 close within the grace, the process exits.
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(5);

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None => serve(&cli.serve),
        Some(Command::Serve(args)) => serve(&args),
        Some(Command::Simulate(args)) => simulate::run(&args),
        Some(Command::Export(args)) => export(&args),
    }
}

fn export(args: &ExportArgs) -> ExitCode {
    use werewolf_server::store::sqlite;
    if let Some(url) = &args.redis_url {
        let store = match werewolf_server::store::redis::RedisStore::open(
            url,
            &args.redis_prefix,
            Duration::from_secs(5),
            Duration::from_secs(5),
        ) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("werewolf-hub export: {e}");
                return ExitCode::from(2);
            }
        };
        return write_export(&store, args.since);
    }
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
    write_export(&store, args.since)
}

/// Writes every finished game of `store` to stdout, one JSON line each.
fn write_export(store: &dyn werewolf_server::store::GameStore, since: Option<f64>) -> ExitCode {
    use werewolf_server::store::export;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match export::export(store, since, &mut out) {
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

fn serve(args: &ServeArgs) -> ExitCode {
    let config = match Config::from_sources(
        args.config.as_deref(),
        std::env::vars(),
        args.flags.iter().cloned(),
    ) {
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
                eprintln!("werewolf-hub: {e}");
                return ExitCode::FAILURE;
            }
        };
        // Before the hub's own line: whoever waits for that one has this one too.
        if let Some(addr) = hub.aiwolf_addr() {
            eprintln!("werewolf-hub AIWolf endpoint listening on ws://{addr}/ws");
        }
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
