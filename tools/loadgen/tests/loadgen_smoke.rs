//! A tiny run of every load-generator scenario against an in-process hub: checks that each
//! scenario works end to end and that every expected frame is delivered. No timing is
//! asserted (the timed targets are measured with the `loadgen` binary, see BENCHMARKS.md).

use werewolf_loadgen::{
    self as loadgen, BurstOpts, ConnectOpts, GamesOpts, RelayOpts, Report, SlowOpts, Target,
};
use werewolf_server::{Config, RunningHub};

/// A hub on 127.0.0.1:0 whose rate limit lets the relay agents send fast.
async fn hub(extra: &[(&str, &str)]) -> (RunningHub, Target) {
    let vars: Vec<(String, String)> = [
        ("WS_HOST", "127.0.0.1"),
        ("WS_PORT", "0"),
        ("WS_RATE_PER_SEC", "100000"),
        ("WS_RATE_BURST", "100000"),
        ("HUB_STORE", "memory"),
    ]
    .iter()
    .chain(extra)
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let config = Config::from_vars(vars).expect("smoke config is valid");
    let hub = werewolf_server::start(config).await.expect("hub starts");
    let target = Target::new(hub.addr());
    (hub, target)
}

fn check(report: &Report) {
    let line = serde_json::to_string(report).expect("report serializes");
    assert!(report.sent > 0, "nothing sent: {line}");
    assert!(report.expected > 0, "nothing expected: {line}");
    assert_eq!(report.delivered, report.expected, "{line}");
    assert!(report.ok, "{line}");
    let value: serde_json::Value = serde_json::from_str(&line).expect("one JSON object");
    for key in [
        "scenario",
        "clients",
        "sent",
        "delivered",
        "expected",
        "delivered_per_s",
        "p50_us",
        "p99_us",
        "p999_us",
        "server_rss_kib",
    ] {
        assert!(value.get(key).is_some(), "report lacks `{key}`: {line}");
    }
}

async fn stop(hub: RunningHub) {
    hub.shutdown().trigger();
    let _ = hub.stopped().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_smoke_delivers_every_message() {
    let (hub, target) = hub(&[]).await;
    let report = loadgen::relay(&target, &RelayOpts::smoke())
        .await
        .expect("relay runs");
    check(&report);
    assert_eq!(report.scenario, "relay");
    assert_eq!(
        report.delivered,
        report.sent * RelayOpts::smoke().clients as u64
    );
    assert!(report.p99_us.is_some());
    stop(hub).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_smoke_keeps_healthy_clients_whole() {
    let (hub, target) = hub(&[("WS_SEND_QUEUE", "64")]).await;
    let opts = SlowOpts::smoke();
    let report = loadgen::slow(&target, &opts).await.expect("slow runs");
    check(&report);
    assert_eq!(report.extra["slow_clients"], 2);
    assert_eq!(report.extra["healthy_clients"], 18);
    assert!(report.extra["baseline_p99_us"].is_u64());
    stop(hub).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn games_smoke_completes_every_game_without_gaps() {
    let (hub, target) = hub(&[]).await;
    let opts = GamesOpts::smoke();
    let report = loadgen::games(&target, &opts).await.expect("games run");
    check(&report);
    assert_eq!(report.extra["games_completed"], opts.games);
    assert_eq!(report.clients, opts.games * (8 + opts.observers));
    assert!(report.p50_us.is_some(), "action round trips were timed");
    stop(hub).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn burst_smoke_reaches_every_recipient() {
    let (hub, target) = hub(&[]).await;
    let opts = BurstOpts::smoke();
    let report = loadgen::burst(&target, &opts).await.expect("burst runs");
    check(&report);
    assert_eq!(report.clients, opts.games * (5 + opts.observers));
    assert_eq!(report.extra["start_failures"], 0);
    stop(hub).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_smoke_connects_everyone() {
    let (hub, target) = hub(&[]).await;
    let opts = ConnectOpts::smoke();
    let report = loadgen::connect(&target, &opts)
        .await
        .expect("connect runs");
    check(&report);
    assert_eq!(report.delivered, opts.clients as u64);
    assert_eq!(report.extra["server_connections"], opts.clients);
    stop(hub).await;
}
