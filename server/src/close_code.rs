//! Why the server closes a socket, and whether the client should come back.

/// Every close the server initiates. The code is what the client's close frame carries; the
/// README has the same table for client authors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseReason {
    /// 1001: the server is shutting down. Reconnect with backoff.
    ServerShutdown,
    /// 1012: service restart (cluster): this node is draining, or the node running the
    /// client's game stopped or died and another takes it over. Reconnect at once (to any
    /// node) with `last_seq`: nothing is lost.
    ServiceRestart,
    /// 1002: the client broke the WebSocket protocol (RFC 6455): reserved bits or opcodes,
    /// an unmasked frame, a fragmented or oversized control frame, a continuation without a
    /// start. Fix the client.
    ProtocolError,
    /// 1007: a text message that is not valid UTF-8. Fix the client.
    InvalidPayload,
    /// 1008: policy violation (sustained rate-limit abuse). Do not reconnect unchanged.
    PolicyViolation,
    /// 1009: a message exceeded `WS_MAX_MESSAGE_BYTES`. Do not resend it.
    MessageTooBig,
    /// 4000: a newer connection took this client_id. Do not reconnect (it would evict the
    /// other one in turn).
    Replaced,
    /// 4001: the client read too slowly and its send queue filled. Reconnect, read faster.
    SlowConsumer,
    /// 4002: nothing received for `WS_TIMEOUT` seconds. Reconnect.
    HeartbeatTimeout,
    /// 4004: between the check before the upgrade and the upgrade itself, another
    /// connection with a different credential took this client_id. Do not reconnect unchanged.
    IdTaken,
    /// 4003: the game this connection was bound to ended and was removed
    /// (`GAME_RETENTION_S` after its end). Do not reconnect to it.
    GameRemoved,
}

impl CloseReason {
    /// The WebSocket close code.
    pub fn code(self) -> u16 {
        match self {
            CloseReason::ServerShutdown => 1001,
            CloseReason::ServiceRestart => 1012,
            CloseReason::ProtocolError => 1002,
            CloseReason::InvalidPayload => 1007,
            CloseReason::PolicyViolation => 1008,
            CloseReason::MessageTooBig => 1009,
            CloseReason::Replaced => 4000,
            CloseReason::SlowConsumer => 4001,
            CloseReason::HeartbeatTimeout => 4002,
            CloseReason::GameRemoved => 4003,
            CloseReason::IdTaken => 4004,
        }
    }

    /// The close frame's reason text (short: close reasons are limited to 123 bytes).
    pub fn text(self) -> &'static str {
        match self {
            CloseReason::ServerShutdown => "server shutting down",
            CloseReason::ServiceRestart => "service restart: reconnect with last_seq",
            CloseReason::ProtocolError => "protocol error",
            CloseReason::InvalidPayload => "invalid UTF-8 in a text message",
            CloseReason::PolicyViolation => "rate limit abuse",
            CloseReason::MessageTooBig => "message too big",
            CloseReason::Replaced => "replaced by a newer connection with the same client_id",
            CloseReason::SlowConsumer => "slow consumer: send queue full",
            CloseReason::HeartbeatTimeout => "heartbeat timeout",
            CloseReason::GameRemoved => "game ended and was removed",
            CloseReason::IdTaken => "client_id held by a connection with another credential",
        }
    }

    /// Whether a well-behaved client should reconnect after this close.
    pub fn should_reconnect(self) -> bool {
        matches!(
            self,
            CloseReason::ServerShutdown
                | CloseReason::ServiceRestart
                | CloseReason::SlowConsumer
                | CloseReason::HeartbeatTimeout
        )
    }
}
