//! The embedded durable log: one SQLite file (`$HUB_DATA_DIR/hub.sqlite3`, WAL mode).
//!
//! SQLite (bundled through `rusqlite`) rather than a key-value store: the log is a file
//! researchers open with `sqlite3` or pandas (`frame_text` is a view of every frame's text),
//! it is one of the most tested storage engines there is, and WAL mode gives atomic,
//! group-committed appends with readers that never block the writer.
//!
//! A routed message is one row of `events` (a rowid table: rows are frames of up to a few KB,
//! appended at the end of the b-tree; only the small `(game_id, n)` index entry lands among
//! the game's others): the frame split around its `seq` and a JSON
//! object of the `seq` it has on each stream (`{"public":5,"full":7,"seat:0":12}`): one
//! insert per message rather than one per stream, which is what the writer spends its time
//! on. A stream is read back with `json_each` over its game's rows (a few thousand at most);
//! the view `frame_text` lists every frame's text by game, stream and seq.
//!
//! One writer thread owns the write connection. It takes every batch waiting (from every
//! game) and commits them in one transaction (group commit), then answers each batch's
//! [`Commit`]; a failed group is retried batch by batch so one game's failure does not fail
//! the others. With `synchronous=NORMAL` (the default) a commit has reached the OS before
//! any of its effects is delivered: a `kill -9` loses nothing any client has seen, a power
//! loss may lose the last commits; `HUB_STORE_SYNC=full` fsyncs every commit.

use super::{
    Batch, Commit, Ended, GameMeta, GameRow, GameStore, Input, Op, SeatMeta, StoreError,
    StoredGame, StreamId, TokenHash,
};
use rusqlite::{Connection, ErrorCode, OptionalExtension, params};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tracing::warn;
use werewolf_schemas::Winner;

/// The schema this hub writes and reads (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 1;

/// The store's file name inside the data directory.
pub const FILE_NAME: &str = "hub.sqlite3";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS games (
    game_id       TEXT PRIMARY KEY,
    created_at    REAL NOT NULL,
    spec          TEXT NOT NULL,
    observer_hash BLOB NOT NULL,
    started       INTEGER NOT NULL DEFAULT 0,
    winner        TEXT,
    ended_at      REAL,
    days          INTEGER
);
CREATE TABLE IF NOT EXISTS seats (
    game_id    TEXT NOT NULL,
    seat       INTEGER NOT NULL,
    player_id  TEXT NOT NULL,
    name       TEXT,
    token_hash BLOB,
    PRIMARY KEY (game_id, seat)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS inputs (
    game_id TEXT NOT NULL,
    n       INTEGER NOT NULL,
    input   TEXT NOT NULL,
    PRIMARY KEY (game_id, n)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
    id      INTEGER PRIMARY KEY,
    game_id TEXT NOT NULL,
    n       INTEGER NOT NULL,
    head    TEXT NOT NULL,
    tail    TEXT NOT NULL,
    streams TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS events_by_game ON events (game_id, n);
CREATE VIEW IF NOT EXISTS frame_text AS
    SELECT e.game_id, j.key AS stream, j.value AS seq,
           CASE WHEN e.tail = '' THEN e.head ELSE e.head || j.value || e.tail END AS body
    FROM events e, json_each(e.streams) j;
";

/// What the writer thread is asked to do.
#[derive(Debug)]
enum Work {
    /// Append a batch.
    Append(Job),
    /// Fold the WAL into the database file and stop (a clean shutdown leaves one file).
    Close(oneshot::Sender<Result<(), StoreError>>),
}

/// One batch waiting for the writer.
#[derive(Debug)]
struct Job {
    /// What to append.
    batch: Batch,
    /// Where the outcome goes.
    done: oneshot::Sender<Result<(), StoreError>>,
}

/// The SQLite-backed log.
#[derive(Debug)]
pub struct SqliteStore {
    /// The file.
    path: PathBuf,
    /// The writer thread's queue.
    jobs: mpsc::UnboundedSender<Work>,
    /// A connection for reads (WAL: never blocks the writer).
    reader: Mutex<Connection>,
    /// Dropped with the store: tells the checkpoint thread to stop.
    _checkpoints: std::sync::mpsc::Sender<()>,
}

impl SqliteStore {
    /// Opens (or creates) the store in `dir` with a checkpoint every 500 ms. `full_sync`:
    /// fsync every commit. Errors are one line naming the file and the problem.
    pub fn open(dir: &Path, full_sync: bool) -> Result<SqliteStore, StoreError> {
        Self::open_with(dir, full_sync, Some(Duration::from_millis(500)))
    }

    /// [`Self::open`] with the checkpoint period (`None`: only at [`GameStore::close`]).
    pub fn open_with(
        dir: &Path,
        full_sync: bool,
        checkpoint_every: Option<Duration>,
    ) -> Result<SqliteStore, StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Io(format!("cannot create {}: {e}", dir.display())))?;
        let path = dir.join(FILE_NAME);
        let shown = path.display().to_string();
        let writer = Connection::open(&path).map_err(|e| classify(&shown, e))?;
        let version: i64 = writer
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| classify(&shown, e))?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                path: shown,
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        let sync = if full_sync { "FULL" } else { "NORMAL" };
        writer
            .execute_batch(&format!(
                "PRAGMA journal_mode=WAL; PRAGMA synchronous={sync}; PRAGMA foreign_keys=OFF;
                 PRAGMA wal_autocheckpoint=0; PRAGMA cache_size=-65536;
                 PRAGMA journal_size_limit=67108864;"
            ))
            .map_err(|e| classify(&shown, e))?;
        writer
            .execute_batch(SCHEMA)
            .map_err(|e| classify(&shown, e))?;
        writer
            .execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION};"))
            .map_err(|e| classify(&shown, e))?;
        // A read probe over the tables, so a damaged file is refused at start, not mid-game.
        writer
            .query_row("SELECT COUNT(*) FROM games", [], |r| r.get::<_, i64>(0))
            .map_err(|e| classify(&shown, e))?;
        let reader = Connection::open(&path).map_err(|e| classify(&shown, e))?;
        let checkpointer = Connection::open(&path).map_err(|e| classify(&shown, e))?;
        let (checkpoints, stop) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("store-checkpoint".into())
            .spawn(move || checkpoint_loop(checkpointer, stop, checkpoint_every))
            .map_err(|e| StoreError::Io(format!("cannot start the store checkpointer: {e}")))?;
        let (jobs, queue) = mpsc::unbounded_channel();
        let thread_path = shown.clone();
        std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || write_loop(writer, queue, thread_path))
            .map_err(|e| StoreError::Io(format!("cannot start the store writer: {e}")))?;
        Ok(SqliteStore {
            path,
            jobs,
            reader: Mutex::new(reader),
            _checkpoints: checkpoints,
        })
    }

    /// The store's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        let conn = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        f(&conn).map_err(|e| classify(&self.path.display().to_string(), e))
    }
}

/// Maps a SQLite error to what an operator needs to know.
fn classify(path: &str, e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => StoreError::Corrupt {
            path: path.to_owned(),
            why: e.to_string(),
        },
        _ => StoreError::Io(format!("{path}: {e}")),
    }
}

/// Copies the WAL back into the database every `every`, off the writer's path: a passive
/// checkpoint never blocks the writer (SQLite's automatic one runs inside a commit and stalls
/// every game waiting on it). Ends when the store is dropped; `None`: never (the writer
/// checkpoints once at [`GameStore::close`]).
fn checkpoint_loop(conn: Connection, stop: std::sync::mpsc::Receiver<()>, every: Option<Duration>) {
    use std::sync::mpsc::RecvTimeoutError;
    let Some(every) = every else {
        let _ = stop.recv();
        return;
    };
    while let Err(RecvTimeoutError::Timeout) = stop.recv_timeout(every) {
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            warn!(error = %e, "store checkpoint failed");
        }
    }
}

/// The next `n` of each game's inputs and events, so a batch needs no `MAX(n)` query; dropped
/// whenever a transaction fails (its numbers may not have been used).
type Counters = HashMap<Arc<str>, (Option<i64>, Option<i64>)>;

fn write_loop(mut conn: Connection, mut queue: mpsc::UnboundedReceiver<Work>, path: String) {
    let mut counters = Counters::new();
    let mut closing = None;
    while let Some(first) = queue.blocking_recv() {
        let mut jobs = Vec::new();
        let mut next = Some(first);
        while let Some(work) = next.take() {
            match work {
                Work::Append(job) => jobs.push(job),
                Work::Close(done) => {
                    closing = Some(done);
                    break;
                }
            }
            if jobs.len() < 512 {
                next = queue.try_recv().ok();
            }
        }
        commit_group(&mut conn, &mut counters, jobs, &path);
        if let Some(done) = closing.take() {
            let result = conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                .map_err(|e| classify(&path, e));
            let _ = done.send(result);
            return;
        }
    }
}

/// Commits a group of batches in one transaction, or each alone if the group fails.
fn commit_group(conn: &mut Connection, counters: &mut Counters, jobs: Vec<Job>, path: &str) {
    if jobs.is_empty() {
        return;
    }
    let all = apply(conn, counters, jobs.iter().map(|j| &j.batch));
    if all.is_ok() {
        for job in jobs {
            let _ = job.done.send(Ok(()));
        }
        return;
    }
    // Isolate the failure: each batch alone, so the healthy games still commit.
    counters.clear();
    for job in jobs {
        let result = apply(conn, counters, std::iter::once(&job.batch));
        if result.is_err() {
            counters.clear();
        }
        let result = result.map_err(|e| {
            let e = classify(path, e);
            warn!(game_id = %job.batch.game_id, error = %e, "store commit failed");
            e
        });
        let _ = job.done.send(result);
    }
}

/// Applies batches in one transaction.
fn apply<'a>(
    conn: &mut Connection,
    counters: &mut Counters,
    batches: impl Iterator<Item = &'a Batch>,
) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    for batch in batches {
        apply_one(&tx, counters, batch)?;
    }
    tx.commit()
}

fn apply_one(
    tx: &rusqlite::Transaction<'_>,
    counters: &mut Counters,
    batch: &Batch,
) -> rusqlite::Result<()> {
    let game = &*batch.game_id;
    let (mut next_input, mut next_event) = counters
        .get(&batch.game_id)
        .copied()
        .unwrap_or((None, None));
    for op in &batch.ops {
        match op {
            Op::Create(meta) => {
                tx.prepare_cached(
                    "INSERT INTO games (game_id, created_at, spec, observer_hash) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![
                    meta.game_id,
                    meta.created_at,
                    meta.spec.to_string(),
                    &meta.observer_hash[..]
                ])?;
                let mut insert = tx.prepare_cached(
                    "INSERT INTO seats (game_id, seat, player_id, name, token_hash) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?;
                for (i, seat) in meta.seats.iter().enumerate() {
                    insert.execute(params![
                        meta.game_id,
                        i as i64,
                        seat.player_id,
                        seat.name,
                        seat.token_hash.as_ref().map(|h| &h[..])
                    ])?;
                }
            }
            Op::Join {
                seat,
                name,
                token_hash,
            } => {
                tx.prepare_cached(
                    "UPDATE seats SET name = ?3, token_hash = ?4 WHERE game_id = ?1 AND seat = ?2",
                )?
                .execute(params![game, *seat as i64, name, &token_hash[..]])?;
            }
            Op::Input(input) => {
                let n = match next_input {
                    Some(n) => n,
                    None => max_n(tx, "inputs", game)? + 1,
                };
                next_input = Some(n + 1);
                let json = serde_json::to_string(input)
                    .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
                tx.prepare_cached("INSERT INTO inputs (game_id, n, input) VALUES (?1, ?2, ?3)")?
                    .execute(params![game, n, json])?;
                if *input == Input::Start {
                    tx.prepare_cached("UPDATE games SET started = 1 WHERE game_id = ?1")?
                        .execute(params![game])?;
                }
            }
            Op::Event(record) => {
                let n = match next_event {
                    Some(n) => n,
                    None => max_n(tx, "events", game)? + 1,
                };
                next_event = Some(n + 1);
                tx.prepare_cached(
                    "INSERT INTO events (game_id, n, head, tail, streams) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![
                    game,
                    n,
                    record.stamped.head(),
                    record.stamped.tail(),
                    streams_json(&record.streams)
                ])?;
            }
            Op::Ended(ended) => {
                tx.prepare_cached(
                    "UPDATE games SET winner = ?2, ended_at = ?3, days = ?4 WHERE game_id = ?1",
                )?
                .execute(params![
                    game,
                    winner_name(ended.winner),
                    ended.ended_at,
                    ended.days as i64
                ])?;
            }
        }
    }
    let ended = batch.ops.iter().any(|op| matches!(op, Op::Ended(_)));
    if ended {
        // Few appends follow an end (a late presence): not worth a cache entry per game.
        counters.remove(&batch.game_id);
    } else if next_input.is_some() || next_event.is_some() {
        counters.insert(batch.game_id.clone(), (next_input, next_event));
    }
    Ok(())
}

/// `{"public":5,"seat:0":12}`: the `seq` of a message on each stream it went to.
fn streams_json(streams: &[(StreamId, u64)]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(16 * streams.len() + 2);
    out.push('{');
    for (i, (stream, seq)) in streams.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "\"{stream}\":{seq}");
    }
    out.push('}');
    out
}

fn max_n(tx: &rusqlite::Transaction<'_>, table: &str, game: &str) -> rusqlite::Result<i64> {
    tx.prepare_cached(&format!(
        "SELECT COALESCE(MAX(n), 0) FROM {table} WHERE game_id = ?1"
    ))?
    .query_row(params![game], |r| r.get(0))
}

fn winner_name(w: Winner) -> &'static str {
    match w {
        Winner::Villagers => "villagers",
        Winner::Werewolves => "werewolves",
        Winner::Draw => "draw",
        Winner::Aborted => "aborted",
    }
}

fn parse_winner(s: &str) -> Option<Winner> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
}

fn hash_of(blob: Option<Vec<u8>>) -> Option<TokenHash> {
    blob.and_then(|b| b.try_into().ok())
}

fn ended_of(winner: Option<String>, ended_at: Option<f64>, days: Option<i64>) -> Option<Ended> {
    Some(Ended {
        winner: parse_winner(&winner?)?,
        ended_at: ended_at?,
        days: days.unwrap_or(0) as u32,
    })
}

impl GameStore for SqliteStore {
    fn append(&self, batch: Batch) -> Commit {
        let (done, answer) = oneshot::channel();
        match self.jobs.send(Work::Append(Job { batch, done })) {
            Ok(()) => Commit::Pending(answer),
            Err(_) => Commit::Done(Err(StoreError::Closed)),
        }
    }

    fn frames(
        &self,
        game_id: &str,
        stream: StreamId,
        after: u64,
        upto: u64,
    ) -> Result<Vec<String>, StoreError> {
        self.read(|c| {
            let mut q = c.prepare_cached(
                "SELECT CASE WHEN e.tail = '' THEN e.head ELSE e.head || j.value || e.tail END
                 FROM events e, json_each(e.streams) j
                 WHERE e.game_id = ?1 AND j.key = ?2 AND j.value > ?3 AND j.value <= ?4
                 ORDER BY e.n",
            )?;
            let rows = q.query_map(
                params![
                    game_id,
                    stream.key(),
                    after.min(i64::MAX as u64) as i64,
                    upto.min(i64::MAX as u64) as i64
                ],
                |r| r.get::<_, String>(0),
            )?;
            rows.collect()
        })
    }

    fn games(&self) -> Result<Vec<GameRow>, StoreError> {
        self.read(|c| {
            let mut q = c.prepare_cached(
                "SELECT g.game_id, g.created_at, g.started, g.winner, g.ended_at, g.days,
                        (SELECT COUNT(*) FROM seats s WHERE s.game_id = g.game_id)
                 FROM games g ORDER BY g.created_at, g.game_id",
            )?;
            let rows = q.query_map([], |r| {
                Ok(GameRow {
                    game_id: r.get(0)?,
                    created_at: r.get(1)?,
                    started: r.get::<_, i64>(2)? != 0,
                    ended: ended_of(r.get(3)?, r.get(4)?, r.get(5)?),
                    players: r.get::<_, i64>(6)? as usize,
                })
            })?;
            rows.collect()
        })
    }

    fn load(&self, game_id: &str) -> Result<Option<StoredGame>, StoreError> {
        self.read(|c| {
            let row = c
                .prepare_cached(
                    "SELECT created_at, spec, observer_hash, winner, ended_at, days
                     FROM games WHERE game_id = ?1",
                )?
                .query_row(params![game_id], |r| {
                    Ok((
                        r.get::<_, f64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Vec<u8>>(2)?,
                        ended_of(r.get(3)?, r.get(4)?, r.get(5)?),
                    ))
                })
                .optional()?;
            let Some((created_at, spec, observer_hash, ended)) = row else {
                return Ok(None);
            };
            let seats = c
                .prepare_cached(
                    "SELECT player_id, name, token_hash FROM seats WHERE game_id = ?1 ORDER BY seat",
                )?
                .query_map(params![game_id], |r| {
                    Ok(SeatMeta {
                        player_id: r.get(0)?,
                        name: r.get(1)?,
                        token_hash: hash_of(r.get(2)?),
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let inputs = c
                .prepare_cached("SELECT input FROM inputs WHERE game_id = ?1 ORDER BY n")?
                .query_map(params![game_id], |r| r.get::<_, String>(0))?
                .map(|text| {
                    let text = text?;
                    serde_json::from_str::<Input>(&text).map_err(|e| {
                        rusqlite::Error::FromSqlConversionFailure(
                            0,
                            rusqlite::types::Type::Text,
                            Box::new(e),
                        )
                    })
                })
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let heads: HashMap<StreamId, u64> = c
                .prepare_cached(
                    "SELECT j.key, MAX(j.value) FROM events e, json_each(e.streams) j
                     WHERE e.game_id = ?1 GROUP BY j.key",
                )?
                .query_map(params![game_id], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
                })?
                .filter_map(|row| match row {
                    Ok((key, seq)) => StreamId::from_key(&key).map(|s| Ok((s, seq as u64))),
                    Err(e) => Some(Err(e)),
                })
                .collect::<rusqlite::Result<_>>()?;
            let spec = serde_json::from_str(&spec).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, Box::new(e))
            })?;
            Ok(Some(StoredGame {
                meta: GameMeta {
                    game_id: game_id.to_owned(),
                    created_at,
                    spec,
                    observer_hash: hash_of(Some(observer_hash)).unwrap_or_default(),
                    seats,
                },
                inputs,
                heads,
                ended,
            }))
        })
    }

    fn retire(&self, _game_id: &str) {}

    fn close(&self) -> Commit {
        let (done, answer) = oneshot::channel();
        match self.jobs.send(Work::Close(done)) {
            Ok(()) => Commit::Pending(answer),
            Err(_) => Commit::Done(Ok(())),
        }
    }

    fn durable(&self) -> bool {
        true
    }
}
