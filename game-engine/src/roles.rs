//! Roles, teams and the winner of a game.

pub use werewolf_schemas::{Role, Team, Winner};
