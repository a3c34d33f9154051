//! `GET /metrics`: the hub in Prometheus text format (`metrics` + its Prometheus exporter,
//! one recorder per hub, so hubs in one process never mix their figures).
//!
//! # Hidden information
//! `/metrics` is open like `/stats`, so nothing in it may move with a hidden role during play.
//! What the hub measures of seats and of the full view (frames, bytes, errors, request
//! latencies and timeouts by kind, store commits of running games: a night's commits count
//! its actions) is kept by the game and added here only when the game ends, as `/stats`
//! does with traffic. Live gauges cover public facts only: connections by type, games by
//! phase, the pending `talk` and `vote` requests (everyone sees who is asked to talk or
//! vote), and the send queues of connections that see nothing hidden.

use crate::connection_manager::ERROR_CODES;
use crate::state::AppState;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use werewolf_schemas::{ActionKind, ClientType, Phase};

/// Histogram buckets, in seconds: from a fast bot's answer to a slow LLM's.
const SECONDS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0, 120.0,
];

/// The hub's recorder, behind a cheap-to-clone handle.
pub struct HubMetrics {
    /// Where every figure of this hub is recorded.
    recorder: PrometheusRecorder,
    /// Renders what the recorder holds.
    handle: PrometheusHandle,
}

impl std::fmt::Debug for HubMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HubMetrics")
    }
}

/// What a running game measured of its hidden side, handed over when it ends.
#[derive(Debug, Default)]
pub struct GameSamples {
    /// Seconds from each request to its answer, by kind.
    pub answers: Vec<(ActionKind, f64)>,
    /// Requests that expired unanswered, by kind.
    pub timeouts: Vec<ActionKind>,
    /// Seconds each of the game's store commits took.
    pub commits: Vec<f64>,
}

impl HubMetrics {
    /// A fresh recorder.
    pub fn new() -> Arc<Self> {
        let recorder = PrometheusBuilder::new()
            .set_buckets(SECONDS)
            .map(PrometheusBuilder::build_recorder)
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        let handle = recorder.handle();
        let hub = HubMetrics { recorder, handle };
        hub.with(describe);
        Arc::new(hub)
    }

    fn with<T>(&self, f: impl FnOnce() -> T) -> T {
        metrics::with_local_recorder(&self.recorder, f)
    }

    /// One HTTP answer: `route` is `ws` (an upgrade: 101 accepted, anything else refused)
    /// or `rest`.
    pub fn response(&self, route: &'static str, status: u16) {
        self.with(|| {
            metrics::counter!("werewolf_http_responses_total", "route" => route, "status" => status.to_string())
                .increment(1);
        });
    }

    /// A store commit of no running game (the lobby, or a game that has ended).
    pub fn commit(&self, seconds: f64) {
        self.with(|| metrics::histogram!("werewolf_store_commit_seconds").record(seconds));
    }

    /// A game ended: what it measured becomes public.
    pub fn release(&self, samples: GameSamples) {
        self.with(|| {
            for (kind, seconds) in samples.answers {
                metrics::histogram!("werewolf_request_answer_seconds", "action" => kind.name())
                    .record(seconds);
            }
            for kind in samples.timeouts {
                metrics::counter!("werewolf_request_timeouts_total", "action" => kind.name())
                    .increment(1);
            }
            for seconds in samples.commits {
                metrics::histogram!("werewolf_store_commit_seconds").record(seconds);
            }
        });
    }

    /// The Prometheus text: the live figures are read now, then everything is rendered.
    pub fn render(&self, state: &AppState) -> String {
        self.with(|| snapshot(state));
        self.handle.render()
    }
}

/// Reads the hub's counters and public gauges into the recorder.
fn snapshot(state: &AppState) {
    use metrics::{counter, gauge};
    let c = state.manager.counters();
    let t = &c.traffic;
    let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    counter!("werewolf_connections_accepted_total").absolute(load(&c.connections_accepted));
    counter!("werewolf_frames_out_total").absolute(load(&t.frames_delivered));
    counter!("werewolf_frames_in_total").absolute(load(&t.frames_received));
    counter!("werewolf_bytes_out_total").absolute(load(&t.bytes_delivered));
    counter!("werewolf_bytes_in_total").absolute(load(&t.bytes_received));
    counter!("werewolf_rate_limited_total").absolute(load(&t.rate_limited));
    counter!("werewolf_slow_consumers_closed_total").absolute(load(&c.slow_consumers_closed));
    counter!("werewolf_replaced_total").absolute(load(&c.replaced));
    counter!("werewolf_heartbeat_timeouts_total").absolute(load(&c.heartbeat_timeouts));
    for (code, n) in ERROR_CODES.iter().zip(&t.errors_by_code) {
        counter!("werewolf_errors_sent_total", "code" => code.as_str()).absolute(load(n));
    }
    let closes = c.closes.lock().map(|m| m.clone()).unwrap_or_default();
    for (code, n) in closes {
        let code = if code == 0 {
            "client".to_owned()
        } else {
            code.to_string()
        };
        counter!("werewolf_closes_total", "code" => code).absolute(n);
    }
    let stats = state.manager.stats();
    for client_type in ClientType::ALL {
        let n = stats
            .by_type
            .get(client_type.as_str())
            .copied()
            .unwrap_or(0);
        gauge!("werewolf_connections", "client_type" => client_type.as_str()).set(n as f64);
    }
    let (queued, deepest) = state.manager.public_queue_depth();
    gauge!("werewolf_send_queue_frames").set(queued as f64);
    gauge!("werewolf_send_queue_max_frames").set(deepest as f64);
    let mut by_phase = [0usize; 6];
    let mut pending = [0usize; 2];
    for game in state.games.all() {
        let summary = game.summary.load();
        by_phase[phase_index(summary.phase)] += 1;
        pending[0] += summary.pending_public[0];
        pending[1] += summary.pending_public[1];
    }
    for phase in PHASES {
        gauge!("werewolf_games", "phase" => phase_name(phase))
            .set(by_phase[phase_index(phase)] as f64);
    }
    gauge!("werewolf_pending_requests", "action" => "talk").set(pending[0] as f64);
    gauge!("werewolf_pending_requests", "action" => "vote").set(pending[1] as f64);
    if let Some(cluster) = &state.cluster {
        let relayed = cluster.relayed();
        for client_type in ClientType::ALL {
            let n = relayed
                .iter()
                .filter(|r| r.client_type == client_type)
                .count();
            gauge!("werewolf_relayed_connections", "client_type" => client_type.as_str())
                .set(n as f64);
        }
        gauge!("werewolf_cluster_nodes").set(cluster.nodes().len() as f64);
    }
}

const PHASES: [Phase; 6] = [
    Phase::Lobby,
    Phase::Night,
    Phase::Day,
    Phase::Discussion,
    Phase::Vote,
    Phase::Ended,
];

fn phase_index(phase: Phase) -> usize {
    PHASES.iter().position(|p| *p == phase).unwrap_or(0)
}

fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Lobby => "lobby",
        Phase::Night => "night",
        Phase::Day => "day",
        Phase::Discussion => "discussion",
        Phase::Vote => "vote",
        Phase::Ended => "ended",
    }
}

/// HELP lines.
fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "werewolf_connections_accepted_total",
        "WebSocket connections accepted"
    );
    describe_counter!(
        "werewolf_http_responses_total",
        "HTTP answers by route (ws: upgrades, 101 accepted, others refused; rest) and status"
    );
    describe_counter!(
        "werewolf_frames_out_total",
        "frames handed to client queues (seats and full view: once their game ended)"
    );
    describe_counter!(
        "werewolf_frames_in_total",
        "data frames received (seats: once their game ended)"
    );
    describe_counter!(
        "werewolf_bytes_out_total",
        Unit::Bytes,
        "bytes of the frames handed to client queues (same rule)"
    );
    describe_counter!(
        "werewolf_bytes_in_total",
        Unit::Bytes,
        "bytes of the data frames received (same rule)"
    );
    describe_counter!(
        "werewolf_errors_sent_total",
        "error frames sent, by code (same rule)"
    );
    describe_counter!(
        "werewolf_rate_limited_total",
        "inbound frames dropped by the rate limit (same rule)"
    );
    describe_counter!(
        "werewolf_closes_total",
        "connections ended, by the close code the hub sent (client: the client closed or dropped)"
    );
    describe_counter!(
        "werewolf_slow_consumers_closed_total",
        "connections closed 4001: their send queue filled"
    );
    describe_counter!(
        "werewolf_replaced_total",
        "connections replaced by a newer one with the same id"
    );
    describe_counter!(
        "werewolf_heartbeat_timeouts_total",
        "connections closed 4002 for silence"
    );
    describe_counter!(
        "werewolf_request_timeouts_total",
        "requests that expired unanswered, by kind (counted when their game ends)"
    );
    describe_gauge!(
        "werewolf_connections",
        "live WebSocket connections by client type"
    );
    describe_gauge!(
        "werewolf_send_queue_frames",
        "frames queued for connections that see nothing hidden"
    );
    describe_gauge!("werewolf_send_queue_max_frames", "deepest such queue");
    describe_gauge!("werewolf_games", "games in memory by phase");
    describe_gauge!(
        "werewolf_relayed_connections",
        "cluster: client sockets this node relays to the node running their game, by type"
    );
    describe_gauge!(
        "werewolf_cluster_nodes",
        "cluster: live nodes, this one included"
    );
    describe_gauge!(
        "werewolf_pending_requests",
        "pending talk and vote requests (night requests are never shown live)"
    );
    describe_histogram!(
        "werewolf_request_answer_seconds",
        Unit::Seconds,
        "request to answer, by kind (counted when the game ends)"
    );
    describe_histogram!(
        "werewolf_store_commit_seconds",
        Unit::Seconds,
        "durable log commits (a running game's: when it ends)"
    );
}
