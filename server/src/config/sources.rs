//! Where settings come from: the table of every setting (variable, flag, help), the
//! optional TOML file, and their merge with the environment and the flags.

use super::{Config, ConfigError};
use std::collections::BTreeMap;

/// One setting: its environment variable, its command-line flag, what it does.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    /// The environment variable (and, lower-cased, the config file key).
    pub var: &'static str,
    /// The long flag, without `--`.
    pub flag: &'static str,
    /// One line for `--help`.
    pub help: &'static str,
}

const fn setting(var: &'static str, flag: &'static str, help: &'static str) -> Setting {
    Setting { var, flag, help }
}

/// Every setting of [`Config`], in `--help` order.
pub const SETTINGS: &[Setting] = &[
    setting(
        "WS_HOST",
        "host",
        "interface to bind: an IP address or a host name",
    ),
    setting("WS_PORT", "port", "TCP port (0 picks a free one)"),
    setting(
        "WS_TIMEOUT",
        "timeout",
        "seconds of client silence before close 4002",
    ),
    setting(
        "WS_PING_INTERVAL",
        "ping-interval",
        "seconds between server pings",
    ),
    setting(
        "WS_MAX_MESSAGE_BYTES",
        "max-message-bytes",
        "largest inbound message; larger closes with 1009",
    ),
    setting(
        "WS_SEND_QUEUE",
        "send-queue",
        "frames queued per client before close 4001 (slow consumer)",
    ),
    setting(
        "WS_RATE_PER_SEC",
        "rate-per-sec",
        "sustained inbound frames per second per connection",
    ),
    setting(
        "WS_RATE_BURST",
        "rate-burst",
        "inbound burst above the sustained rate",
    ),
    setting(
        "WS_RATE_STRIKES",
        "rate-strikes",
        "rate-limited frames in 10 s before close 1008",
    ),
    setting(
        "WS_READ_BUFFER",
        "read-buffer",
        "WebSocket read buffer per connection, bytes",
    ),
    setting(
        "WS_WRITE_BUFFER",
        "write-buffer",
        "bytes buffered before a write reaches the socket",
    ),
    setting("WS_BACKLOG", "backlog", "listen backlog"),
    setting(
        "WS_SOCKET_SNDBUF",
        "socket-sndbuf",
        "kernel send buffer per socket, bytes (0: OS default)",
    ),
    setting(
        "GAME_RETENTION_S",
        "game-retention-s",
        "seconds a finished game stays listed and watchable",
    ),
    setting(
        "WS_SHUTDOWN_GRACE_MS",
        "shutdown-grace-ms",
        "ms shutdown waits for sockets to take their 1001",
    ),
    setting(
        "HUB_ADMIN_TOKEN",
        "admin-token",
        "Bearer token required to create and start games (unset: open)",
    ),
    setting(
        "HTTP_HEADER_TIMEOUT_S",
        "header-timeout-s",
        "seconds an HTTP request gets to send its headers",
    ),
    setting(
        "WS_MAX_CONNECTIONS",
        "max-connections",
        "most live WebSocket connections (more: 503)",
    ),
    setting(
        "GAME_ABANDON_S",
        "game-abandon-s",
        "seconds a running game may have every client seat offline",
    ),
    setting(
        "HUB_STORE",
        "store",
        "where games are logged: sqlite (durable) or memory",
    ),
    setting("HUB_DATA_DIR", "data-dir", "directory of the durable store"),
    setting(
        "HUB_STORE_SYNC",
        "store-sync",
        "normal (survives kill -9) or full (fsync: survives power loss)",
    ),
    setting(
        "HUB_STORE_CHECKPOINT_MS",
        "store-checkpoint-ms",
        "ms between WAL checkpoints (0: only at shutdown)",
    ),
    setting(
        "WS_ECHO",
        "echo",
        "serve GET /echo, a WebSocket echo peer for conformance suites",
    ),
    setting(
        "GAME_LOBBY_EXPIRE_S",
        "game-lobby-expire-s",
        "seconds a game may wait for its start before it is removed",
    ),
    setting(
        "HUB_MAX_GAMES",
        "max-games",
        "most games that have not ended (POST /games over it: 503)",
    ),
    setting(
        "HUB_REDIS_URL",
        "redis-url",
        "Redis server holding the games' log instead of the embedded store (redis://host:port)",
    ),
    setting(
        "HUB_REDIS_PREFIX",
        "redis-prefix",
        "prefix of this hub's Redis keys",
    ),
    setting(
        "HUB_REDIS_LEASE_MS",
        "redis-lease-ms",
        "ms a hub's lease on a game lasts without renewal (the fence against two owners)",
    ),
    setting(
        "HUB_NODE_URL",
        "node-url",
        "with HUB_REDIS_URL: this hub's base URL as the other hubs reach it (http://host:port)",
    ),
    setting(
        "AIWOLF_PLAYERS",
        "aiwolf-players",
        "seats of the games the AIWolf endpoint (GET /ws) starts: 5 or 13",
    ),
    setting(
        "AIWOLF_SELF_MATCH",
        "aiwolf-self-match",
        "true: one team's agents fill a game (AIWolf's self-match); false: one agent per team",
    ),
    setting(
        "AIWOLF_SECRET_KEY",
        "aiwolf-secret-key",
        "AIWolf's SECRET_KEY: GET /ws then requires an HMAC-signed PLAYER JWT of the agent's team",
    ),
    setting(
        "AIWOLF_PORT",
        "aiwolf-port",
        "second port serving only the AIWolf endpoint GET /ws (0 picks a free one)",
    ),
    setting(
        "AIWOLF_ACTION_TIMEOUT_MS",
        "aiwolf-action-timeout-ms",
        "ms an AIWolf agent has to answer a request (AIWolf's timeout.action)",
    ),
    setting(
        "AIWOLF_RESPONSE_TIMEOUT_MS",
        "aiwolf-response-timeout-ms",
        "ms an AIWolf agent has to answer the NAME liveness probe (timeout.response)",
    ),
    setting(
        "AIWOLF_ACCEPTABLE_TIMEOUT_MS",
        "aiwolf-acceptable-timeout-ms",
        "grace in ms after the action timeout before the NAME probe (timeout.acceptable)",
    ),
    setting(
        "AIWOLF_LOG_DIR",
        "aiwolf-log-dir",
        "directory of AIWolf's log files of the AIWolf endpoint's games (game/, json/; unset: none)",
    ),
    setting(
        "HUB_REDIS_RETRY_S",
        "redis-retry-s",
        "seconds a lost Redis connection is retried before a write halts its game",
    ),
    setting(
        "WS_MAX_CONNECTIONS_PER_IP",
        "max-connections-per-ip",
        "most live WebSocket connections from one IP (0: no limit; over it: 429)",
    ),
];

/// The settings of a TOML file, by variable name. Unknown keys and non-scalar values are
/// refused, naming the key.
fn read_toml(path: &std::path::Path) -> Result<Vec<(String, String)>, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError(format!("config file {}: {e}", path.display())))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e| ConfigError(format!("config file {}: {e}", path.display())))?;
    let mut vars = Vec::new();
    for (key, value) in table {
        let var = key.to_uppercase();
        if !SETTINGS.iter().any(|s| s.var == var) {
            return Err(ConfigError(format!(
                "config file {}: unknown setting `{key}` (settings: the variables of `--help` in lower case, e.g. ws_port)",
                path.display()
            )));
        }
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            _ => {
                return Err(ConfigError(format!(
                    "config file {}: `{key}` must be a string, number or boolean",
                    path.display()
                )));
            }
        };
        vars.push((var, text));
    }
    Ok(vars)
}

impl Config {
    /// Reads the settings from, in rising precedence: the TOML file `file` (keys are the
    /// settings' names in lower case: `ws_port = 9000`), the variables `env` (the process
    /// environment), and `overrides` (command-line flags, by variable name).
    pub fn from_sources(
        file: Option<&std::path::Path>,
        env: impl IntoIterator<Item = (String, String)>,
        overrides: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut vars: BTreeMap<String, String> = BTreeMap::new();
        if let Some(path) = file {
            vars.extend(read_toml(path)?);
        }
        let known = |k: &str| SETTINGS.iter().any(|s| s.var == k);
        vars.extend(env.into_iter().filter(|(k, _)| known(k)));
        vars.extend(overrides);
        Self::from_vars(vars)
    }

    /// Every setting's default, by variable name, as text (for `--help`).
    pub fn defaults() -> BTreeMap<String, String> {
        let value = serde_json::to_value(Config::default()).unwrap_or_default();
        value
            .as_object()
            .map(|map| {
                map.iter()
                    .map(|(k, v)| {
                        let text = match v {
                            serde_json::Value::String(s) => s.clone(),
                            serde_json::Value::Null => String::new(),
                            other => other.to_string(),
                        };
                        (k.to_uppercase(), text)
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}
