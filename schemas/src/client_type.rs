//! The three kinds of client a socket can belong to.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a connected client is, chosen by `?client_type=` on the WebSocket URL.
///
/// It decides what the client may send and which broadcasts reach it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClientType {
    /// A player: an LLM or bot that sends `agent_message` and `player_action`.
    Agent,
    /// A public table view; receives public events only. The default.
    #[default]
    Ui,
    /// A spectator page; receives what a ui does (more once it holds an observer token).
    Observer,
}

impl ClientType {
    /// Every client type, in a fixed order (used for `/stats` and error texts).
    pub const ALL: [ClientType; 3] = [ClientType::Ui, ClientType::Agent, ClientType::Observer];

    /// The wire name (`"agent"`, `"ui"`, `"observer"`).
    pub fn as_str(self) -> &'static str {
        match self {
            ClientType::Agent => "agent",
            ClientType::Ui => "ui",
            ClientType::Observer => "observer",
        }
    }
}

impl fmt::Display for ClientType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `client_type` that is not one of `agent`, `ui`, `observer`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown client_type `{0}`; expected one of: agent, ui, observer")]
pub struct UnknownClientType(pub String);

impl FromStr for ClientType {
    type Err = UnknownClientType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "agent" => Ok(ClientType::Agent),
            "ui" => Ok(ClientType::Ui),
            "observer" => Ok(ClientType::Observer),
            other => Err(UnknownClientType(other.to_owned())),
        }
    }
}
