//! AIWolf's game log (`service/game_logger.go` of `aiwolfdial/aiwolf-nlp-server`; the format
//! of the old Java AIWolf server): one CSV line per thing that happened, written for any hub
//! game from its **full** stream (what the observer token's view and the durable log hold:
//! every role, vote, divination, protection, attack vote, attack, execution, talk, whisper).
//!
//! Line formats (`docs/aiwolf-protocol-notes.md` §6.2; `idx` = 1-based seat; no escaping):
//! ```text
//! {day},status,{idx},{ROLE},{ALIVE|DEAD},{originalName},{gameName}
//! {day},talk,{talkIdx},{turn},{idx},{text}
//! {day},whisper,{talkIdx},{turn},{idx},{text}
//! {day},vote,{voterIdx},{targetIdx}
//! {day},execute,{idx},{ROLE}
//! {day},divine,{seerIdx},{targetIdx},{HUMAN|WEREWOLF}
//! {day},guard,{bodyguardIdx},{targetIdx},{TARGET_ROLE}
//! {day},attackVote,{wolfIdx},{targetIdx}
//! {day},attack,{targetIdx},{true|false}      (-1,true: the pack chose nobody)
//! {day},result,{aliveHumans},{aliveWerewolves},{VILLAGER|WEREWOLF|NONE}
//! ```
//!
//! # How hub events become AIWolf's days
//! The hub numbers night N before day N (the first night is night 1); AIWolf's day d is its
//! daytime (talk, then the vote and execution) followed by its night (divine, whisper, guard,
//! attack). So the hub's day N (its talk and vote) is AIWolf's day N, and the hub's night N is
//! the night of AIWolf's day N − 1: the hub's first night is AIWolf's night 0, the night of
//! the day-0 talk (which the `aiwolf` presets may hold before it, as hub day 0).
//! - A status block (every agent) opens each day: day 0 once the roles are dealt, day N ≥ 1
//!   when the hub's day N begins (after the dawn's deaths). A game that ends at a dawn has no
//!   block for that day but the final one, as on AIWolf's server.
//! - A night's lines are written in AIWolf's phase order at the dawn that resolves it:
//!   `divine`, `whisper`, `guard`, `attackVote`, then `attack` (`true` if the pack's choice
//!   died at that dawn, `false` if not: guarded, or saved by a hub witch).
//! - Talks carry AIWolf's `idx` (position in the day's list) and `turn` (how many times the
//!   speaker spoke before, that day: the hub's talk is round-robin); a passed turn is `Over`,
//!   the text AIWolf's server stores for a pass when `max_skip` is 0. Line breaks in a text
//!   become spaces (AIWolf strips them from answers; a line per entry is the format).
//! - Every valid ballot of every round (the hub's revote too) is a `vote` line; the end writes
//!   a last status block and the `result` on the day after the last one played.
//!
//! # Roles AIWolf does not have
//! The hub's doctor is AIWolf's `BODYGUARD`; its witch and hunter are written `VILLAGER` (their
//! team, and what [`super::packets::role_name`] tells AIWolf agents), and what they do (potions,
//! a shot) has no line; the deaths they cause show in the next status block. A draw (day
//! limit) and an aborted game are `NONE`.
//!
//! Names: `originalName` is the seat's name (for the AIWolf endpoint's games, the agent's name
//! as it answered `NAME`), `gameName` is `Agent[NN]`.

use super::packets::{agent_name, role_name};
use crate::api::error;
use crate::state::AppState;
use crate::store::StreamId;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tracing::{info, warn};
use werewolf_schemas::{
    ActionKind, Channel, Phase, ResultKind, ResultValue, Role, ServerFrame, ServerMessage, Winner,
};

/// Builds a game's AIWolf log from its full stream, one message at a time.
#[derive(Debug)]
pub struct GameLog {
    /// Player ids by seat (seat `i` is AIWolf's agent `i + 1`).
    ids: Vec<String>,
    /// The seats' names (AIWolf's `originalName`).
    names: Vec<String>,
    /// Each seat's role, once the full stream has told it.
    roles: Vec<Option<Role>>,
    /// Who is alive, by seat.
    alive: Vec<bool>,
    /// The lines so far.
    lines: Vec<String>,
    /// Whether the roles are dealt (the first status block is written then).
    started: bool,
    /// Whether the game is over (nothing more is written).
    over: bool,
    /// AIWolf's day of the latest phase (a dawn does not start its day yet: see `dawn`).
    day: u32,
    /// Whether the latest phase is a night (its lines wait in `night`).
    in_night: bool,
    /// A hub day that has dawned but whose status block waits for its first phase (a game
    /// that ends at that dawn gets only the final block).
    dawn: Option<u32>,
    /// The last day with a status block.
    status_day: Option<u32>,
    /// Today's talks so far (AIWolf's `idx`).
    talks: usize,
    /// Today's talk turns per seat (AIWolf's `turn`).
    talk_turns: Vec<u32>,
    /// The day `talks` and `talk_turns` count.
    talk_day: Option<u32>,
    /// Whispers of the day or night so far.
    whispers: usize,
    /// Whisper turns per seat.
    whisper_turns: Vec<u32>,
    /// The day `whispers` and `whisper_turns` count.
    whisper_day: Option<u32>,
    /// Tonight's lines, by kind, until the dawn resolves the attack.
    night: NightLines,
}

/// One night's lines in AIWolf's phase order.
#[derive(Debug, Default)]
struct NightLines {
    /// `divine` lines.
    divine: Vec<String>,
    /// `whisper` lines.
    whisper: Vec<String>,
    /// `guard` lines.
    guard: Vec<String>,
    /// `attackVote` lines.
    attack_votes: Vec<String>,
    /// The pack's choice: `Some(None)` when it chose nobody; `None` before it chose.
    attack: Option<Option<usize>>,
}

impl GameLog {
    /// A log of a game whose seats have these player ids and names.
    pub fn new(ids: Vec<String>, names: Vec<String>) -> GameLog {
        let n = ids.len();
        GameLog {
            ids,
            names,
            roles: vec![None; n],
            alive: vec![true; n],
            lines: Vec::new(),
            started: false,
            over: false,
            day: 0,
            in_night: false,
            dawn: None,
            status_day: None,
            talks: 0,
            talk_turns: vec![0; n],
            talk_day: None,
            whispers: 0,
            whisper_turns: vec![0; n],
            whisper_day: None,
            night: NightLines::default(),
        }
    }

    /// The lines so far.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    /// The log as AIWolf writes it: the lines joined by `\n`, no trailing newline.
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }

    /// Whether the game's end has been logged.
    pub fn is_over(&self) -> bool {
        self.over
    }

    fn seat(&self, player_id: &str) -> Option<usize> {
        self.ids.iter().position(|id| id == player_id)
    }

    fn role(&self, seat: usize) -> &'static str {
        self.roles
            .get(seat)
            .copied()
            .flatten()
            .map_or("VILLAGER", role_name)
    }

    /// Folds one frame of the full stream in.
    pub fn feed(&mut self, message: &ServerMessage) {
        if self.over {
            return;
        }
        match message {
            ServerMessage::GameState(state) => {
                for p in &state.players {
                    if let Some(s) = self.seat(&p.id) {
                        if p.role.is_some() {
                            self.roles[s] = p.role;
                        }
                        self.alive[s] = p.alive;
                    }
                }
                let dealt = self.roles.iter().all(Option::is_some);
                if !self.started && dealt && state.phase != Phase::Lobby {
                    self.started = true;
                    self.status(self.day);
                }
            }
            ServerMessage::PhaseUpdate(update) => self.phase(update.phase, update.day, update),
            ServerMessage::Death(d) => {
                if let Some(s) = self.seat(&d.player_id) {
                    self.alive[s] = false;
                }
            }
            ServerMessage::AgentMessage(m) => {
                let Some(seat) = self.seat(&m.agent_id) else {
                    return;
                };
                let text = m.message_text.replace(['\r', '\n'], " ");
                if m.channel == Channel::Wolves {
                    self.whisper(seat, &text);
                } else {
                    self.talk(seat, &text);
                }
            }
            ServerMessage::PlayerAction(a) => {
                let Some(actor) = self.seat(&a.player_id) else {
                    return;
                };
                let target = a.target.as_deref().and_then(|t| self.seat(t));
                let day = self.day;
                match (a.action, target) {
                    // The notice that a player is done for the day follows its pass (already
                    // logged as `Over`) or its last talk: AIWolf logs no line for it.
                    (ActionKind::Talk, _) if a.over == Some(true) => {}
                    (ActionKind::Talk, _) => self.talk(actor, "Over"),
                    (ActionKind::Vote, Some(t)) => {
                        self.open_day();
                        self.lines
                            .push(format!("{day},vote,{},{}", actor + 1, t + 1));
                    }
                    (ActionKind::Attack, Some(t)) => self.night.attack_votes.push(format!(
                        "{day},attackVote,{},{}",
                        actor + 1,
                        t + 1
                    )),
                    (ActionKind::Protect, Some(t)) => {
                        let line = format!("{day},guard,{},{},{}", actor + 1, t + 1, self.role(t));
                        self.night.guard.push(line);
                    }
                    // Abstentions, and what AIWolf has no line for (potions, a hunter's shot).
                    _ => {}
                }
            }
            ServerMessage::VoteResult(v) => {
                if let Some(s) = v.executed.as_deref().and_then(|e| self.seat(e)) {
                    self.open_day();
                    self.alive[s] = false;
                    let line = format!("{},execute,{},{}", self.day, s + 1, self.role(s));
                    self.lines.push(line);
                }
            }
            ServerMessage::ActionResult(r) => {
                let target = r.target.as_deref().and_then(|t| self.seat(t));
                match (r.action, r.result) {
                    (
                        ResultKind::Divine,
                        ResultValue::Werewolf | ResultValue::Human | ResultValue::Role,
                    ) => {
                        let (Some(t), Some(seer)) = (target, self.seer()) else {
                            return;
                        };
                        // `seer_sees_role`: AIWolf's log has the species only.
                        let wolf = r.result == ResultValue::Werewolf
                            || r.role == Some(werewolf_schemas::Role::Werewolf);
                        let species = if wolf { "WEREWOLF" } else { "HUMAN" };
                        let line = format!("{},divine,{},{},{species}", self.day, seer + 1, t + 1);
                        self.night.divine.push(line);
                    }
                    (ResultKind::Attack, ResultValue::PackChoice) => {
                        self.night.attack = Some(target);
                    }
                    _ => {}
                }
            }
            ServerMessage::GameOver(over) => self.finish(over),
            _ => {}
        }
    }

    /// The seer a divination result is for (the full stream's result frame does not name
    /// it): the living seer; with several, the first by seat.
    fn seer(&self) -> Option<usize> {
        (0..self.ids.len())
            .find(|&s| self.roles[s] == Some(Role::Seer) && self.alive[s])
            .or_else(|| (0..self.ids.len()).find(|&s| self.roles[s] == Some(Role::Seer)))
    }

    fn phase(&mut self, phase: Phase, hub_day: u32, update: &werewolf_schemas::PhaseUpdateBody) {
        match phase {
            Phase::Night => {
                self.open_day();
                self.in_night = true;
                self.day = hub_day.saturating_sub(1);
                self.night = NightLines::default();
            }
            Phase::Day => {
                let died: Vec<usize> = update
                    .deaths
                    .iter()
                    .flatten()
                    .filter_map(|d| self.seat(&d.player_id))
                    .collect();
                for &s in &died {
                    self.alive[s] = false;
                }
                self.flush_night(Some(&died));
                self.dawn = Some(hub_day);
            }
            Phase::Discussion | Phase::Vote => {
                if self.in_night {
                    self.flush_night(None);
                }
                self.dawn = None;
                self.day = hub_day;
                self.status(hub_day);
            }
            Phase::Lobby | Phase::Ended => {}
        }
    }

    /// A daytime line is coming: the day's status block first, if the dawn left it waiting.
    fn open_day(&mut self) {
        if let Some(day) = self.dawn.take() {
            self.day = day;
            self.status(day);
        }
    }

    /// Writes the night's lines (at its dawn, `died` = the dawn's deaths, which decide the
    /// attack line; at an end mid-night, no attack line).
    fn flush_night(&mut self, died: Option<&[usize]>) {
        if !self.in_night {
            return;
        }
        self.in_night = false;
        let night = std::mem::take(&mut self.night);
        self.lines.extend(night.divine);
        self.lines.extend(night.whisper);
        self.lines.extend(night.guard);
        self.lines.extend(night.attack_votes);
        if let (Some(choice), Some(died)) = (night.attack, died) {
            let line = match choice {
                Some(v) => format!("{},attack,{},{}", self.day, v + 1, died.contains(&v)),
                None => format!("{},attack,-1,true", self.day),
            };
            self.lines.push(line);
        }
    }

    /// The status block of `day`, once per day.
    fn status(&mut self, day: u32) {
        if !self.started || self.status_day.is_some_and(|d| d >= day) {
            return;
        }
        self.status_day = Some(day);
        self.status_lines(day);
    }

    fn status_lines(&mut self, day: u32) {
        for s in 0..self.ids.len() {
            let line = format!(
                "{day},status,{},{},{},{},{}",
                s + 1,
                self.role(s),
                if self.alive[s] { "ALIVE" } else { "DEAD" },
                self.names.get(s).map_or("", String::as_str),
                agent_name(s),
            );
            self.lines.push(line);
        }
    }

    fn talk(&mut self, seat: usize, text: &str) {
        self.open_day();
        let day = self.day;
        if self.talk_day != Some(day) {
            self.talk_day = Some(day);
            self.talks = 0;
            self.talk_turns.iter_mut().for_each(|t| *t = 0);
        }
        let (idx, turn) = (self.talks, self.talk_turns[seat]);
        self.talks += 1;
        self.talk_turns[seat] += 1;
        self.lines
            .push(format!("{day},talk,{idx},{turn},{},{text}", seat + 1));
    }

    fn whisper(&mut self, seat: usize, text: &str) {
        if !self.in_night {
            self.open_day();
        }
        let day = self.day;
        if self.whisper_day != Some(day) {
            self.whisper_day = Some(day);
            self.whispers = 0;
            self.whisper_turns.iter_mut().for_each(|t| *t = 0);
        }
        let (idx, turn) = (self.whispers, self.whisper_turns[seat]);
        self.whispers += 1;
        self.whisper_turns[seat] += 1;
        let line = format!("{day},whisper,{idx},{turn},{},{text}", seat + 1);
        if self.in_night {
            self.night.whisper.push(line);
        } else {
            self.lines.push(line);
        }
    }

    /// The end: the last night's lines, a status block and the result on the day after the
    /// last one played (AIWolf's server advances the day before it stops).
    fn finish(&mut self, over: &werewolf_schemas::GameOverBody) {
        for (id, role) in &over.roles {
            if let Some(s) = self.seat(id) {
                self.roles[s] = Some(*role);
            }
        }
        if !self.started {
            // Ended before the roles were dealt (or never started): nothing was played.
            if over.roles.is_empty() {
                self.over = true;
                return;
            }
            self.started = true;
            self.status(0);
        }
        self.flush_night(None);
        let last = match self.dawn.take() {
            // Ended at a dawn: its night was the last thing played.
            Some(day) => day.saturating_sub(1),
            None => self.day,
        };
        let end = last + 1;
        self.status_day = Some(end);
        self.status_lines(end);
        let wolves = (0..self.ids.len())
            .filter(|&s| self.alive[s] && self.roles[s] == Some(Role::Werewolf))
            .count();
        let humans = (0..self.ids.len())
            .filter(|&s| self.alive[s] && self.roles[s] != Some(Role::Werewolf))
            .count();
        let side = match over.winner {
            Winner::Villagers => "VILLAGER",
            Winner::Werewolves => "WEREWOLF",
            Winner::Draw | Winner::Aborted => "NONE",
        };
        self.lines
            .push(format!("{end},result,{humans},{wolves},{side}"));
        self.over = true;
    }
}

/// The AIWolf log of a game from its full stream's frames (JSON, as stored); frames that do
/// not parse are skipped.
pub fn from_frames(ids: Vec<String>, names: Vec<String>, frames: &[String]) -> GameLog {
    let mut log = GameLog::new(ids, names);
    for frame in frames {
        if let Ok(frame) = serde_json::from_str::<ServerFrame>(frame) {
            log.feed(&frame.message);
        }
    }
    log
}

/// AIWolf's file name: `{timestamp}_{teams}` (Unix seconds at the start; every agent's team,
/// sorted, joined by `_`).
pub fn file_stem(started_at: f64, names: &[String]) -> String {
    let mut teams: Vec<&str> = names.iter().map(|n| super::team_of(n)).collect();
    teams.sort_unstable();
    format!("{}_{}", started_at.max(0.0) as u64, teams.join("_"))
}

/// For a game of the AIWolf endpoint, with `AIWOLF_LOG_DIR` set: once the game is over, writes
/// `<dir>/game/{timestamp}_{teams}.log` as AIWolf's game logger does (no trailing newline).
pub fn write_when_over(state: AppState, game: Arc<crate::games::GameShared>) {
    let Some(dir) = state.config.aiwolf_log_dir.clone() else {
        return;
    };
    tokio::spawn(async move {
        // The game's end is published with its state; poll it (cheap) rather than add a
        // notification to the game actor for this one consumer.
        while !game.is_over() {
            if state.games.get(&game.id).is_none() {
                // Removed before it ended (it never started): nothing to log.
                return;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let (ids, names): (Vec<String>, Vec<String>) = game
            .seats()
            .iter()
            .map(|s| (s.player_id.clone(), s.name.clone().unwrap_or_default()))
            .unzip();
        let path = game_dir(&dir).join(format!("{}.log", file_stem(game.created_at, &names)));
        // The end's batch may still be on its way to the store: read until it is there.
        for _ in 0..40 {
            let store = state.games.store.clone();
            let id = game.id.to_string();
            let frames =
                tokio::task::spawn_blocking(move || store.frames(&id, StreamId::Full, 0, u64::MAX))
                    .await;
            let log = match frames {
                Ok(Ok(frames)) => from_frames(ids.clone(), names.clone(), &frames),
                Ok(Err(e)) => {
                    warn!(error = %e, "AIWolf game log: the store cannot be read");
                    return;
                }
                Err(_) => return,
            };
            if log.is_over() {
                let path2 = path.clone();
                let text = log.text();
                let written = tokio::task::spawn_blocking(move || write_file(&path2, &text)).await;
                match written {
                    Ok(Ok(())) => info!(path = %path.display(), "AIWolf game log written"),
                    Ok(Err(e)) => {
                        warn!(path = %path.display(), error = %e, "AIWolf game log not written")
                    }
                    Err(_) => {}
                }
                return;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        warn!(game_id = %game.id, "AIWolf game log: the end never reached the store");
    });
}

fn write_file(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, text)
}

/// Path of `GET /games/{game_id}/aiwolf/game.log`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct LogPath {
    /// The game's id.
    game_id: String,
}

/// Query of `GET /games/{game_id}/aiwolf/game.log`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct LogQuery {
    /// The observer token, while the game runs (or `Authorization: Bearer`).
    token: Option<String>,
}

/// `GET /games/{id}/aiwolf/game.log`: the game's AIWolf game log (text/plain). Open once the
/// game is over; while it runs, only with the observer token, and only as far as the
/// observer delay has released the full stream.
pub async fn route(
    State(state): State<AppState>,
    Path(LogPath { game_id }): Path<LogPath>,
    query: Result<Query<LogQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let Query(query) = match query {
        Ok(q) => q,
        Err(rejection) => return error(StatusCode::BAD_REQUEST, rejection.body_text()),
    };
    let token = crate::upgrade::presented_token(query.token, &headers);
    let seats = |seats: Vec<(String, Option<String>)>| -> (Vec<String>, Vec<String>) {
        seats
            .into_iter()
            .map(|(id, name)| (id, name.unwrap_or_default()))
            .unzip()
    };
    let (ids, names, upto) = match state.games.get(&game_id) {
        Some(game) => {
            let over = game.is_over();
            if !over {
                let Some(token) = token.as_deref() else {
                    return error(
                        StatusCode::UNAUTHORIZED,
                        "the AIWolf log of a running game needs its observer token (?token= or Authorization: Bearer)",
                    );
                };
                if !game.observer_token_matches(token) {
                    return error(StatusCode::UNAUTHORIZED, "wrong observer token");
                }
            }
            let (ids, names) = seats(
                game.seats()
                    .iter()
                    .map(|s| (s.player_id.clone(), s.name.clone()))
                    .collect(),
            );
            let upto = if over {
                u64::MAX
            } else {
                game.full_released
                    .load(std::sync::atomic::Ordering::Relaxed)
            };
            (ids, names, upto)
        }
        None => {
            let store = state.games.store.clone();
            let id = game_id.clone();
            match tokio::task::spawn_blocking(move || store.load(&id)).await {
                Ok(Ok(Some(stored))) => {
                    if stored.ended.is_none() {
                        // A retired game that never ended never started: nothing to log,
                        // and nothing hidden either way.
                        return error(
                            StatusCode::NOT_FOUND,
                            format!("game `{game_id}` never started"),
                        );
                    }
                    let (ids, names) = seats(
                        stored
                            .meta
                            .seats
                            .into_iter()
                            .map(|s| (s.player_id, s.name))
                            .collect(),
                    );
                    (ids, names, u64::MAX)
                }
                Ok(Err(e)) => {
                    return error(StatusCode::SERVICE_UNAVAILABLE, format!("store: {e}"));
                }
                _ => return error(StatusCode::NOT_FOUND, format!("no game `{game_id}`")),
            }
        }
    };
    let store = state.games.store.clone();
    let id = game_id.clone();
    match tokio::task::spawn_blocking(move || store.frames(&id, StreamId::Full, 0, upto)).await {
        Ok(Ok(frames)) => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            from_frames(ids, names, &frames).text(),
        )
            .into_response(),
        Ok(Err(e)) => error(StatusCode::SERVICE_UNAVAILABLE, format!("store: {e}")),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// The OpenAPI docs of [`route`].
pub fn docs(
    op: aide::transform::TransformOperation<'_>,
) -> aide::transform::TransformOperation<'_> {
    use crate::api::Doc;
    op.summary("A game's AIWolf game log (aiwolf-nlp-server's game_logger CSV)")
        .description(
            "One CSV line per event, as aiwolf-nlp-server's game logger writes them (status, \
             talk, whisper, vote, execute, divine, guard, attackVote, attack, result; lines \
             joined by \\n, no trailing newline), built from the game's full stream. Open once \
             the game is over; while it runs it needs the observer token and stops where the \
             observer delay has released the full stream.",
        )
        .text(200, "the log", &["text/plain"])
        .error(400, "a bad query")
        .error(401, "a running game's log needs its observer token")
        .error(404, "no such game")
        .error(500, "the read of the store failed")
        .error(503, "the store cannot be read")
}

/// Where AIWolf's files go under `AIWOLF_LOG_DIR`: `game/` for this log.
pub fn game_dir(dir: &std::path::Path) -> PathBuf {
    dir.join("game")
}

#[cfg(test)]
mod tests {
    //! The builder against games played by the engine itself, whose events reach it exactly as
    //! the game actor routes them to the full stream (`games::wire::event_message` for each
    //! event, then the full `game_state` after a batch that changed the phase).

    use super::super::scripted::{Played, play, storyline};
    use super::*;
    use werewolf_engine::{self as engine, DeathCause, EventKind, GameConfig, Seat};

    fn log_of(played: &Played) -> GameLog {
        let mut log = GameLog::new(played.ids.clone(), played.names.clone());
        for m in &played.full {
            log.feed(m);
        }
        log
    }

    /// Checks a log against the engine's own account of the game it was built from.
    fn check(played: &Played) {
        let log = log_of(played);
        let lines: Vec<Vec<&str>> = log.lines().iter().map(|l| l.split(',').collect()).collect();
        let n = played.ids.len();
        let count = |kind: &str| lines.iter().filter(|l| l[1] == kind).count();
        let day = |l: &Vec<&str>| -> u32 { l[0].parse().expect("a day") };
        // Days never go back; the result is the last line, on the day after the last played.
        assert!(lines.windows(2).all(|w| day(&w[0]) <= day(&w[1])));
        let result = lines.last().expect("lines");
        assert_eq!(result[1], "result", "{:?}", log.lines());
        let end = day(result);
        // One status block per day 0..=end, each of every agent in seat order.
        for d in 0..=end {
            let block: Vec<&Vec<&str>> = lines
                .iter()
                .filter(|l| l[1] == "status" && day(l) == d)
                .collect();
            assert_eq!(block.len(), n, "day {d}'s status block: {:?}", log.lines());
            for (i, l) in block.iter().enumerate() {
                assert_eq!(l[2], (i + 1).to_string());
                let role = role_name(played.game.role_of(Seat(i as u8)).expect("dealt"));
                assert_eq!(l[3], role);
                assert_eq!(l[5], format!("kanolab{}", i + 1));
                assert_eq!(l[6], agent_name(i));
            }
        }
        assert_eq!(count("status"), n * (end as usize + 1));
        // The result: the winner and who is left.
        let winner = played.game.winner().expect("over");
        let side = match winner {
            Winner::Villagers => "VILLAGER",
            Winner::Werewolves => "WEREWOLF",
            _ => "NONE",
        };
        assert_eq!(result[4], side);
        let living: Vec<Seat> = played.game.living().collect();
        let wolves = living
            .iter()
            .filter(|&&s| played.game.role_of(s) == Some(Role::Werewolf))
            .count();
        assert_eq!(result[3], wolves.to_string());
        assert_eq!(result[2], (living.len() - wolves).to_string());
        // The final block says who is alive.
        for l in lines.iter().filter(|l| l[1] == "status" && day(l) == end) {
            let seat = Seat(l[2].parse::<u8>().expect("idx") - 1);
            let alive = if played.game.is_alive(seat) {
                "ALIVE"
            } else {
                "DEAD"
            };
            assert_eq!(l[4], alive);
        }
        // Every execution, on its day, with the role.
        let mut executions = Vec::new();
        let mut attacks = Vec::new();
        let mut chosen: Option<Option<Seat>> = None;
        let (mut talks, mut votes, mut divines, mut guards, mut attack_votes, mut whispers) =
            (0, 0, 0, 0, 0, 0);
        for e in &played.events {
            match e {
                EventKind::VoteResult {
                    day,
                    outcome: engine::VoteOutcome::Executed { seat },
                    ..
                } => executions.push(format!(
                    "{day},execute,{},{}",
                    seat.index() + 1,
                    role_name(played.game.role_of(*seat).expect("dealt"))
                )),
                // The pack chose (not on AIWolf's quiet first night): an attack line at dawn.
                EventKind::AttackTarget { victim, .. } => chosen = Some(*victim),
                EventKind::NightOutcome { day, deaths, .. } => {
                    if let Some(victim) = chosen.take() {
                        attacks.push(match victim {
                            Some(v) => format!(
                                "{},attack,{},{}",
                                day - 1,
                                v.index() + 1,
                                deaths.iter().any(|d| d.seat == v)
                            ),
                            None => format!("{},attack,-1,true", day - 1),
                        });
                    }
                }
                EventKind::Talk { .. } | EventKind::TalkSkipped { .. } => talks += 1,
                EventKind::VoteCast {
                    target: Some(_), ..
                } => votes += 1,
                EventKind::DivineResult { .. } => divines += 1,
                EventKind::Protected { .. } => guards += 1,
                EventKind::AttackVoteCast {
                    target: Some(_), ..
                } => attack_votes += 1,
                EventKind::Whisper { .. } => whispers += 1,
                _ => {}
            }
        }
        let written: Vec<&String> = log
            .lines()
            .iter()
            .filter(|l| l.split(',').nth(1) == Some("execute"))
            .collect();
        assert_eq!(written, executions.iter().collect::<Vec<_>>());
        let written: Vec<&String> = log
            .lines()
            .iter()
            .filter(|l| l.split(',').nth(1) == Some("attack"))
            .collect();
        assert_eq!(
            written,
            attacks.iter().collect::<Vec<_>>(),
            "{:?}",
            log.lines()
        );
        assert_eq!(count("talk"), talks);
        assert_eq!(count("vote"), votes);
        assert_eq!(count("divine"), divines);
        assert_eq!(count("guard"), guards);
        assert_eq!(count("attackVote"), attack_votes);
        assert_eq!(count("whisper"), whispers);
        // A talk's idx counts the day's talks from 0; its turn, the speaker's.
        let mut seen: std::collections::HashMap<(u32, &str), u32> = Default::default();
        let mut idx: std::collections::HashMap<u32, usize> = Default::default();
        for l in lines.iter().filter(|l| l[1] == "talk") {
            let d = day(l);
            let i = idx.entry(d).or_default();
            assert_eq!(l[2], i.to_string());
            *i += 1;
            let t = seen.entry((d, l[4])).or_default();
            assert_eq!(l[3], t.to_string());
            *t += 1;
        }
    }

    /// Random bots (no timeouts) on every preset, several seeds: the log agrees with the
    /// engine's own events.
    #[test]
    fn aiwolf_game_log_agrees_with_the_engine_on_random_games() {
        for preset in ["aiwolf5", "aiwolf13", "arena8", "classic9"] {
            for seed in 0..12u64 {
                let mut config = GameConfig::preset(preset).expect("preset").with_seed(seed);
                config.first_night_attack = !preset.starts_with("aiwolf");
                let mut bots = engine::RandomBots::new(seed).with_timeouts(0);
                let played = play(config, |g, r| bots.choose(g, r));
                check(&played);
            }
        }
    }

    /// The storyline of `docs/aiwolf-protocol-notes.md` §6.2 (AIWolf's own example), played
    /// on the engine under the preset's (AIWolf's) rules: the log is AIWolf's line for line,
    /// day 0's talk included (talk order and texts aside: the order is shuffled each day).
    #[test]
    fn aiwolf_game_log_of_the_notes_storyline() {
        let played = storyline();
        let want = "\
0,status,1,SEER,ALIVE,kanolab1,Agent[01]
0,status,2,WEREWOLF,ALIVE,kanolab2,Agent[02]
0,status,3,VILLAGER,ALIVE,kanolab3,Agent[03]
0,status,4,POSSESSED,ALIVE,kanolab4,Agent[04]
0,status,5,VILLAGER,ALIVE,kanolab5,Agent[05]
0,talk,0,0,5,day 0, hi, I'm 5
0,talk,1,0,1,day 0, hi, I'm 1
0,talk,2,0,4,Over
0,talk,3,0,2,day 0, hi, I'm 2
0,talk,4,0,3,day 0, hi, I'm 3
0,divine,1,3,HUMAN
1,status,1,SEER,ALIVE,kanolab1,Agent[01]
1,status,2,WEREWOLF,ALIVE,kanolab2,Agent[02]
1,status,3,VILLAGER,ALIVE,kanolab3,Agent[03]
1,status,4,POSSESSED,ALIVE,kanolab4,Agent[04]
1,status,5,VILLAGER,ALIVE,kanolab5,Agent[05]
1,talk,0,0,4,Over
1,talk,1,0,1,day 1, hi, I'm 1
1,talk,2,0,3,day 1, hi, I'm 3
1,talk,3,0,5,day 1, hi, I'm 5
1,talk,4,0,2,day 1, hi, I'm 2
1,vote,1,5
1,vote,2,5
1,vote,3,2
1,vote,4,5
1,vote,5,2
1,execute,5,VILLAGER
1,divine,1,2,WEREWOLF
1,attackVote,2,3
1,attack,3,true
2,status,1,SEER,ALIVE,kanolab1,Agent[01]
2,status,2,WEREWOLF,ALIVE,kanolab2,Agent[02]
2,status,3,VILLAGER,DEAD,kanolab3,Agent[03]
2,status,4,POSSESSED,ALIVE,kanolab4,Agent[04]
2,status,5,VILLAGER,DEAD,kanolab5,Agent[05]
2,talk,0,0,4,Over
2,talk,1,0,1,day 2, hi, I'm 1
2,talk,2,0,2,day 2, hi, I'm 2
2,vote,1,2
2,vote,2,1
2,vote,4,2
2,execute,2,WEREWOLF
3,status,1,SEER,ALIVE,kanolab1,Agent[01]
3,status,2,WEREWOLF,DEAD,kanolab2,Agent[02]
3,status,3,VILLAGER,DEAD,kanolab3,Agent[03]
3,status,4,POSSESSED,ALIVE,kanolab4,Agent[04]
3,status,5,VILLAGER,DEAD,kanolab5,Agent[05]
3,result,2,0,VILLAGER";
        let log = log_of(&played);
        assert_eq!(log.text(), want);
        assert!(!log.text().ends_with('\n'), "no trailing newline");
        check(&played);
    }

    /// A game that ends at a dawn (the attack leaves the wolves as many as the humans) has no
    /// status block for that day but the final one, on that day, as AIWolf's server writes it.
    #[test]
    fn aiwolf_game_log_of_a_game_won_at_dawn() {
        let mut found = false;
        // Under AIWolf's own rules (a quiet first night) five players never end at a dawn:
        // the hub's rules (an attack on the first night) do.
        for seed in 0..200u64 {
            let roles = engine::RoleSetup::Preset(engine::Preset::Aiwolf5);
            let config = GameConfig::hub_rules(roles).with_seed(seed);
            let mut bots = engine::RandomBots::new(seed).with_timeouts(0);
            let played = play(config, |g, r| bots.choose(g, r));
            let dawn = matches!(
                played.events.iter().rev().nth(2),
                Some(EventKind::Died {
                    cause: DeathCause::Night | DeathCause::Attack,
                    ..
                })
            );
            if !dawn {
                continue;
            }
            found = true;
            check(&played);
            let log = log_of(&played);
            let last_day = played.game.day();
            let result = log.lines().last().expect("lines");
            assert!(
                result.starts_with(&format!("{last_day},result,")),
                "{result}"
            );
            break;
        }
        assert!(found, "some seed ends at a dawn");
    }

    /// The log is built from the stored frames (JSON) as from the messages; stems are
    /// `{timestamp}_{teams}`.
    #[test]
    fn aiwolf_game_log_from_stored_frames_and_file_stem() {
        let config = GameConfig::preset("aiwolf13").expect("preset").with_seed(3);
        let mut bots = engine::RandomBots::new(3).with_timeouts(0);
        let played = play(config, |g, r| bots.choose(g, r));
        let frames: Vec<String> = played
            .full
            .iter()
            .map(|m| {
                serde_json::to_string(&ServerFrame {
                    message: m.clone(),
                    client_id: "game_engine".to_owned(),
                    timestamp: 1.0,
                })
                .expect("json")
            })
            .chain(std::iter::once("not json".to_owned()))
            .collect();
        let log = from_frames(played.ids.clone(), played.names.clone(), &frames);
        assert_eq!(log.text(), log_of(&played).text());
        let names: Vec<String> = ["kanolab2", "alpha1", "kanolab1"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            file_stem(1_735_700_000.7, &names),
            "1735700000_alpha_kanolab_kanolab"
        );
    }

    /// A truncated stream (the observer delay, or a game still running) logs what it has and
    /// no result; a game that never started logs nothing.
    #[test]
    fn aiwolf_game_log_of_a_partial_stream() {
        let config = GameConfig::preset("aiwolf5").expect("preset").with_seed(1);
        let mut bots = engine::RandomBots::new(1).with_timeouts(0);
        let played = play(config, |g, r| bots.choose(g, r));
        let mut log = GameLog::new(played.ids.clone(), played.names.clone());
        for m in &played.full[..played.full.len() / 2] {
            log.feed(m);
        }
        assert!(!log.is_over());
        assert!(log.lines().iter().all(|l| !l.contains(",result,")));
        assert!(log.lines()[0].starts_with("0,status,1,"));
        let log = GameLog::new(played.ids.clone(), played.names.clone());
        assert_eq!(log.text(), "");
    }
}
