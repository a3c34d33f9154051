//! Engine vocabulary → wire vocabulary, and engine events → wire messages.
//!
//! Every function here is pure; the actor decides who receives what (by the event's
//! audience) and stamps each stream's `seq`.

use std::collections::HashMap;
use werewolf_engine as engine;
use werewolf_schemas as wire;
use wire::{
    ActionResultBody, AgentMessageOut, Channel, DeathBody, DeathInfo, GameOverBody,
    PhaseUpdateBody, PlayerActionOut, ResultKind, ResultValue, ServerMessage, VoteDecision,
    VoteResultBody, VoteTally,
};

/// The `client_id` on game frames the game itself originates (seed 004's `game_engine`).
pub const GAME_ENGINE_ID: &str = "game_engine";

/// Player ids and names by seat index.
#[derive(Debug, Clone)]
pub struct Names {
    /// `ids[seat]` is the seat's player id.
    pub ids: Vec<String>,
    /// `names[seat]` is the seat's display name.
    pub names: Vec<String>,
}

impl Names {
    /// The player id of a seat (empty for an out-of-range seat, which the engine never emits).
    pub fn id(&self, seat: engine::Seat) -> String {
        self.ids.get(seat.index()).cloned().unwrap_or_default()
    }

    fn opt(&self, seat: Option<engine::Seat>) -> Option<String> {
        seat.map(|s| self.id(s))
    }

    fn list(&self, seats: &[engine::Seat]) -> Vec<String> {
        seats.iter().map(|s| self.id(*s)).collect()
    }

    fn ballots(&self, ballots: &[engine::Ballot]) -> Vec<wire::Ballot> {
        ballots
            .iter()
            .map(|b| wire::Ballot {
                voter: self.id(b.voter),
                target: self.opt(b.target),
            })
            .collect()
    }

    /// The display name of a seat.
    pub fn name(&self, seat: engine::Seat) -> String {
        self.names.get(seat.index()).cloned().unwrap_or_default()
    }

    /// A request's candidates as the wire shows them: id and name.
    pub fn candidates(&self, seats: &[engine::Seat]) -> Vec<wire::Candidate> {
        seats
            .iter()
            .map(|s| wire::Candidate {
                player_id: self.id(*s),
                name: self.name(*s),
            })
            .collect()
    }

    /// `p3 (Carol)`: a seat as error texts name it.
    fn label(&self, seat: engine::Seat) -> String {
        format!("{} ({})", self.id(seat), self.name(seat))
    }
}

/// An engine refusal in the words of the wire: player ids instead of seats, the seat's own
/// request numbers, the field names a client sends (`max_message_chars`, `target`, `save`,
/// `text`).
pub fn refusal(
    error: &engine::ActionError,
    names: &Names,
    requests: &RequestIds,
    candidates: &[engine::Seat],
) -> String {
    use engine::ActionError as E;
    match error {
        E::GameOver => "the game is over".into(),
        E::UnknownSeat(_) => "you are not a player of this game".into(),
        E::DeadActor(_) => "you are dead: the dead do not act".into(),
        E::UnknownRequest(_) | E::NotYourRequest { .. } => {
            "request_id is not one of your live requests".into()
        }
        E::AlreadyAnswered(id) => format!(
            "request_id `{}` has already been answered or expired",
            requests.wire(*id)
        ),
        E::WrongAction { expected, got } => format!(
            "`action` is `{got}` but the request asks for `{expected}`",
            got = got.name(),
            expected = expected.name()
        ),
        E::WrongPhase { phase } => format!("not allowed during the {phase} phase"),
        E::InvalidTarget { target } => {
            let valid: Vec<String> = candidates.iter().map(|s| names.id(*s)).collect();
            format!(
                "`target` {} is not a candidate of this request (candidates: {})",
                names.label(*target),
                if valid.is_empty() {
                    "none; send null".to_owned()
                } else {
                    valid.join(", ")
                }
            )
        }
        E::PotionUnavailable { potion } => match potion {
            engine::Potion::Save => {
                "`save`: the save potion cannot be used tonight (used already, or no victim)".into()
            }
            engine::Potion::Poison => "`target`: the poison potion has been used; send null".into(),
        },
        E::TextTooLong { max, .. } => {
            format!("the text is longer than the game's max_message_chars ({max} characters)")
        }
        E::EmptyText => "the text is empty; to skip the turn send `text: null`".into(),
        E::NotAWerewolf(_) => "only werewolves may whisper (channel `wolves`)".into(),
        E::MustVote => "this game requires a vote (vote_abstain is false): `target` must be one of the candidates, not null".into(),
        E::BidOutOfRange(b) => format!("`bid` must be 0-4, got {b}"),
    }
}

/// Wire phase.
pub fn phase(p: engine::Phase) -> wire::Phase {
    match p {
        engine::Phase::Night => wire::Phase::Night,
        engine::Phase::Day => wire::Phase::Day,
        engine::Phase::Discussion => wire::Phase::Discussion,
        engine::Phase::Vote => wire::Phase::Vote,
        engine::Phase::Ended => wire::Phase::Ended,
    }
}

fn result_kind(k: engine::ActionKind) -> ResultKind {
    match k {
        engine::ActionKind::Talk => ResultKind::Talk,
        engine::ActionKind::Vote => ResultKind::Vote,
        engine::ActionKind::Attack => ResultKind::Attack,
        engine::ActionKind::Divine => ResultKind::Divine,
        engine::ActionKind::Protect => ResultKind::Protect,
        engine::ActionKind::Witch => ResultKind::Witch,
        engine::ActionKind::Shoot => ResultKind::Shoot,
        engine::ActionKind::Whisper => ResultKind::Whisper,
        engine::ActionKind::Bid => ResultKind::Bid,
    }
}

/// The parts of a `player_action` (or a talk) besides its kind, resolved.
#[derive(Debug, Clone, Default)]
pub struct ActionParts {
    /// The target's seat, if one was named.
    pub target: Option<engine::Seat>,
    /// Witch: use the save potion.
    pub save: bool,
    /// Talk or whisper: the text (`None`: skip / pass).
    pub text: Option<String>,
    /// Talk: done talking for today (`Over`).
    pub over: bool,
    /// Bid: 0–4.
    pub bid: u8,
}

/// Builds an engine action from a `player_action` (or a talk).
pub fn engine_action(kind: wire::ActionKind, parts: ActionParts) -> engine::Action {
    use engine::Action as A;
    let ActionParts {
        target,
        save,
        text,
        over,
        bid,
    } = parts;
    match kind {
        wire::ActionKind::Talk if over => A::Over(text),
        wire::ActionKind::Talk => A::Talk(text),
        wire::ActionKind::Whisper => A::Whisper(text),
        wire::ActionKind::Bid => A::Bid(bid),
        wire::ActionKind::Vote => A::Vote(target),
        wire::ActionKind::Attack => target.map_or(A::NoAttack, A::Attack),
        wire::ActionKind::Divine => target.map_or(A::NoDivine, A::Divine),
        wire::ActionKind::Protect => target.map_or(A::NoProtect, A::Protect),
        wire::ActionKind::Witch => A::Witch {
            save,
            poison: target,
        },
        wire::ActionKind::Shoot => A::Shoot(target),
    }
}

/// Request ids as seats see them: each seat numbers its own requests `1, 2, 3, …` in the
/// order it gets them, so an id says nothing about requests sent to others (the engine's
/// ids are one counter per game and would count the night's actors). Assigned in the
/// engine's output order, so a replay numbers them the same.
#[derive(Debug, Clone, Default)]
pub struct RequestIds {
    /// Engine id → (seat, that seat's number for it).
    numbers: HashMap<engine::RequestId, (usize, u64)>,
    /// `by_seat[seat][n - 1]` is the engine id of the seat's `n`th request.
    by_seat: Vec<Vec<engine::RequestId>>,
}

/// What a seat's `request_id` refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestRef {
    /// One of the seat's own requests (live or closed: the engine tells which).
    Mine(engine::RequestId),
    /// Anything else: not a number, never issued to this seat. One answer for all of them,
    /// so probing ids learns nothing.
    NotYours,
}

impl RequestIds {
    /// Numbering for a game of `seats` seats.
    pub fn new(seats: usize) -> Self {
        RequestIds {
            numbers: HashMap::new(),
            by_seat: vec![Vec::new(); seats],
        }
    }

    /// Gives a new request of `seat` its number.
    pub fn assign(&mut self, seat: usize, id: engine::RequestId) {
        let Some(list) = self.by_seat.get_mut(seat) else {
            return;
        };
        list.push(id);
        self.numbers.insert(id, (seat, list.len() as u64));
    }

    /// The id the request's seat knows it by.
    pub fn wire(&self, id: engine::RequestId) -> String {
        self.numbers
            .get(&id)
            .map_or_else(String::new, |(_, n)| n.to_string())
    }

    /// What `text`, sent by `seat`, refers to.
    pub fn resolve(&self, seat: usize, text: &str) -> RequestRef {
        let n: Option<usize> = text.trim().parse().ok();
        n.and_then(|n| n.checked_sub(1))
            .and_then(|i| self.by_seat.get(seat)?.get(i).copied())
            .map_or(RequestRef::NotYours, RequestRef::Mine)
    }
}

/// One wire message for an engine event, with `seq` 0 (the actor stamps each stream's), and
/// the `client_id` it carries. `None` for events the actor turns into `game_state` instead
/// (`game_started`, `role_assigned`) or that have no wire form.
pub fn event_message(
    game_id: &str,
    names: &Names,
    requests: &RequestIds,
    kind: &engine::EventKind,
) -> Option<(ServerMessage, String)> {
    use engine::EventKind as E;
    let gid = || game_id.to_owned();
    let engine_frame = |m: ServerMessage| Some((m, GAME_ENGINE_ID.to_owned()));
    let action =
        |seat: engine::Seat, kind: wire::ActionKind, target: Option<String>, save: Option<bool>| {
            Some((
                ServerMessage::PlayerAction(PlayerActionOut {
                    game_id: Some(gid()),
                    seq: Some(0),
                    player_id: names.id(seat),
                    action: kind,
                    target,
                    save,
                    over: None,
                    bid: None,
                }),
                names.id(seat),
            ))
        };
    let result = |kind: ResultKind,
                  request_id: Option<String>,
                  target: Option<String>,
                  result: ResultValue| {
        ActionResultBody {
            game_id: gid(),
            seq: 0,
            request_id,
            action: kind,
            target,
            result,
            can_save: None,
            has_poison: None,
            role: None,
            ballots: Vec::new(),
            tied: Vec::new(),
        }
    };
    // A seer's or medium's reading: werewolf or human (the possessed reads human).
    let reading = |kind: ResultKind, target: engine::Seat, is_werewolf: bool| {
        let value = if is_werewolf {
            ResultValue::Werewolf
        } else {
            ResultValue::Human
        };
        engine_frame(ServerMessage::ActionResult(result(
            kind,
            None,
            Some(names.id(target)),
            value,
        )))
    };
    match kind {
        E::GameStarted { .. } | E::RoleAssigned { .. } | E::NightOutcome { .. } => None,
        E::PhaseChanged {
            phase: p,
            day,
            deaths,
        } => engine_frame(ServerMessage::PhaseUpdate(PhaseUpdateBody {
            game_id: Some(gid()),
            seq: Some(0),
            phase: phase(*p),
            day: *day,
            deadline: None,
            deaths: (*p == engine::Phase::Day).then(|| {
                deaths
                    .iter()
                    .map(|d| DeathInfo {
                        player_id: names.id(d.seat),
                        cause: Some(d.cause),
                    })
                    .collect()
            }),
        })),
        E::Died { seat, cause: c } => engine_frame(ServerMessage::Death(DeathBody {
            game_id: gid(),
            seq: 0,
            player_id: names.id(*seat),
            cause: *c,
        })),
        E::Talk { seat, text, .. } => Some((
            talk(game_id, names, *seat, text, Channel::Public),
            names.id(*seat),
        )),
        E::Whisper { seat, text } => Some((
            talk(game_id, names, *seat, text, Channel::Wolves),
            names.id(*seat),
        )),
        E::TalkSkipped { seat, .. } => action(*seat, wire::ActionKind::Talk, None, None),
        E::TalkOver { seat } => {
            let mut over = action(*seat, wire::ActionKind::Talk, None, None);
            if let Some((ServerMessage::PlayerAction(body), _)) = &mut over {
                body.over = Some(true);
            }
            over
        }
        E::WhisperPassed { seat } => action(*seat, wire::ActionKind::Whisper, None, None),
        E::BidCast { seat, bid } => {
            let mut cast = action(*seat, wire::ActionKind::Bid, None, None);
            if let Some((ServerMessage::PlayerAction(body), _)) = &mut cast {
                body.bid = Some(*bid);
            }
            cast
        }
        E::VoteCast { voter, target, .. } => {
            action(*voter, wire::ActionKind::Vote, names.opt(*target), None)
        }
        E::AttackVoteCast { wolf, target } => {
            action(*wolf, wire::ActionKind::Attack, names.opt(*target), None)
        }
        E::Protected { doctor, target } => action(
            *doctor,
            wire::ActionKind::Protect,
            Some(names.id(*target)),
            None,
        ),
        E::WitchUsed {
            witch,
            saved,
            poisoned,
        } => action(
            *witch,
            wire::ActionKind::Witch,
            names.opt(*poisoned),
            Some(saved.is_some()),
        ),
        E::HunterShot { hunter, target } => {
            action(*hunter, wire::ActionKind::Shoot, names.opt(*target), None)
        }
        E::VoteResult {
            day,
            revote,
            tally,
            outcome,
            ballots,
        } => {
            let (decision, executed, tied) = match outcome {
                engine::VoteOutcome::Executed { seat } => {
                    (VoteDecision::Executed, Some(names.id(*seat)), vec![])
                }
                engine::VoteOutcome::Revote { tied } => {
                    (VoteDecision::Revote, None, names.list(tied))
                }
                engine::VoteOutcome::NoExecution { tied } => {
                    (VoteDecision::NoExecution, None, names.list(tied))
                }
            };
            engine_frame(ServerMessage::VoteResult(VoteResultBody {
                game_id: gid(),
                seq: 0,
                day: *day,
                revote: *revote,
                counts: tally
                    .iter()
                    .map(|c| VoteTally {
                        player_id: names.id(c.seat),
                        votes: c.votes,
                    })
                    .collect(),
                decision,
                executed,
                tied,
                ballots: names.ballots(ballots),
            }))
        }
        E::AttackTarget {
            victim, ballots, ..
        } => {
            let mut body = result(
                ResultKind::Attack,
                None,
                names.opt(*victim),
                ResultValue::PackChoice,
            );
            body.ballots = names.ballots(ballots);
            engine_frame(ServerMessage::ActionResult(body))
        }
        E::AttackTie { tied, ballots, .. } => {
            let mut body = result(ResultKind::Attack, None, None, ResultValue::Tie);
            body.ballots = names.ballots(ballots);
            body.tied = names.list(tied);
            engine_frame(ServerMessage::ActionResult(body))
        }
        E::DivineResult {
            target,
            role: Some(role),
            ..
        } => {
            let mut body = result(
                ResultKind::Divine,
                None,
                Some(names.id(*target)),
                ResultValue::Role,
            );
            body.role = Some(*role);
            engine_frame(ServerMessage::ActionResult(body))
        }
        E::DivineResult {
            target,
            is_werewolf,
            ..
        } => reading(ResultKind::Divine, *target, *is_werewolf),
        E::MediumResult {
            target,
            is_werewolf,
            ..
        } => reading(ResultKind::Medium, *target, *is_werewolf),
        E::WitchSees {
            victim,
            can_save,
            can_poison,
            ..
        } => {
            let mut body = result(
                ResultKind::Witch,
                None,
                names.opt(*victim),
                ResultValue::Victim,
            );
            body.can_save = Some(*can_save);
            body.has_poison = Some(*can_poison);
            engine_frame(ServerMessage::ActionResult(body))
        }
        E::ActionAccepted {
            request_id: rid,
            action: a,
            ..
        } => engine_frame(ServerMessage::ActionResult(result(
            result_kind(a.kind()),
            Some(requests.wire(*rid)),
            names.opt(a.target()),
            ResultValue::Accepted,
        ))),
        E::RequestTimedOut {
            request_id: rid,
            kind: k,
            applied,
            ..
        } => engine_frame(ServerMessage::ActionResult(result(
            result_kind(*k),
            Some(requests.wire(*rid)),
            names.opt(applied.target()),
            ResultValue::TimedOut,
        ))),
        E::GameOver {
            winner: w,
            day,
            roles,
        } => engine_frame(ServerMessage::GameOver(GameOverBody {
            game_id: gid(),
            seq: 0,
            winner: *w,
            day: *day,
            roles: roles
                .iter()
                .enumerate()
                .map(|(i, r)| (names.ids[i].clone(), *r))
                .collect(),
            reason: None,
        })),
    }
}

fn talk(
    game_id: &str,
    names: &Names,
    seat: engine::Seat,
    text: &str,
    channel: Channel,
) -> ServerMessage {
    ServerMessage::AgentMessage(AgentMessageOut {
        agent_id: names.id(seat),
        agent_name: names.names.get(seat.index()).cloned().unwrap_or_default(),
        message_text: text.to_owned(),
        channel,
        phase: None,
        game_id: Some(game_id.to_owned()),
        seq: Some(0),
    })
}

/// The `game_start` of a game: its seats and every rule (`seq` 0; the actor stamps it).
pub fn game_start(game_id: &str, names: &Names, config: &engine::GameConfig) -> ServerMessage {
    let seats: Vec<engine::Seat> = (0..names.ids.len() as u8).map(engine::Seat).collect();
    ServerMessage::GameStart(wire::GameStartBody {
        game_id: game_id.to_owned(),
        seq: 0,
        preset: match config.roles {
            engine::RoleSetup::Preset(p) => Some(p.name().to_owned()),
            engine::RoleSetup::Counts(_) => None,
        },
        players: names.candidates(&seats),
        rules: config.rules(),
    })
}

/// Stamps a stream's `seq` on a game message (no-op for messages without one).
pub fn set_seq(message: &mut ServerMessage, seq: u64) {
    match message {
        ServerMessage::GameStart(b) => b.seq = seq,
        ServerMessage::GameState(b) => b.seq = Some(seq),
        ServerMessage::AgentMessage(b) => b.seq = Some(seq),
        ServerMessage::PlayerAction(b) => b.seq = Some(seq),
        ServerMessage::PhaseUpdate(b) => b.seq = Some(seq),
        ServerMessage::ActionRequest(b) => b.seq = seq,
        ServerMessage::ActionResult(b) => b.seq = seq,
        ServerMessage::VoteResult(b) => b.seq = seq,
        ServerMessage::Death(b) => b.seq = seq,
        ServerMessage::Presence(b) => b.seq = seq,
        ServerMessage::GameOver(b) => b.seq = seq,
        ServerMessage::Reasoning(b) => b.seq = seq,
        ServerMessage::Connection { .. }
        | ServerMessage::Disconnection { .. }
        | ServerMessage::Pong(_)
        | ServerMessage::Error(_) => {}
    }
}
