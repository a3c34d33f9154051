//! Several hubs as one (`HUB_REDIS_URL`): every node started with the same Redis is a node of
//! one logical hub.
//!
//! # Model
//! - **One owner per game.** A game runs on the node holding its lease in Redis (see
//!   [`crate::store::redis`]); the lease token starts with the owner's node id, so any node
//!   reads who runs a game from the lease.
//! - **Any node serves any client.** A WebSocket or REST request for a game another node runs
//!   is relayed to that node ([`relay`] for sockets, [`forward`] for REST): the owner checks
//!   the credentials, numbers the streams and serializes every frame once, and the relaying
//!   node passes the bytes through unchanged, so `seq`, resume and refusals are the same
//!   through every node. A game whose lease is free (its node died) is taken over on the spot
//!   by the node a client reaches, or within a second by the orphan scan.
//! - **Nodes know each other** through Redis: each writes its base URL (`HUB_NODE_URL`) and
//!   its own client counts under `{prefix}:node:{id}` every second, with a short expiry, so
//!   `/stats` adds up the cluster and a dead node drops out by itself.
//! - **The lobby is cluster-wide**: lobby broadcasts (seed 004's relay of `agent_message`,
//!   `disconnection` notices) are published on one Redis channel and delivered by every node
//!   to its own lobby clients.
//! - **Relayed requests are trusted by a shared secret** created once in Redis
//!   (`{prefix}:cluster-secret`): a relayed connection is not counted again by the owner, and
//!   the client's address travels with it for the per-address limit.

pub mod forward;
pub mod lobby;
pub mod relay;

use crate::connection_manager::ConnectionManager;
use crate::shutdown::Shutdown;
use crate::store::StoreError;
use crate::store::redis::RedisStore;
use arc_swap::ArcSwap;
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tracing::{info, warn};
use werewolf_schemas::ClientType;

/// Header carrying the cluster secret on node-to-node requests.
pub const RELAY_HEADER: &str = "x-wwh-relay";
/// Header carrying the original client's address on a relayed request.
pub const CLIENT_IP_HEADER: &str = "x-wwh-client-ip";
/// How often a node writes its record.
const BEAT: Duration = Duration::from_secs(1);
/// How long a node record lives without a beat.
const NODE_TTL_MS: u64 = 3_000;

/// What a node publishes about itself.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NodeRecord {
    /// The node's id (fresh at every start).
    pub node_id: String,
    /// Its base URL, as other nodes reach it.
    pub url: String,
    /// Clients whose socket this node holds (relayed ones included, relays from peers not).
    pub clients: usize,
    /// The same, per client type.
    pub by_type: BTreeMap<String, usize>,
    /// Games this node runs.
    pub games: usize,
}

/// Where a game runs, as seen from this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// Another live node runs it: its base URL.
    Remote(String),
    /// This node holds the lease (the game may still be coming up here).
    Here,
    /// Nobody holds its lease: any node may take it over.
    Free,
    /// The lease names a node that stopped beating: wait for the lease to run out.
    Gone,
}

/// A socket this node relays to the game's owner, for `/stats`.
#[derive(Debug, Clone)]
pub struct RelayedClient {
    /// The client's id.
    pub client_id: String,
    /// Its type.
    pub client_type: ClientType,
    /// Epoch seconds when it connected.
    pub connected_at: f64,
}

/// This node's membership of the cluster, behind a cheap-to-clone handle.
#[derive(Debug, Clone)]
pub struct Cluster {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// This node's id (the prefix of its lease tokens).
    node_id: String,
    /// This node's base URL, as peers reach it.
    url: String,
    /// The secret relayed requests carry; the same on every node of the cluster.
    secret: String,
    /// The shared store (leases, owner lookups).
    store: Arc<RedisStore>,
    /// The other live nodes, by id, as of the last beat.
    peers: ArcSwap<HashMap<String, NodeRecord>>,
    /// Every node's record (this one included), as of the last beat.
    all: ArcSwap<Vec<NodeRecord>>,
    /// Client sockets relayed to other nodes, by relay number.
    relayed: Mutex<HashMap<u64, RelayedClient>>,
    /// Numbers the relays.
    next_relay: AtomicU64,
    /// For node-to-node REST.
    http: reqwest::Client,
}

impl Cluster {
    /// Joins the cluster: reads (or creates) the cluster secret, writes this node's record,
    /// and starts the beat and the lobby channel. `addr` is the bound address, for the
    /// default node URL.
    pub fn start(
        config: &crate::Config,
        store: Arc<RedisStore>,
        addr: SocketAddr,
        manager: ConnectionManager,
        shutdown: Shutdown,
        games: crate::games::GameRegistry,
    ) -> Result<Cluster, StoreError> {
        let url = match &config.hub_node_url {
            Some(u) => u.trim_end_matches('/').to_owned(),
            None => default_url(addr),
        };
        let key = format!("{}:cluster-secret", store.prefix());
        let candidate = crate::games::secret::token();
        let mut c = store
            .client()
            .get_connection_with_timeout(Duration::from_secs(5))
            .map_err(|e| StoreError::Io(format!("Redis: {e}")))?;
        let secret: String = redis::pipe()
            .cmd("SET")
            .arg(&key)
            .arg(&candidate)
            .arg("NX")
            .ignore()
            .cmd("GET")
            .arg(&key)
            .query::<(String,)>(&mut c)
            .map(|(s,)| s)
            .map_err(|e| StoreError::Io(format!("Redis: {e}")))?;
        lobby::start(&store, manager.clone())?;
        let cluster = Cluster {
            inner: Arc::new(Inner {
                node_id: store.node_id().to_owned(),
                url,
                secret,
                store,
                peers: ArcSwap::default(),
                all: ArcSwap::default(),
                relayed: Mutex::default(),
                next_relay: AtomicU64::new(0),
                http: reqwest::Client::builder()
                    .connect_timeout(Duration::from_secs(2))
                    .timeout(Duration::from_secs(30))
                    .build()
                    .map_err(|e| StoreError::Io(e.to_string()))?,
            }),
        };
        info!(node_id = %cluster.node_id(), url = %cluster.inner.url, "joined the cluster");
        cluster.beat_once(&manager, &games);
        let beating = cluster.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = shutdown.triggered() => break,
                    _ = tokio::time::sleep(BEAT) => {}
                }
                let (c, m, g) = (beating.clone(), manager.clone(), games.clone());
                let _ = tokio::task::spawn_blocking(move || c.beat_once(&m, &g)).await;
            }
            // A stopping node leaves the directory at once.
            let c = beating.clone();
            let _ = tokio::task::spawn_blocking(move || c.leave()).await;
        });
        Ok(cluster)
    }

    /// This node's id.
    pub fn node_id(&self) -> &str {
        &self.inner.node_id
    }

    /// This node's base URL.
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// Whether a request comes from another node of this cluster.
    pub fn is_relayed(&self, headers: &HeaderMap) -> bool {
        headers
            .get(RELAY_HEADER)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| crate::games::secret::tokens_match(v, &self.inner.secret))
    }

    /// The secret relayed requests carry.
    fn secret(&self) -> &str {
        &self.inner.secret
    }

    /// Where `game_id` runs now.
    pub async fn locate(&self, game_id: &str) -> Result<Location, StoreError> {
        let store = self.inner.store.clone();
        let id = game_id.to_owned();
        let owner = tokio::task::spawn_blocking(move || store.owner_node(&id))
            .await
            .map_err(|e| StoreError::Io(e.to_string()))??;
        Ok(match owner {
            None => Location::Free,
            Some(node) if node == self.inner.node_id => Location::Here,
            Some(node) => match self.inner.peers.load().get(&node) {
                Some(peer) => Location::Remote(peer.url.clone()),
                // Not among the peers of the last beat: a node that started since, or one
                // that stopped beating. Its record says which.
                None => match self.read_record(&node).await {
                    Some(peer) => Location::Remote(peer.url),
                    None => Location::Gone,
                },
            },
        })
    }

    /// A node's record in Redis, if it is alive.
    async fn read_record(&self, node_id: &str) -> Option<NodeRecord> {
        let store = self.inner.store.clone();
        let key = format!("{}:node:{node_id}", store.prefix());
        let json: Option<String> = tokio::task::spawn_blocking(move || {
            store.read(|c| redis::cmd("GET").arg(&key).query(c))
        })
        .await
        .ok()?
        .ok()?;
        serde_json::from_str(&json?).ok()
    }

    /// Every live node's record (this one's included), as of the last beat.
    pub fn nodes(&self) -> Arc<Vec<NodeRecord>> {
        self.inner.all.load_full()
    }

    /// The base URLs of the other live nodes.
    pub fn peer_urls(&self) -> Vec<String> {
        self.inner
            .peers
            .load()
            .values()
            .map(|p| p.url.clone())
            .collect()
    }

    /// The client for node-to-node REST.
    pub fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// Registers a socket relayed to another node (for `/stats`); the guard unregisters it.
    pub fn track_relay(&self, client: RelayedClient) -> RelayGuard {
        let n = self.inner.next_relay.fetch_add(1, Ordering::Relaxed);
        self.inner
            .relayed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(n, client);
        RelayGuard {
            cluster: self.clone(),
            n,
        }
    }

    /// The sockets this node relays now.
    pub fn relayed(&self) -> Vec<RelayedClient> {
        self.inner
            .relayed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// This node's own record, from its connections: relays from peers are the peers'
    /// clients, relays to peers are ours.
    pub fn record(&self, manager: &ConnectionManager, games: usize) -> NodeRecord {
        let stats = manager.stats();
        let mut by_type: BTreeMap<String, usize> = stats
            .by_type
            .iter()
            .map(|(k, v)| ((*k).to_owned(), *v))
            .collect();
        let relayed = self.relayed();
        for r in &relayed {
            *by_type.entry(r.client_type.to_string()).or_default() += 1;
        }
        NodeRecord {
            node_id: self.inner.node_id.clone(),
            url: self.inner.url.clone(),
            clients: stats.total_clients + relayed.len(),
            by_type,
            games,
        }
    }

    /// Writes this node's record and reads everyone's (blocking).
    fn beat_once(&self, manager: &ConnectionManager, games: &crate::games::GameRegistry) {
        let record = self.record(manager, games.len());
        let prefix = self.inner.store.prefix();
        let nodes = format!("{prefix}:nodes");
        let mine = format!("{prefix}:node:{}", self.inner.node_id);
        let json = serde_json::to_string(&record).unwrap_or_default();
        let result = self
            .inner
            .store
            .read(|c| -> redis::RedisResult<Vec<NodeRecord>> {
                let now_ms = (crate::clock::now_epoch_s() * 1000.0) as u64;
                let (ids,): (Vec<String>,) = redis::pipe()
                    .cmd("SET")
                    .arg(&mine)
                    .arg(&json)
                    .arg("PX")
                    .arg(NODE_TTL_MS)
                    .ignore()
                    .cmd("ZADD")
                    .arg(&nodes)
                    .arg(now_ms)
                    .arg(&self.inner.node_id)
                    .ignore()
                    .cmd("ZREMRANGEBYSCORE")
                    .arg(&nodes)
                    .arg(0)
                    .arg(now_ms.saturating_sub(NODE_TTL_MS))
                    .ignore()
                    .cmd("ZRANGE")
                    .arg(&nodes)
                    .arg(0)
                    .arg(-1)
                    .query(c)?;
                let keys: Vec<String> = ids.iter().map(|i| format!("{prefix}:node:{i}")).collect();
                let values: Vec<Option<String>> = if keys.is_empty() {
                    Vec::new()
                } else {
                    redis::cmd("MGET").arg(&keys).query(c)?
                };
                Ok(values
                    .into_iter()
                    .flatten()
                    .filter_map(|v| serde_json::from_str(&v).ok())
                    .collect())
            });
        match result {
            Ok(all) => {
                let peers = all
                    .iter()
                    .filter(|r| r.node_id != self.inner.node_id)
                    .map(|r| (r.node_id.clone(), r.clone()))
                    .collect();
                self.inner.peers.store(Arc::new(peers));
                self.inner.all.store(Arc::new(all));
            }
            Err(e) => warn!(error = %e, "cluster beat failed"),
        }
    }

    /// Removes this node's record.
    fn leave(&self) {
        let prefix = self.inner.store.prefix();
        let _ = self.inner.store.read(|c| {
            redis::pipe()
                .cmd("DEL")
                .arg(format!("{prefix}:node:{}", self.inner.node_id))
                .ignore()
                .cmd("ZREM")
                .arg(format!("{prefix}:nodes"))
                .arg(&self.inner.node_id)
                .ignore()
                .query::<()>(c)
        });
    }
}

/// Unregisters a relayed socket when dropped.
#[derive(Debug)]
pub struct RelayGuard {
    cluster: Cluster,
    n: u64,
}

impl Drop for RelayGuard {
    fn drop(&mut self) {
        self.cluster
            .inner
            .relayed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.n);
    }
}

/// `http://{addr}`, or the host name when bound to a wildcard address.
fn default_url(addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() {
        let host = std::env::var("HOSTNAME")
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "127.0.0.1".to_owned());
        warn!(
            host = %host,
            "WS_HOST is a wildcard address: the other hubs will reach this one as {host}; set HUB_NODE_URL if they cannot"
        );
        format!("http://{host}:{}", addr.port())
    } else {
        format!("http://{addr}")
    }
}

/// The game a WebSocket client refers to: its `game_id`, else the game of a seat-shaped
/// `client_id` (`{game_id}-p{n}`).
pub fn game_of<'a>(client_id: &'a str, game_id: Option<&'a str>) -> Option<&'a str> {
    if let Some(g) = game_id.filter(|g| !g.is_empty()) {
        return Some(g);
    }
    let (game, n) = client_id.rsplit_once("-p")?;
    (!game.is_empty() && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())).then_some(game)
}
