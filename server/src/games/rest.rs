//! REST for games: create, join, list, inspect, start, and the agents directory.

use super::actor::{GameCommand, StartError};
use super::registry::GameSummary;
use super::registry::JoinError;
use super::spec::CreateGame;
use crate::state::AppState;
use crate::store::StreamId;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::oneshot;
use werewolf_schemas::Phase;

/// The games routes (merged into the hub's router).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/games", post(create).get(list))
        .route("/games/{game_id}", get(show))
        .route("/games/{game_id}/events", get(events))
        .route("/games/{game_id}/join", post(join))
        .route("/games/{game_id}/start", post(start))
        .route("/agents", get(agents))
}

fn error(status: StatusCode, reason: impl Into<String>) -> Response {
    let reason = reason.into();
    tracing::info!(status = status.as_u16(), reason = %reason, "request refused");
    (status, Json(json!({ "error": reason }))).into_response()
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
    match state.games.create(spec, state.links()).await {
        Ok(created) => {
            let base = public_base(&headers, &state);
            let mut body = serde_json::to_value(&created).unwrap_or_default();
            if let Some(players) = body["players"].as_array_mut() {
                for seat in players {
                    add_connect_hints(seat, &base, &created.game_id);
                }
            }
            (StatusCode::CREATED, Json(body)).into_response()
        }
        Err(e) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the game could not be stored: {e}"),
        ),
    }
}

/// `http(s)://host:port` as the client reached the hub: the `Host` header (and
/// `X-Forwarded-Proto` from a TLS proxy), else the listening address.
fn public_base(headers: &HeaderMap, state: &AppState) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_graphic()))
        .map_or_else(
            || format!("{}:{}", state.config.ws_host, state.config.ws_port),
            str::to_owned,
        );
    let scheme = match headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
    {
        Some("https") => "https",
        _ => "http",
    };
    format!("{scheme}://{host}")
}

/// Adds to a seat's credentials how to connect an agent to it: the WebSocket URL and the
/// command lines of the repository's agents.
fn add_connect_hints(seat: &mut serde_json::Value, base: &str, game_id: &str) {
    let (Some(player), Some(token)) = (seat["player_id"].as_str(), seat["token"].as_str()) else {
        return;
    };
    let ws = base.replacen("http", "ws", 1);
    let args = format!("--url {base} --game {game_id} --player {player} --token {token}");
    seat["ws_url"] = json!(format!(
        "{ws}/ws/{player}?client_type=agent&game_id={game_id}&token={token}"
    ));
    seat["commands"] = json!({
        "python": format!("python -m werewolf_agent {args}"),
        "rust": format!("cargo run --example bot_agent -- {args}"),
    });
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
    headers: HeaderMap,
    Path(game_id): Path<String>,
    body: Result<Json<JoinBody>, JsonRejection>,
) -> Response {
    let Json(body) = match body {
        Ok(b) => b,
        Err(rejection) => return error(StatusCode::BAD_REQUEST, rejection.body_text()),
    };
    match state.games.join(&game_id, &body.name).await {
        Ok(credentials) => {
            let mut seat = json!({
                "player_id": credentials.player_id,
                "name": credentials.name,
                "token": credentials.token,
            });
            add_connect_hints(&mut seat, &public_base(&headers, &state), &game_id);
            Json(seat).into_response()
        }
        Err(e @ JoinError::NoGame(_)) => error(StatusCode::NOT_FOUND, e.to_string()),
        Err(e @ (JoinError::Full(_) | JoinError::NameTaken(_))) => {
            error(StatusCode::CONFLICT, e.to_string())
        }
        Err(e @ JoinError::BadName(_)) => error(StatusCode::BAD_REQUEST, e.to_string()),
        Err(e @ JoinError::Store(_)) => error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
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
        Ok(Err(StartError::Refused(reason))) => error(StatusCode::CONFLICT, reason),
        Ok(Err(StartError::Store(reason))) => error(StatusCode::SERVICE_UNAVAILABLE, reason),
        Err(_) => error(StatusCode::SERVICE_UNAVAILABLE, "the game is shutting down"),
    }
}

/// Query of `GET /games`.
#[derive(Debug, Deserialize)]
struct ListQuery {
    /// `lobby`, `running` or `finished` (finished includes games retired from memory).
    status: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let Query(query) = match query {
        Ok(q) => q,
        Err(rejection) => return error(StatusCode::BAD_REQUEST, rejection.body_text()),
    };
    let status = query.status.as_deref().filter(|s| !s.is_empty());
    if let Some(s) = status
        && !matches!(s, "lobby" | "running" | "finished")
    {
        return error(
            StatusCode::BAD_REQUEST,
            format!("status must be lobby, running or finished, got `{s}`"),
        );
    }
    let mut games: Vec<GameSummary> = state
        .games
        .all()
        .iter()
        .map(|g| (**g.summary.load()).clone())
        .collect();
    if status == Some("finished") {
        let store = state.games.store.clone();
        let rows = tokio::task::spawn_blocking(move || store.games()).await;
        if let Ok(Ok(rows)) = rows {
            for row in rows {
                let Some(ended) = row.ended else { continue };
                if games.iter().any(|g| g.game_id == row.game_id) {
                    continue;
                }
                games.push(GameSummary {
                    game_id: row.game_id,
                    phase: Phase::Ended,
                    day: ended.days,
                    players: row.players,
                    alive: 0,
                    created_at: row.created_at,
                    winner: Some(ended.winner),
                });
            }
        }
        games.sort_by(|a, b| a.created_at.total_cmp(&b.created_at));
    }
    games.retain(|g| match status {
        None => true,
        Some("lobby") => g.phase == Phase::Lobby,
        Some("finished") => g.winner.is_some(),
        Some(_) => g.phase != Phase::Lobby && g.winner.is_none(),
    });
    Json(games).into_response()
}

async fn show(
    State(state): State<AppState>,
    Path(game_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if crate::pages::wants_html(&headers) {
        return crate::pages::game_page();
    }
    if let Some(game) = state.games.get(&game_id) {
        let mut body = serde_json::to_value(&**game.public_state.load()).unwrap_or_default();
        let over = game.is_over();
        body["config"] = public_spec(&game.spec_json, over);
        if over {
            body["seed"] = json!(game.seed);
        }
        return Json(body).into_response();
    }
    let store = state.games.store.clone();
    let id = game_id.clone();
    match tokio::task::spawn_blocking(move || store.load(&id)).await {
        Ok(Ok(Some(stored))) => {
            let seed = stored.meta.spec["config"]["seed"].clone();
            let over = stored.ended.is_some();
            let mut body = json!({
                "game_id": game_id,
                "phase": if over { "ended" } else { "lobby" },
                "day": stored.ended.map_or(0, |e| e.days),
                "players": stored.meta.seats.iter().map(|s| json!({
                    "id": s.player_id, "name": s.name,
                })).collect::<Vec<_>>(),
                "created_at": stored.meta.created_at,
                "config": public_spec(&stored.meta.spec, over),
                "retired": true,
            });
            if let Some(ended) = stored.ended {
                body["winner"] = json!(ended.winner);
                body["ended_at"] = json!(ended.ended_at);
                body["seed"] = seed;
            }
            Json(body).into_response()
        }
        _ => error(StatusCode::NOT_FOUND, format!("no game `{game_id}`")),
    }
}

/// The setup as `GET /games/{id}` shows it: without the seed until the game is over (the
/// seed deals the roles).
fn public_spec(spec: &serde_json::Value, over: bool) -> serde_json::Value {
    let mut spec = spec.clone();
    if !over && let Some(config) = spec.get_mut("config").and_then(|c| c.as_object_mut()) {
        config.remove("seed");
    }
    spec
}

/// Query of `GET /games/{id}/events`.
#[derive(Debug, Deserialize)]
struct EventsQuery {
    /// `public` (default), `full` or `seat:{player_id}`.
    view: Option<String>,
    /// First `seq` to return (default 1).
    from_seq: Option<u64>,
    /// The observer token (full view) or the seat's token (`seat:`), while the game runs.
    token: Option<String>,
}

/// `GET /games/{id}/events`: one stream of a game as JSON lines, byte for byte as sent live.
/// While the game runs the public view is open, the full view needs the observer token (and
/// stops at what the observer delay has released), a seat's view needs that seat's token;
/// once it is over every view is open.
async fn events(
    State(state): State<AppState>,
    Path(game_id): Path<String>,
    query: Result<Query<EventsQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let Query(query) = match query {
        Ok(q) => q,
        Err(rejection) => return error(StatusCode::BAD_REQUEST, rejection.body_text()),
    };
    let token = query
        .token
        .clone()
        .filter(|t| !t.is_empty())
        .or_else(|| crate::http::bearer(&headers).map(str::to_owned));
    let view = query.view.as_deref().unwrap_or("public");
    let live = state.games.get(&game_id);
    let store = state.games.store.clone();
    let (seats, over, full_released) = match &live {
        Some(game) => (
            game.seats().iter().map(|s| s.player_id.clone()).collect(),
            game.is_over(),
            game.full_released
                .load(std::sync::atomic::Ordering::Relaxed),
        ),
        None => {
            let id = game_id.clone();
            match tokio::task::spawn_blocking(move || store.load(&id)).await {
                Ok(Ok(Some(stored))) => (
                    stored
                        .meta
                        .seats
                        .iter()
                        .map(|s| s.player_id.clone())
                        .collect::<Vec<String>>(),
                    stored.ended.is_some(),
                    u64::MAX,
                ),
                Ok(Err(e)) => {
                    return error(StatusCode::SERVICE_UNAVAILABLE, format!("store: {e}"));
                }
                _ => return error(StatusCode::NOT_FOUND, format!("no game `{game_id}`")),
            }
        }
    };
    let (stream, upto) = match view {
        "public" => (StreamId::Public, u64::MAX),
        "full" => (StreamId::Full, if over { u64::MAX } else { full_released }),
        other => match other
            .strip_prefix("seat:")
            .and_then(|p| seats.iter().position(|s| s == p))
        {
            Some(i) => (StreamId::Seat(i), u64::MAX),
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "view must be public, full or seat:{{player_id}} of this game, got `{other}`"
                    ),
                );
            }
        },
    };
    if !over {
        let allowed = match (stream, &live, token.as_deref()) {
            (StreamId::Public, _, _) => true,
            (StreamId::Full, Some(game), Some(t)) => game.observer_token_matches(t),
            (StreamId::Seat(i), Some(game), Some(t)) => {
                game.seats().get(i).is_some_and(|s| s.token_matches(t))
            }
            _ => false,
        };
        if !allowed {
            return error(
                StatusCode::UNAUTHORIZED,
                "this view of a running game needs its token (the observer token for `full`, the seat's for `seat:`)",
            );
        }
    }
    let after = query.from_seq.unwrap_or(1).saturating_sub(1);
    let store = state.games.store.clone();
    let id = game_id.clone();
    match tokio::task::spawn_blocking(move || store.frames(&id, stream, after, upto)).await {
        Ok(Ok(frames)) => {
            let mut body = String::with_capacity(frames.iter().map(|f| f.len() + 1).sum());
            for frame in frames {
                body.push_str(&frame);
                body.push('\n');
            }
            ([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response()
        }
        Ok(Err(e)) => error(StatusCode::SERVICE_UNAVAILABLE, format!("store: {e}")),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
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
    /// Played by the hub's built-in bot.
    bot: bool,
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
                bot: seat.bot,
            });
        }
    }
    Json(out).into_response()
}
