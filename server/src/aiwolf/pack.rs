//! The pack's whisper phase before the attack, as AIWolf's `logic/communication.go` runs it
//! (notes §5.2–5.3), shared by a game's AIWolf adapters.
//!
//! The hub asks every werewolf's `attack` at nightfall, all at once, and lets a living werewolf
//! whisper freely in the night. AIWolf instead runs a whisper phase first when at least two
//! werewolves are alive: the participants are shuffled once; in each round each one still
//! talking gets one `WHISPER` in turn (`remain_count` counted down from
//! `whisper.max_count.per_agent`, `remain_skip` as its skip budget), with the whispers since its
//! last packet; `Over` (and `Skip` with no skip left) ends that wolf's whispering; the phase
//! ends after `max_count.per_day` rounds, or once a round produced only `Over`, or when nobody
//! is left; then each wolf gets `ATTACK` with the whispers it has not had yet.
//!
//! # Design
//! One [`Pack`] per game, created with the game (like [`super::json_log::GameJsonLog`]) and
//! cloned into each AIWolf adapter, which [`Pack::join`]s it with its seat while it plays.
//! The pack holds the phase's state behind a mutex that is never held across an `.await`, and
//! a `tokio::sync::watch` counter bumped on every change: each adapter waits on it in its
//! select loop and then asks [`Pack::status`] whether it is its turn or the phase is over.
//!
//! **The pack carries the whispers itself.** A turn's answer is recorded in the phase's log
//! in the same step that grants the next turn, and an adapter takes the log's new entries into
//! its view right before it builds its `WHISPER` or `ATTACK` packet. So the next speaker has
//! always heard the previous one, without waiting for the hub to echo the whisper back. The
//! adapter still says the text in the pack's channel (`GameCommand::Say`, channel `wolves`) so
//! the hub's game has it (its log, replays, spectators, hub agents and bots of the pack), and
//! its view ignores the echo of any whisper said by a seat that is (or was) an AIWolf member of
//! the pack ([`Pack::members_ever`]): an AIWolf adapter only whispers through the pack, so
//! every such whisper is in the log already. Whispers of werewolves that are not AIWolf
//! adapters (hub agents, bots) reach the views through the hub's stream as before. As in
//! AIWolf's lists, `Skip` and `Over` are entries of the log too.
//!
//! **Who takes turns.** Whether there is a whisper phase is AIWolf's rule: at least two
//! werewolves alive (hub agents and bots included). Only the AIWolf adapters among them take
//! turns: a hub agent or bot whispers freely as the hub lets it, and has no turn. With a single
//! AIWolf wolf among living wolves it whispers alone, round after round, until it says `Over`
//! or its turns run out. The participants are the living werewolves that are members when the
//! first of them opens the night's phase (at its `attack` request).
//!
//! **Nobody blocks the pack.** Each turn has a deadline: AIWolf's action timeout plus its grace
//! (the per-request timeout after which [`super::probe`] starts the `NAME` probe), plus a
//! second of slack. Every member's adapter sleeps until the pack's deadline and calls
//! [`Pack::expire`], so any live adapter ends a turn whose owner never answers. A turn that
//! times out (the adapter's probe started, or the pack's deadline passed), or whose owner has
//! failed or is probing when its turn comes, or whose `attack` request the hub has expired, is
//! AIWolf's `ForceSkip`: stored as `Skip`, no skip spent, and the wolf keeps its turns (a
//! failed wolf skips each round instantly). A wolf whose adapter has gone ([`PackSeat`]
//! dropped) skips its current turn and takes no more. A stale answer (to a turn already
//! skipped) is refused and not said.
//!
//! The hub's `attack` request of each wolf keeps its own deadline (the hub's timeout, AIWolf's
//! action timeout plus grace from nightfall): the whole phase and the `ATTACK` must fit in it;
//! a wolf whose request expired meanwhile gets no `ATTACK`. Day 0's morning and evening
//! whispers are not played (the hub has no night before day 1's).

use super::packets::TalkSetting;
use rand::seq::SliceRandom;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// Slack added to a turn's deadline beyond the adapter's own timeout.
const SLACK: Duration = Duration::from_secs(1);

/// A wolf's answer to its `WHISPER`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A whisper.
    Said(String),
    /// `Skip`.
    Skip,
    /// `Over` (also an empty text).
    Over,
    /// No answer in time, a failed agent, or its `attack` expired: stored as `Skip`.
    ForceSkip,
}

impl Outcome {
    /// The outcome of a raw answer.
    pub fn of(text: &str) -> Outcome {
        let text = text.replace('\n', "");
        match text.trim() {
            "" | "Over" => Outcome::Over,
            "Skip" => Outcome::Skip,
            "ForceSkip" => Outcome::ForceSkip,
            _ => Outcome::Said(text),
        }
    }
}

/// One entry of a phase's log (AIWolf's talk object, without the recipient's `idx`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Whisper {
    /// The wolf's seat.
    pub seat: usize,
    /// Its text (`Skip`, `Over` included).
    pub text: String,
    /// The 0-based round.
    pub turn: u32,
    /// Whether it is a `Skip`.
    pub skip: bool,
    /// Whether it is an `Over`.
    pub over: bool,
}

/// Where a member stands in a night's phase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// No phase for that night yet.
    NotOpen,
    /// Another wolf's turn (or this one takes no turns).
    Wait,
    /// This wolf's turn `serial`: send `WHISPER` with these counters.
    Turn {
        /// The turn's number in the phase (answers name it).
        serial: u64,
        /// AIWolf's `remain_count` (already decremented, as the mirror sends it).
        remain_count: i64,
        /// AIWolf's `remain_skip`.
        remain_skip: i64,
    },
    /// The phase is over: time for `ATTACK`.
    Done,
}

/// The current turn.
#[derive(Debug, Clone)]
struct Turn {
    /// The speaker.
    seat: usize,
    /// The turn's number.
    serial: u64,
    /// When it is skipped without an answer.
    deadline: Instant,
}

/// One night's phase.
#[derive(Debug)]
struct Phase {
    /// The night (the AIWolf day it belongs to).
    night: u32,
    /// The participants, shuffled once.
    order: Vec<usize>,
    /// Turns left, per participant.
    remain: BTreeMap<usize, i64>,
    /// Skips left, per participant.
    skips: BTreeMap<usize, i64>,
    /// The 0-based round.
    round: u32,
    /// Index in `order` of the current (or last) speaker.
    pos: usize,
    /// Whether the current round had an answer other than `Over`.
    round_talked: bool,
    /// The turn being taken.
    turn: Option<Turn>,
    /// The turns taken so far.
    serial: u64,
    /// Everything said, in order.
    log: Vec<Whisper>,
    /// Whether the phase is over.
    done: bool,
}

/// The pack's state (see the module doc).
#[derive(Debug)]
pub struct PackState {
    /// Turns per agent (`whisper.max_count.per_agent`).
    per_agent: i64,
    /// Rounds (`whisper.max_count.per_day`, which AIWolf uses as the number of rounds).
    rounds: i64,
    /// Skip budget (`whisper.max_skip`; negative: unlimited).
    max_skip: i64,
    /// How long a turn may take.
    turn_time: Duration,
    /// The AIWolf adapters playing now, by seat.
    members: BTreeSet<usize>,
    /// Every seat that has been a member.
    ever: BTreeSet<usize>,
    /// The latest night's phase.
    phase: Option<Phase>,
}

impl PackState {
    /// A pack with the game's whisper rules; `turn_time`: the adapters' per-request timeout.
    pub fn new(whisper: &TalkSetting, turn_time: Duration) -> PackState {
        PackState {
            per_agent: whisper.max_count.per_agent,
            rounds: whisper.max_count.per_day,
            max_skip: whisper.max_skip,
            turn_time: turn_time + SLACK,
            members: BTreeSet::new(),
            ever: BTreeSet::new(),
            phase: None,
        }
    }

    /// Seat `seat`'s adapter plays.
    pub fn join(&mut self, seat: usize) {
        self.members.insert(seat);
        self.ever.insert(seat);
    }

    /// Seat `seat`'s adapter has gone: it skips its current turn and takes no more.
    pub fn leave(&mut self, seat: usize, now: Instant) {
        self.members.remove(&seat);
        let Some(phase) = self.phase.as_mut().filter(|p| !p.done) else {
            return;
        };
        if let Some(r) = phase.remain.get_mut(&seat) {
            *r = 0;
        }
        let current = phase
            .turn
            .as_ref()
            .filter(|t| t.seat == seat)
            .map(|t| (phase.night, t.serial));
        if let Some((night, serial)) = current {
            self.answer(night, seat, serial, Outcome::ForceSkip, now);
        }
    }

    /// Opens night `night`'s phase, unless it is open: `living` are the living werewolves
    /// (every kind); the members among them take turns, in `order_of(members)`'s order.
    pub fn open_with(
        &mut self,
        night: u32,
        living: &[usize],
        now: Instant,
        order_of: impl FnOnce(&mut Vec<usize>),
    ) {
        if self.phase.as_ref().is_some_and(|p| p.night >= night) {
            return;
        }
        let mut order: Vec<usize> = living
            .iter()
            .copied()
            .filter(|s| self.members.contains(s))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        order_of(&mut order);
        let per_agent = self.per_agent.max(0);
        self.phase = Some(Phase {
            night,
            remain: order.iter().map(|&s| (s, per_agent)).collect(),
            skips: order.iter().map(|&s| (s, self.max_skip)).collect(),
            order,
            round: 0,
            pos: 0,
            round_talked: false,
            turn: None,
            serial: 0,
            log: Vec::new(),
            done: false,
        });
        self.grant(0, now);
    }

    /// Ends night `night`'s phase (the night is over).
    pub fn close(&mut self, night: u32) {
        if let Some(p) = self.phase.as_mut().filter(|p| p.night == night) {
            p.done = true;
            p.turn = None;
        }
    }

    /// Where `seat` stands in night `night`'s phase.
    pub fn status(&self, night: u32, seat: usize) -> Status {
        let Some(phase) = self.phase.as_ref().filter(|p| p.night >= night) else {
            return Status::NotOpen;
        };
        if phase.night > night || phase.done {
            return Status::Done;
        }
        match &phase.turn {
            Some(t) if t.seat == seat => {
                let remain_count = phase.remain.get(&seat).copied().unwrap_or(0);
                let skips = phase.skips.get(&seat).copied().unwrap_or(0);
                Status::Turn {
                    serial: t.serial,
                    remain_count,
                    // Without a skip limit every turn left may be skipped.
                    remain_skip: if skips < 0 { remain_count } else { skips },
                }
            }
            _ => Status::Wait,
        }
    }

    /// Night `night`'s entries from `from` on.
    pub fn entries(&self, night: u32, from: usize) -> Vec<Whisper> {
        self.phase
            .as_ref()
            .filter(|p| p.night == night)
            .map(|p| p.log.get(from..).unwrap_or_default().to_vec())
            .unwrap_or_default()
    }

    /// `seat` answers turn `serial` of night `night`; false (nothing recorded) if that is not
    /// the current turn.
    pub fn answer(
        &mut self,
        night: u32,
        seat: usize,
        serial: u64,
        outcome: Outcome,
        now: Instant,
    ) -> bool {
        let max_skip = self.max_skip;
        let Some(phase) = self.phase.as_mut().filter(|p| p.night == night && !p.done) else {
            return false;
        };
        if !phase
            .turn
            .as_ref()
            .is_some_and(|t| t.seat == seat && t.serial == serial)
        {
            return false;
        }
        phase.turn = None;
        let skips = phase.skips.entry(seat).or_insert(max_skip);
        // AIWolf: `ForceSkip` is a `Skip` that spends no budget; `Skip` with none left is
        // `Over`; a whisper resets the budget.
        let text = match outcome {
            Outcome::Said(text) => {
                *skips = max_skip;
                text
            }
            Outcome::ForceSkip => "Skip".to_owned(),
            Outcome::Skip if *skips != 0 => {
                if *skips > 0 {
                    *skips -= 1;
                }
                "Skip".to_owned()
            }
            Outcome::Skip | Outcome::Over => "Over".to_owned(),
        };
        let over = text == "Over";
        if over {
            phase.remain.insert(seat, 0);
        } else {
            phase.round_talked = true;
        }
        phase.log.push(Whisper {
            seat,
            skip: text == "Skip",
            over,
            text,
            turn: phase.round,
        });
        let next = phase.pos + 1;
        self.grant(next, now);
        true
    }

    /// Skips the current turn if its deadline has passed; whether it did.
    pub fn expire(&mut self, now: Instant) -> bool {
        let Some((seat, serial, night)) = self.phase.as_ref().and_then(|p| {
            p.turn
                .as_ref()
                .filter(|t| t.deadline <= now)
                .map(|t| (t.seat, t.serial, p.night))
        }) else {
            return false;
        };
        self.answer(night, seat, serial, Outcome::ForceSkip, now)
    }

    /// When the current turn is skipped without an answer.
    pub fn deadline(&self) -> Option<Instant> {
        self.phase
            .as_ref()
            .and_then(|p| p.turn.as_ref())
            .map(|t| t.deadline)
    }

    /// Seats that are or were AIWolf members (their whispers come through the pack).
    pub fn members_ever(&self) -> &BTreeSet<usize> {
        &self.ever
    }

    /// Gives the turn to the first participant from `order[from..]` (then the next rounds')
    /// with turns left, or ends the phase.
    fn grant(&mut self, mut from: usize, now: Instant) {
        let rounds = self.rounds;
        let turn_time = self.turn_time;
        let Some(phase) = self.phase.as_mut() else {
            return;
        };
        loop {
            if let Some((i, &seat)) = phase
                .order
                .iter()
                .enumerate()
                .skip(from)
                .find(|(_, s)| phase.remain.get(s).is_some_and(|&r| r > 0))
            {
                phase.pos = i;
                if let Some(r) = phase.remain.get_mut(&seat) {
                    *r -= 1;
                }
                phase.serial += 1;
                phase.turn = Some(Turn {
                    seat,
                    serial: phase.serial,
                    deadline: now + turn_time,
                });
                return;
            }
            // The round is over: the phase ends after a round of only `Over` (or of no turn
            // at all), or after the last round.
            if !phase.round_talked || i64::from(phase.round) + 1 >= rounds {
                phase.done = true;
                phase.turn = None;
                return;
            }
            phase.round += 1;
            phase.round_talked = false;
            from = 0;
        }
    }
}

/// A game's pack, shared by its AIWolf adapters; cheap to clone.
#[derive(Debug, Clone)]
pub struct Pack {
    /// The state.
    state: Arc<Mutex<PackState>>,
    /// Bumped on every change.
    changed: Arc<watch::Sender<u64>>,
}

impl Pack {
    /// A game's pack (see [`PackState::new`]).
    pub fn new(whisper: &TalkSetting, turn_time: Duration) -> Pack {
        Pack {
            state: Arc::new(Mutex::new(PackState::new(whisper, turn_time))),
            changed: Arc::new(watch::channel(0).0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, PackState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on the state and tells every member.
    fn update<T>(&self, f: impl FnOnce(&mut PackState) -> T) -> T {
        let out = f(&mut self.lock());
        self.changed.send_modify(|n| *n += 1);
        out
    }

    /// Seat `seat`'s adapter plays; it leaves when the returned handle is dropped.
    pub fn join(&self, seat: usize) -> PackSeat {
        let changes = self.changed.subscribe();
        self.update(|s| s.join(seat));
        PackSeat {
            pack: self.clone(),
            seat,
            changes,
        }
    }
}

/// One adapter's membership of its game's pack.
#[derive(Debug)]
pub struct PackSeat {
    /// The pack.
    pack: Pack,
    /// The adapter's seat.
    seat: usize,
    /// The pack's change counter.
    changes: watch::Receiver<u64>,
}

impl PackSeat {
    /// Resolves when the pack has changed since this was last called.
    pub async fn changed(&mut self) {
        if self.changes.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Opens night `night`'s phase with the `living` werewolves, shuffled, unless open.
    pub fn open(&self, night: u32, living: &[usize]) {
        self.pack.update(|s| {
            s.open_with(night, living, Instant::now(), |order| {
                order.shuffle(&mut rand::rng());
            });
        });
    }

    /// Ends night `night`'s phase.
    pub fn close(&self, night: u32) {
        self.pack.update(|s| s.close(night));
    }

    /// This seat's standing in night `night`'s phase.
    pub fn status(&self, night: u32) -> Status {
        self.pack.lock().status(night, self.seat)
    }

    /// Night `night`'s entries from `from` on.
    pub fn entries(&self, night: u32, from: usize) -> Vec<Whisper> {
        self.pack.lock().entries(night, from)
    }

    /// This seat answers turn `serial`; false if that turn is no longer current.
    pub fn answer(&self, night: u32, serial: u64, outcome: Outcome) -> bool {
        self.pack
            .update(|s| s.answer(night, self.seat, serial, outcome, Instant::now()))
    }

    /// Whether turn `serial` of night `night` is this seat's current one.
    pub fn is_turn(&self, night: u32, serial: u64) -> bool {
        matches!(self.status(night), Status::Turn { serial: s, .. } if s == serial)
    }

    /// Skips the current turn if it is late.
    pub fn expire(&self) {
        self.pack.update(|s| s.expire(Instant::now()));
    }

    /// When the current turn is late.
    pub fn deadline(&self) -> Option<Instant> {
        self.pack.lock().deadline()
    }

    /// Whether `seat`'s whispers come through the pack (ignore the hub's echo of them).
    pub fn through_pack(&self, seat: usize) -> bool {
        self.pack.lock().members_ever().contains(&seat)
    }
}

impl Drop for PackSeat {
    fn drop(&mut self) {
        let seat = self.seat;
        self.pack.update(|s| s.leave(seat, Instant::now()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aiwolf::packets::{MaxCount, MaxLength};

    fn state(per_agent: i64, per_day: i64, max_skip: i64) -> PackState {
        let whisper = TalkSetting {
            max_count: MaxCount { per_agent, per_day },
            max_length: MaxLength {
                count_in_word: false,
                count_spaces: true,
                per_talk: 100,
            },
            max_skip,
        };
        PackState::new(&whisper, Duration::from_secs(10))
    }

    /// The current speaker and its turn.
    fn current(s: &PackState, night: u32) -> Option<(usize, u64, i64)> {
        (0..13).find_map(|seat| match s.status(night, seat) {
            Status::Turn {
                serial,
                remain_count,
                ..
            } => Some((seat, serial, remain_count)),
            _ => None,
        })
    }

    fn open(s: &mut PackState, night: u32, living: &[usize], order: &[usize], now: Instant) {
        let order = order.to_vec();
        s.open_with(night, living, now, |o| {
            assert_eq!(
                o.iter().collect::<BTreeSet<_>>(),
                order.iter().collect::<BTreeSet<_>>()
            );
            *o = order;
        });
    }

    #[test]
    fn aiwolf_pack_rounds_follow_one_order_and_over_ends_a_wolf() {
        let now = Instant::now();
        let mut s = state(4, 12, 0);
        for seat in [2, 5, 9] {
            s.join(seat);
        }
        assert_eq!(s.status(1, 2), Status::NotOpen);
        // Seat 7 is a living wolf played by a hub agent: no turns.
        open(&mut s, 1, &[2, 5, 7, 9], &[9, 2, 5], now);
        let mut spoken = Vec::new();
        let mut counts = BTreeMap::<usize, Vec<i64>>::new();
        while let Some((seat, serial, remain)) = current(&s, 1) {
            assert_ne!(s.status(1, seat), Status::Done);
            counts.entry(seat).or_default().push(remain);
            spoken.push(seat);
            // Seat 2 is done after its second whisper.
            let outcome = if seat == 2 && counts[&2].len() == 2 {
                Outcome::Over
            } else {
                Outcome::Said(format!("{seat} says {serial}"))
            };
            assert!(s.answer(1, seat, serial, outcome, now));
            assert!(
                !s.answer(1, seat, serial, Outcome::Over, now),
                "answered once"
            );
        }
        assert_eq!(spoken, [9, 2, 5, 9, 2, 5, 9, 5, 9, 5]);
        assert_eq!(counts[&9], [3, 2, 1, 0], "remain_count as the mirror's");
        assert_eq!(counts[&2], [3, 2]);
        for seat in [2, 5, 7, 9] {
            assert_eq!(s.status(1, seat), Status::Done);
        }
        let log = s.entries(1, 0);
        assert_eq!(log.len(), 10);
        assert!(log[4].over && log[4].text == "Over" && log[4].seat == 2);
        assert_eq!(log[3].turn, 1);
        assert_eq!(s.entries(1, 8).len(), 2);
        // The same night is not opened twice; the next one starts afresh.
        open(&mut s, 1, &[2, 5, 9], &[], now);
        assert_eq!(s.status(1, 9), Status::Done);
        open(&mut s, 2, &[2, 9], &[2, 9], now);
        assert_eq!(current(&s, 2).map(|c| c.0), Some(2));
        assert_eq!(s.status(1, 2), Status::Done, "an older night is over");
    }

    #[test]
    fn aiwolf_pack_ends_after_a_round_of_only_over_and_skip_without_budget_is_over() {
        let now = Instant::now();
        let mut s = state(4, 12, 0);
        s.join(0);
        s.join(1);
        open(&mut s, 1, &[0, 1], &[1, 0], now);
        let (seat, serial, _) = current(&s, 1).unwrap();
        assert!(s.answer(1, seat, serial, Outcome::Skip, now));
        let (seat, serial, _) = current(&s, 1).unwrap();
        assert_eq!(seat, 0);
        assert!(s.answer(1, seat, serial, Outcome::Over, now));
        assert_eq!(s.status(1, 0), Status::Done);
        assert!(s.entries(1, 0).iter().all(|w| w.over && w.text == "Over"));
        // A skip budget: `Skip` is kept (and spends it); the round that had it goes on.
        let mut s = state(4, 12, 1);
        s.join(0);
        s.join(1);
        open(&mut s, 1, &[0, 1], &[0, 1], now);
        let (_, serial, _) = current(&s, 1).unwrap();
        assert!(matches!(
            s.status(1, 0),
            Status::Turn { remain_skip: 1, .. }
        ));
        assert!(s.answer(1, 0, serial, Outcome::Skip, now));
        let (_, serial, _) = current(&s, 1).unwrap();
        assert!(s.answer(1, 1, serial, Outcome::Over, now));
        let (seat, serial, _) = current(&s, 1).unwrap();
        assert_eq!(seat, 0, "round 2");
        assert!(matches!(
            s.status(1, 0),
            Status::Turn { remain_skip: 0, .. }
        ));
        assert!(s.answer(1, 0, serial, Outcome::Skip, now));
        assert_eq!(s.entries(1, 0)[2].text, "Over", "no skip left: Over");
        assert_eq!(s.status(1, 0), Status::Done);
    }

    #[test]
    fn aiwolf_pack_a_late_or_departed_wolf_never_blocks_the_others() {
        let now = Instant::now();
        let mut s = state(4, 12, 0);
        for seat in [0, 1, 2] {
            s.join(seat);
        }
        open(&mut s, 3, &[0, 1, 2], &[0, 1, 2], now);
        let first = s.deadline().expect("a deadline");
        assert!(first <= now + Duration::from_secs(12));
        assert!(!s.expire(now), "not late yet");
        // Seat 0 never answers: ForceSkip, stored as Skip; it keeps its turns.
        assert!(s.expire(first));
        let log = s.entries(3, 0);
        assert!(log[0].skip && log[0].text == "Skip" && log[0].seat == 0);
        let (seat, serial, _) = current(&s, 3).unwrap();
        assert_eq!(seat, 1);
        assert!(
            !s.answer(3, 0, 1, Outcome::Said("late".into()), first),
            "stale"
        );
        // Seat 1's adapter goes during its turn: skipped, and no more turns.
        s.leave(1, first);
        let (seat2, _, _) = current(&s, 3).unwrap();
        assert_eq!(seat2, 2);
        assert!(!s.answer(3, seat, serial, Outcome::Over, first));
        assert_eq!(s.entries(3, 0)[1].text, "Skip");
        let (_, serial, _) = current(&s, 3).unwrap();
        assert!(s.answer(3, 2, serial, Outcome::Said("hi".into()), first));
        // Round 2: seat 0 again (it kept its turns), seat 1 never.
        let (seat, serial, remain) = current(&s, 3).unwrap();
        assert_eq!((seat, remain), (0, 2));
        // Seat 2 leaves while waiting: it takes no more turns.
        s.leave(2, first);
        assert!(s.answer(3, 0, serial, Outcome::Said("alone".into()), first));
        let (seat, _, remain) = current(&s, 3).unwrap();
        assert_eq!((seat, remain), (0, 1));
        // Everyone gone: the phase ends.
        s.leave(0, first);
        assert_eq!(s.status(3, 0), Status::Done);
        assert_eq!(s.deadline(), None);
        // A night with no member among the living wolves has no turns at all.
        let mut s = state(4, 12, 0);
        s.join(4);
        open(&mut s, 1, &[1, 2], &[], now);
        assert_eq!(s.status(1, 4), Status::Done);
    }

    #[test]
    fn aiwolf_pack_close_ends_the_night_and_outcomes_parse() {
        let now = Instant::now();
        let mut s = state(4, 12, 0);
        s.join(0);
        s.join(1);
        open(&mut s, 1, &[0, 1], &[0, 1], now);
        s.close(1);
        assert_eq!(s.status(1, 0), Status::Done);
        assert_eq!(s.deadline(), None);
        assert_eq!(Outcome::of("Over\n"), Outcome::Over);
        assert_eq!(Outcome::of(" "), Outcome::Over);
        assert_eq!(Outcome::of("Skip"), Outcome::Skip);
        assert_eq!(Outcome::of("ForceSkip"), Outcome::ForceSkip);
        assert_eq!(Outcome::of("a\nb"), Outcome::Said("ab".into()));
    }
}
