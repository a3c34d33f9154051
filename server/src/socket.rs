//! One WebSocket connection: a reader loop (this task) and a writer task.
//!
//! The writer is the only task that touches the socket's sink. It drains the connection's
//! bounded queue, feeding every frame already waiting before one flush, and on close sends
//! the server's close frame if it has a reason. The reader parses, rate-limits, answers and
//! routes inbound frames, and runs the heartbeat.

use crate::clock::now_epoch_s;
use crate::close_code::CloseReason;
use crate::connection_manager::{Admission, ClientEntry, Credential, LobbyScope};
use crate::games::{GameCommand, GameShared, Member};
use crate::rate_limit::{StrikeCounter, TokenBucket};
use crate::state::AppState;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior, timeout};
use tracing::{Instrument, debug, info, info_span};
use werewolf_schemas::{
    AgentMessageOut, Channel, ClientFrame, ClientMessage, ClientType, ConnectionData, ErrorBody,
    ErrorCode, PongBody, ServerFrame, ServerMessage, parse_client_frame,
};

/// Most frames fed to the sink before one flush.
const MAX_BATCH: usize = 64;
/// How long a closing socket may take to accept its close frame.
const CLOSE_FRAME_TIMEOUT: Duration = Duration::from_secs(1);

/// What a connection is attached to.
#[derive(Debug, Clone)]
pub enum Binding {
    /// No game: the lobby relay of seed 004.
    Lobby,
    /// A game, as a seat's agent or a viewer.
    Game {
        /// The game.
        game: Arc<GameShared>,
        /// As what.
        member: Member,
        /// `last_seq` from the URL: resume the stream after it.
        last_seq: Option<u64>,
    },
}

impl Binding {
    /// How a connection with this binding enters the registry: what it proved and where
    /// its traffic is counted.
    pub fn admission(&self, client_type: ClientType) -> Admission {
        match self {
            Binding::Lobby => Admission::lobby(client_type),
            Binding::Game { game, member, .. } => {
                let (credential, hidden) = match *member {
                    Member::Seat(seat) => (
                        Credential::Seat {
                            game: game.id.clone(),
                            seat,
                        },
                        true,
                    ),
                    Member::Full => (
                        Credential::FullView {
                            game: game.id.clone(),
                        },
                        true,
                    ),
                    Member::Public => (Credential::Anonymous, false),
                };
                Admission {
                    client_type,
                    lobby: false,
                    credential,
                    traffic: hidden.then(|| game.traffic.clone()),
                    relayed: false,
                }
            }
        }
    }
}

/// Runs a connection from accept to cleanup. Never panics on client input.
pub async fn run(
    mut socket: WebSocket,
    state: AppState,
    client_id: String,
    client_type: ClientType,
    binding: Binding,
    relayed: bool,
) {
    let mut admission = binding.admission(client_type);
    admission.relayed = relayed;
    let admitted = state.manager.connect(&client_id, admission);
    let (entry, queue, replaced) = match admitted {
        Ok(connected) => connected,
        Err(_holder) => {
            // Taken by another credential since the check before the upgrade.
            info!(client_id = %client_id, "client_id taken by another credential; closing 4004");
            let frame = CloseFrame {
                code: CloseReason::IdTaken.code(),
                reason: Utf8Bytes::from_static(CloseReason::IdTaken.text()),
            };
            let _ = timeout(
                CLOSE_FRAME_TIMEOUT,
                socket.send(Message::Close(Some(frame))),
            )
            .await;
            return;
        }
    };
    let span =
        info_span!("ws", client_id = %client_id, client_type = %client_type, conn = entry.conn_id);
    async move {
        if replaced.is_some() {
            info!("replaced an older connection with the same client_id");
        }
        info!("connected");
        match &binding {
            Binding::Lobby => {
                let welcome = ServerFrame {
                    message: ServerMessage::Connection {
                        data: ConnectionData {
                            client_type,
                            timeout_s: state.config.ws_timeout,
                            max_message_bytes: state.config.ws_max_message_bytes,
                            game_id: None,
                            recovered: None,
                        },
                    },
                    client_id: client_id.clone(),
                    timestamp: now_epoch_s(),
                };
                let _ = state.manager.send_to(&entry, &welcome);
            }
            // The game's actor sends the `connection` frame: only it knows whether the
            // stream resumes from `last_seq`.
            Binding::Game {
                game,
                member,
                last_seq,
            } => {
                let attach = GameCommand::Attach {
                    entry: entry.clone(),
                    member: *member,
                    last_seq: *last_seq,
                };
                if game.commands.send(attach).await.is_err() {
                    entry.control.close(CloseReason::ServerShutdown);
                }
            }
        }

        let (sink, stream) = socket.split();
        let writer = tokio::spawn(write_loop(sink, queue, entry.clone()).in_current_span());
        let left = Reader::new(&state, &entry, &binding).run(stream).await;
        if let Binding::Game { game, member, .. } = &binding {
            let _ = game
                .commands
                .send(GameCommand::Detach {
                    conn_id: entry.conn_id,
                    member: *member,
                })
                .await;
        }

        let reason = entry.control.reason();
        if let Some(r) = reason
            && r == CloseReason::HeartbeatTimeout
        {
            state
                .manager
                .counters()
                .heartbeat_timeouts
                .fetch_add(1, Ordering::Relaxed);
        }
        let why = reason.map(CloseReason::text).unwrap_or(left);
        state.manager.disconnect(&entry, why);
        let _ = writer.await;
        info!(reason = why, "disconnected");
    }
    .instrument(span)
    .await
}

/// Drains the queue into the socket until the connection ends.
async fn write_loop(
    mut sink: SplitSink<WebSocket, Message>,
    mut queue: mpsc::Receiver<Message>,
    entry: Arc<ClientEntry>,
) {
    // One cancellation future for the whole loop, not one per batch.
    let cancelled = entry.control.cancelled();
    tokio::pin!(cancelled);
    loop {
        let first = tokio::select! {
            biased;
            _ = &mut cancelled => break,
            next = queue.recv() => match next {
                Some(m) => m,
                None => break,
            },
        };
        let batch = async {
            sink.feed(first).await?;
            for _ in 1..MAX_BATCH {
                match queue.try_recv() {
                    Ok(m) => sink.feed(m).await?,
                    Err(_) => break,
                }
            }
            sink.flush().await
        };
        let written = tokio::select! {
            biased;
            _ = &mut cancelled => break,
            r = batch => r,
        };
        if let Err(e) = written {
            // Also after the client's own close frame: tungstenite refuses data frames then,
            // but the close reply it queued must still be flushed (below), or the client waits
            // for it until its own timeout.
            debug!(error = %e, "write failed");
            entry.control.end();
            break;
        }
    }
    let deadline = Instant::now() + CLOSE_FRAME_TIMEOUT;
    // A game that ends and is removed at once (DELETE, lobby expiry) queued its `game_over`
    // just before the close: the client gets what was queued, then the close.
    if entry.control.reason() == Some(CloseReason::GameRemoved) {
        let drain = async {
            while let Ok(m) = queue.try_recv() {
                sink.feed(m).await?;
            }
            sink.flush().await
        };
        let _ = tokio::time::timeout_at(deadline, drain).await;
    }
    // Two tries: a batch cancelled mid-way can leave one frame in the split sink's slot; once
    // the peer has closed, tungstenite refuses it (and the slot is emptied), and only the
    // second try flushes the close reply. Without it, some of many clients closing at once
    // never got the hub's close frame.
    for _ in 0..2 {
        let close = async {
            match entry.control.reason() {
                Some(reason) => {
                    let frame = CloseFrame {
                        code: reason.code(),
                        reason: Utf8Bytes::from_static(reason.text()),
                    };
                    sink.send(Message::Close(Some(frame))).await
                }
                None => sink.close().await,
            }
        };
        match tokio::time::timeout_at(deadline, close).await {
            Ok(Err(e)) => debug!(error = %e, "close frame refused; retrying once"),
            Ok(Ok(())) | Err(_) => break,
        }
    }
}

/// Inbound side of one connection.
struct Reader<'a> {
    /// Shared hub state.
    state: &'a AppState,
    /// This connection.
    entry: &'a Arc<ClientEntry>,
    /// Inbound rate limit.
    bucket: TokenBucket,
    /// Rate-limited frames per window; too many closes with 1008.
    strikes: StrikeCounter,
    /// The game this connection belongs to, if any.
    binding: &'a Binding,
}

impl<'a> Reader<'a> {
    fn new(state: &'a AppState, entry: &'a Arc<ClientEntry>, binding: &'a Binding) -> Self {
        let now = std::time::Instant::now();
        Reader {
            state,
            entry,
            bucket: TokenBucket::new(
                state.config.ws_rate_per_sec,
                state.config.ws_rate_burst,
                now,
            ),
            strikes: StrikeCounter::new(state.config.ws_rate_strikes, now),
            binding,
        }
    }

    /// Reads until the connection ends; returns a description of why, for the log and the
    /// `disconnection` frame, when the server did not set a close reason.
    async fn run(mut self, mut stream: SplitStream<WebSocket>) -> &'static str {
        let timeout = self.state.config.timeout();
        // Ping at least twice per timeout so a live client always gets a chance to answer.
        let period = self.state.config.ping_interval().min(timeout / 2);
        let mut heartbeat = tokio::time::interval_at(Instant::now() + period, period);
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut last_seen = Instant::now();
        let control = &self.entry.control;
        loop {
            tokio::select! {
                biased;
                // With a server reason, the caller reports that reason; without one the writer
                // saw the socket fail (the peer went away mid-write).
                _ = control.cancelled() => return "connection lost",
                _ = heartbeat.tick() => {
                    if last_seen.elapsed() >= timeout {
                        control.close(CloseReason::HeartbeatTimeout);
                        return "heartbeat timeout";
                    }
                    let _ = self.state.manager.deliver(self.entry, Message::Ping(Default::default()));
                }
                frame = stream.next() => {
                    let Some(frame) = frame else { return "connection lost" };
                    let message = match frame {
                        Ok(m) => m,
                        Err(e) => {
                            if let Some(reason) = read_error_close(&e) {
                                debug!(error = %e, "closing on a bad frame");
                                control.close(reason);
                                return reason.text();
                            }
                            debug!(error = %e, "read failed");
                            return "connection lost";
                        }
                    };
                    last_seen = Instant::now();
                    match message {
                        Message::Text(text) => self.on_data(Some(text.as_str())),
                        Message::Binary(_) => self.on_data(None),
                        Message::Ping(_) | Message::Pong(_) => {}
                        Message::Close(_) => return "closed by client",
                    }
                    if control.is_cancelled() {
                        return "connection lost";
                    }
                }
            }
        }
    }

    /// Handles one data frame (`None`: a binary frame).
    fn on_data(&mut self, text: Option<&str>) {
        let traffic = &self.entry.traffic;
        traffic.received(text.map_or(0, str::len) as u64);
        let now = std::time::Instant::now();
        if !self.bucket.try_take(now) {
            traffic.rate_limited();
            if self.strikes.strike(now) {
                self.entry.control.close(CloseReason::PolicyViolation);
                return;
            }
            let limit = &self.state.config;
            self.reply_error(
                ErrorCode::RateLimited,
                format!(
                    "rate limit exceeded ({} frames/s, burst {}); frame dropped",
                    limit.ws_rate_per_sec, limit.ws_rate_burst
                ),
                None,
                None,
            );
            return;
        }
        let Some(text) = text else {
            self.reply_error(
                ErrorCode::BinaryNotSupported,
                "binary frames are not supported; send JSON text frames".to_owned(),
                None,
                None,
            );
            return;
        };
        let frame = match parse_client_frame(text) {
            Ok(f) => f,
            Err(e) => {
                let related = e.message_type().map(str::to_owned);
                self.reply_error(e.code(), e.to_string(), related, None);
                return;
            }
        };
        self.on_frame(frame);
    }

    /// Routes one well-formed frame.
    fn on_frame(&mut self, frame: ClientFrame) {
        let kind = frame.message.message_type();
        if let Some(claimed) = frame.client_id.as_deref()
            && claimed != &*self.entry.id
        {
            self.reply_error(
                ErrorCode::ClientIdMismatch,
                format!(
                    "client_id `{claimed}` does not match this connection (`{}`)",
                    self.entry.id
                ),
                Some(kind.to_owned()),
                None,
            );
            return;
        }
        if !frame.message.allowed_for(self.entry.client_type) {
            self.reply_error(
                ErrorCode::NotPermitted,
                format!(
                    "`{kind}` may only be sent by agents; this connection is a {}",
                    self.entry.client_type
                ),
                Some(kind.to_owned()),
                None,
            );
            return;
        }
        if let (
            Binding::Game {
                game,
                member: Member::Seat(seat),
                ..
            },
            ClientMessage::AgentMessage(_) | ClientMessage::PlayerAction(_),
        ) = (self.binding, &frame.message)
        {
            let command = match frame.message {
                ClientMessage::AgentMessage(message) => GameCommand::Say {
                    seat: *seat,
                    entry: self.entry.clone(),
                    message,
                },
                ClientMessage::PlayerAction(action) => GameCommand::Action {
                    seat: *seat,
                    entry: self.entry.clone(),
                    action,
                },
                _ => return,
            };
            if game.commands.try_send(command).is_err() {
                self.reply_error(
                    ErrorCode::GameBusy,
                    "the game is not accepting input right now; retry shortly".to_owned(),
                    Some(kind.to_owned()),
                    None,
                );
            }
            return;
        }
        match frame.message {
            ClientMessage::Ping {} => {
                let pong = ServerFrame {
                    message: ServerMessage::Pong(PongBody {
                        ping_timestamp: frame.timestamp,
                    }),
                    client_id: self.entry.id.to_string(),
                    timestamp: now_epoch_s(),
                };
                let _ = self.state.manager.send_to(self.entry, &pong);
            }
            ClientMessage::Pong {} => {}
            ClientMessage::AgentMessage(m) if m.reasoning.is_some() => {
                // Reasoning is private and kept with a game; relayed to every viewer it
                // would be neither.
                self.reply_error(
                    ErrorCode::NotInGame,
                    "`reasoning` is kept only with a game's answers; outside a game it would be \
                     shown to every viewer: send the message without it"
                        .to_owned(),
                    Some(kind.to_owned()),
                    m.request_id,
                );
            }
            ClientMessage::AgentMessage(m) => {
                let out = ServerFrame {
                    message: ServerMessage::AgentMessage(AgentMessageOut {
                        agent_id: self.entry.id.to_string(),
                        agent_name: m.agent_name.unwrap_or_else(|| self.entry.id.to_string()),
                        message_text: m.message_text,
                        channel: m.channel.unwrap_or(Channel::Public),
                        phase: m.phase,
                        game_id: None,
                        seq: None,
                    }),
                    client_id: self.entry.id.to_string(),
                    timestamp: now_epoch_s(),
                };
                self.state.manager.broadcast_lobby(
                    &out,
                    LobbyScope::Types(vec![ClientType::Ui, ClientType::Observer]),
                );
            }
            ClientMessage::PlayerAction(a) => {
                self.reply_error(
                    ErrorCode::NotInGame,
                    "player_action needs a seat in a game; connect with ?game_id=…&token=…"
                        .to_owned(),
                    Some(kind.to_owned()),
                    a.request_id,
                );
            }
        }
    }

    fn reply_error(
        &self,
        code: ErrorCode,
        message: String,
        related_message_type: Option<String>,
        request_id: Option<String>,
    ) {
        debug!(code = code.as_str(), %message, "refused a frame");
        self.entry.traffic.error_sent(code);
        let frame = ServerFrame {
            message: ServerMessage::Error(ErrorBody {
                code,
                message,
                related_message_type,
                request_id,
            }),
            client_id: self.entry.id.to_string(),
            timestamp: now_epoch_s(),
        };
        let _ = self.state.manager.send_to(self.entry, &frame);
    }
}

/// The close a read error calls for (RFC 6455 §7.4.1), or `None` when the transport failed
/// and no close frame can be sent: 1009 for an over-limit message or frame, 1007 for a text
/// message that is not UTF-8, 1002 for every framing violation.
pub fn read_error_close(error: &axum::Error) -> Option<CloseReason> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if let Some(t) = e.downcast_ref::<tungstenite::Error>() {
            return match t {
                tungstenite::Error::Capacity(_) => Some(CloseReason::MessageTooBig),
                tungstenite::Error::Utf8(_) => Some(CloseReason::InvalidPayload),
                tungstenite::Error::Protocol(p) => match p {
                    // The peer vanished or already closed: nobody to tell.
                    tungstenite::error::ProtocolError::ResetWithoutClosingHandshake
                    | tungstenite::error::ProtocolError::SendAfterClosing
                    | tungstenite::error::ProtocolError::ReceivedAfterClosing => None,
                    _ => Some(CloseReason::ProtocolError),
                },
                _ => None,
            };
        }
        source = e.source();
    }
    None
}
