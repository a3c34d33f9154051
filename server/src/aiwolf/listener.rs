//! `AIWOLF_PORT`: a second listener on the hub's host serving only the AIWolf endpoint
//! `GET /ws` (every other path: 404), for agents whose configuration cannot change the port.
//! It shares the hub's state, slots and limits, and starts and stops with the hub (the same
//! accept loop and graceful shutdown as the main listener).

use crate::state::AppState;
use axum::Router;
use axum::routing::get;
use tower_http::cors::CorsLayer;
use tower_http::trace::TraceLayer;

/// The router of the AIWolf-only port.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/ws", get(super::upgrade))
        .fallback(crate::api::not_found)
        .layer(axum::middleware::map_response(crate::api::json_errors))
        .layer(TraceLayer::new_for_http().make_span_with(crate::http::request_span))
        .layer(CorsLayer::permissive())
        .with_state(state)
}
