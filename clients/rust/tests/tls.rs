//! The client against a hub behind TLS: a TLS-terminating TCP proxy (tokio-rustls, with a
//! self-signed certificate made by rcgen) in front of a real hub; REST over `https://` and
//! a full bot game over `wss://`, the certificate trusted through
//! `Hub::with_root_certificate_pem` or `WEREWOLF_CA_FILE`. Plain `http://` still works.

mod common;

use common::*;
use std::sync::atomic::Ordering;
use tokio_tungstenite::MaybeTlsStream;
use werewolf_client::{ClientError, Hub};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_bot_game_over_https_and_wss() {
    let hub = hub_with(&[]).await;
    let proxy = TlsProxy::start(hub.addr()).await;
    let client = Hub::new(&proxy.url("https"))
        .and_then(|h| h.with_root_certificate_pem(proxy.cert_pem.as_bytes()))
        .expect("https hub");
    assert!(
        client.ws_base().starts_with("wss://"),
        "{}",
        client.ws_base()
    );

    // one socket, checked to be TLS end to end
    let seatless = client
        .connect_socket("tls-ui", &[("client_type", "ui")])
        .await
        .expect("wss upgrade");
    assert!(
        matches!(seatless.get_ref(), MaybeTlsStream::Rustls(_)),
        "the socket is not TLS"
    );
    drop(seatless);

    let winner = play_bot_game(&client).await;
    eprintln!("winner over TLS: {winner}");
    // REST calls, five agents, an observer and the ui above all went through the proxy
    assert!(
        proxy.handshakes.load(Ordering::SeqCst) >= 7,
        "{} TLS handshakes",
        proxy.handshakes.load(Ordering::SeqCst)
    );
    stop(hub).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wss_base_url_reaches_the_same_hub() {
    let hub = hub_with(&[]).await;
    let proxy = TlsProxy::start(hub.addr()).await;
    let client = Hub::new(&proxy.url("wss"))
        .and_then(|h| h.with_root_certificate_pem(proxy.cert_pem.as_bytes()))
        .expect("wss hub");
    check_tls_seat(&client).await;
    stop(hub).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_is_refused_over_rest_and_websocket() {
    let hub = hub_with(&[]).await;
    let proxy = TlsProxy::start(hub.addr()).await;
    let client = Hub::new(&proxy.url("https")).expect("https hub");
    let rest = client
        .create_game(&serde_json::json!({"preset": "aiwolf5", "rules": "hub"}))
        .await
        .expect_err("self-signed certificate not trusted");
    assert!(matches!(rest, ClientError::Http(_)), "{rest:?}");
    let ws = client
        .connect_socket("x", &[("client_type", "ui")])
        .await
        .expect_err("self-signed certificate not trusted");
    assert!(
        ws.to_string().to_lowercase().contains("certificate"),
        "{ws}"
    );
    assert!(!ws.to_string().contains('\n'), "{ws}");
    assert_eq!(proxy.handshakes.load(Ordering::SeqCst), 0);
    stop(hub).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_http_hub_still_works() {
    let hub = hub_with(&[]).await;
    let client = Hub::new(&format!("http://{}/", hub.addr())).expect("http hub");
    assert!(
        client.ws_base().starts_with("ws://"),
        "{}",
        client.ws_base()
    );
    let plain = client
        .connect_socket("plain-ui", &[("client_type", "ui")])
        .await
        .expect("ws upgrade");
    assert!(matches!(plain.get_ref(), MaybeTlsStream::Plain(_)));
    drop(plain);
    play_bot_game(&client).await;
    stop(hub).await;
}
