//! The [`Game`] state machine: creation, the input API (`act`, `whisper`, `expire`), and the
//! plumbing shared by the night and day phases (emitting, requests, deaths, win check).

use crate::night::NightState;
use crate::rng::GameRng;
use crate::{
    Action, ActionError, ActionKind, Audience, CloseReason, DeathCause, Event, EventKind,
    GameConfig, Output, Outputs, Phase, Potion, Request, RequestClosed, RequestId, Role,
    RoleCounts, Seat, SetupError, Winner,
};
use serde::Serialize;

/// One player's private state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct Player {
    /// The dealt role; never changes.
    pub(crate) role: Role,
    /// Alive or dead; the dead never come back.
    pub(crate) alive: bool,
    /// When and how it died (true cause), if dead.
    pub(crate) death: Option<crate::DeathRecord>,
    /// Doctor: whom it protected last night (to forbid protecting them twice running).
    pub(crate) last_protected: Option<Seat>,
    /// Witch: the save potion is still unused.
    pub(crate) save_potion: bool,
    /// Witch: the poison potion is still unused.
    pub(crate) poison_potion: bool,
    /// Seer: everyone it has divined, in order (for [`GameConfig::seer_repeat`]).
    pub(crate) divined: Vec<Seat>,
}

/// What comes after the hunters' shots.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub(crate) enum After {
    /// The dawn's deaths were resolved: discussion follows.
    Discussion,
    /// An execution was resolved: night follows.
    Night,
}

/// Where the game is inside its phase.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) enum Stage {
    /// Awaiting the night's requests (see [`NightState`]).
    Night,
    /// Round-robin talk: `order[next]` is asked to talk in round `round` (1-based); `book`
    /// counts the day's passes, talks and turns.
    Discussion {
        order: Vec<Seat>,
        round: u8,
        next: usize,
        book: crate::day::TalkBook,
    },
    /// A [`crate::TalkOrder::Bidding`] discussion: bids are open (pending `bid` requests,
    /// `bids` the ones cast so far, emptied when the floor is given) or the winner's `talk` is
    /// pending; `last` spoke last.
    Floor {
        last: Option<Seat>,
        bids: Vec<(Seat, u8)>,
        book: crate::day::TalkBook,
    },
    /// Awaiting votes; `ballots` holds the ones cast so far; `queue` the voters not asked yet
    /// with their candidates ([`crate::VoteReveal::Sequential`]; empty otherwise).
    Vote {
        revote: bool,
        ballots: Vec<crate::Ballot>,
        queue: Vec<(Seat, Vec<Seat>)>,
    },
    /// Dead hunters shoot one after the other; `queue` holds those not yet asked.
    Shots { queue: Vec<Seat>, after: After },
    /// Game over.
    Ended,
}

/// A running game of Werewolf: a pure, deterministic state machine.
///
/// Create it with [`Game::new`], feed it inputs ([`Game::act`], [`Game::whisper`],
/// [`Game::expire`]) and deliver the [`Output`]s each call returns. Every input that returns an
/// error leaves the game exactly as it was. Same config (seed included) and same inputs → same
/// outputs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Game {
    pub(crate) config: GameConfig,
    pub(crate) counts: RoleCounts,
    pub(crate) rng: GameRng,
    pub(crate) players: Vec<Player>,
    pub(crate) phase: Phase,
    pub(crate) day: u32,
    pub(crate) seq: u64,
    pub(crate) next_request: u64,
    pub(crate) pending: Vec<Request>,
    pub(crate) stage: Stage,
    pub(crate) night: NightState,
    pub(crate) last_executed: Option<Seat>,
    pub(crate) winner: Option<Winner>,
}

impl Game {
    /// Creates a game of `player_count` players: validates the config, deals the roles with the
    /// seeded RNG and starts night 1 (or, with [`GameConfig::opening_talk`], the day-0
    /// discussion).
    ///
    /// Returns the game and its first outputs: `game_started` (everyone), one `role_assigned`
    /// per player (to that player), `phase_changed` to night 1 (or day 0's discussion), and
    /// the first requests.
    pub fn new(config: GameConfig, player_count: usize) -> Result<(Game, Outputs), SetupError> {
        let counts = config.validate(player_count)?;
        let mut rng = GameRng::new(config.seed);
        let mut deck = counts.deck();
        rng.shuffle(&mut deck);
        let players = deck
            .iter()
            .map(|&role| Player {
                role,
                alive: true,
                death: None,
                last_protected: None,
                save_potion: role == Role::Witch,
                poison_potion: role == Role::Witch,
                divined: Vec::new(),
            })
            .collect();
        let mut game = Game {
            config,
            counts,
            rng,
            players,
            phase: Phase::Night,
            day: 0,
            seq: 0,
            next_request: 1,
            pending: Vec::new(),
            stage: Stage::Night,
            night: NightState::default(),
            last_executed: None,
            winner: None,
        };
        let mut out = Vec::with_capacity(4 + 2 * player_count);
        game.emit(
            &mut out,
            Audience::Everyone,
            EventKind::GameStarted {
                players: player_count as u8,
                roles: counts,
                public_votes: game.config.public_votes,
                talk_rounds: game.config.talk_rounds,
                max_talk_chars: game.config.max_talk_chars,
            },
        );
        for seat in game.seats() {
            let role = game.players[seat.index()].role;
            let teammates = if role.is_werewolf() {
                game.werewolf_seats().filter(|&s| s != seat).collect()
            } else {
                Vec::new()
            };
            game.emit(
                &mut out,
                Audience::Player(seat),
                EventKind::RoleAssigned {
                    seat,
                    role,
                    team: role.team(),
                    teammates,
                },
            );
        }
        if game.config.opening_talk {
            game.start_discussion(&mut out);
        } else {
            game.start_night(&mut out);
        }
        Ok((game, out))
    }

    /// Answers the pending request `request_id` addressed to `seat` with `action`.
    ///
    /// On success returns the outputs: the request's `closed` notice, an `action_accepted` event
    /// to the player, then whatever the action caused (events, new requests). On error nothing
    /// changed. Errors, in the order they are checked: [`ActionError::GameOver`],
    /// [`ActionError::UnknownSeat`], [`ActionError::DeadActor`], [`ActionError::UnknownRequest`]
    /// / [`ActionError::AlreadyAnswered`], [`ActionError::NotYourRequest`],
    /// [`ActionError::WrongAction`], then the action's own checks ([`ActionError::InvalidTarget`],
    /// [`ActionError::PotionUnavailable`], [`ActionError::TextTooLong`],
    /// [`ActionError::EmptyText`]).
    pub fn act(
        &mut self,
        seat: Seat,
        request_id: RequestId,
        action: Action,
    ) -> Result<Outputs, ActionError> {
        let index = self.check_request(seat, request_id)?;
        let action = match action {
            Action::Talk(Some(text)) => Action::Talk(Some(self.fit(text))),
            Action::Over(Some(text)) => Action::Over(Some(self.fit(text))),
            Action::Whisper(Some(text)) => Action::Whisper(Some(self.fit(text))),
            other => other,
        };
        self.validate(&self.pending[index], &action)?;
        let request = self.pending.remove(index);
        let mut out = Vec::with_capacity(8);
        out.push(Output::Closed(RequestClosed {
            id: request_id,
            seat,
            reason: CloseReason::Answered,
        }));
        self.emit(
            &mut out,
            Audience::Player(seat),
            EventKind::ActionAccepted {
                request_id,
                seat,
                action: action.clone(),
            },
        );
        self.apply(&request, action, false, &mut out);
        Ok(out)
    }

    /// A living werewolf whispers `text` to the pack; allowed only during the night.
    ///
    /// Emits one `whisper` event with audience [`Audience::Werewolves`]. Errors:
    /// [`ActionError::GameOver`], [`ActionError::UnknownSeat`], [`ActionError::DeadActor`],
    /// [`ActionError::NotAWerewolf`], [`ActionError::WrongPhase`], [`ActionError::EmptyText`],
    /// [`ActionError::TextTooLong`]; on error nothing changed.
    pub fn whisper(&mut self, seat: Seat, text: impl Into<String>) -> Result<Outputs, ActionError> {
        let player = self.player_in_play(seat)?;
        if !player.alive {
            return Err(ActionError::DeadActor(seat));
        }
        if !player.role.is_werewolf() {
            return Err(ActionError::NotAWerewolf(seat));
        }
        if self.phase != Phase::Night {
            return Err(ActionError::WrongPhase { phase: self.phase });
        }
        let text = self.fit(text.into());
        self.check_text(&text)?;
        let mut out = Vec::with_capacity(1);
        self.emit(
            &mut out,
            Audience::Werewolves,
            EventKind::Whisper { seat, text },
        );
        Ok(out)
    }

    /// The deadline of pending request `request_id` passed: applies the kind's default (see
    /// [`timeout_default`]: talk → skip, vote → abstain, attack → no vote,
    /// divine → none, protect → none, witch → nothing, shoot → no shot).
    ///
    /// Returns the request's `closed` notice (reason `timed_out`), a `request_timed_out` event
    /// to the player, then whatever the default caused. Errors:
    /// [`ActionError::UnknownRequest`] or [`ActionError::AlreadyAnswered`] (nothing changed).
    pub fn expire(&mut self, request_id: RequestId) -> Result<Outputs, ActionError> {
        let index = self
            .pending
            .iter()
            .position(|r| r.id == request_id)
            .ok_or_else(|| self.closed_or_unknown(request_id))?;
        let request = self.pending.remove(index);
        let applied = match (request.kind, self.config.vote_timeout) {
            (ActionKind::Vote, crate::VoteTimeout::Random) => {
                Action::Vote(self.rng.pick(&request.candidates))
            }
            (kind, _) => crate::action::timeout_default(kind),
        };
        let timed_out = true;
        let mut out = Vec::with_capacity(8);
        out.push(Output::Closed(RequestClosed {
            id: request_id,
            seat: request.seat,
            reason: CloseReason::TimedOut,
        }));
        self.emit(
            &mut out,
            Audience::Player(request.seat),
            EventKind::RequestTimedOut {
                request_id,
                seat: request.seat,
                kind: request.kind,
                applied: applied.clone(),
            },
        );
        self.apply(&request, applied, timed_out, &mut out);
        Ok(out)
    }

    // ----- accessors -----

    /// The config the game was created with.
    #[must_use]
    pub fn config(&self) -> &GameConfig {
        &self.config
    }

    /// How many of each role are in play (public knowledge).
    #[must_use]
    pub fn role_counts(&self) -> RoleCounts {
        self.counts
    }

    /// Number of players (seats `0..player_count`).
    #[must_use]
    pub fn player_count(&self) -> usize {
        self.players.len()
    }

    /// Every seat, in order.
    pub fn seats(&self) -> impl Iterator<Item = Seat> + use<> {
        (0..self.players.len() as u8).map(Seat)
    }

    /// The current phase.
    #[must_use]
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The current day number (night N precedes day N; starts at 1).
    #[must_use]
    pub fn day(&self) -> u32 {
        self.day
    }

    /// The `seq` of the last thing emitted (0 before anything).
    #[must_use]
    pub fn last_seq(&self) -> u64 {
        self.seq
    }

    /// The winner, once the game is over.
    #[must_use]
    pub fn winner(&self) -> Option<Winner> {
        self.winner
    }

    /// Whether the game is over.
    #[must_use]
    pub fn is_over(&self) -> bool {
        self.winner.is_some()
    }

    /// The role of `seat` (server-side knowledge; do not show it to others before game over).
    #[must_use]
    pub fn role_of(&self, seat: Seat) -> Option<Role> {
        self.players.get(seat.index()).map(|p| p.role)
    }

    /// Whether `seat` is alive (false for an unknown seat).
    #[must_use]
    pub fn is_alive(&self, seat: Seat) -> bool {
        self.players.get(seat.index()).is_some_and(|p| p.alive)
    }

    /// Living seats, in order.
    pub fn living(&self) -> impl Iterator<Item = Seat> + '_ {
        self.seats().filter(|s| self.players[s.index()].alive)
    }

    /// Seats dealt [`Role::Werewolf`], living or dead (the [`Audience::Werewolves`] team).
    pub fn werewolf_seats(&self) -> impl Iterator<Item = Seat> + '_ {
        self.seats()
            .filter(|s| self.players[s.index()].role.is_werewolf())
    }

    /// The requests currently awaited, in the order they were issued.
    #[must_use]
    pub fn pending_requests(&self) -> &[Request] {
        &self.pending
    }

    /// The pending request with this id, if it is still pending.
    #[must_use]
    pub fn pending_request(&self, id: RequestId) -> Option<&Request> {
        self.pending.iter().find(|r| r.id == id)
    }

    /// Whether `seat` may see an event with this audience (players only; full-view spectators
    /// see everything, public viewers only [`Audience::Everyone`]).
    #[must_use]
    pub fn audience_includes(&self, audience: Audience, seat: Seat) -> bool {
        match audience {
            Audience::Everyone => seat.index() < self.players.len(),
            Audience::Player(s) => s == seat && seat.index() < self.players.len(),
            Audience::Werewolves => self.role_of(seat).is_some_and(Role::is_werewolf),
            Audience::Spectators => false,
        }
    }

    /// For a living witch tonight, once the attack is decided: the victim and what it may do.
    #[must_use]
    pub fn witch_options(&self, seat: Seat) -> Option<crate::WitchOptions> {
        let player = self.players.get(seat.index())?;
        if player.role != Role::Witch
            || !player.alive
            || self.phase != Phase::Night
            || !self.night.attack_decided
        {
            return None;
        }
        Some(crate::WitchOptions {
            victim: self.night.victim,
            can_save: player.save_potion && self.night.victim.is_some(),
            can_poison: player.poison_potion,
        })
    }

    // ----- plumbing -----

    pub(crate) fn emit(&mut self, out: &mut Outputs, audience: Audience, kind: EventKind) {
        self.seq += 1;
        out.push(Output::Event(Event {
            seq: self.seq,
            audience,
            kind,
        }));
    }

    /// Issues a request unless it has no candidate where one is needed.
    pub(crate) fn issue(
        &mut self,
        out: &mut Outputs,
        seat: Seat,
        kind: ActionKind,
        candidates: Vec<Seat>,
    ) {
        let needs_target = matches!(
            kind,
            ActionKind::Vote
                | ActionKind::Attack
                | ActionKind::Divine
                | ActionKind::Protect
                | ActionKind::Shoot
        );
        if needs_target && candidates.is_empty() {
            return;
        }
        self.seq += 1;
        let request = Request {
            seq: self.seq,
            id: RequestId(self.next_request),
            seat,
            kind,
            candidates,
            timeout_ms: self.config.timeouts_ms.get(kind),
        };
        self.next_request += 1;
        self.pending.push(request.clone());
        out.push(Output::Request(request));
    }

    pub(crate) fn has_pending(&self, kind: ActionKind) -> bool {
        self.pending.iter().any(|r| r.kind == kind)
    }

    pub(crate) fn role(&self, seat: Seat) -> Role {
        self.players[seat.index()].role
    }

    /// Living seats other than `seat`.
    pub(crate) fn living_except(&self, seat: Seat) -> Vec<Seat> {
        self.living().filter(|&s| s != seat).collect()
    }

    pub(crate) fn kill(&mut self, seat: Seat, cause: DeathCause) {
        let day = self.day;
        let player = &mut self.players[seat.index()];
        player.alive = false;
        player.death = Some(crate::DeathRecord { day, cause });
    }

    fn living_werewolves(&self) -> usize {
        self.players
            .iter()
            .filter(|p| p.alive && p.role.is_werewolf())
            .count()
    }

    /// The win condition: villagers when no werewolf lives; werewolves when living werewolves
    /// ≥ the other living players (the possessed counts among the others).
    pub(crate) fn check_win(&self) -> Option<Winner> {
        let wolves = self.living_werewolves();
        let living = self.players.iter().filter(|p| p.alive).count();
        if wolves == 0 {
            Some(Winner::Villagers)
        } else if wolves >= living - wolves {
            Some(Winner::Werewolves)
        } else {
            None
        }
    }

    /// After deaths: dead `hunters` shoot in turn (unless no werewolf is left), then the win
    /// check, then `after`.
    pub(crate) fn after_deaths(&mut self, hunters: Vec<Seat>, after: After, out: &mut Outputs) {
        self.stage = Stage::Shots {
            queue: hunters,
            after,
        };
        self.next_shot(out);
    }

    fn next_shot(&mut self, out: &mut Outputs) {
        let wolves_alive = self.living_werewolves() > 0;
        let (hunter, after) = match &mut self.stage {
            Stage::Shots { queue, after } => {
                let hunter = if queue.is_empty() || !wolves_alive {
                    None
                } else {
                    Some(queue.remove(0))
                };
                (hunter, *after)
            }
            _ => return,
        };
        match hunter {
            Some(hunter) => {
                let candidates: Vec<Seat> = self.living().collect();
                self.issue(out, hunter, ActionKind::Shoot, candidates);
                if !self.has_pending(ActionKind::Shoot) {
                    self.next_shot(out);
                }
            }
            None => self.continue_after(after, out),
        }
    }

    fn on_shoot(&mut self, hunter: Seat, target: Option<Seat>, out: &mut Outputs) {
        // A shot shows the shooter's role to everyone (that is the hunter's rule); a declined
        // or timed-out shot must not: it is told to spectators only.
        let audience = if target.is_some() {
            Audience::Everyone
        } else {
            Audience::Spectators
        };
        self.emit(out, audience, EventKind::HunterShot { hunter, target });
        if let Some(target) = target {
            self.kill(target, DeathCause::HunterShot);
            self.emit(
                out,
                Audience::Everyone,
                EventKind::Died {
                    seat: target,
                    cause: DeathCause::HunterShot,
                },
            );
            if self.role(target) == Role::Hunter
                && let Stage::Shots { queue, .. } = &mut self.stage
            {
                queue.push(target);
            }
        }
        self.next_shot(out);
    }

    fn continue_after(&mut self, after: After, out: &mut Outputs) {
        if let Some(winner) = self.check_win() {
            self.end(winner, out);
            return;
        }
        match after {
            After::Discussion => self.start_discussion(out),
            After::Night if self.day >= self.config.max_days => self.end(Winner::Draw, out),
            After::Night => self.start_night(out),
        }
    }

    /// Ends the game now with [`Winner::Aborted`] (the server's rule for a game whose players
    /// all left): every pending request is cancelled, the phase becomes `ended` and
    /// `game_over` reveals the roles. An input like any other, so replays stay exact.
    /// Error: [`ActionError::GameOver`] if it had already ended; then nothing changed.
    pub fn abort(&mut self) -> Result<Outputs, ActionError> {
        if self.winner.is_some() {
            return Err(ActionError::GameOver);
        }
        let mut out = Vec::with_capacity(2 + self.pending.len());
        self.end(Winner::Aborted, &mut out);
        Ok(out)
    }

    fn end(&mut self, winner: Winner, out: &mut Outputs) {
        self.winner = Some(winner);
        self.stage = Stage::Ended;
        self.phase = Phase::Ended;
        for request in std::mem::take(&mut self.pending) {
            out.push(Output::Closed(RequestClosed {
                id: request.id,
                seat: request.seat,
                reason: CloseReason::Cancelled,
            }));
        }
        self.emit(
            out,
            Audience::Everyone,
            EventKind::PhaseChanged {
                phase: Phase::Ended,
                day: self.day,
                deaths: Vec::new(),
            },
        );
        let roles = self.players.iter().map(|p| p.role).collect();
        self.emit(
            out,
            Audience::Everyone,
            EventKind::GameOver {
                winner,
                day: self.day,
                roles,
            },
        );
    }

    // ----- input checks -----

    fn closed_or_unknown(&self, id: RequestId) -> ActionError {
        if id.0 >= 1 && id.0 < self.next_request {
            ActionError::AlreadyAnswered(id)
        } else {
            ActionError::UnknownRequest(id)
        }
    }

    /// The checks every input starts with, in order: the game is not over, the seat exists.
    fn player_in_play(&self, seat: Seat) -> Result<&Player, ActionError> {
        if self.winner.is_some() {
            return Err(ActionError::GameOver);
        }
        self.players
            .get(seat.index())
            .ok_or(ActionError::UnknownSeat(seat))
    }

    fn check_request(&self, seat: Seat, id: RequestId) -> Result<usize, ActionError> {
        let player = self.player_in_play(seat)?;
        let index = self.pending.iter().position(|r| r.id == id);
        let own_shot = index.is_some_and(|i| {
            let r = &self.pending[i];
            r.seat == seat && r.kind == ActionKind::Shoot
        });
        if !player.alive && !own_shot {
            return Err(ActionError::DeadActor(seat));
        }
        let index = index.ok_or_else(|| self.closed_or_unknown(id))?;
        if self.pending[index].seat != seat {
            return Err(ActionError::NotYourRequest {
                request_id: id,
                seat,
            });
        }
        Ok(index)
    }

    /// `text` cut to `max_talk_chars` when the config truncates over-long talk (else as is).
    fn fit(&self, text: String) -> String {
        let max = self.config.max_talk_chars;
        if self.config.truncate_talk && text.chars().nth(max).is_some() {
            text.chars().take(max).collect()
        } else {
            text
        }
    }

    fn check_text(&self, text: &str) -> Result<(), ActionError> {
        if text.trim().is_empty() {
            return Err(ActionError::EmptyText);
        }
        let max = self.config.max_talk_chars;
        let len = text.chars().take(max.saturating_add(1)).count();
        if len > max {
            return Err(ActionError::TextTooLong { len, max });
        }
        Ok(())
    }

    fn check_target(request: &Request, target: Seat) -> Result<(), ActionError> {
        if request.candidates.contains(&target) {
            Ok(())
        } else {
            Err(ActionError::InvalidTarget { target })
        }
    }

    fn validate(&self, request: &Request, action: &Action) -> Result<(), ActionError> {
        if action.kind() != request.kind {
            return Err(ActionError::WrongAction {
                expected: request.kind,
                got: action.kind(),
            });
        }
        match action {
            Action::Talk(Some(text)) | Action::Over(Some(text)) | Action::Whisper(Some(text)) => {
                self.check_text(text)
            }
            Action::Vote(None) if !self.config.vote_abstain => Err(ActionError::MustVote),
            Action::Bid(b) if *b > 4 => Err(ActionError::BidOutOfRange(*b)),
            Action::Talk(None)
            | Action::Over(None)
            | Action::Whisper(None)
            | Action::Bid(_)
            | Action::Vote(None)
            | Action::Shoot(None)
            | Action::NoAttack
            | Action::NoDivine
            | Action::NoProtect => Ok(()),
            Action::Vote(Some(t))
            | Action::Shoot(Some(t))
            | Action::Attack(t)
            | Action::Divine(t)
            | Action::Protect(t) => Self::check_target(request, *t),
            Action::Witch { save, poison } => {
                let witch = &self.players[request.seat.index()];
                if *save && !(witch.save_potion && self.night.victim.is_some()) {
                    return Err(ActionError::PotionUnavailable {
                        potion: Potion::Save,
                    });
                }
                if let Some(target) = poison {
                    if !witch.poison_potion {
                        return Err(ActionError::PotionUnavailable {
                            potion: Potion::Poison,
                        });
                    }
                    Self::check_target(request, *target)?;
                }
                Ok(())
            }
        }
    }

    /// Applies a validated action (or, with `timed_out`, the timeout default) for `request`,
    /// already removed from the pending list.
    fn apply(&mut self, request: &Request, action: Action, timed_out: bool, out: &mut Outputs) {
        let seat = request.seat;
        match action {
            Action::Talk(text) => self.on_talk(seat, text, false, timed_out, out),
            Action::Over(text) => self.on_talk(seat, text, true, timed_out, out),
            Action::Whisper(text) => self.on_whisper_turn(seat, text, out),
            Action::Bid(bid) => self.on_bid(seat, bid, out),
            Action::Vote(target) => self.on_vote(seat, target, out),
            Action::Attack(target) => self.on_attack(seat, Some(target), out),
            Action::NoAttack => self.on_attack(seat, None, out),
            Action::Divine(target) => self.on_divine(seat, Some(target), out),
            Action::NoDivine => self.on_divine(seat, None, out),
            Action::Protect(target) => self.on_protect(seat, Some(target), out),
            Action::NoProtect => self.on_protect(seat, None, out),
            Action::Witch { save, poison } => self.on_witch(seat, save, poison, out),
            Action::Shoot(target) => self.on_shoot(seat, target, out),
        }
    }
}
