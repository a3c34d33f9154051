//! werewolf-hub's transport: axum WebSocket and REST over the [`ConnectionManager`].
//!
//! # Layout
//! - [`config`]: settings from the environment (envy), validated with messages naming the
//!   variable.
//! - [`connection_manager`]: the registry of live clients and every delivery primitive
//!   (personal, by type, all-but-one, explicit ids). Serialize once, share the bytes, never
//!   wait on a client.
//! - [`socket`]: one connection: reader loop (parse, rate limit, route, heartbeat) and a
//!   single writer task draining the bounded queue.
//! - [`http`]: the router and its layers, `/health`, `/stats`, `/metrics`.
//! - [`upgrade`]: `/ws/{client_id}` before the upgrade: parameters, credentials, slots, the
//!   binding to a game or the lobby, and the hand-off to the game's node in a cluster.
//! - [`aiwolf`]: the AIWolf NLP endpoint (`GET /ws`): AIWolf agents play hub games unchanged
//!   through an adapter on their seat's stream.
//! - [`api`]: the JSON error body of every refusal, the OpenAPI document (`/openapi.json`)
//!   and its index (`/api`).
//! - [`metrics`]: `GET /metrics` in Prometheus text format (hidden-side figures only once
//!   their game has ended).
//! - [`schema_files`]: `/schemas`, the wire's JSON Schemas for tooling.
//! - [`pages`]: the spectator pages (lobby and table, live and replay), embedded assets.
//! - [`games`]: games over the hub: REST lobby, seats and tokens, one actor task per game
//!   delivering every event only to the clients entitled to it.
//! - [`close_code`]: every close the server initiates and whether to reconnect.
//! - [`rate_limit`]: per-connection token bucket and abuse counter.
//! - [`serve`]: the accept loop (hyper HTTP/1.1 with upgrades and a header-read timeout).
//! - [`store`]: the durable per-game log behind the [`store::GameStore`] trait (memory and
//!   SQLite backends): inputs for crash recovery, every stream's frames for resume and replays.
//! - [`cluster`]: several hubs over one Redis as one hub: owner lookup, relaying sockets and
//!   REST to a game's node, merged lists, the cluster-wide lobby, node directory.
//! - [`shutdown`]: the [`Shutdown`] signal and OS signal handling.
//! - [`state`]: [`AppState`], the cheap-to-clone handle every task holds.
//!
//! # Starting a hub
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let hub = werewolf_server::start(werewolf_server::Config::default()).await?;
//! println!("listening on {}", hub.addr());
//! hub.shutdown().trigger();
//! hub.stopped().await
//! # }
//! ```

#![warn(missing_docs)]

pub mod aiwolf;
pub mod api;
pub mod clock;
pub mod close_code;
pub mod cluster;
pub mod config;
pub mod connection_manager;
pub mod games;
pub mod http;
pub mod metrics;
pub mod pages;
pub mod rate_limit;
pub mod schema_files;
pub mod serve;
pub mod shutdown;
pub mod socket;
pub mod state;
pub mod store;
pub mod upgrade;

pub use close_code::CloseReason;
pub use config::{Config, ConfigError};
pub use connection_manager::{Audience, ConnectionManager, SendError};
pub use shutdown::Shutdown;
pub use state::AppState;

use std::net::SocketAddr;
use tokio::net::{TcpListener, TcpSocket};
use tokio::task::JoinHandle;
use tracing::warn;

/// A hub that is accepting connections.
#[derive(Debug)]
pub struct RunningHub {
    /// The bound address (the real port when `WS_PORT=0`).
    addr: SocketAddr,
    /// The AIWolf-only listener's address (`AIWOLF_PORT`), if there is one.
    aiwolf_addr: Option<SocketAddr>,
    /// Shared state, for in-process inspection (tests, embedding).
    state: AppState,
    /// The accept loop; ends after shutdown once sockets are closed.
    join: JoinHandle<std::io::Result<()>>,
}

/// Opens the store, recovers its games, binds `WS_HOST:WS_PORT` and starts serving in the
/// background. A store that cannot be used is an error of kind `InvalidData` whose message
/// names the file and the problem.
pub async fn start(config: Config) -> std::io::Result<RunningHub> {
    let invalid =
        |e: store::StoreError| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string());
    let shared = match &config.hub_redis_url {
        Some(url) => Some(std::sync::Arc::new(
            store::redis::RedisStore::open(
                url,
                &config.hub_redis_prefix,
                std::time::Duration::from_secs(config.hub_redis_retry_s),
                std::time::Duration::from_millis(config.hub_redis_lease_ms),
            )
            .map_err(invalid)?,
        )),
        None => None,
    };
    let store: store::Store = match &shared {
        Some(redis) => redis.clone(),
        None => config.open_store().map_err(invalid)?,
    };
    let listener = listen(
        &config,
        config.ws_port,
        "WS_HOST / WS_PORT, --host / --port",
    )?;
    let addr = listener.local_addr()?;
    let aiwolf_listener = match config.aiwolf_port {
        Some(port) => Some(listen(
            &config,
            port,
            "WS_HOST / AIWOLF_PORT, --host / --aiwolf-port",
        )?),
        None => None,
    };
    let aiwolf_addr = match &aiwolf_listener {
        Some(l) => Some(l.local_addr()?),
        None => None,
    };
    let mut state = AppState::new(config, store);
    if let Some(redis) = shared {
        state.cluster = Some(
            cluster::Cluster::start(
                &state.config,
                redis,
                addr,
                state.manager.clone(),
                state.shutdown.clone(),
                state.games.clone(),
            )
            .map_err(invalid)?,
        );
    }
    state
        .games
        .recover(state.links())
        .await
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))?;
    if state.config.hub_redis_url.is_some() {
        // Several hubs may share the store: take over games whose hub's lease runs out (or
        // was given up by a hub that stopped), within a second of it.
        let every = std::time::Duration::from_millis(state.config.hub_redis_lease_ms / 2)
            .min(std::time::Duration::from_secs(1));
        tokio::spawn(state.games.clone().adopt_orphans(state.links(), every));
    }
    let app = http::router(state.clone());

    // Close every socket as soon as shutdown starts: 1001 on a hub of its own, 1012 in a
    // cluster (its games move to other nodes: reconnect there with `last_seq`).
    let closer = state.clone();
    tokio::spawn(async move {
        closer.shutdown.triggered().await;
        closer.manager.close_all(if closer.cluster.is_some() {
            CloseReason::ServiceRestart
        } else {
            CloseReason::ServerShutdown
        });
    });

    let serving = state.clone();
    let join = tokio::spawn(async move {
        let grace = serving.config.shutdown_grace();
        let aiwolf = aiwolf_listener.map(|l| {
            serve::serve(
                l,
                aiwolf::listener::router(serving.clone()),
                serving.clone(),
            )
        });
        let serve = serve::serve(listener, app, serving.clone());
        let served = async {
            let result = match aiwolf {
                Some(aiwolf) => {
                    let (main, aiwolf) = tokio::join!(serve, aiwolf);
                    main.and(aiwolf)
                }
                None => serve.await,
            };
            serving.connections.close();
            serving.connections.wait().await;
            if let Err(e) = serving.games.store.close().wait().await {
                warn!(error = %e, "store did not close cleanly");
            }
            result
        };
        tokio::pin!(served);
        tokio::select! {
            r = &mut served => r,
            _ = async { serving.shutdown.triggered().await; tokio::time::sleep(grace).await } => {
                warn!("shutdown grace elapsed with connections still open; dropping them");
                Ok(())
            }
        }
    });
    Ok(RunningHub {
        addr,
        aiwolf_addr,
        state,
        join,
    })
}

/// Binds `WS_HOST` and `port` with the configured backlog (`TcpListener::bind` always asks
/// for 1024 at most). A failure names the address and the settings (`settings`) that chose it.
fn listen(config: &Config, port: u16, settings: &str) -> std::io::Result<TcpListener> {
    let mut addr = config.bind_addr()?;
    addr.set_port(port);
    let bind = || -> std::io::Result<TcpListener> {
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        socket.bind(addr)?;
        socket.listen(config.ws_backlog)
    };
    bind().map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!("cannot listen on {addr} ({settings}): {e}"),
        )
    })
}

impl RunningHub {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The AIWolf-only listener's bound address (`AIWOLF_PORT`), if there is one.
    pub fn aiwolf_addr(&self) -> Option<SocketAddr> {
        self.aiwolf_addr
    }

    /// The shutdown signal of this hub.
    pub fn shutdown(&self) -> Shutdown {
        self.state.shutdown.clone()
    }

    /// The hub's connection registry.
    pub fn manager(&self) -> &ConnectionManager {
        &self.state.manager
    }

    /// Waits until the hub has stopped (after [`Shutdown::trigger`]).
    pub async fn stopped(self) -> std::io::Result<()> {
        match self.join.await {
            Ok(r) => r,
            Err(e) => Err(std::io::Error::other(e)),
        }
    }
}
