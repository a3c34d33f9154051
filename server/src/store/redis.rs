//! The log in Redis (`HUB_REDIS_URL`): the first piece of the cluster backend. Every game's
//! keys share one hash tag (`{prefix}:{game_id}:…` with the game id in braces), so a game
//! lives in one Redis Cluster slot and one Lua script appends a whole batch atomically.
//!
//! # Keys of a game `G` (prefix `P`, default `wwh`)
//! - `P:{G}:meta`: the creation data (JSON); `P:{G}:joins`: seats claimed later (JSON list);
//! - `P:{G}:inputs`: the engine inputs (JSON list); `P:{G}:ended`: the end (JSON);
//! - `P:{G}:rec`: every routed message, `[head, tail]` around its `seq` (a hash by record
//!   index, so reading any frame is O(1));
//!   `P:{G}:s:{stream}`: per stream, the record index of each frame (`seq - 1` ⇒ index);
//!   `P:{G}:heads`: per stream, its last `seq` (hash);
//! - `P:{G}:batch`: how many batches were applied. A batch carries its number, and the script
//!   applies it only if it is the next one: a batch retried after a lost reply is applied once
//!   (and, for the cluster, a node that lost a game's lease cannot append behind the new
//!   owner's back once the number is fenced by the lease);
//! - `P:games`: every game id, scored by its creation time.
//!
//! # Group commit
//! One writer thread; the batches waiting when it is free go to Redis in one pipelined round
//! trip (`EVALSHA` each), so a busy hub pays one round trip per group, not per game turn.
//!
//! # Durability
//! A batch is durable when Redis has answered the script: what Redis keeps across its own
//! restart depends on its persistence settings (README: AOF with `appendfsync everysec` loses
//! at most a second of commits to a power loss, `always` none; without AOF a restart loses
//! everything since the last snapshot). The writer retries a lost connection for
//! `HUB_REDIS_RETRY_S` before it fails the batch (and halts the game): a Redis restart is a
//! pause, not a loss.

use super::{
    Batch, Commit, Ended, GameMeta, GameRow, GameStore, Input, Op, SeatMeta, StoreError,
    StoredGame, StreamId, TokenHash,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use tracing::warn;
use werewolf_schemas::Winner;

/// Appends one batch: `ARGV` = key prefix of the game, the `games` key, the game id, the
/// batch number, the ops as JSON, and this hub's lease token: a hub that no longer holds
/// the game's lease is refused (fenced). Returns `applied` or `duplicate`. `{games}:open`
/// holds the games not ended yet (what the orphan scan looks at).
const APPEND: &str = r#"
local p = ARGV[1]
if redis.call('GET', p .. ':owner') ~= ARGV[6] then
  return redis.error_reply('FENCED this hub no longer holds the game (another hub took it over)')
end
local n = tonumber(ARGV[4])
local done = tonumber(redis.call('GET', p .. ':batch') or '0')
if n <= done then return 'duplicate' end
if n ~= done + 1 then return redis.error_reply('batch ' .. n .. ' after ' .. done) end
local ops = cjson.decode(ARGV[5])
for _, op in ipairs(ops) do
  if op.t == 'create' then
    redis.call('SET', p .. ':meta', op.v)
    redis.call('ZADD', ARGV[2], op.at, ARGV[3])
    redis.call('ZADD', ARGV[2] .. ':open', op.at, ARGV[3])
  elseif op.t == 'join' then
    redis.call('RPUSH', p .. ':joins', op.v)
  elseif op.t == 'input' then
    redis.call('RPUSH', p .. ':inputs', op.v)
  elseif op.t == 'event' then
    local index = redis.call('HLEN', p .. ':rec')
    redis.call('HSET', p .. ':rec', index, op.v)
    for _, s in ipairs(op.s) do
      redis.call('RPUSH', p .. ':s:' .. s[1], index)
      redis.call('HSET', p .. ':heads', s[1], s[2])
    end
  elseif op.t == 'ended' then
    redis.call('SET', p .. ':ended', op.v)
    redis.call('ZREM', ARGV[2] .. ':open', ARGV[3])
  end
end
redis.call('SET', p .. ':batch', n)
return 'applied'
"#;

/// Takes or refreshes a game's lease: `ARGV` = owner key, token, ttl in ms. 1: held by us.
const CLAIM: &str = r#"
local owner = redis.call('GET', ARGV[1])
if owner == false or owner == ARGV[2] then
  redis.call('SET', ARGV[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
"#;

/// Renews a lease we hold: `ARGV` = owner key, token, ttl in ms. 0: lost.
const RENEW: &str = r#"
if redis.call('GET', ARGV[1]) == ARGV[2] then
  redis.call('PEXPIRE', ARGV[1], ARGV[3])
  return 1
end
return 0
"#;

/// Gives a lease up if we hold it: `ARGV` = owner key, token.
const RELEASE: &str = r#"
if redis.call('GET', ARGV[1]) == ARGV[2] then
  redis.call('DEL', ARGV[1])
end
return 1
"#;

/// The frames of one stream: `ARGV` = key prefix of the game, stream key, first index, last
/// index (0-based, inclusive). Returns the records, in order.
const FRAMES: &str = r#"
local p = ARGV[1]
local ids = redis.call('LRANGE', p .. ':s:' .. ARGV[2], ARGV[3], ARGV[4])
local out = {}
for i, id in ipairs(ids) do
  out[i] = redis.call('HGET', p .. ':rec', id)
end
return out
"#;

/// Creation data as stored.
#[derive(Serialize, Deserialize)]
struct MetaJson {
    game_id: String,
    created_at: f64,
    spec: Value,
    observer_hash: String,
    seats: Vec<SeatJson>,
}

/// One seat as stored.
#[derive(Serialize, Deserialize)]
struct SeatJson {
    player_id: String,
    name: Option<String>,
    token_hash: Option<String>,
}

/// A join as stored.
#[derive(Serialize, Deserialize)]
struct JoinJson {
    seat: usize,
    name: String,
    token_hash: String,
}

/// The end as stored.
#[derive(Serialize, Deserialize)]
struct EndedJson {
    winner: Winner,
    ended_at: f64,
    days: u32,
}

fn hash_hex(hash: &TokenHash) -> String {
    hex::encode(hash)
}

fn hash_from_hex(text: &str) -> Option<TokenHash> {
    hex::decode(text).ok()?.try_into().ok()
}

/// A batch waiting for the writer.
type Job = (Batch, oneshot::Sender<Result<(), StoreError>>);

/// The log in Redis. One writer thread appends (in order, per game); reads use their own
/// connection.
pub struct RedisStore {
    /// Where the writer takes batches from; `None` once closed.
    writer: Mutex<Option<mpsc::Sender<Job>>>,
    /// Connections for everything but appends and lease renewals (`frames`, `games`, `load`,
    /// claims, owner lookups, the cluster's beats), opened on demand; a connection that
    /// failed is dropped, not returned.
    pool: r2d2::Pool<redis::Client>,
    /// The server.
    client: redis::Client,
    /// Key prefix.
    prefix: Arc<str>,
    /// How long a lost connection is retried before an operation fails.
    retry: Duration,
    /// The games this hub holds a lease on, with the lease's token (shared with the writer,
    /// which fences every append with it, and with the renewer).
    leases: Leases,
    /// How long a lease lasts without renewal.
    lease_ttl: Duration,
    /// This hub's node id (fresh at every start): every lease token it takes begins with
    /// it, so the owner of a game is read from its lease.
    node_id: Arc<str>,
}

/// Most pooled connections (REST reads, resumes, claims, owner lookups run on them).
const READERS: u32 = 8;

/// Leases held, by game id: the token.
type Leases = Arc<Mutex<HashMap<String, String>>>;

impl RedisStore {
    /// Connects to `url` (checking the server answers) and starts the writer.
    pub fn open(
        url: &str,
        prefix: &str,
        retry: Duration,
        lease_ttl: Duration,
    ) -> Result<RedisStore, StoreError> {
        let client = redis::Client::open(url)
            .map_err(|e| StoreError::Io(format!("HUB_REDIS_URL {url}: {e}")))?;
        let mut first = client
            .get_connection_with_timeout(Duration::from_secs(5))
            .map_err(|e| StoreError::Io(format!("Redis at {url}: {e}")))?;
        redis::cmd("PING")
            .query::<String>(&mut first)
            .map_err(|e| StoreError::Io(format!("Redis at {url}: {e}")))?;
        let (tx, rx) = mpsc::channel::<Job>();
        let leases: Leases = Arc::default();
        let writer = Writer {
            leases: leases.clone(),
            client: client.clone(),
            connection: Some(first),
            prefix: Arc::from(prefix),
            retry,
            batches: HashMap::new(),
            script: redis::Script::new(APPEND),
            loaded: None,
        };
        std::thread::Builder::new()
            .name("redis-store".into())
            .spawn(move || writer.run(rx))
            .map_err(|e| StoreError::Io(e.to_string()))?;
        let renewer = Renewer {
            client: client.clone(),
            prefix: Arc::from(prefix),
            leases: leases.clone(),
            ttl: lease_ttl,
        };
        std::thread::Builder::new()
            .name("redis-leases".into())
            .spawn(move || renewer.run())
            .map_err(|e| StoreError::Io(e.to_string()))?;
        Ok(RedisStore {
            writer: Mutex::new(Some(tx)),
            pool: r2d2::Pool::builder()
                .max_size(READERS)
                .min_idle(Some(1))
                .test_on_check_out(false)
                .connection_timeout(Duration::from_secs(2))
                .build_unchecked(client.clone()),
            client,
            prefix: Arc::from(prefix),
            retry,
            leases,
            lease_ttl,
            node_id: Arc::from(format!("n{}", crate::games::secret::short_id()).as_str()),
        })
    }

    /// This hub's node id (fresh at every start).
    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    /// The Redis client (for the cluster's own connections).
    pub fn client(&self) -> &redis::Client {
        &self.client
    }

    /// The key prefix (`HUB_REDIS_PREFIX`).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The node holding `game_id`'s lease now (`None`: nobody; the game is free to take).
    pub fn owner_node(&self, game_id: &str) -> Result<Option<String>, StoreError> {
        let owner = format!("{}:owner", self.game_key(game_id));
        let token: Option<String> = self.read(|c| redis::cmd("GET").arg(&owner).query(c))?;
        Ok(token.and_then(|t| t.split_once('.').map(|(node, _)| node.to_owned())))
    }

    fn game_key(&self, game_id: &str) -> String {
        format!("{}:{{{game_id}}}", self.prefix)
    }

    /// Runs `f` on a pooled connection, retrying on another (for up to `retry`) when the
    /// connection fails; other errors are returned at once.
    pub fn read<T>(
        &self,
        mut f: impl FnMut(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> Result<T, StoreError> {
        let started = Instant::now();
        loop {
            match self.pool.get() {
                Ok(mut connection) => match f(&mut connection) {
                    Ok(v) => return Ok(v),
                    Err(e) if !is_connection_error(&e) => {
                        return Err(StoreError::Io(format!("Redis: {e}")));
                    }
                    Err(e) => {
                        // A dropped connection reports itself closed: the pool discards it.
                        warn!(error = %e, "Redis connection lost; reconnecting");
                        drop(connection);
                    }
                },
                Err(e) => warn!(error = %e, "no Redis connection"),
            }
            if started.elapsed() > self.retry {
                return Err(StoreError::Io(
                    "Redis unreachable for HUB_REDIS_RETRY_S".into(),
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn is_connection_error(e: &redis::RedisError) -> bool {
    e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() || e.is_timeout()
}

impl GameStore for RedisStore {
    fn append(&self, batch: Batch) -> Commit {
        let (tx, rx) = oneshot::channel();
        let writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        match writer.as_ref().map(|w| w.send((batch, tx))) {
            Some(Ok(())) => Commit::Pending(rx),
            _ => Commit::Done(Err(StoreError::Closed)),
        }
    }

    fn frames(
        &self,
        game_id: &str,
        stream: StreamId,
        after: u64,
        upto: u64,
    ) -> Result<Vec<String>, StoreError> {
        if upto <= after {
            return Ok(Vec::new());
        }
        let key = self.game_key(game_id);
        let script = redis::Script::new(FRAMES);
        // Redis indexes are i64: "to the end" is -1.
        let first = i64::try_from(after).unwrap_or(i64::MAX);
        let last = i64::try_from(upto - 1).unwrap_or(-1);
        let records: Vec<String> = self.read(|c| {
            script
                .arg(&key)
                .arg(stream.key())
                .arg(first)
                .arg(last)
                .invoke(c)
        })?;
        records
            .iter()
            .zip(after + 1..)
            .map(|(record, seq)| {
                let (head, tail): (String, String) = serde_json::from_str(record)
                    .map_err(|e| StoreError::Io(format!("a damaged record: {e}")))?;
                Ok(format!("{head}{seq}{tail}"))
            })
            .collect()
    }

    fn games(&self) -> Result<Vec<GameRow>, StoreError> {
        let games_key = format!("{}:games", self.prefix);
        let ids: Vec<(String, f64)> = self.read(|c| {
            redis::cmd("ZRANGE")
                .arg(&games_key)
                .arg(0)
                .arg(-1)
                .arg("WITHSCORES")
                .query(c)
        })?;
        let mut rows = Vec::with_capacity(ids.len());
        for (game_id, created_at) in ids {
            let key = self.game_key(&game_id);
            let (meta, first, ended): (Option<String>, Option<String>, Option<String>) = self
                .read(|c| {
                    redis::pipe()
                        .get(format!("{key}:meta"))
                        .lindex(format!("{key}:inputs"), 0)
                        .get(format!("{key}:ended"))
                        .query(c)
                })?;
            let players = meta
                .and_then(|m| serde_json::from_str::<MetaJson>(&m).ok())
                .map_or(0, |m| m.seats.len());
            let started = first
                .and_then(|f| serde_json::from_str::<Input>(&f).ok())
                .is_some_and(|i| i == Input::Start);
            rows.push(GameRow {
                game_id,
                created_at,
                players,
                started,
                ended: ended.as_deref().and_then(parse_ended),
            });
        }
        Ok(rows)
    }

    fn orphans(&self) -> Result<Vec<String>, StoreError> {
        let open_key = format!("{}:games:open", self.prefix);
        let ids: Vec<String> =
            self.read(|c| redis::cmd("ZRANGE").arg(&open_key).arg(0).arg(-1).query(c))?;
        if ids.is_empty() {
            return Ok(ids);
        }
        // One round trip for every lease (a pipeline, not MGET: the keys live in different
        // slots of a Redis Cluster).
        let owners: Vec<Option<String>> = self.read(|c| {
            let mut pipe = redis::pipe();
            for id in &ids {
                pipe.get(format!("{}:owner", self.game_key(id)));
            }
            pipe.query(c)
        })?;
        Ok(ids
            .into_iter()
            .zip(owners)
            .filter(|(_, owner)| owner.is_none())
            .map(|(id, _)| id)
            .collect())
    }

    fn load(&self, game_id: &str) -> Result<Option<StoredGame>, StoreError> {
        let key = self.game_key(game_id);
        type Loaded = (
            Option<String>,
            Vec<String>,
            Vec<String>,
            HashMap<String, u64>,
            Option<String>,
        );
        let (meta, joins, inputs, heads, ended): Loaded = self.read(|c| {
            redis::pipe()
                .get(format!("{key}:meta"))
                .lrange(format!("{key}:joins"), 0, -1)
                .lrange(format!("{key}:inputs"), 0, -1)
                .hgetall(format!("{key}:heads"))
                .get(format!("{key}:ended"))
                .query(c)
        })?;
        let Some(meta) = meta else {
            return Ok(None);
        };
        let damaged = |what: &str, e: &dyn std::fmt::Display| {
            StoreError::Io(format!("game `{game_id}`: a damaged {what} in Redis: {e}"))
        };
        let meta: MetaJson = serde_json::from_str(&meta).map_err(|e| damaged("meta", &e))?;
        let mut meta = GameMeta {
            game_id: meta.game_id,
            created_at: meta.created_at,
            spec: meta.spec,
            observer_hash: hash_from_hex(&meta.observer_hash)
                .ok_or_else(|| damaged("observer hash", &"not 32 hex bytes"))?,
            seats: meta
                .seats
                .into_iter()
                .map(|s| SeatMeta {
                    player_id: s.player_id,
                    name: s.name,
                    token_hash: s.token_hash.as_deref().and_then(hash_from_hex),
                })
                .collect(),
        };
        for join in joins {
            let join: JoinJson = serde_json::from_str(&join).map_err(|e| damaged("join", &e))?;
            if let Some(seat) = meta.seats.get_mut(join.seat) {
                seat.name = Some(join.name);
                seat.token_hash = hash_from_hex(&join.token_hash);
            }
        }
        let inputs = inputs
            .iter()
            .map(|i| serde_json::from_str(i).map_err(|e| damaged("input", &e)))
            .collect::<Result<Vec<Input>, _>>()?;
        Ok(Some(StoredGame {
            meta,
            inputs,
            heads: heads
                .into_iter()
                .filter_map(|(k, v)| Some((StreamId::from_key(&k)?, v)))
                .collect(),
            ended: ended.as_deref().and_then(parse_ended),
        }))
    }

    fn retire(&self, game_id: &str) {
        let token = self
            .leases
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(game_id);
        if let Some(token) = token {
            let owner = format!("{}:owner", self.game_key(game_id));
            let script = redis::Script::new(RELEASE);
            let _ = self.read(|c| script.arg(&owner).arg(&token).invoke::<i64>(c));
        }
    }

    fn claim(&self, game_id: &str) -> Result<bool, StoreError> {
        let token = format!("{}.{}", self.node_id, crate::games::secret::token());
        let owner = format!("{}:owner", self.game_key(game_id));
        let ttl = self.lease_ttl.as_millis() as u64;
        let script = redis::Script::new(CLAIM);
        let held: i64 = self.read(|c| script.arg(&owner).arg(&token).arg(ttl).invoke(c))?;
        if held == 1 {
            self.leases
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(game_id.to_owned(), token);
        }
        Ok(held == 1)
    }

    fn durable(&self) -> bool {
        true
    }

    fn close(&self) -> Commit {
        // Every batch sent before is answered in order; the writer stops once the channel
        // is dropped.
        let writer = self.writer.lock().unwrap_or_else(|p| p.into_inner()).take();
        let Some(writer) = writer else {
            return Commit::Done(Ok(()));
        };
        let (tx, rx) = oneshot::channel();
        let marker = Batch {
            game_id: Arc::from(""),
            ops: Vec::new(),
        };
        if writer.send((marker, tx)).is_err() {
            return Commit::Done(Ok(()));
        }
        // A clean stop gives every game up at once (another hub may take them over now
        // rather than when the leases run out), after every batch sent before.
        let release: Vec<(String, String)> = self
            .leases
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain()
            .map(|(id, token)| (format!("{}:owner", self.game_key(&id)), token))
            .collect();
        let (done_tx, done_rx) = oneshot::channel();
        let client = self.client.clone();
        std::thread::spawn(move || {
            let result = rx.blocking_recv().unwrap_or(Err(StoreError::Closed));
            if let Ok(mut c) = client.get_connection_with_timeout(Duration::from_secs(2)) {
                let script = redis::Script::new(RELEASE);
                for (owner, token) in release {
                    let _ = script.arg(&owner).arg(&token).invoke::<i64>(&mut c);
                }
            }
            let _ = done_tx.send(result);
        });
        Commit::Pending(done_rx)
    }
}

fn parse_ended(text: &str) -> Option<Ended> {
    let e: EndedJson = serde_json::from_str(text).ok()?;
    Some(Ended {
        winner: e.winner,
        ended_at: e.ended_at,
        days: e.days,
    })
}

/// The writer thread's state.
struct Writer {
    /// The leases held (the token fences each append).
    leases: Leases,
    client: redis::Client,
    connection: Option<redis::Connection>,
    prefix: Arc<str>,
    retry: Duration,
    /// Per game, the number of the last batch applied (read from Redis on first use).
    batches: HashMap<Arc<str>, u64>,
    script: redis::Script,
    /// The append script's hash once `SCRIPT LOAD`ed on the current connection.
    loaded: Option<String>,
}

/// Most batches in one pipelined round trip.
const MAX_GROUP: usize = 256;

impl Writer {
    /// Group commit: every batch waiting when the writer is free goes to Redis in one
    /// pipelined round trip; if that fails, each is retried alone (the batch numbers make a
    /// batch that did get in a no-op), so one bad batch fails only its own game.
    fn run(mut self, jobs: mpsc::Receiver<Job>) {
        while let Ok(first) = jobs.recv() {
            let mut group = vec![first];
            while group.len() < MAX_GROUP {
                match jobs.try_recv() {
                    Ok(job) => group.push(job),
                    Err(_) => break,
                }
            }
            let batches: Vec<&Batch> = group
                .iter()
                .map(|(b, _)| b)
                .filter(|b| !b.ops.is_empty())
                .collect();
            if batches.len() > 1 && self.pipelined(&batches).is_ok() {
                for (_, reply) in group {
                    let _ = reply.send(Ok(()));
                }
                continue;
            }
            for (batch, reply) in group {
                if batch.ops.is_empty() {
                    let _ = reply.send(Ok(()));
                    continue;
                }
                let result = self.append(&batch);
                if let Err(e) = &result {
                    warn!(game_id = %batch.game_id, error = %e, "Redis append failed");
                }
                let _ = reply.send(result);
            }
        }
    }

    /// Appends `batches` in one pipelined round trip; on any error, nothing is assumed (the
    /// caller retries each batch alone).
    fn pipelined(&mut self, batches: &[&Batch]) -> redis::RedisResult<()> {
        if self.connection.is_none() {
            self.connection = Some(
                self.client
                    .get_connection_with_timeout(Duration::from_secs(2))?,
            );
        }
        let Some(connection) = self.connection.as_mut() else {
            return Ok(());
        };
        // The script by hash; loaded once per connection (a restarted Redis forgets it).
        let sha = match &self.loaded {
            Some(sha) => sha.clone(),
            None => {
                let sha: String = redis::cmd("SCRIPT")
                    .arg("LOAD")
                    .arg(APPEND)
                    .query(connection)?;
                self.loaded = Some(sha.clone());
                sha
            }
        };
        let games_key = format!("{}:games", self.prefix);
        let mut numbers: HashMap<Arc<str>, u64> = HashMap::new();
        let mut pipe = redis::pipe();
        for batch in batches {
            let key = format!("{}:{{{}}}", self.prefix, batch.game_id);
            let done = match numbers
                .get(&batch.game_id)
                .or(self.batches.get(&batch.game_id))
            {
                Some(n) => *n,
                None => redis::cmd("GET")
                    .arg(format!("{key}:batch"))
                    .query::<Option<u64>>(connection)?
                    .unwrap_or(0),
            };
            numbers.insert(batch.game_id.clone(), done + 1);
            pipe.cmd("EVALSHA")
                .arg(&sha)
                .arg(0)
                .arg(&key)
                .arg(&games_key)
                .arg(&*batch.game_id)
                .arg(done + 1)
                .arg(encode_ops(&batch.ops))
                .arg(lease_token(&self.leases, &batch.game_id));
        }
        let outcomes: redis::RedisResult<Vec<String>> = pipe.query(connection);
        if let Err(e) = outcomes {
            self.loaded = None;
            if is_connection_error(&e) {
                self.connection = None;
            }
            return Err(e);
        }
        self.batches.extend(numbers);
        tracing::debug!(batches = batches.len(), "group commit");
        Ok(())
    }

    fn append(&mut self, batch: &Batch) -> Result<(), StoreError> {
        let key = format!("{}:{{{}}}", self.prefix, batch.game_id);
        let games_key = format!("{}:games", self.prefix);
        let ops = encode_ops(&batch.ops);
        let started = Instant::now();
        loop {
            match self.try_append(batch, &key, &games_key, &ops) {
                Ok(()) => return Ok(()),
                Err(e) if is_connection_error(&e) && started.elapsed() < self.retry => {
                    warn!(error = %e, "Redis connection lost; retrying the batch");
                    self.connection = None;
                    self.loaded = None;
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => {
                    self.connection = None;
                    return Err(StoreError::Io(format!("Redis: {e}")));
                }
            }
        }
    }

    fn try_append(
        &mut self,
        batch: &Batch,
        key: &str,
        games_key: &str,
        ops: &str,
    ) -> redis::RedisResult<()> {
        if self.connection.is_none() {
            self.connection = Some(
                self.client
                    .get_connection_with_timeout(Duration::from_secs(2))?,
            );
        }
        let Some(connection) = self.connection.as_mut() else {
            return Ok(());
        };
        let done = match self.batches.get(&batch.game_id) {
            Some(n) => *n,
            None => redis::cmd("GET")
                .arg(format!("{key}:batch"))
                .query::<Option<u64>>(connection)?
                .unwrap_or(0),
        };
        let number = done + 1;
        let token = lease_token(&self.leases, &batch.game_id);
        let _outcome: String = self
            .script
            .arg(key)
            .arg(games_key)
            .arg(&*batch.game_id)
            .arg(number)
            .arg(ops)
            .arg(token)
            .invoke(connection)?;
        // `duplicate`: a retry of a batch whose reply was lost; it is in already.
        self.batches.insert(batch.game_id.clone(), number);
        Ok(())
    }
}

/// This hub's lease token for a game ("" if it holds none: the append is then refused).
fn lease_token(leases: &Leases, game_id: &str) -> String {
    leases
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(game_id)
        .cloned()
        .unwrap_or_default()
}

/// Renews this hub's leases every third of their time to live. A lease found taken by
/// another hub is forgotten: the game's next append then carries no token, is fenced, and
/// the game halts here, which is what must happen.
struct Renewer {
    client: redis::Client,
    prefix: Arc<str>,
    leases: Leases,
    ttl: Duration,
}

impl Renewer {
    fn run(self) {
        let script = redis::Script::new(RENEW);
        let ttl = self.ttl.as_millis() as u64;
        let mut connection: Option<redis::Connection> = None;
        loop {
            std::thread::sleep(self.ttl / 3);
            let held: Vec<(String, String)> = self
                .leases
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .map(|(g, t)| (g.clone(), t.clone()))
                .collect();
            if held.is_empty() {
                continue;
            }
            if connection.is_none() {
                connection = self
                    .client
                    .get_connection_with_timeout(Duration::from_secs(1))
                    .ok();
            }
            let Some(c) = connection.as_mut() else {
                continue;
            };
            for (game_id, token) in held {
                let owner = format!("{}:{{{game_id}}}:owner", self.prefix);
                match script.arg(&owner).arg(&token).arg(ttl).invoke::<i64>(c) {
                    Ok(1) => {}
                    Ok(_) => {
                        // Forgotten: the game's appends now carry no token and are fenced.
                        warn!(game_id = %game_id, "lease lost: another hub runs this game now");
                        self.leases
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .remove(&game_id);
                    }
                    Err(e) => {
                        warn!(error = %e, "lease renewal failed");
                        connection = None;
                        break;
                    }
                }
            }
        }
    }
}

/// The batch's ops in the script's format.
fn encode_ops(ops: &[Op]) -> String {
    let encoded: Vec<Value> = ops
        .iter()
        .map(|op| match op {
            Op::Create(meta) => {
                let stored = MetaJson {
                    game_id: meta.game_id.clone(),
                    created_at: meta.created_at,
                    spec: meta.spec.clone(),
                    observer_hash: hash_hex(&meta.observer_hash),
                    seats: meta
                        .seats
                        .iter()
                        .map(|s| SeatJson {
                            player_id: s.player_id.clone(),
                            name: s.name.clone(),
                            token_hash: s.token_hash.as_ref().map(hash_hex),
                        })
                        .collect(),
                };
                json!({"t": "create", "at": meta.created_at,
                       "v": serde_json::to_string(&stored).unwrap_or_default()})
            }
            Op::Join {
                seat,
                name,
                token_hash,
            } => {
                let join = JoinJson {
                    seat: *seat,
                    name: name.clone(),
                    token_hash: hash_hex(token_hash),
                };
                json!({"t": "join", "v": serde_json::to_string(&join).unwrap_or_default()})
            }
            Op::Input(input) => {
                json!({"t": "input", "v": serde_json::to_string(input).unwrap_or_default()})
            }
            Op::Event(record) => {
                let parts = (record.stamped.head(), record.stamped.tail());
                let streams: Vec<Value> = record
                    .streams
                    .iter()
                    .map(|(s, seq)| json!([s.key(), seq]))
                    .collect();
                json!({"t": "event", "v": serde_json::to_string(&parts).unwrap_or_default(),
                       "s": streams})
            }
            Op::Ended(ended) => {
                let e = EndedJson {
                    winner: ended.winner,
                    ended_at: ended.ended_at,
                    days: ended.days,
                };
                json!({"t": "ended", "v": serde_json::to_string(&e).unwrap_or_default()})
            }
        })
        .collect();
    serde_json::to_string(&encoded).unwrap_or_default()
}
