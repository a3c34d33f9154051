//! `WEREWOLF_CA_FILE` (what the examples read through `Hub::with_env_root_certificate`):
//! alone in its test binary because it sets an environment variable.

mod common;

use common::*;
use werewolf_client::{CA_FILE_ENV, ClientError, Hub};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ca_file_variable_trusts_a_private_root() {
    let hub = hub_with(&[]).await;
    let proxy = TlsProxy::start(hub.addr()).await;
    let file = std::env::temp_dir().join(format!("werewolf-ca-{}.pem", std::process::id()));
    std::fs::write(&file, &proxy.cert_pem).expect("write the CA file");

    // SAFETY: the only test of this binary; nothing else runs while the variable changes.
    unsafe { std::env::set_var(CA_FILE_ENV, &file) };
    let trusted = Hub::new(&proxy.url("https")).and_then(Hub::with_env_root_certificate);
    unsafe { std::env::set_var(CA_FILE_ENV, file.with_extension("missing")) };
    let missing = Hub::new(&proxy.url("https")).and_then(Hub::with_env_root_certificate);
    unsafe { std::env::remove_var(CA_FILE_ENV) };
    let _ = std::fs::remove_file(&file);

    check_tls_seat(&trusted.expect("a hub trusting WEREWOLF_CA_FILE")).await;
    let error = missing.expect_err("a missing CA file is an error");
    assert!(matches!(error, ClientError::Tls(_)), "{error:?}");
    assert!(error.to_string().contains(CA_FILE_ENV), "{error}");
    stop(hub).await;
}
