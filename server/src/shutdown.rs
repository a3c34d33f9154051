//! Graceful shutdown as a small explicit type.

use tokio_util::sync::CancellationToken;

/// A cloneable trigger-once signal: the process or a test triggers it, and the listener and
/// every connection observe it.
#[derive(Debug, Clone, Default)]
pub struct Shutdown {
    /// Cancelled once shutdown starts; never reset.
    token: CancellationToken,
}

impl Shutdown {
    /// A signal not yet triggered.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts shutdown (idempotent).
    pub fn trigger(&self) {
        self.token.cancel();
    }

    /// Whether shutdown has started.
    pub fn is_triggered(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Resolves once shutdown has started.
    pub async fn triggered(&self) {
        self.token.cancelled().await
    }
}

/// SIGINT/SIGTERM handlers, installed up front so a signal that arrives right after the hub
/// says it is listening is never handled by the default action (immediate death).
#[derive(Debug)]
pub struct OsSignals {
    /// SIGTERM stream (Unix only).
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    /// SIGINT stream (Unix only; elsewhere `ctrl_c` is used).
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl OsSignals {
    /// Installs the handlers. Must run inside a Tokio runtime.
    pub fn install() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(OsSignals {
                term: signal(SignalKind::terminate())?,
                int: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        Ok(OsSignals {})
    }

    /// Resolves on the first SIGINT (Ctrl-C) or SIGTERM.
    pub async fn recv(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.term.recv() => {},
            _ = self.int.recv() => {},
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
