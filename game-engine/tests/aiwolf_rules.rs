//! The `aiwolf5` / `aiwolf13` presets follow AIWolf's rules (the table in the crate's README);
//! one test per switch that makes them, each also checked against the hub's behaviour.

mod common;

use common::Table;
use werewolf_engine::{
    Action, ActionKind, EventKind, GameConfig, Output, Phase, Preset, RoleSetup, Seat, TalkOrder,
    TiePolicy, VoteOutcome, VoteTimeout,
};
use werewolf_engine::{Role, RoleCounts};

fn aiwolf(name: &str, seed: u64) -> Table {
    Table::new(GameConfig::preset(name).unwrap().with_seed(seed))
}

/// The seats asked to talk, in order, until the discussion ends; each answer from `say`.
fn discussion(t: &mut Table, mut say: impl FnMut(Seat, usize) -> Action) -> Vec<Seat> {
    let mut speakers = Vec::new();
    while let Some(r) = t
        .game
        .pending_requests()
        .iter()
        .find(|r| r.kind == ActionKind::Talk)
        .cloned()
    {
        let turn = speakers.iter().filter(|&&s| s == r.seat).count();
        speakers.push(r.seat);
        let action = say(r.seat, turn);
        t.act(r.seat, action);
    }
    speakers
}

fn talk(text: &str) -> Action {
    Action::Talk(Some(text.to_owned()))
}

#[test]
fn the_aiwolf_presets_default_to_aiwolfs_rules_and_the_others_to_the_hubs() {
    for preset in [Preset::Aiwolf5, Preset::Aiwolf13] {
        let c = GameConfig::preset(preset.name()).unwrap();
        assert!(
            c.opening_talk && !c.first_night_attack,
            "{preset}: day 0, quiet night 0"
        );
        assert_eq!(c.talk_rounds, 4, "{preset}: talk.max_count.per_agent");
        assert_eq!(c.talk_order, TalkOrder::Random);
        assert_eq!(c.skip_limit, Some(0), "{preset}: max_skip 0");
        assert!(c.self_vote, "{preset}: vote.allow_self_vote");
        assert_eq!(
            c.tie_policy,
            TiePolicy::Random,
            "{preset}: vote.max_count 1"
        );
        assert!(!c.doctor_self_protect && c.doctor_same_target_twice);
        let hub = GameConfig::hub_rules(RoleSetup::Preset(preset));
        assert_eq!(hub.roles, c.roles);
        assert!(hub.first_night_attack && !hub.opening_talk && hub.skip_limit.is_none());
    }
    let classic = GameConfig::preset("classic9").unwrap();
    assert_eq!(
        classic,
        GameConfig::hub_rules(classic.roles),
        "classic9 is the hub's own"
    );
    let arena = GameConfig::preset("arena8").unwrap();
    assert_eq!(
        arena,
        GameConfig::arena_rules(arena.roles),
        "arena8 follows Werewolf Arena"
    );
    // A config stored before the switches existed deserializes to the hub's rules.
    let old: GameConfig =
        serde_json::from_str(r#"{"roles":{"preset":"aiwolf5"},"first_night_attack":false}"#)
            .unwrap();
    assert!(!old.opening_talk && old.skip_limit.is_none() && !old.self_vote);
    assert!(old.doctor_self_protect && old.talk_order == TalkOrder::Rotating);
}

#[test]
fn day_zero_is_a_talk_without_a_vote_then_only_the_seer_acts_on_night_one() {
    let mut t = aiwolf("aiwolf13", 5);
    assert_eq!((t.game.phase(), t.game.day()), (Phase::Discussion, 0));
    let first = t.game.pending_requests().to_vec();
    assert_eq!(first.len(), 1, "one speaker at a time");
    assert_eq!(first[0].kind, ActionKind::Talk);
    let spoken = discussion(&mut t, |_, turn| {
        if turn < 2 {
            talk("hello")
        } else {
            Action::Talk(None)
        }
    });
    assert_eq!(
        spoken.len(),
        13 * 3,
        "two talks and the pass that ends it, each"
    );
    assert!(
        !t.kinds()
            .iter()
            .any(|k| matches!(k, EventKind::VoteResult { .. })),
        "no vote on day 0"
    );
    assert_eq!((t.game.phase(), t.game.day()), (Phase::Night, 1));
    let kinds: Vec<ActionKind> = t.game.pending_requests().iter().map(|r| r.kind).collect();
    assert_eq!(kinds, vec![ActionKind::Divine], "night 0: the seer alone");
    let seer = t.seat(Role::Seer);
    let target = t.other(&[seer]);
    t.act(seer, Action::Divine(target));
    assert_eq!((t.game.phase(), t.game.day()), (Phase::Discussion, 1));
    assert_eq!(t.game.living().count(), 13, "nobody died before day 1");
}

#[test]
fn a_pass_ends_a_players_talk_for_the_day_and_a_timeout_does_not() {
    let mut t = aiwolf("aiwolf5", 11);
    // Round 1: the first speaker passes (AIWolf's Over with max_skip 0), the second's turn
    // times out (ForceSkip: not Over), the others talk.
    let order: Vec<Seat> = {
        let mut seen = Vec::new();
        let mut n = 0;
        while seen.len() < 5 {
            let r = t.game.pending_requests()[0].clone();
            seen.push(r.seat);
            match n {
                0 => t.act(r.seat, Action::Talk(None)),
                1 => t.expire(r.seat, ActionKind::Talk),
                _ => t.act(r.seat, talk("hi")),
            };
            n += 1;
        }
        seen
    };
    // Rounds 2..4: the one who passed is never asked again; everybody else is, in the same
    // order as round 1.
    let rest = discussion(&mut t, |_, _| talk("more"));
    assert_eq!(rest.len(), 4 * 3);
    assert!(!rest.contains(&order[0]), "a pass is Over");
    assert_eq!(
        &rest[..4],
        &order[1..],
        "the day's order holds for every round"
    );
    assert_eq!(t.game.phase(), Phase::Night, "day 0 ends without a vote");
}

#[test]
fn the_discussion_ends_as_soon_as_everyone_has_passed() {
    let mut t = aiwolf("aiwolf5", 2);
    let spoken = discussion(&mut t, |_, _| Action::Talk(None));
    assert_eq!(spoken.len(), 5, "one round of passes ends day 0");
    assert_eq!(t.game.phase(), Phase::Night);
}

#[test]
fn a_skip_allowance_lets_players_pass_and_talking_restores_it() {
    let mut config = GameConfig::preset("aiwolf5").unwrap().with_seed(4);
    config.skip_limit = Some(1);
    config.talk_rounds = 5;
    let mut t = Table::new(config);
    // Seat pattern: pass, talk, pass, pass (second pass in a row ends it).
    let pattern = [false, true, false, false, true];
    let spoken = discussion(&mut t, |_, turn| {
        if pattern[turn] {
            talk("x")
        } else {
            Action::Talk(None)
        }
    });
    for seat in t.game.seats() {
        assert_eq!(
            spoken.iter().filter(|&&s| s == seat).count(),
            4,
            "{seat}: asked until the second pass in a row"
        );
    }
    // Without a limit (the hub's rule) every player keeps its turns.
    let mut config = GameConfig::preset("aiwolf5").unwrap().with_seed(4);
    config.skip_limit = None;
    let mut t = Table::new(config);
    let spoken = discussion(&mut t, |_, _| Action::Talk(None));
    assert_eq!(spoken.len(), 5 * 4);
}

#[test]
fn the_talk_order_is_shuffled_each_day_and_rotates_under_the_hubs_rule() {
    let first_speakers = |order: TalkOrder| {
        let mut firsts = Vec::new();
        for seed in 0..40 {
            let mut config = GameConfig::preset("aiwolf13").unwrap().with_seed(seed);
            config.talk_order = order;
            let t = Table::new(config);
            firsts.push(t.game.pending_requests()[0].seat);
        }
        firsts
    };
    let random = first_speakers(TalkOrder::Random);
    let distinct = |v: &[Seat]| {
        let mut v = v.to_vec();
        v.sort_unstable();
        v.dedup();
        v.len()
    };
    assert!(distinct(&random) > 5, "random first speakers: {random:?}");
    // Rotating: day 0 (like day 1) starts with the first living seat.
    assert!(
        first_speakers(TalkOrder::Rotating)
            .iter()
            .all(|&s| s == Seat(0))
    );
    // Same seed, same order (deterministic).
    assert_eq!(random, first_speakers(TalkOrder::Random));
}

#[test]
fn voters_may_vote_for_themselves_and_a_tie_is_broken_at_random_at_once() {
    let mut t = aiwolf("aiwolf5", 9);
    discussion(&mut t, |_, _| Action::Talk(None));
    let seer = t.seat(Role::Seer);
    let target = t.other(&[seer]);
    t.act(seer, Action::Divine(target));
    discussion(&mut t, |_, _| Action::Talk(None));
    let voters: Vec<Seat> = t.game.living().collect();
    for &v in &voters {
        assert!(
            t.request(v, ActionKind::Vote).candidates.contains(&v),
            "{v} may vote for itself"
        );
    }
    // Everybody votes for itself: a 5-way tie, no revote, one of them executed.
    t.vote(Some);
    let outcomes: Vec<&VoteOutcome> = t
        .kinds()
        .into_iter()
        .filter_map(|k| match k {
            EventKind::VoteResult { outcome, .. } => Some(outcome),
            _ => None,
        })
        .collect();
    assert_eq!(outcomes.len(), 1, "one round only");
    assert!(matches!(outcomes[0], VoteOutcome::Executed { .. }));
    assert_eq!(t.game.living().count(), 4);
}

#[test]
fn the_bodyguard_never_guards_itself_but_may_guard_the_same_player_every_night() {
    let counts = RoleCounts {
        werewolf: 1,
        doctor: 1,
        seer: 1,
        villager: 4,
        ..RoleCounts::default()
    };
    let mut config = GameConfig::aiwolf_rules(RoleSetup::Counts(counts)).with_seed(8);
    config.talk_rounds = 0;
    let mut t = Table::new(config);
    let doctor = t.seat(Role::Doctor);
    let wolf = t.seat(Role::Werewolf);
    let seer = t.seat(Role::Seer);
    t.act(seer, Action::Divine(doctor));
    let villagers = t.seats(Role::Villager);
    t.vote(|v| {
        Some(if v == villagers[0] {
            villagers[1]
        } else {
            villagers[0]
        })
    });
    let guarded = t.other(&[doctor, villagers[0]]);
    for night in 0..2 {
        let protect = t.request(doctor, ActionKind::Protect);
        assert!(!protect.candidates.contains(&doctor), "no self-guard");
        assert!(
            protect.candidates.contains(&guarded),
            "night {night}: same target again"
        );
        t.night_with(guarded, |_, r| {
            (r.kind == ActionKind::Protect).then_some(Action::Protect(guarded))
        });
        assert!(t.game.is_alive(guarded), "guarded");
        let victim = t.other(&[doctor, guarded, seer]);
        t.vote(|v| Some(if v == victim { wolf } else { victim }));
    }
    let saved = t
        .log
        .iter()
        .filter_map(Output::as_event)
        .filter(|e| matches!(e.kind, EventKind::NightOutcome { guarded: true, .. }))
        .count();
    assert_eq!(saved, 2);
}

/// Werewolf Arena's exile: the top candidate needs a strict majority of the living players
/// (not of the ballots); short of it nobody is executed, without a revote.
#[test]
fn with_majority_execution_a_plurality_short_of_half_the_living_executes_nobody() {
    let counts = RoleCounts {
        werewolf: 1,
        seer: 1,
        villager: 5,
        ..RoleCounts::default()
    };
    for (for_a, executed) in [(3, false), (4, true)] {
        let mut config = GameConfig::hub_rules(RoleSetup::Counts(counts)).with_seed(2);
        config.talk_rounds = 0;
        config.first_night_attack = false;
        config.majority_execution = true;
        let mut t = Table::new(config);
        let seer = t.seat(Role::Seer);
        let target = t.other(&[seer]);
        t.act(seer, Action::Divine(target));
        let voters: Vec<Seat> = t.game.living().collect();
        let (a, b) = (voters[0], voters[1]);
        // `for_a` voters for a, one for b, the rest abstain (7 living: a majority is 4).
        t.vote(|v| {
            let i = voters.iter().position(|&s| s == v).unwrap();
            match i {
                i if (2..2 + for_a).contains(&i) => Some(a),
                0 => Some(b),
                _ => None,
            }
        });
        let outcome = t
            .kinds()
            .into_iter()
            .find_map(|k| match k {
                EventKind::VoteResult { outcome, .. } => Some(outcome.clone()),
                _ => None,
            })
            .expect("a result");
        if executed {
            assert_eq!(outcome, VoteOutcome::Executed { seat: a });
        } else {
            assert_eq!(outcome, VoteOutcome::NoExecution { tied: Vec::new() });
            assert_eq!(t.game.living().count(), 7, "nobody executed, no revote");
            assert_eq!(t.game.phase(), Phase::Night);
        }
    }
}

/// `vote_timeout: random`: a day vote that times out is a random candidate, not an abstention.
#[test]
fn a_timed_out_vote_can_count_as_a_random_vote() {
    for (policy, counted) in [(VoteTimeout::Abstain, false), (VoteTimeout::Random, true)] {
        let mut config = GameConfig::preset("aiwolf5").unwrap().with_seed(6);
        config.talk_rounds = 0;
        config.vote_timeout = policy;
        let mut t = Table::new(config);
        let seer = t.seat(Role::Seer);
        let target = t.other(&[seer]);
        t.act(seer, Action::Divine(target));
        let voter = t.game.living().next().unwrap();
        let outs = t.expire(voter, ActionKind::Vote);
        let cast = outs
            .iter()
            .filter_map(Output::as_event)
            .find_map(|e| match &e.kind {
                EventKind::VoteCast {
                    voter: v, target, ..
                } if *v == voter => Some(*target),
                _ => None,
            })
            .expect("the ballot");
        assert_eq!(cast.is_some(), counted, "{policy:?}");
    }
}

/// `truncate_talk`: an over-long talk is cut to `max_talk_chars` (AIWolf trims) instead of
/// refused (the hub's rule); whispers too.
#[test]
fn over_long_talk_is_refused_or_truncated() {
    for truncate in [false, true] {
        let mut config = GameConfig::preset("aiwolf5").unwrap().with_seed(1);
        config.max_talk_chars = 5;
        config.truncate_talk = truncate;
        let mut t = Table::new(config);
        let r = t.game.pending_requests()[0].clone();
        let said = t.try_act(r.seat, r.id, Action::Talk(Some("hello world".to_owned())));
        match said {
            Ok(outs) => {
                assert!(truncate);
                assert!(outs.iter().filter_map(Output::as_event).any(|e| matches!(
                    &e.kind,
                    EventKind::Talk { text, .. } if text == "hello"
                )));
            }
            Err(e) => {
                assert!(!truncate);
                assert!(matches!(
                    e,
                    werewolf_engine::ActionError::TextTooLong { .. }
                ));
            }
        }
    }
}

/// `attack_revote`: a tied attack vote is voted once more among the tied targets, then the
/// plurality (or the RNG) decides; without it the RNG picks at once.
#[test]
fn a_tied_attack_vote_can_be_voted_again_among_the_tied() {
    for revote in [false, true] {
        let counts = RoleCounts {
            werewolf: 2,
            seer: 1,
            villager: 4,
            ..RoleCounts::default()
        };
        let mut config = GameConfig::hub_rules(RoleSetup::Counts(counts)).with_seed(9);
        config.talk_rounds = 0;
        config.attack_revote = revote;
        let mut t = Table::new(config);
        let wolves = t.seats(Role::Werewolf);
        let seer = t.seat(Role::Seer);
        let a = t.other(&[seer]);
        let b = t.other(&[seer, a]);
        t.act(wolves[0], Action::Attack(a));
        t.act(wolves[1], Action::Attack(b));
        if revote {
            for &w in &wolves {
                let again = t.request(w, ActionKind::Attack);
                assert_eq!(again.candidates, {
                    let mut tied = vec![a, b];
                    tied.sort_unstable();
                    tied
                });
            }
            t.act(wolves[0], Action::Attack(b));
            t.act(wolves[1], Action::Attack(b));
            t.act(seer, Action::NoDivine);
            assert!(
                !t.game.is_alive(b) && t.game.is_alive(a),
                "the revote's choice died"
            );
        } else {
            assert!(
                t.try_request(wolves[0], ActionKind::Attack).is_none(),
                "no revote"
            );
            t.act(seer, Action::NoDivine);
            assert_eq!(
                [a, b].iter().filter(|&&s| !t.game.is_alive(s)).count(),
                1,
                "one of the tied died"
            );
        }
    }
}
