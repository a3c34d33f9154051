//! The OpenAPI document: the committed copy is fresh, every route of the router is in it,
//! and what the brief of each endpoint promises (statuses, parameters, security) is there.

use serde_json::Value;
use std::path::{Path, PathBuf};

fn committed_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/openapi.json")
}

/// The document as committed: pretty JSON with a final newline.
fn fresh_text() -> String {
    let doc = werewolf_server::api::document();
    let mut text = serde_json::to_string_pretty(&doc).expect("serialize");
    text.push('\n');
    text
}

fn doc() -> Value {
    serde_json::to_value(werewolf_server::api::document()).expect("document as JSON")
}

/// Regenerates with `UPDATE_SCHEMAS=1 cargo test -p werewolf-server --test openapi`.
#[test]
fn committed_openapi_document_is_fresh() {
    let path = committed_path();
    let fresh = fresh_text();
    if std::env::var_os("UPDATE_SCHEMAS").is_some() {
        std::fs::write(&path, &fresh).expect("write schemas/openapi.json");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{} missing ({e}); run UPDATE_SCHEMAS=1 cargo test -p werewolf-server --test openapi",
            path.display()
        )
    });
    assert!(
        committed == fresh,
        "schemas/openapi.json is stale; run UPDATE_SCHEMAS=1 cargo test -p werewolf-server --test openapi"
    );
}

/// Every path string given to `.route(` or `.api_route(` in the server's sources.
fn routed_paths() -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut paths = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read source");
        for marker in [".route(", "api_route(", ".route_service("] {
            for (at, _) in text.match_indices(marker) {
                let rest = text[at + marker.len()..].trim_start();
                let Some(rest) = rest.strip_prefix('"') else {
                    continue;
                };
                let end = rest.find('"').expect("closing quote");
                paths.push(rest[..end].replace("{*", "{"));
            }
        }
    }
    paths.sort();
    paths.dedup();
    paths
}

#[test]
fn every_route_of_the_router_is_documented() {
    let doc = doc();
    let documented = doc["paths"].as_object().expect("paths");
    let routed = routed_paths();
    assert!(
        routed.len() >= 15,
        "the source scan found too few routes: {routed:?}"
    );
    for path in &routed {
        assert!(
            documented.contains_key(path),
            "route {path} is served but not in the OpenAPI document"
        );
    }
    for path in documented.keys() {
        assert!(
            routed.contains(path),
            "{path} is documented but no route serves it"
        );
    }
}

#[test]
fn the_endpoints_their_statuses_and_the_admin_token_are_documented() {
    let doc = doc();
    assert_eq!(doc["openapi"], "3.1.0");
    let expect: &[(&str, &str, &[&str])] = &[
        ("/health", "get", &["200"]),
        ("/stats", "get", &["200"]),
        ("/games", "get", &["200", "400"]),
        ("/games", "post", &["201", "400", "401", "503"]),
        ("/games/{game_id}", "get", &["200", "404"]),
        (
            "/games/{game_id}/events",
            "get",
            &["200", "400", "401", "404", "503"],
        ),
        (
            "/games/{game_id}/join",
            "post",
            &["200", "400", "404", "409", "503"],
        ),
        (
            "/games/{game_id}/start",
            "post",
            &["200", "401", "404", "409", "503"],
        ),
        (
            "/games/{game_id}/aiwolf/game.log",
            "get",
            &["200", "400", "401", "404", "503"],
        ),
        ("/agents", "get", &["200"]),
        ("/schemas", "get", &["200"]),
        ("/schemas/{file}", "get", &["200", "404"]),
        ("/openapi.json", "get", &["200"]),
        ("/api", "get", &["200"]),
        (
            "/ws/{client_id}",
            "get",
            &["101", "400", "401", "403", "404", "409", "503"],
        ),
    ];
    for (path, method, statuses) in expect {
        let op = &doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path} missing");
        assert!(
            op["summary"].as_str().is_some_and(|s| !s.is_empty()),
            "{method} {path} has no summary"
        );
        for status in *statuses {
            let response = &op["responses"][status];
            assert!(response.is_object(), "{method} {path}: no {status}");
            if status.starts_with('4') || status.starts_with('5') {
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{method} {path} {status}"
                );
            }
        }
    }
    // request bodies
    for (path, schema) in [
        ("/games", "CreateGame"),
        ("/games/{game_id}/join", "JoinBody"),
    ] {
        assert_eq!(
            doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            format!("#/components/schemas/{schema}"),
            "{path}"
        );
    }
    let create = &doc["components"]["schemas"]["CreateGame"];
    assert_eq!(create["additionalProperties"], false, "{create}");
    // parameters
    let names = |path: &str, location: &str| -> Vec<String> {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == location)
            .map(|p| p["name"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(names("/ws/{client_id}", "path"), ["client_id"]);
    let ws_query = names("/ws/{client_id}", "query");
    for q in ["client_type", "game_id", "token", "last_seq"] {
        assert!(
            ws_query.iter().any(|n| n == q),
            "ws query {q}: {ws_query:?}"
        );
    }
    assert_eq!(names("/games", "query"), ["status"]);
    assert_eq!(
        names("/games/{game_id}/events", "query"),
        ["from_seq", "token", "view"]
    );
    assert_eq!(names("/schemas/{file}", "path"), ["file"]);
    // the admin token
    assert_eq!(
        doc["components"]["securitySchemes"]["admin_token"]["scheme"],
        "bearer"
    );
    for (path, method) in [("/games", "post"), ("/games/{game_id}/start", "post")] {
        assert_eq!(
            doc["paths"][path][method]["security"][0]["admin_token"],
            serde_json::json!([]),
            "{method} {path}"
        );
    }
}
