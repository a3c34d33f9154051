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
    ActionKind, Audience, Ballot, DeathCause, EventKind, Outputs, Phase, Role, Seat, TalkOrder,
    VoteCount, VoteOutcome, VoteReveal,
};
use serde::Serialize;

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

/// One day's talk bookkeeping, indexed by seat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct TalkBook {
    /// Passes each player may still make before a pass ends its talk (with
    /// [`crate::GameConfig::skip_limit`]; unused otherwise).
    passes: Vec<u8>,
    /// Whether each player is done talking for the day (`Over`, out of passes, or out of
    /// talks); done players get no more turns.
    done: Vec<bool>,
    /// Talks each player said today.
    spoken: Vec<u8>,
    /// Turns taken today, all players together (spoken, skipped or timed out).
    turns: u16,
}

impl Game {
    /// Morning after the deaths: `phase_changed` to discussion and the first talk (or bid)
    /// requests.
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
        let n = self.players.len();
        let book = TalkBook {
            passes: vec![self.config.skip_limit.unwrap_or(0); n],
            done: vec![false; n],
            spoken: vec![0; n],
            turns: 0,
        };
        let mut order: Vec<Seat> = self.living().collect();
        if order.is_empty() {
            self.end_discussion(out);
            return;
        }
        match self.config.talk_order {
            TalkOrder::Bidding => {
                self.stage = Stage::Floor {
                    last: None,
                    bids: Vec::new(),
                    book,
                };
                self.open_floor(out);
                return;
            }
            _ if self.config.talk_rounds == 0 => {
                self.end_discussion(out);
                return;
            }
            TalkOrder::Rotating => {
                let start = (self.day.saturating_sub(1) as usize) % order.len();
                order.rotate_left(start);
            }
            TalkOrder::Random => self.rng.shuffle(&mut order),
        }
        let first = order[0];
        self.stage = Stage::Discussion {
            order,
            round: 1,
            next: 0,
            book,
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

    /// Bidding for the next turn: every living player but the last speaker and those done
    /// for the day gets a `bid` request; with no bidder left the discussion ends.
    fn open_floor(&mut self, out: &mut Outputs) {
        let Stage::Floor { last, book, .. } = &self.stage else {
            return;
        };
        let bidders: Vec<Seat> = self
            .living()
            .filter(|&s| Some(s) != *last && !book.done[s.index()])
            .collect();
        if bidders.is_empty() {
            self.end_discussion(out);
            return;
        }
        for seat in bidders {
            self.issue(out, seat, ActionKind::Bid, Vec::new());
        }
    }

    pub(crate) fn on_bid(&mut self, seat: Seat, bid: u8, out: &mut Outputs) {
        let Stage::Floor { bids, .. } = &mut self.stage else {
            return;
        };
        bids.push((seat, bid));
        let all_in = !self.pending.iter().any(|r| r.kind == ActionKind::Bid);
        let bids = if all_in {
            std::mem::take(bids)
        } else {
            Vec::new()
        };
        self.emit(out, Audience::Spectators, EventKind::BidCast { seat, bid });
        if !all_in {
            return;
        }
        let top = bids.iter().map(|&(_, b)| b).max().unwrap_or(0);
        let mut best: Vec<Seat> = bids
            .iter()
            .filter(|&&(_, b)| b == top)
            .map(|&(s, _)| s)
            .collect();
        best.sort_unstable();
        match self.rng.pick(&best) {
            Some(speaker) => self.issue(out, speaker, ActionKind::Talk, Vec::new()),
            None => self.end_discussion(out),
        }
    }

    pub(crate) fn on_talk(
        &mut self,
        seat: Seat,
        text: Option<String>,
        over: bool,
        timed_out: bool,
        out: &mut Outputs,
    ) {
        let limit = self.config.skip_limit;
        let per_agent = self.config.talks_per_agent;
        let per_day = self.config.talks_per_day;
        let (book, said_round) = match &mut self.stage {
            Stage::Discussion { book, round, .. } => (book, *round),
            Stage::Floor { book, .. } => {
                let turn = u8::try_from(book.turns + 1).unwrap_or(u8::MAX);
                (book, turn)
            }
            _ => return,
        };
        let i = seat.index();
        book.turns = book.turns.saturating_add(1);
        let was_done = book.done[i];
        match (&text, limit) {
            (Some(_), Some(limit)) => book.passes[i] = limit,
            (None, Some(_)) if !timed_out && !over => match book.passes[i].checked_sub(1) {
                Some(left) => book.passes[i] = left,
                None => book.done[i] = true,
            },
            _ => {}
        }
        if text.is_some() {
            book.spoken[i] = book.spoken[i].saturating_add(1);
            if per_agent.is_some_and(|max| book.spoken[i] >= max) {
                book.done[i] = true;
            }
        }
        if over {
            book.done[i] = true;
        }
        let now_done = book.done[i] && !was_done;
        let day_full = per_day.is_some_and(|max| book.turns >= max);
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
        if now_done {
            self.emit(out, Audience::Everyone, EventKind::TalkOver { seat });
        }
        if day_full {
            self.end_discussion(out);
            return;
        }
        if let Stage::Floor { last, .. } = &mut self.stage {
            *last = Some(seat);
            self.open_floor(out);
            return;
        }
        let rounds = self.config.talk_rounds;
        let Stage::Discussion {
            order,
            round,
            next,
            book,
        } = &mut self.stage
        else {
            return;
        };
        // The next speaker: the first one after the current one not done, within the rounds.
        let mut following = None;
        let (mut r, mut n) = (*round, *next);
        for _ in 0..order.len() {
            n += 1;
            if n == order.len() {
                n = 0;
                r += 1;
            }
            if r > rounds {
                break;
            }
            if !book.done[order[n].index()] {
                following = Some(order[n]);
                break;
            }
        }
        *round = r;
        *next = n;
        match following {
            Some(speaker) => self.issue(out, speaker, ActionKind::Talk, Vec::new()),
            None => self.end_discussion(out),
        }
    }

    /// Opens the vote (`tied` = `None`) or the revote among `tied`: every voter asked at once,
    /// or with [`VoteReveal::Sequential`] one after the other.
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
        let voters: Vec<Seat> = self.living().collect();
        let own = self.config.self_vote;
        let full = self.config.tie_policy.full_revote();
        let mut asks: Vec<(Seat, Vec<Seat>)> = voters
            .iter()
            .map(|&voter| {
                let pool = tied.as_ref().filter(|_| !full).unwrap_or(&voters);
                let candidates = pool
                    .iter()
                    .copied()
                    .filter(|&s| own || s != voter)
                    .collect();
                (voter, candidates)
            })
            .collect();
        // A voter without a candidate is not asked (as `issue` does).
        asks.retain(|(_, candidates)| !candidates.is_empty());
        let sequential = self.config.vote_reveal == VoteReveal::Sequential;
        if sequential && !asks.is_empty() {
            let start = (self.day.saturating_sub(1) as usize) % asks.len();
            asks.rotate_left(start);
        }
        let now = if sequential {
            let rest = asks.split_off(asks.len().min(1));
            std::mem::replace(&mut asks, rest)
        } else {
            std::mem::take(&mut asks)
        };
        self.stage = Stage::Vote {
            revote: tied.is_some(),
            ballots: Vec::new(),
            queue: asks,
        };
        for (voter, candidates) in now {
            self.issue(out, voter, ActionKind::Vote, candidates);
        }
        if !self.has_pending(ActionKind::Vote) {
            self.tally_vote(out);
        }
    }

    pub(crate) fn on_vote(&mut self, voter: Seat, target: Option<Seat>, out: &mut Outputs) {
        let Stage::Vote {
            revote,
            ballots,
            queue,
        } = &mut self.stage
        else {
            return;
        };
        ballots.push(Ballot { voter, target });
        let revote = *revote;
        let next = (!queue.is_empty()).then(|| queue.remove(0));
        let audience =
            if self.config.public_votes && self.config.vote_reveal != VoteReveal::AfterCount {
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
        if let Some((voter, candidates)) = next {
            self.issue(out, voter, ActionKind::Vote, candidates);
        } else if !self.has_pending(ActionKind::Vote) {
            self.tally_vote(out);
        }
    }

    fn tally_vote(&mut self, out: &mut Outputs) {
        let (revote, ballots) = match &mut self.stage {
            Stage::Vote {
                revote, ballots, ..
            } => (*revote, std::mem::take(ballots)),
            _ => return,
        };
        let (tally, top) = plurality(self.players.len(), ballots.iter().map(|b| b.target));
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
                ballots: if self.config.public_votes {
                    ballots
                } else {
                    Vec::new()
                },
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
