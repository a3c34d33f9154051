//! Wire types of the werewolf-hub protocol.
//!
//! This crate has no runtime: it is serde + schemars types and pure functions, so agents,
//! tests and the server share one definition of every frame.
//!
//! # Layout
//! - [`client_type`]: who is on the other end of a socket (`agent`, `ui`, `observer`).
//! - [`inbound`]: frames a client sends ([`ClientFrame`] wrapping a [`ClientMessage`]) and
//!   [`parse_client_frame`], which turns raw text into one or a typed [`InboundError`].
//! - [`outbound`]: frames the server sends ([`ServerFrame`] wrapping a [`ServerMessage`]).
//! - [`answer`]: the JSON Schema of the answer to one `action_request` (carried by the
//!   request as `response_schema`), inside the strict subset of LLM structured output.
//! - [`rules`]: every rule switch of a game ([`GameRules`], announced in `game_start`).
//! - [`replay`]: records of games: a line of `GET /games/{id}/events` ([`ReplayLine`]) and of
//!   `werewolf-hub export` ([`ExportedGame`]).
//! - [`error`]: [`ErrorCode`], the machine-readable reason carried by every `error` frame.
//! - [`schema`]: JSON Schema generation for both directions and the game records (committed
//!   under `schemas/json/`).
//!
//! # Frame shape
//! Every frame is one JSON object in a WebSocket text frame. It carries `message_type`
//! (the tag), `client_id` and `timestamp` (float seconds since the Unix epoch); the
//! type-specific fields sit flat beside them, as in the original Python hub (seed 004):
//!
//! ```json
//! {"message_type":"ping","client_id":"ui_1","timestamp":1706580000.0}
//! ```

#![warn(missing_docs)]

pub mod answer;
pub mod client_type;
pub mod error;
pub mod game;
pub mod inbound;
pub mod outbound;
pub mod replay;
pub mod rules;
pub mod schema;

pub use client_type::{ClientType, UnknownClientType};
pub use error::ErrorCode;
pub use game::{
    ActionKind, Channel, DeathCause, DeathInfo, Phase, PlayerInfo, Role, Team, Winner, You,
};
pub use inbound::{
    AgentMessageIn, ClientFrame, ClientMessage, InboundError, PlayerActionIn, parse_client_frame,
};
pub use outbound::{
    ActionRequestBody, ActionResultBody, AgentMessageOut, Ballot, Candidate, ConnectionData,
    DeathBody, DisconnectionData, ErrorBody, GameOverBody, GameStartBody, GameStateBody,
    PhaseUpdateBody, PlayerActionOut, PongBody, PresenceBody, ReasoningBody, ResultKind,
    ResultValue, ServerFrame, ServerMessage, VoteDecision, VoteResultBody, VoteTally,
};
pub use replay::{ExportedGame, ExportedPlayer, ReplayLine};
pub use rules::{
    AttackDecider, GameRules, TalkOrder, TiePolicy, Timeouts, VoteReveal, VoteTimeout,
};

/// The `client_id` the server puts on frames it originates itself (welcome aside).
pub const SERVER_CLIENT_ID: &str = "server";
