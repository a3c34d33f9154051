//! Playing a seat: the adapter attached to the game's actor as the seat's agent, turning the
//! seat's stream into AIWolf packets and the agent's raw-text answers into actions, with the
//! pack's whisper phase ([`super::pack`]) and AIWolf's timeouts ([`super::probe`]).

use super::*;
/// Plays a seat: attaches to the game as its agent and translates both ways until the
/// game is over or the agent leaves. AIWolf's timeouts and liveness probe: [`probe`].
pub(super) async fn play(socket: WebSocket, state: AppState, name: String, seated: Seated) {
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
                            reasoning: None,
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
        // `Over` ends the agent's talk for the day whatever its pass allowance.
        let over = text.trim() == "Over";
        let said = match text.trim() {
            "" | "Skip" | "Over" | "ForceSkip" => None,
            t => Some(match asked.max_chars {
                Some(max) => t.chars().take(max).collect::<String>(),
                None => t.to_owned(),
            }),
        };
        serde_json::json!({"message_type": "player_action", "request_id": asked.request_id,
                           "action": "talk", "text": said, "over": over})
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
