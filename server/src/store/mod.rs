//! The durable per-game log: what a game was created with, every input that changed it, and
//! every frame of every stream, so that clients resume by `seq`, a restarted hub recovers
//! every game, and finished games can be replayed and exported.
//!
//! The log is behind [`GameStore`], with three backends: [`memory::MemoryStore`] (nothing on
//! disk; `HUB_STORE=memory`), [`sqlite::SqliteStore`] (the embedded default) and
//! [`redis::RedisStore`] (`HUB_REDIS_URL`; the cluster's log).
//!
//! # Model
//! - A game's **inputs** ([`Input`]) are what the engine was fed, in order. The engine is
//!   deterministic, so replaying them through it rebuilds the game exactly (crash recovery).
//! - A game's **frames** are what its streams carried: each routed message is one
//!   [`EventRecord`] (the serialized frame split around its `seq`) with the `(stream, seq)`
//!   pairs it went to. A stream's frame `k` is the record's head, `k`, its tail: byte for byte
//!   what was sent live, so resume and replays need no re-rendering (timestamps included).
//! - One actor turn is one [`Batch`], appended atomically; the actor delivers nothing of it
//!   before [`Commit::wait`] says it is durable (write-ahead).

pub mod export;
pub mod memory;
pub mod redis;
pub mod sqlite;

use crate::games::stamped::SeqStamped;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use tokio::sync::oneshot;
use werewolf_engine::Action;
use werewolf_schemas::Winner;

/// One stream of a game: each seat's, the public one, the full (observer-token) one, and the
/// agents' private reasoning (delivered to nobody while the game runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StreamId {
    /// A seat's agent, by seat index.
    Seat(usize),
    /// Every ui and token-less observer.
    Public,
    /// Observers with the observer token.
    Full,
    /// Agents' private reasoning: no live recipient; readable once the game is over.
    Reasoning,
}

impl StreamId {
    /// The storage key: `seat:{index}`, `public`, `full` or `reasoning`.
    pub fn key(self) -> String {
        self.to_string()
    }

    /// Parses a storage key.
    pub fn from_key(key: &str) -> Option<StreamId> {
        match key {
            "public" => Some(StreamId::Public),
            "full" => Some(StreamId::Full),
            "reasoning" => Some(StreamId::Reasoning),
            _ => key.strip_prefix("seat:")?.parse().ok().map(StreamId::Seat),
        }
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamId::Seat(i) => write!(f, "seat:{i}"),
            StreamId::Public => f.write_str("public"),
            StreamId::Full => f.write_str("full"),
            StreamId::Reasoning => f.write_str("reasoning"),
        }
    }
}

/// A SHA-256 hash of a token; tokens themselves are never stored.
pub type TokenHash = [u8; 32];

/// One seat as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatMeta {
    /// `{game_id}-p{n}`.
    pub player_id: String,
    /// Display name, once claimed.
    pub name: Option<String>,
    /// Hash of the seat's token, once the seat has one (named at creation, or joined).
    pub token_hash: Option<TokenHash>,
}

/// What a game was created with: enough to rebuild it.
#[derive(Debug, Clone)]
pub struct GameMeta {
    /// The game's id.
    pub game_id: String,
    /// Epoch seconds of creation.
    pub created_at: f64,
    /// The validated setup, as JSON ([`crate::games::spec::StoredSpec`]).
    pub spec: serde_json::Value,
    /// Hash of the observer token.
    pub observer_hash: TokenHash,
    /// The seats, by index.
    pub seats: Vec<SeatMeta>,
}

/// An input that changed a game, in the order the actor applied it. Replaying a game's
/// inputs through the engine rebuilds it exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "input", rename_all = "snake_case")]
pub enum Input {
    /// The game started (the engine was created from the stored config).
    Start,
    /// A seat answered an engine request.
    Act {
        /// Seat index.
        seat: usize,
        /// The engine's request id.
        request: u64,
        /// The answer.
        action: Action,
    },
    /// A werewolf whispered.
    Whisper {
        /// Seat index.
        seat: usize,
        /// The text.
        text: String,
    },
    /// A request's deadline passed.
    Expire {
        /// The engine's request id.
        request: u64,
    },
    /// Every seat was offline for `GAME_ABANDON_S`.
    Abort,
}

/// One routed message: its serialization split around `seq`, and the `(stream, seq)` pairs
/// it went to.
#[derive(Debug, Clone)]
pub struct EventRecord {
    /// The frame, waiting for each stream's `seq`.
    pub stamped: Arc<SeqStamped>,
    /// Where it went, with the number it has there.
    pub streams: Vec<(StreamId, u64)>,
}

/// How a game ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ended {
    /// The winner.
    pub winner: Winner,
    /// Epoch seconds of the end.
    pub ended_at: f64,
    /// The day it ended on.
    pub days: u32,
}

/// One change to a game's log.
#[derive(Debug, Clone)]
pub enum Op {
    /// The game was created.
    Create(GameMeta),
    /// A seat was claimed by `POST /games/{id}/join`.
    Join {
        /// Seat index.
        seat: usize,
        /// Its name.
        name: String,
        /// Hash of the token handed to the joiner.
        token_hash: TokenHash,
    },
    /// An input to the engine.
    Input(Input),
    /// A routed message.
    Event(EventRecord),
    /// The game ended.
    Ended(Ended),
}

/// One actor turn of one game: appended atomically.
#[derive(Debug, Clone)]
pub struct Batch {
    /// The game.
    pub game_id: Arc<str>,
    /// Its changes, in order.
    pub ops: Vec<Op>,
}

/// A game as stored: what recovery needs.
#[derive(Debug, Clone)]
pub struct StoredGame {
    /// Creation data, with joins applied.
    pub meta: GameMeta,
    /// Every input, in order.
    pub inputs: Vec<Input>,
    /// Each stream's last `seq`.
    pub heads: HashMap<StreamId, u64>,
    /// The end, if it ended.
    pub ended: Option<Ended>,
}

/// One game in a listing of the store.
#[derive(Debug, Clone)]
pub struct GameRow {
    /// The game's id.
    pub game_id: String,
    /// Epoch seconds of creation.
    pub created_at: f64,
    /// Seats.
    pub players: usize,
    /// Whether it started.
    pub started: bool,
    /// The end, if it ended.
    pub ended: Option<Ended>,
}

/// Why the store failed. The message is what operators and clients read.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The file was written by a newer hub.
    #[error(
        "{path}: written by store schema version {found}; this hub reads version {supported} (upgrade the hub)"
    )]
    NewerSchema {
        /// The file.
        path: String,
        /// Its version.
        found: i64,
        /// Ours.
        supported: i64,
    },
    /// The file is damaged or not a store.
    #[error("{path}: not a readable store ({why})")]
    Corrupt {
        /// The file.
        path: String,
        /// What SQLite said.
        why: String,
    },
    /// Reading or writing failed (disk full, read-only, I/O error).
    #[error("store I/O failed: {0}")]
    Io(String),
    /// The store's writer has stopped.
    #[error("the store is closed")]
    Closed,
}

/// A batch's durability, as the actor awaits it.
#[derive(Debug)]
pub enum Commit {
    /// Already decided (the memory store, or an immediate failure).
    Done(Result<(), StoreError>),
    /// Decided by the store's writer.
    Pending(oneshot::Receiver<Result<(), StoreError>>),
}

impl Commit {
    /// Resolves once the batch is durable, or with why it is not.
    pub async fn wait(self) -> Result<(), StoreError> {
        match self {
            Commit::Done(r) => r,
            Commit::Pending(rx) => rx.await.unwrap_or(Err(StoreError::Closed)),
        }
    }
}

/// A per-game log. Implementations are cheap to share (`Arc<dyn GameStore>`); methods other
/// than [`GameStore::append`] may block on I/O, so async callers run them on a blocking
/// thread.
pub trait GameStore: Send + Sync + fmt::Debug + 'static {
    /// Appends one batch; the answer resolves when it is durable. Batches of one game are
    /// applied in the order they are appended.
    fn append(&self, batch: Batch) -> Commit;

    /// The frames of `stream` with `after < seq <= upto`, in order, as sent live.
    fn frames(
        &self,
        game_id: &str,
        stream: StreamId,
        after: u64,
        upto: u64,
    ) -> Result<Vec<String>, StoreError>;

    /// Every stored game, oldest first.
    fn games(&self) -> Result<Vec<GameRow>, StoreError>;

    /// One game, for recovery and replays (`None`: unknown).
    fn load(&self, game_id: &str) -> Result<Option<StoredGame>, StoreError>;

    /// The game left memory: a memory store forgets it; a durable store keeps it (and a
    /// shared one releases the game's lease).
    fn retire(&self, game_id: &str);

    /// Claims the right to run `game_id` on this hub. A store of one hub always grants it; a
    /// store shared by several hubs (Redis) grants it to one at a time, with a lease that
    /// fences the appends of a hub that lost it. `false`: another live hub runs the game.
    fn claim(&self, _game_id: &str) -> Result<bool, StoreError> {
        Ok(true)
    }

    /// The games not over whose lease nobody holds (a store shared by several hubs): the
    /// ones a hub may take over. A store of one hub has none.
    fn orphans(&self) -> Result<Vec<String>, StoreError> {
        Ok(Vec::new())
    }

    /// Whether games survive a restart (so the hub recovers them at start).
    fn durable(&self) -> bool;

    /// A clean shutdown: everything appended before is durable once this resolves, and the
    /// store is left tidy (SQLite: the WAL folded into the database file). Appends after it
    /// fail.
    fn close(&self) -> Commit {
        Commit::Done(Ok(()))
    }
}

/// A shared store.
pub type Store = Arc<dyn GameStore>;

/// SHA-256 of a token.
pub fn hash_token(token: &str) -> TokenHash {
    use sha2::Digest;
    sha2::Sha256::digest(token.as_bytes()).into()
}

/// Whether `token` hashes to `hash`, in constant time.
pub fn token_matches(token: &str, hash: &TokenHash) -> bool {
    use subtle::ConstantTimeEq;
    hash_token(token).ct_eq(hash).into()
}
