//! The day: round-robin discussion, the simultaneous vote, the revote, and the execution.
//!
//! Discussion: `talk_rounds` rounds; in each, every living player in turn gets one `talk`
//! request (one request pending at a time). The turn order is the living seats in seat order,
//! rotated to start at index `(day - 1) % living` so the first speaker changes every day, or
//! (with [`crate::TalkOrder::Random`]) shuffled once per day. With a
//! [`crate::GameConfig::skip_limit`], a player that passes beyond its allowance is done for
//! the day and gets no more turns; the discussion ends when every living player is done. With
//! [`crate::GameConfig::opening_talk`], day 0 is a discussion without a vote.
//!
//! Vote: every living player gets a `vote` request at once (candidates: every other living
//! player). The plurality is executed. A tie follows [`crate::TiePolicy`] (default: one revote
//! among the tied, where every living player votes for one of the tied other than itself; a
//! second tie → nobody executed). If nobody votes, nobody is executed.

use crate::game::{After, Game, Stage};
use crate::{
    ActionKind, Audience, DeathCause, EventKind, Outputs, Phase, Role, Seat, TalkOrder, VoteCount,
    VoteOutcome,
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
            self.end_discussion(out);
            return;
        }
        match self.config.talk_order {
            TalkOrder::Rotating => {
                let start = (self.day.saturating_sub(1) as usize) % order.len();
                order.rotate_left(start);
            }
            TalkOrder::Random => self.rng.shuffle(&mut order),
        }
        let first = order[0];
        let passes = vec![self.config.skip_limit.unwrap_or(0); order.len()];
        let done = vec![false; order.len()];
        self.stage = Stage::Discussion {
            order,
            round: 1,
            next: 0,
            passes,
            done,
        };
        self.issue(out, first, ActionKind::Talk, Vec::new());
    }

    /// The discussion is over: the vote, or after day 0's talk the first night.
    fn end_discussion(&mut self, out: &mut Outputs) {
        if self.day == 0 {
            self.start_night(out);
        } else {
            self.start_vote(None, out);
        }
    }

    pub(crate) fn on_talk(
        &mut self,
        seat: Seat,
        text: Option<String>,
        timed_out: bool,
        out: &mut Outputs,
    ) {
        let limit = self.config.skip_limit;
        let rounds = self.config.talk_rounds;
        let Stage::Discussion {
            order,
            round,
            next,
            passes,
            done,
        } = &mut self.stage
        else {
            return;
        };
        let said_round = *round;
        let me = *next;
        match (&text, limit) {
            (Some(_), Some(limit)) => passes[me] = limit,
            (None, Some(_)) if !timed_out => match passes[me].checked_sub(1) {
                Some(left) => passes[me] = left,
                None => done[me] = true,
            },
            _ => {}
        }
        // The next speaker: the first one after `me` not done, within the rounds.
        let mut following = None;
        let (mut r, mut n) = (*round, me);
        for _ in 0..order.len() {
            n += 1;
            if n == order.len() {
                n = 0;
                r += 1;
            }
            if r > rounds {
                break;
            }
            if !done[n] {
                following = Some(order[n]);
                break;
            }
        }
        *round = r;
        *next = n;
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
            None => self.end_discussion(out),
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
        let own = self.config.self_vote;
        let full = self.config.tie_policy.full_revote();
        for &voter in &voters {
            let pool = tied.as_ref().filter(|_| !full).unwrap_or(&voters);
            let candidates = pool
                .iter()
                .copied()
                .filter(|&s| own || s != voter)
                .collect();
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
        // Werewolf Arena: the top candidate needs more than half of the living players' votes.
        let living = self.living().count() as u32;
        let short_of_majority = self.config.majority_execution
            && top.first().is_none_or(|&s| {
                tally.iter().find(|c| c.seat == s).map_or(0, |c| c.votes) * 2 <= living
            });
        let outcome = match top.len() {
            0 => VoteOutcome::NoExecution { tied: top },
            1 if short_of_majority => VoteOutcome::NoExecution { tied: Vec::new() },
            _ if short_of_majority => VoteOutcome::NoExecution { tied: top },
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
