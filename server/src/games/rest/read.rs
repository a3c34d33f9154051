//! Reading games: the list, one game (live or retired), its streams as JSON lines, and the
//! agents directory.

use super::*;

/// Query of `GET /games`.
#[derive(Debug, Deserialize, JsonSchema)]
pub(super) struct ListQuery {
    /// `lobby`, `running` or `finished` (finished includes games retired from memory).
    #[schemars(extend("enum" = ["lobby", "running", "finished"]))]
    status: Option<String>,
}

pub(super) async fn list(
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
    let node = state.cluster.as_ref().map(|c| c.node_id().to_owned());
    let mut games: Vec<GameSummary> = state
        .games
        .all()
        .iter()
        .map(|g| GameSummary {
            node: node.clone(),
            ..(**g.summary.load()).clone()
        })
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
                    node: None,
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

pub(super) async fn show(
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
pub(super) fn public_spec(spec: &serde_json::Value, over: bool) -> serde_json::Value {
    let mut spec = spec.clone();
    if !over && let Some(config) = spec.get_mut("config").and_then(|c| c.as_object_mut()) {
        config.remove("seed");
    }
    spec
}

/// Query of `GET /games/{id}/events`.
#[derive(Debug, Deserialize, JsonSchema)]
pub(super) struct EventsQuery {
    /// `public` (default), `full`, `seat:{player_id}`, or `reasoning` (the players' private
    /// reasoning; only once the game is over).
    view: Option<String>,
    /// First `seq` to return (default 1).
    from_seq: Option<u64>,
    /// The observer token (full view) or the seat's token (`seat:`), while the game runs.
    token: Option<String>,
}

/// `GET /games/{id}/events`: one stream of a game as JSON lines, byte for byte as sent live.
/// While the game runs the public view is open, the full view needs the observer token (and
/// stops at what the observer delay has released), a seat's view needs that seat's token,
/// and the reasoning view is closed to every token (403); once it is over every view is
/// open.
pub(super) async fn events(
    State(state): State<AppState>,
    Path(GamePath { game_id }): Path<GamePath>,
    query: Result<Query<EventsQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let Query(query) = match query {
        Ok(q) => q,
        Err(rejection) => return error(StatusCode::BAD_REQUEST, rejection.body_text()),
    };
    let token = crate::upgrade::presented_token(query.token.clone(), &headers);
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
        "reasoning" if !over => {
            return error(
                StatusCode::FORBIDDEN,
                "the reasoning view opens when the game is over: agents' reasoning is private \
                 while the game runs, whatever token is presented",
            );
        }
        "reasoning" => (StreamId::Reasoning, u64::MAX),
        other => match other
            .strip_prefix("seat:")
            .and_then(|p| seats.iter().position(|s| s == p))
        {
            Some(i) => (StreamId::Seat(i), u64::MAX),
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "view must be public, full, reasoning or seat:{{player_id}} of this game, got `{other}`"
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

pub(super) async fn agents(State(state): State<AppState>) -> Response {
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
