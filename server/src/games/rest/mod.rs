//! REST for games: the routes and their OpenAPI docs, and the admin check. The handlers:
//! [`lifecycle`] (create, join, start, end) and [`read`] (list, inspect, replay, agents).

mod lifecycle;
mod read;

pub use lifecycle::{ConnectCommands, CreatedAnswer, EndAnswer, SeatAnswer, StartAnswer};
use lifecycle::{create, end, join, start};
pub use read::{AgentEntry, GameDetail, LiveGame, RetiredGame, RetiredSeat};
use read::{agents, events, list, show};

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
                    .error(
                        403,
                        "the reasoning view of a game that is not over (any token)",
                    )
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
    let presented = crate::upgrade::bearer(headers).unwrap_or("");
    if super::secret::tokens_match(presented, expected) {
        Ok(())
    } else {
        Err(Box::new(error(
            StatusCode::UNAUTHORIZED,
            "this hub requires Authorization: Bearer <HUB_ADMIN_TOKEN>",
        )))
    }
}
