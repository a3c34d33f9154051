//! Identifiers: seats and request ids.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A player's seat: the 0-based index of the player in the game.
///
/// The engine knows players only by seat; the server maps seats to its own player ids and names.
/// A seat is valid for a game when `seat.index() < game.player_count()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Seat(pub u8);

impl Seat {
    /// The seat as a `usize` index into per-player vectors.
    #[must_use]
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

impl fmt::Display for Seat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "seat {}", self.0)
    }
}

/// Identifies one request the engine awaits (see [`crate::Request`]).
///
/// Request ids are unique within one game and strictly increasing in the order the requests are
/// issued, starting at 1. They are *not* unique across games: the server scopes them by game.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RequestId(pub u64);

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "request {}", self.0)
    }
}
