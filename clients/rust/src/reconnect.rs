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
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::http::HeaderMap;
use tokio_tungstenite::tungstenite::http::header::RETRY_AFTER;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use url::Url;
use werewolf_schemas::ServerFrame;

/// How a dropped connection comes back: exponential backoff with jitter. Each wait is drawn
/// uniformly from `[d/2, d]`, where `d` starts at `initial_delay` and doubles after every
/// failed attempt up to `max_delay`; a successful reconnect starts over. A hub URL that
/// refused an attempt with a `Retry-After` header (e.g. 503 while its game moves to another
/// node) is not tried again before that many seconds (at most [`MAX_RETRY_AFTER`]) have
/// passed; the other URLs are tried meanwhile.
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

/// The longest `Retry-After` honoured: a longer one is cut to this (the give-up budget
/// still applies).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

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
    /// The URL in use (or last tried).
    current: usize,
    /// Per URL: not to be tried before this instant (it answered with `Retry-After`).
    not_before: Vec<Option<Instant>>,
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
            not_before: vec![None; urls.len()],
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
    async fn open(&self, index: usize) -> Result<Socket, Failure> {
        let url = self.url(index);
        let connect = tokio_tungstenite::connect_async_tls_with_config(
            url.as_str(),
            None,
            false,
            Some(Connector::Rustls(self.tls.clone())),
        );
        match tokio::time::timeout(self.policy.connect_timeout, connect).await {
            Err(_) => Err(Failure::from(ClientError::Ws(
                tokio_tungstenite::tungstenite::Error::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no handshake within {:?}", self.policy.connect_timeout),
                )),
            ))),
            Ok(Ok((ws, _))) => Ok(ws),
            Ok(Err(WsError::Http(response))) => Err(Failure {
                retry_after: retry_after(response.headers()),
                // a refused upgrade becomes ClientError::Refused (see its From)
                error: WsError::Http(response).into(),
            }),
            Ok(Err(e)) => Err(Failure::from(ClientError::from(e))),
        }
    }

    /// The first connection: each URL once, in order; a permanent refusal (401, 403, 404,
    /// 409, ...) ends it at once. When every URL failed and at least one of them answered
    /// "not now" (503 and the other [`retryable`] statuses: a node handing a game over, or
    /// draining), the URLs are tried again in turn with backoff (and `Retry-After`) within
    /// the policy's budget; when none answered at all (nothing listening), the last error
    /// is returned at once.
    pub(super) async fn connect_first(&mut self) -> Result<Socket, ClientError> {
        let started = Instant::now();
        let mut last = None;
        let mut answered_not_now = false;
        for index in 0..self.urls.len() {
            match self.open(index).await {
                Ok(ws) => {
                    self.succeeded(index);
                    return Ok(ws);
                }
                Err(failure) if retryable(&failure.error) => {
                    answered_not_now |= matches!(failure.error, ClientError::Refused { .. });
                    last = Some(self.failed(index, failure));
                }
                Err(failure) => return Err(failure.error),
            }
        }
        let last = last.unwrap_or_else(|| ClientError::Protocol("no hub URL".into()));
        if !answered_not_now {
            return Err(last);
        }
        match self.retry(0, started, last).await {
            Err(ClientError::GaveUp { last, .. }) => Err(*last),
            other => other,
        }
    }

    /// A connection to `urls[index]` is open.
    fn succeeded(&mut self, index: usize) {
        self.current = index;
        self.not_before[index] = None;
        self.connected();
    }

    /// An attempt on `urls[index]` failed: remembers its `Retry-After`; returns the error.
    fn failed(&mut self, index: usize, failure: Failure) -> ClientError {
        self.current = index;
        if let Some(wait) = failure.retry_after {
            self.not_before[index] = Some(Instant::now() + wait);
        }
        failure.error
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
    /// (backoff with jitter, the hub's URLs in turn starting with the one after the URL that
    /// was lost, `last_seq` in the URL).
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
        let next = (self.current + 1) % self.urls.len();
        self.retry(next, Instant::now(), ClientError::Closed(why))
            .await
    }

    /// Connection attempts with backoff, on `urls[next]` first and then on each URL in
    /// turn, until one opens or the policy's budget (counted from `started`) is spent
    /// ([`ClientError::GaveUp`] with the last error). A permanent refusal ends it at once.
    async fn retry(
        &mut self,
        mut next: usize,
        started: Instant,
        mut last: ClientError,
    ) -> Result<Socket, ClientError> {
        let mut attempts = 0u32;
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
            if let Some(at) = self.not_before[next] {
                wait = wait.max(at.saturating_duration_since(Instant::now()));
            }
            if let Some(budget) = self.policy.give_up_after {
                wait = wait.min(budget.saturating_sub(elapsed));
            }
            tokio::time::sleep(wait).await;
            attempts += 1;
            match self.open(next).await {
                Ok(ws) => {
                    self.succeeded(next);
                    return Ok(ws);
                }
                Err(failure) if retryable(&failure.error) => {
                    last = self.failed(next, failure);
                    next = (next + 1) % self.urls.len();
                }
                Err(failure) => return Err(failure.error),
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

/// A failed connection attempt.
#[derive(Debug)]
struct Failure {
    /// What went wrong.
    error: ClientError,
    /// The refusal's `Retry-After`, capped at [`MAX_RETRY_AFTER`].
    retry_after: Option<Duration>,
}

impl From<ClientError> for Failure {
    fn from(error: ClientError) -> Self {
        Failure {
            error,
            retry_after: None,
        }
    }
}

/// A `Retry-After` header in seconds (its HTTP-date form is ignored), at most
/// [`MAX_RETRY_AFTER`].
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER))
}

/// Whether a failed connection attempt is worth another try (elsewhere or later): a
/// transport failure, or a refusal that means "not now" (408, 425, 429, 5xx: a node handing
/// a game over answers 503); never another refusal (401, 403, 404, 409: the same on every
/// node), a malformed URL or an untrusted certificate.
fn retryable(error: &ClientError) -> bool {
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

    fn headers(retry_after: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, retry_after.parse().expect("header value"));
        headers
    }

    #[test]
    fn retry_after_is_read_in_seconds_and_capped() {
        assert_eq!(retry_after(&headers("2")), Some(Duration::from_secs(2)));
        assert_eq!(retry_after(&headers(" 0 ")), Some(Duration::ZERO));
        assert_eq!(retry_after(&headers("86400")), Some(MAX_RETRY_AFTER));
        // the HTTP-date form and garbage are ignored (the backoff applies)
        assert_eq!(retry_after(&headers("Wed, 21 Oct 2015 07:28:00 GMT")), None);
        assert_eq!(retry_after(&headers("-1")), None);
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }

    #[test]
    fn not_now_refusals_and_transport_failures_are_retried_the_rest_is_final() {
        let refused = |status| ClientError::refused(status, b"{\"error\":\"x\",\"status\":0}");
        for status in [503, 502, 500, 429, 408] {
            assert!(retryable(&refused(status)), "{status}");
        }
        for status in [400, 401, 403, 404, 409] {
            assert!(!retryable(&refused(status)), "{status}");
        }
        let io = WsError::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert!(retryable(&ClientError::Ws(io)));
        assert!(retryable(&ClientError::Closed("reset".into())));
        assert!(!retryable(&ClientError::Ws(WsError::Url(
            tokio_tungstenite::tungstenite::error::UrlError::NoHostName
        ))));
    }
}
