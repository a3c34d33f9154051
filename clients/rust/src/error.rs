//! [`ClientError`]: what can go wrong talking to a hub.

use std::time::Duration;

/// What can go wrong talking to a hub.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// HTTP transport failure.
    #[error("http: {0}")]
    Http(#[from] reqwest::Error),
    /// The hub answered an HTTP call, or refused a WebSocket upgrade, with an error status.
    /// Shown on one line: `hub refused (403 Forbidden): <the hub's reason>`.
    #[error("hub refused ({}): {reason}", status_line(*.status))]
    Refused {
        /// HTTP status.
        status: u16,
        /// The hub's reason: the `error` field of its JSON body, else the body's text, else
        /// the status text; always one line.
        reason: String,
    },
    /// A hub URL this client cannot use.
    #[error("bad hub URL `{url}`: {reason}")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// TLS setup failed (an unreadable root certificate, a client that cannot be built).
    #[error("tls: {0}")]
    Tls(String),
    /// WebSocket failure (a refused upgrade is [`ClientError::Refused`] instead).
    #[error("websocket: {0}")]
    Ws(tokio_tungstenite::tungstenite::Error),
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

impl From<tokio_tungstenite::tungstenite::Error> for ClientError {
    /// A handshake the hub answered with an HTTP status becomes [`ClientError::Refused`].
    fn from(error: tokio_tungstenite::tungstenite::Error) -> Self {
        match error {
            tokio_tungstenite::tungstenite::Error::Http(response) => ClientError::refused(
                response.status().as_u16(),
                response.body().as_deref().unwrap_or_default(),
            ),
            other => ClientError::Ws(other),
        }
    }
}

impl ClientError {
    /// The refusal for an HTTP `status` with `body`: its reason is the JSON body's `error`
    /// field, else the trimmed body text, else the status text, on one line.
    pub fn refused(status: u16, body: &[u8]) -> ClientError {
        ClientError::Refused {
            status,
            reason: refusal_reason(status, body),
        }
    }
}

/// Longest reason kept from a body that is not the hub's JSON (an HTML error page).
const MAX_REASON_CHARS: usize = 300;

fn refusal_reason(status: u16, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let from_json = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned));
    let reason = one_line(from_json.as_deref().unwrap_or(&text));
    if !reason.is_empty() {
        return if reason.chars().count() > MAX_REASON_CHARS {
            let cut: String = reason.chars().take(MAX_REASON_CHARS).collect();
            format!("{cut}…")
        } else {
            reason
        };
    }
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("no reason given")
        .to_owned()
}

/// Whitespace runs (newlines included) folded into single spaces, trimmed.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `403 Forbidden`, or the bare number for a status without a standard text.
fn status_line(status: u16) -> String {
    match reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
    {
        Some(text) => format!("{status} {text}"),
        None => status.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_is_one_line_with_status_and_reason() {
        let cases: [(u16, &[u8], &str); 6] = [
            (
                403,
                br#"{"error":"client_id is not this seat"}"#,
                "hub refused (403 Forbidden): client_id is not this seat",
            ),
            (
                404,
                b"  no such\n game \n",
                "hub refused (404 Not Found): no such game",
            ),
            (401, b"", "hub refused (401 Unauthorized): Unauthorized"),
            (
                409,
                br#"{"error":"line one\nline two"}"#,
                "hub refused (409 Conflict): line one line two",
            ),
            (
                502,
                b"<html>\n<body>Bad gateway</body>\n</html>",
                "hub refused (502 Bad Gateway): <html> <body>Bad gateway</body> </html>",
            ),
            (599, br#"{"other":1}"#, r#"hub refused (599): {"other":1}"#),
        ];
        for (status, body, want) in cases {
            let shown = ClientError::refused(status, body).to_string();
            assert_eq!(shown, want);
            assert!(!shown.contains('\n'));
        }
        let long = ClientError::refused(500, "x".repeat(5000).as_bytes()).to_string();
        assert!(long.chars().count() < 400, "{long}");
    }
}
