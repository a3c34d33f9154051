//! REST for games: create, join, list, inspect, start, and the agents directory.

use super::actor::{EndError, GameCommand, StartError};
use super::registry::{BotSeat, GameSummary, JoinError, SeatCredentials};
use super::spec::CreateGame;
use crate::api::{Doc, error};
use crate::state::AppState;
use crate::store::StreamId;
use aide::axum::ApiRouter;
use aide::axum::routing::{get_with, post_with};
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;
use werewolf_schemas::{GameStateBody, Phase, Winner};

/// The games routes with their docs (merged into the hub's router).
pub fn routes() -> ApiRouter<AppState> {
    ApiRouter::new()
        .api_route(
            "/games",
            post_with(create, |op| {
                op.summary("Create a game: its seats' credentials and the observer token")
                    .json::<CreatedAnswer>(201, "created, durable before the answer")
                    .error(400, "an invalid setup or body (the reason names the field)")
                    .admin()
                    .error(
                        503,
                        "the game could not be stored, or the hub holds HUB_MAX_GAMES games",
                    )
            })
            .get_with(list, |op| {
                op.summary("List the games, optionally by status")
                    .json::<Vec<GameSummary>>(200, "the games, oldest first")
                    .error(400, "an unknown status")
            }),
        )
        .api_route(
            "/games/{game_id}",
            get_with(show, |op| {
                op.summary("A game's public view and setup (a browser gets the table page)")
                    .json::<GameDetail>(
                        200,
                        "the public view plus `config`, or a retired game's record",
                    )
                    .or_text(200, "text/html")
                    .error(404, "no such game")
            })
            .delete_with(end, |op| {
                op.summary("End a game now, telling its clients why (a running game ends as `aborted`; one that never started is removed)")
                    .json::<EndAnswer>(200, "ended (durable before the answer)")
                    .error(400, "a bad query")
                    .admin()
                    .error(404, "no such game")
                    .error(409, "the game is already over")
                    .error(503, "the end could not be logged, or the game is shutting down")
            }),
        )
        .api_route(
            "/games/{game_id}/events",
            get_with(events, |op| {
                op.summary("One stream of a game as JSON lines, as sent live")
                    .text(
                        200,
                        "one frame per line (schemas/json/replay_line.schema.json)",
                        &["application/x-ndjson"],
                    )
                    .error(400, "an unknown view or a bad query")
                    .error(401, "this view of a running game needs its token")
                    .error(404, "no such game")
                    .error(500, "the read of the store failed")
                    .error(503, "the store cannot be read")
            }),
        )
        .api_route(
            "/games/{game_id}/join",
            post_with(join, |op| {
                op.summary("Claim an open seat: its credentials")
                    .json::<SeatAnswer>(200, "the seat")
                    .error(400, "a bad body or name")
                    .error(404, "no such game")
                    .error(409, "the game is full or the name is taken")
                    .error(503, "the join could not be stored")
            }),
        )
        .api_route(
            "/games/{game_id}/start",
            post_with(start, |op| {
                op.summary("Start a game now")
                    .json::<StartAnswer>(200, "started")
                    .admin()
                    .error(404, "no such game")
                    .error(
                        409,
                        "the game cannot start (started already, or seats open)",
                    )
                    .error(
                        503,
                        "the start could not be logged, or the game is shutting down",
                    )
            }),
        )
        .api_route(
            "/agents",
            get_with(agents, |op| {
                op.summary("Every claimed seat of the games in memory, with its presence")
                    .json::<Vec<AgentEntry>>(200, "the seats")
            }),
        )
}

/// Path of the `/games/{game_id}` routes.
#[derive(Debug, Deserialize, JsonSchema)]
struct GamePath {
    /// The game's id.
    game_id: String,
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
    let live = state.games.all().iter().filter(|g| !g.is_over()).count();
    if live >= state.config.hub_max_games {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "the hub holds {live} games that have not ended (HUB_MAX_GAMES = {}); retry when some have ended",
                state.config.hub_max_games
            ),
        );
    }
    match state.games.create(spec, state.links()).await {
        Ok(created) => {
            let base = public_base(&headers, &state);
            let players = created
                .players
                .into_iter()
                .map(|seat| SeatAnswer::new(seat, &base, &created.game_id))
                .collect();
            let answer = CreatedAnswer {
                game_id: created.game_id,
                players,
                bots: created.bots,
                observer_token: created.observer_token,
                seed: created.seed,
                config: created.config,
            };
            (StatusCode::CREATED, Json(answer)).into_response()
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

/// `POST /games` answer: [`super::registry::CreatedGame`] with how to connect each seat.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CreatedAnswer {
    /// The new game's id.
    pub game_id: String,
    /// Credentials of every named seat a client plays (empty when seats are claimed by
    /// joining): the free seats.
    pub players: Vec<SeatAnswer>,
    /// The seats the hub's built-in bots play.
    pub bots: Vec<BotSeat>,
    /// Token for full-view observers.
    pub observer_token: String,
    /// The seed: the same seed and the same inputs replay the same game. Keep it from the
    /// players: it deals the roles.
    pub seed: u64,
    /// The whole setup (engine config with the seed, seats, delay, auto start).
    pub config: serde_json::Value,
}

/// A seat's credentials and how to connect an agent to it (`POST /games`, `POST
/// /games/{id}/join`).
#[derive(Debug, Serialize, JsonSchema)]
pub struct SeatAnswer {
    /// The seat's player id, its token and name.
    #[serde(flatten)]
    pub credentials: SeatCredentials,
    /// The WebSocket URL an agent of this seat connects to.
    pub ws_url: String,
    /// The command lines of the repository's agents that play this seat.
    pub commands: ConnectCommands,
}

/// The command lines that connect the repository's agents to a seat.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ConnectCommands {
    /// The Python agent kit.
    pub python: String,
    /// The Rust example bot.
    pub rust: String,
}

impl SeatAnswer {
    /// The credentials with the WebSocket URL and command lines of the hub at `base`.
    fn new(credentials: SeatCredentials, base: &str, game_id: &str) -> SeatAnswer {
        let (player, token) = (&credentials.player_id, &credentials.token);
        let ws = base.replacen("http", "ws", 1);
        let args = format!("--url {base} --game {game_id} --player {player} --token {token}");
        SeatAnswer {
            ws_url: format!("{ws}/ws/{player}?client_type=agent&game_id={game_id}&token={token}"),
            commands: ConnectCommands {
                python: format!("python -m werewolf_agent {args}"),
                rust: format!("cargo run --example bot_agent -- {args}"),
            },
            credentials,
        }
    }
}

/// `POST /games/{id}/start` answer.
#[derive(Debug, Serialize, JsonSchema)]
pub struct StartAnswer {
    /// Always `true`.
    pub started: bool,
    /// The game.
    pub game_id: String,
}

/// Body of `POST /games/{id}/join`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct JoinBody {
    /// The seat's display name.
    name: String,
}

async fn join(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(GamePath { game_id }): Path<GamePath>,
    body: Result<Json<JoinBody>, JsonRejection>,
) -> Response {
    let Json(body) = match body {
        Ok(b) => b,
        Err(rejection) => return error(StatusCode::BAD_REQUEST, rejection.body_text()),
    };
    match state.games.join(&game_id, &body.name).await {
        Ok(credentials) => {
            let base = public_base(&headers, &state);
            Json(SeatAnswer::new(credentials, &base, &game_id)).into_response()
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
    Path(GamePath { game_id }): Path<GamePath>,
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
        Ok(Ok(())) => Json(StartAnswer {
            started: true,
            game_id,
        })
        .into_response(),
        Ok(Err(StartError::Refused(reason))) => error(StatusCode::CONFLICT, reason),
        Ok(Err(StartError::Store(reason))) => error(StatusCode::SERVICE_UNAVAILABLE, reason),
        Err(_) => error(StatusCode::SERVICE_UNAVAILABLE, "the game is shutting down"),
    }
}

/// Query of `DELETE /games/{id}`.
#[derive(Debug, Deserialize, JsonSchema)]
struct EndQuery {
    /// Why, as told to the game's clients in its `game_over.reason` (default: "ended by the
    /// operator"); at most 200 characters.
    reason: Option<String>,
}

/// `DELETE /games/{id}` answer.
#[derive(Debug, Serialize, JsonSchema)]
pub struct EndAnswer {
    /// The game.
    pub game_id: String,
    /// Always true.
    pub ended: bool,
    /// The reason its clients were given.
    pub reason: String,
}

async fn end(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(GamePath { game_id }): Path<GamePath>,
    query: Result<Query<EndQuery>, QueryRejection>,
) -> Response {
    if let Err(denied) = authorize(&state, &headers) {
        return *denied;
    }
    let Query(query) = match query {
        Ok(q) => q,
        Err(rejection) => return error(StatusCode::BAD_REQUEST, rejection.body_text()),
    };
    let reason = match query.reason {
        Some(r) if r.chars().count() > 200 || r.chars().any(char::is_control) => {
            return error(
                StatusCode::BAD_REQUEST,
                "reason must be at most 200 characters, without control characters",
            );
        }
        Some(r) if !r.trim().is_empty() => format!("ended by the operator: {}", r.trim()),
        _ => "ended by the operator".to_owned(),
    };
    let Some(game) = state.games.get(&game_id) else {
        return error(StatusCode::NOT_FOUND, format!("no game `{game_id}`"));
    };
    let (reply, answer) = oneshot::channel();
    let command = GameCommand::End {
        reason: reason.clone(),
        reply,
    };
    if game.commands.send(command).await.is_err() {
        return error(StatusCode::SERVICE_UNAVAILABLE, "the game is shutting down");
    }
    match answer.await {
        Ok(Ok(())) => Json(EndAnswer {
            game_id,
            ended: true,
            reason,
        })
        .into_response(),
        Ok(Err(e @ EndError::Over)) => error(StatusCode::CONFLICT, e.to_string()),
        Ok(Err(EndError::Store(reason))) => error(StatusCode::SERVICE_UNAVAILABLE, reason),
        Err(_) => error(StatusCode::SERVICE_UNAVAILABLE, "the game is shutting down"),
    }
}

/// Query of `GET /games`.
#[derive(Debug, Deserialize, JsonSchema)]
struct ListQuery {
    /// `lobby`, `running` or `finished` (finished includes games retired from memory).
    #[schemars(extend("enum" = ["lobby", "running", "finished"]))]
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
                    pending_public: [0, 0],
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

/// `GET /games/{id}`: a game in memory, or one retired to the store.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum GameDetail {
    /// A game in memory.
    Live(LiveGame),
    /// A game retired from memory: its record in the store.
    Retired(RetiredGame),
}

/// A game in memory: its public view plus its setup.
#[derive(Debug, Serialize, JsonSchema)]
pub struct LiveGame {
    /// The public view (what a table view sees; no roles while it runs).
    #[serde(flatten)]
    pub state: GameStateBody,
    /// The setup; its `seed` only once the game is over.
    pub config: serde_json::Value,
    /// The seed, once the game is over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

/// A game retired from memory, from its record in the store.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RetiredGame {
    /// The game's id.
    pub game_id: String,
    /// `ended`, or `lobby` for a game that never ended.
    pub phase: Phase,
    /// The day it ended on (0 if it never ended).
    pub day: u32,
    /// The seats.
    pub players: Vec<RetiredSeat>,
    /// Epoch seconds of creation.
    pub created_at: f64,
    /// The setup; its `seed` only once the game is over.
    pub config: serde_json::Value,
    /// Always `true`.
    pub retired: bool,
    /// Who won, once over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub winner: Option<Winner>,
    /// Epoch seconds of the end, once over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<f64>,
    /// The seed, once over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<serde_json::Value>,
}

/// A seat of a retired game.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RetiredSeat {
    /// The seat's player id.
    pub id: String,
    /// Its name, if it was claimed.
    pub name: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    Path(GamePath { game_id }): Path<GamePath>,
    headers: HeaderMap,
) -> Response {
    if crate::pages::wants_html(&headers) {
        return crate::pages::game_page();
    }
    if let Some(game) = state.games.get(&game_id) {
        let over = game.is_over();
        return Json(GameDetail::Live(LiveGame {
            state: (**game.public_state.load()).clone(),
            config: public_spec(&game.spec_json, over),
            seed: over.then_some(game.seed),
        }))
        .into_response();
    }
    let store = state.games.store.clone();
    let id = game_id.clone();
    match tokio::task::spawn_blocking(move || store.load(&id)).await {
        Ok(Ok(Some(stored))) => {
            let seed = stored.meta.spec["config"]["seed"].clone();
            let over = stored.ended.is_some();
            let ended = stored.ended;
            Json(GameDetail::Retired(RetiredGame {
                game_id,
                phase: if over { Phase::Ended } else { Phase::Lobby },
                day: ended.as_ref().map_or(0, |e| e.days),
                players: stored
                    .meta
                    .seats
                    .iter()
                    .map(|s| RetiredSeat {
                        id: s.player_id.clone(),
                        name: s.name.clone(),
                    })
                    .collect(),
                created_at: stored.meta.created_at,
                config: public_spec(&stored.meta.spec, over),
                retired: true,
                winner: ended.as_ref().map(|e| e.winner),
                ended_at: ended.as_ref().map(|e| e.ended_at),
                seed: ended.is_some().then_some(seed),
            }))
            .into_response()
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
#[derive(Debug, Deserialize, JsonSchema)]
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
    Path(GamePath { game_id }): Path<GamePath>,
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
#[derive(Debug, Serialize, JsonSchema)]
pub struct AgentEntry {
    /// The seat's player id.
    player_id: String,
    /// The seat's name.
    name: Option<String>,
    /// The game.
    game_id: String,
    /// Seat number, from 1.
    seat: usize,
    /// `online` or `offline`.
    #[schemars(extend("enum" = ["online", "offline"]))]
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
