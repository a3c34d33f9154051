//! REST across the cluster: a request about a game another node runs is forwarded to that
//! node (method, path, query, body, credentials) and its answer returned as is; the lists
//! (`GET /games`, `GET /agents`) are merged from every node. A game whose node died (its
//! lease free) is taken over by this node on the spot.

use super::{CLIENT_IP_HEADER, Cluster, Location, RELAY_HEADER};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::time::Duration;

/// Largest request body forwarded.
const MAX_BODY: usize = 1 << 20;

/// The middleware: requests from peers and requests about local games run here; the rest
/// go where their game runs.
pub async fn route(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(cluster) = state.cluster.clone() else {
        return next.run(request).await;
    };
    if cluster.is_relayed(request.headers()) {
        return next.run(request).await;
    }
    let path = request.uri().path().to_owned();
    if request.method() == Method::GET && (path == "/games" || path == "/agents") {
        let query = request.uri().query().map(str::to_owned);
        let local = next.run(request).await;
        return merge(&cluster, local, &path, query.as_deref()).await;
    }
    let Some(game_id) = path
        .strip_prefix("/games/")
        .map(|rest| rest.split('/').next().unwrap_or(rest))
        .filter(|g| !g.is_empty())
    else {
        return next.run(request).await;
    };
    if state.games.get(game_id).is_some() {
        return next.run(request).await;
    }
    match place(&state, &cluster, game_id).await {
        Placement::Remote(owner) => forward(&cluster, &owner, request).await,
        Placement::Local => next.run(request).await,
        Placement::Moving => moving(),
    }
}

/// Where to serve a request about a game this node does not have in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// Another node runs it: its base URL.
    Remote(String),
    /// Here: the game has just been taken over here, or is unknown or only in the store
    /// (the local handlers answer).
    Local,
    /// Between nodes: its node died and its lease has not run out yet, or it is being
    /// rebuilt here. Answer 503, retry shortly.
    Moving,
}

/// Where a game this node does not have in memory is to be served. A free running game is
/// taken over now.
pub async fn place(state: &AppState, cluster: &Cluster, game_id: &str) -> Placement {
    let mut adopted = false;
    loop {
        match cluster.locate(game_id).await {
            Ok(Location::Remote(url)) => return Placement::Remote(url),
            // Free after trying to take it over: nothing to take (unknown, or over).
            Ok(Location::Free) if adopted => return Placement::Local,
            Ok(Location::Free) => {
                state.games.adopt(game_id, state.links()).await;
                if state.games.get(game_id).is_some() {
                    return Placement::Local;
                }
                // Another claim won (this node's orphan scan, or another node): look again.
                adopted = true;
            }
            Ok(Location::Here) => {
                // Claimed here (by the orphan scan), still being rebuilt from the log.
                for _ in 0..100 {
                    if state.games.get(game_id).is_some() {
                        return Placement::Local;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                return Placement::Moving;
            }
            Ok(Location::Gone) => return Placement::Moving,
            Err(e) => {
                tracing::warn!(game_id, error = %e, "cannot tell where the game runs");
                return Placement::Moving;
            }
        }
    }
}

/// 503 with `Retry-After: 1`: the game is between nodes.
pub fn moving() -> Response {
    let mut response = crate::api::error(
        StatusCode::SERVICE_UNAVAILABLE,
        "the game's node is gone and another node is taking the game over; retry in a second"
            .to_owned(),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// Sends `request` to the node at `owner` and returns its answer.
async fn forward(cluster: &Cluster, owner: &str, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        return crate::api::error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request bodies are limited to {MAX_BODY} bytes"),
        );
    };
    let target = format!(
        "{owner}{}",
        parts
            .uri
            .path_and_query()
            .map_or(parts.uri.path(), |p| p.as_str())
    );
    let Ok(method) = reqwest::Method::from_bytes(parts.method.as_str().as_bytes()) else {
        return crate::api::error(StatusCode::METHOD_NOT_ALLOWED, "unknown method".to_owned());
    };
    let mut outgoing = cluster
        .http()
        .request(method, &target)
        .header(RELAY_HEADER, cluster.secret())
        .body(body);
    for (name, value) in &parts.headers {
        if is_end_to_end(name.as_str()) {
            outgoing = outgoing.header(name.as_str(), value.as_bytes());
        }
    }
    if let Some(ip) = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
    {
        outgoing = outgoing.header(CLIENT_IP_HEADER, ip.0.ip().to_string());
    }
    match outgoing.send().await {
        Ok(answer) => {
            let status =
                StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
            let mut response = Response::builder().status(status);
            for (name, value) in answer.headers() {
                if is_end_to_end(name.as_str()) {
                    response = response.header(name.as_str(), value.as_bytes());
                }
            }
            let bytes = answer.bytes().await.unwrap_or_default();
            response
                .body(Body::from(bytes))
                .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response())
        }
        Err(e) => {
            tracing::debug!(owner, error = %e, "game's node unreachable");
            let mut response = crate::api::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the game's node is not answering; another node takes the game over within \
                 seconds, retry"
                    .to_owned(),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
    }
}

/// Headers that travel with a forwarded request or answer (not the hop-by-hop ones).
fn is_end_to_end(name: &str) -> bool {
    !matches!(
        name,
        "host"
            | "connection"
            | "keep-alive"
            | "transfer-encoding"
            | "te"
            | "trailer"
            | "upgrade"
            | "content-length"
            | "proxy-authorization"
            | "proxy-authenticate"
            | RELAY_HEADER
            | CLIENT_IP_HEADER
    )
}

/// A list from this node and every peer, as one JSON array (games once each, oldest first).
async fn merge(cluster: &Cluster, local: Response, path: &str, query: Option<&str>) -> Response {
    if !local.status().is_success() {
        return local;
    }
    let Ok(bytes) = axum::body::to_bytes(local.into_body(), usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let mut items: Vec<Value> = serde_json::from_slice(&bytes).unwrap_or_default();
    let asks = cluster.peer_urls().into_iter().map(|url| {
        let target = match query {
            Some(q) => format!("{url}{path}?{q}"),
            None => format!("{url}{path}"),
        };
        let request = cluster
            .http()
            .get(target)
            .header(RELAY_HEADER, cluster.secret())
            .timeout(Duration::from_secs(3));
        async move {
            let answer = request.send().await.ok()?;
            answer.json::<Vec<Value>>().await.ok()
        }
    });
    for list in futures_util::future::join_all(asks)
        .await
        .into_iter()
        .flatten()
    {
        items.extend(list);
    }
    if path == "/games" {
        // A finished game is listed from the store by every node, a running one by its
        // owner: keep one entry per game, a live one first.
        let mut seen = std::collections::HashSet::new();
        items.retain(|g| {
            g.get("game_id")
                .and_then(Value::as_str)
                .is_none_or(|id| seen.insert(id.to_owned()))
        });
        items.sort_by(|a, b| {
            let at = |v: &Value| v.get("created_at").and_then(Value::as_f64).unwrap_or(0.0);
            at(a).total_cmp(&at(b))
        });
    }
    axum::Json(items).into_response()
}
