//! HTTP routes: `/health`, `/stats` and the WebSocket upgrade at `/ws/{client_id}`.

use crate::games::Member;
use crate::socket::{self, Binding};
use crate::state::AppState;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use tower_http::cors::CorsLayer;
use tower_http::trace::TraceLayer;
use werewolf_schemas::ClientType;

/// Longest accepted client_id, in bytes.
pub const MAX_CLIENT_ID_BYTES: usize = 128;

/// The hub's router with its layers.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/stats", get(stats))
        .route("/ws/{client_id}", get(websocket))
        .merge(crate::games::rest::routes())
        .layer(TraceLayer::new_for_http())
        .layer(CorsLayer::permissive())
        .with_state(state)
}

async fn health(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(json!({
        "status": "ok",
        "uptime_s": state.started_at.elapsed().as_secs_f64(),
        "connections": state.manager.len(),
    }))
}

async fn stats(State(state): State<AppState>) -> Response {
    let mut stats = serde_json::to_value(state.manager.stats()).unwrap_or_default();
    stats["games"] = json!(state.games.len());
    stats["timeouts_by_agent"] = json!(state.games.timeouts_by_agent());
    Json(stats).into_response()
}

/// Query string of the WebSocket URL.
#[derive(Debug, Deserialize)]
struct WsParams {
    /// `agent`, `ui` (default) or `observer`.
    client_type: Option<String>,
    /// Bind the connection to this game.
    game_id: Option<String>,
    /// A seat's token (agents) or the observer token (full view).
    token: Option<String>,
}

/// A refusal before the upgrade: status plus a JSON reason.
fn refuse(status: StatusCode, reason: String) -> Response {
    (status, Json(json!({ "error": reason }))).into_response()
}

async fn websocket(
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    Query(params): Query<WsParams>,
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
    let binding = match bind(&state, &client_id, client_type, &params) {
        Ok(b) => b,
        Err((status, reason)) => return refuse(status, reason),
    };
    let config = &state.config;
    let tracker = state.connections.clone();
    ws.read_buffer_size(config.ws_read_buffer)
        .write_buffer_size(config.ws_write_buffer)
        .max_message_size(config.ws_max_message_bytes)
        .max_frame_size(config.ws_max_message_bytes)
        .on_upgrade(move |socket| {
            tracker.track_future(socket::run(socket, state, client_id, client_type, binding))
        })
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
    Ok(Binding::Game { game, member })
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
