//! [`ClientError`]: what can go wrong talking to a hub.

use std::time::Duration;

/// What can go wrong talking to a hub.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// HTTP transport failure.
    #[error("http: {0}")]
    Http(#[from] reqwest::Error),
    /// The hub answered an HTTP call, or refused a WebSocket upgrade, with an error status.
    #[error("hub refused ({status}): {body}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The hub's reason (a JSON `{"error": "..."}`).
        body: String,
    },
    /// WebSocket failure.
    #[error("websocket: {0}")]
    Ws(#[from] tokio_tungstenite::tungstenite::Error),
    /// The hub sent something that is not a protocol frame.
    #[error("unexpected frame: {0}")]
    Protocol(String),
    /// The socket closed before the game ended.
    #[error("closed before the game ended: {0}")]
    Closed(String),
    /// The hub closed the connection with a code that says not to come back (or, from
    /// [`next_frame`](super::next_frame), with any code).
    #[error("the hub closed the connection with {code} ({meaning}){}", reason_suffix(.reason))]
    HubClosed {
        /// The WebSocket close code (1005 when the close frame had none).
        code: u16,
        /// What the code means (the README's close-code table).
        meaning: &'static str,
        /// The close frame's reason text.
        reason: String,
    },
    /// Reconnecting failed for longer than the [`ReconnectPolicy`](super::ReconnectPolicy)
    /// allows.
    #[error("gave up reconnecting after {attempts} attempts in {elapsed:?}; last error: {last}")]
    GaveUp {
        /// Connection attempts made since the connection dropped.
        attempts: u32,
        /// Time since the connection dropped.
        elapsed: Duration,
        /// The last attempt's error.
        last: Box<ClientError>,
    },
    /// A frame larger than the hub accepts (`connection.data.max_message_bytes`); not sent.
    #[error("a frame of {size} bytes exceeds the hub's limit of {limit} bytes; not sent")]
    TooBig {
        /// The frame's size in bytes.
        size: usize,
        /// The hub's limit.
        limit: usize,
    },
}

fn reason_suffix(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(": {reason}")
    }
}
