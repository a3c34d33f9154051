//! The wire protocol against a real hub: welcome, ping/pong, relay, disconnection, HTTP
//! endpoints and every kind of bad input.

mod common;

use common::*;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn welcome_then_ping_pong() {
    let hub = hub().await;
    let mut ui = connect(&hub, "ui_client_1", "ui").await;
    send_json(&mut ui, ping("ui_client_1")).await;
    let pong = recv_json(&mut ui).await;
    assert_eq!(pong["message_type"], "pong");
    assert_eq!(pong["client_id"], "ui_client_1");
    assert_eq!(pong["ping_timestamp"], 1706580000.0);
    assert!(pong["timestamp"].as_f64().expect("float timestamp") > 1.7e9);
}

#[tokio::test]
async fn client_type_defaults_to_ui() {
    let hub = hub().await;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws/plain", hub.addr()))
        .await
        .expect("connects");
    let welcome = recv_json(&mut ws).await;
    assert_eq!(welcome["data"]["client_type"], "ui");
}

#[tokio::test]
async fn unknown_client_type_is_refused_before_upgrade() {
    let hub = hub().await;
    let err = tokio_tungstenite::connect_async(ws_url(&hub, "x", "wizard"))
        .await
        .expect_err("refused");
    let tokio_tungstenite::tungstenite::Error::Http(resp) = err else {
        panic!("expected an HTTP refusal, got {err}")
    };
    assert_eq!(resp.status(), 400);
    let body = String::from_utf8_lossy(resp.body().as_deref().unwrap_or_default()).to_string();
    assert!(body.contains("unknown client_type `wizard`"), "{body}");
    assert_eq!(get_json(&hub, "/stats").await["total_clients"], 0);
}

#[tokio::test]
async fn agent_message_reaches_ui_and_observers_not_agents() {
    let hub = hub().await;
    let mut ui = connect(&hub, "ui_1", "ui").await;
    let mut obs = connect(&hub, "obs_1", "observer").await;
    let mut other_agent = connect(&hub, "agent_bob", "agent").await;
    let mut alice = connect(&hub, "agent_alice", "agent").await;

    let mut forged = agent_message("agent_alice", "Je pense que Bob est le loup-garou!");
    forged["agent_id"] = json!("agent_admin"); // server-owned: must be ignored
    send_json(&mut alice, forged).await;

    for ws in [&mut ui, &mut obs] {
        let m = recv_json(ws).await;
        assert_eq!(m["message_type"], "agent_message", "{m}");
        assert_eq!(m["client_id"], "agent_alice");
        assert_eq!(
            m["agent_id"], "agent_alice",
            "agent_id is set by the server"
        );
        assert_eq!(m["agent_name"], "Alice");
        assert_eq!(m["message_text"], "Je pense que Bob est le loup-garou!");
        assert_eq!(m["phase"], "discussion");
        assert_eq!(m["channel"], "public");
    }
    expect_silence(&mut other_agent, Duration::from_millis(300)).await;
    expect_silence(&mut alice, Duration::from_millis(100)).await;
}

#[tokio::test]
async fn leaving_client_is_announced_to_the_others() {
    let hub = hub().await;
    let mut ui = connect(&hub, "ui_1", "ui").await;
    let mut agent = connect(&hub, "agent_1", "agent").await;
    let leaver = connect(&hub, "leaver", "observer").await;
    drop(leaver);
    for ws in [&mut ui, &mut agent] {
        let m = recv_json(ws).await;
        assert_eq!(m["message_type"], "disconnection", "{m}");
        assert_eq!(m["client_id"], "leaver");
        assert_eq!(m["data"]["client_type"], "observer");
    }
    stats_until(&hub, "leaver gone", |s| s["total_clients"] == 2).await;
}

#[tokio::test]
async fn health_and_stats_have_the_seed_shapes() {
    let hub = hub().await;
    let _a = connect(&hub, "agent_1", "agent").await;
    let _u = connect(&hub, "ui_1", "ui").await;
    let _u2 = connect(&hub, "ui_2", "ui").await;

    let health = get_json(&hub, "/health").await;
    assert_eq!(health["status"], "ok");
    assert_eq!(health["connections"], 3);
    assert!(health["uptime_s"].as_f64().expect("uptime") >= 0.0);

    let stats = get_json(&hub, "/stats").await;
    assert_eq!(stats["total_clients"], 3);
    assert_eq!(
        stats["by_type"],
        json!({"ui": 2, "agent": 1, "observer": 0})
    );
    let clients = stats["clients"].as_array().expect("clients list");
    assert_eq!(clients.len(), 3);
    let agent = clients
        .iter()
        .find(|c| c["client_id"] == "agent_1")
        .expect("agent listed");
    assert_eq!(agent["type"], "agent");
    assert!(agent["connected_at"].as_f64().expect("connected_at") > 1.7e9);
}

#[tokio::test]
async fn bad_input_gets_an_error_and_the_connection_survives() {
    let hub = hub().await;
    let mut agent = connect(&hub, "agent_1", "agent").await;
    let mut ui = connect(&hub, "ui_1", "ui").await;

    let cases: &[(&str, &str, Option<&str>)] = &[
        ("{oops", "malformed_json", None),
        ("[1, 2, 3]", "malformed_json", None),
        (r#"{"client_id":"agent_1"}"#, "missing_message_type", None),
        (
            r#"{"message_type":"dance"}"#,
            "unknown_message_type",
            Some("dance"),
        ),
        (
            r#"{"message_type":"agent_message","message_text":42}"#,
            "invalid_message",
            Some("agent_message"),
        ),
        (
            r#"{"message_type":"agent_message"}"#,
            "invalid_message",
            Some("agent_message"),
        ),
        (
            r#"{"message_type":"ping","timestamp":"noon"}"#,
            "invalid_message",
            Some("ping"),
        ),
        (
            r#"{"message_type":"game_state","phase":"day"}"#,
            "not_permitted",
            Some("game_state"),
        ),
        (
            r#"{"message_type":"ping","client_id":"someone_else"}"#,
            "client_id_mismatch",
            Some("ping"),
        ),
        (
            r#"{"message_type":"player_action","action":"vote","target":"p2","request_id":"r1"}"#,
            "not_in_game",
            Some("player_action"),
        ),
    ];
    for (text, code, related) in cases {
        send_text(&mut agent, text).await;
        let err = recv_json(&mut agent).await;
        assert_eq!(err["message_type"], "error", "{text} → {err}");
        assert_eq!(err["code"], *code, "{text} → {err}");
        assert_eq!(
            err["related_message_type"].as_str(),
            *related,
            "{text} → {err}"
        );
        assert!(!err["message"].as_str().expect("message").is_empty());
    }
    // binary frames are refused the same way
    use futures_util::SinkExt;
    agent
        .send(tokio_tungstenite::tungstenite::Message::binary(vec![
            1u8, 2, 3,
        ]))
        .await
        .expect("send binary");
    assert_eq!(recv_json(&mut agent).await["code"], "binary_not_supported");

    // still connected and served
    send_json(&mut agent, ping("agent_1")).await;
    assert_eq!(recv_json(&mut agent).await["message_type"], "pong");
    // nothing leaked to the other client
    expect_silence(&mut ui, Duration::from_millis(200)).await;
    let stats = get_json(&hub, "/stats").await;
    assert_eq!(stats["total_clients"], 2);
    assert_eq!(stats["counters"]["errors_sent"], 11);
}

#[tokio::test]
async fn ui_and_observer_may_not_send_agent_messages() {
    let hub = hub().await;
    let mut ui = connect(&hub, "ui_1", "ui").await;
    let mut obs = connect(&hub, "obs_1", "observer").await;
    send_json(&mut ui, agent_message("ui_1", "I am a wolf")).await;
    let err = recv_json(&mut ui).await;
    assert_eq!(err["code"], "not_permitted");
    assert_eq!(err["related_message_type"], "agent_message");
    assert!(
        err["message"]
            .as_str()
            .expect("text")
            .contains("only be sent by agents")
    );
    // the observer must not have received the refused message
    expect_silence(&mut obs, Duration::from_millis(300)).await;
}

#[tokio::test]
async fn invalid_client_ids_are_refused() {
    let hub = hub().await;
    let long = "x".repeat(200);
    let err = tokio_tungstenite::connect_async(ws_url(&hub, &long, "ui"))
        .await
        .expect_err("too long");
    let tokio_tungstenite::tungstenite::Error::Http(resp) = err else {
        panic!("{err}")
    };
    assert_eq!(resp.status(), 400);
}
