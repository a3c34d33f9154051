//! [`Viewer`]: a game view (`ui`, `observer`) that reconnects by itself.

use super::reconnect::Session;
use super::{ClientError, ReconnectPolicy, ResumeStats, Socket};
use werewolf_schemas::ServerFrame;

/// A game viewer (`ui`, `observer`, full observer) that reconnects by itself with
/// `last_seq` ([`Hub::watch`](super::Hub::watch)).
#[derive(Debug)]
pub struct Viewer {
    /// The socket (replaced on every reconnect).
    pub ws: Socket,
    /// The viewer's client id.
    pub client_id: String,
    /// Reconnect and resume bookkeeping.
    pub(super) session: Session,
}

impl Viewer {
    /// The next frame new to this viewer, reconnecting when the connection drops (see
    /// [`Agent::recv`](super::Agent::recv)). After `game_over` the hub eventually closes
    /// with 4003, returned as [`ClientError::HubClosed`].
    pub async fn recv(&mut self) -> Result<(String, ServerFrame), ClientError> {
        self.session.recv(&mut self.ws).await
    }

    /// The highest `seq` received on this view's stream.
    pub fn last_seq(&self) -> Option<u64> {
        self.session.last_seq
    }

    /// What happened across reconnects.
    pub fn stats(&self) -> &ResumeStats {
        &self.session.stats
    }

    /// Changes how this viewer reconnects.
    pub fn set_reconnect(&mut self, policy: ReconnectPolicy) {
        self.session.policy = policy;
    }
}
