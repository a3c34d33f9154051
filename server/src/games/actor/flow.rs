//! The game flow: start, deadlines, recovery from the log, engine outputs, requests,
//! retirement.

use super::*;
use werewolf_schemas::answer::AnswerSpec;

impl GameActor {
    /// Starts the game. `explicit`: by `POST /start` (seats must be claimed, not connected).
    pub(super) fn start(&mut self, explicit: bool) -> Result<(), String> {
        if self.game.is_some() {
            return Err("the game has already started".into());
        }
        let names: Vec<Option<String>> =
            self.shared.seats().iter().map(|s| s.name.clone()).collect();
        if names.iter().any(Option::is_none) {
            return Err("seats are still open; fill them with POST /games/{id}/join".into());
        }
        self.names.names = names.into_iter().flatten().collect();
        let (game, outputs) = Game::new(self.spec.config.clone(), self.spec.player_count)
            .map_err(|e| e.to_string())?;
        if !self.replaying {
            info!(explicit, "game started");
            self.batch.push(Op::Input(Input::Start));
        }
        self.game = Some(game);
        self.process(outputs, true);
        Ok(())
    }

    pub(super) fn on_deadline(&mut self, request: engine::RequestId) {
        if let Some(p) = self.pending.remove(&request) {
            self.samples.timeouts.push(p.kind);
        }
        let Some(game) = self.game.as_mut() else {
            return;
        };
        match game.expire(request) {
            Ok(outputs) => {
                self.batch
                    .push(Op::Input(Input::Expire { request: request.0 }));
                self.process(outputs, false);
            }
            Err(e) => debug!(error = %e, "deadline of a request already closed"),
        }
    }

    /// Rebuilds the game from its log: replays every input through the engine without
    /// routing, takes each stream's `seq` from the log, then re-issues every pending
    /// request with a fresh deadline (its full timeout, from now) as a new frame.
    pub(super) fn recover(&mut self, stored: StoredGame) {
        self.replaying = true;
        for input in &stored.inputs {
            let applied = match input {
                Input::Start => self.start(false).map_err(|e| e.to_string()),
                Input::Act {
                    seat,
                    request,
                    action,
                } => self.replay(|g| {
                    g.act(
                        Seat(*seat as u8),
                        engine::RequestId(*request),
                        action.clone(),
                    )
                }),
                Input::Whisper { seat, text } => {
                    self.replay(|g| g.whisper(Seat(*seat as u8), text.clone()))
                }
                Input::Expire { request } => self.replay(|g| g.expire(engine::RequestId(*request))),
                Input::Abort => self.replay(Game::abort),
            };
            if let Err(e) = applied {
                tracing::error!(error = %e, ?input, "the log does not replay; game stopped at this input");
                break;
            }
        }
        self.replaying = false;
        let head = |s: StreamId| stored.heads.get(&s).copied().unwrap_or(0);
        for (seat, seq) in self.seat_seq.iter_mut().enumerate() {
            *seq = head(StreamId::Seat(seat));
        }
        self.public_seq = head(StreamId::Public);
        self.full_seq = head(StreamId::Full);
        self.reasoning_seq = head(StreamId::Reasoning);
        self.full_released = self.full_seq;
        self.shared
            .full_released
            .store(self.full_released, std::sync::atomic::Ordering::Relaxed);
        // (With an observer delay, `hold_back_recent_full` then takes back what was not due.)
        if let Some(ended) = stored.ended {
            let ago = (now_epoch_s() - ended.ended_at).max(0.0);
            self.ended_at = Some(
                Instant::now()
                    .checked_sub(Duration::from_secs_f64(ago))
                    .unwrap_or_else(Instant::now),
            );
            self.shared.traffic.release_into(&self.hub_traffic);
        }
        // Re-issue what was pending at the crash: same request ids, new deadlines.
        let pending: Vec<engine::Request> = self
            .game
            .as_ref()
            .map(|g| g.pending_requests().to_vec())
            .unwrap_or_default();
        let now = now_epoch_s();
        for request in pending {
            self.track(&request, now);
            self.send_request(&request);
        }
        self.watch_abandonment();
        info!(
            inputs = stored.inputs.len(),
            pending = self.pending.len(),
            "game recovered from the log"
        );
    }

    pub(super) fn replay(
        &mut self,
        input: impl FnOnce(&mut Game) -> Result<Vec<Output>, engine::ActionError>,
    ) -> Result<(), String> {
        let game = self.game.as_mut().ok_or("an input before the start")?;
        let outputs = input(game).map_err(|e| e.to_string())?;
        self.process(outputs, false);
        Ok(())
    }

    /// Delivers a batch of engine outputs: events by audience, then (after a phase change)
    /// a fresh `game_state` on every stream, then the new requests. While replaying the log,
    /// only the state is updated.
    pub(super) fn process(&mut self, outputs: Vec<Output>, started: bool) {
        let now = now_epoch_s();
        let latest_deadline = outputs
            .iter()
            .filter_map(Output::as_request)
            .map(|r| now + r.timeout_ms as f64 / 1000.0)
            .fold(None, |acc: Option<f64>, d| {
                Some(acc.map_or(d, |a| a.max(d)))
            });
        let mut phase_changed = started;
        let mut requests = Vec::new();
        for output in outputs {
            match output {
                Output::Event(event) => {
                    if let EventKind::RequestTimedOut { seat, .. } = &event.kind
                        && let Some(s) = self.shared.seats_mut().get_mut(seat.index())
                    {
                        s.timeouts += 1;
                    }
                    if matches!(
                        event.kind,
                        EventKind::PhaseChanged { .. } | EventKind::GameOver { .. }
                    ) {
                        phase_changed = true;
                    }
                    if self.replaying {
                        continue;
                    }
                    self.log_event(&event.kind);
                    if matches!(event.kind, EventKind::GameStarted { .. }) {
                        let start =
                            wire::game_start(&self.shared.id, &self.names, &self.spec.config);
                        self.route_event(start, wire::GAME_ENGINE_ID, event.audience);
                        continue;
                    }
                    let Some((mut message, client_id)) = wire::event_message(
                        &self.shared.id,
                        &self.names,
                        &self.requests,
                        &event.kind,
                    ) else {
                        continue;
                    };
                    if let ServerMessage::PhaseUpdate(p) = &mut message {
                        p.deadline = latest_deadline;
                    }
                    if let ServerMessage::GameOver(over) = &mut message {
                        over.reason.clone_from(&self.end_reason);
                    }
                    self.route_event(message, &client_id, event.audience);
                }
                Output::Request(request) => {
                    self.requests.assign(request.seat.index(), request.id);
                    if self.replaying {
                        continue;
                    }
                    self.track(&request, now);
                    requests.push(request);
                }
                Output::Closed(closed) => {
                    if let Some(p) = self.pending.remove(&closed.id) {
                        self.deadlines.try_remove(&p.key);
                        match closed.reason {
                            engine::CloseReason::Answered => self
                                .samples
                                .answers
                                .push((p.kind, p.issued.elapsed().as_secs_f64())),
                            engine::CloseReason::TimedOut => self.samples.timeouts.push(p.kind),
                            engine::CloseReason::Cancelled => {}
                        }
                    }
                }
            }
        }
        if phase_changed && !self.replaying {
            self.broadcast_states();
        }
        if self.ended_at.is_none()
            && !self.replaying
            && self.game.as_ref().is_some_and(Game::is_over)
        {
            self.ended_at = Some(Instant::now());
            if let Some(g) = &self.game {
                self.batch.push(Op::Ended(store::Ended {
                    winner: g.winner().unwrap_or(werewolf_schemas::Winner::Aborted),
                    ended_at: now_epoch_s(),
                    days: g.day(),
                }));
            }
            // Hidden information is public now: so is the traffic of seats and full view,
            // and what the game measured.
            self.shared.traffic.release_into(&self.hub_traffic);
            self.metrics.release(std::mem::take(&mut self.samples));
        }
        if self.replaying {
            return;
        }
        self.watch_abandonment();
        for request in requests {
            if self.pending.contains_key(&request.id) {
                self.send_request(&request);
            }
        }
        self.publish();
    }

    pub(super) fn send_request(&mut self, request: &engine::Request) {
        let Some(pending) = self.pending.get(&request.id) else {
            return;
        };
        let deadline = pending.deadline;
        let request_id = self.requests.wire(request.id);
        let candidates = self.names.candidates(&request.candidates);
        let max_chars = self.spec.config.max_talk_chars;
        let can_save = self
            .game
            .as_ref()
            .and_then(|g| g.witch_options(request.seat))
            .is_some_and(|o| o.can_save);
        let response_schema = werewolf_schemas::answer::response_schema(&AnswerSpec {
            request_id: &request_id,
            action: request.kind,
            candidates: &candidates,
            may_abstain: request.kind != engine::ActionKind::Vote || self.spec.config.vote_abstain,
            can_save,
            max_message_chars: max_chars,
        });
        let message = ServerMessage::ActionRequest(ActionRequestBody {
            game_id: self.shared.id.to_string(),
            seq: 0,
            request_id,
            action: request.kind,
            candidates,
            max_message_chars: matches!(
                request.kind,
                engine::ActionKind::Talk | engine::ActionKind::Whisper
            )
            .then_some(max_chars),
            max_reasoning_chars: Some(self.spec.max_reasoning_chars),
            response_schema,
            deadline,
        });
        let seat = request.seat.index();
        let stamped = self.route(
            message,
            GAME_ENGINE_ID,
            Route {
                seats: &[seat],
                public: false,
                full: false,
            },
        );
        let seq = self.seat_seq[seat];
        if let Some(p) = self.pending.get_mut(&request.id) {
            p.frame = Some((seq, stamped.with_seq(seq)));
        }
        self.schedule_bot(request);
    }

    /// After a reconnect without resume: the seat's pending requests again, as the very
    /// frames that were logged (same `seq`, same deadline).
    pub(super) fn resend_requests(&mut self, seat: usize, entry: &Arc<ClientEntry>) {
        let mut mine: Vec<&(u64, Utf8Bytes)> = self
            .pending
            .values()
            .filter(|p| p.seat == seat)
            .filter_map(|p| p.frame.as_ref())
            .collect();
        mine.sort_by_key(|(seq, _)| *seq);
        let frames: Vec<Utf8Bytes> = mine.into_iter().map(|(_, b)| b.clone()).collect();
        for bytes in frames {
            self.outbox.push((entry.clone(), bytes));
        }
    }

    /// Closes every connection still attached to the game (the caller removes it from the
    /// registry).
    /// One INFO line (in the game's span, so with its `game_id`) per milestone: phases,
    /// deaths, expired requests, the end. Operator logs: they may name roles and causes.
    fn log_event(&self, kind: &EventKind) {
        match kind {
            EventKind::PhaseChanged { phase, day, .. } => info!(?phase, day, "phase"),
            EventKind::Died { seat, cause } => {
                info!(player_id = %self.names.id(*seat), ?cause, "death")
            }
            EventKind::RequestTimedOut { seat, kind, .. } => info!(
                player_id = %self.names.id(*seat),
                action = kind.name(),
                "request timed out"
            ),
            EventKind::GameOver { winner, day, .. } => info!(?winner, day, "game over"),
            _ => {}
        }
    }

    pub(super) fn retire(&mut self) {
        info!("finished game retired");
        let attached = self
            .agents
            .iter()
            .flatten()
            .chain(&self.public)
            .chain(self.full.iter().map(|v| &v.entry));
        for entry in attached {
            entry.control.close(CloseReason::GameRemoved);
        }
    }

    /// After a recovery with an observer delay: full-view frames younger than the delay
    /// (by their `timestamp`) were not yet released when the hub stopped, so they wait out
    /// the rest of it again instead of reaching full observers (and replays) at once.
    pub(super) async fn hold_back_recent_full(&mut self) {
        let delay = self.spec.observer_delay;
        if delay.is_zero() || self.full_seq == 0 {
            return;
        }
        let store = self.store.clone();
        let id = self.shared.id.clone();
        let upto = self.full_seq;
        let frames =
            match tokio::task::spawn_blocking(move || store.frames(&id, StreamId::Full, 0, upto))
                .await
            {
                Ok(Ok(frames)) => frames,
                _ => {
                    // Cannot tell what was due: hold everything back for a whole delay.
                    Vec::new()
                }
            };
        let now = now_epoch_s();
        let mut released = if frames.len() as u64 == upto { upto } else { 0 };
        let mut held = Vec::new();
        for (i, text) in frames.iter().enumerate() {
            let seq = i as u64 + 1;
            let stamped_at = serde_json::from_str::<serde_json::Value>(text)
                .ok()
                .and_then(|v| v["timestamp"].as_f64())
                .unwrap_or(now);
            let due_in = stamped_at + delay.as_secs_f64() - now;
            if due_in > 0.0 {
                if held.is_empty() {
                    released = seq - 1;
                }
                held.push((seq, due_in, text));
            }
        }
        if frames.len() as u64 != upto {
            // Unreadable: release nothing before a whole delay has passed.
            released = 0;
            self.delayed.push_back(Delayed {
                due: Instant::now() + delay,
                item: DelayedItem::Release { upto },
            });
        }
        for (seq, due_in, text) in held {
            self.delayed.push_back(Delayed {
                due: Instant::now() + Duration::from_secs_f64(due_in),
                item: DelayedItem::Frame {
                    seq,
                    bytes: Utf8Bytes::from(text.clone()),
                },
            });
        }
        self.full_released = released;
        self.shared
            .full_released
            .store(released, std::sync::atomic::Ordering::Relaxed);
    }

    /// Starts a request's deadline (its full timeout from `now`, epoch seconds).
    fn track(&mut self, request: &engine::Request, now: f64) {
        let key = self
            .deadlines
            .insert(request.id, Duration::from_millis(request.timeout_ms));
        self.pending.insert(
            request.id,
            Pending {
                key,
                deadline: now + request.timeout_ms as f64 / 1000.0,
                seat: request.seat.index(),
                kind: request.kind,
                issued: Instant::now(),
                frame: None,
            },
        );
    }
}
