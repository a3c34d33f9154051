//! A typed client for werewolf-hub: REST for games, WebSocket for agents and viewers.
//!
//! ```no_run
//! # async fn demo() -> Result<(), werewolf_hub::client::ClientError> {
//! use werewolf_hub::client::{Hub, RandomStrategy};
//! let hub = Hub::new("http://127.0.0.1:8000");
//! let game = hub.create_game(&serde_json::json!({"preset": "arena8", "players":
//!     ["A", "B", "C", "D", "E", "F", "G", "H"]})).await?;
//! let seat = &game.players[0];
//! let mut agent = hub.connect_agent(&game.game_id, &seat.player_id, &seat.token).await?;
//! let over = agent.play(&mut RandomStrategy::new(1), |_raw, _frame| {}).await?;
//! println!("winner: {:?}", over.winner);
//! # Ok(()) }
//! ```

use futures_util::{SinkExt, StreamExt};
use rand::prelude::*;
use rand::rngs::StdRng;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use werewolf_schemas::{
    ActionKind, ActionRequestBody, ActionResultBody, GameOverBody, GameStateBody, ResultKind,
    ServerFrame, ServerMessage,
};

/// What can go wrong talking to a hub.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// HTTP transport failure.
    #[error("http: {0}")]
    Http(#[from] reqwest::Error),
    /// The hub answered an HTTP call with an error status.
    #[error("hub refused ({status}): {body}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The hub's reason.
        body: String,
    },
    /// WebSocket failure.
    #[error("websocket: {0}")]
    Ws(#[from] tokio_tungstenite::tungstenite::Error),
    /// The hub sent something that is not a protocol frame.
    #[error("unexpected frame: {0}")]
    Protocol(String),
    /// The socket closed before the game ended.
    #[error("closed before the game ended: {0}")]
    Closed(String),
}

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
}

/// A hub reachable over HTTP and WebSocket.
#[derive(Debug, Clone)]
pub struct Hub {
    /// `http://host:port`.
    base: String,
    /// Shared HTTP client.
    http: reqwest::Client,
    /// Sent as `Authorization: Bearer` on admin calls when set.
    admin_token: Option<String>,
}

/// The WebSocket stream type of this client.
pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

impl Hub {
    /// A hub at `base` (`http://host:port`; a `ws://` base is accepted too).
    pub fn new(base: &str) -> Self {
        let base = base.trim_end_matches('/').replacen("ws://", "http://", 1);
        Hub {
            base,
            http: reqwest::Client::new(),
            admin_token: None,
        }
    }

    /// Uses `token` for `POST /games` and `/start` (hubs with `HUB_ADMIN_TOKEN`).
    pub fn with_admin_token(mut self, token: impl Into<String>) -> Self {
        self.admin_token = Some(token.into());
        self
    }

    /// The `ws://` base URL.
    pub fn ws_base(&self) -> String {
        self.base.replacen("http://", "ws://", 1)
    }

    async fn post(&self, path: &str, body: &Value) -> Result<Value, ClientError> {
        let mut request = self.http.post(format!("{}{path}", self.base)).json(body);
        if let Some(token) = &self.admin_token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await?;
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            return Err(ClientError::Refused {
                status: status.as_u16(),
                body: text,
            });
        }
        serde_json::from_str(&text).map_err(|e| ClientError::Protocol(e.to_string()))
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

    /// Connects a seat's agent.
    pub async fn connect_agent(
        &self,
        game_id: &str,
        player_id: &str,
        token: &str,
    ) -> Result<Agent, ClientError> {
        let url = format!(
            "{}/ws/{player_id}?client_type=agent&game_id={game_id}&token={token}",
            self.ws_base()
        );
        let (ws, _) = tokio_tungstenite::connect_async(url).await?;
        Ok(Agent {
            ws,
            player_id: player_id.to_owned(),
            state: None,
            last_result: None,
        })
    }

    /// Connects a viewer: `ui`, or `observer` (full view with the observer token).
    pub async fn connect_viewer(
        &self,
        client_id: &str,
        client_type: &str,
        game_id: &str,
        token: Option<&str>,
    ) -> Result<Socket, ClientError> {
        let mut url = format!(
            "{}/ws/{client_id}?client_type={client_type}&game_id={game_id}",
            self.ws_base()
        );
        if let Some(t) = token {
            url.push_str("&token=");
            url.push_str(t);
        }
        Ok(tokio_tungstenite::connect_async(url).await?.0)
    }
}

/// Reads the next protocol frame: its raw text and its typed form. `None` once closed.
pub async fn next_frame(ws: &mut Socket) -> Result<Option<(String, ServerFrame)>, ClientError> {
    while let Some(message) = ws.next().await {
        match message? {
            Message::Text(text) => {
                let raw = text.as_str().to_owned();
                let frame = serde_json::from_str(&raw)
                    .map_err(|e| ClientError::Protocol(format!("{e}: {raw}")))?;
                return Ok(Some((raw, frame)));
            }
            Message::Close(frame) => {
                return Err(ClientError::Closed(format!("{frame:?}")));
            }
            _ => continue,
        }
    }
    Ok(None)
}

/// What a strategy answers to an `action_request`.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Send `player_action` with this target (and, for the witch, `save`).
    Act {
        /// A candidate's player id, or `None` to abstain / skip.
        target: Option<String>,
        /// Witch: use the save potion.
        save: bool,
    },
    /// Speak on a talk turn.
    Talk(String),
}

/// How an agent plays. Implement this (an LLM call goes in `decide`).
pub trait Strategy: Send {
    /// Answers one request, knowing the latest `game_state` and private result.
    fn decide(&mut self, request: &ActionRequestBody, knowledge: &Knowledge<'_>) -> Decision;

    /// Optionally whisper to the pack when a werewolf is asked to attack.
    fn whisper(
        &mut self,
        _request: &ActionRequestBody,
        _knowledge: &Knowledge<'_>,
    ) -> Option<String> {
        None
    }
}

/// What an agent knows when deciding.
#[derive(Debug)]
pub struct Knowledge<'a> {
    /// Latest `game_state` (with `you`).
    pub state: Option<&'a GameStateBody>,
    /// Latest private `action_result` (divination, the witch's view of the victim...).
    pub last_result: Option<&'a ActionResultBody>,
}

/// A seat's connected agent.
#[derive(Debug)]
pub struct Agent {
    /// The socket.
    pub ws: Socket,
    /// The seat's player id.
    pub player_id: String,
    /// Latest `game_state`.
    state: Option<GameStateBody>,
    /// Latest private result.
    last_result: Option<ActionResultBody>,
}

impl Agent {
    /// Plays until `game_over`, answering every request with `strategy`. `on_frame` sees
    /// every frame received (raw text and typed), e.g. to log or record it.
    pub async fn play(
        &mut self,
        strategy: &mut dyn Strategy,
        mut on_frame: impl FnMut(&str, &ServerFrame),
    ) -> Result<GameOverBody, ClientError> {
        loop {
            let Some((raw, frame)) = next_frame(&mut self.ws).await? else {
                return Err(ClientError::Closed("stream ended".into()));
            };
            on_frame(&raw, &frame);
            match frame.message {
                ServerMessage::GameState(state) => self.state = Some(state),
                ServerMessage::ActionResult(result) => {
                    if matches!(
                        result.action,
                        ResultKind::Divine | ResultKind::Medium | ResultKind::Witch
                    ) {
                        self.last_result = Some(result);
                    }
                }
                ServerMessage::ActionRequest(request) => {
                    let (whisper, decision) = {
                        let knowledge = Knowledge {
                            state: self.state.as_ref(),
                            last_result: self.last_result.as_ref(),
                        };
                        let whisper = (request.action == ActionKind::Attack)
                            .then(|| strategy.whisper(&request, &knowledge))
                            .flatten();
                        (whisper, strategy.decide(&request, &knowledge))
                    };
                    if let Some(text) = whisper {
                        self.send(json!({"message_type": "agent_message", "channel": "wolves", "message_text": text}))
                            .await?;
                    }
                    let reply = match decision {
                        Decision::Talk(text) => json!({
                            "message_type": "agent_message",
                            "request_id": request.request_id,
                            "message_text": text,
                        }),
                        Decision::Act { target, save } => {
                            let mut v = json!({
                                "message_type": "player_action",
                                "request_id": request.request_id,
                                "action": request.action,
                                "target": target,
                            });
                            if request.action == ActionKind::Witch {
                                v["save"] = json!(save);
                            }
                            v
                        }
                    };
                    self.send(reply).await?;
                }
                ServerMessage::GameOver(over) => return Ok(over),
                _ => {}
            }
        }
    }

    /// Sends one JSON frame.
    pub async fn send(&mut self, value: Value) -> Result<(), ClientError> {
        self.ws.send(Message::text(value.to_string())).await?;
        Ok(())
    }
}

/// A random but legal player: picks uniformly among the candidates, talks a little, and as
/// a werewolf whispers to the pack.
#[derive(Debug)]
pub struct RandomStrategy {
    /// Seeded for reproducible choices.
    rng: StdRng,
}

impl RandomStrategy {
    /// A bot seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        RandomStrategy {
            rng: StdRng::seed_from_u64(seed),
        }
    }
}

impl Strategy for RandomStrategy {
    fn decide(&mut self, request: &ActionRequestBody, knowledge: &Knowledge<'_>) -> Decision {
        match request.action {
            ActionKind::Talk => {
                let day = knowledge.state.map_or(0, |s| s.day);
                if self.rng.random_bool(0.2) {
                    Decision::Act {
                        target: None,
                        save: false,
                    }
                } else {
                    Decision::Talk(format!("Day {day}: I am a simple villager, trust me."))
                }
            }
            ActionKind::Witch => Decision::Act {
                target: if self.rng.random_bool(0.2) {
                    request.candidates.choose(&mut self.rng).cloned()
                } else {
                    None
                },
                save: knowledge
                    .last_result
                    .is_some_and(|r| r.can_save == Some(true) && r.target.is_some())
                    && self.rng.random_bool(0.5),
            },
            _ => Decision::Act {
                target: request.candidates.choose(&mut self.rng).cloned(),
                save: false,
            },
        }
    }

    fn whisper(
        &mut self,
        request: &ActionRequestBody,
        _knowledge: &Knowledge<'_>,
    ) -> Option<String> {
        let target = request.candidates.choose(&mut self.rng)?;
        Some(format!("Let's take {target} tonight."))
    }
}
