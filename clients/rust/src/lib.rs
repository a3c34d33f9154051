//! `werewolf-client`: a typed Rust client for werewolf-hub: REST for games, WebSocket for
//! agents and viewers that reconnect by themselves, over plain or TLS connections.
//!
//! # Layout
//!
//! The crate is split by concern, one module per file; everything public is re-exported
//! here:
//!
//! - `endpoint`: [`HubUrl`], the one URL form a hub is given in (`http`, `https`, `ws`,
//!   `wss`, optional path prefix), and every REST and WebSocket URL built from it with the
//!   `url` crate (ids and tokens percent-encoded).
//! - `tls`: the rustls configuration (ring provider, public roots plus
//!   [`Hub::with_root_certificate_pem`]) shared by REST and WebSocket; [`CA_FILE_ENV`].
//! - `rest`: [`Hub`] (its URLs, the REST calls, connecting agents and viewers) and the REST
//!   answers ([`CreatedGame`], [`SeatCredentials`]).
//! - `connect`: one connection: the [`Socket`] type, [`next_frame`], and what a close code
//!   means ([`close_advice`]).
//! - `reconnect`: [`ReconnectPolicy`] and the session behind [`Agent`] and [`Viewer`] that
//!   opens, loses and reopens connections (backoff, the hub's URLs in turn, `Retry-After`,
//!   `last_seq`, idle timeout).
//! - `resume`: what the session received and answered: duplicate suppression, snapshots,
//!   answers kept and re-sent, and the [`ResumeStats`] counting it.
//! - `agent`: [`Agent`] and its play loop; `viewer`: [`Viewer`].
//! - `strategy`: [`Strategy`], [`Decision`] (and [`Answer`]: a decision with private
//!   reasoning), [`Knowledge`] and the [`RandomStrategy`] bot.
//! - `error`: [`ClientError`]; a refusal reads as one line, e.g.
//!   `hub refused (403 Forbidden): <the hub's reason>`.
//!
//! # Example
//!
//! ```no_run
//! # async fn demo() -> Result<(), werewolf_client::ClientError> {
//! use werewolf_client::{Hub, RandomStrategy};
//! let hub = Hub::new("https://hub.example.org")?; // or http://127.0.0.1:8000, ws://, wss://
//! let game = hub.create_game(&serde_json::json!({"preset": "arena8", "players":
//!     ["A", "B", "C", "D", "E", "F", "G", "H"]})).await?;
//! let seat = &game.players[0];
//! let mut agent = hub.connect_agent(&game.game_id, &seat.player_id, &seat.token).await?;
//! let over = agent.play(&mut RandomStrategy::new(1), |_raw, _frame| {}).await?;
//! println!("winner: {:?}", over.winner);
//! # Ok(()) }
//! ```
//!
//! A private deployment's CA (or a test's self-signed certificate) is trusted with
//! [`Hub::with_root_certificate_pem`], or from the file named by `WEREWOLF_CA_FILE` with
//! [`Hub::with_env_root_certificate`]; the examples do the latter.
//!
//! # Staying connected
//!
//! [`Agent::play`], [`Agent::recv`] and [`Viewer::recv`] come back by themselves when the
//! connection drops: on a lost TCP connection (reset, end of stream, or silence longer than
//! the hub's `timeout_s`), and on every close code whose entry in the README's table says
//! "reconnect" ([`close_advice`]), 1012 (service restart: a cluster node draining or losing
//! its game) included. They reconnect with exponential backoff and jitter
//! ([`ReconnectPolicy`]: 100 ms doubling to 5 s, giving up after 60 s by default), and add
//! `last_seq=<last seq received>` to the URL so the hub sends every frame of the stream they
//! missed (`connection.data.recovered` says whether it could). A close code that says "do
//! not reconnect" (1002, 1007, 1008, 4000, 4003, 4004, ...) ends them with
//! [`ClientError::HubClosed`], naming the code and its meaning; a refused handshake (401,
//! 403, 404, 409) with [`ClientError::Refused`].
//!
//! # Several hub URLs
//!
//! A hub cluster (nodes sharing one store, any node serving any game) is given as a list:
//! [`Hub::with_urls`]`(["http://node1:8000", "http://node2:8000"])`, or [`Hub::new`] plus
//! [`Hub::with_fallback`] for each further URL. The first connection tries the URLs in
//! order; a reconnect starts with the URL after the one that was lost and goes round them
//! in turn, one attempt per backoff step, always with `last_seq`. An upgrade refused with a
//! "not now" status (503, also 408, 425, 429 and the other 5xx) counts as a failed attempt
//! and moves on to the next URL; its `Retry-After` (seconds, capped at [`MAX_RETRY_AFTER`])
//! keeps that URL from being tried again before then. When every URL failed the first
//! connection and one of them answered "not now", the first connection keeps trying within
//! the policy's budget too (when none answered at all it fails at once, as with one URL).
//! Other refusals (401, 403, 404, 409) are the same on every node and end the agent at once.
//! REST calls go to the next URL when one is unreachable or answers 503.
//!
//! Frames are delivered once: a frame whose `seq` is not above the last one received is a
//! duplicate and dropped, except a `game_state` snapshot right after a (re)connect (it carries
//! the stream head and updates the view) and an `action_request` the hub re-sends because it
//! is still pending: it is delivered again unless this client already answered it, in which
//! case the answer itself is re-sent (the hub re-sends only requests it has no answer for,
//! so the answer was lost with the connection). Answers sent before a drop for which no
//! `action_result` came back are re-sent on every reconnect; the hub's "already answered"
//! refusal of such a re-sent answer is dropped too. [`ResumeStats`] counts what happened.
//!
//! Reading `Agent::ws` directly (with [`next_frame`]) bypasses all of this.
//!

#![warn(missing_docs)]

mod agent;
mod connect;
mod endpoint;
mod error;
mod reconnect;
mod rest;
mod resume;
mod strategy;
mod tls;
mod viewer;

pub use agent::Agent;
pub use connect::{CloseAdvice, Socket, close_advice, next_frame};
pub use endpoint::HubUrl;
pub use error::ClientError;
pub use reconnect::{MAX_RETRY_AFTER, ReconnectPolicy};
pub use rest::{BotSeat, CreatedGame, Hub, SeatCredentials};
pub use resume::ResumeStats;
pub use strategy::{Answer, Decision, Knowledge, RandomStrategy, Strategy};
pub use tls::CA_FILE_ENV;
pub use viewer::Viewer;
