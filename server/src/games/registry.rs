//! Every game of the hub: creation, recovery, lookup, seats and their credentials.

use super::actor::{self, GameCommand};
use super::secret;
use super::spec::GameSpec;
use crate::clock::now_epoch_s;
use crate::connection_manager::{ConnectionManager, Traffic};
use crate::shutdown::Shutdown;
use crate::store::{self, GameMeta, Op, SeatMeta, Store, StoreError, StoredGame, TokenHash};
use arc_swap::ArcSwap;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;
use tokio::sync::mpsc;
use tracing::{info, warn};
use werewolf_schemas::{GameStateBody, Phase};

/// Commands a game's inbox holds before senders get `game_busy`.
const INBOX_CAPACITY: usize = 1024;

/// One seat of a game.
#[derive(Debug, Clone)]
pub struct Seat {
    /// Globally unique player id: `{game_id}-p{n}` (it is also the agent's client_id).
    pub player_id: String,
    /// SHA-256 of the seat's token (the token itself is only ever handed to its holder);
    /// `None` while the seat is open.
    token_hash: Option<TokenHash>,
    /// Display name; `None` while the seat is open.
    pub name: Option<String>,
    /// Whether the seat's agent is connected now.
    pub connected: bool,
    /// When the agent last connected or disconnected, epoch seconds. Presence only: an
    /// action must not move it (it would show who acts at night).
    pub last_seen: Option<f64>,
    /// Requests of this seat that expired unanswered; public only once the game has ended.
    pub timeouts: u64,
    /// Played by the hub's built-in bot: no token, never connected by a client, always
    /// present.
    pub bot: bool,
}

impl Seat {
    /// Whether `token` is this seat's token.
    pub fn token_matches(&self, token: &str) -> bool {
        self.token_hash
            .as_ref()
            .is_some_and(|h| store::token_matches(token, h))
    }

    /// Claims the seat for `name` with a fresh token; returns the token and its hash.
    pub fn claim(&mut self, name: &str) -> (String, TokenHash) {
        let token = secret::token();
        let hash = store::hash_token(&token);
        self.name = Some(name.to_owned());
        self.token_hash = Some(hash);
        (token, hash)
    }
}

/// Public summary of a game for `GET /games`, refreshed by its actor.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct GameSummary {
    /// The game's id.
    pub game_id: String,
    /// Current phase (`lobby` before the start).
    pub phase: Phase,
    /// Current day.
    pub day: u32,
    /// Number of seats.
    pub players: usize,
    /// Living players.
    pub alive: usize,
    /// Epoch seconds of creation.
    pub created_at: f64,
    /// Who won, once over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub winner: Option<werewolf_schemas::Winner>,
    /// In a cluster: the id of the node running the game (absent for a game only in the
    /// store).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// Pending `talk` and `vote` requests (public: everyone sees who is asked), for
    /// `/metrics`; not part of the REST answer.
    #[serde(skip)]
    #[schemars(skip)]
    pub pending_public: [usize; 2],
}

/// What the registry and the connection tasks share with one game's actor.
#[derive(Debug)]
pub struct GameShared {
    /// The game's id.
    pub id: Arc<str>,
    /// Epoch seconds of creation.
    pub created_at: f64,
    /// SHA-256 of the secret giving observers the full view.
    observer_hash: TokenHash,
    /// The seats, by seat index. Written only by the actor; locked briefly, never across an
    /// await.
    seats: RwLock<Vec<Seat>>,
    /// Latest public summary, swapped by the actor after every change.
    pub summary: ArcSwap<GameSummary>,
    /// Latest public view (what a ui sees), swapped by the actor after every change.
    pub public_state: ArcSwap<GameStateBody>,
    /// The setup (`GameSpec::to_json`), for `GET /games/{id}` (seed only once over).
    pub spec_json: serde_json::Value,
    /// The seed (dealt the roles: revealed once the game is over).
    pub seed: u64,
    /// The last full-view `seq` released to full observers (after `observer_delay_ms`):
    /// replays of the full view while the game runs stop there.
    pub full_released: AtomicU64,
    /// The actor's inbox.
    pub commands: mpsc::Sender<GameCommand>,
    /// Traffic of the connections that see hidden information (seats, full view), counted
    /// apart and released into the hub's `/stats` counters when the game ends.
    pub traffic: Arc<Traffic>,
}

impl GameShared {
    /// Read access to the seats.
    pub fn seats(&self) -> RwLockReadGuard<'_, Vec<Seat>> {
        self.seats.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Write access to the seats (the actor only).
    pub fn seats_mut(&self) -> RwLockWriteGuard<'_, Vec<Seat>> {
        self.seats.write().unwrap_or_else(|p| p.into_inner())
    }

    /// The seat index of a player id.
    pub fn seat_index(&self, player_id: &str) -> Option<usize> {
        self.seats().iter().position(|s| s.player_id == player_id)
    }

    /// Whether the game has ended (its hidden information is public from then on).
    pub fn is_over(&self) -> bool {
        self.summary.load().winner.is_some()
    }

    /// Whether `token` is the observer token.
    pub fn observer_token_matches(&self, token: &str) -> bool {
        store::token_matches(token, &self.observer_hash)
    }
}

/// A seat's credentials, as returned to its creator.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SeatCredentials {
    /// The seat's player id (connect as `/ws/{player_id}`).
    pub player_id: String,
    /// The seat's name.
    pub name: String,
    /// The seat's token.
    pub token: String,
    /// `aiwolf` for a seat an AIWolf agent plays (it connects to `GET /ws?game_id={game_id}`
    /// with this token as `Authorization: Bearer` or `&token=`); absent for the hub's
    /// protocol.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<&'static str>,
}

/// A seat the hub's built-in bot plays.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct BotSeat {
    /// The seat's player id.
    pub player_id: String,
    /// The seat's name.
    pub name: String,
}

/// `POST /games` answer.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedGame {
    /// The new game's id.
    pub game_id: String,
    /// Credentials of every named seat a client plays (empty when seats are claimed by
    /// joining): the free seats.
    pub players: Vec<SeatCredentials>,
    /// The seats the hub's built-in bots play.
    pub bots: Vec<BotSeat>,
    /// Token for full-view observers.
    pub observer_token: String,
    /// The seed: the same seed and the same inputs replay the same game. Keep it from the
    /// players: it deals the roles.
    pub seed: u64,
    /// The whole setup (engine config with the seed, seats, delay, auto start).
    pub config: serde_json::Value,
}

/// Why a join failed.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    /// No such game.
    #[error("no game `{0}`")]
    NoGame(String),
    /// Every seat is taken.
    #[error("game `{0}` is full")]
    Full(String),
    /// The name is unusable.
    #[error("{0}")]
    BadName(String),
    /// The name is already seated in this game.
    #[error("name `{0}` is already taken in this game")]
    NameTaken(String),
    /// The join could not be made durable.
    #[error("{0}")]
    Store(String),
}

/// What a game's actor needs from the hub, besides its game.
#[derive(Debug, Clone)]
pub struct HubLinks {
    /// Delivery.
    pub manager: ConnectionManager,
    /// Stops actors with the hub.
    pub shutdown: Shutdown,
    /// How long a finished game stays in memory.
    pub retention: Duration,
    /// How long a running game may have every seat offline.
    pub abandon_after: Duration,
    /// `WS_TIMEOUT`, for the `connection` frame the actor sends.
    pub timeout_s: u64,
    /// `WS_MAX_MESSAGE_BYTES`, likewise.
    pub max_message_bytes: usize,
    /// Where the game's measurements go (its hidden side only once it has ended).
    pub metrics: Arc<crate::metrics::HubMetrics>,
    /// How long a game may wait in the lobby before it is removed (`GAME_LOBBY_EXPIRE_S`).
    pub lobby_expire: Duration,
}

/// All games, behind a cheap-to-clone handle.
#[derive(Debug, Clone)]
pub struct GameRegistry {
    /// Games in memory, by id.
    games: Arc<RwLock<HashMap<String, Arc<GameShared>>>>,
    /// Games created since start (for ids).
    created: Arc<AtomicU64>,
    /// The durable log.
    pub store: Store,
}

impl GameRegistry {
    /// An empty registry over `store`.
    pub fn new(store: Store) -> Self {
        GameRegistry {
            games: Arc::default(),
            created: Arc::default(),
            store,
        }
    }

    /// Creates a game, makes it durable, and spawns its actor.
    pub async fn create(&self, spec: GameSpec, links: HubLinks) -> Result<CreatedGame, StoreError> {
        let n = self.created.fetch_add(1, Ordering::Relaxed) + 1;
        let game_id = format!("g{n}-{}", secret::short_id());
        let observer_token = secret::token();
        let mut players = Vec::new();
        let mut bots = Vec::new();
        let seats: Vec<Seat> = (0..spec.player_count)
            .map(|i| {
                let bot = spec.is_bot(i);
                let mut seat = Seat {
                    player_id: format!("{game_id}-p{}", i + 1),
                    token_hash: None,
                    name: None,
                    connected: bot,
                    last_seen: None,
                    timeouts: 0,
                    bot,
                };
                let name = spec.names.as_ref().and_then(|names| names.get(i));
                if let (Some(name), true) = (name, bot) {
                    seat.name = Some(name.clone());
                    bots.push(BotSeat {
                        player_id: seat.player_id.clone(),
                        name: name.clone(),
                    });
                } else if let Some(name) = name {
                    let (token, _) = seat.claim(name);
                    players.push(SeatCredentials {
                        player_id: seat.player_id.clone(),
                        name: name.clone(),
                        token,
                        protocol: spec.is_aiwolf(i).then_some("aiwolf"),
                    });
                }
                seat
            })
            .collect();
        let created_at = now_epoch_s();
        // A new id: nobody else can hold it, but the lease must exist before the first append.
        let store = self.store.clone();
        let id = game_id.clone();
        let claimed = tokio::task::spawn_blocking(move || store.claim(&id))
            .await
            .map_err(|e| StoreError::Io(e.to_string()))??;
        if !claimed {
            return Err(StoreError::Io(format!("game id `{game_id}` is taken")));
        }
        let meta = GameMeta {
            game_id: game_id.clone(),
            created_at,
            spec: spec.to_json(),
            observer_hash: store::hash_token(&observer_token),
            seats: seats
                .iter()
                .map(|s| SeatMeta {
                    player_id: s.player_id.clone(),
                    name: s.name.clone(),
                    token_hash: s.token_hash,
                })
                .collect(),
        };
        let batch = store::Batch {
            game_id: Arc::from(game_id.as_str()),
            ops: vec![Op::Create(meta.clone())],
        };
        self.store.append(batch).wait().await?;
        let config = meta.spec.clone();
        let seed = spec.config.seed;
        info!(
            game_id = %game_id,
            seats = spec.player_count,
            bots = spec.bot_seats().len(),
            "game created"
        );
        self.spawn(meta, seats, spec, None, links);
        Ok(CreatedGame {
            game_id,
            players,
            bots,
            observer_token,
            seed,
            config,
        })
    }

    /// Brings back every game of a durable store that is not over, or ended less than the
    /// retention ago (and, with a shared store, that no other live hub runs). A game that
    /// cannot be read is reported (one line) and left in the store; the others come back.
    /// Returns how many came back.
    pub async fn recover(&self, links: HubLinks) -> Result<usize, StoreError> {
        if !self.store.durable() {
            return Ok(0);
        }
        let store = self.store.clone();
        let rows = tokio::task::spawn_blocking(move || store.games())
            .await
            .map_err(|e| StoreError::Io(e.to_string()))??;
        self.created.store(rows.len() as u64, Ordering::Relaxed);
        let mut ready = Vec::new();
        for row in rows {
            if let Some(rebuilt) = self.recover_game(row, &links).await? {
                ready.push(rebuilt);
            }
        }
        let recovered = ready.len();
        // Every game is rebuilt (and its re-issued requests logged) before the hub listens,
        // so nothing ever sees a recovered game half-way.
        for rebuilt in ready {
            let _ = rebuilt.await;
        }
        if recovered > 0 {
            info!(games = recovered, "recovered games from the store");
        }
        Ok(recovered)
    }

    /// With a store shared by several hubs: every `every`, takes over the games that are
    /// not over and whose hub's lease has run out (that hub died or was cut off), as
    /// recovery does at start. One listing of the open games and one pipelined read of
    /// their leases per scan. Runs until the hub shuts down.
    pub async fn adopt_orphans(self, links: HubLinks, every: std::time::Duration) {
        loop {
            tokio::select! {
                _ = links.shutdown.triggered() => return,
                _ = tokio::time::sleep(every) => {}
            }
            let store = self.store.clone();
            let orphans = match tokio::task::spawn_blocking(move || store.orphans()).await {
                Ok(Ok(ids)) => ids,
                Ok(Err(e)) => {
                    warn!(error = %e, "listing the shared store failed");
                    continue;
                }
                Err(_) => continue,
            };
            for game_id in orphans {
                self.adopt(&game_id, links.clone()).await;
            }
        }
    }

    /// Takes over one game of the shared store now, if it exists, is not over and no live
    /// hub holds it (a client reached this hub first after its hub died). Returns once it
    /// is rebuilt here, or at once if it is not to be taken.
    pub async fn adopt(&self, game_id: &str, links: HubLinks) {
        if self.get(game_id).is_some() {
            return;
        }
        let row = store::GameRow {
            game_id: game_id.to_owned(),
            created_at: 0.0,
            players: 0,
            started: true,
            ended: None,
        };
        match self.recover_game(row, &links).await {
            Ok(Some(rebuilt)) => {
                let _ = rebuilt.await;
                info!(game_id = %game_id, "took over a game whose hub is gone");
            }
            Ok(None) => {}
            Err(e) => warn!(game_id = %game_id, error = %e, "takeover failed"),
        }
    }

    /// Rebuilds one stored game, if it is to come back and this hub may run it; the
    /// receiver resolves once it is rebuilt.
    async fn recover_game(
        &self,
        row: store::GameRow,
        links: &HubLinks,
    ) -> Result<Option<tokio::sync::oneshot::Receiver<()>>, StoreError> {
        let now = now_epoch_s();
        let retention = links.retention.as_secs_f64();
        if row.ended.is_some_and(|e| e.ended_at + retention <= now) {
            return Ok(None);
        }
        let store = self.store.clone();
        let id = row.game_id.clone();
        let loaded = tokio::task::spawn_blocking(move || store.load(&id))
            .await
            .map_err(|e| StoreError::Io(e.to_string()))?;
        let stored = match loaded {
            // Removed before it started (lobby expiry, DELETE): nothing to bring back.
            Ok(Some(s)) if s.ended.is_some() && !s.inputs.contains(&store::Input::Start) => {
                return Ok(None);
            }
            // Ended longer than the retention ago: it stays in the store only.
            Ok(Some(s)) if s.ended.is_some_and(|e| e.ended_at + retention <= now) => {
                return Ok(None);
            }
            Ok(Some(s)) => s,
            Ok(None) => return Ok(None),
            Err(e) => {
                warn!(game_id = %row.game_id, error = %e, "game not recovered");
                return Ok(None);
            }
        };
        // Last, so a game skipped above keeps no lease.
        let store = self.store.clone();
        let id = row.game_id.clone();
        let claimed = tokio::task::spawn_blocking(move || store.claim(&id))
            .await
            .map_err(|e| StoreError::Io(e.to_string()))?;
        match claimed {
            Ok(true) => {}
            Ok(false) => {
                tracing::debug!(game_id = %row.game_id, "game run by another hub");
                return Ok(None);
            }
            Err(e) => {
                warn!(game_id = %row.game_id, error = %e, "game not recovered");
                return Ok(None);
            }
        }
        match GameSpec::from_json(&stored.meta.spec) {
            Ok(spec) => {
                let seats = stored
                    .meta
                    .seats
                    .iter()
                    .enumerate()
                    .map(|(i, s)| Seat {
                        player_id: s.player_id.clone(),
                        token_hash: s.token_hash,
                        name: s.name.clone(),
                        connected: spec.is_bot(i),
                        last_seen: None,
                        timeouts: 0,
                        bot: spec.is_bot(i),
                    })
                    .collect();
                let (done, rebuilt) = tokio::sync::oneshot::channel();
                self.spawn(
                    stored.meta.clone(),
                    seats,
                    spec,
                    Some((stored, done)),
                    links.clone(),
                );
                Ok(Some(rebuilt))
            }
            Err(e) => {
                warn!(game_id = %row.game_id, error = %e, "game not recovered");
                self.store.retire(&row.game_id);
                Ok(None)
            }
        }
    }

    fn spawn(
        &self,
        meta: GameMeta,
        seats: Vec<Seat>,
        spec: GameSpec,
        recovered: Option<(StoredGame, tokio::sync::oneshot::Sender<()>)>,
        links: HubLinks,
    ) {
        let (commands, inbox) = mpsc::channel(INBOX_CAPACITY);
        let n = spec.player_count;
        let game_id = meta.game_id.clone();
        let shared = Arc::new(GameShared {
            id: Arc::from(game_id.as_str()),
            created_at: meta.created_at,
            observer_hash: meta.observer_hash,
            seats: RwLock::new(seats),
            summary: ArcSwap::from_pointee(GameSummary {
                game_id: game_id.clone(),
                phase: Phase::Lobby,
                day: 0,
                players: n,
                alive: n,
                created_at: meta.created_at,
                winner: None,
                node: None,
                pending_public: [0, 0],
            }),
            public_state: ArcSwap::from_pointee(GameStateBody {
                game_id: Some(game_id.clone()),
                seq: None,
                phase: Phase::Lobby,
                day: 0,
                current_turn: 0,
                players: Vec::new(),
                alive_count: n as u32,
                dead_count: 0,
                you: None,
                winner: None,
            }),
            spec_json: meta.spec.clone(),
            seed: spec.config.seed,
            full_released: AtomicU64::new(0),
            commands,
            traffic: Arc::default(),
        });
        self.write().insert(game_id, shared.clone());
        let registry = self.clone();
        tokio::spawn(async move {
            let id = shared.id.clone();
            let retired = actor::run(
                shared,
                spec,
                inbox,
                links,
                registry.store.clone(),
                recovered,
            )
            .await;
            if retired {
                registry.remove(&id);
                registry.store.retire(&id);
            }
        });
    }

    /// Claims the first open seat of a game for `name` (through its actor, so the join is
    /// durable before the token is handed out).
    pub async fn join(&self, game_id: &str, name: &str) -> Result<SeatCredentials, JoinError> {
        super::spec::validate_name(name).map_err(JoinError::BadName)?;
        let game = self
            .get(game_id)
            .ok_or_else(|| JoinError::NoGame(game_id.to_owned()))?;
        let (reply, answer) = tokio::sync::oneshot::channel();
        let command = GameCommand::Join {
            name: name.to_owned(),
            reply,
        };
        if game.commands.send(command).await.is_err() {
            return Err(JoinError::Store("the game is shutting down".into()));
        }
        answer
            .await
            .unwrap_or_else(|_| Err(JoinError::Store("the game is shutting down".into())))
    }

    /// Forgets a game (its actor calls this when it retires).
    pub fn remove(&self, game_id: &str) {
        self.write().remove(game_id);
    }

    /// The game and seat index whose player id is `player_id` (`{game_id}-p{n}`), if that
    /// game is in memory.
    pub fn seat_owner(&self, player_id: &str) -> Option<(Arc<GameShared>, usize)> {
        let (game_id, n) = player_id.rsplit_once("-p")?;
        let index = n.parse::<usize>().ok()?.checked_sub(1)?;
        let game = self.get(game_id)?;
        let owned = game
            .seats()
            .get(index)
            .is_some_and(|s| s.player_id == player_id);
        owned.then_some((game, index))
    }

    /// A game by id.
    pub fn get(&self, game_id: &str) -> Option<Arc<GameShared>> {
        self.read().get(game_id).cloned()
    }

    /// Every game in memory, oldest first.
    pub fn all(&self) -> Vec<Arc<GameShared>> {
        let mut games: Vec<_> = self.read().values().cloned().collect();
        games.sort_by(|a, b| {
            a.created_at
                .total_cmp(&b.created_at)
                .then_with(|| a.id.cmp(&b.id))
        });
        games
    }

    /// Number of games in memory.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether no game is in memory.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Request timeouts per player id, over every ended game (for `/stats`): while a game
    /// runs, who timed out would tell who was asked at night.
    pub fn timeouts_by_agent(&self) -> HashMap<String, u64> {
        let mut out = HashMap::new();
        for game in self.all().into_iter().filter(|g| g.is_over()) {
            for seat in game.seats().iter().filter(|s| s.timeouts > 0) {
                out.insert(seat.player_id.clone(), seat.timeouts);
            }
        }
        out
    }

    fn read(&self) -> RwLockReadGuard<'_, HashMap<String, Arc<GameShared>>> {
        self.games.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, HashMap<String, Arc<GameShared>>> {
        self.games.write().unwrap_or_else(|p| p.into_inner())
    }
}
