//! Creating, joining, starting and ending games.

use super::*;

pub(super) async fn create(
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
pub(super) fn public_base(headers: &HeaderMap, state: &AppState) -> String {
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
pub(super) struct JoinBody {
    /// The seat's display name.
    name: String,
}

pub(super) async fn join(
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

pub(super) async fn start(
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
pub(super) struct EndQuery {
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

pub(super) async fn end(
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
