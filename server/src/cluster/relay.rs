//! A client's WebSocket for a game another node runs: this node opens the same WebSocket on
//! the owner (same path, query and token, plus the cluster secret and the client's address)
//! and passes frames both ways unchanged.
//!
//! The owner does everything a direct connection gets (credentials, resume by `last_seq`,
//! snapshots, rate limits, its own heartbeat on the relay): a refusal comes back as the
//! owner's status and JSON body, a close as the owner's close code. This node keeps the
//! client's heartbeat (pings, `WS_TIMEOUT`). When the owner's socket drops without a close
//! (the node died) or this node drains, the client is closed with 1012: reconnect with
//! `last_seq`, through any node.

use super::{CLIENT_IP_HEADER, Cluster, RELAY_HEADER, RelayedClient};
use crate::close_code::CloseReason;
use crate::state::AppState;
use axum::extract::ws::{self, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use std::net::IpAddr;
use std::time::Duration;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest, protocol::WebSocketConfig};
use tracing::{Instrument, debug, info, info_span};
use werewolf_schemas::ClientType;

/// How long the owner may take to answer the upgrade.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a closing socket may take to accept its close frame.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// The client as it asked: for the same request on the owner.
pub struct RelayRequest {
    /// The client id from the path.
    pub client_id: String,
    /// Its type.
    pub client_type: ClientType,
    /// The raw query string (token, game id, `last_seq`), passed on unchanged.
    pub query: Option<String>,
    /// The client's address.
    pub peer: Option<IpAddr>,
    /// This node's connection slots, held for the relay's life.
    pub held: Box<dyn Send>,
}

impl std::fmt::Debug for RelayRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayRequest")
            .field("client_id", &self.client_id)
            .field("client_type", &self.client_type)
            .field("peer", &self.peer)
            .finish_non_exhaustive()
    }
}

/// Opens the client's socket on the owner at `owner_url`; upgrades the client only once the
/// owner has accepted (its refusal is the client's refusal).
pub async fn upgrade(
    state: AppState,
    cluster: Cluster,
    owner_url: &str,
    ws: WebSocketUpgrade,
    request: RelayRequest,
    headers: &HeaderMap,
) -> Response {
    let base = owner_url.replacen("http://", "ws://", 1);
    let mut url = format!(
        "{base}/ws/{}",
        percent_encoding::utf8_percent_encode(&request.client_id, SEGMENT)
    );
    if let Some(q) = request.query.as_deref().filter(|q| !q.is_empty()) {
        url.push('?');
        url.push_str(q);
    }
    let mut upstream_request = match url.as_str().into_client_request() {
        Ok(r) => r,
        Err(e) => {
            return crate::api::error(
                StatusCode::BAD_REQUEST,
                format!("cannot relay this request: {e}"),
            );
        }
    };
    let h = upstream_request.headers_mut();
    if let Ok(v) = HeaderValue::from_str(cluster.secret()) {
        h.insert(RELAY_HEADER, v);
    }
    if let Some(ip) = request.peer
        && let Ok(v) = HeaderValue::from_str(&ip.to_string())
    {
        h.insert(CLIENT_IP_HEADER, v);
    }
    for name in [
        axum::http::header::AUTHORIZATION,
        axum::http::header::ORIGIN,
        axum::http::header::USER_AGENT,
    ] {
        if let Some(v) = headers.get(&name) {
            h.insert(name, v.clone());
        }
    }
    // The hub's own socket sizes (tungstenite's defaults would give every relayed socket a
    // 128 KiB read buffer).
    let config = WebSocketConfig::default()
        .read_buffer_size(state.config.ws_read_buffer)
        .write_buffer_size(state.config.ws_write_buffer)
        .max_message_size(Some(state.config.ws_max_message_bytes.max(1 << 20) * 4))
        .max_frame_size(Some(state.config.ws_max_message_bytes.max(1 << 20) * 4));
    let connect =
        tokio_tungstenite::connect_async_with_config(upstream_request, Some(config), true);
    let upstream = match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
        Ok(Ok((upstream, _))) => upstream,
        Ok(Err(tungstenite::Error::Http(answer))) => {
            let status =
                StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
            let body = answer.body().clone().unwrap_or_default();
            return (
                status,
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                body,
            )
                .into_response();
        }
        Ok(Err(e)) => return unreachable_owner(owner_url, &e.to_string()),
        Err(_) => return unreachable_owner(owner_url, "no answer within 5 s"),
    };
    let held = request.held;
    let guard = cluster.track_relay(RelayedClient {
        client_id: request.client_id.clone(),
        client_type: request.client_type,
        connected_at: crate::clock::now_epoch_s(),
    });
    let tracker = state.connections.clone();
    let span = info_span!(
        "relay",
        client_id = %request.client_id,
        client_type = %request.client_type,
        owner = %owner_url
    );
    let config = &state.config;
    ws.read_buffer_size(config.ws_read_buffer)
        .write_buffer_size(config.ws_write_buffer)
        .max_message_size(config.ws_max_message_bytes)
        .max_frame_size(config.ws_max_message_bytes)
        .on_upgrade(move |socket| {
            tracker.track_future(
                async move {
                    info!("relaying to the game's node");
                    let why = pump(socket, upstream, &state).await;
                    info!(reason = why, "relay ended");
                    drop(guard);
                    drop(held);
                }
                .instrument(span),
            )
        })
}

/// The owner did not answer: 503, retry shortly (its lease runs out and another node takes
/// the game over).
fn unreachable_owner(owner_url: &str, why: &str) -> Response {
    debug!(owner = owner_url, why, "game's node unreachable");
    let mut response = crate::api::error(
        StatusCode::SERVICE_UNAVAILABLE,
        "the game's node is not answering; another node takes the game over within seconds, retry"
            .to_owned(),
    );
    response.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        HeaderValue::from_static("1"),
    );
    response
}

/// Characters escaped in a path segment.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

type Upstream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Passes frames both ways until either side ends; returns why.
async fn pump(client: WebSocket, upstream: Upstream, state: &AppState) -> &'static str {
    let (mut to_client, mut from_client) = client.split();
    let (mut to_owner, mut from_owner) = upstream.split();
    let timeout = state.config.timeout();
    let period = state.config.ping_interval().min(timeout / 2);
    let mut heartbeat = tokio::time::interval_at(Instant::now() + period, period);
    heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_seen = Instant::now();
    // What the client is told at the end (`None`: it is gone or closed itself).
    let (close, why): (Option<ws::CloseFrame>, &'static str) = loop {
        tokio::select! {
            biased;
            _ = state.shutdown.triggered() => {
                break (Some(close_frame(CloseReason::ServiceRestart)), "node draining");
            }
            _ = heartbeat.tick() => {
                if last_seen.elapsed() >= timeout {
                    break (Some(close_frame(CloseReason::HeartbeatTimeout)), "heartbeat timeout");
                }
                if to_client.send(ws::Message::Ping(Default::default())).await.is_err() {
                    break (None, "connection lost");
                }
            }
            message = from_client.next() => {
                let Some(Ok(message)) = message else {
                    break (None, "connection lost");
                };
                last_seen = Instant::now();
                let forward = match message {
                    ws::Message::Text(t) => tungstenite::Message::Text(t.as_str().into()),
                    ws::Message::Binary(b) => tungstenite::Message::Binary(b),
                    ws::Message::Ping(_) | ws::Message::Pong(_) => continue,
                    ws::Message::Close(frame) => {
                        let frame = frame.map(|f| tungstenite::protocol::CloseFrame {
                            code: f.code.into(),
                            reason: f.reason.as_str().into(),
                        });
                        let _ = to_owner.send(tungstenite::Message::Close(frame)).await;
                        break (None, "closed by client");
                    }
                };
                if to_owner.send(forward).await.is_err() {
                    break (Some(close_frame(CloseReason::ServiceRestart)), "game's node lost");
                }
            }
            message = from_owner.next() => {
                let Some(Ok(message)) = message else {
                    break (Some(close_frame(CloseReason::ServiceRestart)), "game's node lost");
                };
                let forward = match message {
                    tungstenite::Message::Text(t) => ws::Message::Text(t.as_str().into()),
                    tungstenite::Message::Binary(b) => ws::Message::Binary(b),
                    tungstenite::Message::Close(frame) => {
                        let frame = match frame {
                            Some(f) => ws::CloseFrame {
                                code: f.code.into(),
                                reason: f.reason.as_str().into(),
                            },
                            // Closed without a code: the node is going away.
                            None => close_frame(CloseReason::ServiceRestart),
                        };
                        break (Some(frame), "closed by the game's node");
                    }
                    _ => continue,
                };
                if to_client.send(forward).await.is_err() {
                    break (None, "connection lost");
                }
            }
        }
    };
    if let Some(frame) = close {
        let _ = tokio::time::timeout(
            CLOSE_TIMEOUT,
            to_client.send(ws::Message::Close(Some(frame))),
        )
        .await;
    }
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, to_owner.close()).await;
    why
}

fn close_frame(reason: CloseReason) -> ws::CloseFrame {
    ws::CloseFrame {
        code: reason.code(),
        reason: reason.text().into(),
    }
}
