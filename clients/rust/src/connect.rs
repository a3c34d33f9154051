//! One connection to a hub: the socket type, reading frames without reconnecting,
//! and what a close code means.

use super::ClientError;
use futures_util::StreamExt;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use werewolf_schemas::ServerFrame;

/// The WebSocket stream type of this client.
pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Reads the next protocol frame: its raw text and its typed form. `None` once the stream
/// ended; a close frame is [`ClientError::HubClosed`]. Does not reconnect.
pub async fn next_frame(ws: &mut Socket) -> Result<Option<(String, ServerFrame)>, ClientError> {
    while let Some(message) = ws.next().await {
        match message? {
            Message::Text(text) => {
                let raw = text.as_str().to_owned();
                let frame = parse_frame(&raw)?;
                return Ok(Some((raw, frame)));
            }
            Message::Close(frame) => return Err(hub_closed(frame.as_ref())),
            _ => continue,
        }
    }
    Ok(None)
}

pub(super) fn parse_frame(raw: &str) -> Result<ServerFrame, ClientError> {
    serde_json::from_str(raw).map_err(|e| ClientError::Protocol(format!("{e}: {raw}")))
}

/// What a close code means and whether a well-behaved client comes back after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloseAdvice {
    /// The close code.
    pub code: u16,
    /// What it means.
    pub meaning: &'static str,
    /// Whether to reconnect (with backoff).
    pub reconnect: bool,
}

/// The README's close-code table, plus the RFC codes a hub or a proxy may send: 1001, 1005,
/// 1006, 1009, 1011–1014, 4001 and 4002 say reconnect; 1000, 1002, 1007, 1008, 4000, 4003,
/// 4004 and any unknown code say stop.
pub fn close_advice(code: u16) -> CloseAdvice {
    let (meaning, reconnect) = match code {
        1000 => ("normal close", false),
        1001 => ("server shutting down", true),
        1002 => ("protocol error: fix the client", false),
        1005 => ("closed without a status code", true),
        1006 => ("connection lost without a close frame", true),
        1007 => (
            "a text message that is not valid UTF-8: fix the client",
            false,
        ),
        1008 => ("policy violation: kept exceeding the rate limit", false),
        1009 => ("a message exceeded the hub's size limit", true),
        1011 => ("server error", true),
        1012 => ("service restart", true),
        1013 => ("try again later", true),
        1014 => ("bad gateway", true),
        4000 => ("replaced: a newer connection took this client_id", false),
        4001 => ("slow consumer: the send queue filled", true),
        4002 => ("heartbeat timeout", true),
        4003 => ("the game ended and was removed", false),
        4004 => (
            "client_id taken by a connection with another credential",
            false,
        ),
        _ => ("unknown close code", false),
    };
    CloseAdvice {
        code,
        meaning,
        reconnect,
    }
}

/// The typed error for a close frame.
pub(super) fn hub_closed(frame: Option<&CloseFrame>) -> ClientError {
    let code = frame.map_or(1005, |f| u16::from(f.code));
    ClientError::HubClosed {
        code,
        meaning: close_advice(code).meaning,
        reason: frame.map(|f| f.reason.to_string()).unwrap_or_default(),
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_close_code_table_matches_the_readme() {
        // 1012 (service restart): a cluster node drained or lost its game; another takes over
        for code in [1001, 1005, 1006, 1009, 1011, 1012, 1013, 1014, 4001, 4002] {
            assert!(close_advice(code).reconnect, "{code}");
        }
        for code in [1000, 1002, 1007, 1008, 4000, 4003, 4004, 4999] {
            assert!(!close_advice(code).reconnect, "{code}");
        }
        let error = hub_closed(None);
        assert!(error.to_string().contains("1005"), "{error}");
    }
}
