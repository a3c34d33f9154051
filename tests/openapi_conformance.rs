//! The REST side against its OpenAPI document: every error is `{"error", "status"}` JSON
//! (axum's rejections, 405s and unknown routes included), `/openapi.json` serves the committed
//! document and `/api` lists the same endpoints, and schemathesis (Python, from the venv
//! `.ci/run` makes) fuzzes every operation of a real hub binary for 5xx answers and answers
//! that break the document.

mod common;

use common::process::HubProc;
use serde_json::{Value, json};
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `(status, content-type, body as JSON)` of one call.
async fn call(
    addr: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<(&str, &str)>,
) -> (u16, String, Value) {
    let mut req = reqwest::Client::new().request(method, format!("http://{addr}{path}"));
    if let Some((ctype, text)) = body {
        req = req
            .header(reqwest::header::CONTENT_TYPE, ctype)
            .body(text.to_owned());
    }
    let resp = req.send().await.expect("http");
    let status = resp.status().as_u16();
    let ctype = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = resp.text().await.expect("body");
    let value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{path}: body is not JSON ({e}): {text:?}"));
    (status, ctype, value)
}

fn assert_error(what: &str, (status, ctype, body): &(u16, String, Value), expected: u16) {
    assert_eq!(*status, expected, "{what}: {body}");
    assert!(ctype.starts_with("application/json"), "{what}: {ctype}");
    assert_eq!(body["status"], json!(expected), "{what}: {body}");
    assert!(
        body["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{what}: {body}"
    );
    assert_eq!(body.as_object().map(|o| o.len()), Some(2), "{what}: {body}");
}

#[tokio::test]
async fn every_error_is_a_json_body_with_its_status() {
    let hub = common::hub().await;
    let addr = hub.addr().to_string();
    use reqwest::Method;
    // unknown routes: the fallback
    let r = call(&addr, Method::GET, "/no/such/route", None).await;
    assert_error("unknown route", &r, 404);
    assert!(r.2["error"].as_str().unwrap_or_default().contains("/api"));
    // a known path with the wrong method: axum's 405, with its Allow header kept
    let resp = reqwest::Client::new()
        .put(format!("http://{addr}/games"))
        .send()
        .await
        .expect("http");
    let allow = resp.headers().get("allow").cloned();
    assert_eq!(resp.status().as_u16(), 405);
    assert!(allow.is_some(), "405 keeps Allow");
    let body: Value = resp.json().await.expect("405 JSON");
    assert_eq!(body["status"], 405, "{body}");
    assert_error(
        "DELETE /health",
        &call(&addr, Method::DELETE, "/health", None).await,
        405,
    );
    // bad bodies: not JSON, the wrong content type, an unknown field
    assert_error(
        "bad JSON",
        &call(
            &addr,
            Method::POST,
            "/games",
            Some(("application/json", "{")),
        )
        .await,
        400,
    );
    assert_error(
        "text body",
        &call(&addr, Method::POST, "/games", Some(("text/plain", "{}"))).await,
        400,
    );
    let r = call(
        &addr,
        Method::POST,
        "/games",
        Some(("application/json", r#"{"colour":"red"}"#)),
    )
    .await;
    assert_error("unknown field", &r, 400);
    // bad query strings
    assert_error(
        "bad status",
        &call(&addr, Method::GET, "/games?status=dancing", None).await,
        400,
    );
    let r = call(&addr, Method::GET, "/games/x/events?from_seq=-1", None).await;
    assert_error("bad from_seq", &r, 400);
    // the hub's own refusals carry the status too
    assert_error(
        "no game",
        &call(&addr, Method::GET, "/games/nope", None).await,
        404,
    );
    assert_error(
        "no schema",
        &call(&addr, Method::GET, "/schemas/nope.json", None).await,
        404,
    );
    assert_error(
        "join no game",
        &call(
            &addr,
            Method::POST,
            "/games/nope/join",
            Some(("application/json", r#"{"name":"Ann"}"#)),
        )
        .await,
        404,
    );
    // the WebSocket route without an upgrade: axum's rejection, as JSON
    assert_error(
        "ws without upgrade",
        &call(&addr, Method::GET, "/ws/someone", None).await,
        400,
    );
    hub.shutdown().trigger();
}

#[tokio::test]
async fn the_document_is_served_and_the_index_lists_its_endpoints() {
    let hub = common::hub().await;
    let served = common::get_json(&hub, "/openapi.json").await;
    let committed: Value = serde_json::from_str(include_str!("../schemas/openapi.json"))
        .expect("schemas/openapi.json is JSON");
    assert_eq!(
        served, committed,
        "GET /openapi.json is the committed document"
    );
    let index = common::get_json(&hub, "/api").await;
    assert_eq!(index["openapi"], "/openapi.json");
    let mut listed: Vec<(String, String)> = index["endpoints"]
        .as_array()
        .expect("endpoints")
        .iter()
        .map(|e| {
            assert!(e["summary"].as_str().is_some_and(|s| !s.is_empty()), "{e}");
            (
                e["method"].as_str().expect("method").to_owned(),
                e["path"].as_str().expect("path").to_owned(),
            )
        })
        .collect();
    let mut documented = Vec::new();
    for (path, item) in served["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            documented.push((method.to_uppercase(), path.clone()));
        }
    }
    listed.sort();
    documented.sort();
    assert_eq!(listed, documented);
    assert!(listed.contains(&("GET".into(), "/ws/{client_id}".into())));
    hub.shutdown().trigger();
}

/// The interpreter of `.ci/run`'s venv (`$WEREWOLF_PYTHON`), or `python3`; fails, never skips,
/// when it has no schemathesis.
fn python_with_schemathesis() -> String {
    let python = std::env::var("WEREWOLF_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let ok = Command::new(&python)
        .args(["-c", "import schemathesis"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "`{python}` cannot import schemathesis: run `bash .ci/run` (it makes a venv with \
         schemathesis and sets WEREWOLF_PYTHON), or `pip install schemathesis` and set \
         WEREWOLF_PYTHON to that interpreter"
    );
    python
}

/// Longest a schemathesis run may take before the test fails.
const SCHEMATHESIS_LIMIT: Duration = Duration::from_secs(150);

#[test]
fn schemathesis_finds_no_server_error_and_no_answer_off_the_document() {
    let python = python_with_schemathesis();
    let hub = HubProc::start("memory", None);
    let mut child = Command::new(&python)
        .args(["-m", "schemathesis.cli", "run"])
        .arg(format!("http://{}/openapi.json", hub.addr))
        .args([
            "--checks",
            "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance",
            "--max-examples",
            "25",
            "--seed",
            "1",
            "--request-timeout",
            "10",
            "--no-color",
        ])
        .env("SCHEMATHESIS_HOOKS", "")
        // schemathesis keeps a `.schemathesis/` cache in its working directory: not the repo
        .current_dir(env!("CARGO_TARGET_TMPDIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run {python} -m schemathesis.cli: {e}"));
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break Some(status);
        }
        if started.elapsed() > SCHEMATHESIS_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let (out, err) = (
        out.join().expect("stdout reader"),
        err.join().expect("stderr reader"),
    );
    println!("{out}");
    eprintln!("{err}");
    let status = status.unwrap_or_else(|| {
        panic!("schemathesis did not finish within {SCHEMATHESIS_LIMIT:?}:\n{out}\n{err}")
    });
    assert!(
        status.success(),
        "schemathesis found failures ({status}):\n{out}\n{err}\nhub stderr (last lines): {:?}",
        hub.stderr().iter().rev().take(20).collect::<Vec<_>>()
    );
    assert!(
        !out.contains("No operations"),
        "schemathesis tested nothing:\n{out}"
    );
}
