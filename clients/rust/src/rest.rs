//! [`Hub`]: a hub's URLs, its REST calls (create, join, start a game) and connecting a seat's
//! agent or a viewer.

use super::connect::{http_base, ws_of};
use super::reconnect::Session;
use super::{Agent, ClientError, ReconnectPolicy, Socket, Viewer};
use serde::Deserialize;
use serde_json::{Value, json};

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
}

/// `POST /games` answer.
#[derive(Debug, Clone, Deserialize)]
pub struct CreatedGame {
    /// The game.
    pub game_id: String,
    /// Named seats with their credentials.
    pub players: Vec<SeatCredentials>,
    /// Token for the full (observer) view.
    pub observer_token: String,
    /// The game's seed, from hubs that return it.
    #[serde(default)]
    pub seed: Option<u64>,
    /// The engine config (with the seed), from hubs that return it.
    #[serde(default)]
    pub config: Option<Value>,
}

/// A hub reachable over HTTP and WebSocket, at one URL or several (tried in turn).
#[derive(Debug, Clone)]
pub struct Hub {
    /// `http://host:port` of each URL of the hub, in the order they are tried.
    bases: Vec<String>,
    /// Shared HTTP client.
    http: reqwest::Client,
    /// Sent as `Authorization: Bearer` on admin calls when set.
    admin_token: Option<String>,
    /// How agents and viewers connected through this hub come back after a drop.
    reconnect: ReconnectPolicy,
}

impl Hub {
    /// A hub at `base` (`http://host:port`; a `ws://` base is accepted too).
    pub fn new(base: &str) -> Self {
        Hub {
            bases: vec![http_base(base)],
            http: reqwest::Client::new(),
            admin_token: None,
            reconnect: ReconnectPolicy::default(),
        }
    }

    /// Adds another URL of the same hub (or of a node sharing its store), tried after the
    /// others when a connection or an HTTP call cannot reach them. HTTP refusals are not
    /// retried elsewhere.
    pub fn with_fallback(mut self, base: &str) -> Self {
        self.bases.push(http_base(base));
        self
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

    /// The `ws://` base URL (of the first URL).
    pub fn ws_base(&self) -> String {
        ws_of(&self.bases[0])
    }

    /// Every URL of the hub, in the order they are tried (`http://` form).
    pub fn bases(&self) -> &[String] {
        &self.bases
    }

    async fn post(&self, path: &str, body: &Value) -> Result<Value, ClientError> {
        let mut unreachable = None;
        for base in &self.bases {
            let mut request = self.http.post(format!("{base}{path}")).json(body);
            if let Some(token) = &self.admin_token {
                request = request.bearer_auth(token);
            }
            let response = match request.send().await {
                Ok(r) => r,
                Err(e) if e.is_connect() || e.is_timeout() => {
                    unreachable = Some(e);
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let status = response.status();
            let text = response.text().await?;
            if !status.is_success() {
                return Err(ClientError::Refused {
                    status: status.as_u16(),
                    body: text,
                });
            }
            return serde_json::from_str(&text).map_err(|e| ClientError::Protocol(e.to_string()));
        }
        Err(unreachable.map_or_else(
            || ClientError::Protocol("no hub URL".into()),
            ClientError::Http,
        ))
    }

    /// `POST /games`.
    pub async fn create_game(&self, body: &Value) -> Result<CreatedGame, ClientError> {
        let value = self.post("/games", body).await?;
        serde_json::from_value(value).map_err(|e| ClientError::Protocol(e.to_string()))
    }

    /// `POST /games/{id}/join`.
    pub async fn join(&self, game_id: &str, name: &str) -> Result<SeatCredentials, ClientError> {
        let value = self
            .post(&format!("/games/{game_id}/join"), &json!({ "name": name }))
            .await?;
        serde_json::from_value(value).map_err(|e| ClientError::Protocol(e.to_string()))
    }

    /// `POST /games/{id}/start`.
    pub async fn start(&self, game_id: &str) -> Result<(), ClientError> {
        self.post(&format!("/games/{game_id}/start"), &json!({}))
            .await
            .map(|_| ())
    }

    /// A session for `path` (`/ws/{id}?...`) over this hub's URLs.
    fn session(&self, path: String) -> Session {
        Session::new(
            self.bases.iter().map(|b| ws_of(b)).collect(),
            path,
            self.reconnect.clone(),
        )
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
        let mut session = self.session(format!(
            "/ws/{player_id}?client_type=agent&game_id={game_id}&token={token}"
        ));
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
        self.session(viewer_path(client_id, client_type, game_id, token))
            .connect_first()
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
        let mut session = self.session(viewer_path(client_id, client_type, game_id, token));
        let ws = session.connect_first().await?;
        Ok(Viewer {
            ws,
            client_id: client_id.to_owned(),
            session,
        })
    }
}

fn viewer_path(client_id: &str, client_type: &str, game_id: &str, token: Option<&str>) -> String {
    let mut path = format!("/ws/{client_id}?client_type={client_type}&game_id={game_id}");
    if let Some(t) = token {
        path.push_str("&token=");
        path.push_str(t);
    }
    path
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_of_every_scheme_map_to_http_and_ws() {
        let hub = Hub::new("ws://a:1/").with_fallback("https://b");
        assert_eq!(hub.bases(), ["http://a:1", "https://b"]);
        assert_eq!(hub.ws_base(), "ws://a:1");
        assert_eq!(ws_of("https://b"), "wss://b");
    }
}
