//! REST for games: create, join, list, inspect, start, and the agents directory.

use super::actor::GameCommand;
use super::registry::JoinError;
use super::spec::CreateGame;
use crate::state::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::oneshot;

/// The games routes (merged into the hub's router).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/games", post(create).get(list))
        .route("/games/{game_id}", get(show))
        .route("/games/{game_id}/join", post(join))
        .route("/games/{game_id}/start", post(start))
        .route("/agents", get(agents))
}

fn error(status: StatusCode, reason: impl Into<String>) -> Response {
    (status, Json(json!({ "error": reason.into() }))).into_response()
}

/// Checks `Authorization: Bearer <HUB_ADMIN_TOKEN>` when an admin token is configured.
fn authorize(state: &AppState, headers: &HeaderMap) -> Result<(), Box<Response>> {
    let Some(expected) = state.config.hub_admin_token.as_deref() else {
        return Ok(());
    };
    let presented = crate::http::bearer(headers).unwrap_or("");
    if super::secret::tokens_match(presented, expected) {
        Ok(())
    } else {
        Err(Box::new(error(
            StatusCode::UNAUTHORIZED,
            "this hub requires Authorization: Bearer <HUB_ADMIN_TOKEN>",
        )))
    }
}

async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<CreateGame>, JsonRejection>,
) -> Response {
    if let Err(denied) = authorize(&state, &headers) {
        return *denied;
    }
    let Json(body) = match body {
        Ok(b) => b,
        Err(rejection) => return error(StatusCode::BAD_REQUEST, rejection.body_text()),
    };
    let spec = match body.into_spec(state.config.max_message_chars()) {
        Ok(s) => s,
        Err(reason) => return error(StatusCode::BAD_REQUEST, reason),
    };
    let retention = std::time::Duration::from_secs(state.config.game_retention_s);
    let created = state.games.create(
        spec,
        state.manager.clone(),
        state.shutdown.clone(),
        retention,
        std::time::Duration::from_secs(state.config.game_abandon_s),
    );
    (StatusCode::CREATED, Json(created)).into_response()
}

/// Body of `POST /games/{id}/join`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JoinBody {
    /// The seat's display name.
    name: String,
}

async fn join(
    State(state): State<AppState>,
    Path(game_id): Path<String>,
    body: Result<Json<JoinBody>, JsonRejection>,
) -> Response {
    let Json(body) = match body {
        Ok(b) => b,
        Err(rejection) => return error(StatusCode::BAD_REQUEST, rejection.body_text()),
    };
    match state.games.join(&game_id, &body.name) {
        Ok((_, credentials)) => Json(json!({
            "player_id": credentials.player_id,
            "name": credentials.name,
            "token": credentials.token,
        }))
        .into_response(),
        Err(e @ JoinError::NoGame(_)) => error(StatusCode::NOT_FOUND, e.to_string()),
        Err(e @ (JoinError::Full(_) | JoinError::NameTaken(_))) => {
            error(StatusCode::CONFLICT, e.to_string())
        }
        Err(e @ JoinError::BadName(_)) => error(StatusCode::BAD_REQUEST, e.to_string()),
    }
}

async fn start(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(game_id): Path<String>,
) -> Response {
    if let Err(denied) = authorize(&state, &headers) {
        return *denied;
    }
    let Some(game) = state.games.get(&game_id) else {
        return error(StatusCode::NOT_FOUND, format!("no game `{game_id}`"));
    };
    let (reply, answer) = oneshot::channel();
    if game
        .commands
        .send(GameCommand::Start { reply })
        .await
        .is_err()
    {
        return error(StatusCode::SERVICE_UNAVAILABLE, "the game is shutting down");
    }
    match answer.await {
        Ok(Ok(())) => Json(json!({ "started": true, "game_id": game_id })).into_response(),
        Ok(Err(reason)) => error(StatusCode::CONFLICT, reason),
        Err(_) => error(StatusCode::SERVICE_UNAVAILABLE, "the game is shutting down"),
    }
}

async fn list(State(state): State<AppState>) -> Response {
    let games: Vec<_> = state
        .games
        .all()
        .iter()
        .map(|g| (**g.summary.load()).clone())
        .collect();
    Json(games).into_response()
}

async fn show(State(state): State<AppState>, Path(game_id): Path<String>) -> Response {
    match state.games.get(&game_id) {
        Some(game) => Json(&**game.public_state.load()).into_response(),
        None => error(StatusCode::NOT_FOUND, format!("no game `{game_id}`")),
    }
}

/// One entry of `GET /agents`.
#[derive(Debug, Serialize)]
struct AgentEntry {
    /// The seat's player id.
    player_id: String,
    /// The seat's name.
    name: Option<String>,
    /// The game.
    game_id: String,
    /// Seat number, from 1.
    seat: usize,
    /// `online` or `offline`.
    status: &'static str,
    /// Last connect or disconnect, epoch seconds (`null`: never connected).
    last_seen: Option<f64>,
    /// Requests that expired unanswered; `null` while the game runs (which seats time out
    /// at night would tell their roles).
    timeouts: Option<u64>,
}

async fn agents(State(state): State<AppState>) -> Response {
    let mut out = Vec::new();
    for game in state.games.all() {
        let over = game.is_over();
        for (i, seat) in game.seats().iter().enumerate() {
            if seat.name.is_none() {
                continue;
            }
            out.push(AgentEntry {
                player_id: seat.player_id.clone(),
                name: seat.name.clone(),
                game_id: game.id.to_string(),
                seat: i + 1,
                status: if seat.connected { "online" } else { "offline" },
                last_seen: seat.last_seen,
                timeouts: over.then_some(seat.timeouts),
            });
        }
    }
    Json(out).into_response()
}
