//! Staying connected: the [`ReconnectPolicy`], and the session behind an agent or a viewer
//! that opens a connection, notices when it is lost and opens another (backoff with jitter,
//! the hub's URLs in turn, `last_seq` in the URL).

use super::connect::{hub_closed, parse_frame};
use super::endpoint::with_query;
use super::resume::{Answer, ResumeStats};
use super::{ClientError, Socket, close_advice};
use futures_util::{SinkExt, StreamExt};
use rand::Rng;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_tungstenite::Connector;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use url::Url;
use werewolf_schemas::ServerFrame;

/// How a dropped connection comes back: exponential backoff with jitter. Each wait is drawn
/// uniformly from `[d/2, d]`, where `d` starts at `initial_delay` and doubles after every
/// failed attempt up to `max_delay`; a successful reconnect starts over.
#[derive(Debug, Clone, PartialEq)]
pub struct ReconnectPolicy {
    /// The first wait after a drop (default 100 ms).
    pub initial_delay: Duration,
    /// The longest wait between attempts (default 5 s).
    pub max_delay: Duration,
    /// Give up once the connection has been down this long (default 60 s; `None`: never).
    pub give_up_after: Option<Duration>,
    /// Give up after this many attempts per outage (default `None`: no limit; `Some(0)`
    /// disables reconnecting).
    pub max_attempts: Option<u32>,
    /// How long one attempt (TCP connect and WebSocket handshake) may take (default 10 s).
    pub connect_timeout: Duration,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        ReconnectPolicy {
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
            give_up_after: Some(Duration::from_secs(60)),
            max_attempts: None,
            connect_timeout: Duration::from_secs(10),
        }
    }
}

impl ReconnectPolicy {
    /// Never reconnect: a drop ends the agent (the behaviour before reconnecting existed).
    pub fn never() -> Self {
        ReconnectPolicy {
            max_attempts: Some(0),
            ..ReconnectPolicy::default()
        }
    }

    /// The wait before attempt `attempt` (0-based) of an outage, jitter included.
    pub fn delay(&self, attempt: u32) -> Duration {
        let ceiling = self
            .initial_delay
            .saturating_mul(2u32.saturating_pow(attempt.min(31)))
            .min(self.max_delay);
        let half = ceiling / 2;
        let spread = (ceiling - half).as_micros() as u64;
        half + Duration::from_micros(rand::rng().random_range(0..=spread))
    }
}

/// Added to the hub's `timeout_s` before a silent connection counts as lost: the hub pings
/// at least twice per `timeout_s`, so by then at least two pings went missing.
pub(super) const IDLE_SLACK: Duration = Duration::from_secs(2);
/// How long a connection may stay silent before the hub has said its `timeout_s`.
const DEFAULT_IDLE: Duration = Duration::from_secs(60);

/// Why a connection ended.
#[derive(Debug)]
enum Lost {
    /// The hub sent a close frame.
    Closed(Option<CloseFrame>),
    /// The TCP connection or the WebSocket transport failed, or went silent.
    Transport(String),
}

/// One logical connection to a game stream across reconnects: where to connect, what was
/// received (`last_seq`, request ids) and what was answered.
#[derive(Debug)]
pub(super) struct Session {
    /// `ws(s)://host:port/ws/{id}?client_type=...` on each URL of the hub, without
    /// `last_seq`.
    urls: Vec<Url>,
    /// The URL in use (or to try next).
    current: usize,
    /// The TLS configuration of `wss://` connections (plain `ws://` ones ignore it).
    tls: Arc<rustls::ClientConfig>,
    /// Backoff and give-up rules.
    pub(super) policy: ReconnectPolicy,
    /// Highest `seq` received on the game stream.
    pub(super) last_seq: Option<u64>,
    /// Connections opened; 1 is the first.
    pub(super) epoch: u32,
    /// No game frame received yet on this connection (the next `game_state` is a snapshot).
    pub(super) fresh: bool,
    /// This connection's `connection.data.recovered`.
    pub(super) recovered: Option<bool>,
    /// Silence after which the connection counts as lost.
    pub(super) idle: Duration,
    /// The hub's frame size limit, once known.
    pub(super) max_message_bytes: Option<usize>,
    /// Request id → the connection it was delivered on.
    pub(super) seen: HashMap<String, u32>,
    /// Answers sent whose request the hub has not closed yet (no `action_result` seen).
    pub(super) answers: HashMap<String, Answer>,
    /// Requests the hub closed (answered or timed out).
    pub(super) closed: HashSet<String>,
    /// Answers re-sent on this connection: a refusal of one is expected.
    pub(super) resent: HashSet<String>,
    /// The request id of the last answer sent (dropped after a 1009 close).
    pub(super) last_answer: Option<String>,
    /// Counters for the caller.
    pub(super) stats: ResumeStats,
}

impl Session {
    pub(super) fn new(
        urls: Vec<Url>,
        tls: Arc<rustls::ClientConfig>,
        policy: ReconnectPolicy,
    ) -> Self {
        Session {
            urls,
            current: 0,
            tls,
            policy,
            last_seq: None,
            epoch: 0,
            fresh: true,
            recovered: None,
            idle: DEFAULT_IDLE,
            max_message_bytes: None,
            seen: HashMap::new(),
            answers: HashMap::new(),
            closed: HashSet::new(),
            resent: HashSet::new(),
            last_answer: None,
            stats: ResumeStats::default(),
        }
    }

    /// The URL of attempt at `urls[index]`, with `last_seq` once a frame was received.
    pub(super) fn url(&self, index: usize) -> Url {
        let url = self.urls[index].clone();
        match self.last_seq {
            Some(n) => with_query(url, "last_seq", &n.to_string()),
            None => url,
        }
    }

    /// One connection attempt to `urls[index]`.
    async fn open(&self, index: usize) -> Result<Socket, ClientError> {
        let url = self.url(index);
        let connect = tokio_tungstenite::connect_async_tls_with_config(
            url.as_str(),
            None,
            false,
            Some(Connector::Rustls(self.tls.clone())),
        );
        match tokio::time::timeout(self.policy.connect_timeout, connect).await {
            Err(_) => Err(ClientError::Ws(tokio_tungstenite::tungstenite::Error::Io(
                std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no handshake within {:?}", self.policy.connect_timeout),
                ),
            ))),
            Ok(Ok((ws, _))) => Ok(ws),
            // a refused upgrade becomes ClientError::Refused (see its From)
            Ok(Err(e)) => Err(e.into()),
        }
    }

    /// The first connection: each URL once, in order; a refusal ends it at once.
    pub(super) async fn connect_first(&mut self) -> Result<Socket, ClientError> {
        let mut last = None;
        for index in 0..self.urls.len() {
            match self.open(index).await {
                Ok(ws) => {
                    self.current = index;
                    self.connected();
                    return Ok(ws);
                }
                Err(e) if retryable(&e) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| ClientError::Protocol("no hub URL".into())))
    }

    pub(super) fn connected(&mut self) {
        self.epoch += 1;
        self.stats.connections += 1;
        self.fresh = true;
        self.recovered = None;
        self.idle = DEFAULT_IDLE;
        self.resent.clear();
    }

    /// After a drop: the typed error if the close code says stop, else a new connection
    /// (backoff with jitter, the hub's URLs in turn, `last_seq` in the URL).
    async fn reconnect(&mut self, lost: Lost) -> Result<Socket, ClientError> {
        let why = match &lost {
            Lost::Closed(frame) => {
                let advice = close_advice(frame.as_ref().map_or(1005, |f| u16::from(f.code)));
                if !advice.reconnect || self.policy.max_attempts == Some(0) {
                    return Err(hub_closed(frame.as_ref()));
                }
                if advice.code == 1009 {
                    // never send that message again
                    if let Some(id) = self.last_answer.take() {
                        self.answers.remove(&id);
                    }
                }
                format!("closed with {} ({})", advice.code, advice.meaning)
            }
            Lost::Transport(e) => {
                if self.policy.max_attempts == Some(0) {
                    return Err(ClientError::Closed(e.clone()));
                }
                format!("connection lost: {e}")
            }
        };
        self.stats.drops.push(why.clone());
        let started = Instant::now();
        let mut attempts = 0u32;
        let mut last = ClientError::Closed(why);
        loop {
            let elapsed = started.elapsed();
            let exhausted = self.policy.max_attempts.is_some_and(|m| attempts >= m)
                || self.policy.give_up_after.is_some_and(|b| elapsed >= b);
            if exhausted {
                return Err(ClientError::GaveUp {
                    attempts,
                    elapsed,
                    last: Box::new(last),
                });
            }
            let mut wait = self.policy.delay(attempts);
            if let Some(budget) = self.policy.give_up_after {
                wait = wait.min(budget.saturating_sub(elapsed));
            }
            tokio::time::sleep(wait).await;
            attempts += 1;
            match self.open(self.current).await {
                Ok(ws) => {
                    self.connected();
                    return Ok(ws);
                }
                Err(e) if retryable(&e) => {
                    last = e;
                    self.current = (self.current + 1) % self.urls.len();
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The next frame new to this client, reconnecting as needed.
    pub(super) async fn recv(
        &mut self,
        ws: &mut Socket,
    ) -> Result<(String, ServerFrame), ClientError> {
        loop {
            let lost = match read_text(ws, self.idle).await {
                Ok(raw) => {
                    let frame = parse_frame(&raw)?;
                    let admission = self.admit(&raw, &frame);
                    if !admission.pause.is_zero() {
                        tokio::time::sleep(admission.pause).await;
                    }
                    for text in admission.send {
                        // a dead socket shows on the next read; the answer stays kept
                        if ws.send(Message::text(text)).await.is_err() {
                            break;
                        }
                    }
                    if admission.deliver {
                        return Ok((raw, frame));
                    }
                    continue;
                }
                Err(lost) => lost,
            };
            *ws = self.reconnect(lost).await?;
        }
    }
}

/// Whether a failed connection attempt is worth another try (elsewhere or later).
fn retryable(error: &ClientError) -> bool {
    use tokio_tungstenite::tungstenite::Error as WsError;
    match error {
        ClientError::Refused { status, .. } => matches!(status, 408 | 425 | 429 | 500..=599),
        // a malformed URL or an untrusted certificate will not fix itself
        ClientError::Ws(WsError::Url(_) | WsError::HttpFormat(_) | WsError::Tls(_)) => false,
        ClientError::Ws(_) | ClientError::Http(_) | ClientError::Closed(_) => true,
        _ => false,
    }
}

/// The next text frame, or why the connection is lost (including `idle` of silence:
/// WebSocket pings count as life).
async fn read_text(ws: &mut Socket, idle: Duration) -> Result<String, Lost> {
    loop {
        match tokio::time::timeout(idle, ws.next()).await {
            Err(_) => {
                return Err(Lost::Transport(format!("nothing received for {idle:?}")));
            }
            Ok(None) => {
                return Err(Lost::Transport(
                    "the connection ended without a close frame".into(),
                ));
            }
            Ok(Some(Err(e))) => return Err(Lost::Transport(e.to_string())),
            Ok(Some(Ok(Message::Text(text)))) => return Ok(text.as_str().to_owned()),
            Ok(Some(Ok(Message::Close(frame)))) => return Err(Lost::Closed(frame)),
            Ok(Some(Ok(_))) => continue,
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_ceiling() {
        let policy = ReconnectPolicy::default();
        for attempt in 0..40 {
            let ceiling = (Duration::from_millis(100) * 2u32.pow(attempt.min(20)))
                .min(Duration::from_secs(5));
            let d = policy.delay(attempt);
            assert!(d >= ceiling / 2 && d <= ceiling, "{attempt}: {d:?}");
        }
    }
}
