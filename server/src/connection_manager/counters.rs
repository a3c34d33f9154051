//! What the hub counts about its connections: traffic (a game keeps its own for the
//! connections that see hidden information), lifetime counters, and the `/stats` body.

use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use werewolf_schemas::{ClientType, ErrorCode};

/// Every error code, in the order of [`Traffic::errors_by_code`].
pub const ERROR_CODES: [ErrorCode; 12] = [
    ErrorCode::MalformedJson,
    ErrorCode::MissingMessageType,
    ErrorCode::UnknownMessageType,
    ErrorCode::InvalidMessage,
    ErrorCode::NotPermitted,
    ErrorCode::ClientIdMismatch,
    ErrorCode::RateLimited,
    ErrorCode::BinaryNotSupported,
    ErrorCode::NotInGame,
    ErrorCode::InvalidAction,
    ErrorCode::GameBusy,
    ErrorCode::StoreUnavailable,
];

/// Traffic counters (`/stats.counters`). A game keeps its own for the connections that see
/// hidden information (seats, full view) and releases them into the hub's when it ends, so
/// that no public counter moves because a night role acted.
#[derive(Debug, Default)]
pub struct Traffic {
    /// Frames handed to client queues.
    pub frames_delivered: AtomicU64,
    /// Inbound data frames received.
    pub frames_received: AtomicU64,
    /// `error` frames sent for bad input.
    pub errors_sent: AtomicU64,
    /// Inbound frames dropped by the rate limit.
    pub rate_limited: AtomicU64,
    /// Bytes of the frames handed to queues.
    pub bytes_delivered: AtomicU64,
    /// Bytes of the inbound data frames.
    pub bytes_received: AtomicU64,
    /// `error` frames sent, by [`ErrorCode`] (index: position in [`ERROR_CODES`]).
    pub errors_by_code: [AtomicU64; ERROR_CODES.len()],
    /// Once set, counts go straight to these (the hub's) counters.
    released: OnceLock<Arc<Traffic>>,
}

impl Traffic {
    /// The counters to add to now: the released target, or these.
    fn target(&self) -> &Traffic {
        self.released.get().map_or(self, |t| t)
    }

    /// Counts `n` frames of `bytes` bytes in all handed to queues.
    pub fn delivered(&self, n: u64, bytes: u64) {
        let target = self.target();
        target.frames_delivered.fetch_add(n, Ordering::Relaxed);
        target.bytes_delivered.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Counts one inbound data frame of `bytes` bytes.
    pub fn received(&self, bytes: u64) {
        let target = self.target();
        target.frames_received.fetch_add(1, Ordering::Relaxed);
        target.bytes_received.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Counts one `error` frame.
    pub fn error_sent(&self, code: ErrorCode) {
        let target = self.target();
        target.errors_sent.fetch_add(1, Ordering::Relaxed);
        if let Some(i) = ERROR_CODES.iter().position(|c| *c == code) {
            target.errors_by_code[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts one rate-limited frame.
    pub fn rate_limited(&self) {
        self.target().rate_limited.fetch_add(1, Ordering::Relaxed);
    }

    /// Adds everything counted so far to `into` and forwards every later count there.
    pub fn release_into(&self, into: &Arc<Traffic>) {
        let _ = self.released.set(into.clone());
        for (mine, theirs) in [
            (&self.frames_delivered, &into.frames_delivered),
            (&self.frames_received, &into.frames_received),
            (&self.errors_sent, &into.errors_sent),
            (&self.rate_limited, &into.rate_limited),
            (&self.bytes_delivered, &into.bytes_delivered),
            (&self.bytes_received, &into.bytes_received),
        ] {
            theirs.fetch_add(mine.swap(0, Ordering::Relaxed), Ordering::Relaxed);
        }
        for (mine, theirs) in self.errors_by_code.iter().zip(&into.errors_by_code) {
            theirs.fetch_add(mine.swap(0, Ordering::Relaxed), Ordering::Relaxed);
        }
    }
}

/// Counters exposed on `/stats`. Relaxed atomics: they are statistics, not synchronization.
#[derive(Debug, Default)]
pub struct Counters {
    /// Connections accepted since start.
    pub connections_accepted: AtomicU64,
    /// Frame counters of every connection that sees nothing hidden, and of games that ended.
    pub traffic: Arc<Traffic>,
    /// Connections closed because their queue filled.
    pub slow_consumers_closed: AtomicU64,
    /// Connections replaced by a newer one with the same id.
    pub replaced: AtomicU64,
    /// Connections closed for silence.
    pub heartbeat_timeouts: AtomicU64,
    /// Connections ended, by the close code the server sent (0: the client closed or the
    /// connection dropped).
    pub closes: Mutex<std::collections::BTreeMap<u16, u64>>,
}

/// `/stats` body: seed 004's shape plus counters.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Stats {
    /// Live connections.
    pub total_clients: usize,
    /// Live connections per type (every type present, zero included).
    pub by_type: HashMap<&'static str, usize>,
    /// Every live connection.
    pub clients: Vec<ClientStats>,
    /// Lifetime counters.
    pub counters: HashMap<&'static str, u64>,
}

/// One entry of `/stats.clients`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ClientStats {
    /// The client's id.
    pub client_id: String,
    /// Its type (`"type"` on the wire, as in seed 004).
    #[serde(rename = "type")]
    pub client_type: ClientType,
    /// Epoch seconds when it connected.
    pub connected_at: f64,
}
