//! HTTP routes: `/health`, `/stats` and the WebSocket upgrade at `/ws/{client_id}`.

use crate::api::Doc;
use crate::close_code::CloseReason;
use crate::connection_manager::Credential;
use crate::games::Member;
use crate::socket::{self, Binding};
use crate::state::AppState;
use aide::axum::ApiRouter;
use aide::axum::routing::get_with;
use aide::transform::TransformOperation;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderMap, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tower_http::cors::CorsLayer;
use tower_http::trace::TraceLayer;
use werewolf_schemas::ClientType;

/// Longest accepted client_id, in bytes.
pub const MAX_CLIENT_ID_BYTES: usize = 128;

/// The hub's router with its layers.
pub fn router(state: AppState) -> Router {
    let mut api = aide::openapi::OpenApi::default();
    api_routes()
        .finish_api(&mut api)
        .fallback(crate::api::not_found)
        // In a cluster, requests about a game another node runs go there.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::cluster::forward::route,
        ))
        .layer(axum::middleware::map_response(crate::api::json_errors))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            count_responses,
        ))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(CorsLayer::permissive())
        .with_state(state)
}

/// Every route of the hub with its OpenAPI docs: the router serves them and
/// [`crate::api::document`] describes them (one list, so the two cannot drift).
pub fn api_routes() -> ApiRouter<AppState> {
    ApiRouter::new()
        .api_route(
            "/health",
            get_with(health, |op| {
                op.summary("Liveness: status, uptime and live connections")
                    .json::<Health>(200, "the hub is up")
            }),
        )
        .api_route(
            "/stats",
            get_with(stats, |op| {
                op.summary("Connections by type, lifetime counters, games and timeouts")
                    .json::<StatsAnswer>(200, "the hub's counters")
            }),
        )
        .api_route(
            "/metrics",
            get_with(metrics, |op| {
                op.summary(
                    "Prometheus metrics (text format; hidden-side figures once their game ended)",
                )
                .text(200, "the metrics", &["text/plain"])
            }),
        )
        .api_route("/ws/{client_id}", get_with(websocket, websocket_docs))
        .api_route(
            "/echo",
            get_with(echo, |op| {
                op.summary("WebSocket echo for conformance suites (only with WS_ECHO=true)")
                    .error(400, "not a WebSocket upgrade request")
                    .error(404, "WS_ECHO is off")
                    .error(
                        429,
                        "this address holds WS_MAX_CONNECTIONS_PER_IP connections already",
                    )
                    .error(503, "shutting down, or at the connection limit")
            }),
        )
        .api_route(
            "/",
            get_with(crate::pages::lobby, |op| {
                op.summary("The lobby page (HTML)")
                    .text(200, "the page", &["text/html"])
            }),
        )
        .api_route(
            "/assets/{name}",
            get_with(crate::pages::asset, |op| {
                op.summary("A script or stylesheet of the pages")
                    .text(200, "the file", &["text/css", "text/javascript"])
                    .error(404, "no such asset")
            }),
        )
        .api_route(
            "/schemas",
            get_with(crate::schema_files::index, |op| {
                op.summary("The list of the wire's JSON Schema files")
                    .json::<crate::schema_files::SchemaIndex>(200, "every file")
            }),
        )
        .api_route(
            "/schemas/{*file}",
            get_with(crate::schema_files::file, |op| {
                op.summary("One JSON Schema of the wire, e.g. answers/vote.schema.json")
                    .document(200, "the schema", "application/schema+json")
                    .error(404, "no such schema")
            }),
        )
        .api_route(
            "/openapi.json",
            get_with(crate::api::openapi_json, |op| {
                op.summary("This OpenAPI 3.1 document")
                    .json::<serde_json::Value>(
                        200,
                        "the document (committed as schemas/openapi.json)",
                    )
            }),
        )
        .api_route(
            "/api",
            get_with(crate::api::index, |op| {
                op.summary("Every endpoint, one line each")
                    .json::<crate::api::ApiIndex>(200, "the index")
            }),
        )
        .merge(crate::games::rest::routes())
}

/// Counts every HTTP answer by route kind and status for `/metrics` (a WebSocket upgrade:
/// 101 accepted, anything else refused).
async fn count_responses(
    State(state): State<AppState>,
    request: Request<axum::body::Body>,
    next: axum::middleware::Next,
) -> Response {
    let route = if request.uri().path().starts_with("/ws/") {
        "ws"
    } else {
        "rest"
    };
    let response = next.run(request).await;
    state.metrics.response(route, response.status().as_u16());
    response
}

/// `GET /metrics`.
async fn metrics(State(state): State<AppState>) -> Response {
    let text = state.metrics.render(&state);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// `GET /health`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Health {
    /// Always `ok`.
    pub status: &'static str,
    /// Seconds since the hub started.
    pub uptime_s: f64,
    /// Live WebSocket connections.
    pub connections: usize,
}

async fn health(State(state): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok",
        uptime_s: state.started_at.elapsed().as_secs_f64(),
        connections: state.manager.len(),
    })
}

/// `GET /stats`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct StatsAnswer {
    /// The connections and counters.
    #[serde(flatten)]
    pub stats: crate::connection_manager::Stats,
    /// Games in memory.
    pub games: usize,
    /// Requests that expired unanswered, by player id, for the seats of ended games.
    pub timeouts_by_agent: std::collections::HashMap<String, u64>,
    /// In a cluster (`HUB_REDIS_URL`): every node and the totals. The fields above are this
    /// node's: the clients whose socket it holds (relayed to another node or not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterStats>,
}

/// `/stats.cluster`: the cluster as of the nodes' last beats (within a second or so).
#[derive(Debug, Serialize, JsonSchema)]
pub struct ClusterStats {
    /// This node's id.
    pub node_id: String,
    /// Live nodes.
    pub nodes: Vec<crate::cluster::NodeRecord>,
    /// Clients connected to any node.
    pub total_clients: usize,
    /// The same, per client type.
    pub by_type: std::collections::BTreeMap<String, usize>,
    /// Games in memory on any node (running, or ended within the retention).
    pub games: usize,
}

async fn stats(State(state): State<AppState>) -> Json<StatsAnswer> {
    let mut stats = state.manager.stats();
    let cluster = state.cluster.as_ref().map(|cluster| {
        // This node's own clients include the ones it relays to another node.
        for relayed in cluster.relayed() {
            stats.total_clients += 1;
            *stats
                .by_type
                .entry(relayed.client_type.as_str())
                .or_default() += 1;
            stats.clients.push(crate::connection_manager::ClientStats {
                client_id: relayed.client_id,
                client_type: relayed.client_type,
                connected_at: relayed.connected_at,
            });
        }
        stats
            .clients
            .sort_by(|a, b| a.connected_at.total_cmp(&b.connected_at));
        let nodes = cluster.nodes();
        let mut by_type = std::collections::BTreeMap::new();
        for node in nodes.iter() {
            for (t, n) in &node.by_type {
                *by_type.entry(t.clone()).or_default() += n;
            }
        }
        ClusterStats {
            node_id: cluster.node_id().to_owned(),
            total_clients: nodes.iter().map(|n| n.clients).sum(),
            games: nodes.iter().map(|n| n.games).sum(),
            by_type,
            nodes: nodes.to_vec(),
        }
    });
    Json(StatsAnswer {
        stats,
        games: state.games.len(),
        timeouts_by_agent: state.games.timeouts_by_agent(),
        cluster,
    })
}

fn websocket_docs(op: TransformOperation<'_>) -> TransformOperation<'_> {
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

/// The span of one HTTP request, with its URI's `token` redacted: seat and observer tokens
/// ride in the query of browser upgrades and must never reach a log.
fn request_span<B>(request: &Request<B>) -> tracing::Span {
    tracing::debug_span!(
        "request",
        method = %request.method(),
        uri = %redact_uri(request.uri()),
        version = ?request.version(),
    )
}

/// The URI with the value of every `token` query parameter replaced by `REDACTED`.
pub fn redact_uri(uri: &axum::http::Uri) -> String {
    let Some(query) = uri.query() else {
        return uri.to_string();
    };
    let redacted: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if key.eq_ignore_ascii_case("token") => format!("{key}=REDACTED"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{}?{}", uri.path(), redacted.join("&"))
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
struct WsPath {
    /// The connection's id, 1 to 128 bytes without control characters (a seat's agent: its
    /// player_id).
    client_id: String,
}

/// Query string of the WebSocket URL.
#[derive(Debug, Deserialize, JsonSchema)]
struct WsParams {
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

async fn websocket(
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
fn take_ip_slot(
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
fn take_slot(state: &AppState) -> Option<tokio::sync::OwnedSemaphorePermit> {
    state.ws_slots.clone().try_acquire_owned().ok()
}

fn over_capacity(state: &AppState) -> Response {
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
async fn echo(
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
