//! The registry of connected clients and every way of delivering a frame to them.
//!
//! Delivery never waits: a frame is serialized once, its bytes are shared by every recipient
//! (`Utf8Bytes` is reference-counted), and each recipient gets it by `try_send` into its own
//! bounded queue, drained by that socket's writer task. A full queue means a slow consumer:
//! it is closed with 4001 and nobody else is delayed.
//!
//! The registry is an immutable value of persistent maps (`imbl`) behind an `ArcSwap`:
//! broadcasts load it without any lock, and connect/disconnect build the next version in
//! O(log n) (structural sharing) under a writers-only mutex. Nothing is ever rebuilt in
//! full, so 10,000 clients leaving at once costs 10,000 small updates, not 10,000 copies.
//!
//! The counters (`/stats`, `/metrics`) live in `counters`.

mod counters;

pub use counters::{ClientStats, Counters, ERROR_CODES, Stats, Traffic};

use crate::clock::now_epoch_s;
use crate::close_code::CloseReason;
use arc_swap::ArcSwap;
use axum::extract::ws::{Message, Utf8Bytes};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::Notify;
use tokio::sync::mpsc;
use werewolf_schemas::{ClientType, DisconnectionData, ServerFrame, ServerMessage};

/// One live connection as the registry knows it.
#[derive(Debug)]
pub struct ClientEntry {
    /// The client's id from the URL; unique among live connections.
    pub id: Arc<str>,
    /// What the client connected as.
    pub client_type: ClientType,
    /// Epoch seconds when this connection was accepted.
    pub connected_at: f64,
    /// Distinguishes successive connections with the same id, so a replaced connection's
    /// cleanup never removes its successor.
    pub conn_id: u64,
    /// Not bound to a game: receives the lobby relay and `disconnection` notices. Game-bound
    /// connections hear only their game.
    pub lobby: bool,
    /// What the connection proved when it was accepted; only a connection with the same
    /// credential may replace it.
    pub credential: Credential,
    /// Where this connection's frames are counted: the hub's live counters, or a game's
    /// until that game ends (a seat's or the full view's traffic would reveal night actions).
    pub traffic: Arc<Traffic>,
    /// Frames waiting for this socket's writer; bounded by `WS_SEND_QUEUE`.
    queue: mpsc::Sender<Message>,
    /// How this connection is told to end, and why.
    pub control: ConnectionControl,
    /// Relayed by another node of the cluster, which holds the client's socket and counts
    /// it: left out of this node's `/stats` client list.
    pub relayed: bool,
}

/// Ends a connection from anywhere: records the first reason and wakes its tasks.
///
/// A flag plus a `Notify` rather than a cancellation token: `is_cancelled` sits on the
/// delivery hot path (one check per recipient) and must be a plain atomic load.
#[derive(Debug, Default)]
pub struct ConnectionControl {
    /// The server's reason for closing; the first one set wins. Unset: the client left.
    reason: OnceLock<CloseReason>,
    /// Set once the connection must end; never cleared.
    closing: AtomicBool,
    /// Wakes the reader and writer waiting in [`ConnectionControl::cancelled`].
    wake: Notify,
}

impl ConnectionControl {
    /// Asks the connection to close with `reason`. Returns whether this call set the reason
    /// (false if another reason was set first).
    pub fn close(&self, reason: CloseReason) -> bool {
        let first = self.reason.set(reason).is_ok();
        self.end();
        first
    }

    /// Ends the connection without a server reason (the client went away).
    pub fn end(&self) {
        self.closing.store(true, Ordering::Release);
        self.wake.notify_waiters();
    }

    /// The server's close reason, if it initiated the close.
    pub fn reason(&self) -> Option<CloseReason> {
        self.reason.get().copied()
    }

    /// Resolves once the connection must end.
    pub async fn cancelled(&self) {
        loop {
            let notified = self.wake.notified();
            tokio::pin!(notified);
            // Register before checking the flag so an `end()` in between is not missed.
            notified.as_mut().enable();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }

    /// Whether the connection is ending.
    pub fn is_cancelled(&self) -> bool {
        self.closing.load(Ordering::Acquire)
    }
}

/// What a connection proved when it connected. A `client_id` held by a live connection can
/// be taken over only by a connection with an equal credential (a reconnect); the lobby and
/// public viewers are anonymous, so anonymous connections replace each other as in seed 004.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Credential {
    /// No token: lobby clients and public viewers.
    #[default]
    Anonymous,
    /// A seat's token.
    Seat {
        /// The game.
        game: Arc<str>,
        /// The seat index.
        seat: usize,
    },
    /// A game's observer token.
    FullView {
        /// The game.
        game: Arc<str>,
    },
}

/// How a connection is admitted to the registry.
#[derive(Debug, Clone)]
pub struct Admission {
    /// What the client connected as.
    pub client_type: ClientType,
    /// Not bound to a game (receives the lobby relay and `disconnection` notices).
    pub lobby: bool,
    /// What it proved.
    pub credential: Credential,
    /// Where its traffic is counted; `None`: the hub's live counters.
    pub traffic: Option<Arc<Traffic>>,
    /// Relayed by another node of the cluster (see [`ClientEntry::relayed`]).
    pub relayed: bool,
}

impl Admission {
    /// An anonymous lobby client of this type.
    pub fn lobby(client_type: ClientType) -> Self {
        Admission {
            client_type,
            lobby: true,
            credential: Credential::Anonymous,
            traffic: None,
            relayed: false,
        }
    }
}

/// Which clients a broadcast reaches.
#[derive(Debug, Clone, Copy)]
pub enum Audience<'a> {
    /// Every connected client.
    All,
    /// Clients of these types.
    Types(&'a [ClientType]),
    /// Every client but this id.
    AllExcept(&'a str),
    /// Exactly these ids (absent ones are skipped).
    Ids(&'a [&'a str]),
    /// Lobby (not game-bound) clients of these types.
    LobbyTypes(&'a [ClientType]),
    /// Every lobby client but this id.
    LobbyExcept(&'a str),
}

/// A newly registered connection: its entry, its queue's receiving end (for its writer) and
/// the connection it replaced, if any.
pub type Connected = (
    Arc<ClientEntry>,
    mpsc::Receiver<Message>,
    Option<Arc<ClientEntry>>,
);

/// A frame could not be handed to a client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// No live connection has this id.
    #[error("client `{0}` is not connected")]
    NotConnected(String),
    /// The client's queue was full; it is being closed as a slow consumer.
    #[error("client `{0}` is too slow; disconnected")]
    SlowConsumer(String),
    /// The client is already closing.
    #[error("client `{0}` is closing")]
    Closing(String),
}

/// One version of the registry. Cloning it is O(1); every map shares structure with the
/// previous version.
#[derive(Debug, Clone, Default)]
struct Registry {
    /// The source of truth: id → live connection.
    clients: imbl::HashMap<Arc<str>, Arc<ClientEntry>>,
    /// Live clients per type, indexed by [`type_index`], keyed by `conn_id`.
    by_type: [imbl::OrdMap<u64, Arc<ClientEntry>>; 3],
    /// Live lobby (not game-bound) clients per type, keyed by `conn_id`.
    lobby_by_type: [imbl::OrdMap<u64, Arc<ClientEntry>>; 3],
}

impl Registry {
    fn insert(&mut self, entry: &Arc<ClientEntry>) -> Option<Arc<ClientEntry>> {
        let old = self.clients.insert(entry.id.clone(), entry.clone());
        if let Some(old) = &old {
            self.unindex(old);
        }
        let t = type_index(entry.client_type);
        self.by_type[t].insert(entry.conn_id, entry.clone());
        if entry.lobby {
            self.lobby_by_type[t].insert(entry.conn_id, entry.clone());
        }
        old
    }

    fn unindex(&mut self, entry: &ClientEntry) {
        let t = type_index(entry.client_type);
        self.by_type[t].remove(&entry.conn_id);
        self.lobby_by_type[t].remove(&entry.conn_id);
    }
}

fn type_index(t: ClientType) -> usize {
    match t {
        ClientType::Ui => 0,
        ClientType::Agent => 1,
        ClientType::Observer => 2,
    }
}

#[derive(Debug)]
struct Inner {
    /// The current registry; loaded lock-free by every broadcast.
    registry: ArcSwap<Registry>,
    /// Serializes writers (load, modify, store); never held across an await.
    writer: Mutex<()>,
    /// Source of `ClientEntry::conn_id`.
    next_conn_id: AtomicU64,
    /// Capacity of each client's queue.
    queue_capacity: usize,
    /// Lifetime statistics.
    counters: Counters,
    /// Where lobby broadcasts also go (a cluster's other nodes); set once at start.
    lobby_outlet: std::sync::OnceLock<LobbyOutlet>,
}

/// Which lobby clients a broadcast from another node reaches.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LobbyScope {
    /// Lobby clients of these types.
    Types(Vec<ClientType>),
    /// Every lobby client but this id.
    Except(String),
}

/// What a [`LobbyOutlet`] calls for every lobby broadcast made on this node.
pub type LobbyOutletFn = dyn Fn(LobbyScope, &Utf8Bytes) + Send + Sync;

/// Receives every lobby broadcast made on this node (to pass it to the other nodes).
#[derive(Clone)]
pub struct LobbyOutlet(pub Arc<LobbyOutletFn>);

impl std::fmt::Debug for LobbyOutlet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LobbyOutlet")
    }
}

/// Cheap-to-clone handle to the shared registry.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    inner: Arc<Inner>,
}

impl ConnectionManager {
    /// An empty registry whose clients queue at most `queue_capacity` frames each.
    pub fn new(queue_capacity: usize) -> Self {
        ConnectionManager {
            inner: Arc::new(Inner {
                registry: ArcSwap::from_pointee(Registry::default()),
                writer: Mutex::new(()),
                next_conn_id: AtomicU64::new(1),
                queue_capacity: queue_capacity.max(1),
                counters: Counters::default(),
                lobby_outlet: std::sync::OnceLock::new(),
            }),
        }
    }

    /// Registers a connection. If the id was already connected with the same credential,
    /// the new connection wins: the old one is told to close with 4000 and is returned. If it
    /// is held with another credential, nothing changes and the holder is the error.
    pub fn connect(&self, id: &str, admission: Admission) -> Result<Connected, Arc<ClientEntry>> {
        let (queue, rx) = mpsc::channel(self.inner.queue_capacity);
        let entry = Arc::new(ClientEntry {
            id: Arc::from(id),
            client_type: admission.client_type,
            connected_at: now_epoch_s(),
            conn_id: self.inner.next_conn_id.fetch_add(1, Ordering::Relaxed),
            lobby: admission.lobby,
            credential: admission.credential,
            traffic: admission
                .traffic
                .unwrap_or_else(|| self.inner.counters.traffic.clone()),
            queue,
            control: ConnectionControl::default(),
            relayed: admission.relayed,
        });
        let replaced = self.update(|registry| match registry.clients.get(id) {
            Some(holder) if holder.credential != entry.credential => Err(holder.clone()),
            _ => Ok(registry.insert(&entry)),
        })?;
        if let Some(old) = &replaced {
            self.inner.counters.replaced.fetch_add(1, Ordering::Relaxed);
            old.control.close(CloseReason::Replaced);
        }
        self.inner
            .counters
            .connections_accepted
            .fetch_add(1, Ordering::Relaxed);
        Ok((entry, rx, replaced))
    }

    /// The credential of the live connection holding `id`, if any.
    pub fn holder_credential(&self, id: &str) -> Option<Credential> {
        self.inner
            .registry
            .load()
            .clients
            .get(id)
            .map(|e| e.credential.clone())
    }

    /// Removes a connection (only if it is still the live one for its id) and tells every
    /// remaining client with a `disconnection` frame. Returns whether it was removed.
    pub fn disconnect(&self, entry: &ClientEntry, reason: &str) -> bool {
        {
            let code = entry.control.reason().map_or(0, CloseReason::code);
            let mut closes = self
                .inner
                .counters
                .closes
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            *closes.entry(code).or_default() += 1;
        }
        let removed = self.update(|registry| {
            let live = registry
                .clients
                .get(&entry.id)
                .is_some_and(|e| e.conn_id == entry.conn_id);
            if live {
                registry.clients.remove(&entry.id);
                registry.unindex(entry);
            }
            live
        });
        entry.control.end();
        if removed {
            let frame = ServerFrame {
                message: ServerMessage::Disconnection {
                    data: DisconnectionData {
                        client_type: entry.client_type,
                        reason: reason.to_owned(),
                    },
                },
                client_id: entry.id.to_string(),
                timestamp: now_epoch_s(),
            };
            self.broadcast_lobby(&frame, LobbyScope::Except(entry.id.to_string()));
        }
        removed
    }

    /// Sets where lobby broadcasts also go (once; later calls are ignored).
    pub fn set_lobby_outlet(&self, outlet: LobbyOutlet) {
        let _ = self.inner.lobby_outlet.set(outlet);
    }

    /// A lobby broadcast made here: to this node's lobby clients and, in a cluster, to the
    /// other nodes'. Returns how many local clients got it.
    pub fn broadcast_lobby(&self, frame: &ServerFrame, scope: LobbyScope) -> usize {
        let bytes = Self::encode(frame);
        if let Some(outlet) = self.inner.lobby_outlet.get() {
            (outlet.0)(scope.clone(), &bytes);
        }
        self.broadcast_lobby_local(&bytes, &scope)
    }

    /// A lobby broadcast to this node's lobby clients only (one from another node).
    pub fn broadcast_lobby_local(&self, bytes: &Utf8Bytes, scope: &LobbyScope) -> usize {
        match scope {
            LobbyScope::Types(types) => self.broadcast_bytes(bytes, Audience::LobbyTypes(types)),
            LobbyScope::Except(id) => self.broadcast_bytes(bytes, Audience::LobbyExcept(id)),
        }
    }

    /// Serializes a frame once into shareable bytes.
    pub fn encode(frame: &ServerFrame) -> Utf8Bytes {
        Utf8Bytes::from(frame.to_json())
    }

    /// Sends a frame to one client by id.
    pub fn send_personal(&self, id: &str, frame: &ServerFrame) -> Result<(), SendError> {
        let entry = self
            .get(id)
            .ok_or_else(|| SendError::NotConnected(id.to_owned()))?;
        self.deliver(&entry, Message::Text(Self::encode(frame)))
    }

    /// Sends a frame to a connection the caller already holds (e.g. a reply to its sender).
    pub fn send_to(&self, entry: &ClientEntry, frame: &ServerFrame) -> Result<(), SendError> {
        self.deliver(entry, Message::Text(Self::encode(frame)))
    }

    /// Serializes once and delivers to the audience. Returns how many queues took it.
    pub fn broadcast(&self, frame: &ServerFrame, audience: Audience<'_>) -> usize {
        self.broadcast_bytes(&Self::encode(frame), audience)
    }

    /// Delivers already-serialized bytes to the audience. Returns how many queues took it.
    pub fn broadcast_bytes(&self, bytes: &Utf8Bytes, audience: Audience<'_>) -> usize {
        let delivered = self.offer_all(bytes, audience);
        // Once per call, not per recipient: this counter is shared by every thread.
        self.inner
            .counters
            .traffic
            .delivered(delivered as u64, (delivered * bytes.len()) as u64);
        delivered
    }

    fn offer_all(&self, bytes: &Utf8Bytes, audience: Audience<'_>) -> usize {
        let registry = self.inner.registry.load();
        let mut delivered = 0;
        let mut offer = |entry: &Arc<ClientEntry>| {
            if self.offer(entry, Message::Text(bytes.clone())).is_ok() {
                delivered += 1;
            }
        };
        match audience {
            Audience::All => registry.clients.values().for_each(&mut offer),
            Audience::Types(types) => {
                for t in types {
                    registry.by_type[type_index(*t)]
                        .values()
                        .for_each(&mut offer);
                }
            }
            Audience::AllExcept(id) => registry
                .clients
                .values()
                .filter(|e| &*e.id != id)
                .for_each(&mut offer),
            Audience::LobbyTypes(types) => {
                for t in types {
                    registry.lobby_by_type[type_index(*t)]
                        .values()
                        .for_each(&mut offer);
                }
            }
            Audience::LobbyExcept(id) => {
                for map in &registry.lobby_by_type {
                    map.values().filter(|e| &*e.id != id).for_each(&mut offer);
                }
            }
            Audience::Ids(ids) => ids
                .iter()
                .filter_map(|id| registry.clients.get(*id))
                .for_each(&mut offer),
        }
        delivered
    }

    /// Queues one message for one connection without waiting, and counts it. A full queue
    /// closes the connection as a slow consumer.
    pub fn deliver(&self, entry: &ClientEntry, message: Message) -> Result<(), SendError> {
        let bytes = match &message {
            Message::Text(t) => t.len(),
            Message::Binary(b) => b.len(),
            _ => 0,
        };
        self.offer(entry, message)?;
        entry.traffic.delivered(1, bytes as u64);
        Ok(())
    }

    /// [`Self::deliver`] without counting, for loops that count once at the end.
    fn offer(&self, entry: &ClientEntry, message: Message) -> Result<(), SendError> {
        if entry.control.is_cancelled() {
            return Err(SendError::Closing(entry.id.to_string()));
        }
        match entry.queue.try_send(message) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => {
                if entry.control.close(CloseReason::SlowConsumer) {
                    self.inner
                        .counters
                        .slow_consumers_closed
                        .fetch_add(1, Ordering::Relaxed);
                }
                Err(SendError::SlowConsumer(entry.id.to_string()))
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                Err(SendError::Closing(entry.id.to_string()))
            }
        }
    }

    /// Tells every connection to close with `reason` (used by shutdown).
    pub fn close_all(&self, reason: CloseReason) {
        for entry in self.inner.registry.load().clients.values() {
            entry.control.close(reason);
        }
    }

    /// Number of live connections.
    pub fn len(&self) -> usize {
        self.inner.registry.load().clients.len()
    }

    /// Whether nobody is connected.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The live connection for an id.
    pub fn get(&self, id: &str) -> Option<Arc<ClientEntry>> {
        self.inner.registry.load().clients.get(id).cloned()
    }

    /// Lifetime counters.
    pub fn counters(&self) -> &Counters {
        &self.inner.counters
    }

    /// Frames waiting in the queues of connections that see nothing hidden (lobby clients and
    /// public viewers; a seat's queue would move with its private frames): the total and
    /// the deepest queue.
    pub fn public_queue_depth(&self) -> (usize, usize) {
        let hub = &self.inner.counters.traffic;
        let registry = self.inner.registry.load();
        let mut total = 0;
        let mut deepest = 0;
        for entry in registry.clients.values() {
            if !Arc::ptr_eq(&entry.traffic, hub) {
                continue;
            }
            let depth = entry.queue.max_capacity() - entry.queue.capacity();
            total += depth;
            deepest = deepest.max(depth);
        }
        (total, deepest)
    }

    /// The `/stats` body.
    pub fn stats(&self) -> Stats {
        let mut clients: Vec<ClientStats> = self
            .inner
            .registry
            .load()
            .clients
            .values()
            .filter(|e| !e.relayed)
            .map(|e| ClientStats {
                client_id: e.id.to_string(),
                client_type: e.client_type,
                connected_at: e.connected_at,
            })
            .collect();
        clients.sort_by(|a, b| a.connected_at.total_cmp(&b.connected_at));
        let mut by_type: HashMap<&'static str, usize> =
            ClientType::ALL.iter().map(|t| (t.as_str(), 0)).collect();
        for c in &clients {
            *by_type.entry(c.client_type.as_str()).or_default() += 1;
        }
        let c = &self.inner.counters;
        let t = &c.traffic;
        let counters = [
            ("connections_accepted", &c.connections_accepted),
            ("frames_delivered", &t.frames_delivered),
            ("frames_received", &t.frames_received),
            ("errors_sent", &t.errors_sent),
            ("rate_limited", &t.rate_limited),
            ("slow_consumers_closed", &c.slow_consumers_closed),
            ("replaced", &c.replaced),
            ("heartbeat_timeouts", &c.heartbeat_timeouts),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.load(Ordering::Relaxed)))
        .collect();
        Stats {
            total_clients: clients.len(),
            by_type,
            clients,
            counters,
        }
    }

    /// Applies one change to the registry: copy-on-write of the persistent maps, then an
    /// atomic swap. Writers are serialized; readers never wait.
    fn update<R>(&self, change: impl FnOnce(&mut Registry) -> R) -> R {
        let _writer = self.inner.writer.lock().unwrap_or_else(|p| p.into_inner());
        let mut next = Registry::clone(&self.inner.registry.load());
        let result = change(&mut next);
        self.inner.registry.store(Arc::new(next));
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(text: &str) -> ServerFrame {
        ServerFrame {
            message: ServerMessage::Pong(werewolf_schemas::PongBody {
                ping_timestamp: None,
            }),
            client_id: text.to_owned(),
            timestamp: 0.0,
        }
    }

    fn drain(rx: &mut mpsc::Receiver<Message>) -> Vec<String> {
        let mut out = Vec::new();
        while let Ok(Message::Text(t)) = rx.try_recv() {
            let v: serde_json::Value = serde_json::from_str(t.as_str()).expect("json");
            out.push(v["client_id"].as_str().unwrap_or_default().to_owned());
        }
        out
    }

    #[test]
    fn every_audience_reaches_exactly_its_clients() {
        let m = ConnectionManager::new(16);
        let (_u1, mut u1, _) = m
            .connect("u1", Admission::lobby(ClientType::Ui))
            .expect("admitted");
        let (_u2, mut u2, _) = m
            .connect("u2", Admission::lobby(ClientType::Ui))
            .expect("admitted");
        let (_a1, mut a1, _) = m
            .connect("a1", Admission::lobby(ClientType::Agent))
            .expect("admitted");
        let (_o1, mut o1, _) = m
            .connect("o1", Admission::lobby(ClientType::Observer))
            .expect("admitted");

        assert_eq!(m.broadcast(&frame("all"), Audience::All), 4);
        assert_eq!(
            m.broadcast(&frame("ui"), Audience::Types(&[ClientType::Ui])),
            2
        );
        assert_eq!(m.broadcast(&frame("not_a1"), Audience::AllExcept("a1")), 3);
        assert_eq!(
            m.broadcast(&frame("ids"), Audience::Ids(&["a1", "o1", "ghost"])),
            2
        );
        m.send_personal("u2", &frame("personal"))
            .expect("u2 is connected");
        assert_eq!(
            m.send_personal("ghost", &frame("x")),
            Err(SendError::NotConnected("ghost".into()))
        );

        assert_eq!(drain(&mut u1), ["all", "ui", "not_a1"]);
        assert_eq!(drain(&mut u2), ["all", "ui", "not_a1", "personal"]);
        assert_eq!(drain(&mut a1), ["all", "ids"]);
        assert_eq!(drain(&mut o1), ["all", "not_a1", "ids"]);
    }

    #[test]
    fn one_serialization_is_shared_by_every_recipient() {
        let m = ConnectionManager::new(4);
        let (_a, mut a, _) = m
            .connect("a", Admission::lobby(ClientType::Ui))
            .expect("admitted");
        let (_b, mut b, _) = m
            .connect("b", Admission::lobby(ClientType::Ui))
            .expect("admitted");
        m.broadcast(&frame("shared"), Audience::All);
        let (Ok(Message::Text(x)), Ok(Message::Text(y))) = (a.try_recv(), b.try_recv()) else {
            panic!("both got a text frame")
        };
        let bx: axum::body::Bytes = x.into();
        let by: axum::body::Bytes = y.into();
        assert_eq!(
            bx.as_ptr(),
            by.as_ptr(),
            "same buffer, not a copy per recipient"
        );
    }

    #[test]
    fn full_queue_closes_only_that_client() {
        let m = ConnectionManager::new(2);
        let (slow, _slow_rx, _) = m
            .connect("slow", Admission::lobby(ClientType::Ui))
            .expect("admitted");
        let (fast, mut fast_rx, _) = m
            .connect("fast", Admission::lobby(ClientType::Ui))
            .expect("admitted");
        for i in 0..3 {
            m.broadcast(&frame(&i.to_string()), Audience::All);
            drain(&mut fast_rx);
        }
        assert_eq!(slow.control.reason(), Some(CloseReason::SlowConsumer));
        assert_eq!(fast.control.reason(), None);
        assert_eq!(
            m.counters().slow_consumers_closed.load(Ordering::Relaxed),
            1
        );
    }

    #[test]
    fn replaced_connection_cleanup_keeps_the_successor() {
        let m = ConnectionManager::new(4);
        let (old, _old_rx, none) = m
            .connect("dup", Admission::lobby(ClientType::Agent))
            .expect("admitted");
        assert!(none.is_none());
        let (new, _new_rx, replaced) = m
            .connect("dup", Admission::lobby(ClientType::Agent))
            .expect("admitted");
        assert_eq!(replaced.map(|e| e.conn_id), Some(old.conn_id));
        assert_eq!(old.control.reason(), Some(CloseReason::Replaced));
        assert!(
            !m.disconnect(&old, "replaced"),
            "old cleanup must not remove the new one"
        );
        assert_eq!(m.stats().total_clients, 1);
        assert!(m.disconnect(&new, "bye"));
        assert!(m.is_empty());
    }
}
