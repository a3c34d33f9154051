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

use super::registry::{GameRegistry, GameShared, GameSummary};
use super::spec::GameSpec;
use super::stamped::SeqStamped;
use super::wire::{self, GAME_ENGINE_ID, Names};
use crate::clock::now_epoch_s;
use crate::close_code::CloseReason;
use crate::connection_manager::{ClientEntry, ConnectionManager};
use crate::shutdown::Shutdown;
use axum::extract::ws::{Message, Utf8Bytes};
use futures_util::StreamExt;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;
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
    } = context;
    let span = info_span!("game", game_id = %shared.id);
    async move {
        let seats = spec.player_count;
        let ids: Vec<String> = shared.seats().iter().map(|s| s.player_id.clone()).collect();
        let mut actor = GameActor {
            names: Names { ids, names: vec![] },
            shared,
            manager,
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
        };
        actor.publish();
        loop {
            let next_delayed = actor.delayed.front().map(|d| d.due);
            let retire_at = actor.ended_at.map(|t| t + retention);
            tokio::select! {
                biased;
                _ = shutdown.triggered() => break,
                _ = tokio::time::sleep_until(retire_at.unwrap_or_else(Instant::now)), if retire_at.is_some() => {
                    actor.retire(&registry);
                    break;
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
                self.touch(seat);
                if let Err((code, message)) = self.player_action(seat, &action) {
                    self.reply_error(&entry, code, message, "player_action", action.request_id);
                }
            }
            GameCommand::Say {
                seat,
                entry,
                message,
            } => {
                self.touch(seat);
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

    fn touch(&mut self, seat: usize) {
        if let Some(s) = self.shared.seats_mut().get_mut(seat) {
            s.last_seen = Some(now_epoch_s());
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

    fn player_action(
        &mut self,
        seat: usize,
        action: &PlayerActionIn,
    ) -> Result<(), (ErrorCode, String)> {
        let game = self.game.as_ref().ok_or((
            ErrorCode::InvalidAction,
            "the game has not started".to_owned(),
        ))?;
        let kind = action.action;
        let request = self.resolve_request(game, seat, action.request_id.as_deref(), kind)?;
        let target = match action.target.as_deref() {
            None => None,
            Some(id) => Some(self.seat_of(id).ok_or_else(|| {
                (
                    ErrorCode::InvalidAction,
                    format!("unknown target `{id}`: not a player of this game"),
                )
            })?),
        };
        let text = None; // a talk via player_action is a skip; text comes in agent_message
        let engine_action =
            wire::engine_action(action.action, target, action.save.unwrap_or(false), text);
        self.act(seat, request, engine_action)
    }

    fn say(&mut self, seat: usize, message: AgentMessageIn) -> Result<(), (ErrorCode, String)> {
        let game = self.game.as_mut().ok_or((
            ErrorCode::InvalidAction,
            "the game has not started".to_owned(),
        ))?;
        if message.channel == Some(werewolf_schemas::Channel::Wolves) {
            let outputs = game
                .whisper(Seat(seat as u8), message.message_text)
                .map_err(|e| (ErrorCode::InvalidAction, e.to_string()))?;
            self.process(outputs, false);
            return Ok(());
        }
        let game = self.game.as_ref().ok_or((
            ErrorCode::InvalidAction,
            "the game has not started".to_owned(),
        ))?;
        let request = self.resolve_request(
            game,
            seat,
            message.request_id.as_deref(),
            engine::ActionKind::Talk,
        )?;
        self.act(
            seat,
            request,
            engine::Action::Talk(Some(message.message_text)),
        )
    }

    /// The request an action answers: the given id, or the seat's only pending request of
    /// that kind when the id is omitted.
    fn resolve_request(
        &self,
        game: &Game,
        seat: usize,
        request_id: Option<&str>,
        kind: engine::ActionKind,
    ) -> Result<engine::RequestId, (ErrorCode, String)> {
        match request_id {
            Some(text) => wire::parse_request_id(text).ok_or_else(|| {
                (
                    ErrorCode::InvalidAction,
                    format!("unknown request_id `{text}`"),
                )
            }),
            None => {
                let mine: Vec<_> = game
                    .pending_requests()
                    .iter()
                    .filter(|r| r.seat.index() == seat && r.kind == kind)
                    .collect();
                match mine.as_slice() {
                    [only] => Ok(only.id),
                    [] => Err((
                        ErrorCode::InvalidAction,
                        format!("no pending `{}` request for you", kind.name()),
                    )),
                    _ => Err((
                        ErrorCode::InvalidAction,
                        "several requests pending: give request_id".to_owned(),
                    )),
                }
            }
        }
    }

    fn act(
        &mut self,
        seat: usize,
        request: engine::RequestId,
        action: engine::Action,
    ) -> Result<(), (ErrorCode, String)> {
        let game = self.game.as_mut().ok_or((
            ErrorCode::InvalidAction,
            "the game has not started".to_owned(),
        ))?;
        let outputs = game
            .act(Seat(seat as u8), request, action)
            .map_err(|e| (ErrorCode::InvalidAction, e.to_string()))?;
        self.process(outputs, false);
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
                    let Some((mut message, client_id)) =
                        wire::event_message(&self.shared.id, &self.names, &event.kind)
                    else {
                        continue;
                    };
                    if let ServerMessage::PhaseUpdate(p) = &mut message {
                        p.deadline = latest_deadline;
                    }
                    self.route_event(message, &client_id, event.audience);
                }
                Output::Request(request) => {
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
        }
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
            request_id: wire::request_id(request.id),
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

    // ---- views ------------------------------------------------------------------------

    fn state_for(&self, member: Member) -> GameStateBody {
        let seats = self.shared.seats();
        let game = self.game.as_ref();
        let over = game.is_some_and(Game::is_over);
        let viewer_role = match member {
            Member::Seat(s) => game.and_then(|g| g.role_of(Seat(s as u8))),
            _ => None,
        };
        let players: Vec<PlayerInfo> = seats
            .iter()
            .enumerate()
            .map(|(i, seat)| {
                let role = game.and_then(|g| g.role_of(Seat(i as u8)));
                let visible = over
                    || match member {
                        Member::Full => true,
                        Member::Public => false,
                        Member::Seat(s) => {
                            s == i
                                || (viewer_role.is_some_and(|r| r.is_werewolf())
                                    && role.is_some_and(|r| r.is_werewolf()))
                        }
                    };
                PlayerInfo {
                    id: seat.player_id.clone(),
                    name: seat.name.clone().unwrap_or_default(),
                    alive: game.is_none_or(|g| g.is_alive(Seat(i as u8))),
                    connected: Some(self.agents[i].is_some()),
                    role: if visible { role } else { None },
                }
            })
            .collect();
        let you = match (member, game, viewer_role) {
            (Member::Seat(s), Some(g), Some(r)) => Some(You {
                player_id: seats[s].player_id.clone(),
                role: r,
                team: r.team(),
                teammates: if r.is_werewolf() {
                    g.werewolf_seats()
                        .filter(|w| w.index() != s)
                        .map(|w| self.names.id(w))
                        .collect()
                } else {
                    Vec::new()
                },
            }),
            _ => None,
        };
        let alive = players.iter().filter(|p| p.alive).count() as u32;
        let day = game.map_or(0, Game::day);
        GameStateBody {
            game_id: Some(self.shared.id.to_string()),
            seq: Some(0),
            phase: game.map_or(werewolf_schemas::Phase::Lobby, |g| wire::phase(g.phase())),
            day,
            current_turn: day,
            alive_count: alive,
            dead_count: players.len() as u32 - alive,
            players,
            you,
            winner: game.and_then(Game::winner),
        }
    }

    fn broadcast_states(&mut self) {
        for seat in 0..self.agents.len() {
            let state = self.state_for(Member::Seat(seat));
            self.send_seat(seat, ServerMessage::GameState(state), GAME_ENGINE_ID);
        }
        if !self.public.is_empty() {
            let public = self.state_for(Member::Public);
            self.route(
                ServerMessage::GameState(public),
                GAME_ENGINE_ID,
                Route {
                    seats: &[],
                    public: true,
                    full: false,
                },
            );
        }
        if !self.full.is_empty() {
            let full = self.state_for(Member::Full);
            self.route(
                ServerMessage::GameState(full),
                GAME_ENGINE_ID,
                Route {
                    seats: &[],
                    public: false,
                    full: true,
                },
            );
        }
    }

    /// Refreshes what REST reads: the summary and the public state.
    fn publish(&self) {
        let game = self.game.as_ref();
        let n = self.spec.player_count;
        self.shared.summary.store(Arc::new(GameSummary {
            game_id: self.shared.id.to_string(),
            phase: game.map_or(werewolf_schemas::Phase::Lobby, |g| wire::phase(g.phase())),
            day: game.map_or(0, Game::day),
            players: n,
            alive: game.map_or(n, |g| g.living().count()),
            created_at: self.shared.created_at,
            winner: game.and_then(Game::winner),
        }));
        self.shared
            .public_state
            .store(Arc::new(self.state_for(Member::Public)));
    }

    // ---- delivery ---------------------------------------------------------------------

    fn route_event(&mut self, message: ServerMessage, client_id: &str, audience: Audience) {
        let Some(game) = &self.game else { return };
        let seats: Vec<usize> = match audience {
            Audience::Everyone => (0..self.agents.len()).collect(),
            Audience::Player(s) => vec![s.index()],
            Audience::Werewolves => game.werewolf_seats().map(Seat::index).collect(),
            Audience::Spectators => Vec::new(),
        };
        let public = audience == Audience::Everyone;
        self.route(
            message,
            client_id,
            Route {
                seats: &seats,
                public,
                full: true,
            },
        );
    }

    /// Sends one message to the given streams, each with its next `seq`. The message is
    /// serialized once, and only if someone watches one of the streams; a stream's `seq`
    /// advances whether or not anyone watches it.
    fn route(&mut self, message: ServerMessage, client_id: &str, route: Route<'_>) {
        let seats_watched = route
            .seats
            .iter()
            .any(|&s| self.agents.get(s).is_some_and(Option::is_some));
        let public_watched = route.public && !self.public.is_empty();
        let full_watched = route.full && !self.full.is_empty();
        let stamped = (seats_watched || public_watched || full_watched)
            .then(|| SeqStamped::new(message, client_id));
        for &seat in route.seats {
            let Some(seq) = self.seat_seq.get_mut(seat) else {
                continue;
            };
            *seq += 1;
            if let (Some(Some(agent)), Some(stamped)) = (self.agents.get(seat), &stamped) {
                let _ = self
                    .manager
                    .deliver(agent, Message::Text(stamped.with_seq(*seq)));
            }
        }
        if route.public {
            self.public_seq += 1;
        }
        if route.full {
            self.full_seq += 1;
        }
        let Some(stamped) = stamped else { return };
        if public_watched {
            let bytes = stamped.with_seq(self.public_seq);
            for viewer in &self.public {
                let _ = self.manager.deliver(viewer, Message::Text(bytes.clone()));
            }
        }
        if full_watched {
            let bytes = stamped.with_seq(self.full_seq);
            if self.spec.observer_delay.is_zero() {
                self.deliver_full(&self.full, &bytes);
            } else {
                self.push_full(self.full.clone(), bytes);
            }
        }
    }

    fn send_seat(&mut self, seat: usize, mut message: ServerMessage, client_id: &str) {
        let Some(seq) = self.seat_seq.get_mut(seat) else {
            return;
        };
        *seq += 1;
        wire::set_seq(&mut message, *seq);
        if let Some(agent) = &self.agents[seat] {
            let _ = self
                .manager
                .deliver(agent, Message::Text(encode(message, client_id)));
        }
    }

    fn send_one(&self, entry: &ClientEntry, message: ServerMessage, client_id: &str) {
        let _ = self
            .manager
            .deliver(entry, Message::Text(encode(message, client_id)));
    }

    fn push_full(&mut self, to: Vec<Arc<ClientEntry>>, bytes: Utf8Bytes) {
        if self.spec.observer_delay.is_zero() {
            self.deliver_full(&to, &bytes);
        } else {
            self.delayed.push_back(Delayed {
                due: Instant::now() + self.spec.observer_delay,
                to,
                bytes,
            });
        }
    }

    fn flush_delayed(&mut self) {
        let now = Instant::now();
        while self.delayed.front().is_some_and(|d| d.due <= now) {
            if let Some(d) = self.delayed.pop_front() {
                self.deliver_full(&d.to, &d.bytes);
            }
        }
    }

    fn deliver_full(&self, to: &[Arc<ClientEntry>], bytes: &Utf8Bytes) {
        for viewer in to {
            let _ = self.manager.deliver(viewer, Message::Text(bytes.clone()));
        }
    }

    fn reply_error(
        &self,
        entry: &ClientEntry,
        code: ErrorCode,
        message: String,
        related: &str,
        request_id: Option<String>,
    ) {
        self.manager
            .counters()
            .errors_sent
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let frame = ServerFrame {
            message: ServerMessage::Error(ErrorBody {
                code,
                message,
                related_message_type: Some(related.to_owned()),
                request_id,
            }),
            client_id: entry.id.to_string(),
            timestamp: now_epoch_s(),
        };
        let _ = self.manager.send_to(entry, &frame);
    }

    fn seat_of(&self, player_id: &str) -> Option<Seat> {
        self.names
            .ids
            .iter()
            .position(|id| id == player_id)
            .map(|i| Seat(i as u8))
    }
}

/// Which streams a message goes to.
struct Route<'a> {
    /// Seat streams.
    seats: &'a [usize],
    /// The public stream.
    public: bool,
    /// The full stream.
    full: bool,
}

fn encode(message: ServerMessage, client_id: &str) -> Utf8Bytes {
    ConnectionManager::encode(&ServerFrame {
        message,
        client_id: client_id.to_owned(),
        timestamp: now_epoch_s(),
    })
}
