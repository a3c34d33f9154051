//! The AIWolf NLP endpoint: agents written for `aiwolfdial/aiwolf-nlp-server` (and its Python
//! library `aiwolf-nlp-common`) play on the hub unchanged.
//!
//! # How it fits
//! - `GET /ws` (exact path; the hub's own protocol stays at `/ws/{client_id}`) answers the
//!   upgrade, asks `{"request":"NAME"}` and reads the agent's name; its team is the name
//!   without trailing digits, as AIWolf's server does.
//! - The waiting room seats agents of one team together (AIWolf's self-match: a team's
//!   processes fill every seat, in arrival order) once `AIWOLF_PLAYERS` of them wait, and
//!   creates a normal hub game (`aiwolf5` or `aiwolf13`): spectator pages, replays, the durable
//!   log and per-seat views work as for any game.
//! - Each agent plays its seat through an adapter ([`view`], [`play`]) attached to the game's actor
//!   exactly like a hub agent of that seat: it sees only the seat's stream, folds it into
//!   AIWolf packets (`INITIALIZE`, `DAILY_INITIALIZE`, `TALK`, `DAILY_FINISH`, `VOTE`,
//!   `DIVINE`, `GUARD`, `WHISPER`, `ATTACK`, `FINISH`) and turns the raw-text answers
//!   (`Agent[NN]`, talk text, `Skip`/`Over`) into `player_action`s (a whisper into the pack's
//!   channel). A name the hub would refuse abstains.
//!
//! - Optional JWT auth as AIWolf's (`AIWOLF_SECRET_KEY`): [`auth`].
//! - AIWolf's timeouts and `NAME` liveness probe (`AIWOLF_*_TIMEOUT_MS`; the hub game's
//!   action timeout is AIWolf's action timeout plus its grace): [`probe`].
//! - AIWolf's JSON log of every request and answer (`AIWOLF_LOG_DIR`): [`json_log`].
//! - A second port serving only `GET /ws` (`AIWOLF_PORT`): [`listener`].
//!
//! The protocol as read from AIWolf's server and library: `docs/aiwolf-protocol-notes.md`.
//!
//! - AIWolf's game logger CSV (`GET /games/{id}/aiwolf/game.log`, and files in
//!   `AIWOLF_LOG_DIR`): [`game_log`].
//! - AIWolf seats in games created through `POST /games` (`protocol: aiwolf`), taken with
//!   `GET /ws?game_id=…` and the seat's token; mixed-team matching (`AIWOLF_SELF_MATCH=false`).
//!
//! Where the hub differs from AIWolf's server: AIWolf's abort once `max_continue_error_ratio`
//! of the agents have failed is not copied (the hub plays a failed agent's seat by its
//! timeouts); the night's whisper phase is AIWolf's ([`pack`]), but day 0's morning and
//! evening whispers are not played (see the README's AIWolf section).

pub mod auth;
pub mod game_log;
#[cfg(test)]
mod golden;
pub mod json_log;
pub mod listener;
pub mod pack;
pub mod packets;
mod play;
pub mod probe;
mod room;
#[cfg(test)]
mod scripted;
mod seat;
pub mod view;

use play::play;
pub use room::WaitingRoom;
use room::agent;
use seat::{seat_agent, seat_of};

use crate::connection_manager::{Admission, Credential};
use crate::games::{GameCommand, GameShared, Member};
use crate::state::AppState;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use packets::{
    AttackVoteSetting, MaxCount, MaxLength, Packet, Setting, TalkSetting, TimeoutSetting,
    VoteSetting,
};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;
use tracing::{debug, info, warn};
use view::{Asked, SeatView};
use werewolf_schemas::{ActionKind, ClientMessage, ClientType, ServerFrame};

/// How long an agent may take to answer `NAME`.
const NAME_TIMEOUT: Duration = Duration::from_secs(30);

/// A seat given to a waiting agent.
#[derive(Debug)]
struct Seated {
    /// The game.
    game: Arc<GameShared>,
    /// The seat index.
    seat: usize,
    /// Every seat's player id.
    ids: Vec<String>,
    /// The rules, for `setting`.
    setting: Setting,
    /// The game's JSON log (`AIWOLF_LOG_DIR`).
    log: Option<json_log::GameJsonLog>,
    /// The game's pack, for the whisper phase.
    pack: pack::Pack,
}

/// `GET /ws`: an AIWolf agent. Holds one of the hub's connection slots (and of its
/// address's) like any socket. With `AIWOLF_SECRET_KEY` set, its token is checked first
/// ([`auth`]).
pub async fn upgrade(
    State(state): State<AppState>,
    peer: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => return rejection.into_response(),
    };
    if state.shutdown.is_triggered() {
        return crate::api::error(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "server is shutting down".to_owned(),
        );
    }
    // `?game_id=`: the agent takes its AIWolf seat of a game created through `POST /games`,
    // with the seat's token (instead of a JWT) and without the waiting room.
    let entry = match auth::param(query.as_deref(), "game_id").filter(|g| !g.is_empty()) {
        Some(game_id) => {
            let token = auth::token_of(query.as_deref(), &headers);
            match seat_of(&state, &game_id, &token) {
                Ok(seated) => Entry::Seat(Box::new(seated)),
                Err(refusal) => return *refusal,
            }
        }
        None => match state.config.aiwolf_secret_key.as_deref() {
            Some(secret) => {
                match auth::verify(secret, &auth::token_of(query.as_deref(), &headers)) {
                    Ok(t) => Entry::Room(Some(t)),
                    Err(e) => {
                        return crate::api::error(
                            axum::http::StatusCode::UNAUTHORIZED,
                            e.to_string(),
                        );
                    }
                }
            }
            None => Entry::Room(None),
        },
    };
    let ip_slot = match crate::upgrade::take_ip_slot(&state, peer.map(|p| p.0.0.ip())) {
        Ok(s) => s,
        Err(refusal) => return *refusal,
    };
    let Some(slot) = crate::upgrade::take_slot(&state) else {
        return crate::upgrade::over_capacity(&state);
    };
    let tracker = state.connections.clone();
    ws.max_message_size(state.config.ws_max_message_bytes)
        .on_upgrade(move |socket| {
            tracker.track_future(async move {
                match entry {
                    Entry::Seat(seated) => seat_agent(socket, state, *seated).await,
                    Entry::Room(token) => agent(socket, state, token).await,
                }
                drop(slot);
                drop(ip_slot);
            })
        })
}

/// Where an AIWolf connection goes once upgraded.
enum Entry {
    /// Its seat of a REST-created game.
    Seat(Box<Seated>),
    /// The waiting room, with its verified token when auth is on.
    Room(Option<auth::PlayerToken>),
}

/// Team of an AIWolf name: the name without trailing digits.
pub fn team_of(name: &str) -> &str {
    name.trim_end_matches(|c: char| c.is_ascii_digit())
}

/// The `setting` of a game.
fn setting_of(spec: &crate::games::spec::GameSpec, config: &crate::Config) -> Setting {
    let counts = spec.config.roles.counts();
    let role_num_map = BTreeMap::from([
        ("WEREWOLF", usize::from(counts.werewolf)),
        ("POSSESSED", usize::from(counts.possessed)),
        ("SEER", usize::from(counts.seer)),
        ("BODYGUARD", usize::from(counts.doctor)),
        ("MEDIUM", usize::from(counts.medium)),
        (
            "VILLAGER",
            usize::from(counts.villager) + usize::from(counts.witch) + usize::from(counts.hunter),
        ),
    ]);
    let talk = TalkSetting {
        max_count: MaxCount {
            per_agent: i64::from(spec.config.talk_rounds),
            per_day: i64::from(spec.config.talk_rounds),
        },
        max_length: MaxLength {
            count_in_word: false,
            count_spaces: true,
            per_talk: spec.config.max_talk_chars as i64,
        },
        max_skip: spec.config.skip_limit.map_or(-1, i64::from),
    };
    // AIWolf's whisper turns (default_13: 4 per wolf, per_day 12 = 4 per wolf; default_5, one
    // wolf: none).
    let wolves = i64::from(counts.werewolf);
    let per_agent = if wolves >= 2 { 4 } else { 0 };
    let whisper = TalkSetting {
        max_count: MaxCount {
            per_agent,
            per_day: per_agent * wolves,
        },
        ..talk.clone()
    };
    let rounds = if spec.config.tie_policy.revotes() {
        2
    } else {
        1
    };
    Setting {
        agent_count: spec.player_count,
        vote_visibility: spec.config.public_votes,
        whisper,
        talk,
        vote: VoteSetting {
            max_count: rounds,
            allow_self_vote: spec.config.self_vote,
        },
        attack_vote: AttackVoteSetting {
            max_count: 1,
            allow_self_vote: false,
            allow_no_target: false,
        },
        timeout: TimeoutSetting {
            action: config.aiwolf_action_timeout_ms,
            response: config.aiwolf_response_timeout_ms,
        },
        role_num_map,
    }
}

/// Sends one packet as a text frame.
async fn send(socket: &mut WebSocket, packet: &Packet) -> Result<(), axum::Error> {
    let text = serde_json::to_string(packet).unwrap_or_default();
    socket.send(Message::Text(text.into())).await
}

/// The next text (or binary, as UTF-8) message; `None` when the socket ends.
async fn next_text(socket: &mut WebSocket) -> Option<String> {
    loop {
        match socket.next().await? {
            Ok(Message::Text(t)) => return Some(t.as_str().to_owned()),
            Ok(Message::Binary(b)) => return Some(String::from_utf8_lossy(&b).into_owned()),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// Resolves when the socket ends (messages meanwhile are dropped).
async fn wait_closed(socket: &mut WebSocket) {
    while next_text(socket).await.is_some() {}
}
