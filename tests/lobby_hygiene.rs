//! Lobby hygiene on real hubs: `DELETE /games/{id}` ends a game and tells its clients why,
//! games that never start expire, and the caps on games and on connections per IP refuse
//! with a clear status.

mod common;

use common::*;
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use werewolf_server::RunningHub;

async fn call(hub: &RunningHub, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    call_as(hub, method, path, body, None).await
}

async fn call_as(
    hub: &RunningHub,
    method: &str,
    path: &str,
    body: Option<Value>,
    bearer: Option<&str>,
) -> (u16, Value) {
    let (status, _, text) = http_raw(&hub.addr().to_string(), method, path, body, bearer).await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn viewer(hub: &RunningHub, gid: &str) -> Ws {
    let url = format!(
        "ws://{}/ws/viewer-{gid}?client_type=ui&game_id={gid}",
        hub.addr()
    );
    tokio_tungstenite::connect_async(url)
        .await
        .expect("viewer")
        .0
}

/// Reads until `game_over`, which it returns, then expects the close code `close` (if any).
async fn until_game_over(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(PATIENCE, ws.next())
            .await
            .expect("game_over in time")
            .expect("open")
            .expect("ok");
        if let Message::Text(t) = msg {
            let v: Value = serde_json::from_str(t.as_str()).expect("json");
            if v["message_type"] == "game_over" {
                return v;
            }
        }
    }
}

async fn close_code(ws: &mut Ws) -> u16 {
    let (frame, _) = recv_close(ws).await;
    frame.map_or(1005, |f| u16::from(f.code))
}

#[tokio::test]
async fn delete_ends_a_running_game_with_the_reason() {
    let hub = hub_with(&[("HUB_ADMIN_TOKEN", "operator-secret")]).await;
    // A table of slow bots: it runs, and nothing ends it soon.
    let body = json!({"preset": "aiwolf5", "rules": "hub", "bots": 5, "bot_delay_ms": 60000});
    let (status, game) = call_as(&hub, "POST", "/games", Some(body), Some("operator-secret")).await;
    assert_eq!(status, 201, "{game}");
    let gid = game["game_id"].as_str().unwrap().to_owned();
    let mut ws = viewer(&hub, &gid).await;
    let path = format!("/games/{gid}?reason=maintenance");
    let (status, refused) = call(&hub, "DELETE", &path, None).await;
    assert_eq!(status, 401, "{refused}");
    let (status, ended) = call_as(&hub, "DELETE", &path, None, Some("operator-secret")).await;
    assert_eq!(status, 200, "{ended}");
    assert_eq!(ended["reason"], "ended by the operator: maintenance");
    let over = until_game_over(&mut ws).await;
    assert_eq!(over["winner"], "aborted", "{over}");
    assert_eq!(
        over["reason"], "ended by the operator: maintenance",
        "{over}"
    );
    let (_, shown) = call(&hub, "GET", &format!("/games/{gid}"), None).await;
    assert_eq!(shown["winner"], "aborted", "{shown}");
    let (status, again) = call_as(&hub, "DELETE", &path, None, Some("operator-secret")).await;
    assert_eq!(status, 409, "{again}");
    let (status, missing) =
        call_as(&hub, "DELETE", "/games/nope", None, Some("operator-secret")).await;
    assert_eq!(status, 404, "{missing}");
    assert!(missing["error"].is_string() && missing["status"] == 404);
}

#[tokio::test]
async fn delete_removes_a_lobby_game_and_closes_its_clients() {
    let dir = common::process::TempDir::new("lobby");
    let data = dir.path().to_str().expect("utf-8").to_owned();
    let store = [("HUB_STORE", "sqlite"), ("HUB_DATA_DIR", data.as_str())];
    let hub = hub_with(&store).await;
    let (status, game) = call(
        &hub,
        "POST",
        "/games",
        Some(json!({"preset": "aiwolf5", "rules": "hub"})),
    )
    .await;
    assert_eq!(status, 201, "{game}");
    let gid = game["game_id"].as_str().unwrap().to_owned();
    let mut ws = viewer(&hub, &gid).await;
    let (status, _) = call(&hub, "DELETE", &format!("/games/{gid}"), None).await;
    assert_eq!(status, 200);
    let over = until_game_over(&mut ws).await;
    assert_eq!(
        (over["winner"].as_str(), over["day"].as_u64()),
        (Some("aborted"), Some(0))
    );
    assert_eq!(over["reason"], "ended by the operator", "{over}");
    assert_eq!(close_code(&mut ws).await, 4003);
    let (_, lobby) = call(&hub, "GET", "/games?status=lobby", None).await;
    assert_eq!(lobby, json!([]), "{lobby}");
    let (status, _) = call(
        &hub,
        "POST",
        &format!("/games/{gid}/join"),
        Some(json!({"name": "late"})),
    )
    .await;
    assert_eq!(status, 404);
    // The store keeps its record; a restart does not bring it back to the lobby.
    hub.shutdown().trigger();
    hub.stopped().await.expect("clean stop");
    let hub = hub_with(&store).await;
    let (status, shown) = call(&hub, "GET", &format!("/games/{gid}"), None).await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["winner"], "aborted", "{shown}");
    let (_, lobby) = call(&hub, "GET", "/games?status=lobby", None).await;
    assert_eq!(lobby, json!([]), "{lobby}");
    let (_, finished) = call(&hub, "GET", "/games?status=finished", None).await;
    assert!(
        finished
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["game_id"] == gid.as_str()),
        "{finished}"
    );
}

#[tokio::test]
async fn a_game_that_never_starts_expires() {
    let hub = hub_with(&[("GAME_LOBBY_EXPIRE_S", "1")]).await;
    let (status, game) = call(
        &hub,
        "POST",
        "/games",
        Some(json!({"preset": "aiwolf5", "rules": "hub"})),
    )
    .await;
    assert_eq!(status, 201, "{game}");
    let gid = game["game_id"].as_str().unwrap().to_owned();
    let mut ws = viewer(&hub, &gid).await;
    let over = until_game_over(&mut ws).await;
    assert!(
        over["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("GAME_LOBBY_EXPIRE_S"),
        "{over}"
    );
    assert_eq!(close_code(&mut ws).await, 4003);
    let (_, lobby) = call(&hub, "GET", "/games?status=lobby", None).await;
    assert_eq!(lobby, json!([]));
    // A started game does not expire.
    let body = json!({"preset": "aiwolf5", "rules": "hub", "bots": 5, "bot_delay_ms": 60000});
    let (_, running) = call(&hub, "POST", "/games", Some(body)).await;
    let rid = running["game_id"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (_, shown) = call(&hub, "GET", &format!("/games/{rid}"), None).await;
    assert_eq!(shown["phase"], "night", "{shown}");
}

#[tokio::test]
async fn the_games_cap_refuses_with_503_until_a_game_ends() {
    let hub = hub_with(&[("HUB_MAX_GAMES", "2")]).await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let (status, game) = call(
            &hub,
            "POST",
            "/games",
            Some(json!({"preset": "aiwolf5", "rules": "hub"})),
        )
        .await;
        assert_eq!(status, 201, "{game}");
        ids.push(game["game_id"].as_str().unwrap().to_owned());
    }
    let (status, refused) = call(
        &hub,
        "POST",
        "/games",
        Some(json!({"preset": "aiwolf5", "rules": "hub"})),
    )
    .await;
    assert_eq!(status, 503, "{refused}");
    assert!(
        refused["error"].as_str().unwrap().contains("HUB_MAX_GAMES"),
        "{refused}"
    );
    let (status, _) = call(&hub, "DELETE", &format!("/games/{}", ids[0]), None).await;
    assert_eq!(status, 200);
    let (status, game) = call(
        &hub,
        "POST",
        "/games",
        Some(json!({"preset": "aiwolf5", "rules": "hub"})),
    )
    .await;
    assert_eq!(status, 201, "{game}");
}

#[tokio::test]
async fn the_per_ip_cap_refuses_with_429_and_frees_the_slot() {
    let hub = hub_with(&[("WS_MAX_CONNECTIONS_PER_IP", "2")]).await;
    let a = connect(&hub, "ip_a", "ui").await;
    let _b = connect(&hub, "ip_b", "ui").await;
    let refused = tokio_tungstenite::connect_async(ws_url(&hub, "ip_c", "ui"))
        .await
        .expect_err("a third connection from the same address");
    let tokio_tungstenite::tungstenite::Error::Http(resp) = refused else {
        panic!("expected an HTTP refusal, got {refused}")
    };
    assert_eq!(resp.status().as_u16(), 429);
    let body = String::from_utf8_lossy(resp.body().as_deref().unwrap_or_default()).to_string();
    assert!(body.contains("WS_MAX_CONNECTIONS_PER_IP"), "{body}");
    drop(a);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        match tokio_tungstenite::connect_async(ws_url(&hub, "ip_c", "ui")).await {
            Ok(_) => break,
            Err(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!("the slot was never freed: {e}"),
        }
    }
}

/// Bots do not keep a game alive: once its only client seat has been offline for
/// `GAME_ABANDON_S` the game ends as aborted; a table of bots only is never abandoned.
#[tokio::test]
async fn bots_do_not_keep_an_abandoned_game_alive() {
    let hub = hub_with(&[("GAME_ABANDON_S", "1")]).await;
    let body = json!({"preset": "aiwolf5", "rules": "hub", "bots": 4, "bot_delay_ms": 200, "action_timeout_ms": 60000});
    let (status, game) = call(&hub, "POST", "/games", Some(body)).await;
    assert_eq!(status, 201, "{game}");
    let gid = game["game_id"].as_str().unwrap().to_owned();
    let seat = &game["players"][0];
    let url = format!(
        "ws://{}/ws/{}?client_type=agent&game_id={gid}&token={}",
        hub.addr(),
        seat["player_id"].as_str().unwrap(),
        seat["token"].as_str().unwrap()
    );
    let (agent, _) = tokio_tungstenite::connect_async(url).await.expect("seat");
    let mut ws = viewer(&hub, &gid).await;
    let table = json!({"preset": "aiwolf5", "rules": "hub", "bots": 5, "bot_delay_ms": 60000});
    let (_, bots_only) = call(&hub, "POST", "/games", Some(table)).await;
    let bots_gid = bots_only["game_id"].as_str().unwrap().to_owned();
    drop(agent);
    let over = until_game_over(&mut ws).await;
    assert_eq!(over["winner"], "aborted", "{over}");
    assert!(
        over["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("GAME_ABANDON_S"),
        "{over}"
    );
    // The table of bots, with nobody connected for as long, still runs.
    let (_, shown) = call(&hub, "GET", &format!("/games/{bots_gid}"), None).await;
    assert!(shown["winner"].is_null(), "{shown}");
    assert_eq!(shown["phase"], "night", "{shown}");
}
