//! `GET /schemas` and `GET /schemas/{file}`: the wire's JSON Schemas for tooling, generated
//! from the schemas crate (the same text as the files committed under `schemas/json/`).

use axum::Json;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;

/// Every schema file, by its path under `schemas/json/`, generated once.
static FILES: LazyLock<Vec<(String, String)>> = LazyLock::new(werewolf_schemas::schema::all);

/// `GET /schemas`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SchemaIndex {
    /// The path of every file, e.g. `/schemas/answers/vote.schema.json`.
    pub schemas: Vec<String>,
    /// Where else the schemas show up.
    pub note: &'static str,
}

/// `GET /schemas`: the list of files.
pub async fn index() -> Json<SchemaIndex> {
    Json(SchemaIndex {
        schemas: FILES
            .iter()
            .map(|(name, _)| format!("/schemas/{name}"))
            .collect(),
        note: "every action_request also carries `response_schema`, the answers/*.schema.json of its kind narrowed to that request",
    })
}

/// Path of `GET /schemas/{file}`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SchemaPath {
    /// The file under `schemas/json/`, e.g. `answers/vote.schema.json`.
    file: String,
}

/// `GET /schemas/{file}`, e.g. `/schemas/answers/vote.schema.json`.
pub async fn file(Path(SchemaPath { file: name }): Path<SchemaPath>) -> Response {
    match FILES.iter().find(|(n, _)| *n == name) {
        Some((_, text)) => (
            [(header::CONTENT_TYPE, "application/schema+json")],
            text.clone(),
        )
            .into_response(),
        None => crate::api::error(
            StatusCode::NOT_FOUND,
            format!("no schema `{name}`; see GET /schemas"),
        ),
    }
}
