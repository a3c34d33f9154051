//! The waiting room: AIWolf agents that connect without a game wait per team and are seated
//! together (AIWolf's self-match, or its mixed match with `AIWOLF_SELF_MATCH=false`) in a new
//! `aiwolf5` / `aiwolf13` game.

use super::*;
/// Agents waiting for a game, by team.
#[derive(Debug, Default)]
pub struct WaitingRoom {
    /// Per team, in arrival order.
    teams: Mutex<HashMap<String, Vec<Waiting>>>,
    /// The pack coordinator of each running REST-created game with AIWolf seats, by game id
    /// (shared by the game's AIWolf seats; entries of finished games are dropped when the
    /// next AIWolf seat is taken).
    pub(super) packs: Mutex<HashMap<String, pack::Pack>>,
}

/// An agent in the waiting room.
#[derive(Debug)]
struct Waiting {
    /// Its name as it sent it.
    name: String,
    /// Where its seat goes.
    seat: oneshot::Sender<Seated>,
}

/// One AIWolf agent from handshake to `FINISH`; `token`: its verified token when auth is on.
pub(super) async fn agent(
    mut socket: WebSocket,
    state: AppState,
    token: Option<auth::PlayerToken>,
) {
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
