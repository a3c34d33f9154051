//! One task per game: owns the engine, the seats' connections and the request deadlines, and
//! delivers every event to exactly the clients entitled to it.
//!
//! # Streams and `seq`
//! Recipients are grouped in streams: one per seat (its agent), one public stream (every ui
//! and every observer without the token) and one full stream (observers with the token,
//! delayed by `observer_delay_ms`). Each stream numbers its own frames, so `seq` is strictly
//! increasing and gap-free in what a recipient receives: a gap means a lost frame, and the
//! count of hidden events (a wolf whisper, a night action) never shows through it. A message
//! is serialized once per stream and the bytes shared by the stream's recipients.
//!
//! # Layout
//! - this file: the loop, membership (attach, detach, presence) and the game flow (start,
//!   deadlines, engine outputs, requests, retirement);
//! - `input`: `player_action` / `agent_message` from seats, checked and fed to the engine;
//! - `views`: the `game_state` each member may see and the snapshots REST reads;
//! - `streams`: per-stream `seq`, delivery, the full view's delay.

mod input;
mod streams;
mod views;

use super::registry::{GameRegistry, GameShared, GameSummary};
use super::spec::GameSpec;
use super::stamped::SeqStamped;
use super::wire::{self, GAME_ENGINE_ID, Names};
use crate::clock::now_epoch_s;
use crate::close_code::CloseReason;
use crate::connection_manager::{ClientEntry, ConnectionManager, Traffic};
use crate::shutdown::Shutdown;
use axum::extract::ws::{Message, Utf8Bytes};
use futures_util::StreamExt;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use streams::{Route, encode};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::time::{DelayQueue, delay_queue};
use tracing::{Instrument, debug, info, info_span};
use werewolf_engine::{self as engine, Audience, EventKind, Game, Output, Seat};
use werewolf_schemas::{
    ActionRequestBody, AgentMessageIn, ErrorBody, ErrorCode, GameStateBody, PlayerActionIn,
    PlayerInfo, PresenceBody, ServerFrame, ServerMessage, You,
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

/// The actor's inbox.
#[derive(Debug)]
pub enum GameCommand {
    /// A connection joined the game.
    Attach {
        /// The connection.
        entry: Arc<ClientEntry>,
        /// As what.
        member: Member,
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
        reply: oneshot::Sender<Result<(), String>>,
    },
}

/// A full-view frame waiting out the observer delay.
#[derive(Debug)]
struct Delayed {
    /// When it may be delivered.
    due: Instant,
    /// The full viewers attached when the frame was produced (a viewer that attaches later
    /// starts from its own snapshot, so it must not get frames from before it).
    to: Vec<Arc<ClientEntry>>,
    /// The frame.
    bytes: Utf8Bytes,
}

/// State owned by the game's task; nothing else touches it.
struct GameActor {
    /// Shared with the registry and the connection tasks.
    shared: Arc<GameShared>,
    /// Delivery.
    manager: ConnectionManager,
    /// The setup, until the start consumes the config.
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
    /// Full viewers.
    full: Vec<Arc<ClientEntry>>,
    /// Full stream's last `seq`.
    full_seq: u64,
    /// Full-view frames waiting out the delay, in order.
    delayed: VecDeque<Delayed>,
    /// Deadlines of pending requests.
    deadlines: DelayQueue<engine::RequestId>,
    /// Each pending request's deadline key and epoch deadline.
    pending: HashMap<engine::RequestId, (delay_queue::Key, f64)>,
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
}

/// What an actor needs from the hub besides its game.
#[derive(Debug)]
pub struct ActorContext {
    /// Delivery.
    pub manager: ConnectionManager,
    /// Stops the actor with the hub.
    pub shutdown: Shutdown,
    /// Where the game is listed; the actor removes it when it retires.
    pub registry: GameRegistry,
    /// How long a finished game stays before it retires.
    pub retention: Duration,
    /// How long a running game may have every seat offline before it is aborted.
    pub abandon_after: Duration,
}

/// Runs a game until the hub shuts down or, `retention` after its end, the game retires:
/// it leaves the registry and its remaining connections are closed with 4003.
pub async fn run(
    shared: Arc<GameShared>,
    spec: GameSpec,
    mut inbox: mpsc::Receiver<GameCommand>,
    context: ActorContext,
) {
    let ActorContext {
        manager,
        shutdown,
        registry,
        retention,
        abandon_after,
    } = context;
    let span = info_span!("game", game_id = %shared.id);
    async move {
        let seats = spec.player_count;
        let ids: Vec<String> = shared.seats().iter().map(|s| s.player_id.clone()).collect();
        let mut actor = GameActor {
            names: Names { ids, names: vec![] },
            shared,
            spec,
            game: None,
            agents: vec![None; seats],
            seat_seq: vec![0; seats],
            public: Vec::new(),
            public_seq: 0,
            full: Vec::new(),
            full_seq: 0,
            delayed: VecDeque::new(),
            deadlines: DelayQueue::new(),
            pending: HashMap::new(),
            ended_at: None,
            requests: wire::RequestIds::new(seats),
            all_offline_since: None,
            abandon_after,
            hub_traffic: manager.counters().traffic.clone(),
            manager,
        };
        actor.publish();
        loop {
            let next_delayed = actor.delayed.front().map(|d| d.due);
            let retire_at = actor.ended_at.map(|t| t + retention);
            let abort_at = actor.all_offline_since.map(|t| t + actor.abandon_after);
            tokio::select! {
                biased;
                _ = shutdown.triggered() => break,
                _ = tokio::time::sleep_until(retire_at.unwrap_or_else(Instant::now)), if retire_at.is_some() => {
                    actor.retire(&registry);
                    break;
                }
                _ = tokio::time::sleep_until(abort_at.unwrap_or_else(Instant::now)), if abort_at.is_some() => {
                    actor.abort_abandoned();
                }
                command = inbox.recv() => match command {
                    Some(c) => actor.handle(c),
                    None => break,
                },
                Some(expired) = actor.deadlines.next(), if !actor.deadlines.is_empty() => {
                    actor.on_deadline(expired.into_inner());
                }
                _ = tokio::time::sleep_until(next_delayed.unwrap_or_else(Instant::now)), if next_delayed.is_some() => {
                    actor.flush_delayed();
                }
            }
        }
    }
    .instrument(span)
    .await
}

impl GameActor {
    fn handle(&mut self, command: GameCommand) {
        match command {
            GameCommand::Attach { entry, member } => self.attach(entry, member),
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
            GameCommand::Start { reply } => {
                let _ = reply.send(self.start(true));
            }
        }
    }

    // ---- membership -------------------------------------------------------------------

    fn attach(&mut self, entry: Arc<ClientEntry>, member: Member) {
        match member {
            Member::Seat(seat) => {
                self.agents[seat] = Some(entry.clone());
                self.set_presence(seat, true);
                let state = self.state_for(member);
                self.send_seat(seat, ServerMessage::GameState(state), GAME_ENGINE_ID);
                self.resend_requests(seat);
                if self.spec.auto_start && self.game.is_none() && self.all_seated_and_connected() {
                    if let Err(e) = self.start(false) {
                        debug!(error = %e, "auto start failed");
                    }
                }
            }
            Member::Public => {
                let mut state = self.state_for(member);
                state.seq = Some(self.public_seq);
                self.send_one(&entry, ServerMessage::GameState(state), GAME_ENGINE_ID);
                self.public.push(entry);
            }
            Member::Full => {
                let mut state = self.state_for(member);
                state.seq = Some(self.full_seq);
                let bytes = encode(ServerMessage::GameState(state), GAME_ENGINE_ID);
                self.push_full(vec![entry.clone()], bytes);
                self.full.push(entry);
            }
        }
    }

    fn detach(&mut self, conn_id: u64, member: Member) {
        match member {
            Member::Seat(seat) => {
                if self.agents[seat]
                    .as_ref()
                    .is_some_and(|e| e.conn_id == conn_id)
                {
                    self.agents[seat] = None;
                    self.set_presence(seat, false);
                }
            }
            Member::Public => self.public.retain(|e| e.conn_id != conn_id),
            Member::Full => self.full.retain(|e| e.conn_id != conn_id),
        }
    }

    /// Starts or stops the abandonment clock: it runs while the game is under way and no
    /// seat has its agent connected.
    fn watch_abandonment(&mut self) {
        let running = self.game.as_ref().is_some_and(|g| !g.is_over());
        let nobody = self.agents.iter().all(Option::is_none);
        if running && nobody {
            self.all_offline_since.get_or_insert_with(Instant::now);
        } else {
            self.all_offline_since = None;
        }
    }

    /// Every seat has been offline for `GAME_ABANDON_S`: the game ends as `aborted`.
    fn abort_abandoned(&mut self) {
        self.all_offline_since = None;
        let Some(game) = self.game.as_mut() else {
            return;
        };
        match game.abort() {
            Ok(outputs) => {
                info!(
                    after_s = self.abandon_after.as_secs(),
                    "every seat offline: game aborted"
                );
                self.process(outputs, false);
            }
            Err(e) => debug!(error = %e, "abort of a game already over"),
        }
    }

    fn set_presence(&mut self, seat: usize, connected: bool) {
        let now = now_epoch_s();
        let player_id = {
            let mut seats = self.shared.seats_mut();
            let Some(s) = seats.get_mut(seat) else { return };
            s.connected = connected;
            s.last_seen = Some(now);
            s.player_id.clone()
        };
        info!(player_id = %player_id, connected, "presence");
        let presence = ServerMessage::Presence(PresenceBody {
            game_id: self.shared.id.to_string(),
            seq: 0,
            player_id,
            connected,
            last_seen: now,
        });
        self.route(
            presence,
            GAME_ENGINE_ID,
            Route {
                seats: &[],
                public: true,
                full: true,
            },
        );
        self.watch_abandonment();
        self.publish();
    }

    fn all_seated_and_connected(&self) -> bool {
        self.agents.iter().all(Option::is_some)
            && self.shared.seats().iter().all(|s| s.name.is_some())
    }

    // ---- game flow --------------------------------------------------------------------

    /// Starts the game. `explicit`: by `POST /start` (seats must be claimed, not connected).
    fn start(&mut self, explicit: bool) -> Result<(), String> {
        if self.game.is_some() {
            return Err("the game has already started".into());
        }
        let names: Vec<Option<String>> =
            self.shared.seats().iter().map(|s| s.name.clone()).collect();
        if names.iter().any(Option::is_none) {
            return Err("seats are still open; fill them with POST /games/{id}/join".into());
        }
        self.names.names = names.into_iter().flatten().collect();
        let (game, outputs) = Game::new(self.spec.config.clone(), self.spec.player_count)
            .map_err(|e| e.to_string())?;
        info!(explicit, seed = self.spec.config.seed, "game started");
        self.game = Some(game);
        self.process(outputs, true);
        Ok(())
    }

    fn on_deadline(&mut self, request: engine::RequestId) {
        self.pending.remove(&request);
        let Some(game) = self.game.as_mut() else {
            return;
        };
        match game.expire(request) {
            Ok(outputs) => self.process(outputs, false),
            Err(e) => debug!(error = %e, "deadline of a request already closed"),
        }
    }

    /// Delivers a batch of engine outputs: events by audience, then (after a phase change)
    /// a fresh `game_state` on every stream, then the new requests.
    fn process(&mut self, outputs: Vec<Output>, started: bool) {
        let now = now_epoch_s();
        let latest_deadline = outputs
            .iter()
            .filter_map(Output::as_request)
            .map(|r| now + r.timeout_ms as f64 / 1000.0)
            .fold(None, |acc: Option<f64>, d| {
                Some(acc.map_or(d, |a| a.max(d)))
            });
        let mut phase_changed = started;
        let mut requests = Vec::new();
        for output in outputs {
            match output {
                Output::Event(event) => {
                    if let EventKind::RequestTimedOut { seat, .. } = &event.kind {
                        if let Some(s) = self.shared.seats_mut().get_mut(seat.index()) {
                            s.timeouts += 1;
                        }
                    }
                    if matches!(
                        event.kind,
                        EventKind::PhaseChanged { .. } | EventKind::GameOver { .. }
                    ) {
                        phase_changed = true;
                    }
                    let Some((mut message, client_id)) = wire::event_message(
                        &self.shared.id,
                        &self.names,
                        &self.requests,
                        &event.kind,
                    ) else {
                        continue;
                    };
                    if let ServerMessage::PhaseUpdate(p) = &mut message {
                        p.deadline = latest_deadline;
                    }
                    self.route_event(message, &client_id, event.audience);
                }
                Output::Request(request) => {
                    self.requests.assign(request.seat.index(), request.id);
                    let key = self
                        .deadlines
                        .insert(request.id, Duration::from_millis(request.timeout_ms));
                    self.pending
                        .insert(request.id, (key, now + request.timeout_ms as f64 / 1000.0));
                    requests.push(request);
                }
                Output::Closed(closed) => {
                    if let Some((key, _)) = self.pending.remove(&closed.id) {
                        self.deadlines.try_remove(&key);
                    }
                }
            }
        }
        if phase_changed {
            self.broadcast_states();
        }
        if self.ended_at.is_none() && self.game.as_ref().is_some_and(Game::is_over) {
            self.ended_at = Some(Instant::now());
            // Hidden information is public now: so is the traffic of seats and full view.
            self.shared.traffic.release_into(&self.hub_traffic);
        }
        self.watch_abandonment();
        for request in requests {
            if self.pending.contains_key(&request.id) {
                self.send_request(&request);
            }
        }
        self.publish();
    }

    fn send_request(&mut self, request: &engine::Request) {
        let deadline = self
            .pending
            .get(&request.id)
            .map_or_else(now_epoch_s, |(_, d)| *d);
        let message = ServerMessage::ActionRequest(ActionRequestBody {
            game_id: self.shared.id.to_string(),
            seq: 0,
            request_id: self.requests.wire(request.id),
            action: request.kind,
            candidates: request
                .candidates
                .iter()
                .map(|s| self.names.id(*s))
                .collect(),
            deadline,
        });
        self.send_seat(request.seat.index(), message, GAME_ENGINE_ID);
    }

    /// After a reconnect: the seat's pending requests again, with their original deadlines.
    fn resend_requests(&mut self, seat: usize) {
        let Some(game) = &self.game else { return };
        let mine: Vec<engine::Request> = game
            .pending_requests()
            .iter()
            .filter(|r| r.seat.index() == seat)
            .cloned()
            .collect();
        for request in mine {
            self.send_request(&request);
        }
    }

    /// Leaves the registry and closes every connection still attached to the game.
    fn retire(&mut self, registry: &GameRegistry) {
        info!("finished game retired");
        registry.remove(&self.shared.id);
        let attached = self
            .agents
            .iter()
            .flatten()
            .chain(&self.public)
            .chain(&self.full);
        for entry in attached {
            entry.control.close(CloseReason::GameRemoved);
        }
    }
}
