//! `GET /schemas` and `GET /schemas/{file}`: the wire's JSON Schemas for tooling, generated
//! from the schemas crate (the same text as the files committed under `schemas/json/`).

use axum::Json;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::sync::LazyLock;

/// Every schema file, by its path under `schemas/json/`, generated once.
static FILES: LazyLock<Vec<(String, String)>> = LazyLock::new(werewolf_schemas::schema::all);

/// `GET /schemas`: the list of files.
pub async fn index() -> Response {
    let files: Vec<String> = FILES
        .iter()
        .map(|(name, _)| format!("/schemas/{name}"))
        .collect();
    Json(json!({
        "schemas": files,
        "note": "every action_request also carries `response_schema`, the answers/*.schema.json of its kind narrowed to that request",
    }))
    .into_response()
}

/// `GET /schemas/{file}`, e.g. `/schemas/answers/vote.schema.json`.
pub async fn file(Path(name): Path<String>) -> Response {
    match FILES.iter().find(|(n, _)| *n == name) {
        Some((_, text)) => (
            [(header::CONTENT_TYPE, "application/schema+json")],
            text.clone(),
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": format!("no schema `{name}`; see GET /schemas") })),
        )
            .into_response(),
    }
}
