//! Property tests over thousands of seeded random games: bounded length, invariants after every
//! step, and invalid inputs never changing the state.

use proptest::prelude::*;
use werewolf_engine::{
    Action, ActionKind, AttackDecider, Audience, EventKind, Game, GameConfig, GameRng, Output,
    Preset, RandomBots, RequestId, Role, RoleCounts, Seat, TalkOrder, TiePolicy, VoteReveal,
    VoteTimeout, Winner,
};

/// Upper bound on inputs per game (far above any real game; hitting it means a stall).
const MAX_STEPS: usize = 20_000;

fn tie_policy(i: u8) -> TiePolicy {
    [
        TiePolicy::RevoteThenNoExecution,
        TiePolicy::RevoteThenRandom,
        TiePolicy::NoExecution,
        TiePolicy::Random,
        TiePolicy::FullRevoteThenNoExecution,
        TiePolicy::FullRevoteThenRandom,
    ][usize::from(i % 6)]
}

fn config_strategy() -> impl Strategy<Value = GameConfig> {
    (
        0..Preset::ALL.len(),
        any::<u64>(),
        0u8..4,
        any::<bool>(),
        any::<bool>(),
        0u8..6,
        1u32..30,
        (
            (any::<bool>(), any::<bool>(), 0u8..4, any::<bool>()),
            (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
            (any::<bool>(), any::<bool>(), 0u8..3),
            (0u8..3, 0u8..4, 0u8..4, any::<bool>()),
            (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
        ),
    )
        .prop_map(
            |(preset, seed, talk_rounds, public_votes, twice, tie, max_days, switches)| {
                let (
                    (opening, random_order, skips, self_vote),
                    (self_protect, first_night, majority, random_timeout),
                    (truncate, attack_revote, reveal),
                    (whisper_rounds, per_agent, per_day, bidding),
                    (random_wolf, seer_repeat, seer_role, abstain),
                ) = switches;
                let mut config = GameConfig::preset(Preset::ALL[preset].name())
                    .expect("preset")
                    .with_seed(seed);
                config.talk_rounds = talk_rounds;
                config.public_votes = public_votes;
                config.doctor_same_target_twice = twice;
                config.tie_policy = tie_policy(tie);
                config.max_days = max_days;
                config.opening_talk = opening;
                config.talk_order = if random_order {
                    TalkOrder::Random
                } else {
                    TalkOrder::Rotating
                };
                // 3 → no limit; 0..=2 → that many passes.
                config.skip_limit = (skips < 3).then_some(skips);
                config.self_vote = self_vote;
                config.doctor_self_protect = self_protect;
                config.first_night_attack = first_night;
                config.majority_execution = majority;
                config.truncate_talk = truncate;
                config.attack_revote = attack_revote;
                config.whisper_rounds = whisper_rounds;
                // 0 → no cap; else 1..=3 talks a player, 4..=12 turns a day.
                config.talks_per_agent = (per_agent > 0).then_some(per_agent);
                config.talks_per_day = (per_day > 0).then_some(u16::from(per_day) * 4);
                if bidding {
                    config.talk_order = TalkOrder::Bidding;
                    config.talks_per_day.get_or_insert(8);
                }
                config.attack_decider = if random_wolf {
                    config.attack_revote = false;
                    AttackDecider::RandomWolf
                } else {
                    AttackDecider::PackVote
                };
                config.seer_repeat = seer_repeat;
                config.seer_sees_role = seer_role;
                config.vote_abstain = abstain;
                config.vote_reveal = [
                    VoteReveal::AfterCount,
                    VoteReveal::AsCast,
                    VoteReveal::Sequential,
                ][usize::from(reveal)];
                config.vote_timeout = if random_timeout {
                    VoteTimeout::Random
                } else {
                    VoteTimeout::Abstain
                };
                config
            },
        )
}

fn random_action(rng: &mut GameRng, n: usize) -> Action {
    let mut seat = || Seat(rng.below(n + 2) as u8);
    let target = seat();
    match rng.below(16) {
        11 => Action::Over(Some("x".repeat(rng.below(3) * 400))),
        12 => Action::Over(None),
        13 => Action::Whisper(Some("x".repeat(rng.below(3) * 400))),
        14 => Action::Bid(rng.below(8) as u8),
        15 => Action::Whisper(None),
        0 => Action::Talk(Some("x".repeat(rng.below(3) * 400))),
        1 => Action::Talk(None),
        2 => Action::Vote(Some(target)),
        3 => Action::Vote(None),
        4 => Action::Attack(target),
        5 => Action::Divine(target),
        6 => Action::Protect(target),
        7 => Action::Witch {
            save: rng.chance(1, 2),
            poison: Some(target),
        },
        8 => Action::Witch {
            save: true,
            poison: None,
        },
        9 => Action::Shoot(Some(target)),
        _ => Action::NoAttack,
    }
}

struct Checker {
    counts: RoleCounts,
    last_seq: u64,
}

impl Checker {
    /// Invariants over one call's outputs, given the state before and after it.
    fn outputs(
        &mut self,
        before: &Game,
        after: &Game,
        outputs: &[Output],
    ) -> Result<(), TestCaseError> {
        for o in outputs {
            match o {
                Output::Event(e) => {
                    prop_assert!(e.seq > self.last_seq);
                    self.last_seq = e.seq;
                    let alive_before = |s: Seat| before.is_alive(s);
                    match &e.kind {
                        EventKind::Talk { seat, .. } | EventKind::TalkSkipped { seat, .. } => {
                            prop_assert!(alive_before(*seat), "the dead talked");
                        }
                        EventKind::Whisper { seat, .. } => {
                            prop_assert!(alive_before(*seat));
                            prop_assert_eq!(before.role_of(*seat), Some(Role::Werewolf));
                            prop_assert_eq!(e.audience, Audience::Werewolves);
                        }
                        EventKind::VoteCast { voter, .. } => {
                            prop_assert!(alive_before(*voter), "the dead voted");
                            // No ballot reaches a player before the count unless the config
                            // shows them as cast.
                            let reveal = before.config().vote_reveal;
                            if reveal == VoteReveal::AfterCount || !before.config().public_votes {
                                prop_assert_eq!(e.audience, Audience::Spectators);
                            }
                        }
                        EventKind::AttackVoteCast { wolf, .. } => {
                            prop_assert!(alive_before(*wolf));
                            let hidden = before.config().vote_reveal == VoteReveal::AfterCount;
                            prop_assert_eq!(
                                e.audience,
                                if hidden {
                                    Audience::Spectators
                                } else {
                                    Audience::Werewolves
                                }
                            );
                        }
                        EventKind::DivineResult {
                            seer,
                            target,
                            is_werewolf,
                            role,
                        } => {
                            prop_assert!(alive_before(*seer));
                            prop_assert_eq!(e.audience, Audience::Player(*seer));
                            prop_assert_eq!(
                                *is_werewolf,
                                before.role_of(*target) == Some(Role::Werewolf)
                            );
                            if before.config().seer_sees_role {
                                prop_assert_eq!(*role, before.role_of(*target));
                            } else {
                                prop_assert_eq!(*role, None);
                            }
                        }
                        EventKind::BidCast { .. } => {
                            prop_assert_eq!(e.audience, Audience::Spectators)
                        }
                        EventKind::WhisperPassed { .. } => {
                            prop_assert_eq!(e.audience, Audience::Werewolves)
                        }
                        EventKind::Protected { doctor, .. } => prop_assert!(alive_before(*doctor)),
                        EventKind::WitchUsed { witch, .. } => prop_assert!(alive_before(*witch)),
                        EventKind::HunterShot { hunter, .. } => {
                            prop_assert_eq!(before.role_of(*hunter), Some(Role::Hunter));
                        }
                        EventKind::RoleAssigned { seat, .. } => {
                            prop_assert_eq!(e.audience, Audience::Player(*seat))
                        }
                        EventKind::GameOver { winner, roles, .. } => {
                            prop_assert_eq!(e.audience, Audience::Everyone);
                            prop_assert_eq!(Some(*winner), after.winner());
                            prop_assert_eq!(RoleCounts::of(roles), self.counts);
                        }
                        _ => {}
                    }
                }
                Output::Request(r) => {
                    prop_assert!(r.seq > self.last_seq);
                    self.last_seq = r.seq;
                    if r.kind == ActionKind::Shoot {
                        prop_assert_eq!(after.role_of(r.seat), Some(Role::Hunter));
                        prop_assert!(!after.is_alive(r.seat));
                    } else {
                        prop_assert!(after.is_alive(r.seat), "request to a dead player");
                    }
                    for c in &r.candidates {
                        prop_assert!(after.is_alive(*c), "a dead candidate");
                    }
                }
                Output::Closed(_) => {}
            }
        }
        Ok(())
    }

    /// Invariants of a state.
    fn state(&self, game: &Game) -> Result<(), TestCaseError> {
        let full = game.full_view();
        let roles: Vec<Role> = full.players.iter().map(|p| p.role).collect();
        prop_assert_eq!(RoleCounts::of(&roles), self.counts, "role counts changed");
        let first_day = u32::from(!game.config().opening_talk);
        prop_assert!(game.day() >= first_day && game.day() <= game.config().max_days);
        for r in game.pending_requests() {
            prop_assert!(game.is_alive(r.seat) || r.kind == ActionKind::Shoot);
        }
        if game.config().vote_reveal == VoteReveal::Sequential {
            let votes = game
                .pending_requests()
                .iter()
                .filter(|r| r.kind == ActionKind::Vote)
                .count();
            prop_assert!(votes <= 1, "sequential voters are asked one at a time");
        }
        if let Some(winner) = game.winner() {
            let wolves = full
                .players
                .iter()
                .filter(|p| p.alive && p.role == Role::Werewolf)
                .count();
            let others = full
                .players
                .iter()
                .filter(|p| p.alive && p.role != Role::Werewolf)
                .count();
            match winner {
                Winner::Villagers => prop_assert_eq!(wolves, 0),
                Winner::Werewolves => prop_assert!(wolves > 0 && wolves >= others),
                Winner::Draw => {
                    prop_assert!(wolves > 0 && wolves < others);
                    prop_assert_eq!(game.day(), game.config().max_days);
                }
                Winner::Aborted => prop_assert!(false, "bots never abort a game"),
            }
            prop_assert!(game.pending_requests().is_empty());
        } else {
            prop_assert!(
                !game.pending_requests().is_empty(),
                "stalled: nothing pending, not over"
            );
        }
        Ok(())
    }
}

fn play(config: GameConfig, bot_seed: u64, fuzz: bool) -> Result<(), TestCaseError> {
    let counts = config.roles.counts();
    let n = counts.total();
    let (mut game, first) = Game::new(config, n).expect("preset config is valid");
    let mut checker = Checker {
        counts,
        last_seq: 0,
    };
    checker.outputs(&game.clone(), &game, &first)?;
    checker.state(&game)?;
    let mut bots = RandomBots::new(bot_seed).with_timeouts(20);
    let mut fuzz_rng = GameRng::new(bot_seed ^ 0xF00D);
    let mut steps = 0;
    while !game.is_over() {
        steps += 1;
        prop_assert!(steps < MAX_STEPS, "game did not end");
        let before = game.clone();
        if fuzz && fuzz_rng.chance(1, 3) {
            // A random input, usually invalid: if refused, nothing may change.
            let seat = Seat(fuzz_rng.below(n + 2) as u8);
            let result = if fuzz_rng.chance(1, 5) {
                game.whisper(seat, "x".repeat(fuzz_rng.below(3) * 300))
            } else {
                let id = RequestId(
                    fuzz_rng.below(
                        before
                            .pending_requests()
                            .last()
                            .map_or(1, |r| r.id.0 as usize)
                            + 3,
                    ) as u64,
                );
                let action = random_action(&mut fuzz_rng, n);
                game.act(seat, id, action)
            };
            match result {
                Ok(outputs) => checker.outputs(&before, &game, &outputs)?,
                Err(_) => prop_assert!(before == game, "a refused input changed the state"),
            }
            checker.state(&game)?;
            continue;
        }
        let request = game.pending_requests()[0].clone();
        let outputs = if bots.times_out() {
            game.expire(request.id)
        } else {
            let action = bots.choose(&game, &request);
            game.act(request.seat, request.id, action)
        };
        let outputs = outputs.map_err(|e| TestCaseError::fail(format!("bot move refused: {e}")))?;
        checker.outputs(&before, &game, &outputs)?;
        checker.state(&game)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Thousands of random games (every preset, random rule switches) end within their day
    /// limit with every invariant holding after every step.
    #[test]
    fn random_games_keep_the_invariants(config in config_strategy(), bot_seed in any::<u64>()) {
        play(config, bot_seed, false)?;
    }

    /// Random games interleaved with random (mostly invalid) inputs: every refused input leaves
    /// the state exactly as it was, and the invariants still hold.
    #[test]
    fn invalid_inputs_never_change_the_state(config in config_strategy(), bot_seed in any::<u64>()) {
        play(config, bot_seed, true)?;
    }

    /// Same config and same inputs → the same log, event for event.
    #[test]
    fn games_are_deterministic(config in config_strategy(), bot_seed in any::<u64>()) {
        let run = |c: GameConfig| {
            let mut log = Vec::new();
            werewolf_engine::play_game(c, bot_seed, |o| log.push(o.clone())).map(|_| log)
        };
        let a = run(config.clone()).expect("valid");
        let b = run(config).expect("valid");
        prop_assert_eq!(a, b);
    }
}
