//! The HTTP side's contract: one JSON error body for every refusal (the hub's own, axum's
//! rejections, 405s and unknown routes alike), the OpenAPI 3.1 document generated from the
//! routes and their types (`GET /openapi.json`), and its one-line-per-endpoint index
//! (`GET /api`), read from that same document so the two cannot drift.

use aide::OperationOutput;
use aide::generate::in_context;
use aide::openapi::{
    Info, MediaType, OpenApi, ReferenceOr, Response as ApiResponse, SchemaObject, SecurityScheme,
    StatusCode as ApiStatus,
};
use aide::transform::{TransformOpenApi, TransformOperation};
use axum::Json;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use schemars::{JsonSchema, json_schema};
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;

/// The body of every error answer of the HTTP side (4xx and 5xx).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ErrorBody {
    /// Why, for a human: the reason the hub refused, or axum's rejection text.
    pub error: String,
    /// The HTTP status of the answer, repeated.
    pub status: u16,
}

/// An error answer: `status` with `{"error": reason, "status": status}`.
pub fn error(status: StatusCode, reason: impl Into<String>) -> Response {
    let body = ErrorBody {
        error: reason.into(),
        status: status.as_u16(),
    };
    // Operators see every refusal and why (the reasons never carry a token).
    tracing::info!(status = body.status, reason = %body.error, "request refused");
    (status, Json(body)).into_response()
}

/// Longest error body of axum's (a rejection's text) carried over into the JSON body.
const MAX_REJECTION_BYTES: usize = 16 * 1024;

/// Response middleware: an error answer that is not JSON (axum's extractor rejections, a 405
/// from a method router, a 413 from a body limit) gets the [`ErrorBody`] shape, with axum's
/// text (or the status' reason) as `error`. Headers such as `Allow` are kept.
pub async fn json_errors(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_REJECTION_BYTES)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes);
    let reason = match text.trim() {
        "" => status.canonical_reason().unwrap_or("error").to_owned(),
        text => text.to_owned(),
    };
    let mut answer = error(status, reason);
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            answer.headers_mut().insert(name.clone(), value.clone());
        }
    }
    answer
}

/// The router's fallback: an unknown route is a JSON 404 pointing at the index.
pub async fn not_found(uri: Uri) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format!("no route `{}`; see GET /api", uri.path()),
    )
}

/// The name of the admin-token security scheme in the document.
pub const ADMIN_TOKEN: &str = "admin_token";

/// The OpenAPI document, generated once from [`crate::http::api_routes`].
pub static DOCUMENT: LazyLock<OpenApi> = LazyLock::new(document);

/// Generates the OpenAPI 3.1 document of every route of the hub.
pub fn document() -> OpenApi {
    // Every response is declared by the route's docs: nothing guessed from the handler types
    // (whose own guesses, e.g. a text/plain 422 for a JSON body, are not what the hub sends).
    aide::generate::infer_responses(false);
    aide::generate::extract_schemas(true);
    let mut api = OpenApi::default();
    let _ = crate::http::api_routes().finish_api_with(&mut api, describe);
    // axum's wildcard `{*file}` is OpenAPI's `{file}`.
    if let Some(paths) = api.paths.as_mut() {
        paths.paths = std::mem::take(&mut paths.paths)
            .into_iter()
            .map(|(path, item)| (path.replace("{*", "{"), item))
            .collect();
    }
    api
}

fn describe(api: TransformOpenApi<'_>) -> TransformOpenApi<'_> {
    api.info(Info {
        title: "werewolf-hub".to_owned(),
        summary: Some("Game-event hub for multi-agent Werewolf: the REST side".to_owned()),
        description: Some(
            "Games are created, joined, started and read over REST; play happens over the \
             WebSocket at /ws/{client_id} (its messages: GET /schemas). Every error answer is \
             {\"error\": reason, \"status\": code}."
                .to_owned(),
        ),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        ..Info::default()
    })
    .security_scheme(
        ADMIN_TOKEN,
        SecurityScheme::Http {
            scheme: "bearer".to_owned(),
            bearer_format: None,
            description: Some(
                "HUB_ADMIN_TOKEN, when the hub is configured with one (otherwise these \
                 endpoints are open)"
                    .to_owned(),
            ),
            extensions: Default::default(),
        },
    )
}

/// One entry of `GET /api`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Endpoint {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path, with `{parameters}`.
    pub path: String,
    /// What it does, in one line.
    pub summary: String,
}

/// `GET /api`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ApiIndex {
    /// Where the full OpenAPI document is.
    pub openapi: String,
    /// Every endpoint, in the document's order.
    pub endpoints: Vec<Endpoint>,
}

/// Every `(method, path, summary)` of the document.
pub fn endpoints(api: &OpenApi) -> Vec<Endpoint> {
    let mut out = Vec::new();
    for (path, item) in api.paths.iter().flat_map(|p| p.iter()) {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        for (method, op) in item.iter() {
            out.push(Endpoint {
                method: method.to_uppercase(),
                path: path.clone(),
                summary: op.summary.clone().unwrap_or_default(),
            });
        }
    }
    out
}

/// `GET /api`: one line per endpoint.
pub async fn index() -> Json<ApiIndex> {
    Json(ApiIndex {
        openapi: "/openapi.json".to_owned(),
        endpoints: endpoints(&DOCUMENT),
    })
}

/// `GET /openapi.json`.
pub async fn openapi_json() -> Response {
    Json(&*DOCUMENT).into_response()
}

/// Shorthands for the routes' docs.
pub trait Doc {
    /// An error answer (`ErrorBody`) with this status.
    fn error(self, status: u16, description: &str) -> Self;
    /// A success answer of JSON type `T`.
    fn json<T: JsonSchema>(self, status: u16, description: &str) -> Self;
    /// An answer that is not JSON: text in one of these media types.
    fn text(self, status: u16, description: &str, media: &[&str]) -> Self;
    /// A success answer that is a JSON document of its own media type (any object).
    fn document(self, status: u16, description: &str, media: &str) -> Self;
    /// The answer with this status may also come as text in this media type.
    fn or_text(self, status: u16, media: &str) -> Self;
    /// Needs the admin token when the hub has one (401 otherwise).
    fn admin(self) -> Self;
}

fn string_media() -> MediaType {
    MediaType {
        schema: Some(SchemaObject {
            json_schema: json_schema!({ "type": "string" }),
            example: None,
            external_docs: None,
        }),
        ..MediaType::default()
    }
}

fn put_response(op: &mut aide::openapi::Operation, status: u16, response: ApiResponse) {
    op.responses
        .get_or_insert_with(Default::default)
        .responses
        .insert(ApiStatus::Code(status), ReferenceOr::Item(response));
}

impl Doc for TransformOperation<'_> {
    fn error(self, status: u16, description: &str) -> Self {
        self.json::<ErrorBody>(status, description)
    }

    fn json<T: JsonSchema>(mut self, status: u16, description: &str) -> Self {
        let op = self.inner_mut();
        let response = in_context(|ctx| Json::<T>::operation_response(ctx, op));
        if let Some(mut response) = response {
            response.description = description.to_owned();
            put_response(op, status, response);
        }
        self
    }

    fn text(mut self, status: u16, description: &str, media: &[&str]) -> Self {
        let response = ApiResponse {
            description: description.to_owned(),
            content: media
                .iter()
                .map(|m| ((*m).to_owned(), string_media()))
                .collect(),
            ..ApiResponse::default()
        };
        put_response(self.inner_mut(), status, response);
        self
    }

    fn document(mut self, status: u16, description: &str, media: &str) -> Self {
        let object = MediaType {
            schema: Some(SchemaObject {
                json_schema: json_schema!({ "type": "object" }),
                example: None,
                external_docs: None,
            }),
            ..MediaType::default()
        };
        let response = ApiResponse {
            description: description.to_owned(),
            content: [(media.to_owned(), object)].into_iter().collect(),
            ..ApiResponse::default()
        };
        put_response(self.inner_mut(), status, response);
        self
    }

    fn or_text(mut self, status: u16, media: &str) -> Self {
        let responses = self
            .inner_mut()
            .responses
            .get_or_insert_with(Default::default);
        if let Some(ReferenceOr::Item(response)) =
            responses.responses.get_mut(&ApiStatus::Code(status))
        {
            response.content.insert(media.to_owned(), string_media());
        }
        self
    }

    fn admin(self) -> Self {
        self.security_requirement(ADMIN_TOKEN).error(
            401,
            "the hub has HUB_ADMIN_TOKEN and the request lacks `Authorization: Bearer <it>`",
        )
    }
}
