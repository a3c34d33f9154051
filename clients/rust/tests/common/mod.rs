//! Helpers of the client's end-to-end tests: a real hub on 127.0.0.1:0 (in-process, as the
//! root crate's tests start it), a TLS-terminating proxy in front of it, and a full bot game
//! played through the client.

#![allow(dead_code)]

use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_tungstenite::MaybeTlsStream;
use werewolf_client::{Hub, RandomStrategy};
use werewolf_server::{Config, RunningHub};

/// How long a test waits for something it expects before failing.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A hub on 127.0.0.1 with an ephemeral port, in-memory store, and `vars` on top.
pub async fn hub_with(vars: &[(&str, &str)]) -> RunningHub {
    let mut env: Vec<(String, String)> = vec![
        ("WS_HOST".into(), "127.0.0.1".into()),
        ("WS_PORT".into(), "0".into()),
        ("HUB_STORE".into(), "memory".into()),
    ];
    env.retain(|(k, _)| !vars.iter().any(|(v, _)| v == k));
    env.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let config = Config::from_vars(env).expect("test config is valid");
    werewolf_server::start(config).await.expect("hub starts")
}

/// Creates an aiwolf5 game through `client`, seats five `RandomStrategy` bots over the
/// client's WebSocket (plus a full observer), plays it to `game_over` and returns the
/// winner every seat and the observer agreed on.
pub async fn play_bot_game(client: &Hub) -> String {
    let game = client
        .create_game(&json!({"preset": "aiwolf5", "rules": "hub", "seed": 7,
                             "players": ["A", "B", "C", "D", "E"],
                             "action_timeout_ms": 10_000, "talk_rounds": 1}))
        .await
        .expect("create game");
    let mut observer = client
        .watch(
            "tls-observer",
            "observer",
            &game.game_id,
            Some(&game.observer_token),
        )
        .await
        .expect("full observer connects");
    let mut bots = Vec::new();
    for (i, seat) in game.players.iter().enumerate() {
        let mut agent = client
            .connect_agent(&game.game_id, &seat.player_id, &seat.token)
            .await
            .expect("agent connects");
        bots.push(tokio::spawn(async move {
            agent
                .play(&mut RandomStrategy::new(i as u64), |_, _| {})
                .await
                .expect("agent plays to game_over")
        }));
    }
    let mut winners = Vec::new();
    for bot in bots {
        let over = tokio::time::timeout(PATIENCE, bot)
            .await
            .expect("game over in time")
            .expect("bot task");
        winners.push(json!(over.winner).as_str().unwrap_or_default().to_owned());
    }
    let observed = tokio::time::timeout(PATIENCE, async {
        loop {
            let (raw, _) = observer.recv().await.expect("observer reads");
            let value: serde_json::Value = serde_json::from_str(&raw).expect("json");
            if value["message_type"] == "game_over" {
                return value["winner"].as_str().unwrap_or_default().to_owned();
            }
        }
    })
    .await
    .expect("observer sees game_over");
    assert!(
        winners.iter().all(|w| *w == observed),
        "{winners:?} vs {observed}"
    );
    assert!(
        ["villagers", "werewolves", "draw"].contains(&observed.as_str()),
        "{observed}"
    );
    observed
}

/// Stops a hub.
pub async fn stop(hub: RunningHub) {
    hub.shutdown().trigger();
    let _ = hub.stopped().await;
}

/// A TLS-terminating proxy on 127.0.0.1:0 forwarding every connection to `upstream`.
pub struct TlsProxy {
    pub addr: SocketAddr,
    /// The proxy's self-signed certificate, PEM: the root a client must trust.
    pub cert_pem: String,
    /// TLS handshakes completed.
    pub handshakes: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl TlsProxy {
    pub async fn start(upstream: SocketAddr) -> TlsProxy {
        let certified = rcgen::generate_simple_self_signed(vec![
            "127.0.0.1".to_owned(),
            "localhost".to_owned(),
        ])
        .expect("self-signed certificate");
        let cert_pem = certified.cert.pem();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            certified.signing_key.serialize_der(),
        ));
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .expect("server config");
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let handshakes = Arc::new(AtomicUsize::new(0));
        let counted = handshakes.clone();
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let counted = counted.clone();
                tokio::spawn(async move {
                    // a client that does not trust the certificate aborts the handshake
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    counted.fetch_add(1, Ordering::SeqCst);
                    let Ok(mut up) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
                });
            }
        });
        TlsProxy {
            addr,
            cert_pem,
            handshakes,
            task,
        }
    }

    pub fn url(&self, scheme: &str) -> String {
        format!("{scheme}://{}/", self.addr)
    }
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Creates a game over `client` and connects one seat's agent: both over TLS.
pub async fn check_tls_seat(client: &Hub) {
    let game = client
        .create_game(
            &json!({"preset": "aiwolf5", "rules": "hub", "auto_start": false,
                             "players": ["A", "B", "C", "D", "E"]}),
        )
        .await
        .expect("create over https");
    let seat = &game.players[0];
    let agent = client
        .connect_agent(&game.game_id, &seat.player_id, &seat.token)
        .await
        .expect("agent over wss");
    assert!(matches!(agent.ws.get_ref(), MaybeTlsStream::Rustls(_)));
}
