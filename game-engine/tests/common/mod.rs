//! Test harness shared by the integration tests: a table that drives one game and keeps its
//! log, with helpers to find seats by role and answer requests.
#![allow(dead_code)]

use werewolf_engine::{
    Action, ActionError, ActionKind, Event, EventKind, Game, GameConfig, Output, Outputs, Phase,
    Request, RequestId, Role, RoleCounts, Seat,
};

/// One game plus everything it emitted.
pub struct Table {
    pub game: Game,
    pub log: Vec<Output>,
}

impl Table {
    pub fn new(config: GameConfig) -> Self {
        let n = config.player_count();
        let (game, log) = Game::new(config, n).expect("valid config");
        Self { game, log }
    }

    /// Custom counts, talk_rounds 0 (straight to the vote) unless `tweak` says otherwise.
    pub fn custom(counts: RoleCounts, seed: u64, tweak: impl FnOnce(&mut GameConfig)) -> Self {
        let mut config = GameConfig::with_counts(counts).with_seed(seed);
        config.talk_rounds = 0;
        tweak(&mut config);
        Self::new(config)
    }

    pub fn seats(&self, role: Role) -> Vec<Seat> {
        self.game
            .seats()
            .filter(|&s| self.game.role_of(s) == Some(role))
            .collect()
    }

    pub fn seat(&self, role: Role) -> Seat {
        self.seats(role)[0]
    }

    /// A living seat that is neither a werewolf nor in `not`.
    pub fn other(&self, not: &[Seat]) -> Seat {
        self.game
            .living()
            .find(|s| self.game.role_of(*s) != Some(Role::Werewolf) && !not.contains(s))
            .expect("such a seat")
    }

    pub fn try_request(&self, seat: Seat, kind: ActionKind) -> Option<Request> {
        self.game
            .pending_requests()
            .iter()
            .find(|r| r.seat == seat && r.kind == kind)
            .cloned()
    }

    pub fn request(&self, seat: Seat, kind: ActionKind) -> Request {
        self.try_request(seat, kind).unwrap_or_else(|| {
            panic!(
                "no pending {kind:?} for {seat}: {:?}",
                self.game.pending_requests()
            )
        })
    }

    fn record(&mut self, outs: &Outputs) {
        self.log.extend(outs.iter().cloned());
    }

    /// Answers `seat`'s pending request of the action's kind; panics if refused.
    pub fn act(&mut self, seat: Seat, action: Action) -> Outputs {
        let id = self.request(seat, action.kind()).id;
        let outs = self
            .game
            .act(seat, id, action.clone())
            .unwrap_or_else(|e| panic!("{seat} {action:?} refused: {e}"));
        self.record(&outs);
        outs
    }

    /// Tries `action` on `id`; on error asserts the game did not change at all.
    pub fn try_act(
        &mut self,
        seat: Seat,
        id: RequestId,
        action: Action,
    ) -> Result<Outputs, ActionError> {
        let before = self.game.clone();
        match self.game.act(seat, id, action) {
            Ok(outs) => {
                self.record(&outs);
                Ok(outs)
            }
            Err(e) => {
                assert_eq!(before, self.game, "state changed on error {e}");
                Err(e)
            }
        }
    }

    /// Asserts `action` for `seat`'s request of its kind is refused with `expected`.
    pub fn refused(&mut self, seat: Seat, id: RequestId, action: Action, expected: ActionError) {
        assert_eq!(self.try_act(seat, id, action), Err(expected));
    }

    pub fn expire(&mut self, seat: Seat, kind: ActionKind) -> Outputs {
        let id = self.request(seat, kind).id;
        let outs = self.game.expire(id).expect("pending");
        self.record(&outs);
        outs
    }

    /// Every living werewolf attacks `victim`; the seer, doctor and witch do nothing.
    pub fn night(&mut self, victim: Seat) {
        self.night_with(victim, |_, _| None);
    }

    /// Every living werewolf attacks `victim`; other night requests are answered by `f`
    /// (returning `None` = the "nothing" action).
    pub fn night_with(
        &mut self,
        victim: Seat,
        mut f: impl FnMut(&Game, &Request) -> Option<Action>,
    ) {
        for wolf in self.seats(Role::Werewolf) {
            if self.try_request(wolf, ActionKind::Attack).is_some() {
                self.act(wolf, Action::Attack(victim));
            }
        }
        if self.game.phase() != Phase::Night {
            return;
        }
        self.answer_pending(|game, r| {
            f(game, r).unwrap_or(match r.kind {
                ActionKind::Divine => Action::NoDivine,
                ActionKind::Protect => Action::NoProtect,
                ActionKind::Witch => Action::Witch {
                    save: false,
                    poison: None,
                },
                ActionKind::Attack => Action::NoAttack,
                other => panic!("unexpected {other:?} at night"),
            })
        });
    }

    /// Answers pending requests with `f` while any request of the current batch is pending
    /// (stops as soon as a new phase's requests would need other answers: only requests pending
    /// now, and those they lead to within the same phase, are answered).
    pub fn answer_pending(&mut self, mut f: impl FnMut(&Game, &Request) -> Action) {
        let phase = self.game.phase();
        while let Some(r) = self.game.pending_requests().first().cloned() {
            if self.game.phase() != phase {
                break;
            }
            let action = f(&self.game, &r);
            self.act(r.seat, action);
        }
    }

    /// Skips every talk until the vote opens.
    pub fn skip_talks(&mut self) {
        while let Some(r) = self
            .game
            .pending_requests()
            .iter()
            .find(|r| r.kind == ActionKind::Talk)
            .cloned()
        {
            self.act(r.seat, Action::Talk(None));
        }
    }

    /// Every pending voter votes `f(voter)`.
    pub fn vote(&mut self, f: impl Fn(Seat) -> Option<Seat>) {
        let voters: Vec<Seat> = self
            .game
            .pending_requests()
            .iter()
            .filter(|r| r.kind == ActionKind::Vote)
            .map(|r| r.seat)
            .collect();
        assert!(!voters.is_empty(), "no vote pending");
        for voter in voters {
            self.act(voter, Action::Vote(f(voter)));
        }
    }

    pub fn events(&self) -> impl Iterator<Item = &Event> {
        self.log.iter().filter_map(Output::as_event)
    }

    pub fn kinds(&self) -> Vec<&EventKind> {
        self.events().map(|e| &e.kind).collect()
    }
}

pub fn events_of(outs: &Outputs) -> Vec<&Event> {
    outs.iter().filter_map(Output::as_event).collect()
}

pub fn counts(f: impl FnOnce(&mut RoleCounts)) -> RoleCounts {
    let mut c = RoleCounts::default();
    f(&mut c);
    c
}
