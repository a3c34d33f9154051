//! Every game of the hub: creation, lookup, seats and their credentials.

use super::actor::{self, GameCommand};
use super::secret;
use super::spec::{GameSpec, validate_name};
use crate::clock::now_epoch_s;
use crate::connection_manager::{ConnectionManager, Traffic};
use crate::shutdown::Shutdown;
use arc_swap::ArcSwap;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use tokio::sync::mpsc;
use werewolf_schemas::{GameStateBody, Phase};

/// Commands a game's inbox holds before senders get `game_busy`.
const INBOX_CAPACITY: usize = 1024;

/// One seat of a game.
#[derive(Debug, Clone)]
pub struct Seat {
    /// Globally unique player id: `{game_id}-p{n}` (it is also the agent's client_id).
    pub player_id: String,
    /// Secret the seat's agent presents as `?token=`.
    token: String,
    /// Display name; `None` while the seat is open.
    pub name: Option<String>,
    /// Whether the seat's agent is connected now.
    pub connected: bool,
    /// When the agent last connected or disconnected, epoch seconds. Presence only: an
    /// action must not move it (it would show who acts at night).
    pub last_seen: Option<f64>,
    /// Requests of this seat that expired unanswered; public only once the game has ended.
    pub timeouts: u64,
}

impl Seat {
    /// Whether `token` is this seat's token.
    pub fn token_matches(&self, token: &str) -> bool {
        secret::tokens_match(token, &self.token)
    }
}

/// Public summary of a game for `GET /games`, refreshed by its actor.
#[derive(Debug, Clone, Serialize)]
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
}

/// What the registry and the connection tasks share with one game's actor.
#[derive(Debug)]
pub struct GameShared {
    /// The game's id.
    pub id: Arc<str>,
    /// Epoch seconds of creation.
    pub created_at: f64,
    /// Secret giving observers the full view.
    observer_token: String,
    /// The seats, by seat index. Locked briefly, never across an await.
    seats: RwLock<Vec<Seat>>,
    /// Latest public summary, swapped by the actor after every change.
    pub summary: ArcSwap<GameSummary>,
    /// Latest public view (what a ui sees), swapped by the actor after every change.
    pub public_state: ArcSwap<GameStateBody>,
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

    /// Write access to the seats (actor and join only).
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
        secret::tokens_match(token, &self.observer_token)
    }
}

/// A seat's credentials, as returned to its creator.
#[derive(Debug, Clone, Serialize)]
pub struct SeatCredentials {
    /// The seat's player id (connect as `/ws/{player_id}`).
    pub player_id: String,
    /// The seat's name.
    pub name: String,
    /// The seat's token.
    pub token: String,
}

/// `POST /games` answer.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedGame {
    /// The new game's id.
    pub game_id: String,
    /// Credentials of every named seat (empty when seats are claimed by joining).
    pub players: Vec<SeatCredentials>,
    /// Token for full-view observers.
    pub observer_token: String,
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
}

/// All games, behind a cheap-to-clone handle.
#[derive(Debug, Clone, Default)]
pub struct GameRegistry {
    /// Games by id.
    games: Arc<RwLock<HashMap<String, Arc<GameShared>>>>,
    /// Games created since start (for ids and `/stats`).
    created: Arc<AtomicU64>,
}

impl GameRegistry {
    /// Creates a game and spawns its actor.
    pub fn create(
        &self,
        spec: GameSpec,
        manager: ConnectionManager,
        shutdown: Shutdown,
        retention: std::time::Duration,
        abandon_after: std::time::Duration,
    ) -> CreatedGame {
        let n = self.created.fetch_add(1, Ordering::Relaxed) + 1;
        let game_id = format!("g{n}-{}", secret::short_id());
        let seats: Vec<Seat> = (0..spec.player_count)
            .map(|i| Seat {
                player_id: format!("{game_id}-p{}", i + 1),
                token: secret::token(),
                name: spec.names.as_ref().and_then(|names| names.get(i).cloned()),
                connected: false,
                last_seen: None,
                timeouts: 0,
            })
            .collect();
        let players = seats
            .iter()
            .filter_map(|s| {
                s.name.clone().map(|name| SeatCredentials {
                    player_id: s.player_id.clone(),
                    name,
                    token: s.token.clone(),
                })
            })
            .collect();
        let (commands, inbox) = mpsc::channel(INBOX_CAPACITY);
        let created_at = now_epoch_s();
        let shared = Arc::new(GameShared {
            id: Arc::from(game_id.as_str()),
            created_at,
            observer_token: secret::token(),
            seats: RwLock::new(seats),
            summary: ArcSwap::from_pointee(GameSummary {
                game_id: game_id.clone(),
                phase: Phase::Lobby,
                day: 0,
                players: spec.player_count,
                alive: spec.player_count,
                created_at,
                winner: None,
            }),
            public_state: ArcSwap::from_pointee(GameStateBody {
                game_id: Some(game_id.clone()),
                seq: None,
                phase: Phase::Lobby,
                day: 0,
                current_turn: 0,
                players: Vec::new(),
                alive_count: spec.player_count as u32,
                dead_count: 0,
                you: None,
                winner: None,
            }),
            commands,
            traffic: Arc::default(),
        });
        let observer_token = shared.observer_token.clone();
        self.write().insert(game_id.clone(), shared.clone());
        let context = actor::ActorContext {
            manager,
            shutdown,
            registry: self.clone(),
            retention,
            abandon_after,
        };
        tokio::spawn(actor::run(shared, spec, inbox, context));
        CreatedGame {
            game_id,
            players,
            observer_token,
        }
    }

    /// Claims the first open seat of a game for `name`.
    pub fn join(
        &self,
        game_id: &str,
        name: &str,
    ) -> Result<(Arc<GameShared>, SeatCredentials), JoinError> {
        validate_name(name).map_err(JoinError::BadName)?;
        let game = self
            .get(game_id)
            .ok_or_else(|| JoinError::NoGame(game_id.to_owned()))?;
        let credentials = {
            let mut seats = game.seats_mut();
            if seats.iter().any(|s| s.name.as_deref() == Some(name)) {
                return Err(JoinError::NameTaken(name.to_owned()));
            }
            let seat = seats
                .iter_mut()
                .find(|s| s.name.is_none())
                .ok_or_else(|| JoinError::Full(game_id.to_owned()))?;
            seat.name = Some(name.to_owned());
            SeatCredentials {
                player_id: seat.player_id.clone(),
                name: name.to_owned(),
                token: seat.token.clone(),
            }
        };
        Ok((game, credentials))
    }

    /// The game and seat index whose player id is `player_id` (`{game_id}-p{n}`), if that
    /// game is still listed.
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

    /// Forgets a game (its actor calls this when it retires).
    pub fn remove(&self, game_id: &str) {
        self.write().remove(game_id);
    }

    /// A game by id.
    pub fn get(&self, game_id: &str) -> Option<Arc<GameShared>> {
        self.read().get(game_id).cloned()
    }

    /// Every game, oldest first.
    pub fn all(&self) -> Vec<Arc<GameShared>> {
        let mut games: Vec<_> = self.read().values().cloned().collect();
        games.sort_by(|a, b| {
            a.created_at
                .total_cmp(&b.created_at)
                .then_with(|| a.id.cmp(&b.id))
        });
        games
    }

    /// Number of games.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether there is no game.
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
