//! The WebSocket upgrade of `/ws/{client_id}` (and `/echo`): parameters, the checks made
//! before the upgrade (client id, credentials, who may hold the id, slots), the binding to a
//! game or the lobby, and, in a cluster, the hand-off to the node running the game.

use crate::api::Doc;
use crate::close_code::CloseReason;
use crate::connection_manager::Credential;
use crate::games::Member;
use crate::socket::{self, Binding};
use crate::state::AppState;
use aide::transform::TransformOperation;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use schemars::JsonSchema;
use serde::Deserialize;
use werewolf_schemas::ClientType;

/// Longest accepted client_id, in bytes.
pub const MAX_CLIENT_ID_BYTES: usize = 128;

pub(crate) fn websocket_docs(op: TransformOperation<'_>) -> TransformOperation<'_> {
    op.summary("Open a WebSocket: lobby, a game's table or spectator view, or a seat's agent")
        .description(
            "Refusals come before the upgrade, as JSON. A seat's token may come as \
             `Authorization: Bearer` instead of `token`.",
        )
        .error(
            400,
            "not a WebSocket upgrade request, a bad client_id or an unknown client_type",
        )
        .error(401, "wrong or missing token")
        .error(
            403,
            "the client_id is not this seat's player_id, is a bot's seat, or is a seat used \
             by anyone but its agent",
        )
        .error(404, "no such game")
        .error(
            409,
            "the seat has not been joined yet, or the client_id is held by another credential",
        )
        .error(503, "shutting down, or at the connection limit")
}

/// The token a REST read presents: `?token=` when non-empty, else `Authorization: Bearer`.
pub fn presented_token(query: Option<String>, headers: &HeaderMap) -> Option<String> {
    query
        .filter(|t| !t.is_empty())
        .or_else(|| bearer(headers).map(str::to_owned))
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive, RFC 7235).
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Path of the WebSocket URL.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct WsPath {
    /// The connection's id, 1 to 128 bytes without control characters (a seat's agent: its
    /// player_id).
    client_id: String,
}

/// Query string of the WebSocket URL.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct WsParams {
    /// `agent`, `ui` (default) or `observer`.
    #[schemars(extend("enum" = ["agent", "ui", "observer"]))]
    client_type: Option<String>,
    /// Bind the connection to this game.
    game_id: Option<String>,
    /// A seat's token (agents) or the observer token (full view).
    token: Option<String>,
    /// The last `seq` of its stream the client has: resume after it.
    last_seq: Option<String>,
}

/// A refusal before the upgrade: status plus a JSON reason.
fn refuse(status: StatusCode, reason: String) -> Response {
    crate::api::error(status, reason)
}

pub(crate) async fn websocket(
    State(state): State<AppState>,
    Path(WsPath { client_id }): Path<WsPath>,
    Query(mut params): Query<WsParams>,
    peer: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if state.shutdown.is_triggered() {
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "server is shutting down".to_owned(),
        );
    }
    if let Err(why) = validate_client_id(&client_id) {
        return refuse(StatusCode::BAD_REQUEST, why);
    }
    let client_type = match params.client_type.as_deref() {
        None | Some("") => ClientType::default(),
        Some(raw) => match raw.parse::<ClientType>() {
            Ok(t) => t,
            Err(e) => return refuse(StatusCode::BAD_REQUEST, e.to_string()),
        },
    };
    if params.token.as_deref().is_none_or(str::is_empty) {
        params.token = bearer(&headers).map(str::to_owned);
    }
    // A relay from another node of the cluster: that node holds the client's socket and
    // applied the per-address limit.
    let relayed = state
        .cluster
        .as_ref()
        .is_some_and(|c| c.is_relayed(&headers));
    let peer_ip = peer.map(|p| p.0.0.ip());
    if let Some(cluster) = state.cluster.clone()
        && !relayed
        && let Some(game_id) = crate::cluster::game_of(&client_id, params.game_id.as_deref())
        && state.games.get(game_id).is_none()
    {
        use crate::cluster::forward::{Placement, moving, place};
        match place(&state, &cluster, game_id).await {
            Placement::Local => {}
            Placement::Moving => return moving(),
            Placement::Remote(owner) => {
                let ip_slot = match take_ip_slot(&state, peer_ip) {
                    Ok(s) => s,
                    Err(refusal) => return *refusal,
                };
                let Some(slot) = take_slot(&state) else {
                    return over_capacity(&state);
                };
                let request = crate::cluster::relay::RelayRequest {
                    client_id,
                    client_type,
                    query: raw_query,
                    peer: peer_ip,
                    held: Box::new((slot, ip_slot)),
                };
                let relay =
                    crate::cluster::relay::upgrade(state, cluster, &owner, ws, request, &headers);
                return relay.await;
            }
        }
    }
    let binding = match bind(&state, &client_id, client_type, &params) {
        Ok(b) => b,
        Err((status, reason)) => return refuse(status, reason),
    };
    if let Err((status, reason)) = check_identity(&state, &client_id, &binding, client_type) {
        return refuse(status, reason);
    }
    let ip_slot = match take_ip_slot(&state, peer_ip.filter(|_| !relayed)) {
        Ok(s) => s,
        Err(refusal) => return *refusal,
    };
    let Some(slot) = take_slot(&state) else {
        return over_capacity(&state);
    };
    let tracker = state.connections.clone();
    limits(ws, &state).on_upgrade(move |socket| {
        tracker.track_future(async move {
            socket::run(socket, state, client_id, client_type, binding, relayed).await;
            drop(slot);
            drop(ip_slot);
        })
    })
}

/// One of the address's `WS_MAX_CONNECTIONS_PER_IP` slots (none counted without a cap or
/// an address), or the 429 refusal.
pub(crate) fn take_ip_slot(
    state: &AppState,
    ip: Option<std::net::IpAddr>,
) -> Result<Option<crate::state::IpSlot>, Box<Response>> {
    let cap = state.config.ws_max_connections_per_ip;
    match ip {
        Some(ip) if cap > 0 => match crate::state::IpSlot::take(&state.per_ip, ip, cap) {
            Some(s) => Ok(Some(s)),
            None => Err(Box::new(refuse(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "this address holds {cap} connections (WS_MAX_CONNECTIONS_PER_IP = {cap}); close one or retry later"
                ),
            ))),
        },
        _ => Ok(None),
    }
}

/// The socket limits every upgrade gets.
fn limits(ws: WebSocketUpgrade, state: &AppState) -> WebSocketUpgrade {
    let config = &state.config;
    ws.read_buffer_size(config.ws_read_buffer)
        .write_buffer_size(config.ws_write_buffer)
        .max_message_size(config.ws_max_message_bytes)
        .max_frame_size(config.ws_max_message_bytes)
}

/// One of the `WS_MAX_CONNECTIONS` slots, held for the life of the socket.
pub(crate) fn take_slot(state: &AppState) -> Option<tokio::sync::OwnedSemaphorePermit> {
    state.ws_slots.clone().try_acquire_owned().ok()
}

pub(crate) fn over_capacity(state: &AppState) -> Response {
    refuse(
        StatusCode::SERVICE_UNAVAILABLE,
        format!(
            "the hub is at its connection limit (WS_MAX_CONNECTIONS = {}); retry later",
            state.config.ws_max_connections
        ),
    )
}

/// Who may use a `client_id`: a seat's player id only its agent (with the seat's token), and
/// an id held by a connection with a credential only a connection with the same one.
fn check_identity(
    state: &AppState,
    client_id: &str,
    binding: &Binding,
    client_type: ClientType,
) -> Result<(), (StatusCode, String)> {
    let credential = binding.admission(client_type).credential;
    if let Some((game, seat)) = state.games.seat_owner(client_id) {
        let own = Credential::Seat {
            game: game.id.clone(),
            seat,
        };
        if credential != own {
            return Err((
                StatusCode::FORBIDDEN,
                format!(
                    "`{client_id}` is a seat of game `{}`; only its agent may use it \
                     (client_type=agent&game_id={}&token=<the seat's token>)",
                    game.id, game.id
                ),
            ));
        }
    }
    match state.manager.holder_credential(client_id) {
        Some(held) if held != credential => Err((
            StatusCode::CONFLICT,
            format!(
                "client_id `{client_id}` is in use by a connection with another credential; \
                 pick another id"
            ),
        )),
        _ => Ok(()),
    }
}

/// `GET /echo` (only with `WS_ECHO`): every text or binary message comes back unchanged,
/// over the same socket stack and limits as `/ws`, so a conformance suite can judge framing,
/// UTF-8 and close handling.
pub(crate) async fn echo(
    State(state): State<AppState>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    if !state.config.ws_echo {
        return refuse(
            StatusCode::NOT_FOUND,
            "no route /echo (enable it with WS_ECHO=true)".to_owned(),
        );
    }
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => return rejection.into_response(),
    };
    if state.shutdown.is_triggered() {
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "server is shutting down".to_owned(),
        );
    }
    let Some(slot) = take_slot(&state) else {
        return over_capacity(&state);
    };
    let tracker = state.connections.clone();
    let shutdown = state.shutdown.clone();
    limits(ws, &state).on_upgrade(move |socket| {
        tracker.track_future(async move {
            echo_loop(socket, shutdown).await;
            drop(slot);
        })
    })
}

async fn echo_loop(mut socket: WebSocket, shutdown: crate::Shutdown) {
    let close = loop {
        let next = tokio::select! {
            _ = shutdown.triggered() => break Some(CloseReason::ServerShutdown),
            next = socket.recv() => next,
        };
        match next {
            Some(Ok(message @ (Message::Text(_) | Message::Binary(_)))) => {
                if socket.send(message).await.is_err() {
                    return;
                }
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            // tungstenite queued the close reply; closing below flushes it.
            Some(Ok(Message::Close(_))) | None => break None,
            Some(Err(e)) => match socket::read_error_close(&e) {
                Some(reason) => break Some(reason),
                None => return,
            },
        }
    };
    let send = async {
        match close {
            Some(reason) => {
                let frame = CloseFrame {
                    code: reason.code(),
                    reason: Utf8Bytes::from_static(reason.text()),
                };
                socket.send(Message::Close(Some(frame))).await
            }
            None => futures_util::SinkExt::close(&mut socket).await,
        }
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), send).await;
}

/// Decides what a connection is bound to, refusing bad credentials before the upgrade.
fn bind(
    state: &AppState,
    client_id: &str,
    client_type: ClientType,
    params: &WsParams,
) -> Result<Binding, (StatusCode, String)> {
    let Some(game_id) = params.game_id.as_deref().filter(|g| !g.is_empty()) else {
        return Ok(Binding::Lobby);
    };
    let game = state
        .games
        .get(game_id)
        .ok_or_else(|| (StatusCode::NOT_FOUND, format!("no game `{game_id}`")))?;
    let token = params.token.as_deref().unwrap_or("");
    let member = match client_type {
        ClientType::Agent => {
            let seats = game.seats();
            let (index, seat) = seats
                .iter()
                .enumerate()
                .find(|(_, s)| s.player_id == client_id)
                .ok_or_else(|| {
                    (
                        StatusCode::FORBIDDEN,
                        format!(
                            "`{client_id}` is not a seat of game `{game_id}`; connect as /ws/{{player_id}}"
                        ),
                    )
                })?;
            if seat.bot {
                return Err((
                    StatusCode::FORBIDDEN,
                    format!(
                        "`{client_id}` is played by the hub's built-in bot; connect to a free seat"
                    ),
                ));
            }
            if token.is_empty() || !seat.token_matches(token) {
                return Err((
                    StatusCode::UNAUTHORIZED,
                    "wrong or missing token for this seat".to_owned(),
                ));
            }
            if seat.name.is_none() {
                return Err((
                    StatusCode::CONFLICT,
                    "this seat has not been joined yet".to_owned(),
                ));
            }
            Member::Seat(index)
        }
        ClientType::Observer if !token.is_empty() => {
            if !game.observer_token_matches(token) {
                return Err((StatusCode::UNAUTHORIZED, "wrong observer token".to_owned()));
            }
            Member::Full
        }
        ClientType::Observer | ClientType::Ui => Member::Public,
    };
    let last_seq = params
        .last_seq
        .as_deref()
        .and_then(|n| n.trim().parse().ok());
    Ok(Binding::Game {
        game,
        member,
        last_seq,
    })
}

/// A client_id is 1–128 bytes without control characters.
fn validate_client_id(id: &str) -> Result<(), String> {
    if id.is_empty() || id.len() > MAX_CLIENT_ID_BYTES {
        return Err(format!(
            "client_id must be 1 to {MAX_CLIENT_ID_BYTES} bytes"
        ));
    }
    if id.chars().any(char::is_control) {
        return Err("client_id must not contain control characters".to_owned());
    }
    Ok(())
}
