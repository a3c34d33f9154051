//! Refusals from a real hub read as one line: `hub refused (<status> <text>): <the hub's
//! reason>`, for REST calls and WebSocket upgrades alike, and ids and tokens with URL
//! metacharacters reach the hub intact.

mod common;

use common::*;
use serde_json::json;
use werewolf_client::{ClientError, CreatedGame, Hub, next_frame};
use werewolf_server::RunningHub;

const ADMIN: &str = "admin-token-for-tests";

fn client(hub: &RunningHub) -> Hub {
    Hub::new(&format!("http://{}", hub.addr()))
        .expect("valid hub URL")
        .with_admin_token(ADMIN)
}

async fn game(hub: &RunningHub) -> CreatedGame {
    client(hub)
        .create_game(
            &json!({"preset": "aiwolf5", "rules": "hub", "auto_start": false,
                             "players": ["A", "B", "C", "D", "E"]}),
        )
        .await
        .expect("create game")
}

/// Asserts `result` is a refusal with `status`, shown on one line naming the status and
/// containing `reason` (the hub's own words).
#[track_caller]
fn assert_refused<T: std::fmt::Debug>(
    result: Result<T, ClientError>,
    status: u16,
    status_text: &str,
    reason: &str,
) {
    let error = result.expect_err("refused");
    let shown = error.to_string();
    eprintln!("{shown}");
    match &error {
        ClientError::Refused { status: s, .. } => assert_eq!(*s, status, "{shown}"),
        other => panic!("expected Refused {status}, got {other:?}"),
    }
    assert!(!shown.contains('\n'), "not one line: {shown:?}");
    assert!(
        shown.starts_with(&format!("hub refused ({status} {status_text}): ")),
        "{shown}"
    );
    assert!(shown.contains(reason), "{shown} lacks `{reason}`");
    assert!(!shown.contains("{\"error\""), "raw JSON body: {shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_admin_token_is_401() {
    let hub = hub_with(&[("HUB_ADMIN_TOKEN", ADMIN)]).await;
    let wrong = Hub::new(&format!("http://{}", hub.addr()))
        .expect("valid hub URL")
        .with_admin_token("not-the-admin-token");
    assert_refused(
        wrong
            .create_game(&json!({"preset": "aiwolf5", "rules": "hub"}))
            .await,
        401,
        "Unauthorized",
        "this hub requires Authorization: Bearer",
    );
    stop(hub).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_seat_token_is_401_and_a_foreign_id_403() {
    let hub = hub_with(&[]).await;
    let game = game(&hub).await;
    let c = client(&hub);
    let seat = &game.players[0];
    // the hub answers a wrong seat token with 401 and a client_id that is not a seat
    // of the game with 403 (README: Connecting to a game)
    assert_refused(
        c.connect_agent(&game.game_id, &seat.player_id, "bad").await,
        401,
        "Unauthorized",
        "wrong or missing token for this seat",
    );
    assert_refused(
        c.connect_agent(&game.game_id, "not-a-seat", &seat.token)
            .await,
        403,
        "Forbidden",
        "`not-a-seat` is not a seat of game",
    );
    // a seat's player_id used by a viewer
    assert_refused(
        c.connect_viewer(&seat.player_id, "ui", &game.game_id, None)
            .await,
        403,
        "Forbidden",
        "only its agent may use it",
    );
    stop(hub).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_game_is_404_with_its_id_intact() {
    let hub = hub_with(&[]).await;
    let c = client(&hub);
    // URL metacharacters in the id: it must reach the hub as one path segment / one value
    let id = "no such & game #1/2?x=y";
    assert_refused(
        c.connect_viewer("viewer", "ui", id, None).await,
        404,
        "Not Found",
        &format!("no game `{id}`"),
    );
    assert_refused(
        c.join(id, "Zed").await,
        404,
        "Not Found",
        &format!("no game `{id}`"),
    );
    stop(hub).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_id_held_by_another_credential_is_409() {
    let hub = hub_with(&[]).await;
    let game = game(&hub).await;
    let c = client(&hub);
    let gid = &game.game_id;
    // a full observer holds `watcher` (as in the root crate's tests/security.rs)
    let mut watcher = c
        .watch("watcher", "observer", gid, Some(&game.observer_token))
        .await
        .expect("full observer");
    watcher.recv().await.expect("connection frame");
    assert_refused(
        c.connect_viewer("watcher", "ui", gid, None).await,
        409,
        "Conflict",
        "client_id `watcher` is in use by a connection with another credential",
    );
    // and over REST: joining a game whose seats are all named
    assert_refused(
        c.join(gid, "Zed").await,
        409,
        "Conflict",
        &format!("game `{gid}` is full"),
    );
    stop(hub).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_and_tokens_with_url_metacharacters_arrive_intact() {
    let hub = hub_with(&[]).await;
    let game = game(&hub).await;
    let c = client(&hub);
    let id = "ui a&b#c/d?e=f%g+h";
    let mut ws = c
        .connect_viewer(id, "ui", &game.game_id, None)
        .await
        .expect("a viewer with a strange id connects");
    let (raw, _) = next_frame(&mut ws)
        .await
        .expect("a frame")
        .expect("stream open");
    let welcome: serde_json::Value = serde_json::from_str(&raw).expect("json");
    assert_eq!(welcome["message_type"], "connection", "{raw}");
    assert_eq!(welcome["client_id"], id, "{raw}");
    assert_eq!(welcome["data"]["game_id"], game.game_id.as_str(), "{raw}");
    // a token with metacharacters is compared as sent (and refused as wrong, not garbled
    // into another parameter)
    assert_refused(
        c.connect_viewer(
            "v2",
            "observer",
            &game.game_id,
            Some("x&client_type=agent#"),
        )
        .await,
        401,
        "Unauthorized",
        "wrong observer token",
    );
    stop(hub).await;
}
