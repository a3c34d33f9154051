//! `GET /metrics` on a real hub: Prometheus text with connections, upgrades and refusals,
//! frames, closes; and nothing in it moves with a night action while the game runs (the
//! hidden side shows up only once the game has ended).

mod common;

use common::*;
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;
use werewolf_server::RunningHub;

async fn metrics(hub: &RunningHub) -> String {
    let (status, ctype, body) =
        http_raw(&hub.addr().to_string(), "GET", "/metrics", None, None).await;
    assert_eq!(status, 200);
    assert!(ctype.starts_with("text/plain"), "{ctype}");
    body
}

/// The value of one sample line (`name{labels} value`), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

#[tokio::test]
async fn connections_upgrades_refusals_and_frames_are_counted() {
    let hub = hub().await;
    let mut ui = connect(&hub, "ui_1", "ui").await;
    let mut agent = connect(&hub, "agent_1", "agent").await;
    send_json(&mut agent, agent_message("agent_1", "hello")).await;
    let relayed = recv_json(&mut ui).await;
    assert_eq!(relayed["message_type"], "agent_message");
    let refused = tokio_tungstenite::connect_async(format!(
        "ws://{}/ws/x?client_type=observer&game_id=nope",
        hub.addr()
    ))
    .await;
    assert!(refused.is_err());
    let text = metrics(&hub).await;
    assert!(text.contains("# HELP werewolf_connections "), "{text}");
    assert_eq!(
        sample(&text, "werewolf_connections{client_type=\"ui\"}"),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, "werewolf_connections{client_type=\"agent\"}"),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            "werewolf_http_responses_total{route=\"ws\",status=\"101\"}"
        ),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "werewolf_http_responses_total{route=\"ws\",status=\"404\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert!(
        sample(&text, "werewolf_frames_in_total").unwrap_or(0.0) >= 1.0,
        "{text}"
    );
    assert!(
        sample(&text, "werewolf_bytes_out_total").unwrap_or(0.0) > 0.0,
        "{text}"
    );
    assert_eq!(sample(&text, "werewolf_games{phase=\"lobby\"}"), Some(0.0));
    drop(ui);
    drop(agent);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let text = metrics(&hub).await;
        if sample(&text, "werewolf_closes_total{code=\"client\"}") == Some(2.0) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{text}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Everything but the scrapes' own HTTP counts (each scrape counts itself).
fn without_scrapes(text: &str) -> Vec<String> {
    let mut samples: Vec<String> = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter(|l| !l.starts_with("werewolf_http_responses_total{route=\"rest\""))
        .map(str::to_owned)
        .collect();
    samples.sort();
    samples
}

/// Plays one seat: answers every request at once with its first candidate (talks: a
/// sentence), except the first divination and protection of the game, which it hands to
/// the test and answers only when told.
async fn seat(mut ws: Ws, held: mpsc::Sender<(Value, oneshot::Sender<()>)>) {
    let mut holding = true;
    while let Some(Ok(msg)) = ws.next().await {
        let Message::Text(t) = msg else { continue };
        let v: Value = serde_json::from_str(t.as_str()).expect("json");
        if v["message_type"] == "game_over" {
            return;
        }
        if v["message_type"] != "action_request" {
            continue;
        }
        let rid = v["request_id"].clone();
        let answer = if v["action"] == "talk" {
            json!({"message_type": "player_action", "request_id": rid, "action": "talk", "text": "hm"})
        } else {
            let target = v["candidates"][0]["player_id"].clone();
            let mut a = json!({"message_type": "player_action", "request_id": rid,
                               "action": v["action"], "target": target});
            if v["action"] == "witch" {
                a["save"] = json!(false);
            }
            a
        };
        if holding && (v["action"] == "divine" || v["action"] == "protect") {
            holding = false;
            let (go, wait) = oneshot::channel();
            held.send((v.clone(), go)).await.expect("test listens");
            wait.await.expect("the test says go");
        }
        send_json(&mut ws, answer).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_night_action_moves_nothing_until_the_game_ends() {
    let hub = hub().await;
    let names: Vec<String> = (1..=8).map(|i| format!("P{i}")).collect();
    let (status, _, text) = http_raw(
        &hub.addr().to_string(),
        "POST",
        "/games",
        Some(json!({"preset": "arena8", "rules": "hub", "seed": 9, "players": names, "action_timeout_ms": 30000})),
        None,
    )
    .await;
    assert_eq!(status, 201, "{text}");
    let game: Value = serde_json::from_str(&text).expect("json");
    let gid = game["game_id"].as_str().expect("gid").to_owned();
    let (held_tx, mut held_rx) = mpsc::channel(1);
    let mut tasks = Vec::new();
    for s in game["players"].as_array().expect("players") {
        let url = format!(
            "ws://{}/ws/{}?client_type=agent&game_id={gid}&token={}",
            hub.addr(),
            s["player_id"].as_str().unwrap(),
            s["token"].as_str().unwrap()
        );
        let (ws, _) = tokio_tungstenite::connect_async(url).await.expect("seat");
        tasks.push(tokio::spawn(seat(ws, held_tx.clone())));
    }
    // The seer's and the doctor's first requests are held: the night cannot end while the
    // doctor's is pending, so the seer's answer is the only thing that happens between the
    // two scrapes.
    let mut held = Vec::new();
    for _ in 0..2 {
        let h = tokio::time::timeout(PATIENCE, held_rx.recv())
            .await
            .expect("the seer and the doctor are asked on night 1")
            .expect("a seat held its request");
        held.push(h);
    }
    held.sort_by_key(|(r, _)| r["action"] != "divine");
    let (protect, go_doctor) = held.pop().expect("doctor");
    let (divine, go_seer) = held.pop().expect("seer");
    assert_eq!(
        (divine["action"].as_str(), protect["action"].as_str()),
        (Some("divine"), Some("protect"))
    );
    tokio::time::sleep(Duration::from_millis(150)).await;
    let before = metrics(&hub).await;
    assert_eq!(
        sample(&before, "werewolf_games{phase=\"night\"}"),
        Some(1.0),
        "{before}"
    );
    assert!(
        !before.contains("werewolf_request_answer_seconds_bucket"),
        "{before}"
    );
    go_seer.send(()).expect("seat waits");
    tokio::time::sleep(Duration::from_millis(150)).await;
    let after = metrics(&hub).await;
    assert_eq!(
        sample(&after, "werewolf_games{phase=\"night\"}"),
        Some(1.0),
        "{after}"
    );
    assert_eq!(
        without_scrapes(&before),
        without_scrapes(&after),
        "/metrics moved with a night action"
    );
    go_doctor.send(()).expect("seat waits");
    for task in tasks {
        tokio::time::timeout(Duration::from_secs(60), task)
            .await
            .expect("the game ends")
            .expect("seat task");
    }
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let text = metrics(&hub).await;
        let divine = "werewolf_request_answer_seconds_count{action=\"divine\"}";
        if sample(&text, divine).unwrap_or(0.0) >= 1.0 {
            assert!(sample(&text, "werewolf_store_commit_seconds_count").unwrap_or(0.0) > 0.0);
            assert!(
                sample(&text, "werewolf_games{phase=\"ended\"}") == Some(1.0),
                "{text}"
            );
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{text}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
