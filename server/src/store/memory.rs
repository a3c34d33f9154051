//! The in-memory log (`HUB_STORE=memory`): resume by `seq` works while the process lives;
//! nothing survives it. A game is forgotten when it retires.

use super::{
    Batch, Commit, GameMeta, GameRow, GameStore, Input, Op, StoreError, StoredGame, StreamId,
};
use crate::games::stamped::SeqStamped;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

/// One game's log in memory.
#[derive(Debug)]
struct MemGame {
    /// Creation data with joins applied.
    meta: GameMeta,
    /// Every input, in order.
    inputs: Vec<Input>,
    /// Every routed message.
    events: Vec<Arc<SeqStamped>>,
    /// Per stream, `frames[seq - 1]` is the index in `events` of its frame `seq`.
    streams: HashMap<StreamId, Vec<u32>>,
    /// The end.
    ended: Option<super::Ended>,
}

/// Logs in memory, one lock per game (appends of different games never wait on each
/// other; the map's lock is taken only to find a game).
#[derive(Debug, Default)]
pub struct MemoryStore {
    /// Games by id.
    games: RwLock<HashMap<String, Arc<Mutex<MemGame>>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn game(&self, id: &str) -> Option<Arc<Mutex<MemGame>>> {
        self.games
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }
}

impl GameStore for MemoryStore {
    fn append(&self, batch: Batch) -> Commit {
        let mut ops = batch.ops.into_iter().peekable();
        if let Some(Op::Create(meta)) = ops.peek() {
            let game = MemGame {
                meta: meta.clone(),
                inputs: Vec::new(),
                events: Vec::new(),
                streams: HashMap::new(),
                ended: None,
            };
            self.games
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .insert(batch.game_id.to_string(), Arc::new(Mutex::new(game)));
            ops.next();
        }
        let Some(game) = self.game(&batch.game_id) else {
            return Commit::Done(Err(StoreError::Io(format!(
                "no game `{}` in the store",
                batch.game_id
            ))));
        };
        let mut game = game.lock().unwrap_or_else(|p| p.into_inner());
        for op in ops {
            match op {
                Op::Create(meta) => game.meta = meta,
                Op::Join {
                    seat,
                    name,
                    token_hash,
                } => {
                    if let Some(s) = game.meta.seats.get_mut(seat) {
                        s.name = Some(name);
                        s.token_hash = Some(token_hash);
                    }
                }
                Op::Input(input) => game.inputs.push(input),
                Op::Event(record) => {
                    let index = game.events.len() as u32;
                    game.events.push(record.stamped);
                    for (stream, seq) in record.streams {
                        let frames = game.streams.entry(stream).or_default();
                        // Frames arrive in seq order; a gap would be a bug upstream.
                        debug_assert_eq!(frames.len() as u64 + 1, seq);
                        frames.push(index);
                    }
                }
                Op::Ended(ended) => game.ended = Some(ended),
            }
        }
        Commit::Done(Ok(()))
    }

    fn frames(
        &self,
        game_id: &str,
        stream: StreamId,
        after: u64,
        upto: u64,
    ) -> Result<Vec<String>, StoreError> {
        let Some(game) = self.game(game_id) else {
            return Ok(Vec::new());
        };
        let game = game.lock().unwrap_or_else(|p| p.into_inner());
        let Some(frames) = game.streams.get(&stream) else {
            return Ok(Vec::new());
        };
        let upto = upto.min(frames.len() as u64);
        Ok((after + 1..=upto)
            .map(|seq| game.events[frames[seq as usize - 1] as usize].text(seq))
            .collect())
    }

    fn games(&self) -> Result<Vec<GameRow>, StoreError> {
        let games = self.games.read().unwrap_or_else(|p| p.into_inner());
        let mut rows: Vec<GameRow> = games
            .values()
            .map(|g| {
                let g = g.lock().unwrap_or_else(|p| p.into_inner());
                GameRow {
                    game_id: g.meta.game_id.clone(),
                    created_at: g.meta.created_at,
                    players: g.meta.seats.len(),
                    started: g.inputs.first() == Some(&Input::Start),
                    ended: g.ended,
                }
            })
            .collect();
        rows.sort_by(|a, b| a.created_at.total_cmp(&b.created_at));
        Ok(rows)
    }

    fn load(&self, game_id: &str) -> Result<Option<StoredGame>, StoreError> {
        Ok(self.game(game_id).map(|g| {
            let g = g.lock().unwrap_or_else(|p| p.into_inner());
            StoredGame {
                meta: g.meta.clone(),
                inputs: g.inputs.clone(),
                heads: g
                    .streams
                    .iter()
                    .map(|(s, f)| (*s, f.len() as u64))
                    .collect(),
                ended: g.ended,
            }
        }))
    }

    fn retire(&self, game_id: &str) {
        self.games
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(game_id);
    }

    fn durable(&self) -> bool {
        false
    }
}
