//! TLS for `https://` and `wss://` hubs: one rustls configuration (ring provider, the public
//! webpki roots plus any extra root a private deployment needs), shared by REST (reqwest)
//! and WebSocket (tungstenite).

use super::ClientError;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::sync::Arc;

/// The environment variable the examples read for an extra root certificate (a PEM file):
/// [`Hub::with_env_root_certificate`](super::Hub::with_env_root_certificate).
pub const CA_FILE_ENV: &str = "WEREWOLF_CA_FILE";

/// The ring provider: what this crate builds every TLS configuration with.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Makes ring the process-wide rustls provider unless the application chose one, so that
/// nothing rustls-based in the process (ours or a dependency's) panics with "no
/// process-level CryptoProvider available".
pub(crate) fn install_default_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Every certificate of a PEM bundle; none is an error.
pub(crate) fn certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, ClientError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ClientError::Tls(format!("root certificate PEM: {e}")))?;
    if certs.is_empty() {
        return Err(ClientError::Tls(
            "root certificate PEM: no CERTIFICATE block".into(),
        ));
    }
    Ok(certs)
}

/// A client configuration trusting the webpki roots and `extra`.
pub(crate) fn client_config(
    extra: &[CertificateDer<'static>],
) -> Result<Arc<rustls::ClientConfig>, ClientError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for cert in extra {
        roots
            .add(cert.clone())
            .map_err(|e| ClientError::Tls(format!("root certificate: {e}")))?;
    }
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The HTTP client for REST calls, over `config`.
pub(crate) fn http_client(config: &rustls::ClientConfig) -> Result<reqwest::Client, ClientError> {
    reqwest::Client::builder()
        .use_preconfigured_tls(config.clone())
        .build()
        .map_err(|e| ClientError::Tls(format!("HTTP client: {e}")))
}
