//! One task per game: owns the engine, the seats' connections and the request deadlines, and
//! delivers every event to exactly the clients entitled to it.
//!
//! # Streams and `seq`
//! Recipients are grouped in streams: one per seat (its agent), one public stream (every ui
//! and every observer without the token) and one full stream (observers with the token,
//! delayed by `observer_delay_ms`); a fourth, `reasoning`, holds agents' private reasoning and
//! has no recipients at all (it is read from the log once the game is over). Each stream numbers its own frames, so `seq` is strictly
//! increasing and gap-free in what a recipient receives: a gap means a lost frame, and the
//! count of hidden events (a wolf whisper, a night action) never shows through it. A message
//! is serialized once per stream and the bytes shared by the stream's recipients.
//!
//! # The log
//! Every routed message is appended to the game's log ([`crate::store`]) whether or not
//! anyone watches, so a stream's `seq` depends only on the log. The effects of one actor turn
//! (frames, replies) are delivered only after the turn's batch is durable (write-ahead). A
//! (re)connecting client either resumes its stream from `last_seq` (every frame after it,
//! byte for byte as sent live) or gets a `game_state` snapshot carrying the stream's current
//! `seq`, which consumes no number. A recovered game is rebuilt by replaying its logged
//! inputs through the engine, without routing anything.
//!
//! # Layout
//! - this file: the types, the loop, and the turn (group commit, then delivery; halting on a
//!   failed commit);
//! - `membership`: attach (resume or snapshot), detach, presence, joins, abandonment;
//! - `flow`: start, deadlines, recovery from the log, engine outputs, requests, retirement;
//! - `input`: `player_action` / `agent_message` from seats, checked and fed to the engine;
//! - `views`: the `game_state` each member may see and the snapshots REST reads;
//! - `bots`: seats played by the hub's built-in bots;
//! - `reasoning`: agents' private reasoning, checked, and logged on a stream nobody reads
//!   live;
//! - `streams`: per-stream `seq`, delivery, the full view's delay.

mod bots;
mod flow;
mod input;
mod membership;
mod reasoning;
mod streams;
mod views;

use super::registry::{GameShared, GameSummary, HubLinks, JoinError, SeatCredentials};
use super::spec::GameSpec;
use super::stamped::SeqStamped;
use super::wire::{self, GAME_ENGINE_ID, Names};
use crate::clock::now_epoch_s;
use crate::close_code::CloseReason;
use crate::connection_manager::{ClientEntry, ConnectionManager, Traffic};
use crate::store::{self, Batch, EventRecord, Input, Op, Store, StoreError, StoredGame, StreamId};
use axum::extract::ws::{Message, Utf8Bytes};
use futures_util::StreamExt;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use streams::{FullViewer, Route, encode};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::time::{DelayQueue, delay_queue};
use tracing::{Instrument, debug, info, info_span};
use werewolf_engine::{self as engine, Audience, EventKind, Game, Output, Seat};
use werewolf_schemas::{
    ActionRequestBody, AgentMessageIn, ConnectionData, ErrorBody, ErrorCode, GameOverBody,
    GameStateBody, PlayerActionIn, PlayerInfo, PresenceBody, ServerFrame, ServerMessage, You,
};

/// What a connection is to a game.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Member {
    /// The agent of this seat index.
    Seat(usize),
    /// A ui, or an observer without the observer token: public events only.
    Public,
    /// An observer with the token: everything, delayed.
    Full,
}

impl Member {
    /// The stream this member reads.
    pub fn stream(self) -> StreamId {
        match self {
            Member::Seat(s) => StreamId::Seat(s),
            Member::Public => StreamId::Public,
            Member::Full => StreamId::Full,
        }
    }
}

/// The actor's inbox.
#[derive(Debug)]
pub enum GameCommand {
    /// A connection joined the game.
    Attach {
        /// The connection.
        entry: Arc<ClientEntry>,
        /// As what.
        member: Member,
        /// The last `seq` of its stream the client has (`last_seq` in its URL).
        last_seq: Option<u64>,
    },
    /// A connection left.
    Detach {
        /// Which connection (a newer one for the same seat is kept).
        conn_id: u64,
        /// As what it was attached.
        member: Member,
    },
    /// A seat's agent sent `player_action`.
    Action {
        /// The seat.
        seat: usize,
        /// The sending connection (errors go back to it).
        entry: Arc<ClientEntry>,
        /// What it sent.
        action: PlayerActionIn,
    },
    /// A seat's agent sent `agent_message` (a talk turn or a wolf whisper).
    Say {
        /// The seat.
        seat: usize,
        /// The sending connection.
        entry: Arc<ClientEntry>,
        /// What it sent.
        message: AgentMessageIn,
    },
    /// `POST /games/{id}/start`.
    Start {
        /// Where the outcome goes.
        reply: oneshot::Sender<Result<(), StartError>>,
    },
    /// `DELETE /games/{id}`: end the game now (a running one as `aborted`, a lobby one is
    /// removed), telling its clients why.
    End {
        /// Why, as told to the clients.
        reason: String,
        /// Where the outcome goes (once the end is durable).
        reply: oneshot::Sender<Result<(), EndError>>,
    },
    /// `POST /games/{id}/join`.
    Join {
        /// The name to seat.
        name: String,
        /// Where the credentials go (once the join is durable).
        reply: oneshot::Sender<Result<SeatCredentials, JoinError>>,
    },
}

/// Why `POST /games/{id}/start` did not start the game.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StartError {
    /// The game cannot start (already started, open seats): 409.
    #[error("{0}")]
    Refused(String),
    /// The start could not be logged: the game is halted (503).
    #[error("{0}")]
    Store(String),
}

/// Why `DELETE /games/{id}` did not end the game.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EndError {
    /// The game is already over: 409.
    #[error("the game is already over")]
    Over,
    /// The end could not be logged: the game is halted (503).
    #[error("{0}")]
    Store(String),
}

/// A full-view item waiting out the observer delay.
#[derive(Debug)]
struct Delayed {
    /// When it may be delivered.
    due: Instant,
    /// What it is.
    item: DelayedItem,
}

/// A delayed full-view frame.
#[derive(Debug)]
enum DelayedItem {
    /// Frame `seq` of the full stream: for every full viewer that has not had it.
    Frame {
        /// Its number.
        seq: u64,
        /// The frame.
        bytes: Utf8Bytes,
    },
    /// Everything up to `upto` becomes releasable (after a recovery that could not read
    /// the frames' times back).
    Release {
        /// The last `seq` released.
        upto: u64,
    },
    /// A snapshot for one viewer that attached at that time.
    Snapshot {
        /// The viewer's connection.
        conn_id: u64,
        /// The frame.
        bytes: Utf8Bytes,
    },
}

/// A request waiting for its answer.
#[derive(Debug)]
struct Pending {
    /// Its deadline in the delay queue.
    key: delay_queue::Key,
    /// Its deadline, epoch seconds.
    deadline: f64,
    /// The seat it was sent to.
    seat: usize,
    /// What it asks.
    kind: engine::ActionKind,
    /// When it was issued (for the answer latency).
    issued: Instant,
    /// The `action_request` frame as logged (re-sent unchanged to a reconnecting seat).
    frame: Option<(u64, Utf8Bytes)>,
}

/// Something to do once the turn's batch is durable.
enum AfterCommit {
    /// Answer `POST /start`.
    Start(oneshot::Sender<Result<(), StartError>>),
    /// Answer `DELETE /games/{id}`.
    End(oneshot::Sender<Result<(), EndError>>),
    /// Answer `POST /join`.
    Join(
        oneshot::Sender<Result<SeatCredentials, JoinError>>,
        SeatCredentials,
    ),
}

/// State owned by the game's task; nothing else touches it.
struct GameActor {
    /// Shared with the registry and the connection tasks.
    shared: Arc<GameShared>,
    /// Delivery.
    manager: ConnectionManager,
    /// The log.
    store: Store,
    /// The setup.
    spec: GameSpec,
    /// The engine; `None` until the game starts.
    game: Option<Game>,
    /// Player ids and names by seat, fixed at the start.
    names: Names,
    /// Each seat's connected agent.
    agents: Vec<Option<Arc<ClientEntry>>>,
    /// Each seat stream's last `seq`.
    seat_seq: Vec<u64>,
    /// Public viewers.
    public: Vec<Arc<ClientEntry>>,
    /// Public stream's last `seq`.
    public_seq: u64,
    /// Full viewers, with the last full-stream `seq` each has had.
    full: Vec<FullViewer>,
    /// Full stream's last `seq`.
    full_seq: u64,
    /// Full stream's last `seq` released to viewers (after the observer delay).
    full_released: u64,
    /// Reasoning stream's last `seq` (logged only, never delivered live).
    reasoning_seq: u64,
    /// Full-view frames waiting out the delay, in order.
    delayed: VecDeque<Delayed>,
    /// Deadlines of pending requests.
    deadlines: DelayQueue<engine::RequestId>,
    /// Every pending request.
    pending: HashMap<engine::RequestId, Pending>,
    /// Answers the built-in bots will give, due `bot_delay_ms` after their request, in the
    /// order the requests were issued (one delay per game, so that is also the order they
    /// fall due, and a game of bots is a pure function of its seed). A request no longer
    /// pending when its answer is due is skipped.
    bot_moves: VecDeque<(Instant, engine::RequestId)>,
    /// When the game ended; it retires `retention` later.
    ended_at: Option<Instant>,
    /// Each seat's own numbering of its requests (what `request_id` means to it).
    requests: wire::RequestIds,
    /// Since when every seat's agent has been offline, while the game runs; the game is
    /// aborted `abandon_after` later.
    all_offline_since: Option<Instant>,
    /// `GAME_ABANDON_S`.
    abandon_after: Duration,
    /// The hub's live traffic counters, which the game's own join when it ends.
    hub_traffic: Arc<Traffic>,
    /// This turn's log entries, appended at its end.
    batch: Vec<Op>,
    /// This turn's frames, delivered once the batch is durable.
    outbox: Vec<(Arc<ClientEntry>, Utf8Bytes)>,
    /// This turn's replies, sent once the batch is durable.
    after_commit: Vec<AfterCommit>,
    /// Rebuilding from the log: engine outputs update the state but route nothing.
    replaying: bool,
    /// Set when a commit failed: the game is halted (until a restart recovers it).
    halted: Option<StoreError>,
    /// `WS_TIMEOUT` and `WS_MAX_MESSAGE_BYTES`, for the `connection` frame.
    welcome_limits: (u64, usize),
    /// Why the game was ended early (`DELETE`, abandonment, lobby expiry), for its
    /// `game_over`.
    end_reason: Option<String>,
    /// Set when a game that never started was ended: it retires as soon as that is durable.
    remove: bool,
    /// When a game that has not started is removed (`GAME_LOBBY_EXPIRE_S` after creation).
    lobby_expires: Instant,
    /// The hub's recorder.
    metrics: Arc<crate::metrics::HubMetrics>,
    /// What this game measured of its hidden side while it runs; handed to `metrics` when
    /// it ends.
    samples: crate::metrics::GameSamples,
}

/// Runs a game until the hub shuts down (returns false) or, `retention` after its end, the
/// game retires (returns true: the caller removes it from the registry). `recovered`: the
/// stored game to rebuild instead of a new one, and who to tell once it is rebuilt.
pub async fn run(
    shared: Arc<GameShared>,
    spec: GameSpec,
    mut inbox: mpsc::Receiver<GameCommand>,
    links: HubLinks,
    store: Store,
    recovered: Option<(StoredGame, oneshot::Sender<()>)>,
) -> bool {
    let HubLinks {
        manager,
        shutdown,
        retention,
        abandon_after,
        timeout_s,
        max_message_bytes,
        metrics,
        lobby_expire,
    } = links;
    let span = info_span!("game", game_id = %shared.id);
    async move {
        let seats = spec.player_count;
        let ids: Vec<String> = shared.seats().iter().map(|s| s.player_id.clone()).collect();
        let mut actor = GameActor {
            names: Names { ids, names: vec![] },
            shared,
            hub_traffic: manager.counters().traffic.clone(),
            manager,
            store,
            spec,
            game: None,
            agents: vec![None; seats],
            seat_seq: vec![0; seats],
            public: Vec::new(),
            public_seq: 0,
            full: Vec::new(),
            full_seq: 0,
            full_released: 0,
            reasoning_seq: 0,
            delayed: VecDeque::new(),
            deadlines: DelayQueue::new(),
            pending: HashMap::new(),
            bot_moves: VecDeque::new(),
            ended_at: None,
            requests: wire::RequestIds::new(seats),
            all_offline_since: None,
            abandon_after,
            batch: Vec::new(),
            outbox: Vec::new(),
            after_commit: Vec::new(),
            replaying: false,
            halted: None,
            welcome_limits: (timeout_s, max_message_bytes),
            metrics,
            samples: Default::default(),
            end_reason: None,
            remove: false,
            lobby_expires: Instant::now(),
        };
        // The lobby clock runs from the game's creation, across restarts.
        let age = Duration::from_secs_f64((now_epoch_s() - actor.shared.created_at).max(0.0));
        actor.lobby_expires = Instant::now() + lobby_expire.saturating_sub(age);
        actor.publish();
        if let Some((stored, rebuilt)) = recovered {
            actor.recover(stored);
            actor.hold_back_recent_full().await;
            actor.commit().await;
            actor.publish();
            let _ = rebuilt.send(());
        }
        // A table of bots only has nobody to wait for.
        if actor.game.is_none() && actor.spec.auto_start && actor.all_seated_and_connected() {
            if let Err(e) = actor.start(false) {
                debug!(error = %e, "auto start failed");
            }
            actor.commit().await;
        }
        loop {
            let next_delayed = actor.delayed.front().map(|d| d.due);
            let next_bot = actor.bot_moves.front().map(|(due, _)| *due);
            let retire_at = actor.ended_at.map(|t| t + retention);
            let abort_at = actor.all_offline_since.map(|t| t + actor.abandon_after);
            let expire_at = (actor.game.is_none() && actor.halted.is_none())
                .then_some(actor.lobby_expires);
            tokio::select! {
                biased;
                _ = shutdown.triggered() => return false,
                _ = tokio::time::sleep_until(retire_at.unwrap_or_else(Instant::now)), if retire_at.is_some() => {
                    actor.retire();
                    return true;
                }
                _ = tokio::time::sleep_until(abort_at.unwrap_or_else(Instant::now)), if abort_at.is_some() => {
                    actor.abort_abandoned();
                }
                _ = tokio::time::sleep_until(expire_at.unwrap_or_else(Instant::now)), if expire_at.is_some() => {
                    info!("never started: lobby expired");
                    let _ = actor.end("the game never started within GAME_LOBBY_EXPIRE_S".to_owned());
                }
                command = inbox.recv() => match command {
                    Some(c) => {
                        actor.handle(c).await;
                        // Group commit: every command already waiting joins this turn.
                        for _ in 1..64 {
                            match inbox.try_recv() {
                                Ok(c) => actor.handle(c).await,
                                Err(_) => break,
                            }
                        }
                    }
                    None => return false,
                },
                Some(expired) = actor.deadlines.next(), if !actor.deadlines.is_empty() => {
                    actor.on_deadline(expired.into_inner());
                }
                _ = tokio::time::sleep_until(next_bot.unwrap_or_else(Instant::now)), if next_bot.is_some() => {
                    actor.bot_moves_due();
                }
                _ = tokio::time::sleep_until(next_delayed.unwrap_or_else(Instant::now)), if next_delayed.is_some() => {
                    actor.flush_delayed();
                }
            }
            actor.commit().await;
            if actor.remove && actor.halted.is_none() {
                actor.retire();
                return true;
            }
        }
    }
    .instrument(span)
    .await
}

impl GameActor {
    async fn handle(&mut self, command: GameCommand) {
        if let Some(error) = self.halted.clone() {
            self.refuse_halted(command, &error);
            return;
        }
        match command {
            GameCommand::Attach {
                entry,
                member,
                last_seq,
            } => self.attach(entry, member, last_seq).await,
            GameCommand::Detach { conn_id, member } => self.detach(conn_id, member),
            GameCommand::Action {
                seat,
                entry,
                action,
            } => {
                if let Err((code, message)) = self.player_action(seat, &action) {
                    self.reply_error(&entry, code, message, "player_action", action.request_id);
                }
            }
            GameCommand::Say {
                seat,
                entry,
                message,
            } => {
                let request_id = message.request_id.clone();
                if let Err((code, text)) = self.say(seat, message) {
                    self.reply_error(&entry, code, text, "agent_message", request_id);
                }
            }
            GameCommand::Start { reply } => match self.start(true) {
                Ok(()) => self.after_commit.push(AfterCommit::Start(reply)),
                Err(e) => {
                    let _ = reply.send(Err(StartError::Refused(e)));
                }
            },
            GameCommand::End { reason, reply } => match self.end(reason) {
                Ok(()) => self.after_commit.push(AfterCommit::End(reply)),
                Err(e) => {
                    let _ = reply.send(Err(e));
                }
            },
            GameCommand::Join { name, reply } => match self.join(&name) {
                Ok(credentials) => self
                    .after_commit
                    .push(AfterCommit::Join(reply, credentials)),
                Err(e) => {
                    let _ = reply.send(Err(e));
                }
            },
        }
    }

    /// A halted game answers everything with `store_unavailable`.
    fn refuse_halted(&mut self, command: GameCommand, error: &StoreError) {
        let why = format!("the game's log is not writable ({error}); it is halted");
        match command {
            GameCommand::Attach { entry, .. } => {
                self.welcome(&entry, false);
                self.reply_error(&entry, ErrorCode::StoreUnavailable, why, "connection", None);
            }
            GameCommand::Detach { conn_id, member } => self.detach(conn_id, member),
            GameCommand::Action {
                entry, action: a, ..
            } => self.reply_error(
                &entry,
                ErrorCode::StoreUnavailable,
                why,
                "player_action",
                a.request_id,
            ),
            GameCommand::Say { entry, message, .. } => self.reply_error(
                &entry,
                ErrorCode::StoreUnavailable,
                why,
                "agent_message",
                message.request_id,
            ),
            GameCommand::Start { reply } => {
                let _ = reply.send(Err(StartError::Store(why)));
            }
            GameCommand::End { reply, .. } => {
                let _ = reply.send(Err(EndError::Store(why)));
            }
            GameCommand::Join { reply, .. } => {
                let _ = reply.send(Err(JoinError::Store(why)));
            }
        }
    }

    /// Ends the turn: makes its batch durable, then delivers its frames and replies. A
    /// failed commit halts the game: its clients are told, nothing of the turn is
    /// delivered, and the store keeps what was committed before.
    async fn commit(&mut self) {
        if !self.batch.is_empty() {
            let batch = Batch {
                game_id: self.shared.id.clone(),
                ops: std::mem::take(&mut self.batch),
            };
            let started = std::time::Instant::now();
            if let Err(e) = self.store.append(batch).wait().await {
                self.halt(e);
                return;
            }
            let seconds = started.elapsed().as_secs_f64();
            // A running game's commits count its (night) actions: public only at its end.
            if self.game.as_ref().is_some_and(|g| !g.is_over()) {
                self.samples.commits.push(seconds);
            } else {
                self.metrics.commit(seconds);
            }
        }
        for (entry, bytes) in self.outbox.drain(..) {
            // `deliver` counts into the entry's own traffic (the game's for seats and the
            // full view, the hub's for public viewers).
            let _ = self.manager.deliver(&entry, Message::Text(bytes));
        }
        for after in self.after_commit.drain(..) {
            match after {
                AfterCommit::Start(reply) => {
                    let _ = reply.send(Ok(()));
                }
                AfterCommit::End(reply) => {
                    let _ = reply.send(Ok(()));
                }
                AfterCommit::Join(reply, credentials) => {
                    let _ = reply.send(Ok(credentials));
                }
            }
        }
    }

    fn halt(&mut self, error: StoreError) {
        tracing::error!(error = %error, "store commit failed: game halted");
        self.outbox.clear();
        let why = format!("the game's log is not writable ({error}); it is halted");
        for after in self.after_commit.drain(..) {
            match after {
                AfterCommit::Start(reply) => {
                    let _ = reply.send(Err(StartError::Store(why.clone())));
                }
                AfterCommit::End(reply) => {
                    let _ = reply.send(Err(EndError::Store(why.clone())));
                }
                AfterCommit::Join(reply, _) => {
                    let _ = reply.send(Err(JoinError::Store(why.clone())));
                }
            }
        }
        let attached: Vec<Arc<ClientEntry>> = self
            .agents
            .iter()
            .flatten()
            .chain(&self.public)
            .chain(self.full.iter().map(|v| &v.entry))
            .cloned()
            .collect();
        for entry in attached {
            self.reply_error(
                &entry,
                ErrorCode::StoreUnavailable,
                why.clone(),
                "game",
                None,
            );
        }
        self.deadlines.clear();
        self.bot_moves.clear();
        self.delayed.clear();
        self.all_offline_since = None;
        self.halted = Some(error);
    }
}
