//! The day: round-robin discussion, the simultaneous vote, the revote, and the execution.
//!
//! Discussion: `talk_rounds` rounds; in each, every living player in turn gets one `talk`
//! request (one request pending at a time). The turn order is the living seats in seat order,
//! rotated to start at index `(day - 1) % living` so the first speaker changes every day.
//!
//! Vote: every living player gets a `vote` request at once (candidates: every other living
//! player). The plurality is executed. A tie follows [`crate::TiePolicy`] (default: one revote
//! among the tied, where every living player votes for one of the tied other than itself; a
//! second tie → nobody executed). If nobody votes, nobody is executed.

use crate::game::{After, Game, Stage};
use crate::{
    ActionKind, Audience, DeathCause, EventKind, Outputs, Phase, Role, Seat, VoteCount, VoteOutcome,
};

/// Counts `votes` (`None` = abstention) among `players` seats: the tally sorted by seat (only
/// seats with votes), and the seats with the most votes (empty if nobody voted).
pub(crate) fn plurality(
    players: usize,
    votes: impl Iterator<Item = Option<Seat>>,
) -> (Vec<VoteCount>, Vec<Seat>) {
    let mut counts = vec![0u32; players];
    for target in votes.flatten() {
        if let Some(c) = counts.get_mut(target.index()) {
            *c += 1;
        }
    }
    let max = counts.iter().copied().max().unwrap_or(0);
    let mut tally = Vec::new();
    let mut top = Vec::new();
    for (i, &votes) in counts.iter().enumerate() {
        if votes > 0 {
            let seat = Seat(i as u8);
            tally.push(VoteCount { seat, votes });
            if votes == max {
                top.push(seat);
            }
        }
    }
    (tally, top)
}

impl Game {
    /// Morning after the deaths: `phase_changed` to discussion and the first talk request.
    pub(crate) fn start_discussion(&mut self, out: &mut Outputs) {
        self.phase = Phase::Discussion;
        self.emit(
            out,
            Audience::Everyone,
            EventKind::PhaseChanged {
                phase: Phase::Discussion,
                day: self.day,
                deaths: Vec::new(),
            },
        );
        let mut order: Vec<Seat> = self.living().collect();
        if self.config.talk_rounds == 0 || order.is_empty() {
            self.start_vote(None, out);
            return;
        }
        let start = (self.day.saturating_sub(1) as usize) % order.len();
        order.rotate_left(start);
        let first = order[0];
        self.stage = Stage::Discussion {
            order,
            round: 1,
            next: 0,
        };
        self.issue(out, first, ActionKind::Talk, Vec::new());
    }

    pub(crate) fn on_talk(&mut self, seat: Seat, text: Option<String>, out: &mut Outputs) {
        let Stage::Discussion { order, round, next } = &mut self.stage else {
            return;
        };
        let said_round = *round;
        *next += 1;
        if *next == order.len() {
            *next = 0;
            *round += 1;
        }
        let following = (*round <= self.config.talk_rounds).then(|| order[*next]);
        let kind = match text {
            Some(text) => EventKind::Talk {
                seat,
                round: said_round,
                text,
            },
            None => EventKind::TalkSkipped {
                seat,
                round: said_round,
            },
        };
        self.emit(out, Audience::Everyone, kind);
        match following {
            Some(speaker) => self.issue(out, speaker, ActionKind::Talk, Vec::new()),
            None => self.start_vote(None, out),
        }
    }

    /// Opens the vote (`tied` = `None`) or the revote among `tied`.
    fn start_vote(&mut self, tied: Option<Vec<Seat>>, out: &mut Outputs) {
        if tied.is_none() {
            self.phase = Phase::Vote;
            self.emit(
                out,
                Audience::Everyone,
                EventKind::PhaseChanged {
                    phase: Phase::Vote,
                    day: self.day,
                    deaths: Vec::new(),
                },
            );
        }
        self.stage = Stage::Vote {
            revote: tied.is_some(),
            ballots: Vec::new(),
        };
        let voters: Vec<Seat> = self.living().collect();
        for &voter in &voters {
            let candidates = match &tied {
                Some(tied) => tied.iter().copied().filter(|&s| s != voter).collect(),
                None => voters.iter().copied().filter(|&s| s != voter).collect(),
            };
            self.issue(out, voter, ActionKind::Vote, candidates);
        }
        if !self.has_pending(ActionKind::Vote) {
            self.tally_vote(out);
        }
    }

    pub(crate) fn on_vote(&mut self, voter: Seat, target: Option<Seat>, out: &mut Outputs) {
        let Stage::Vote { revote, ballots } = &mut self.stage else {
            return;
        };
        ballots.push((voter, target));
        let revote = *revote;
        let audience = if self.config.public_votes {
            Audience::Everyone
        } else {
            Audience::Spectators
        };
        self.emit(
            out,
            audience,
            EventKind::VoteCast {
                voter,
                target,
                revote,
            },
        );
        if !self.has_pending(ActionKind::Vote) {
            self.tally_vote(out);
        }
    }

    fn tally_vote(&mut self, out: &mut Outputs) {
        let (revote, ballots) = match &mut self.stage {
            Stage::Vote { revote, ballots } => (*revote, std::mem::take(ballots)),
            _ => return,
        };
        let (tally, top) = plurality(self.players.len(), ballots.iter().map(|&(_, t)| t));
        let policy = self.config.tie_policy;
        let outcome = match top.len() {
            0 => VoteOutcome::NoExecution { tied: top },
            1 => VoteOutcome::Executed { seat: top[0] },
            _ if !revote && policy.revotes() => VoteOutcome::Revote { tied: top },
            _ if policy.breaks_final_tie() => match self.rng.pick(&top) {
                Some(seat) => VoteOutcome::Executed { seat },
                None => VoteOutcome::NoExecution { tied: top },
            },
            _ => VoteOutcome::NoExecution { tied: top },
        };
        self.emit(
            out,
            Audience::Everyone,
            EventKind::VoteResult {
                day: self.day,
                revote,
                tally,
                outcome: outcome.clone(),
            },
        );
        match outcome {
            VoteOutcome::Executed { seat } => {
                self.kill(seat, DeathCause::Execution);
                self.emit(
                    out,
                    Audience::Everyone,
                    EventKind::Died {
                        seat,
                        cause: DeathCause::Execution,
                    },
                );
                self.last_executed = Some(seat);
                let hunters = if self.role(seat) == Role::Hunter {
                    vec![seat]
                } else {
                    Vec::new()
                };
                self.after_deaths(hunters, After::Night, out);
            }
            VoteOutcome::Revote { tied } => self.start_vote(Some(tied), out),
            VoteOutcome::NoExecution { .. } => {
                self.last_executed = None;
                self.after_deaths(Vec::new(), After::Night, out);
            }
        }
    }
}
