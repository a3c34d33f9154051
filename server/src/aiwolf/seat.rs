//! AIWolf seats of games created through `POST /games`: `GET /ws?game_id=…` with the seat's
//! token takes the seat directly (no waiting room, no JWT).

use super::*;
/// The AIWolf seat of game `game_id` whose token is `token`, or the refusal: 404 (no such
/// game here), 401 (no AIWolf seat of it has this token: the same answer whatever the token
/// matches otherwise), 409 (the game is over).
pub(super) fn seat_of(
    state: &AppState,
    game_id: &str,
    token: &str,
) -> Result<Seated, Box<Response>> {
    use axum::http::StatusCode;
    let refuse = |status, why: String| Err(Box::new(crate::api::error(status, why)));
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
    let mut setting = setting_of(&spec, &state.config);
    // This game's own deadlines, not the endpoint's: AIWolf announces one action timeout,
    // so the shortest of the kinds an AIWolf agent is asked.
    let t = &spec.config.timeouts_ms;
    setting.timeout.action = [t.talk, t.vote, t.attack, t.divine, t.protect]
        .into_iter()
        .min()
        .unwrap_or(setting.timeout.action);
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
pub(super) async fn seat_agent(mut socket: WebSocket, state: AppState, seated: Seated) {
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
