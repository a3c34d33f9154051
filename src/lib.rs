//! werewolf-hub as a library for agent builders and tools.
//!
//! - [`client`]: a typed Rust client: create and join games over REST, connect a seat's
//!   agent, and play with a [`client::Strategy`] (a random legal bot is included).
//! - [`loadgen`]: the load generator's scenarios (relay, games, burst, connect, slow), run
//!   by `examples/loadgen.rs` and the smoke test.
//!
//! The hub itself lives in `werewolf-server`; the wire types in `werewolf-schemas`; the rules
//! in `werewolf-engine`. This crate's binary (`werewolf-hub`) runs the hub or `simulate`.

#![warn(missing_docs)]

pub mod client;
pub mod loadgen;
