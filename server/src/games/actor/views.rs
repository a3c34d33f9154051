//! What each member sees: `game_state` per seat, public and full, and the REST snapshots.

use super::*;

impl GameActor {
    pub(super) fn state_for(&self, member: Member) -> GameStateBody {
        let seats = self.shared.seats();
        let game = self.game.as_ref();
        let over = game.is_some_and(Game::is_over);
        let viewer_role = match member {
            Member::Seat(s) => game.and_then(|g| g.role_of(Seat(s as u8))),
            _ => None,
        };
        let players: Vec<PlayerInfo> = seats
            .iter()
            .enumerate()
            .map(|(i, seat)| {
                let role = game.and_then(|g| g.role_of(Seat(i as u8)));
                let visible = over
                    || match member {
                        Member::Full => true,
                        Member::Public => false,
                        Member::Seat(s) => {
                            s == i
                                || (viewer_role.is_some_and(|r| r.is_werewolf())
                                    && role.is_some_and(|r| r.is_werewolf()))
                        }
                    };
                PlayerInfo {
                    id: seat.player_id.clone(),
                    name: seat.name.clone().unwrap_or_default(),
                    alive: game.is_none_or(|g| g.is_alive(Seat(i as u8))),
                    connected: Some(self.present(i)),
                    role: if visible { role } else { None },
                    bot: self.spec.is_bot(i),
                }
            })
            .collect();
        let you = match (member, game, viewer_role) {
            (Member::Seat(s), Some(g), Some(r)) => Some(You {
                player_id: seats[s].player_id.clone(),
                role: r,
                team: r.team(),
                teammates: if r.is_werewolf() {
                    g.werewolf_seats()
                        .filter(|w| w.index() != s)
                        .map(|w| self.names.id(w))
                        .collect()
                } else {
                    Vec::new()
                },
            }),
            _ => None,
        };
        let alive = players.iter().filter(|p| p.alive).count() as u32;
        let day = game.map_or(0, Game::day);
        GameStateBody {
            game_id: Some(self.shared.id.to_string()),
            seq: Some(0),
            phase: game.map_or(werewolf_schemas::Phase::Lobby, |g| wire::phase(g.phase())),
            day,
            current_turn: day,
            alive_count: alive,
            dead_count: players.len() as u32 - alive,
            players,
            you,
            winner: game.and_then(Game::winner),
        }
    }

    /// A fresh `game_state` on every stream (after a phase change), logged whether or not
    /// anyone watches.
    pub(super) fn broadcast_states(&mut self) {
        for seat in 0..self.agents.len() {
            let state = self.state_for(Member::Seat(seat));
            self.route(
                ServerMessage::GameState(state),
                GAME_ENGINE_ID,
                Route {
                    seats: &[seat],
                    public: false,
                    full: false,
                },
            );
        }
        let public = self.state_for(Member::Public);
        self.route(
            ServerMessage::GameState(public),
            GAME_ENGINE_ID,
            Route {
                seats: &[],
                public: true,
                full: false,
            },
        );
        let full = self.state_for(Member::Full);
        self.route(
            ServerMessage::GameState(full),
            GAME_ENGINE_ID,
            Route {
                seats: &[],
                public: false,
                full: true,
            },
        );
    }

    /// Refreshes what REST reads: the summary and the public state.
    pub(super) fn publish(&self) {
        let game = self.game.as_ref();
        let n = self.spec.player_count;
        self.shared.summary.store(Arc::new(GameSummary {
            game_id: self.shared.id.to_string(),
            phase: game.map_or(werewolf_schemas::Phase::Lobby, |g| wire::phase(g.phase())),
            day: game.map_or(0, Game::day),
            players: n,
            alive: game.map_or(n, |g| g.living().count()),
            created_at: self.shared.created_at,
            winner: game.and_then(Game::winner),
            node: None,
            pending_public: game.map_or([0, 0], |g| {
                let count = |kind| {
                    g.pending_requests()
                        .iter()
                        .filter(|r| r.kind == kind)
                        .count()
                };
                [
                    count(engine::ActionKind::Talk),
                    count(engine::ActionKind::Vote),
                ]
            }),
        }));
        self.shared
            .public_state
            .store(Arc::new(self.state_for(Member::Public)));
    }
}
