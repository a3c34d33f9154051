//! Who is attached: (re)connections with resume or snapshot, departures, presence, joins,
//! and the abandonment clock.

use super::*;

impl GameActor {
    /// The `connection` frame of a game-bound connection (the socket leaves it to the actor,
    /// which alone knows whether the stream resumes).
    pub(super) fn welcome(&self, entry: &ClientEntry, recovered: bool) {
        let frame = ServerFrame {
            message: ServerMessage::Connection {
                data: ConnectionData {
                    client_type: entry.client_type,
                    timeout_s: self.welcome_limits.0,
                    max_message_bytes: self.welcome_limits.1,
                    game_id: Some(self.shared.id.to_string()),
                    recovered: Some(recovered),
                },
            },
            client_id: entry.id.to_string(),
            timestamp: now_epoch_s(),
        };
        let _ = self.manager.send_to(entry, &frame);
    }

    /// The head a client of `member` may resume up to.
    pub(super) fn resumable_head(&self, member: Member) -> u64 {
        match member {
            Member::Seat(s) => self.seat_seq[s],
            Member::Public => self.public_seq,
            Member::Full => self.full_released,
        }
    }

    pub(super) async fn attach(
        &mut self,
        entry: Arc<ClientEntry>,
        member: Member,
        last_seq: Option<u64>,
    ) {
        let head = self.resumable_head(member);
        let resume = last_seq.filter(|&n| n <= head);
        let catch_up = match resume {
            Some(n) if n < head => {
                // Everything up to `head` must be in the store before it is read back.
                self.commit().await;
                if self.halted.is_some() {
                    self.welcome(&entry, false);
                    return;
                }
                let store = self.store.clone();
                let id = self.shared.id.clone();
                let stream = member.stream();
                let read =
                    tokio::task::spawn_blocking(move || store.frames(&id, stream, n, head)).await;
                match read {
                    Ok(Ok(frames)) if frames.len() as u64 == head - n => Some(frames),
                    Ok(Ok(_)) | Err(_) => None,
                    Ok(Err(e)) => {
                        debug!(error = %e, "resume read failed; sending a snapshot");
                        None
                    }
                }
            }
            Some(_) => Some(Vec::new()),
            None => None,
        };
        self.welcome(&entry, catch_up.is_some());
        if let Some(frames) = &catch_up {
            for text in frames {
                let _ = self
                    .manager
                    .deliver(&entry, Message::Text(Utf8Bytes::from(text.clone())));
            }
        }
        let resumed = catch_up.is_some();
        match member {
            Member::Seat(seat) => {
                self.agents[seat] = Some(entry.clone());
                if !resumed {
                    let mut state = self.state_for(member);
                    state.seq = Some(self.seat_seq[seat]);
                    let bytes = encode(ServerMessage::GameState(state), GAME_ENGINE_ID);
                    self.outbox.push((entry.clone(), bytes));
                    self.resend_requests(seat, &entry);
                }
                self.set_presence(seat, true);
                if self.spec.auto_start
                    && self.game.is_none()
                    && self.all_seated_and_connected()
                    && let Err(e) = self.start(false)
                {
                    debug!(error = %e, "auto start failed");
                }
            }
            Member::Public => {
                if !resumed {
                    let mut state = self.state_for(member);
                    state.seq = Some(self.public_seq);
                    let bytes = encode(ServerMessage::GameState(state), GAME_ENGINE_ID);
                    self.outbox.push((entry.clone(), bytes));
                }
                self.public.push(entry);
            }
            Member::Full => {
                let last = if resumed {
                    self.full_released
                } else {
                    let mut state = self.state_for(member);
                    state.seq = Some(self.full_seq);
                    let bytes = encode(ServerMessage::GameState(state), GAME_ENGINE_ID);
                    self.push_snapshot(&entry, bytes);
                    self.full_seq
                };
                self.full.push(FullViewer { entry, last });
            }
        }
    }

    pub(super) fn detach(&mut self, conn_id: u64, member: Member) {
        match member {
            Member::Seat(seat) => {
                if self.agents[seat]
                    .as_ref()
                    .is_some_and(|e| e.conn_id == conn_id)
                {
                    self.agents[seat] = None;
                    if self.halted.is_none() {
                        self.set_presence(seat, false);
                    }
                }
            }
            Member::Public => self.public.retain(|e| e.conn_id != conn_id),
            Member::Full => self.full.retain(|v| v.entry.conn_id != conn_id),
        }
    }

    /// Claims the first open seat for `name`: the token is handed out only once the join
    /// is durable.
    pub(super) fn join(&mut self, name: &str) -> Result<SeatCredentials, JoinError> {
        let id = self.shared.id.to_string();
        let (seat, credentials, hash) = {
            let mut seats = self.shared.seats_mut();
            if seats.iter().any(|s| s.name.as_deref() == Some(name)) {
                return Err(JoinError::NameTaken(name.to_owned()));
            }
            let (index, seat) = seats
                .iter_mut()
                .enumerate()
                .find(|(_, s)| s.name.is_none())
                .ok_or_else(|| JoinError::Full(id.clone()))?;
            let (token, hash) = seat.claim(name);
            let credentials = SeatCredentials {
                player_id: seat.player_id.clone(),
                name: name.to_owned(),
                token,
                protocol: None,
            };
            (index, credentials, hash)
        };
        self.batch.push(Op::Join {
            seat,
            name: name.to_owned(),
            token_hash: hash,
        });
        self.publish();
        Ok(credentials)
    }

    /// Starts or stops the abandonment clock: it runs while the game is under way and no
    /// seat has its agent connected.
    pub(super) fn watch_abandonment(&mut self) {
        let running = self.game.as_ref().is_some_and(|g| !g.is_over());
        // Bots do not keep a game alive: it needs one of its clients' agents. A table of
        // bots only never waits for anyone.
        let clients: Vec<usize> = (0..self.agents.len())
            .filter(|&s| !self.spec.is_bot(s))
            .collect();
        let nobody = !clients.is_empty() && clients.iter().all(|&s| self.agents[s].is_none());
        if running && nobody && self.halted.is_none() {
            self.all_offline_since.get_or_insert_with(Instant::now);
        } else {
            self.all_offline_since = None;
        }
    }

    /// Every seat has been offline for `GAME_ABANDON_S`: the game ends as `aborted`.
    pub(super) fn abort_abandoned(&mut self) {
        self.all_offline_since = None;
        let Some(game) = self.game.as_mut() else {
            return;
        };
        match game.abort() {
            Ok(outputs) => {
                info!(
                    after_s = self.abandon_after.as_secs(),
                    "every seat offline: game aborted"
                );
                self.end_reason = Some(format!(
                    "every client seat's agent was offline for GAME_ABANDON_S ({} s)",
                    self.abandon_after.as_secs()
                ));
                self.batch.push(Op::Input(Input::Abort));
                self.process(outputs, false);
            }
            Err(e) => debug!(error = %e, "abort of a game already over"),
        }
    }

    /// Ends the game now: a running one as `aborted` (its `game_over` carries `reason`); one
    /// that never started gets a `game_over` (aborted, no roles) on every stream and is
    /// removed once that is durable (its clients are closed with 4003).
    pub(super) fn end(&mut self, reason: String) -> Result<(), EndError> {
        if self.remove {
            return Err(EndError::Over);
        }
        match self.game.as_mut() {
            Some(g) if g.is_over() => Err(EndError::Over),
            Some(g) => {
                let outputs = g.abort().map_err(|_| EndError::Over)?;
                info!(reason = %reason, "game ended early");
                self.end_reason = Some(reason);
                self.batch.push(Op::Input(Input::Abort));
                self.process(outputs, false);
                Ok(())
            }
            None => {
                info!(reason = %reason, "game removed before it started");
                let over = ServerMessage::GameOver(GameOverBody {
                    game_id: self.shared.id.to_string(),
                    seq: 0,
                    winner: werewolf_schemas::Winner::Aborted,
                    day: 0,
                    roles: Default::default(),
                    reason: Some(reason.clone()),
                });
                let seats: Vec<usize> = (0..self.agents.len()).collect();
                self.route(
                    over,
                    GAME_ENGINE_ID,
                    Route {
                        seats: &seats,
                        public: true,
                        full: true,
                    },
                );
                self.batch.push(Op::Ended(store::Ended {
                    winner: werewolf_schemas::Winner::Aborted,
                    ended_at: now_epoch_s(),
                    days: 0,
                }));
                self.end_reason = Some(reason);
                self.remove = true;
                Ok(())
            }
        }
    }

    pub(super) fn set_presence(&mut self, seat: usize, connected: bool) {
        let now = now_epoch_s();
        let player_id = {
            let mut seats = self.shared.seats_mut();
            let Some(s) = seats.get_mut(seat) else { return };
            s.connected = connected;
            s.last_seen = Some(now);
            s.player_id.clone()
        };
        info!(player_id = %player_id, connected, "presence");
        let presence = ServerMessage::Presence(PresenceBody {
            game_id: self.shared.id.to_string(),
            seq: 0,
            player_id,
            connected,
            last_seen: now,
        });
        self.route(
            presence,
            GAME_ENGINE_ID,
            Route {
                seats: &[],
                public: true,
                full: true,
            },
        );
        self.watch_abandonment();
        self.publish();
    }

    pub(super) fn all_seated_and_connected(&self) -> bool {
        (0..self.agents.len()).all(|s| self.present(s))
            && self.shared.seats().iter().all(|s| s.name.is_some())
    }
}
