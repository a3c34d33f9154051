//! State shared by every handler and connection task.

use crate::config::Config;
use crate::connection_manager::ConnectionManager;
use crate::games::GameRegistry;
use crate::games::registry::HubLinks;
use crate::shutdown::Shutdown;
use crate::store::Store;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Semaphore;
use tokio_util::task::TaskTracker;

/// Cheap-to-clone handle given to axum handlers and connection tasks.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Every live connection.
    pub manager: ConnectionManager,
    /// Settings read at start; immutable afterwards.
    pub config: Arc<Config>,
    /// When the hub started, for `/health.uptime_s`.
    pub started_at: Instant,
    /// Triggered once to stop the hub.
    pub shutdown: Shutdown,
    /// Every connection task, so shutdown can wait for their close frames.
    pub connections: TaskTracker,
    /// Every game.
    pub games: GameRegistry,
    /// `WS_MAX_CONNECTIONS` permits; each WebSocket holds one for its whole life.
    pub ws_slots: Arc<Semaphore>,
    /// Live WebSocket connections per peer IP (only counted with `WS_MAX_CONNECTIONS_PER_IP`).
    pub per_ip: PerIp,
    /// The hub's Prometheus recorder (`GET /metrics`).
    pub metrics: Arc<crate::metrics::HubMetrics>,
    /// This hub's place in a cluster (`HUB_REDIS_URL`); `None`: a hub on its own.
    pub cluster: Option<crate::cluster::Cluster>,
    /// AIWolf agents waiting for a game (`GET /ws`).
    pub aiwolf: Arc<crate::aiwolf::WaitingRoom>,
}

impl AppState {
    /// Fresh state for a hub with this configuration, logging games to `store`.
    pub fn new(config: Config, store: Store) -> Self {
        AppState {
            ws_slots: Arc::new(Semaphore::new(config.ws_max_connections)),
            manager: ConnectionManager::new(config.ws_send_queue),
            config: Arc::new(config),
            started_at: Instant::now(),
            shutdown: Shutdown::new(),
            connections: TaskTracker::new(),
            games: GameRegistry::new(store),
            metrics: crate::metrics::HubMetrics::new(),
            per_ip: PerIp::default(),
            cluster: None,
            aiwolf: Arc::default(),
        }
    }

    /// What a game's actor needs from the hub.
    pub fn links(&self) -> HubLinks {
        HubLinks {
            manager: self.manager.clone(),
            shutdown: self.shutdown.clone(),
            retention: self.config.retention(),
            abandon_after: std::time::Duration::from_secs(self.config.game_abandon_s),
            timeout_s: self.config.ws_timeout,
            max_message_bytes: self.config.ws_max_message_bytes,
            metrics: self.metrics.clone(),
            lobby_expire: std::time::Duration::from_secs(self.config.game_lobby_expire_s),
        }
    }
}

/// Live connections per peer IP, shared by every upgrade.
pub type PerIp = Arc<std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>>;

/// One connection of an IP address, counted until dropped (held by the socket's task).
#[derive(Debug)]
pub struct IpSlot {
    /// The counts.
    map: PerIp,
    /// Whose slot.
    ip: std::net::IpAddr,
}

impl IpSlot {
    /// A slot for `ip` if it holds fewer than `cap` connections.
    pub fn take(map: &PerIp, ip: std::net::IpAddr, cap: usize) -> Option<IpSlot> {
        let mut counts = map.lock().unwrap_or_else(|p| p.into_inner());
        let n = counts.entry(ip).or_default();
        if *n >= cap {
            return None;
        }
        *n += 1;
        Some(IpSlot {
            map: map.clone(),
            ip,
        })
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut counts = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = counts.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&self.ip);
            }
        }
    }
}
