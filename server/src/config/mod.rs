//! Configuration: the seed's environment variables, the same settings as command-line
//! flags ([`SETTINGS`], used by the binary) and an optional TOML file. Precedence: flag, then
//! environment, then file, then the default.
//!
//! - this file: [`Config`], its defaults and its validation;
//! - `sources`: the settings table, the TOML file and the merge of the sources.

mod sources;

pub use sources::{SETTINGS, Setting};

use serde::{Deserialize, Serialize};
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

/// Hub settings. Every field is read from the upper-cased environment variable of the same
/// name (`WS_PORT`, ...); anything unset takes the documented default, so the hub runs with
/// no configuration at all.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct Config {
    /// Interface to bind: an IP address or a host name (`WS_HOST`, default `0.0.0.0`).
    pub ws_host: String,
    /// TCP port (`WS_PORT`, default 8000; 0 picks a free port).
    pub ws_port: u16,
    /// Seconds a client may stay silent (no frame at all, pongs included) before the server
    /// closes it with 4002 (`WS_TIMEOUT`, default 300, as in seed 004). Must be ≥ 1.
    pub ws_timeout: u64,
    /// Seconds between the server's WebSocket pings (`WS_PING_INTERVAL`, default 5). ≥ 1.
    /// The server pings at least twice per `WS_TIMEOUT` whatever this says.
    pub ws_ping_interval: u64,
    /// Largest inbound message in bytes (`WS_MAX_MESSAGE_BYTES`, default 65536); larger →
    /// close 1009. At least 256.
    pub ws_max_message_bytes: usize,
    /// Outbound frames queued per client before it counts as a slow consumer and is closed
    /// with 4001 (`WS_SEND_QUEUE`, default 1024). ≥ 1.
    pub ws_send_queue: usize,
    /// Sustained inbound frames per second per connection (`WS_RATE_PER_SEC`, default 50).
    pub ws_rate_per_sec: f64,
    /// Burst of inbound frames allowed above the sustained rate (`WS_RATE_BURST`, default 100).
    pub ws_rate_burst: u32,
    /// Rate-limited frames within 10 s that count as abuse and close the socket with 1008
    /// (`WS_RATE_STRIKES`, default 50).
    pub ws_rate_strikes: u32,
    /// WebSocket read buffer per connection in bytes (`WS_READ_BUFFER`, default 4096).
    pub ws_read_buffer: usize,
    /// Bytes buffered before a write reaches the socket (`WS_WRITE_BUFFER`, default 4096); the
    /// writer flushes after each batch anyway.
    pub ws_write_buffer: usize,
    /// Listen backlog (`WS_BACKLOG`, default 4096): connections the kernel queues before
    /// `accept`, so a burst of thousands of connects is not dropped and retried.
    pub ws_backlog: u32,
    /// Kernel send buffer per socket in bytes (`WS_SOCKET_SNDBUF`, default 32768; Linux
    /// doubles it; 0 keeps the OS default, which autotunes up to MiBs). Small, so a client
    /// that stops reading fills it quickly, its queue fills and it is cut (4001) instead of
    /// parking megabytes in kernel memory.
    pub ws_socket_sndbuf: usize,
    /// Seconds a finished game stays listed and watchable (`GAME_RETENTION_S`, default 3600);
    /// then it is removed and its remaining connections closed with 4003. At least 1.
    pub game_retention_s: u64,
    /// How long shutdown waits for sockets to take their 1001 close, in ms
    /// (`WS_SHUTDOWN_GRACE_MS`, default 3000; the process exits within 5 s).
    pub ws_shutdown_grace_ms: u64,
    /// When set (`HUB_ADMIN_TOKEN`), `POST /games` and `POST /games/{id}/start` require
    /// `Authorization: Bearer <it>`; unset → open (the development default).
    pub hub_admin_token: Option<String>,
    /// Seconds an HTTP request may take to send its complete headers
    /// (`HTTP_HEADER_TIMEOUT_S`, default 10); a slower one (slowloris) is closed. ≥ 1.
    pub http_header_timeout_s: u64,
    /// Most live WebSocket connections (`WS_MAX_CONNECTIONS`, default 100000); an upgrade over
    /// the cap is refused with HTTP 503. ≥ 1.
    pub ws_max_connections: usize,
    /// Seconds after which a started game whose seats are all offline ends as `aborted`
    /// (`GAME_ABANDON_S`, default 600). ≥ 1.
    pub game_abandon_s: u64,
    /// Where games are logged (`HUB_STORE`): `sqlite` (default, durable, under
    /// `HUB_DATA_DIR`) or `memory` (nothing survives the process).
    pub hub_store: String,
    /// Directory of the durable store (`HUB_DATA_DIR`, default `./data`).
    pub hub_data_dir: String,
    /// `normal` (default: commits reach the OS before their effects are delivered; a
    /// `kill -9` loses nothing seen) or `full` (fsync every commit: power loss too)
    /// (`HUB_STORE_SYNC`).
    pub hub_store_sync: String,
    /// Milliseconds between folds of SQLite's WAL into the database file, on a thread of
    /// their own (`HUB_STORE_CHECKPOINT_MS`, default 500; 0: only at a clean shutdown, the WAL
    /// then grows with every commit).
    pub hub_store_checkpoint_ms: u64,
    /// Serve `GET /echo`, a WebSocket echo peer over the hub's socket stack, for conformance
    /// suites (`WS_ECHO`, default false).
    pub ws_echo: bool,
    /// Seconds a game may wait for its start before it is removed (`GAME_LOBBY_EXPIRE_S`,
    /// default 3600). ≥ 1.
    pub game_lobby_expire_s: u64,
    /// Most games that have not ended (`HUB_MAX_GAMES`, default 10000); `POST /games` over it
    /// is refused with 503. ≥ 1.
    pub hub_max_games: usize,
    /// Most live WebSocket connections from one IP address (`WS_MAX_CONNECTIONS_PER_IP`,
    /// default 0: no limit); over it the upgrade is refused with 429.
    pub ws_max_connections_per_ip: usize,
    /// The Redis server that holds the games' log instead of the embedded store
    /// (`HUB_REDIS_URL`, e.g. `redis://127.0.0.1:6379`; unset: `HUB_STORE` decides).
    pub hub_redis_url: Option<String>,
    /// Prefix of every Redis key of this hub (`HUB_REDIS_PREFIX`, default `wwh`).
    pub hub_redis_prefix: String,
    /// Seconds a lost Redis connection is retried before a write fails and halts its game
    /// (`HUB_REDIS_RETRY_S`, default 30). ≥ 1.
    pub hub_redis_retry_s: u64,
    /// Milliseconds a hub's lease on a game lasts without renewal (`HUB_REDIS_LEASE_MS`,
    /// default 5000; renewed every third of it). ≥ 300.
    pub hub_redis_lease_ms: u64,
    /// With `HUB_REDIS_URL`: this hub's base URL as the other hubs of the cluster reach it
    /// (`HUB_NODE_URL`, plain HTTP, e.g. `http://10.0.0.5:8000`). Unset: `http://{WS_HOST}:{port}`, or
    /// the machine's host name when `WS_HOST` is a wildcard address.
    pub hub_node_url: Option<String>,
    /// Seats of a game the AIWolf endpoint (`GET /ws`) starts for one team's waiting agents
    /// (`AIWOLF_PLAYERS`, 5 or 13, default 5: `aiwolf5` or `aiwolf13`).
    pub aiwolf_players: usize,
    /// How the AIWolf endpoint's waiting room matches agents (`AIWOLF_SELF_MATCH`, default
    /// true): true, AIWolf's self-match (one team's agents fill a game, in arrival order);
    /// false, AIWolf's mixed match (once `AIWOLF_PLAYERS` teams each have an agent waiting,
    /// that many teams drawn at random give one agent each).
    pub aiwolf_self_match: bool,
    /// The AIWolf endpoint's JWT secret (`AIWOLF_SECRET_KEY`: AIWolf's `SECRET_KEY`). When
    /// set, `GET /ws` requires an HMAC-signed (HS256/384/512) `PLAYER` token of the agent's
    /// team in `?token=` or `Authorization: Bearer`; unset (or empty): tokens are ignored.
    pub aiwolf_secret_key: Option<String>,
    /// A second port serving only the AIWolf endpoint `GET /ws` on `WS_HOST`
    /// (`AIWOLF_PORT`; unset: none; 0 picks a free port). Must differ from `WS_PORT`.
    pub aiwolf_port: Option<u16>,
    /// Milliseconds an AIWolf agent has to answer a request (`AIWOLF_ACTION_TIMEOUT_MS`,
    /// default 60000: AIWolf's `server.timeout.action`, sent as `setting.timeout.action`). ≥ 1.
    pub aiwolf_action_timeout_ms: u64,
    /// Milliseconds an AIWolf agent has to answer the `NAME` liveness probe after a timeout
    /// (`AIWOLF_RESPONSE_TIMEOUT_MS`, default 120000: `server.timeout.response`). ≥ 1.
    pub aiwolf_response_timeout_ms: u64,
    /// Grace after the action timeout before the probe, in ms
    /// (`AIWOLF_ACCEPTABLE_TIMEOUT_MS`, default 5000: `server.timeout.acceptable`; not sent).
    pub aiwolf_acceptable_timeout_ms: u64,
    /// Where AIWolf's log files go (`AIWOLF_LOG_DIR`; unset: none are written): the game
    /// logger's CSV of each game of the AIWolf endpoint in `<dir>/game/{timestamp}_{teams}.log`
    /// (and its JSON logger's in `<dir>/json/`), as `aiwolf-nlp-server` writes them.
    pub aiwolf_log_dir: Option<std::path::PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            ws_host: "0.0.0.0".to_owned(),
            ws_port: 8000,
            ws_timeout: 300,
            ws_ping_interval: 5,
            ws_max_message_bytes: 64 * 1024,
            ws_send_queue: 1024,
            ws_rate_per_sec: 50.0,
            ws_rate_burst: 100,
            ws_rate_strikes: 50,
            ws_read_buffer: 4096,
            ws_write_buffer: 4096,
            ws_backlog: 4096,
            ws_socket_sndbuf: 32 * 1024,
            game_retention_s: 3600,
            ws_shutdown_grace_ms: 3000,
            hub_admin_token: None,
            http_header_timeout_s: 10,
            ws_max_connections: 100_000,
            game_abandon_s: 600,
            ws_echo: false,
            hub_store: "sqlite".to_owned(),
            hub_data_dir: "./data".to_owned(),
            hub_store_sync: "normal".to_owned(),
            hub_store_checkpoint_ms: 500,
            game_lobby_expire_s: 3600,
            hub_max_games: 10_000,
            ws_max_connections_per_ip: 0,
            hub_redis_url: None,
            hub_redis_prefix: "wwh".to_owned(),
            hub_redis_retry_s: 30,
            hub_redis_lease_ms: 5000,
            hub_node_url: None,
            aiwolf_players: 5,
            aiwolf_self_match: true,
            aiwolf_secret_key: None,
            aiwolf_port: None,
            aiwolf_action_timeout_ms: 60_000,
            aiwolf_response_timeout_ms: 120_000,
            aiwolf_acceptable_timeout_ms: 5_000,
            aiwolf_log_dir: None,
        }
    }
}

/// A configuration that cannot be used; the message names the variable.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(String);

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_vars(std::env::vars())
    }

    /// Reads the given variables (tests pass their own instead of mutating the process env).
    pub fn from_vars<I: IntoIterator<Item = (String, String)>>(
        vars: I,
    ) -> Result<Config, ConfigError> {
        let mut config: Config = envy::from_iter(vars).map_err(|e| ConfigError(e.to_string()))?;
        // A token pasted with a trailing newline or space would never match a Bearer header.
        if let Some(token) = &mut config.hub_admin_token {
            *token = token.trim().to_owned();
        }
        // `AIWOLF_SECRET_KEY=` (as in AIWolf's example.env) means no secret: auth off.
        if config.aiwolf_secret_key.as_deref() == Some("") {
            config.aiwolf_secret_key = None;
        }
        if config
            .aiwolf_log_dir
            .as_deref()
            .is_some_and(|d| d.to_string_lossy().trim().is_empty())
        {
            config.aiwolf_log_dir = None;
        }
        config.validate()?;
        Ok(config)
    }

    /// Checks ranges that types alone do not express.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let fail = |var: &str, why: &str| Err(ConfigError(format!("{var} {why}")));
        let host_ok = !self.ws_host.is_empty()
            && self
                .ws_host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:_[]%".contains(c));
        if !host_ok {
            return fail(
                "WS_HOST",
                &format!(
                    "must be an IP address or a host name, got '{}'",
                    self.ws_host
                ),
            );
        }
        if self.ws_timeout == 0 {
            return fail("WS_TIMEOUT", "must be at least 1 (seconds)");
        }
        if self.ws_ping_interval == 0 {
            return fail("WS_PING_INTERVAL", "must be at least 1 (seconds)");
        }
        if self.ws_max_message_bytes < 256 {
            return fail("WS_MAX_MESSAGE_BYTES", "must be at least 256");
        }
        if self.ws_send_queue == 0 {
            return fail("WS_SEND_QUEUE", "must be at least 1");
        }
        if !(self.ws_rate_per_sec.is_finite() && self.ws_rate_per_sec > 0.0) {
            return fail("WS_RATE_PER_SEC", "must be a positive number");
        }
        if self.ws_rate_burst == 0 {
            return fail("WS_RATE_BURST", "must be at least 1");
        }
        if self.ws_rate_strikes == 0 {
            return fail("WS_RATE_STRIKES", "must be at least 1");
        }
        if let Some(token) = self.hub_admin_token.as_deref() {
            if token.chars().count() < 8 {
                return fail("HUB_ADMIN_TOKEN", "must be at least 8 characters when set");
            }
            if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return fail(
                    "HUB_ADMIN_TOKEN",
                    "must not contain spaces or control characters (a Bearer token is one word)",
                );
            }
        }
        if self.game_retention_s == 0 {
            return fail("GAME_RETENTION_S", "must be at least 1 (seconds)");
        }
        if self.ws_backlog == 0 {
            return fail("WS_BACKLOG", "must be at least 1");
        }
        if self.ws_socket_sndbuf != 0 && self.ws_socket_sndbuf < 4096 {
            return fail(
                "WS_SOCKET_SNDBUF",
                "must be 0 (OS default) or at least 4096",
            );
        }
        if self.http_header_timeout_s == 0 {
            return fail("HTTP_HEADER_TIMEOUT_S", "must be at least 1 (seconds)");
        }
        if self.ws_max_connections == 0 {
            return fail("WS_MAX_CONNECTIONS", "must be at least 1");
        }
        if self.game_lobby_expire_s == 0 {
            return fail("GAME_LOBBY_EXPIRE_S", "must be at least 1 (seconds)");
        }
        if self.hub_redis_lease_ms < 300 {
            return fail("HUB_REDIS_LEASE_MS", "must be at least 300 (milliseconds)");
        }
        if self.hub_redis_retry_s == 0 {
            return fail("HUB_REDIS_RETRY_S", "must be at least 1 (seconds)");
        }
        if let Some(url) = self.hub_redis_url.as_deref() {
            if !(url.starts_with("redis://")
                || url.starts_with("rediss://")
                || url.starts_with("unix://"))
            {
                return fail(
                    "HUB_REDIS_URL",
                    "must be a redis:// (or rediss://, unix://) URL",
                );
            }
            if self.hub_store == "memory" {
                return fail(
                    "HUB_REDIS_URL",
                    "conflicts with HUB_STORE=memory (Redis is the store)",
                );
            }
        }
        if let Some(url) = self.hub_node_url.as_deref() {
            if !url.starts_with("http://") || url.len() <= "http://".len() {
                return fail(
                    "HUB_NODE_URL",
                    "must be this hub's plain-HTTP base URL as other hubs reach it, e.g. \
                     http://10.0.0.5:8000 (node-to-node traffic stays on the private network)",
                );
            }
            if self.hub_redis_url.is_none() {
                return fail(
                    "HUB_NODE_URL",
                    "only means something in a cluster: set HUB_REDIS_URL too",
                );
            }
        }
        if !matches!(self.aiwolf_players, 5 | 13) {
            return fail(
                "AIWOLF_PLAYERS",
                "must be 5 or 13 (AIWolf's games: aiwolf5, aiwolf13)",
            );
        }
        if let Some(port) = self.aiwolf_port
            && port != 0
            && port == self.ws_port
        {
            return fail(
                "AIWOLF_PORT",
                "must differ from WS_PORT (the hub's own port serves GET /ws already)",
            );
        }
        let max_timeout = crate::games::spec::MAX_TIMEOUT_MS;
        if self.aiwolf_action_timeout_ms == 0 {
            return fail("AIWOLF_ACTION_TIMEOUT_MS", "must be at least 1 (ms)");
        }
        if self.aiwolf_response_timeout_ms == 0 || self.aiwolf_response_timeout_ms > max_timeout {
            return fail(
                "AIWOLF_RESPONSE_TIMEOUT_MS",
                &format!("must be 1 to {max_timeout} (ms)"),
            );
        }
        if self
            .aiwolf_action_timeout_ms
            .saturating_add(self.aiwolf_acceptable_timeout_ms)
            > max_timeout
        {
            return fail(
                "AIWOLF_ACTION_TIMEOUT_MS",
                &format!(
                    "plus AIWOLF_ACCEPTABLE_TIMEOUT_MS must be at most {max_timeout} (ms): \
                     the hub game's action timeout"
                ),
            );
        }
        if let Some(dir) = self.aiwolf_log_dir.as_deref()
            && dir.exists()
            && !dir.is_dir()
        {
            return fail(
                "AIWOLF_LOG_DIR",
                &format!("must be a directory, got the file '{}'", dir.display()),
            );
        }
        if self.hub_redis_prefix.is_empty()
            || !self
                .hub_redis_prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return fail(
                "HUB_REDIS_PREFIX",
                "must be letters, digits, '-', '_' or '.'",
            );
        }
        if self.hub_max_games == 0 {
            return fail("HUB_MAX_GAMES", "must be at least 1");
        }
        if self.game_abandon_s == 0 {
            return fail("GAME_ABANDON_S", "must be at least 1 (seconds)");
        }
        if !matches!(self.hub_store.as_str(), "sqlite" | "memory") {
            return fail(
                "HUB_STORE",
                &format!("must be `sqlite` or `memory`, got '{}'", self.hub_store),
            );
        }
        if !matches!(self.hub_store_sync.as_str(), "normal" | "full") {
            return fail(
                "HUB_STORE_SYNC",
                &format!("must be `normal` or `full`, got '{}'", self.hub_store_sync),
            );
        }
        if self.hub_data_dir.trim().is_empty() {
            return fail("HUB_DATA_DIR", "must not be empty");
        }
        if self.ws_read_buffer < 512 {
            return fail("WS_READ_BUFFER", "must be at least 512");
        }
        Ok(())
    }

    /// The address to bind: `WS_HOST` (resolved when it is a name) and `WS_PORT`. The error
    /// names the setting.
    pub fn bind_addr(&self) -> std::io::Result<SocketAddr> {
        let host = self.ws_host.trim_start_matches('[').trim_end_matches(']');
        (host, self.ws_port)
            .to_socket_addrs()
            .and_then(|mut addrs| {
                addrs
                    .next()
                    .ok_or_else(|| std::io::Error::other("no address"))
            })
            .map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!(
                        "WS_HOST '{}' (--host) does not resolve to an address: {e}",
                        self.ws_host
                    ),
                )
            })
    }

    /// Silence allowed before a heartbeat close.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.ws_timeout)
    }

    /// Interval of the server's pings.
    pub fn ping_interval(&self) -> Duration {
        Duration::from_secs(self.ws_ping_interval)
    }

    /// Opens the configured store (one line naming the file and the problem on failure).
    pub fn open_store(&self) -> Result<crate::store::Store, crate::store::StoreError> {
        if let Some(url) = &self.hub_redis_url {
            return Ok(std::sync::Arc::new(crate::store::redis::RedisStore::open(
                url,
                &self.hub_redis_prefix,
                Duration::from_secs(self.hub_redis_retry_s),
                Duration::from_millis(self.hub_redis_lease_ms),
            )?));
        }
        Ok(match self.hub_store.as_str() {
            "memory" => std::sync::Arc::new(crate::store::memory::MemoryStore::new()),
            _ => std::sync::Arc::new(crate::store::sqlite::SqliteStore::open_with(
                std::path::Path::new(&self.hub_data_dir),
                self.hub_store_sync == "full",
                (self.hub_store_checkpoint_ms > 0)
                    .then(|| Duration::from_millis(self.hub_store_checkpoint_ms)),
            )?),
        })
    }

    /// How long a finished game stays in memory.
    pub fn retention(&self) -> Duration {
        Duration::from_secs(self.game_retention_s)
    }

    /// Time an HTTP request gets to send its headers.
    pub fn header_timeout(&self) -> Duration {
        Duration::from_secs(self.http_header_timeout_s)
    }

    /// Longest talk or whisper a game may allow, in chars: what fits in one inbound message
    /// (4 UTF-8 bytes per char, 1 KiB for the rest of the frame).
    pub fn max_message_chars(&self) -> usize {
        self.ws_max_message_bytes.saturating_sub(1024) / 4
    }

    /// The action timeout of the AIWolf endpoint's hub games: AIWolf's action timeout plus
    /// its grace, so the hub never expires a request before AIWolf would.
    pub fn aiwolf_game_timeout_ms(&self) -> u64 {
        self.aiwolf_action_timeout_ms
            .saturating_add(self.aiwolf_acceptable_timeout_ms)
    }

    /// Grace given to sockets on shutdown.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_millis(self.ws_shutdown_grace_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_without_environment() {
        let c = Config::from_vars(vars(&[])).expect("defaults are valid");
        assert_eq!(c.ws_port, 8000);
        assert_eq!(c.ws_host, "0.0.0.0");
        assert_eq!(c.ws_timeout, 300);
        assert_eq!(c.ws_max_message_bytes, 65536);
    }

    #[test]
    fn seed_variables_are_read() {
        let c = Config::from_vars(vars(&[
            ("WS_HOST", "127.0.0.1"),
            ("WS_PORT", "9000"),
            ("WS_TIMEOUT", "30"),
        ]))
        .expect("valid");
        assert_eq!(
            c.bind_addr().expect("resolves").to_string(),
            "127.0.0.1:9000"
        );
        assert_eq!(c.ws_timeout, 30);
    }

    #[test]
    fn errors_name_the_variable() {
        for (var, value) in [
            ("WS_PORT", "abc"),
            ("WS_PORT", "70000"),
            ("WS_TIMEOUT", "0"),
            ("WS_HOST", "not an ip!"),
            ("WS_RATE_PER_SEC", "-1"),
            ("WS_SEND_QUEUE", "0"),
            ("HUB_NODE_URL", "10.0.0.5:8000"),
            ("HUB_NODE_URL", "http://10.0.0.5:8000"),
            ("HUB_NODE_URL", "https://10.0.0.5:8000"),
            ("AIWOLF_PORT", "8000"),
            ("AIWOLF_ACTION_TIMEOUT_MS", "0"),
            ("AIWOLF_RESPONSE_TIMEOUT_MS", "0"),
            ("AIWOLF_ACCEPTABLE_TIMEOUT_MS", "86400000"),
            ("AIWOLF_LOG_DIR", "/dev/null"),
        ] {
            let err = Config::from_vars(vars(&[(var, value)]))
                .expect_err(var)
                .to_string();
            assert!(err.contains(var), "{err:?} should name {var}");
        }
    }

    #[test]
    fn aiwolf_settings() {
        let c = Config::from_vars(vars(&[])).expect("defaults");
        assert_eq!(c.aiwolf_port, None);
        assert_eq!(c.aiwolf_secret_key, None);
        assert_eq!(c.aiwolf_game_timeout_ms(), 65_000);
        let c = Config::from_vars(vars(&[
            ("AIWOLF_SECRET_KEY", ""),
            ("AIWOLF_PORT", "0"),
            ("WS_PORT", "0"),
            ("AIWOLF_ACTION_TIMEOUT_MS", "1500"),
            ("AIWOLF_ACCEPTABLE_TIMEOUT_MS", "0"),
        ]))
        .expect("valid");
        assert_eq!(c.aiwolf_secret_key, None, "empty: auth off");
        assert_eq!(c.aiwolf_port, Some(0), "0 and 0 are two free ports");
        assert_eq!(c.aiwolf_game_timeout_ms(), 1500);
    }
}
