//! [`Hub`]: a hub's URLs, its REST calls (create, join, start a game) and connecting a seat's
//! agent or a viewer.

use super::reconnect::Session;
use super::{Agent, ClientError, HubUrl, ReconnectPolicy, Socket, Viewer, tls};
use rustls::pki_types::CertificateDer;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use url::Url;

/// Credentials of one seat.
#[derive(Debug, Clone, Deserialize)]
pub struct SeatCredentials {
    /// The seat's player id (its client_id).
    pub player_id: String,
    /// The seat's name.
    #[serde(default)]
    pub name: String,
    /// The seat's token.
    pub token: String,
    /// How to connect an agent to the seat, from hubs that say it: `ws_url` and the
    /// repository agents' command lines (`commands.python`, `commands.rust`).
    #[serde(default)]
    pub ws_url: Option<String>,
    /// See `ws_url`.
    #[serde(default)]
    pub commands: Option<Value>,
}

/// A seat the hub's built-in bot plays.
#[derive(Debug, Clone, Deserialize)]
pub struct BotSeat {
    /// The seat's player id.
    pub player_id: String,
    /// The seat's name.
    pub name: String,
}

/// `POST /games` answer.
#[derive(Debug, Clone, Deserialize)]
pub struct CreatedGame {
    /// The game.
    pub game_id: String,
    /// Named seats a client plays, with their credentials (with `bots`: the free seats).
    pub players: Vec<SeatCredentials>,
    /// Seats the hub's built-in bots play (`bots` / `bot_seats` in the request).
    #[serde(default)]
    pub bots: Vec<BotSeat>,
    /// Token for the full (observer) view.
    pub observer_token: String,
    /// The game's seed, from hubs that return it.
    #[serde(default)]
    pub seed: Option<u64>,
    /// The engine config (with the seed), from hubs that return it.
    #[serde(default)]
    pub config: Option<Value>,
}

/// A hub reachable over HTTP and WebSocket, at one URL or several (tried in turn), over
/// plain or TLS connections.
#[derive(Debug, Clone)]
pub struct Hub {
    /// Each URL of the hub, in the order they are tried.
    bases: Vec<HubUrl>,
    /// Shared HTTP client (over `tls`).
    http: reqwest::Client,
    /// The TLS configuration of REST and WebSocket connections.
    tls: Arc<rustls::ClientConfig>,
    /// Root certificates trusted besides the public ones.
    extra_roots: Vec<CertificateDer<'static>>,
    /// Sent as `Authorization: Bearer` on admin calls when set.
    admin_token: Option<String>,
    /// How agents and viewers connected through this hub come back after a drop.
    reconnect: ReconnectPolicy,
}

impl Hub {
    /// A hub at `base`: `http://host:port`, `https://…`, `ws://…` or `wss://…`, with an
    /// optional path prefix and trailing slash ([`HubUrl`]). Anything else is
    /// [`ClientError::BadUrl`].
    pub fn new(base: &str) -> Result<Self, ClientError> {
        let base = HubUrl::parse(base)?;
        tls::install_default_provider();
        let tls = tls::client_config(&[])?;
        Ok(Hub {
            bases: vec![base],
            http: tls::http_client(&tls)?,
            tls,
            extra_roots: Vec::new(),
            admin_token: None,
            reconnect: ReconnectPolicy::default(),
        })
    }

    /// A hub at several URLs: the nodes of one cluster sharing a store, or several addresses
    /// of one hub, each in any form [`Hub::new`] takes. The first is tried first; the others
    /// as [`Hub::with_fallback`] adds them. No URL at all is [`ClientError::BadUrl`].
    ///
    /// ```
    /// # use werewolf_client::Hub;
    /// let hub = Hub::with_urls(["http://10.0.0.1:8000", "http://10.0.0.2:8000"]).unwrap();
    /// assert_eq!(hub.bases().len(), 2);
    /// ```
    pub fn with_urls<I>(urls: I) -> Result<Self, ClientError>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let mut urls = urls.into_iter();
        let first = urls.next().ok_or_else(|| ClientError::BadUrl {
            url: String::new(),
            reason: "no hub URL given".to_owned(),
        })?;
        urls.try_fold(Hub::new(first.as_ref())?, |hub, url| {
            hub.with_fallback(url.as_ref())
        })
    }

    /// Adds another URL of the same hub (or of a node sharing its store), in any form
    /// [`Hub::new`] takes. WebSocket connections try the URLs in turn: the first connection
    /// in order, a reconnect starting with the URL after the one that was lost (see
    /// [`ReconnectPolicy`]). An HTTP call goes to the next URL when one cannot be reached or
    /// answers 503 (a node draining or handing a game over); other refusals are final.
    pub fn with_fallback(mut self, base: &str) -> Result<Self, ClientError> {
        self.bases.push(HubUrl::parse(base)?);
        Ok(self)
    }

    /// Also trusts the root certificate(s) of a PEM bundle for `https://` and `wss://`
    /// (a private deployment's CA, a test's self-signed certificate). Public roots stay
    /// trusted.
    pub fn with_root_certificate_pem(mut self, pem: &[u8]) -> Result<Self, ClientError> {
        self.extra_roots.extend(tls::certificates(pem)?);
        self.tls = tls::client_config(&self.extra_roots)?;
        self.http = tls::http_client(&self.tls)?;
        Ok(self)
    }

    /// [`Hub::with_root_certificate_pem`] with the PEM file named by the environment
    /// variable `WEREWOLF_CA_FILE` ([`CA_FILE_ENV`](crate::CA_FILE_ENV)) when it is set;
    /// unchanged otherwise.
    pub fn with_env_root_certificate(self) -> Result<Self, ClientError> {
        let Some(path) = std::env::var_os(tls::CA_FILE_ENV) else {
            return Ok(self);
        };
        let pem = std::fs::read(&path).map_err(|e| {
            ClientError::Tls(format!(
                "{} = {}: {e}",
                tls::CA_FILE_ENV,
                std::path::Path::new(&path).display()
            ))
        })?;
        self.with_root_certificate_pem(&pem)
    }

    /// Uses `token` for `POST /games` and `/start` (hubs with `HUB_ADMIN_TOKEN`).
    pub fn with_admin_token(mut self, token: impl Into<String>) -> Self {
        self.admin_token = Some(token.into());
        self
    }

    /// How agents and viewers connected from now on reconnect ([`ReconnectPolicy::never`]
    /// turns it off).
    pub fn with_reconnect(mut self, policy: ReconnectPolicy) -> Self {
        self.reconnect = policy;
        self
    }

    /// The `ws://` (or `wss://`) base URL of the first URL, without a trailing slash.
    pub fn ws_base(&self) -> String {
        self.bases[0].ws().as_str().trim_end_matches('/').to_owned()
    }

    /// Every URL of the hub, in the order they are tried.
    pub fn bases(&self) -> &[HubUrl] {
        &self.bases
    }

    /// `ws(s)://…/ws/{client_id}?{query}` on the first URL, percent-encoded.
    pub fn socket_url<'a>(
        &self,
        client_id: &str,
        query: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Url {
        self.bases[0].socket(client_id, query)
    }

    /// `POST {base}/{segments}` on each URL in turn until one that is reachable and not
    /// 503 answers.
    async fn post(&self, segments: &[&str], body: &Value) -> Result<Value, ClientError> {
        let mut last = None;
        for base in &self.bases {
            let mut request = self
                .http
                .post(base.rest(segments.iter().copied()))
                .json(body);
            if let Some(token) = &self.admin_token {
                request = request.bearer_auth(token);
            }
            let response = match request.send().await {
                Ok(r) => r,
                Err(e) if e.is_connect() || e.is_timeout() => {
                    last = Some(ClientError::Http(e));
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let status = response.status();
            let bytes = response.bytes().await?;
            if status == reqwest::StatusCode::SERVICE_UNAVAILABLE {
                // this node cannot take it now (draining, handing over): the next may
                last = Some(ClientError::refused(status.as_u16(), &bytes));
                continue;
            }
            if !status.is_success() {
                return Err(ClientError::refused(status.as_u16(), &bytes));
            }
            return serde_json::from_slice(&bytes)
                .map_err(|e| ClientError::Protocol(e.to_string()));
        }
        Err(last.unwrap_or_else(|| ClientError::Protocol("no hub URL".into())))
    }

    /// `POST /games`.
    pub async fn create_game(&self, body: &Value) -> Result<CreatedGame, ClientError> {
        let value = self.post(&["games"], body).await?;
        serde_json::from_value(value).map_err(|e| ClientError::Protocol(e.to_string()))
    }

    /// `POST /games/{id}/join`.
    pub async fn join(&self, game_id: &str, name: &str) -> Result<SeatCredentials, ClientError> {
        let value = self
            .post(&["games", game_id, "join"], &json!({ "name": name }))
            .await?;
        serde_json::from_value(value).map_err(|e| ClientError::Protocol(e.to_string()))
    }

    /// `POST /games/{id}/start`.
    pub async fn start(&self, game_id: &str) -> Result<(), ClientError> {
        self.post(&["games", game_id, "start"], &json!({}))
            .await
            .map(|_| ())
    }

    /// A session for `/ws/{client_id}?{query}` over this hub's URLs.
    fn session(&self, client_id: &str, query: &[(&str, &str)]) -> Session {
        Session::new(
            self.bases
                .iter()
                .map(|b| b.socket(client_id, query.iter().copied()))
                .collect(),
            self.tls.clone(),
            self.reconnect.clone(),
        )
    }

    /// Opens one WebSocket to `/ws/{client_id}?{query}` (trying the hub's URLs in turn),
    /// over TLS for `https`/`wss` hubs. A bare socket that does not reconnect, the
    /// `connection` frame left unread; a refused upgrade is [`ClientError::Refused`].
    pub async fn connect_socket(
        &self,
        client_id: &str,
        query: &[(&str, &str)],
    ) -> Result<Socket, ClientError> {
        self.session(client_id, query).connect_first().await
    }

    /// Connects a seat's agent (trying the hub's URLs in turn). The agent reconnects by
    /// itself while it plays ([`Agent::play`], [`Agent::recv`]); the `connection` frame is
    /// left unread.
    pub async fn connect_agent(
        &self,
        game_id: &str,
        player_id: &str,
        token: &str,
    ) -> Result<Agent, ClientError> {
        let mut session = self.session(
            player_id,
            &[
                ("client_type", "agent"),
                ("game_id", game_id),
                ("token", token),
            ],
        );
        let ws = session.connect_first().await?;
        Ok(Agent {
            ws,
            player_id: player_id.to_owned(),
            state: None,
            last_result: None,
            session,
        })
    }

    /// Connects a viewer: `ui`, or `observer` (full view with the observer token). A bare
    /// socket that does not reconnect; see [`Hub::watch`] for one that does.
    pub async fn connect_viewer(
        &self,
        client_id: &str,
        client_type: &str,
        game_id: &str,
        token: Option<&str>,
    ) -> Result<Socket, ClientError> {
        self.connect_socket(client_id, &viewer_query(client_type, game_id, token))
            .await
    }

    /// Connects a viewer that reconnects by itself with `last_seq`: read it with
    /// [`Viewer::recv`].
    pub async fn watch(
        &self,
        client_id: &str,
        client_type: &str,
        game_id: &str,
        token: Option<&str>,
    ) -> Result<Viewer, ClientError> {
        let mut session = self.session(client_id, &viewer_query(client_type, game_id, token));
        let ws = session.connect_first().await?;
        Ok(Viewer {
            ws,
            client_id: client_id.to_owned(),
            session,
        })
    }
}

fn viewer_query<'a>(
    client_type: &'a str,
    game_id: &'a str,
    token: Option<&'a str>,
) -> Vec<(&'a str, &'a str)> {
    let mut query = vec![("client_type", client_type), ("game_id", game_id)];
    if let Some(t) = token {
        query.push(("token", t));
    }
    query
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_of_every_scheme_map_to_http_and_ws() {
        let hub = Hub::new("ws://a:1/")
            .and_then(|h| h.with_fallback("https://b/pre/"))
            .expect("valid URLs");
        let shown: Vec<String> = hub.bases().iter().map(|b| b.to_string()).collect();
        assert_eq!(shown, ["http://a:1", "https://b/pre"]);
        assert_eq!(hub.ws_base(), "ws://a:1");
        assert_eq!(
            hub.bases()[1].rest(["games", "g 1", "join"]).as_str(),
            "https://b/pre/games/g%201/join"
        );
        assert_eq!(
            hub.socket_url("p&1", [("token", "a&b#c d/e?")]).as_str(),
            "ws://a:1/ws/p&1?token=a%26b%23c+d%2Fe%3F"
        );
    }

    #[test]
    fn several_urls_keep_their_order() {
        let hub = Hub::with_urls(["ws://a:1", "http://b:2/pre/", "wss://c"]).expect("valid");
        let shown: Vec<String> = hub.bases().iter().map(|b| b.to_string()).collect();
        assert_eq!(shown, ["http://a:1", "http://b:2/pre", "https://c"]);
        assert_eq!(hub.ws_base(), "ws://a:1");
        let owned = vec![String::from("http://a:1")];
        assert_eq!(Hub::with_urls(&owned).expect("valid").bases().len(), 1);
        let error = Hub::with_urls(Vec::<String>::new()).expect_err("no URL");
        assert!(matches!(error, ClientError::BadUrl { .. }), "{error:?}");
        assert!(error.to_string().contains("no hub URL"), "{error}");
        let error = Hub::with_urls(["http://a:1", "a:2"]).expect_err("bad second URL");
        assert!(error.to_string().contains("`a:2`"), "{error}");
    }

    #[test]
    fn a_bad_url_is_refused_up_front() {
        let error = Hub::new("localhost:8000").expect_err("no scheme");
        assert!(matches!(error, ClientError::BadUrl { .. }), "{error:?}");
        let error = Hub::new("http://a:1")
            .and_then(|h| h.with_fallback("gopher://b"))
            .expect_err("bad fallback");
        assert!(error.to_string().contains("gopher"), "{error}");
    }

    #[test]
    fn a_root_certificate_must_be_pem() {
        let hub = Hub::new("https://a").expect("valid");
        let error = hub
            .with_root_certificate_pem(b"not a certificate")
            .expect_err("no PEM block");
        assert!(matches!(error, ClientError::Tls(_)), "{error:?}");
    }
}
