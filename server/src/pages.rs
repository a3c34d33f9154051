//! The spectator pages, served by the hub itself: the lobby at `/` and a game's table at
//! `/games/{id}` (for browsers: a request that accepts `text/html`; API clients keep getting
//! JSON there). Assets are compiled into the binary: no CDN, no build step, works offline.

use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// One embedded file.
struct Asset {
    /// Its name under `/assets/`.
    name: &'static str,
    /// Its `content-type`.
    content_type: &'static str,
    /// Its bytes.
    body: &'static str,
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../assets/app.css"),
    },
    Asset {
        name: "lobby.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../assets/lobby.js"),
    },
    Asset {
        name: "game-state.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../assets/game-state.js"),
    },
    Asset {
        name: "game-page.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../assets/game-page.js"),
    },
    Asset {
        name: "game-render.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../assets/game-render.js"),
    },
    Asset {
        name: "game-live.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../assets/game-live.js"),
    },
    Asset {
        name: "game-replay.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../assets/game-replay.js"),
    },
    Asset {
        name: "game.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../assets/game.js"),
    },
];

const LOBBY: &str = include_str!("../assets/index.html");
const GAME: &str = include_str!("../assets/game.html");

fn html(body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// `GET /`: the lobby page.
pub async fn lobby() -> Response {
    html(LOBBY)
}

/// The table page (the caller decided the request wants HTML).
pub fn game_page() -> Response {
    html(GAME)
}

/// Whether a request is a browser navigation (its `Accept` names `text/html`).
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// Path of `GET /assets/{name}`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
pub struct AssetPath {
    /// The file's name, e.g. `lobby.js`.
    name: String,
}

/// `GET /assets/{name}`.
pub async fn asset(Path(AssetPath { name }): Path<AssetPath>) -> Response {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(a) => (
            [
                (header::CONTENT_TYPE, a.content_type),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            a.body,
        )
            .into_response(),
        None => crate::api::error(StatusCode::NOT_FOUND, format!("no asset `{name}`")),
    }
}
