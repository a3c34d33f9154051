//! Limits and protections against a real hub: oversized frames, rate limits, duplicate ids,
//! slow consumers and silent clients.

mod common;

use common::*;
use futures_util::SinkExt;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn oversized_frame_closes_only_that_client_with_1009() {
    let hub = hub().await; // default limit: 64 KiB
    let mut big = connect(&hub, "agent_big", "agent").await;
    let mut other = connect(&hub, "ui_1", "ui").await;
    let text = "x".repeat(70 * 1024);
    big.send(Message::text(agent_message("agent_big", &text).to_string()))
        .await
        .expect("send");
    let (close, _) = recv_close(&mut big).await;
    let close = close.expect("close frame");
    assert_eq!(u16::from(close.code), 1009);

    // the other client was not affected and never saw the oversized message
    let m = recv_json(&mut other).await;
    assert_eq!(m["message_type"], "disconnection");
    assert_eq!(m["client_id"], "agent_big");
    send_json(&mut other, ping("ui_1")).await;
    assert_eq!(recv_json(&mut other).await["message_type"], "pong");
    // and a frame just under the limit passes
    let mut ok = connect(&hub, "agent_ok", "agent").await;
    send_json(&mut ok, agent_message("agent_ok", &"y".repeat(60 * 1024))).await;
    let relayed = recv_json(&mut other).await;
    assert_eq!(
        relayed["message_text"].as_str().map(str::len),
        Some(60 * 1024)
    );
}

#[tokio::test]
async fn rate_limit_drops_with_error_then_closes_sustained_abuse() {
    let hub = hub_with(&[
        ("WS_RATE_PER_SEC", "0.5"),
        ("WS_RATE_BURST", "3"),
        ("WS_RATE_STRIKES", "5"),
    ])
    .await;
    let mut ws = connect(&hub, "spammer", "ui").await;
    let mut bystander = connect(&hub, "calm", "ui").await;
    for _ in 0..3 {
        send_json(&mut ws, ping("spammer")).await;
        assert_eq!(recv_json(&mut ws).await["message_type"], "pong");
    }
    // over the limit: error, frame dropped (no pong)
    for _ in 0..4 {
        send_json(&mut ws, ping("spammer")).await;
        let err = recv_json(&mut ws).await;
        assert_eq!(err["message_type"], "error");
        assert_eq!(err["code"], "rate_limited");
    }
    // the fifth strike in the window is abuse → 1008
    send_json(&mut ws, ping("spammer")).await;
    let (close, before) = recv_close(&mut ws).await;
    assert!(
        before.iter().all(|m| m["message_type"] != "pong"),
        "{before:?}"
    );
    assert_eq!(u16::from(close.expect("close frame").code), 1008);

    // the limit is per connection: the bystander is served
    let gone = recv_json(&mut bystander).await;
    assert_eq!(gone["client_id"], "spammer");
    send_json(&mut bystander, ping("calm")).await;
    assert_eq!(recv_json(&mut bystander).await["message_type"], "pong");
    let stats = get_json(&hub, "/stats").await;
    assert_eq!(stats["counters"]["rate_limited"], 5);
}

#[tokio::test]
async fn same_client_id_new_connection_wins_old_gets_4000() {
    let hub = hub().await;
    let mut watcher = connect(&hub, "watcher", "observer").await;
    let mut first = connect(&hub, "dup", "agent").await;
    let mut second = connect(&hub, "dup", "agent").await;

    let (close, _) = recv_close(&mut first).await;
    assert_eq!(u16::from(close.expect("close frame").code), 4000);

    send_json(&mut second, ping("dup")).await;
    assert_eq!(recv_json(&mut second).await["message_type"], "pong");
    // counted once, and the id never "left", so nobody is told it disconnected
    let stats = stats_until(&hub, "dup once", |s| s["total_clients"] == 2).await;
    let dups = stats["clients"]
        .as_array()
        .expect("list")
        .iter()
        .filter(|c| c["client_id"] == "dup")
        .count();
    assert_eq!(dups, 1);
    assert_eq!(stats["counters"]["replaced"], 1);
    expect_silence(&mut watcher, Duration::from_millis(300)).await;
    // the survivor still receives broadcasts addressed to its id's type
    drop(watcher);
    let m = recv_json(&mut second).await;
    assert_eq!(m["message_type"], "disconnection");
    assert_eq!(m["client_id"], "watcher");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_consumer_is_cut_and_does_not_delay_the_others() {
    let hub = hub_with(&[
        ("WS_SEND_QUEUE", "256"),
        ("WS_RATE_PER_SEC", "100000"),
        ("WS_RATE_BURST", "100000"),
    ])
    .await;
    // A ui that never reads, with a tiny receive buffer so the kernel stops absorbing early.
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("rcvbuf");
    let stream = socket.connect(hub.addr()).await.expect("tcp connect");
    let (slow, _) = tokio_tungstenite::client_async(ws_url(&hub, "slow_ui", "ui"), stream)
        .await
        .expect("slow client handshake");
    let mut healthy = connect(&hub, "healthy_ui", "ui").await;
    let mut agent = connect(&hub, "agent_1", "agent").await;

    const N: usize = 600;
    let text = "z".repeat(4 * 1024);
    let sender = tokio::spawn(async move {
        for i in 0..N {
            send_json(&mut agent, agent_message("agent_1", &format!("{i}:{text}"))).await;
            if i % 8 == 7 {
                // a fast but not unbounded producer: the healthy reader keeps up
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        agent
    });
    let mut got = 0usize;
    let mut saw_slow_leave = false;
    while got < N {
        let m = recv_json(&mut healthy).await;
        match m["message_type"].as_str() {
            Some("agent_message") => {
                let text = m["message_text"].as_str().expect("text");
                assert!(text.starts_with(&format!("{got}:")), "in order, none lost");
                got += 1;
            }
            Some("disconnection") => {
                assert_eq!(m["client_id"], "slow_ui");
                assert_eq!(m["data"]["reason"], "slow consumer: send queue full");
                saw_slow_leave = true;
            }
            other => panic!("unexpected {other:?}: {m}"),
        }
    }
    let _agent = sender.await.expect("sender task");
    assert_eq!(got, N, "the healthy client got every message");
    assert!(
        saw_slow_leave,
        "the slow consumer was cut while the stream went on"
    );
    let stats = get_json(&hub, "/stats").await;
    assert_eq!(stats["counters"]["slow_consumers_closed"], 1);
    assert!(
        stats["clients"]
            .as_array()
            .expect("list")
            .iter()
            .all(|c| c["client_id"] != "slow_ui")
    );
    drop(slow);
}

#[tokio::test]
async fn silent_client_is_closed_with_4002_but_a_reading_one_stays() {
    let hub = hub_with(&[("WS_TIMEOUT", "2"), ("WS_PING_INTERVAL", "1")]).await;
    let mut silent = connect(&hub, "silent", "ui").await;
    let mut alive = connect(&hub, "alive", "ui").await;
    // `alive` keeps reading, so its client library answers the server's pings; all it hears
    // is that `silent` was dropped.
    let m = recv_json(&mut alive).await;
    assert_eq!(m["message_type"], "disconnection");
    assert_eq!(m["client_id"], "silent");
    assert_eq!(m["data"]["reason"], "heartbeat timeout");
    expect_silence(&mut alive, Duration::from_millis(3000)).await;
    let stats = get_json(&hub, "/stats").await;
    assert!(
        stats["clients"]
            .as_array()
            .expect("list")
            .iter()
            .any(|c| c["client_id"] == "alive")
    );
    assert!(
        stats["clients"]
            .as_array()
            .expect("list")
            .iter()
            .all(|c| c["client_id"] != "silent")
    );
    assert_eq!(stats["counters"]["heartbeat_timeouts"], 1);
    let (close, _) = recv_close(&mut silent).await;
    assert_eq!(u16::from(close.expect("close frame").code), 4002);
}
