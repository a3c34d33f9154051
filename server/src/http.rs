//! HTTP routes and their layers: `/health`, `/stats`, `/metrics`; the WebSocket upgrade
//! is in [`crate::upgrade`].

use crate::api::Doc;
use crate::state::AppState;
use aide::axum::ApiRouter;
use aide::axum::routing::get_with;
use axum::extract::State;
use axum::http::{Request, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use schemars::JsonSchema;
use serde::Serialize;
use tower_http::cors::CorsLayer;
use tower_http::trace::TraceLayer;

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
        .api_route(
            "/ws",
            get_with(crate::aiwolf::upgrade, |op| {
                op.summary("AIWolf NLP protocol (aiwolf-nlp-server compatible): NAME handshake, self-match, packets")
                    .description(
                        "A WebSocket for agents written for aiwolfdial/aiwolf-nlp-server: the hub \
                         asks {\"request\":\"NAME\"}, seats a team's AIWOLF_PLAYERS waiting agents \
                         in an aiwolf5/aiwolf13 game and speaks AIWolf packets on their seats.",
                    )
                    .error(400, "not a WebSocket upgrade request")
                    .error(
                        401,
                        "AIWOLF_SECRET_KEY is set and the token (?token= or Authorization: Bearer) \
                         is missing, invalid, expired or not a PLAYER token (a token of another \
                         team: close 1008 after NAME)",
                    )
                    .error(
                        429,
                        "this address holds WS_MAX_CONNECTIONS_PER_IP connections already",
                    )
                    .error(503, "shutting down, or at the connection limit")
            }),
        )
        .api_route(
            "/games/{game_id}/aiwolf/game.log",
            get_with(crate::aiwolf::game_log::route, crate::aiwolf::game_log::docs),
        )
        .api_route(
            "/ws/{client_id}",
            get_with(crate::upgrade::websocket, crate::upgrade::websocket_docs),
        )
        .api_route(
            "/echo",
            get_with(crate::upgrade::echo, |op| {
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
        // This node's record as of now (the others' as of their last beat).
        let mine = cluster.record(&state.manager, state.games.len());
        let mut nodes: Vec<crate::cluster::NodeRecord> = cluster
            .nodes()
            .iter()
            .filter(|n| n.node_id != mine.node_id)
            .cloned()
            .collect();
        nodes.push(mine);
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
            nodes,
        }
    });
    Json(StatsAnswer {
        stats,
        games: state.games.len(),
        timeouts_by_agent: state.games.timeouts_by_agent(),
        cluster,
    })
}

/// The span of one HTTP request, with its URI's `token` redacted: seat and observer tokens
/// ride in the query of browser upgrades and must never reach a log.
pub fn request_span<B>(request: &Request<B>) -> tracing::Span {
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
