//! Test support: a game played by the engine itself, its events routed as the game actor
//! routes them (`games::wire::event_message` per event; after a batch that changed the phase,
//! a fresh `game_state` on every stream; then the batch's requests): the full stream (for
//! [`super::game_log`]) and every seat's stream (for [`super::view::SeatView`]).

use crate::games::wire::{self, Names, RequestIds};
use std::collections::VecDeque;
use werewolf_engine::{
    self as engine, Action, Audience, EventKind, Game, GameConfig, Output, Request, Seat,
};
use werewolf_schemas::{ActionRequestBody, GameStateBody, PlayerInfo, Role, ServerMessage, You};

/// A played game.
pub struct Played {
    /// The full stream's messages.
    pub full: Vec<ServerMessage>,
    /// Each seat's stream.
    pub seats: Vec<Vec<ServerMessage>>,
    /// Every engine event (the truth logs are checked against).
    pub events: Vec<EventKind>,
    /// Seats' player ids.
    pub ids: Vec<String>,
    /// Seats' names (`kanolab1`, …).
    pub names: Vec<String>,
    /// The game, over.
    pub game: Game,
}

/// A `game_state` as the actor's `state_for` builds it: `seat` `None` is the full view.
fn state(game: &Game, names: &Names, seat: Option<Seat>) -> ServerMessage {
    let mine = seat.and_then(|s| game.role_of(s));
    let players: Vec<PlayerInfo> = game
        .seats()
        .map(|s| {
            let role = game.role_of(s);
            let visible = game.is_over()
                || match seat {
                    None => true,
                    Some(me) => {
                        me == s || (mine == Some(Role::Werewolf) && role == Some(Role::Werewolf))
                    }
                };
            PlayerInfo {
                id: names.id(s),
                name: names.name(s),
                alive: game.is_alive(s),
                connected: Some(true),
                role: if visible { role } else { None },
                bot: false,
            }
        })
        .collect();
    let you = seat.zip(mine).map(|(me, role)| You {
        player_id: names.id(me),
        role,
        team: role.team(),
        teammates: if role == Role::Werewolf {
            game.werewolf_seats()
                .filter(|&w| w != me)
                .map(|w| names.id(w))
                .collect()
        } else {
            Vec::new()
        },
    });
    let alive = players.iter().filter(|p| p.alive).count() as u32;
    ServerMessage::GameState(GameStateBody {
        game_id: Some("g".to_owned()),
        seq: Some(0),
        phase: wire::phase(game.phase()),
        day: game.day(),
        current_turn: game.day(),
        alive_count: alive,
        dead_count: players.len() as u32 - alive,
        players,
        you,
        winner: game.winner(),
    })
}

/// Routes one batch of engine outputs.
struct Router {
    /// Ids and names by seat.
    names: Names,
    /// Per-seat request numbers.
    requests: RequestIds,
    /// The full stream.
    full: Vec<ServerMessage>,
    /// The seats' streams.
    seats: Vec<Vec<ServerMessage>>,
    /// Every event.
    events: Vec<EventKind>,
}

impl Router {
    fn feed(&mut self, game: &Game, outputs: Vec<Output>, queue: &mut VecDeque<Request>) {
        let mut changed = false;
        let mut requests = Vec::new();
        for output in outputs {
            match output {
                Output::Event(e) => {
                    changed |= matches!(
                        e.kind,
                        EventKind::PhaseChanged { .. } | EventKind::GameOver { .. }
                    );
                    if let Some((m, _)) =
                        wire::event_message("g", &self.names, &self.requests, &e.kind)
                    {
                        for (s, stream) in self.seats.iter_mut().enumerate() {
                            let seat = Seat(s as u8);
                            let to_seat = match e.audience {
                                Audience::Everyone => true,
                                Audience::Player(p) => p == seat,
                                Audience::Werewolves => game.role_of(seat) == Some(Role::Werewolf),
                                Audience::Spectators => false,
                            };
                            if to_seat {
                                stream.push(m.clone());
                            }
                        }
                        self.full.push(m);
                    }
                    self.events.push(e.kind);
                }
                Output::Request(r) => {
                    self.requests.assign(r.seat.index(), r.id);
                    requests.push(r);
                }
                Output::Closed(_) => {}
            }
        }
        if changed {
            for s in 0..self.seats.len() {
                let m = state(game, &self.names, Some(Seat(s as u8)));
                self.seats[s].push(m);
            }
            self.full.push(state(game, &self.names, None));
        }
        for r in requests {
            let body = ActionRequestBody {
                game_id: "g".to_owned(),
                seq: 0,
                request_id: self.requests.wire(r.id),
                action: r.kind,
                candidates: self.names.candidates(&r.candidates),
                max_message_chars: (r.kind == engine::ActionKind::Talk)
                    .then_some(game.config().max_talk_chars),
                max_reasoning_chars: None,
                response_schema: serde_json::Value::Null,
                deadline: 0.0,
            };
            self.seats[r.seat.index()].push(ServerMessage::ActionRequest(body));
            queue.push_back(r);
        }
    }
}

/// Plays `config` with `choose` answering each request in issue order; a werewolf with a
/// fellow alive whispers before its attack vote, as the AIWolf endpoint's wolves do.
pub fn play(config: GameConfig, mut choose: impl FnMut(&Game, &Request) -> Action) -> Played {
    let n = config.player_count();
    let (mut game, first) = Game::new(config, n).expect("valid config");
    let names = Names {
        ids: (1..=n).map(|i| format!("g-p{i}")).collect(),
        names: (1..=n).map(|i| format!("kanolab{i}")).collect(),
    };
    let mut router = Router {
        names: names.clone(),
        requests: RequestIds::new(n),
        full: Vec::new(),
        seats: vec![Vec::new(); n],
        events: Vec::new(),
    };
    let mut queue: VecDeque<Request> = VecDeque::new();
    router.feed(&game, first, &mut queue);
    while let Some(request) = queue.pop_front() {
        if game.pending_request(request.id).is_none() {
            continue;
        }
        if request.kind == engine::ActionKind::Attack
            && game.werewolf_seats().filter(|&w| game.is_alive(w)).count() >= 2
        {
            let text = format!("whisper, from {}", request.seat.index() + 1);
            let out = game.whisper(request.seat, text).expect("a wolf whispers");
            router.feed(&game, out, &mut queue);
        }
        let action = choose(&game, &request);
        let out = game
            .act(request.seat, request.id, action)
            .expect("a legal action");
        router.feed(&game, out, &mut queue);
    }
    assert!(game.is_over(), "the game ended");
    Played {
        full: router.full,
        seats: router.seats,
        events: router.events,
        ids: names.ids,
        names: names.names,
        game,
    }
}

/// The config of `preset` (AIWolf's quiet first night, `talk_rounds` rounds) whose deal gives
/// seat `i` the role `roles[i]`: the first seed that does.
pub fn dealt(preset: &str, talk_rounds: u8, roles: &[Role]) -> GameConfig {
    (0..200_000u64)
        .map(|seed| {
            let mut c = GameConfig::preset(preset).expect("preset").with_seed(seed);
            c.first_night_attack = false;
            c.talk_rounds = talk_rounds;
            c
        })
        .find(|c| {
            let (g, _) = Game::new(c.clone(), roles.len()).expect("valid");
            roles
                .iter()
                .enumerate()
                .all(|(i, r)| g.role_of(Seat(i as u8)) == Some(*r))
        })
        .expect("a seed deals these roles")
}

/// The storyline of `docs/aiwolf-protocol-notes.md` §2.5 and §6.2 (AIWolf's own examples) on
/// `aiwolf5` with one talk round (Agent[04] passes): Agent[01] SEER, Agent[02] WEREWOLF,
/// Agent[03] VILLAGER, Agent[04] POSSESSED, Agent[05] VILLAGER; night 0 the seer divines
/// Agent[03]; day 1 Agent[05] is executed, the seer divines Agent[02], Agent[03] is attacked;
/// day 2 Agent[02] is executed and the villagers win.
pub fn storyline() -> Played {
    use Role::{Possessed, Seer, Villager, Werewolf};
    let config = dealt(
        "aiwolf5",
        1,
        &[Seer, Werewolf, Villager, Possessed, Villager],
    );
    let seat = |i: u8| Seat(i - 1);
    play(config, |g, r| {
        let me = r.seat.index() + 1;
        match (r.kind, g.day()) {
            (engine::ActionKind::Talk, _) if me == 4 => Action::Talk(None),
            (engine::ActionKind::Talk, d) => Action::Talk(Some(format!("day {d}, hi, I'm {me}"))),
            (engine::ActionKind::Divine, 1) => Action::Divine(seat(3)),
            (engine::ActionKind::Divine, _) => Action::Divine(seat(2)),
            (engine::ActionKind::Attack, _) => Action::Attack(seat(3)),
            (engine::ActionKind::Vote, 1) => {
                Action::Vote(Some(seat(if matches!(me, 3 | 5) { 2 } else { 5 })))
            }
            (engine::ActionKind::Vote, _) => Action::Vote(Some(seat(if me == 2 { 1 } else { 2 }))),
            _ => unreachable!("not in the storyline: {r:?}"),
        }
    })
}
