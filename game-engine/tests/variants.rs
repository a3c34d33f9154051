//! One test (at least) per rule switch added for issue 15 (whisper rounds, `Over`, talk
//! budgets, skip allowance, bidding for the floor, the random wolf, the seer's Arena rules,
//! compulsory votes, majority execution, `GameConfig::rules`), through the public API only:
//! which requests are issued to whom with which candidates, which events reach which audience,
//! and who dies.

mod common;

use common::{Table, counts, events_of};
use std::collections::{BTreeMap, HashSet};
use werewolf_engine::{
    Action, ActionError, ActionKind, AttackDecider, Audience, Ballot, Event, EventKind, GameConfig,
    Output, Outputs, Phase, Preset, RandomBots, Request, Role, RoleSetup, Seat, TalkOrder,
    TiePolicy, Timeouts, VoteCount, VoteOutcome, VoteReveal, VoteTimeout, Winner, play_game_with,
    simulate_config,
};

// ----- helpers -----

/// `arena8` under its default rules (Werewolf Arena's).
fn arena(seed: u64) -> Table {
    Table::new(GameConfig::preset("arena8").unwrap().with_seed(seed))
}

fn requests_of(outs: &Outputs) -> Vec<&Request> {
    outs.iter().filter_map(Output::as_request).collect()
}

fn pending_of(t: &Table, kind: ActionKind) -> Vec<Request> {
    t.game
        .pending_requests()
        .iter()
        .filter(|r| r.kind == kind)
        .cloned()
        .collect()
}

fn living(t: &Table) -> Vec<Seat> {
    t.game.living().collect()
}

fn prey(t: &Table) -> Vec<Seat> {
    t.game
        .living()
        .filter(|&s| t.game.role_of(s) != Some(Role::Werewolf))
        .collect()
}

/// The discussion events (talk, skip, over) of `events`, in order.
fn talk_events<'a>(events: impl Iterator<Item = &'a Event>) -> Vec<&'a Event> {
    events
        .filter(|e| {
            matches!(
                e.kind,
                EventKind::Talk { .. } | EventKind::TalkSkipped { .. } | EventKind::TalkOver { .. }
            )
        })
        .collect()
}

/// Plays a night where nobody whispers: every `attack` request targets `victim`, the doctor
/// protects `protect` (or nobody), the seer divines nobody.
fn night(t: &mut Table, victim: Seat, protect: Option<Seat>) {
    assert_eq!(t.game.phase(), Phase::Night);
    while t.game.phase() == Phase::Night {
        let r = t.game.pending_requests()[0].clone();
        let action = match r.kind {
            ActionKind::Attack => Action::Attack(victim),
            ActionKind::Protect => protect.map_or(Action::NoProtect, Action::Protect),
            ActionKind::Divine => Action::NoDivine,
            other => panic!("unexpected {other:?} at night"),
        };
        t.act(r.seat, action);
    }
}

/// What a player does with one discussion turn.
#[derive(Clone, Copy, Debug)]
enum Turn {
    Say,
    Pass,
    Over(Option<&'static str>),
    Expire,
}

/// Drives a round-robin discussion (exactly one `talk` request pending at a time) until it
/// ends; `f(seat, nth)` decides the seat's `nth` (0-based) turn. Returns the seats asked, in
/// order.
fn talk_day(t: &mut Table, mut f: impl FnMut(Seat, usize) -> Turn) -> Vec<Seat> {
    let mut asked = Vec::new();
    while t.game.phase() == Phase::Discussion {
        let pending = t.game.pending_requests();
        assert_eq!(pending.len(), 1, "one turn at a time: {pending:?}");
        let r = pending[0].clone();
        assert_eq!(r.kind, ActionKind::Talk);
        let nth = asked.iter().filter(|&&s| s == r.seat).count();
        asked.push(r.seat);
        match f(r.seat, nth) {
            Turn::Say => {
                t.act(r.seat, Action::Talk(Some(format!("turn {nth}"))));
            }
            Turn::Pass => {
                t.act(r.seat, Action::Talk(None));
            }
            Turn::Over(text) => {
                t.act(r.seat, Action::Over(text.map(str::to_owned)));
            }
            Turn::Expire => {
                t.expire(r.seat, ActionKind::Talk);
            }
        }
    }
    asked
}

/// Finishes a bidding discussion: every bid 0, every talk passed.
fn skip_floor(t: &mut Table) {
    while t.game.phase() == Phase::Discussion {
        let r = t.game.pending_requests()[0].clone();
        match r.kind {
            ActionKind::Bid => t.act(r.seat, Action::Bid(0)),
            ActionKind::Talk => t.act(r.seat, Action::Talk(None)),
            other => panic!("unexpected {other:?} in the discussion"),
        };
    }
}

/// Every pending voter votes for the next living seat after itself: a tie of ones, no
/// majority (Arena rules require a vote).
fn split_vote(t: &mut Table) {
    let l = living(t);
    t.vote(|v| {
        let i = l.iter().position(|&s| s == v).unwrap();
        Some(l[(i + 1) % l.len()])
    });
}

// ----- whisper rounds -----

fn whisper_table(seed: u64, wolves: u8, rounds: u8) -> Table {
    Table::custom(
        counts(|c| {
            c.werewolf = wolves;
            c.seer = 1;
            c.doctor = 1;
            c.villager = 4;
        }),
        seed,
        |c| c.whisper_rounds = rounds,
    )
}

/// Plays the whisper turns of night 1 (3 wolves, 2 rounds) after the seer and doctor have
/// answered; returns the whisper order and the events of the turns.
fn whisper_night(seed: u64) -> (Vec<Seat>, Vec<Event>) {
    let mut t = whisper_table(seed, 3, 2);
    let wolves = t.seats(Role::Werewolf);
    let seer = t.seat(Role::Seer);
    let doctor = t.seat(Role::Doctor);
    // Nightfall: the seer's and doctor's requests at once with the first whisper turn, and no
    // attack request yet.
    let first = requests_of(&t.log);
    let kinds: Vec<(Seat, ActionKind)> = first.iter().map(|r| (r.seat, r.kind)).collect();
    assert!(kinds.contains(&(seer, ActionKind::Divine)), "{kinds:?}");
    assert!(kinds.contains(&(doctor, ActionKind::Protect)), "{kinds:?}");
    let whispers: Vec<&&Request> = first
        .iter()
        .filter(|r| r.kind == ActionKind::Whisper)
        .collect();
    assert_eq!(whispers.len(), 1, "one whisper turn pending at a time");
    assert!(wolves.contains(&whispers[0].seat));
    assert!(whispers[0].candidates.is_empty());
    assert_eq!(whispers[0].timeout_ms, Timeouts::default().whisper);
    assert!(!kinds.iter().any(|(_, k)| *k == ActionKind::Attack));
    // The seer and the doctor answering does not end the night.
    t.act(seer, Action::NoDivine);
    t.act(doctor, Action::NoProtect);
    assert_eq!(t.game.phase(), Phase::Night);
    let mut order = Vec::new();
    let mut events = Vec::new();
    for turn in 0..6 {
        let pending = t.game.pending_requests().to_vec();
        assert_eq!(pending.len(), 1, "turn {turn}: {pending:?}");
        let r = &pending[0];
        assert_eq!(r.kind, ActionKind::Whisper);
        order.push(r.seat);
        let outs = match turn % 3 {
            0 => t.act(r.seat, Action::Whisper(Some(format!("plan {turn}")))),
            1 => t.act(r.seat, Action::Whisper(None)),
            _ => t.expire(r.seat, ActionKind::Whisper),
        };
        let said: Vec<Event> = events_of(&outs)
            .into_iter()
            .filter(|e| {
                matches!(
                    e.kind,
                    EventKind::Whisper { .. } | EventKind::WhisperPassed { .. }
                )
            })
            .cloned()
            .collect();
        assert_eq!(said.len(), 1, "turn {turn}: {outs:?}");
        assert_eq!(said[0].audience, Audience::Werewolves);
        let expected = if turn % 3 == 0 {
            EventKind::Whisper {
                seat: r.seat,
                text: format!("plan {turn}"),
            }
        } else {
            EventKind::WhisperPassed { seat: r.seat }
        };
        assert_eq!(said[0].kind, expected);
        events.extend(said);
        if turn < 5 {
            assert!(pending_of(&t, ActionKind::Attack).is_empty(), "turn {turn}");
        }
    }
    // The order: a permutation of the living wolves, the same in every round.
    let mut first_round = order[..3].to_vec();
    first_round.sort_unstable();
    assert_eq!(first_round, wolves);
    assert_eq!(order[3..], order[..3], "round 2 repeats round 1's order");
    // Then every wolf gets its attack request (pack vote), candidates the living non-wolves.
    let attacks = pending_of(&t, ActionKind::Attack);
    assert_eq!(attacks.iter().map(|r| r.seat).collect::<Vec<_>>(), wolves);
    for r in &attacks {
        assert_eq!(r.candidates, prey(&t));
    }
    assert!(pending_of(&t, ActionKind::Whisper).is_empty());
    let victim = prey(&t)[0];
    for wolf in wolves {
        t.act(wolf, Action::Attack(victim));
    }
    // (talk_rounds 0: straight to the vote.)
    assert_eq!((t.game.phase(), t.game.day()), (Phase::Vote, 1));
    assert!(!t.game.is_alive(victim));
    (order[..3].to_vec(), events)
}

#[test]
fn whisper_rounds_give_the_living_wolves_turns_in_a_shuffled_order_before_the_attack() {
    let mut orders = HashSet::new();
    for seed in 0..30 {
        let (order, events) = whisper_night(seed);
        // Same seed, same order and the same whispers.
        assert_eq!(whisper_night(seed), (order.clone(), events));
        // Which wolf (by rank among the wolves' seats) speaks first, second, third.
        let mut sorted = order.clone();
        sorted.sort_unstable();
        let ranks: Vec<usize> = order
            .iter()
            .map(|s| sorted.iter().position(|x| x == s).unwrap())
            .collect();
        orders.insert(ranks);
    }
    assert!(orders.len() >= 4, "the order is shuffled: {orders:?}");
}

#[test]
fn a_lone_wolf_gets_no_whisper_turn() {
    let t = whisper_table(5, 1, 3);
    let wolf = t.seat(Role::Werewolf);
    let first = requests_of(&t.log);
    assert!(!first.iter().any(|r| r.kind == ActionKind::Whisper));
    let attack = t.request(wolf, ActionKind::Attack);
    assert_eq!(attack.candidates, prey(&t));
    assert!(
        t.try_request(t.seat(Role::Seer), ActionKind::Divine)
            .is_some()
    );
    assert!(
        t.try_request(t.seat(Role::Doctor), ActionKind::Protect)
            .is_some()
    );

    // Two wolves, one executed on day 1: night 2 goes straight to the survivor's attack.
    let mut t = whisper_table(6, 2, 1);
    let wolves = t.seats(Role::Werewolf);
    for _ in 0..2 {
        let r = pending_of(&t, ActionKind::Whisper).remove(0);
        t.act(r.seat, Action::Whisper(None));
    }
    let victim = t.other(&[t.seat(Role::Seer), t.seat(Role::Doctor)]);
    night(&mut t, victim, None);
    let dead_wolf = wolves[0];
    t.vote(|v| Some(if v == dead_wolf { wolves[1] } else { dead_wolf }));
    assert!(!t.game.is_alive(dead_wolf));
    assert_eq!((t.game.phase(), t.game.day()), (Phase::Night, 2));
    assert!(pending_of(&t, ActionKind::Whisper).is_empty());
    assert_eq!(
        pending_of(&t, ActionKind::Attack)
            .iter()
            .map(|r| r.seat)
            .collect::<Vec<_>>(),
        vec![wolves[1]]
    );

    // No whispering on a night without an attack (AIWolf's first night).
    let t = Table::custom(
        counts(|c| {
            c.werewolf = 2;
            c.seer = 1;
            c.villager = 4;
        }),
        7,
        |c| {
            c.whisper_rounds = 2;
            c.first_night_attack = false;
        },
    );
    let kinds: Vec<ActionKind> = t.game.pending_requests().iter().map(|r| r.kind).collect();
    assert_eq!(kinds, vec![ActionKind::Divine]);
}

// ----- Over, talks_per_agent, talks_per_day, skip_limit -----

/// 1 werewolf and 4 villagers, night 1 played (a villager killed): 4 players talk on day 1 in
/// seat order.
fn talk_table(seed: u64, rules: impl FnOnce(&mut GameConfig)) -> Table {
    let mut t = Table::custom(
        counts(|c| {
            c.werewolf = 1;
            c.villager = 4;
        }),
        seed,
        rules,
    );
    let victim = t.other(&[]);
    night(&mut t, victim, None);
    assert_eq!(t.game.phase(), Phase::Discussion);
    assert_eq!(living(&t).len(), 4);
    t
}

#[test]
fn over_says_the_text_then_ends_the_players_day() {
    let mut t = talk_table(3, |c| c.talk_rounds = 3);
    let l = living(&t);
    let (a, b) = (l[0], l[1]);
    let start = t.log.len();
    let asked = talk_day(&mut t, |seat, _| {
        if seat == a {
            Turn::Over(Some("that's all from me"))
        } else if seat == b {
            Turn::Over(None)
        } else {
            Turn::Pass
        }
    });
    assert_eq!(asked, vec![a, b, l[2], l[3], l[2], l[3], l[2], l[3]]);
    let talk = talk_events(t.log[start..].iter().filter_map(Output::as_event));
    let kinds: Vec<(Audience, EventKind)> =
        talk.iter().map(|e| (e.audience, e.kind.clone())).collect();
    assert_eq!(
        kinds[..4],
        [
            (
                Audience::Everyone,
                EventKind::Talk {
                    seat: a,
                    round: 1,
                    text: "that's all from me".into()
                }
            ),
            (Audience::Everyone, EventKind::TalkOver { seat: a }),
            (
                Audience::Everyone,
                EventKind::TalkSkipped { seat: b, round: 1 }
            ),
            (Audience::Everyone, EventKind::TalkOver { seat: b }),
        ]
    );
    assert_eq!(
        kinds
            .iter()
            .filter(|(_, k)| matches!(k, EventKind::TalkOver { .. }))
            .count(),
        2,
        "passes without a skip limit end nobody's day"
    );
    assert_eq!(t.game.phase(), Phase::Vote);
    // Next day both talk again: nobody executed, a third player killed.
    t.vote(|_| None);
    let victim = t.other(&[a, b]);
    night(&mut t, victim, None);
    let asked = talk_day(&mut t, |_, _| Turn::Pass);
    for s in [a, b] {
        assert_eq!(asked.iter().filter(|&&x| x == s).count(), 3, "{s} on day 2");
    }
}

#[test]
fn talks_per_agent_caps_spoken_talks_and_skips_do_not_count() {
    let mut t = talk_table(4, |c| {
        c.talk_rounds = 4;
        c.talks_per_agent = Some(2);
    });
    let l = living(&t);
    let start = t.log.len();
    let asked = talk_day(&mut t, |seat, _| match l.iter().position(|&s| s == seat) {
        Some(0 | 2) => Turn::Say,
        Some(1) => Turn::Pass,
        _ => Turn::Expire,
    });
    assert_eq!(
        asked,
        vec![
            l[0], l[1], l[2], l[3], // round 1
            l[0], l[1], l[2], l[3], // round 2: l[0] and l[2] say their second talk
            l[1], l[3], // rounds 3 and 4: only the ones that never spoke
            l[1], l[3],
        ]
    );
    let talk = talk_events(t.log[start..].iter().filter_map(Output::as_event));
    let overs: Vec<Seat> = talk
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::TalkOver { seat } => Some(seat),
            _ => None,
        })
        .collect();
    assert_eq!(overs, vec![l[0], l[2]], "each right after its second talk");
    assert_eq!(t.game.phase(), Phase::Vote);
}

#[test]
fn talks_per_day_ends_the_discussion_after_that_many_turns() {
    let mut t = talk_table(5, |c| {
        c.talk_rounds = 3;
        c.talks_per_day = Some(5);
    });
    let l = living(&t);
    let start = t.log.len();
    let script = [
        Turn::Say,
        Turn::Pass,
        Turn::Expire,
        Turn::Over(None),
        Turn::Say,
    ];
    let mut turn = 0;
    let asked = talk_day(&mut t, |_, _| {
        turn += 1;
        script[turn - 1]
    });
    assert_eq!(asked, vec![l[0], l[1], l[2], l[3], l[0]]);
    let said = talk_events(t.log[start..].iter().filter_map(Output::as_event))
        .into_iter()
        .filter(|e| !matches!(e.kind, EventKind::TalkOver { .. }))
        .count();
    assert_eq!(said, 5, "spoken, skipped and timed-out turns all count");
    assert_eq!(t.game.phase(), Phase::Vote);
    let voters: Vec<Seat> = pending_of(&t, ActionKind::Vote)
        .iter()
        .map(|r| r.seat)
        .collect();
    assert_eq!(voters, l);
}

#[test]
fn a_skip_allowance_ends_a_players_day_after_too_many_passes_in_a_row() {
    let mut t = talk_table(6, |c| {
        c.talk_rounds = 10;
        c.skip_limit = Some(2);
    });
    let l = living(&t);
    let start = t.log.len();
    let asked = talk_day(&mut t, |seat, nth| {
        use Turn::{Expire as E, Pass as P, Say as S};
        let script: &[Turn] = match l.iter().position(|&s| s == seat).unwrap() {
            0 => &[P, P, P],          // the third pass in a row is one too many
            1 => &[P, P, S, P, P, P], // a talk restores the allowance
            2 => &[P, P, E, P],       // a timeout costs nothing (and restores nothing)
            _ => &[E],                // timeouts never end the day
        };
        script.get(nth).copied().unwrap_or(E)
    });
    let turns = |i: usize| asked.iter().filter(|&&s| s == l[i]).count();
    assert_eq!((turns(0), turns(1), turns(2), turns(3)), (3, 6, 4, 10));
    let overs: Vec<Seat> = talk_events(t.log[start..].iter().filter_map(Output::as_event))
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::TalkOver { seat } => Some(seat),
            _ => None,
        })
        .collect();
    assert_eq!(overs, vec![l[0], l[2], l[1]]);
    assert_eq!(t.game.phase(), Phase::Vote);

    // Once everyone is done the discussion ends early.
    let mut t = talk_table(6, |c| {
        c.talk_rounds = 10;
        c.skip_limit = Some(2);
    });
    let asked = talk_day(&mut t, |_, _| Turn::Pass);
    assert_eq!(asked.len(), 4 * 3);
    assert_eq!(t.game.phase(), Phase::Vote);
}

// ----- bidding for the floor -----

#[test]
fn bidding_gives_each_turn_to_the_highest_bid_for_talks_per_day_turns() {
    let mut t = arena(11);
    let victim = t.other(&[]);
    night(&mut t, victim, None);
    assert_eq!(t.game.phase(), Phase::Discussion);
    let l = living(&t);
    assert_eq!(l.len(), 7);
    let day_start = t.log.len();
    let mut last: Option<Seat> = None;
    let mut done: Vec<Seat> = Vec::new();
    let mut speakers = Vec::new();
    for turn in 0..8usize {
        // Bids are open to every living player but the last speaker and those done.
        let bids = t.game.pending_requests().to_vec();
        let expected: Vec<Seat> = l
            .iter()
            .copied()
            .filter(|&s| Some(s) != last && !done.contains(&s))
            .collect();
        assert!(bids.iter().all(|r| r.kind == ActionKind::Bid), "{bids:?}");
        assert!(bids.iter().all(|r| r.candidates.is_empty()));
        assert!(bids.iter().all(|r| r.timeout_ms == 15_000));
        assert_eq!(bids.iter().map(|r| r.seat).collect::<Vec<_>>(), expected);
        if turn == 0 {
            // An out-of-range bid is refused and changes nothing.
            t.refused(
                bids[0].seat,
                bids[0].id,
                Action::Bid(5),
                ActionError::BidOutOfRange(5),
            );
            t.refused(
                bids[0].seat,
                bids[0].id,
                Action::Bid(255),
                ActionError::BidOutOfRange(255),
            );
        }
        // The winner: a different bidder each turn, bidding 4; everyone else bids below.
        let winner = expected[turn % expected.len()];
        for (i, r) in bids.iter().enumerate() {
            let is_last = i + 1 == bids.len();
            let outs = if r.seat == winner {
                t.act(r.seat, Action::Bid(4))
            } else if turn == 3 && i == 0 {
                // A timed-out bid counts as 0.
                t.expire(r.seat, ActionKind::Bid)
            } else {
                t.act(r.seat, Action::Bid((i % 4) as u8))
            };
            let cast: Vec<&Event> = events_of(&outs)
                .into_iter()
                .filter(|e| matches!(e.kind, EventKind::BidCast { .. }))
                .collect();
            assert_eq!(cast.len(), 1);
            assert_eq!(cast[0].audience, Audience::Spectators, "bids are private");
            let talk: Vec<Seat> = requests_of(&outs)
                .iter()
                .filter(|q| q.kind == ActionKind::Talk)
                .map(|q| q.seat)
                .collect();
            if is_last {
                assert_eq!(talk, vec![winner], "turn {turn}: the highest bid speaks");
            } else {
                assert!(talk.is_empty(), "no turn before every bid is in");
            }
        }
        assert_eq!(t.game.pending_requests().len(), 1);
        speakers.push(winner);
        match turn {
            1 => {
                t.act(winner, Action::Over(Some("I'm done today".into())));
                done.push(winner);
            }
            5 => {
                t.expire(winner, ActionKind::Talk);
            }
            _ => {
                t.act(winner, Action::Talk(Some(format!("turn {turn}"))));
            }
        }
        last = Some(winner);
    }
    // Exactly talks_per_day turns, then the vote.
    assert_eq!(t.game.phase(), Phase::Vote);
    assert!(pending_of(&t, ActionKind::Bid).is_empty());
    assert_eq!(pending_of(&t, ActionKind::Vote).len(), 7);
    let rounds: Vec<(Seat, u8)> =
        talk_events(t.log[day_start..].iter().filter_map(Output::as_event))
            .iter()
            .filter_map(|e| match e.kind {
                EventKind::Talk { seat, round, .. } | EventKind::TalkSkipped { seat, round } => {
                    Some((seat, round))
                }
                _ => None,
            })
            .collect();
    let expected: Vec<(Seat, u8)> = speakers.iter().copied().zip(1..=8).collect();
    assert_eq!(
        rounds, expected,
        "each turn's event carries the turn number"
    );
}

#[test]
fn tied_bids_are_broken_by_the_seeded_rng() {
    let first_speaker = |seed: u64| {
        let mut t = arena(seed);
        let victim = t.other(&[]);
        night(&mut t, victim, None);
        let l = living(&t);
        let (a, b) = (l[0], l[1]);
        for r in t.game.pending_requests().to_vec() {
            let bid = if r.seat == a || r.seat == b { 3 } else { 1 };
            t.act(r.seat, Action::Bid(bid));
        }
        let speaker = pending_of(&t, ActionKind::Talk)[0].seat;
        assert!(
            speaker == a || speaker == b,
            "{speaker} did not bid highest"
        );
        speaker == a
    };
    let outcomes: Vec<bool> = (0..40).map(first_speaker).collect();
    assert!(outcomes.contains(&true) && outcomes.contains(&false));
    assert_eq!(outcomes, (0..40).map(first_speaker).collect::<Vec<_>>());
}

// ----- random wolf -----

#[test]
fn one_random_living_wolf_chooses_the_victim() {
    let mut firsts = Vec::new();
    for seed in 0..40 {
        let mut t = arena(seed);
        let wolves = t.seats(Role::Werewolf);
        let attacks = pending_of(&t, ActionKind::Attack);
        assert_eq!(attacks.len(), 1, "seed {seed}: {attacks:?}");
        let chooser = attacks[0].seat;
        assert!(wolves.contains(&chooser));
        assert_eq!(attacks[0].candidates, prey(&t));
        firsts.push(chooser == wolves[0]);
        // Same seed, same wolf.
        assert_eq!(
            pending_of(&arena(seed), ActionKind::Attack)[0].seat,
            chooser
        );
        // Its choice is the victim (nobody protected).
        let victim = *attacks[0].candidates.last().unwrap();
        night(&mut t, victim, None);
        assert!(!t.game.is_alive(victim));
        assert_eq!(living(&t).len(), 7);
        if seed < 10 {
            // And again the next night, among the wolves still living.
            skip_floor(&mut t);
            split_vote(&mut t);
            assert_eq!((t.game.phase(), t.game.day()), (Phase::Night, 2));
            let attacks = pending_of(&t, ActionKind::Attack);
            assert_eq!(attacks.len(), 1);
            assert!(wolves.contains(&attacks[0].seat));
        }
    }
    assert!(
        firsts.contains(&true) && firsts.contains(&false),
        "{firsts:?}"
    );
}

// ----- the seer -----

#[test]
fn arenas_seer_never_divines_a_player_twice_and_learns_the_exact_role() {
    let mut t = arena(21);
    let seer = t.seat(Role::Seer);
    let doctor = t.seat(Role::Doctor);
    let wolf = t.seat(Role::Werewolf);
    let mut seen = Vec::new();
    for (night_no, target) in [(1, wolf), (2, doctor)] {
        let divine = t.request(seer, ActionKind::Divine);
        let expected: Vec<Seat> = living(&t)
            .into_iter()
            .filter(|&s| s != seer && !seen.contains(&s))
            .collect();
        assert_eq!(divine.candidates, expected, "night {night_no}");
        let outs = t.act(seer, Action::Divine(target));
        let result: Vec<&Event> = events_of(&outs)
            .into_iter()
            .filter(|e| matches!(e.kind, EventKind::DivineResult { .. }))
            .collect();
        let role = t.game.role_of(target).unwrap();
        assert_eq!(result[0].audience, Audience::Player(seer));
        assert_eq!(
            result[0].kind,
            EventKind::DivineResult {
                seer,
                target,
                is_werewolf: role == Role::Werewolf,
                role: Some(role),
            }
        );
        seen.push(target);
        let victim = t.other(&[seer, doctor]);
        night(&mut t, victim, None);
        skip_floor(&mut t);
        split_vote(&mut t);
    }
    let divine = t.request(seer, ActionKind::Divine);
    assert!(!divine.candidates.contains(&wolf) && !divine.candidates.contains(&doctor));
    assert_eq!(divine.candidates.len(), living(&t).len() - 3);
}

#[test]
fn under_the_hubs_rule_the_seer_may_repeat_and_learns_only_werewolf_or_human() {
    let mut t = Table::custom(
        counts(|c| {
            c.werewolf = 1;
            c.possessed = 1;
            c.seer = 1;
            c.villager = 3;
        }),
        8,
        |_| {},
    );
    let seer = t.seat(Role::Seer);
    let possessed = t.seat(Role::Possessed);
    let outs = t.act(seer, Action::Divine(possessed));
    assert!(events_of(&outs).iter().any(|e| e.kind
        == EventKind::DivineResult {
            seer,
            target: possessed,
            is_werewolf: false,
            role: None,
        }));
    let victim = t.other(&[seer, possessed]);
    night(&mut t, victim, None);
    t.vote(|_| None);
    assert!(
        t.request(seer, ActionKind::Divine)
            .candidates
            .contains(&possessed)
    );
}

/// With `seer_sees_role` the seer sees the possessed as what it is, `possessed`, while
/// `is_werewolf` stays false: the code reports the dealt role. Arena has no possessed, so its
/// rule says nothing either way; a researcher mixing the switch with AIWolf's roles gets this.
#[test]
fn seeing_roles_the_seer_sees_the_possessed_as_possessed() {
    let mut t = Table::custom(
        counts(|c| {
            c.werewolf = 1;
            c.possessed = 1;
            c.seer = 1;
            c.villager = 3;
        }),
        8,
        |c| c.seer_sees_role = true,
    );
    let seer = t.seat(Role::Seer);
    let possessed = t.seat(Role::Possessed);
    let outs = t.act(seer, Action::Divine(possessed));
    assert!(events_of(&outs).iter().any(|e| e.kind
        == EventKind::DivineResult {
            seer,
            target: possessed,
            is_werewolf: false,
            role: Some(Role::Possessed),
        }));
}

// ----- votes -----

#[test]
fn without_abstention_a_vote_must_name_someone_but_a_timeout_still_abstains() {
    for timeout in [VoteTimeout::Abstain, VoteTimeout::Random] {
        let mut config = GameConfig::preset("arena8").unwrap().with_seed(31);
        config.vote_timeout = timeout;
        let mut t = Table::new(config);
        let victim = t.other(&[]);
        night(&mut t, victim, None);
        skip_floor(&mut t);
        assert_eq!(t.game.phase(), Phase::Vote);
        let l = living(&t);
        let voter = l[0];
        let r = t.request(voter, ActionKind::Vote);
        assert_eq!(r.candidates, l[1..].to_vec(), "every other living player");
        let before = t.game.clone();
        assert_eq!(
            t.game.act(voter, r.id, Action::Vote(None)),
            Err(ActionError::MustVote)
        );
        assert!(t.game == before, "a refused abstention changes nothing");
        let outs = t.expire(voter, ActionKind::Vote);
        let applied = events_of(&outs).iter().find_map(|e| match &e.kind {
            EventKind::RequestTimedOut { applied, .. } => Some(applied.clone()),
            _ => None,
        });
        match (timeout, applied) {
            (VoteTimeout::Abstain, Some(Action::Vote(None))) => {}
            (VoteTimeout::Random, Some(Action::Vote(Some(c)))) => {
                assert!(r.candidates.contains(&c));
            }
            other => panic!("{other:?}"),
        }
        // The others vote; the expired ballot stays what the timeout applied.
        split_vote(&mut t);
        let ballots: Vec<Ballot> = t
            .events()
            .filter_map(|e| match e.kind {
                EventKind::VoteCast { voter, target, .. } => Some(Ballot { voter, target }),
                _ => None,
            })
            .collect();
        assert_eq!(ballots.len(), 7);
        assert_eq!(ballots[0].target.is_none(), timeout == VoteTimeout::Abstain);
    }
}

/// Day 1 of `arena8` with 7 (or, the doctor saving the victim, 8) living players, then a vote
/// where `votes(i)` is the index in the living list that living player `i` votes for.
fn arena_vote(seed: u64, save: bool, votes: impl Fn(usize) -> usize) -> (Table, Vec<Seat>) {
    let mut t = arena(seed);
    let victim = t.other(&[]);
    night(&mut t, victim, save.then_some(victim));
    skip_floor(&mut t);
    let l = living(&t);
    assert_eq!(l.len(), if save { 8 } else { 7 });
    let start = t.log.len();
    t.vote(|v| Some(l[votes(l.iter().position(|&s| s == v).unwrap())]));
    let rest = Table {
        game: t.game.clone(),
        log: t.log[start..].to_vec(),
    };
    (rest, l)
}

fn vote_results(t: &Table) -> Vec<(Audience, EventKind)> {
    t.events()
        .filter(|e| matches!(e.kind, EventKind::VoteResult { .. }))
        .map(|e| (e.audience, e.kind.clone()))
        .collect()
}

#[test]
fn arena8_executes_only_on_a_strict_majority_of_the_living() {
    // 7 living: 3 / 2 / 2 is a plurality without a majority: nobody is exiled, no revote.
    let (t, l) = arena_vote(41, false, |i| match i {
        1..=3 => 0,
        4 | 5 => 1,
        _ => 2,
    });
    assert_eq!(
        vote_results(&t),
        vec![(
            Audience::Everyone,
            EventKind::VoteResult {
                day: 1,
                revote: false,
                tally: vec![
                    VoteCount {
                        seat: l[0],
                        votes: 3
                    },
                    VoteCount {
                        seat: l[1],
                        votes: 2
                    },
                    VoteCount {
                        seat: l[2],
                        votes: 2
                    },
                ],
                outcome: VoteOutcome::NoExecution { tied: Vec::new() },
                ballots: Vec::new(), // public_votes false: the tally only
            }
        )]
    );
    assert!(
        t.events()
            .filter(|e| matches!(e.kind, EventKind::VoteCast { .. }))
            .all(|e| e.audience == Audience::Spectators)
    );
    assert!(!t.events().any(|e| matches!(e.kind, EventKind::Died { .. })));
    assert_eq!((t.game.phase(), t.game.day()), (Phase::Night, 2));
    assert_eq!(living(&t), l);

    // 4 of 7 is a majority: exiled.
    let (t, l) = arena_vote(41, false, |i| if (1..=4).contains(&i) { 0 } else { 1 });
    assert!(matches!(
        &vote_results(&t)[0].1,
        EventKind::VoteResult { outcome: VoteOutcome::Executed { seat }, .. } if *seat == l[0]
    ));
    assert!(!t.game.is_alive(l[0]));

    // 8 living (the doctor saved the victim): 4 of 8 is exactly half, not a majority, even
    // as the sole plurality; a 4–4 tie is no execution and no revote either.
    let (t, _) = arena_vote(
        41,
        true,
        |i| if (1..=4).contains(&i) { 0 } else { 1 + i % 2 },
    );
    assert!(matches!(
        &vote_results(&t)[0].1,
        EventKind::VoteResult { outcome: VoteOutcome::NoExecution { tied }, .. } if tied.is_empty()
    ));
    assert_eq!(living(&t).len(), 8);
    let (t, l) = arena_vote(41, true, |i| if (1..=4).contains(&i) { 0 } else { 1 });
    assert!(matches!(
        &vote_results(&t)[0].1,
        EventKind::VoteResult { outcome: VoteOutcome::NoExecution { tied }, .. }
            if *tied == vec![l[0], l[1]]
    ));
    assert_eq!(vote_results(&t).len(), 1, "no revote");
    assert_eq!(t.game.phase(), Phase::Night);
}

// ----- the wire rules -----

/// Checks that `config.rules()` carries every field of the config (but the seed and the deal)
/// with the same value, key by key in JSON, so a config field added without a rules field
/// fails here.
fn check_rules(config: &GameConfig) {
    let rules = config.rules();
    let c = serde_json::to_value(config).unwrap();
    let r = serde_json::to_value(&rules).unwrap();
    let (c, r) = (c.as_object().unwrap(), r.as_object().unwrap());
    for (key, value) in c {
        match key.as_str() {
            "seed" | "roles" => {}
            "max_talk_chars" => assert_eq!(r.get("max_message_chars"), Some(value)),
            _ => assert_eq!(r.get(key), Some(value), "rules().{key}"),
        }
    }
    for key in r.keys() {
        assert!(
            c.contains_key(key) || key == "roles" || key == "max_message_chars",
            "rules().{key} is not a config field"
        );
    }
    let counts = config.roles.counts();
    let roles: BTreeMap<Role, u8> = Role::ALL
        .iter()
        .filter(|&&role| counts.get(role) > 0)
        .map(|&role| (role, counts.get(role)))
        .collect();
    assert_eq!(rules.roles, roles);
    assert_eq!(
        rules.roles.values().map(|&n| usize::from(n)).sum::<usize>(),
        config.player_count()
    );
}

#[test]
fn rules_announce_every_field_of_every_presets_config() {
    for preset in Preset::ALL {
        let config = GameConfig::new(RoleSetup::Preset(preset)).with_seed(99);
        check_rules(&config);
        check_rules(&GameConfig::hub_rules(RoleSetup::Preset(preset)));
    }
    assert_eq!(
        GameConfig::preset("arena8").unwrap(),
        GameConfig::arena_rules(RoleSetup::Preset(Preset::Arena8))
    );
    let arena = GameConfig::preset("arena8").unwrap().rules();
    assert_eq!(arena.talk_order, TalkOrder::Bidding);
    assert_eq!(arena.talks_per_day, Some(8));
    assert_eq!(arena.attack_decider, AttackDecider::RandomWolf);
    assert!(arena.majority_execution && !arena.vote_abstain && !arena.seer_repeat);

    // A config with every field away from the hub's default (never played: attack_revote
    // with a random wolf would not validate), so a field that rules() fills with a constant
    // cannot pass by luck. A new config field fails the next assert until it is added here.
    let hub = GameConfig::hub_rules(RoleSetup::Preset(Preset::Arena8));
    let odd = GameConfig {
        seed: 7,
        roles: RoleSetup::Counts(counts(|c| {
            c.werewolf = 2;
            c.possessed = 1;
            c.medium = 1;
            c.hunter = 1;
            c.witch = 1;
            c.villager = 3;
        })),
        talk_rounds: 7,
        max_talk_chars: 123,
        public_votes: false,
        timeouts_ms: Timeouts {
            talk: 1,
            vote: 2,
            attack: 3,
            divine: 4,
            protect: 5,
            witch: 6,
            shoot: 7,
            whisper: 8,
            bid: 9,
        },
        doctor_same_target_twice: true,
        first_night_attack: false,
        tie_policy: TiePolicy::FullRevoteThenRandom,
        max_days: 9,
        opening_talk: true,
        talk_order: TalkOrder::Random,
        skip_limit: Some(3),
        self_vote: true,
        doctor_self_protect: false,
        majority_execution: true,
        vote_timeout: VoteTimeout::Random,
        attack_revote: true,
        truncate_talk: true,
        vote_reveal: VoteReveal::Sequential,
        talks_per_agent: Some(5),
        talks_per_day: Some(11),
        whisper_rounds: 2,
        vote_abstain: false,
        attack_decider: AttackDecider::RandomWolf,
        seer_repeat: false,
        seer_sees_role: true,
    };
    let (h, o) = (
        serde_json::to_value(&hub).unwrap(),
        serde_json::to_value(&odd).unwrap(),
    );
    for (key, value) in o.as_object().unwrap() {
        assert_ne!(h.get(key), Some(value), "odd.{key} is the hub's default");
    }
    check_rules(&odd);
}

// ----- whole games -----

#[test]
fn games_under_arenas_rules_always_end() {
    for preset in Preset::ALL {
        let base = GameConfig::arena_rules(RoleSetup::Preset(preset));
        for seed in 0..25 {
            let config = base.clone().with_seed(seed);
            for bots in [
                RandomBots::new(seed),
                RandomBots::new(seed).with_timeouts(0).with_abstentions(0),
                RandomBots::new(seed).with_timeouts(3),
            ] {
                let (game, record) = play_game_with(config.clone(), bots, |_| {}).unwrap();
                assert!(game.is_over(), "{preset} seed {seed}");
                assert!(matches!(
                    record.winner,
                    Some(Winner::Villagers | Winner::Werewolves | Winner::Draw)
                ));
                assert_eq!(record.illegal_bot_actions, 0, "{preset} seed {seed}");
                assert!(record.days <= config.max_days);
            }
        }
        let summary = simulate_config(&base, 100, 1).unwrap();
        assert_eq!(summary.unfinished, 0, "{preset}");
        assert_eq!(summary.illegal_bot_actions, 0, "{preset}");
        assert_eq!(
            summary.villager_wins + summary.werewolf_wins + summary.draws,
            100
        );
    }
}

#[test]
fn the_same_seed_plays_the_same_arena_game() {
    let play = |seed: u64| {
        let config = GameConfig::preset("arena8").unwrap().with_seed(seed);
        let mut log = Vec::new();
        let (game, _) =
            play_game_with(config, RandomBots::new(seed), |o| log.push(o.clone())).unwrap();
        (game, log)
    };
    let (a, log_a) = play(5);
    let (b, log_b) = play(5);
    assert!(a == b);
    assert_eq!(log_a, log_b);
    assert_ne!(log_a, play(6).1);
}
