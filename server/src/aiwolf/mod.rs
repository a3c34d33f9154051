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
//! - Each agent plays its seat through an adapter ([`view`]) attached to the game's actor
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
pub mod probe;
#[cfg(test)]
mod scripted;
pub mod view;

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

/// Agents waiting for a game, by team.
#[derive(Debug, Default)]
pub struct WaitingRoom {
    /// Per team, in arrival order.
    teams: Mutex<HashMap<String, Vec<Waiting>>>,
    /// The pack coordinator of each running REST-created game with AIWolf seats, by game id
    /// (shared by the game's AIWolf seats; entries of finished games are dropped when the
    /// next AIWolf seat is taken).
    packs: Mutex<HashMap<String, pack::Pack>>,
}

/// An agent in the waiting room.
#[derive(Debug)]
struct Waiting {
    /// Its name as it sent it.
    name: String,
    /// Where its seat goes.
    seat: oneshot::Sender<Seated>,
}

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
    if let Some(game_id) = auth::param(query.as_deref(), "game_id").filter(|g| !g.is_empty()) {
        let token = auth::token_of(query.as_deref(), &headers);
        let seated = match seat_of(&state, &game_id, &token) {
            Ok(s) => s,
            Err(refusal) => return refusal,
        };
        let ip_slot = match crate::upgrade::take_ip_slot(&state, peer.map(|p| p.0.0.ip())) {
            Ok(s) => s,
            Err(refusal) => return *refusal,
        };
        let Some(slot) = crate::upgrade::take_slot(&state) else {
            return crate::upgrade::over_capacity(&state);
        };
        let tracker = state.connections.clone();
        return ws
            .max_message_size(state.config.ws_max_message_bytes)
            .on_upgrade(move |socket| {
                tracker.track_future(async move {
                    seat_agent(socket, state, seated).await;
                    drop(slot);
                    drop(ip_slot);
                })
            });
    }
    let token = match state.config.aiwolf_secret_key.as_deref() {
        Some(secret) => match auth::verify(secret, &auth::token_of(query.as_deref(), &headers)) {
            Ok(t) => Some(t),
            Err(e) => {
                return crate::api::error(axum::http::StatusCode::UNAUTHORIZED, e.to_string());
            }
        },
        None => None,
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
                agent(socket, state, token).await;
                drop(slot);
                drop(ip_slot);
            })
        })
}

/// The AIWolf seat of game `game_id` whose token is `token`, or the refusal: 404 (no such
/// game here), 401 (no AIWolf seat of it has this token: the same answer whatever the token
/// matches otherwise), 409 (the game is over).
fn seat_of(state: &AppState, game_id: &str, token: &str) -> Result<Seated, Response> {
    use axum::http::StatusCode;
    let refuse = |status, why: String| Err(crate::api::error(status, why));
    let Some(game) = state.games.get(game_id) else {
        return refuse(
            StatusCode::NOT_FOUND,
            format!("no game `{game_id}` on this hub"),
        );
    };
    let spec = match crate::games::spec::GameSpec::from_json(&game.spec_json) {
        Ok(s) => s,
        Err(e) => return refuse(StatusCode::INTERNAL_SERVER_ERROR, e),
    };
    let seat = {
        let seats = game.seats();
        (0..seats.len()).find(|&i| spec.is_aiwolf(i) && seats[i].token_matches(token))
    };
    let Some(seat) = seat else {
        return refuse(
            StatusCode::UNAUTHORIZED,
            format!(
                "no AIWolf seat of game `{game_id}` has this token (give the seat's token as \
                 `Authorization: Bearer` or `&token=`)"
            ),
        );
    };
    if game.is_over() {
        return refuse(StatusCode::CONFLICT, format!("game `{game_id}` is over"));
    }
    let ids: Vec<String> = game.seats().iter().map(|s| s.player_id.clone()).collect();
    let setting = setting_of(&spec, &state.config);
    let pack = {
        let mut packs = state.aiwolf.packs.lock().unwrap_or_else(|p| p.into_inner());
        packs.retain(|id, _| state.games.get(id).is_some_and(|g| !g.is_over()));
        packs
            .entry(game_id.to_owned())
            .or_insert_with(|| {
                let turn = Duration::from_millis(spec.config.timeouts_ms.attack);
                pack::Pack::new(&setting.whisper, turn)
            })
            .clone()
    };
    Ok(Seated {
        setting,
        game,
        seat,
        ids,
        log: None,
        pack,
    })
}

/// An AIWolf agent taking its seat of a REST-created game: `NAME` (its answer is only
/// logged: the seat's token placed it), then the game.
async fn seat_agent(mut socket: WebSocket, state: AppState, seated: Seated) {
    if send(&mut socket, &Packet::name()).await.is_err() {
        return;
    }
    let name = match tokio::time::timeout(NAME_TIMEOUT, next_text(&mut socket)).await {
        Ok(Some(text)) => text.trim_end_matches('\n').to_owned(),
        _ => return,
    };
    info!(name = %name, game_id = %seated.game.id, seat = seated.seat + 1, "AIWolf agent takes its seat");
    play(socket, state, name, seated).await;
}

/// Team of an AIWolf name: the name without trailing digits.
pub fn team_of(name: &str) -> &str {
    name.trim_end_matches(|c: char| c.is_ascii_digit())
}

/// One AIWolf agent from handshake to `FINISH`; `token`: its verified token when auth is on.
async fn agent(mut socket: WebSocket, state: AppState, token: Option<auth::PlayerToken>) {
    if send(&mut socket, &Packet::name()).await.is_err() {
        return;
    }
    let name = match tokio::time::timeout(NAME_TIMEOUT, next_text(&mut socket)).await {
        Ok(Some(text)) => text.trim_end_matches('\n').to_owned(),
        _ => return,
    };
    let team = team_of(&name).to_owned();
    if let Some(Err(e)) = token.map(|t| t.check_team(&team)) {
        info!(name = %name, "AIWolf agent refused: its token is for another team");
        let close = axum::extract::ws::CloseFrame {
            code: 1008,
            reason: e.to_string().into(),
        };
        let _ = socket.send(Message::Close(Some(close))).await;
        return;
    }
    info!(name = %name, team = %team, "AIWolf agent waiting");
    let (tx, rx) = oneshot::channel();
    enter(
        &state,
        &team,
        Waiting {
            name: name.clone(),
            seat: tx,
        },
    );
    // Wait for a seat; a socket that closes meanwhile leaves the room (its sender is dropped
    // with it when the room is next matched).
    let seated = tokio::select! {
        seated = rx => match seated {
            Ok(s) => s,
            Err(_) => return,
        },
        _ = wait_closed(&mut socket) => {
            leave(&state, &team, &name);
            return;
        }
    };
    play(socket, state, name, seated).await;
}

/// Adds an agent to its team's queue and starts a game when the room can fill one.
fn enter(state: &AppState, team: &str, waiting: Waiting) {
    let players = state.config.aiwolf_players;
    let self_match = state.config.aiwolf_self_match;
    let ready = {
        let mut teams = state.aiwolf.teams.lock().unwrap_or_else(|p| p.into_inner());
        teams.entry(team.to_owned()).or_default().push(waiting);
        for queue in teams.values_mut() {
            queue.retain(|w| !w.seat.is_closed());
        }
        teams.retain(|_, queue| !queue.is_empty());
        if self_match {
            teams.get_mut(team).and_then(|queue| {
                (queue.len() >= players).then(|| queue.drain(..players).collect::<Vec<_>>())
            })
        } else {
            mixed_match(&mut teams, players)
        }
    };
    if let Some(agents) = ready {
        let state = state.clone();
        tokio::spawn(async move { start_game(state, agents).await });
    }
}

/// AIWolf's mixed match (`self_match: false`): once `players` teams each have an agent
/// waiting, `players` of those teams drawn at random give their longest-waiting agent each,
/// seated in the drawn order.
fn mixed_match(teams: &mut HashMap<String, Vec<Waiting>>, players: usize) -> Option<Vec<Waiting>> {
    use rand::seq::SliceRandom;
    if teams.len() < players {
        return None;
    }
    let mut names: Vec<String> = teams.keys().cloned().collect();
    names.sort_unstable();
    names.shuffle(&mut rand::rng());
    let agents = names[..players]
        .iter()
        .filter_map(|t| teams.get_mut(t).map(|queue| queue.remove(0)))
        .collect();
    teams.retain(|_, queue| !queue.is_empty());
    Some(agents)
}

/// Takes a departed agent out of the room.
fn leave(state: &AppState, team: &str, name: &str) {
    let mut teams = state.aiwolf.teams.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(queue) = teams.get_mut(team) {
        queue.retain(|w| w.name != name || !w.seat.is_closed());
        if queue.is_empty() {
            teams.remove(team);
        }
    }
}

/// Creates the game for `agents` (in arrival order: seat 1 is the first) and seats them.
async fn start_game(state: AppState, agents: Vec<Waiting>) {
    let players = agents.len();
    let preset = if players == 13 { "aiwolf13" } else { "aiwolf5" };
    let mut names: Vec<String> = Vec::new();
    for w in &agents {
        let mut name = w.name.clone();
        let mut n = 2;
        while names.contains(&name) || crate::games::spec::validate_name(&name).is_err() {
            name = format!("aiwolf-{}-{n}", names.len() + 1);
            n += 1;
        }
        names.push(name);
    }
    let body = serde_json::json!({
        "preset": preset,
        "players": names,
        // AIWolf's action timeout plus its grace: the hub never expires a request before
        // AIWolf would (the adapter's probe starts then, see `probe`). The preset's rules
        // are AIWolf's.
        "action_timeout_ms": state.config.aiwolf_game_timeout_ms(),
    });
    let spec = serde_json::from_value::<crate::games::spec::CreateGame>(body)
        .map_err(|e| e.to_string())
        .and_then(|b| b.into_spec(state.config.max_message_chars()));
    let spec = match spec {
        Ok(s) => s,
        Err(e) => {
            warn!(error = %e, "AIWolf game could not be set up");
            return;
        }
    };
    let setting = setting_of(&spec, &state.config);
    let created = match state.games.create(spec, state.links()).await {
        Ok(c) => c,
        Err(e) => {
            warn!(error = %e, "AIWolf game could not be created");
            return;
        }
    };
    let Some(game) = state.games.get(&created.game_id) else {
        return;
    };
    let ids: Vec<String> = game.seats().iter().map(|s| s.player_id.clone()).collect();
    info!(game_id = %created.game_id, players, "AIWolf game created");
    let log = state.config.aiwolf_log_dir.as_ref().map(|dir| {
        let names: Vec<String> = agents.iter().map(|w| w.name.clone()).collect();
        json_log::GameJsonLog::start(dir, &created.game_id, &names)
    });
    game_log::write_when_over(state.clone(), game.clone());
    let pack = pack::Pack::new(
        &setting.whisper,
        Duration::from_millis(state.config.aiwolf_game_timeout_ms()),
    );
    for (seat, w) in agents.into_iter().enumerate() {
        let _ = w.seat.send(Seated {
            game: game.clone(),
            seat,
            ids: ids.clone(),
            setting: setting.clone(),
            log: log.clone(),
            pack: pack.clone(),
        });
    }
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

/// Plays a seat: attaches to the game as its agent and translates both ways until the
/// game is over or the agent leaves. AIWolf's timeouts and liveness probe: [`probe`].
async fn play(socket: WebSocket, state: AppState, name: String, seated: Seated) {
    let Seated {
        game,
        seat,
        ids,
        setting,
        log,
        pack,
    } = seated;
    let player_id = ids[seat].clone();
    let admission = Admission {
        client_type: ClientType::Agent,
        lobby: false,
        credential: Credential::Seat {
            game: game.id.clone(),
            seat,
        },
        traffic: Some(game.traffic.clone()),
        relayed: false,
    };
    let Ok((entry, mut frames, _)) = state.manager.connect(&player_id, admission) else {
        return;
    };
    let attach = GameCommand::Attach {
        entry: entry.clone(),
        member: Member::Seat(seat),
        last_seq: None,
    };
    if game.commands.send(attach).await.is_err() {
        state.manager.disconnect(&entry, "game gone");
        return;
    }
    info!(name = %name, player_id = %player_id, "AIWolf agent seated");
    let mut view = SeatView::new(game.id.to_string(), seat, ids.clone(), setting);
    let mut line = probe::AgentLine::new(
        socket,
        name.clone(),
        packets::agent_name(seat),
        log.clone(),
        &state.config,
    );
    let mut pack = pack.join(seat);
    let mut tonight: Option<Night> = None;
    let mut over = false;
    let why = loop {
        if over && !line.probing() {
            let _ = line.socket.send(Message::Close(None)).await;
            break "game over";
        }
        if drive(&pack, &mut tonight, &mut view, &mut line)
            .await
            .is_err()
        {
            break "agent left";
        }
        let deadline = line.deadline();
        let turn_deadline = tonight.as_ref().and_then(|_| pack.deadline());
        tokio::select! {
            frame = frames.recv(), if !over => {
                let Some(Message::Text(text)) = frame else {
                    if frame.is_none() { break "game ended the connection"; }
                    continue;
                };
                let Ok(frame) = serde_json::from_str::<ServerFrame>(text.as_str()) else {
                    continue;
                };
                if let Some(log) = &log {
                    log_facts(log, &ids, seat, &frame.message);
                }
                if matches!(frame.message, werewolf_schemas::ServerMessage::GameOver(_)) {
                    over = true;
                }
                if let werewolf_schemas::ServerMessage::ActionResult(r) = &frame.message
                    && r.result == werewolf_schemas::ResultValue::TimedOut
                    && let Some(id) = &r.request_id
                {
                    // An attack the hub expired during the whisper phase is not asked.
                    if let Some(n) = tonight.as_mut()
                        && n.attack.as_ref().is_some_and(|a| &a.request_id == id)
                    {
                        n.attack = None;
                    }
                    if line.on_timed_out(id).await.is_err() {
                        break "agent left";
                    }
                }
                // A whisper of an AIWolf member of the pack: heard through the pack already.
                if let werewolf_schemas::ServerMessage::AgentMessage(m) = &frame.message
                    && m.channel == werewolf_schemas::Channel::Wolves
                    && view.seat_of(&m.agent_id).is_some_and(|s| pack.through_pack(s))
                {
                    continue;
                }
                let (packets, mut ask) = view.on_frame(&frame.message);
                if let Some(n) = tonight.take_if(|n| n.night != view.day() || over) {
                    pack.close(n.night);
                }
                if let Some(attack) = ask.take_if(|a| a.whisper) {
                    // The pack's whisper phase first (see `pack`), then the attack.
                    let night = view.day();
                    tonight = Some(Night { night, attack: Some(attack), asked_turn: None, heard: 0 });
                    pack.open(night, &view.living_wolf_seats());
                }
                let last = packets.len().saturating_sub(1);
                let mut sent = Ok(());
                for (i, p) in packets.iter().enumerate() {
                    let asked = if i == last { ask.take() } else { None };
                    sent = sent.and(line.deliver(p, asked).await);
                }
                if sent.is_err() {
                    break "agent left";
                }
            }
            text = next_text(&mut line.socket) => {
                let Some(text) = text else { break "agent left" };
                let a = match line.on_text(text.clone()).await {
                    Ok(Some((a, _))) => a,
                    Ok(None) => continue,
                    Err(_) => break "agent left",
                };
                if let Some(serial) = a.turn {
                    // A whisper turn: said to the pack's channel (so the hub's game has it)
                    // before the pack records it and moves on, so it is in before any attack.
                    let Some(night) = tonight.as_ref().map(|n| n.night) else { continue };
                    let outcome = match pack::Outcome::of(&text) {
                        pack::Outcome::Said(t) => {
                            pack::Outcome::Said(t.chars().take(view.max_talk_chars()).collect())
                        }
                        o => o,
                    };
                    if !pack.is_turn(night, serial) {
                        debug!(name = %name, "AIWolf whisper to a turn already skipped; dropped");
                        continue;
                    }
                    if let pack::Outcome::Said(said) = &outcome {
                        let message = werewolf_schemas::AgentMessageIn {
                            message_text: said.clone(),
                            request_id: None,
                            channel: Some(werewolf_schemas::Channel::Wolves),
                            agent_name: None,
                            phase: None,
                        };
                        let say = GameCommand::Say { seat, entry: entry.clone(), message };
                        if game.commands.send(say).await.is_err() {
                            break "game gone";
                        }
                    }
                    pack.answer(night, serial, outcome);
                    continue;
                }
                if let Some(action) = answer(&view, &a, &text) {
                    let command = GameCommand::Action {
                        seat,
                        entry: entry.clone(),
                        action,
                    };
                    if game.commands.send(command).await.is_err() {
                        break "game gone";
                    }
                }
            }
            _ = sleep_until(deadline), if deadline.is_some() => {
                if line.on_deadline().await.is_err() {
                    break "agent left";
                }
            }
            () = pack.changed() => {}
            _ = sleep_until(turn_deadline), if turn_deadline.is_some() => pack.expire(),
        }
    };
    drop(pack);
    let _ = game
        .commands
        .send(GameCommand::Detach {
            conn_id: entry.conn_id,
            member: Member::Seat(seat),
        })
        .await;
    state.manager.disconnect(&entry, why);
    info!(name = %name, reason = why, "AIWolf agent done");
}

/// A werewolf's night while the pack's whisper phase runs.
#[derive(Debug)]
struct Night {
    /// The night (AIWolf's day).
    night: u32,
    /// The hub's `attack` request, until `ATTACK` is sent (or the hub expired it).
    attack: Option<Asked>,
    /// The last turn a `WHISPER` was sent (or skipped) for.
    asked_turn: Option<u64>,
    /// How many of the pack's entries of the night the view has.
    heard: usize,
}

/// Plays the seat's part of the pack's whisper phase: its turns (`WHISPER`, or `ForceSkip`
/// when the agent has failed, is probing, timed out on the turn, or has no attack left), then
/// `ATTACK` once the phase is over. The view hears the pack's new entries right before each
/// packet.
async fn drive(
    pack: &pack::PackSeat,
    tonight: &mut Option<Night>,
    view: &mut SeatView,
    line: &mut probe::AgentLine,
) -> Result<(), axum::Error> {
    let Some(n) = tonight.as_mut() else {
        return Ok(());
    };
    loop {
        match pack.status(n.night) {
            pack::Status::Turn {
                serial,
                remain_count,
                remain_skip,
            } => {
                if n.asked_turn == Some(serial) {
                    // Asked: skipped once its request timed out (the probe started) or the
                    // agent failed; else the answer is awaited.
                    let timed_out = line.probed().is_some_and(|a| a.turn == Some(serial));
                    if line.failed() || timed_out {
                        pack.answer(n.night, serial, pack::Outcome::ForceSkip);
                        continue;
                    }
                    return Ok(());
                }
                n.asked_turn = Some(serial);
                let attack = n.attack.clone();
                let Some(attack) = attack.filter(|_| !line.failed() && !line.probing()) else {
                    pack.answer(n.night, serial, pack::Outcome::ForceSkip);
                    continue;
                };
                hear(pack, n, view);
                let p = view.whisper_packet(remain_count, remain_skip);
                let asked = Asked {
                    turn: Some(serial),
                    ..attack
                };
                return line.deliver(&p, Some(asked)).await;
            }
            pack::Status::Done => {
                if let Some(attack) = n.attack.take() {
                    hear(pack, n, view);
                    let p = view.attack_packet();
                    let asked = Asked {
                        whisper: false,
                        turn: None,
                        ..attack
                    };
                    line.deliver(&p, Some(asked)).await?;
                }
                return Ok(());
            }
            pack::Status::Wait | pack::Status::NotOpen => return Ok(()),
        }
    }
}

/// The pack's entries of the night the view has not heard yet.
fn hear(pack: &pack::PackSeat, n: &mut Night, view: &mut SeatView) {
    for w in pack.entries(n.night, n.heard) {
        view.add_whisper(&w);
        n.heard += 1;
    }
}

/// Sleeps until `deadline` (for ever without one).
async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// What the JSON log takes from the seat's stream: the seat's own role when dealt, every role
/// and the winner at the end.
fn log_facts(
    log: &json_log::GameJsonLog,
    ids: &[String],
    seat: usize,
    message: &werewolf_schemas::ServerMessage,
) {
    match message {
        werewolf_schemas::ServerMessage::GameState(s) => {
            if let Some(you) = &s.you {
                log.role(seat, packets::role_name(you.role));
            }
        }
        werewolf_schemas::ServerMessage::GameOver(over) => {
            for (id, role) in &over.roles {
                if let Some(s) = ids.iter().position(|i| i == id) {
                    log.role(s, packets::role_name(*role));
                }
            }
            log.end(over.winner);
        }
        _ => {}
    }
}

/// The `player_action` an AIWolf answer is.
fn answer(view: &SeatView, asked: &Asked, text: &str) -> Option<werewolf_schemas::PlayerActionIn> {
    let text = text.replace('\n', "");
    let frame = if asked.action == ActionKind::Talk {
        let said = match text.trim() {
            "" | "Skip" | "Over" | "ForceSkip" => None,
            t => Some(match asked.max_chars {
                Some(max) => t.chars().take(max).collect::<String>(),
                None => t.to_owned(),
            }),
        };
        serde_json::json!({"message_type": "player_action", "request_id": asked.request_id,
                           "action": "talk", "text": said})
    } else {
        // A name the hub would refuse (not a candidate: a fellow werewolf, a dead player, an
        // unknown name) is a vote that does not count, as on AIWolf's server: abstain.
        let target = view
            .player_of(&text)
            .filter(|id| asked.candidates.contains(id));
        serde_json::json!({"message_type": "player_action", "request_id": asked.request_id,
                           "action": asked.action, "target": target})
    };
    match werewolf_schemas::parse_client_frame(&frame.to_string()) {
        Ok(f) => match f.message {
            ClientMessage::PlayerAction(a) => Some(a),
            _ => None,
        },
        Err(e) => {
            debug!(error = %e, "AIWolf answer not translatable");
            None
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn waiting(name: &str) -> (Waiting, oneshot::Receiver<Seated>) {
        let (seat, rx) = oneshot::channel();
        let w = Waiting {
            name: name.to_owned(),
            seat,
        };
        (w, rx)
    }

    #[test]
    fn the_mixed_match_takes_one_agent_from_each_of_enough_teams() {
        let mut keep = Vec::new();
        let mut teams: HashMap<String, Vec<Waiting>> = HashMap::new();
        for t in ["a", "b", "c", "d"] {
            for i in 1..=3 {
                let (w, rx) = waiting(&format!("{t}{i}"));
                keep.push(rx);
                teams.entry(t.to_owned()).or_default().push(w);
            }
        }
        assert!(
            mixed_match(&mut teams, 5).is_none(),
            "four teams cannot fill five seats"
        );
        let (w, rx) = waiting("e1");
        keep.push(rx);
        teams.insert("e".to_owned(), vec![w]);
        let game = mixed_match(&mut teams, 5).expect("five teams");
        let mut names: Vec<&str> = game.iter().map(|w| w.name.as_str()).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            ["a1", "b1", "c1", "d1", "e1"],
            "each team's first agent"
        );
        assert_eq!(teams.len(), 4, "team e has nobody left waiting");
        assert!(teams.values().all(|q| q.len() == 2));
        assert!(mixed_match(&mut teams, 5).is_none());
    }
}
