//! Games over the hub: lobby and seats, one actor task per game, REST.
//!
//! - [`spec`]: `POST /games` bodies → a validated engine config.
//! - [`registry`]: every game, its seats and credentials (tokens).
//! - [`actor`]: the per-game task: engine, deadlines, streams, delivery by entitlement.
//! - [`wire`]: engine events → wire messages (pure).
//! - [`rest`]: the HTTP routes.
//! - [`secret`]: tokens and constant-time comparison.
//! - [`stamped`]: one serialization of a message shared by streams with their own `seq`.

pub mod actor;
pub mod registry;
pub mod rest;
pub mod secret;
pub mod spec;
pub mod stamped;
pub mod wire;

pub use actor::{GameCommand, Member};
pub use registry::{GameRegistry, GameShared};
