//! One test (at least) per rule of the game, through the public API.

mod common;

use common::{Table, counts, events_of};
use std::collections::HashSet;
use werewolf_engine::{
    Action, ActionError, ActionKind, Audience, Ballot, CloseReason, Death, DeathCause, EventKind,
    Game, GameConfig, Output, Phase, Potion, Preset, RequestId, Role, RoleCounts, RoleSetup, Seat,
    SetupError, Team, TiePolicy, VoteOutcome, VoteReveal, Winner,
};

/// A table of the preset's roles under the hub's own rules (the `aiwolf*` presets' defaults
/// follow AIWolf; their own tests build those configs explicitly).
fn preset(name: &str, seed: u64) -> Table {
    let roles = RoleSetup::Preset(Preset::from_name(name).unwrap());
    let mut config = GameConfig::hub_rules(roles).with_seed(seed);
    config.talk_rounds = 0;
    Table::new(config)
}

fn outcome_of(t: &Table) -> Vec<VoteOutcome> {
    t.kinds()
        .into_iter()
        .filter_map(|k| match k {
            EventKind::VoteResult { outcome, .. } => Some(outcome.clone()),
            _ => None,
        })
        .collect()
}

// ----- setup -----

#[test]
fn presets_have_the_documented_roles() {
    let c = |w, v, s, d, wi, h, p, m| RoleCounts {
        werewolf: w,
        villager: v,
        seer: s,
        doctor: d,
        witch: wi,
        hunter: h,
        possessed: p,
        medium: m,
    };
    assert_eq!(Preset::Aiwolf5.counts(), c(1, 2, 1, 0, 0, 0, 1, 0));
    assert_eq!(Preset::Arena8.counts(), c(2, 4, 1, 1, 0, 0, 0, 0));
    assert_eq!(Preset::Aiwolf13.counts(), c(3, 6, 1, 1, 0, 0, 1, 1));
    assert_eq!(Preset::Classic9.counts(), c(2, 4, 1, 0, 1, 1, 0, 0));
    for p in Preset::ALL {
        assert_eq!(Preset::from_name(p.name()), Ok(p));
        assert_eq!(p.player_count(), p.counts().total());
    }
}

#[test]
fn invalid_setups_are_typed_errors() {
    let err = |config: GameConfig, n: usize| Game::new(config, n).map(|_| ()).unwrap_err();
    assert_eq!(
        GameConfig::preset("arena7").unwrap_err(),
        SetupError::UnknownPreset("arena7".into())
    );
    assert_eq!(
        err(GameConfig::hub_rules(RoleSetup::Preset(Preset::Arena8)), 9),
        SetupError::PlayerCountMismatch {
            expected: 8,
            got: 9
        }
    );
    let custom = |c: RoleCounts| GameConfig::with_counts(c);
    assert_eq!(
        err(custom(counts(|c| c.villager = 5)), 5),
        SetupError::NoWerewolf
    );
    assert_eq!(
        err(
            custom(counts(|c| {
                c.werewolf = 2;
                c.villager = 2
            })),
            4
        ),
        SetupError::WerewolvesNotMinority {
            werewolves: 2,
            others: 2
        }
    );
    assert_eq!(
        err(
            custom(counts(|c| {
                c.werewolf = 1;
                c.villager = 1
            })),
            2
        ),
        SetupError::TooFewPlayers { got: 2, min: 3 }
    );
    assert_eq!(
        err(
            custom(counts(|c| {
                c.werewolf = 10;
                c.villager = 60
            })),
            70
        ),
        SetupError::TooManyPlayers { got: 70, max: 64 }
    );
    let mut config = GameConfig::hub_rules(RoleSetup::Preset(Preset::Arena8));
    config.max_talk_chars = 0;
    assert_eq!(err(config, 8), SetupError::ZeroTalkLength);
    let mut config = GameConfig::hub_rules(RoleSetup::Preset(Preset::Arena8));
    config.max_days = 0;
    assert_eq!(err(config, 8), SetupError::ZeroMaxDays);
    // The smallest valid custom game works.
    assert!(
        Game::new(
            custom(counts(|c| {
                c.werewolf = 1;
                c.villager = 2
            })),
            3
        )
        .is_ok()
    );
}

#[test]
fn roles_are_dealt_by_the_seeded_rng_and_told_privately() {
    for p in Preset::ALL {
        let t = Table::new(GameConfig::preset(p.name()).unwrap().with_seed(9));
        let roles: Vec<Role> = t.game.seats().map(|s| t.game.role_of(s).unwrap()).collect();
        assert_eq!(RoleCounts::of(&roles), p.counts(), "{p}");
        let wolves = t.seats(Role::Werewolf);
        let mut told = 0;
        for e in t.events() {
            if let EventKind::RoleAssigned {
                seat,
                role,
                team,
                teammates,
            } = &e.kind
            {
                told += 1;
                assert_eq!(e.audience, Audience::Player(*seat));
                assert_eq!(Some(*role), t.game.role_of(*seat));
                assert_eq!(*team, role.team());
                if *role == Role::Werewolf {
                    let expected: Vec<Seat> =
                        wolves.iter().copied().filter(|s| s != seat).collect();
                    assert_eq!(teammates, &expected);
                } else {
                    assert!(teammates.is_empty(), "{role} must not know the wolves");
                }
            }
        }
        assert_eq!(told, roles.len());
    }
    let deal = |seed| {
        let t =
            Table::new(GameConfig::hub_rules(RoleSetup::Preset(Preset::Arena8)).with_seed(seed));
        t.game
            .seats()
            .map(|s| t.game.role_of(s).unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(deal(1), deal(1));
    let distinct: HashSet<_> = (0..20).map(deal).collect();
    assert!(distinct.len() > 10, "deals barely depend on the seed");
}

#[test]
fn night_one_asks_the_right_players_with_the_right_candidates() {
    let t = preset("arena8", 3);
    assert_eq!(t.game.phase(), Phase::Night);
    assert_eq!(t.game.day(), 1);
    let wolves = t.seats(Role::Werewolf);
    let non_wolves: Vec<Seat> = t.game.seats().filter(|s| !wolves.contains(s)).collect();
    for &w in &wolves {
        assert_eq!(t.request(w, ActionKind::Attack).candidates, non_wolves);
    }
    let seer = t.seat(Role::Seer);
    let divine = t.request(seer, ActionKind::Divine);
    assert!(!divine.candidates.contains(&seer));
    assert_eq!(divine.candidates.len(), 7);
    let doctor = t.seat(Role::Doctor);
    let protect = t.request(doctor, ActionKind::Protect);
    assert!(
        protect.candidates.contains(&doctor),
        "self-protection is allowed"
    );
    assert_eq!(protect.candidates.len(), 8);
    assert_eq!(
        t.game.pending_requests().len(),
        4,
        "villagers have nothing to do at night"
    );
    assert_eq!(
        protect.timeout_ms,
        GameConfig::default().timeouts_ms.protect
    );
}

// ----- night -----

#[test]
fn werewolves_kill_their_victim_announced_at_dawn_without_its_role() {
    let mut t = preset("arena8", 1);
    let victim = t.seat(Role::Villager);
    t.night(victim);
    assert!(!t.game.is_alive(victim));
    assert_eq!(t.game.phase(), Phase::Vote);
    let kinds = t.kinds();
    assert!(kinds.contains(&&EventKind::PhaseChanged {
        phase: Phase::Day,
        day: 1,
        deaths: vec![Death {
            seat: victim,
            cause: DeathCause::Night
        }],
    }));
    assert!(kinds.contains(&&EventKind::Died {
        seat: victim,
        cause: DeathCause::Night
    }));
    let outcome = t
        .events()
        .find(|e| matches!(e.kind, EventKind::NightOutcome { .. }))
        .unwrap();
    assert_eq!(outcome.audience, Audience::Spectators);
    match &outcome.kind {
        EventKind::NightOutcome {
            attacked,
            deaths,
            guarded,
            saved,
            ..
        } => {
            assert_eq!(*attacked, Some(victim));
            assert_eq!(
                deaths,
                &vec![Death {
                    seat: victim,
                    cause: DeathCause::Attack
                }]
            );
            assert!(!guarded && !saved);
        }
        _ => unreachable!(),
    }
    assert_eq!(
        t.game.full_view().players[victim.index()]
            .death
            .unwrap()
            .cause,
        DeathCause::Attack
    );
}

#[test]
fn attack_votes_go_to_the_pack_and_the_plurality_is_the_victim() {
    let mut t = Table::custom(
        counts(|c| {
            c.werewolf = 3;
            c.villager = 5
        }),
        4,
        |_| {},
    );
    let wolves = t.seats(Role::Werewolf);
    let a = t.other(&[]);
    let b = t.other(&[a]);
    t.act(wolves[0], Action::Attack(b));
    t.act(wolves[1], Action::Attack(a));
    let outs = t.act(wolves[2], Action::Attack(a));
    let target = events_of(&outs)
        .into_iter()
        .find(|e| matches!(e.kind, EventKind::AttackTarget { .. }))
        .unwrap();
    assert_eq!(target.audience, Audience::Werewolves);
    assert!(
        matches!(&target.kind, EventKind::AttackTarget { victim: Some(v), tally, ballots } if *v == a && tally.len() == 2 && ballots.len() == 3)
    );
    // Votes are hidden until the count by default: each ballot went to spectators only, and
    // the pack got all of them with the target.
    assert!(
        t.events()
            .filter(|e| matches!(e.kind, EventKind::AttackVoteCast { .. }))
            .all(|e| e.audience == Audience::Spectators)
    );
    assert!(!t.game.is_alive(a));
    assert!(t.game.is_alive(b));
}

#[test]
fn a_tied_attack_vote_is_broken_by_the_seeded_rng() {
    let run = |seed| {
        let mut t = preset("arena8", seed);
        let wolves = t.seats(Role::Werewolf);
        let a = t.other(&[]);
        let b = t.other(&[a]);
        t.act(wolves[0], Action::Attack(a));
        t.act(wolves[1], Action::Attack(b));
        let victim = t
            .kinds()
            .into_iter()
            .find_map(|k| match k {
                EventKind::AttackTarget { victim, .. } => *victim,
                _ => None,
            })
            .unwrap();
        assert!(victim == a || victim == b);
        victim == a
    };
    let picks: Vec<bool> = (0..40).map(run).collect();
    assert!(
        picks.contains(&true) && picks.contains(&false),
        "the tie is not random"
    );
    let again: Vec<bool> = (0..40).map(run).collect();
    assert_eq!(picks, again, "the tie break is not reproducible");
}

#[test]
fn no_attack_vote_means_no_victim() {
    let mut t = preset("arena8", 2);
    for w in t.seats(Role::Werewolf) {
        t.act(w, Action::NoAttack);
    }
    t.answer_pending(|_, r| werewolf_engine::timeout_default(r.kind));
    assert!(t.kinds().iter().any(|k| matches!(
        k,
        EventKind::AttackTarget { victim: None, tally, ballots }
            if tally.is_empty() && ballots.iter().all(|b| b.target.is_none())
    )));
    assert_eq!(t.game.living().count(), 8);
    assert!(t.kinds().contains(&&EventKind::PhaseChanged {
        phase: Phase::Day,
        day: 1,
        deaths: vec![]
    }));
}

#[test]
fn the_seer_learns_privately_whether_its_target_is_a_werewolf() {
    let mut t = Table::custom(
        counts(|c| {
            c.werewolf = 1;
            c.seer = 1;
            c.villager = 4
        }),
        5,
        |_| {},
    );
    let seer = t.seat(Role::Seer);
    let wolf = t.seat(Role::Werewolf);
    let villager = t.seat(Role::Villager);
    let outs = t.act(seer, Action::Divine(wolf));
    let result = events_of(&outs)
        .into_iter()
        .find(|e| matches!(e.kind, EventKind::DivineResult { .. }))
        .unwrap();
    assert_eq!(result.audience, Audience::Player(seer));
    assert_eq!(
        result.kind,
        EventKind::DivineResult {
            seer,
            target: wolf,
            is_werewolf: true,
            role: None,
        }
    );
    let victim = t.other(&[seer, villager]);
    t.night(victim);
    t.vote(|_| None);
    let outs = t.act(seer, Action::Divine(villager));
    assert!(events_of(&outs).iter().any(|e| e.kind
        == EventKind::DivineResult {
            seer,
            target: villager,
            is_werewolf: false,
            role: None,
        }));
}

#[test]
fn the_possessed_is_seen_as_human_counts_as_human_and_wins_with_the_wolves() {
    let mut t = preset("aiwolf5", 6);
    let seer = t.seat(Role::Seer);
    let wolf = t.seat(Role::Werewolf);
    let possessed = t.seat(Role::Possessed);
    let villagers = t.seats(Role::Villager);
    assert!(
        t.view_roles_known_by(possessed).is_empty(),
        "the possessed must not know the wolf"
    );
    let outs = t.act(seer, Action::Divine(possessed));
    assert!(events_of(&outs).iter().any(|e| e.kind
        == EventKind::DivineResult {
            seer,
            target: possessed,
            is_werewolf: false,
            role: None,
        }));
    t.night(seer);
    // Day 1: execute a villager; 3 left (wolf, possessed, villager): the game goes on because
    // the possessed counts as human (1 wolf < 2 others).
    t.vote(|v| {
        Some(if v == villagers[0] {
            villagers[1]
        } else {
            villagers[0]
        })
    });
    assert!(!t.game.is_over());
    assert_eq!(t.game.phase(), Phase::Night);
    t.night(villagers[1]);
    assert_eq!(t.game.winner(), Some(Winner::Werewolves));
    assert!(Winner::Werewolves.includes(Role::Possessed));
    assert!(!Winner::Villagers.includes(Role::Possessed));
    assert_eq!(Role::Possessed.team(), Team::Werewolves);
    assert!(t.game.is_alive(wolf) && t.game.is_alive(possessed));
}

#[test]
fn the_doctor_protects_the_victim() {
    let mut t = preset("arena8", 7);
    let doctor = t.seat(Role::Doctor);
    let victim = t.seat(Role::Villager);
    t.night_with(victim, |_, r| {
        (r.kind == ActionKind::Protect).then_some(Action::Protect(victim))
    });
    assert!(t.game.is_alive(victim));
    assert_eq!(t.game.living().count(), 8);
    let protected = t
        .events()
        .find(|e| matches!(e.kind, EventKind::Protected { .. }))
        .unwrap();
    assert_eq!(protected.audience, Audience::Spectators);
    assert_eq!(
        protected.kind,
        EventKind::Protected {
            doctor,
            target: victim
        }
    );
    assert!(t.kinds().iter().any(
        |k| matches!(k, EventKind::NightOutcome { guarded: true, deaths, .. } if deaths.is_empty())
    ));
}

#[test]
fn the_doctor_cannot_protect_the_same_player_two_nights_running_unless_configured() {
    for allowed in [false, true] {
        let mut t = Table::custom(Preset::Arena8.counts(), 8, |c| {
            c.doctor_same_target_twice = allowed
        });
        let doctor = t.seat(Role::Doctor);
        let victim = t.seat(Role::Villager);
        let guarded = t.other(&[victim, doctor]);
        t.night_with(victim, |_, r| {
            (r.kind == ActionKind::Protect).then_some(Action::Protect(guarded))
        });
        assert_eq!(
            t.game.full_view().players[doctor.index()].last_protected,
            Some(guarded)
        );
        t.vote(|_| None);
        let request = t.request(doctor, ActionKind::Protect);
        assert_eq!(request.candidates.contains(&guarded), allowed);
        assert!(request.candidates.contains(&doctor));
        if !allowed {
            t.refused(
                doctor,
                request.id,
                Action::Protect(guarded),
                ActionError::InvalidTarget { target: guarded },
            );
            // Self-protection is fine, and after a night off the old target is allowed again.
            t.act(doctor, Action::Protect(doctor));
        }
    }
}

#[test]
fn the_witch_sees_the_victim_and_uses_each_potion_once() {
    let mut t = preset("classic9", 10);
    let witch = t.seat(Role::Witch);
    let wolves = t.seats(Role::Werewolf);
    let victim = t.seat(Role::Villager);
    for &w in &wolves {
        t.act(w, Action::Attack(victim));
    }
    let sees = t
        .events()
        .find(|e| matches!(e.kind, EventKind::WitchSees { .. }))
        .unwrap()
        .clone();
    assert_eq!(sees.audience, Audience::Player(witch));
    assert_eq!(
        sees.kind,
        EventKind::WitchSees {
            witch,
            victim: Some(victim),
            can_save: true,
            can_poison: true
        }
    );
    let options = t.game.witch_options(witch).unwrap();
    assert_eq!(
        (options.victim, options.can_save, options.can_poison),
        (Some(victim), true, true)
    );
    let outs = t.act(
        witch,
        Action::Witch {
            save: true,
            poison: None,
        },
    );
    assert!(
        events_of(&outs)
            .iter()
            .any(|e| e.audience == Audience::Spectators
                && e.kind
                    == EventKind::WitchUsed {
                        witch,
                        saved: Some(victim),
                        poisoned: None
                    })
    );
    t.answer_pending(|_, r| werewolf_engine::timeout_default(r.kind));
    assert!(t.game.is_alive(victim), "saved");
    t.vote(|_| None);

    // Night 2: the save potion is gone; the poison still works, once.
    let victim2 = t.other(&[victim, witch]);
    for &w in &wolves {
        t.act(w, Action::Attack(victim2));
    }
    let request = t.request(witch, ActionKind::Witch);
    t.refused(
        witch,
        request.id,
        Action::Witch {
            save: true,
            poison: None,
        },
        ActionError::PotionUnavailable {
            potion: Potion::Save,
        },
    );
    t.refused(
        witch,
        request.id,
        Action::Witch {
            save: false,
            poison: Some(witch),
        },
        ActionError::InvalidTarget { target: witch },
    );
    t.act(
        witch,
        Action::Witch {
            save: false,
            poison: Some(wolves[0]),
        },
    );
    t.answer_pending(|_, r| werewolf_engine::timeout_default(r.kind));
    assert!(!t.game.is_alive(victim2) && !t.game.is_alive(wolves[0]));
    assert_eq!(
        t.game.full_view().players[wolves[0].index()]
            .death
            .unwrap()
            .cause,
        DeathCause::Poison
    );
    assert_eq!(
        t.game.full_view().players[witch.index()].potions,
        Some((false, false))
    );
    t.vote(|_| None);

    // Night 3: no potion left → the witch still learns the victim but gets no request.
    let victim3 = t.other(&[victim, victim2, witch]);
    t.act(wolves[1], Action::Attack(victim3));
    assert!(t.try_request(witch, ActionKind::Witch).is_none());
    assert!(t.kinds().contains(&&EventKind::WitchSees {
        witch,
        victim: Some(victim3),
        can_save: false,
        can_poison: false
    }));
}

#[test]
fn poison_is_not_stopped_by_the_doctor_and_save_needs_a_victim() {
    let mut t = Table::custom(
        counts(|c| {
            c.werewolf = 1;
            c.doctor = 1;
            c.witch = 1;
            c.villager = 3
        }),
        11,
        |_| {},
    );
    let witch = t.seat(Role::Witch);
    let doctor = t.seat(Role::Doctor);
    let wolf = t.seat(Role::Werewolf);
    let target = t.seat(Role::Villager);
    t.act(doctor, Action::Protect(target));
    t.act(wolf, Action::NoAttack);
    let request = t.request(witch, ActionKind::Witch);
    t.refused(
        witch,
        request.id,
        Action::Witch {
            save: true,
            poison: None,
        },
        ActionError::PotionUnavailable {
            potion: Potion::Save,
        },
    );
    t.act(
        witch,
        Action::Witch {
            save: false,
            poison: Some(target),
        },
    );
    assert!(!t.game.is_alive(target));
    assert!(t.kinds().iter().any(|k| matches!(k, EventKind::NightOutcome { deaths, .. } if deaths == &vec![Death { seat: target, cause: DeathCause::Poison }])));
    assert!(
        t.kinds().contains(&&EventKind::Died {
            seat: target,
            cause: DeathCause::Night
        }),
        "the cause is hidden"
    );
}

#[test]
fn a_hunter_killed_at_night_shoots() {
    let mut t = preset("classic9", 12);
    let hunter = t.seat(Role::Hunter);
    let wolves = t.seats(Role::Werewolf);
    t.night(hunter);
    assert!(!t.game.is_alive(hunter));
    assert_eq!(t.game.phase(), Phase::Day);
    let shot = t.request(hunter, ActionKind::Shoot);
    let living: Vec<Seat> = t.game.living().collect();
    assert_eq!(shot.candidates, living);
    // Only the hunter's own shoot request is open to a dead player.
    t.refused(
        wolves[0],
        shot.id,
        Action::Shoot(None),
        ActionError::NotYourRequest {
            request_id: shot.id,
            seat: wolves[0],
        },
    );
    let outs = t.act(hunter, Action::Shoot(Some(wolves[0])));
    let kinds: Vec<_> = events_of(&outs)
        .into_iter()
        .map(|e| (e.audience, e.kind.clone()))
        .collect();
    assert!(kinds.contains(&(
        Audience::Everyone,
        EventKind::HunterShot {
            hunter,
            target: Some(wolves[0])
        }
    )));
    assert!(kinds.contains(&(
        Audience::Everyone,
        EventKind::Died {
            seat: wolves[0],
            cause: DeathCause::HunterShot
        }
    )));
    assert!(!t.game.is_alive(wolves[0]));
    assert_eq!(
        t.game.phase(),
        Phase::Vote,
        "the day goes on after the shot"
    );
}

/// The hunter who declines its shot (or lets it time out) is not revealed: the no-shot is told
/// to spectators only (issue 15's reproduction: classic9, seed 4, the wolves kill the hunter).
#[test]
fn a_hunter_that_does_not_shoot_stays_hidden() {
    for expire in [false, true] {
        let mut t = preset("classic9", 4);
        let hunter = t.seat(Role::Hunter);
        t.night(hunter);
        assert!(!t.game.is_alive(hunter));
        let outs = if expire {
            t.expire(hunter, ActionKind::Shoot)
        } else {
            t.act(hunter, Action::Shoot(None))
        };
        for e in events_of(&outs) {
            if let EventKind::HunterShot { .. } = e.kind {
                assert_eq!(e.audience, Audience::Spectators, "{e:?}");
            }
            assert!(
                !t.game
                    .seats()
                    .filter(|&s| s != hunter)
                    .any(|s| t.game.audience_includes(e.audience, s)
                        && matches!(e.kind, EventKind::HunterShot { .. })),
                "another seat learns of the no-shot: {e:?}"
            );
        }
        assert!(
            t.events()
                .any(|e| matches!(e.kind, EventKind::HunterShot { target: None, .. })),
            "spectators are told"
        );
        assert_eq!(t.game.phase(), Phase::Vote, "the day goes on");
    }
}

#[test]
fn an_executed_hunter_shoots_then_night_falls() {
    let mut t = preset("classic9", 13);
    let hunter = t.seat(Role::Hunter);
    let victim = t.other(&[hunter]);
    t.night(victim);
    let target = t.other(&[hunter, victim]);
    t.vote(|v| Some(if v == hunter { target } else { hunter }));
    assert!(!t.game.is_alive(hunter));
    assert_eq!(t.game.phase(), Phase::Vote);
    t.act(hunter, Action::Shoot(Some(target)));
    assert!(!t.game.is_alive(target));
    assert_eq!(t.game.phase(), Phase::Night);
    assert_eq!(t.game.day(), 2);
    assert!(t.kinds().contains(&&EventKind::Died {
        seat: target,
        cause: DeathCause::HunterShot
    }));
}

#[test]
fn the_medium_learns_about_yesterdays_execution() {
    let mut t = preset("aiwolf13", 14);
    let medium = t.seat(Role::Medium);
    let wolves = t.seats(Role::Werewolf);
    let possessed = t.seat(Role::Possessed);
    let v1 = t.seat(Role::Villager);
    t.night(v1);
    t.vote(|v| Some(if v == wolves[0] { possessed } else { wolves[0] }));
    assert!(!t.game.is_alive(wolves[0]));
    assert!(
        !t.kinds()
            .iter()
            .any(|k| matches!(k, EventKind::MediumResult { .. })),
        "not before the next day"
    );
    let v2 = t.other(&[v1, medium]);
    t.night(v2);
    let result = t
        .events()
        .find(|e| matches!(e.kind, EventKind::MediumResult { .. }))
        .unwrap()
        .clone();
    assert_eq!(result.audience, Audience::Player(medium));
    assert_eq!(
        result.kind,
        EventKind::MediumResult {
            medium,
            target: wolves[0],
            is_werewolf: true
        }
    );
    t.vote(|v| Some(if v == possessed { wolves[1] } else { possessed }));
    let v3 = t.other(&[v1, v2, medium]);
    t.night(v3);
    assert!(
        t.kinds().contains(&&EventKind::MediumResult {
            medium,
            target: possessed,
            is_werewolf: false
        }),
        "the possessed is seen as human"
    );
}

// ----- day -----

#[test]
fn the_vote_executes_the_plurality() {
    let mut t = preset("arena8", 15);
    let victim = t.seat(Role::Villager);
    t.night(victim);
    assert_eq!(t.game.phase(), Phase::Vote);
    let living: Vec<Seat> = t.game.living().collect();
    let (a, b) = (living[0], living[1]);
    // 3 votes for a, 2 for b, 2 abstain.
    t.vote(|v| {
        let i = living.iter().position(|&s| s == v).unwrap();
        match i {
            1..=3 => Some(a),
            0 | 4 => Some(b),
            _ => None,
        }
    });
    assert_eq!(outcome_of(&t), vec![VoteOutcome::Executed { seat: a }]);
    assert!(t.kinds().iter().any(|k| matches!(k, EventKind::VoteResult { tally, .. } if tally.iter().map(|c| c.votes).sum::<u32>() == 5)));
    assert!(!t.game.is_alive(a));
    assert!(t.kinds().contains(&&EventKind::Died {
        seat: a,
        cause: DeathCause::Execution
    }));
    assert_eq!(t.game.phase(), Phase::Night);
}

/// A 3-3 split between `a` and `b` with one abstention among 7 living players.
fn split(living: &[Seat], a: Seat, b: Seat) -> impl Fn(Seat) -> Option<Seat> + '_ {
    move |v| {
        if v == a {
            return Some(b);
        }
        if v == b {
            return Some(a);
        }
        let others: Vec<Seat> = living
            .iter()
            .copied()
            .filter(|&s| s != a && s != b)
            .collect();
        match others.iter().position(|&s| s == v) {
            Some(0 | 1) => Some(a),
            Some(2 | 3) => Some(b),
            _ => None,
        }
    }
}

#[test]
fn a_tie_gets_one_revote_among_the_tied_then_no_execution() {
    let mut t = preset("arena8", 16);
    let victim = t.seat(Role::Villager);
    t.night(victim);
    let living: Vec<Seat> = t.game.living().collect();
    assert_eq!(living.len(), 7);
    let (a, b) = (living[0], living[1]);
    t.vote(split(&living, a, b));
    assert_eq!(
        outcome_of(&t),
        vec![VoteOutcome::Revote { tied: vec![a, b] }]
    );
    assert_eq!(t.game.phase(), Phase::Vote);
    for r in t.game.pending_requests() {
        assert_eq!(r.kind, ActionKind::Vote);
        let expected: Vec<Seat> = [a, b].into_iter().filter(|&s| s != r.seat).collect();
        assert_eq!(r.candidates, expected);
    }
    assert_eq!(t.game.pending_requests().len(), 7);
    let outsider = living[2];
    let id = t.request(outsider, ActionKind::Vote).id;
    t.refused(
        outsider,
        id,
        Action::Vote(Some(living[3])),
        ActionError::InvalidTarget { target: living[3] },
    );
    t.vote(split(&living, a, b));
    assert_eq!(
        outcome_of(&t)[1],
        VoteOutcome::NoExecution { tied: vec![a, b] }
    );
    assert_eq!(t.game.living().count(), 7);
    assert_eq!(t.game.phase(), Phase::Night);
}

#[test]
fn a_full_revote_puts_every_living_player_up_again() {
    for (policy, random) in [
        (TiePolicy::FullRevoteThenNoExecution, false),
        (TiePolicy::FullRevoteThenRandom, true),
    ] {
        let mut config = GameConfig::hub_rules(RoleSetup::Preset(Preset::Arena8)).with_seed(16);
        config.talk_rounds = 0;
        config.tie_policy = policy;
        let mut t = Table::new(config);
        let victim = t.seat(Role::Villager);
        t.night(victim);
        let living: Vec<Seat> = t.game.living().collect();
        let (a, b) = (living[0], living[1]);
        t.vote(split(&living, a, b));
        assert_eq!(
            outcome_of(&t),
            vec![VoteOutcome::Revote { tied: vec![a, b] }]
        );
        for r in t.game.pending_requests() {
            let others: Vec<Seat> = living.iter().copied().filter(|&s| s != r.seat).collect();
            assert_eq!(
                r.candidates, others,
                "{policy:?}: everyone is a candidate again"
            );
        }
        t.vote(split(&living, a, b));
        let second = outcome_of(&t)[1].clone();
        if random {
            assert!(matches!(second, VoteOutcome::Executed { seat } if seat == a || seat == b));
        } else {
            assert_eq!(second, VoteOutcome::NoExecution { tied: vec![a, b] });
        }
    }
}

#[test]
fn tie_policies_are_configurable() {
    let run = |policy: TiePolicy, seed| {
        let mut config = GameConfig::hub_rules(RoleSetup::Preset(Preset::Arena8)).with_seed(seed);
        config.talk_rounds = 0;
        config.tie_policy = policy;
        let mut t = Table::new(config);
        let victim = t.seat(Role::Villager);
        t.night(victim);
        let living: Vec<Seat> = t.game.living().collect();
        let (a, b) = (living[0], living[1]);
        t.vote(split(&living, a, b));
        if t.game.phase() == Phase::Vote {
            t.vote(split(&living, a, b));
        }
        (outcome_of(&t), a, b)
    };
    let (o, a, b) = run(TiePolicy::NoExecution, 1);
    assert_eq!(o, vec![VoteOutcome::NoExecution { tied: vec![a, b] }]);
    let mut executed = HashSet::new();
    for seed in 0..30 {
        let (o, a, b) = run(TiePolicy::Random, seed);
        assert_eq!(o.len(), 1);
        match o[0] {
            VoteOutcome::Executed { seat } => {
                assert!(seat == a || seat == b, "picked among the tied only");
                executed.insert(seat == a)
            }
            ref other => panic!("{other:?}"),
        };
        let (o, ..) = run(TiePolicy::RevoteThenRandom, seed);
        assert!(matches!(o[0], VoteOutcome::Revote { .. }));
        assert!(matches!(o[1], VoteOutcome::Executed { .. }));
    }
    assert_eq!(executed.len(), 2, "the pick is random");
}

#[test]
fn nobody_voting_executes_nobody() {
    let mut t = preset("arena8", 17);
    let victim = t.seat(Role::Villager);
    t.night(victim);
    t.vote(|_| None);
    assert_eq!(
        outcome_of(&t),
        vec![VoteOutcome::NoExecution { tied: vec![] }]
    );
    assert_eq!(t.game.living().count(), 7);
}

#[test]
fn votes_are_hidden_until_the_count_unless_shown_as_cast_and_the_voter_knows_its_vote() {
    for reveal in [VoteReveal::AfterCount, VoteReveal::AsCast] {
        for public in [true, false] {
            let mut config = GameConfig::hub_rules(RoleSetup::Preset(Preset::Arena8)).with_seed(18);
            config.talk_rounds = 0;
            config.public_votes = public;
            config.vote_reveal = reveal;
            let mut t = Table::new(config);
            let victim = t.seat(Role::Villager);
            t.night(victim);
            let voters: Vec<Seat> = t.game.living().collect();
            assert_eq!(
                t.game.pending_requests().len(),
                voters.len(),
                "everyone votes at once"
            );
            let (voter, target) = (voters[0], voters[1]);
            let outs = t.act(voter, Action::Vote(Some(target)));
            let events = events_of(&outs);
            let cast = events
                .iter()
                .find(|e| matches!(e.kind, EventKind::VoteCast { .. }))
                .unwrap();
            let shown = public && reveal == VoteReveal::AsCast;
            assert_eq!(
                cast.audience,
                if shown {
                    Audience::Everyone
                } else {
                    Audience::Spectators
                },
                "{reveal:?} public={public}"
            );
            assert!(events.iter().any(|e| e.audience == Audience::Player(voter)
                && matches!(&e.kind, EventKind::ActionAccepted { action: Action::Vote(Some(s)), .. } if *s == target)));
            t.vote(|_| None);
            let result = t
                .events()
                .find(|e| matches!(e.kind, EventKind::VoteResult { .. }))
                .unwrap();
            assert_eq!(result.audience, Audience::Everyone, "the tally is public");
            let EventKind::VoteResult { ballots, .. } = &result.kind else {
                unreachable!()
            };
            if public {
                // Every ballot, in the order cast, published with the count.
                assert_eq!(ballots.len(), voters.len());
                assert_eq!(
                    ballots[0],
                    Ballot {
                        voter,
                        target: Some(target)
                    }
                );
                assert!(ballots[1..].iter().all(|b| b.target.is_none()));
            } else {
                assert!(ballots.is_empty(), "private votes stay private");
            }
        }
    }
}

#[test]
fn sequential_votes_ask_one_voter_at_a_time_and_show_each_the_earlier_ballots() {
    let mut config = GameConfig::hub_rules(RoleSetup::Preset(Preset::Arena8)).with_seed(18);
    config.talk_rounds = 0;
    config.vote_reveal = VoteReveal::Sequential;
    let mut t = Table::new(config);
    let victim = t.seat(Role::Villager);
    t.night(victim);
    let living: Vec<Seat> = t.game.living().collect();
    let mut asked = Vec::new();
    while t.game.phase() == Phase::Vote {
        let r = t.game.pending_requests()[0].clone();
        assert_eq!(t.game.pending_requests().len(), 1, "one voter at a time");
        assert_eq!(r.kind, ActionKind::Vote);
        asked.push(r.seat);
        // Everyone who voted before is already shown (ballots are public as cast).
        let shown = t
            .events()
            .filter(|e| e.audience == Audience::Everyone)
            .filter(|e| matches!(e.kind, EventKind::VoteCast { .. }))
            .count();
        assert_eq!(shown, asked.len() - 1);
        let target = r.candidates[0];
        t.act(r.seat, Action::Vote(Some(target)));
    }
    // Day 1: seat order from the first living seat.
    assert_eq!(asked, living);
    assert!(t.events().any(|e| matches!(
        &e.kind,
        EventKind::VoteResult { ballots, .. } if ballots.len() == living.len()
    )));
}

#[test]
fn attack_ballots_reach_the_pack_with_the_count_or_as_cast() {
    for reveal in [VoteReveal::AfterCount, VoteReveal::AsCast] {
        let mut config = GameConfig::preset("aiwolf13").unwrap().with_seed(3);
        config.first_night_attack = true;
        config.opening_talk = false;
        config.vote_reveal = reveal;
        let mut t = Table::new(config);
        let wolves = t.seats(Role::Werewolf);
        let a = t.other(&[]);
        let outs = t.act(wolves[0], Action::Attack(a));
        let cast = events_of(&outs)
            .into_iter()
            .find(|e| matches!(e.kind, EventKind::AttackVoteCast { .. }))
            .unwrap();
        assert_eq!(
            cast.audience,
            if reveal == VoteReveal::AfterCount {
                Audience::Spectators
            } else {
                Audience::Werewolves
            }
        );
        t.act(wolves[1], Action::Attack(a));
        t.act(wolves[2], Action::NoAttack);
        let target = t
            .events()
            .find(|e| matches!(e.kind, EventKind::AttackTarget { .. }))
            .unwrap();
        assert_eq!(target.audience, Audience::Werewolves);
        assert!(matches!(
            &target.kind,
            EventKind::AttackTarget { victim: Some(v), ballots, .. }
                if *v == a && ballots.len() == 3 && ballots[2] == Ballot { voter: wolves[2], target: None }
        ));
    }
}

#[test]
fn a_tied_attack_revote_shows_the_pack_the_tied_round_first() {
    let mut config = GameConfig::preset("aiwolf13").unwrap().with_seed(3);
    config.first_night_attack = true;
    config.opening_talk = false;
    config.attack_revote = true;
    let mut t = Table::new(config);
    let wolves = t.seats(Role::Werewolf);
    let a = t.other(&[]);
    let b = t.other(&[a]);
    t.act(wolves[0], Action::Attack(a));
    t.act(wolves[1], Action::Attack(b));
    let outs = t.act(wolves[2], Action::NoAttack);
    let tie = events_of(&outs)
        .into_iter()
        .find(|e| matches!(e.kind, EventKind::AttackTie { .. }))
        .expect("the tie is told to the pack");
    assert_eq!(tie.audience, Audience::Werewolves);
    assert!(
        matches!(&tie.kind, EventKind::AttackTie { tied, ballots, .. } if tied.len() == 2 && ballots.len() == 3)
    );
    let again: Vec<_> = t
        .game
        .pending_requests()
        .iter()
        .filter(|r| r.kind == ActionKind::Attack)
        .collect();
    assert_eq!(again.len(), 3);
    let mut tied = vec![a, b];
    tied.sort();
    assert!(again.iter().all(|r| r.candidates == tied));
}

#[test]
fn the_discussion_is_round_robin_with_skips_and_a_length_limit() {
    let mut config = GameConfig::hub_rules(RoleSetup::Preset(Preset::Arena8)).with_seed(19);
    config.talk_rounds = 2;
    config.max_talk_chars = 10;
    let mut t = Table::new(config);
    let victim = t.seat(Role::Villager);
    t.night(victim);
    assert_eq!(t.game.phase(), Phase::Discussion);
    let living: Vec<Seat> = t.game.living().collect();
    let mut speakers = Vec::new();
    let mut first = true;
    while let Some(r) = t.game.pending_requests().first().cloned() {
        if r.kind != ActionKind::Talk {
            break;
        }
        assert_eq!(t.game.pending_requests().len(), 1, "one speaker at a time");
        speakers.push(r.seat);
        if first {
            first = false;
            t.refused(
                r.seat,
                r.id,
                Action::Talk(Some("x".repeat(11))),
                ActionError::TextTooLong { len: 11, max: 10 },
            );
            t.refused(
                r.seat,
                r.id,
                Action::Talk(Some("   ".into())),
                ActionError::EmptyText,
            );
            t.refused(
                r.seat,
                r.id,
                Action::Vote(None),
                ActionError::WrongAction {
                    expected: ActionKind::Talk,
                    got: ActionKind::Vote,
                },
            );
            // 10 chars (multi-byte ones count as one) is fine.
            t.act(r.seat, Action::Talk(Some("éééééééééé".into())));
        } else {
            t.act(r.seat, Action::Talk(None));
        }
    }
    let expected: Vec<Seat> = living.iter().chain(living.iter()).copied().collect();
    assert_eq!(speakers, expected, "day 1: two rounds in seat order");
    assert_eq!(t.game.phase(), Phase::Vote);
    let kinds = t.kinds();
    assert!(kinds.contains(&&EventKind::Talk {
        seat: living[0],
        round: 1,
        text: "éééééééééé".into()
    }));
    assert!(kinds.contains(&&EventKind::TalkSkipped {
        seat: living[1],
        round: 1
    }));
    assert!(kinds.contains(&&EventKind::TalkSkipped {
        seat: living[1],
        round: 2
    }));
    // Day 2 starts one seat further round the table.
    t.vote(|_| None);
    let victim2 = t.other(&[]);
    t.night(victim2);
    let living2: Vec<Seat> = t.game.living().collect();
    assert_eq!(
        t.game.pending_requests()[0].seat,
        living2[1 % living2.len()]
    );
}

// ----- whispers -----

#[test]
fn only_living_werewolves_whisper_and_only_at_night() {
    let mut config = GameConfig::hub_rules(RoleSetup::Preset(Preset::Arena8)).with_seed(20);
    config.talk_rounds = 0;
    config.max_talk_chars = 20;
    let mut t = Table::new(config);
    let wolves = t.seats(Role::Werewolf);
    let villager = t.seat(Role::Villager);
    let outs = t.game.whisper(wolves[0], "kill the seer").unwrap();
    assert_eq!(outs.len(), 1);
    let e = outs[0].as_event().unwrap();
    assert_eq!(e.audience, Audience::Werewolves);
    assert_eq!(
        e.kind,
        EventKind::Whisper {
            seat: wolves[0],
            text: "kill the seer".into()
        }
    );
    let check = |t: &mut Table, seat: Seat, text: &str, expected: ActionError| {
        let before = t.game.clone();
        assert_eq!(t.game.whisper(seat, text), Err(expected));
        assert_eq!(before, t.game);
    };
    check(&mut t, villager, "hi", ActionError::NotAWerewolf(villager));
    check(
        &mut t,
        wolves[0],
        &"x".repeat(21),
        ActionError::TextTooLong { len: 21, max: 20 },
    );
    check(&mut t, wolves[0], "", ActionError::EmptyText);
    check(&mut t, Seat(40), "hi", ActionError::UnknownSeat(Seat(40)));
    t.night(villager);
    check(
        &mut t,
        wolves[0],
        "hi",
        ActionError::WrongPhase { phase: Phase::Vote },
    );
    // Execute a wolf; at night it may no longer whisper.
    t.vote(|v| Some(if v == wolves[0] { wolves[1] } else { wolves[0] }));
    assert_eq!(t.game.phase(), Phase::Night);
    check(&mut t, wolves[0], "hi", ActionError::DeadActor(wolves[0]));
    assert!(t.game.whisper(wolves[1], "alone now").is_ok());
}

// ----- win conditions and game over -----

#[test]
fn villagers_win_when_no_werewolf_lives() {
    let mut t = Table::custom(
        counts(|c| {
            c.werewolf = 1;
            c.villager = 3
        }),
        21,
        |_| {},
    );
    let wolf = t.seat(Role::Werewolf);
    let v = t.seat(Role::Villager);
    t.night(v);
    assert!(!t.game.is_over());
    let other = t.other(&[v]);
    t.vote(|voter| Some(if voter == wolf { other } else { wolf }));
    assert_eq!(t.game.winner(), Some(Winner::Villagers));
    assert_eq!(t.game.phase(), Phase::Ended);
    assert!(t.game.pending_requests().is_empty());
    let over = t.events().last().unwrap();
    assert_eq!(over.audience, Audience::Everyone);
    let roles: Vec<Role> = t.game.seats().map(|s| t.game.role_of(s).unwrap()).collect();
    assert_eq!(
        over.kind,
        EventKind::GameOver {
            winner: Winner::Villagers,
            day: 1,
            roles
        }
    );
    assert_eq!(t.game.whisper(wolf, "hi"), Err(ActionError::GameOver));
    assert_eq!(
        t.game.act(v, RequestId(1), Action::NoAttack),
        Err(ActionError::GameOver)
    );
}

#[test]
fn werewolves_win_when_they_match_the_others() {
    let mut t = Table::custom(
        counts(|c| {
            c.werewolf = 1;
            c.villager = 3
        }),
        22,
        |_| {},
    );
    let vs = t.seats(Role::Villager);
    t.night(vs[0]);
    // Execute a villager: 1 wolf vs 1 villager → the werewolves win at once.
    t.vote(|voter| Some(if voter == vs[1] { vs[2] } else { vs[1] }));
    let alive: Vec<Seat> = t.game.living().collect();
    assert!(alive.len() == 2, "{alive:?}");
    assert_eq!(t.game.winner(), Some(Winner::Werewolves));
    assert!(matches!(
        t.events().last().unwrap().kind,
        EventKind::GameOver {
            winner: Winner::Werewolves,
            ..
        }
    ));
}

#[test]
fn the_day_limit_ends_in_a_draw() {
    let mut t = Table::custom(
        counts(|c| {
            c.werewolf = 1;
            c.villager = 3
        }),
        23,
        |c| c.max_days = 2,
    );
    for _ in 0..2 {
        let wolf = t.seat(Role::Werewolf);
        t.act(wolf, Action::NoAttack);
        t.vote(|_| None);
    }
    assert_eq!(t.game.winner(), Some(Winner::Draw));
    assert_eq!(t.game.day(), 2);
    assert!(!Winner::Draw.includes(Role::Villager) && !Winner::Draw.includes(Role::Werewolf));
}

#[test]
fn roles_are_hidden_until_game_over() {
    let mut t = preset("arena8", 24);
    let wolves = t.seats(Role::Werewolf);
    let victim = t.seat(Role::Seer);
    let villager = t.seat(Role::Villager);
    t.night(victim);
    let view = t.game.view_for(villager).unwrap();
    assert_eq!(view.role, Role::Villager);
    assert!(view.teammates.is_empty());
    for p in &view.players {
        assert_eq!(p.role.is_some(), p.seat == villager, "{p:?}");
    }
    assert!(!view.players[victim.index()].alive);
    assert_eq!(
        view.players[victim.index()].death.unwrap().cause,
        DeathCause::Night
    );
    let wolf_view = t.game.view_for(wolves[0]).unwrap();
    assert_eq!(wolf_view.teammates, vec![wolves[1]]);
    for p in &wolf_view.players {
        assert_eq!(p.role.is_some(), wolves.contains(&p.seat));
    }
    assert!(
        t.game
            .public_view()
            .players
            .iter()
            .all(|p| p.role.is_none())
    );
    assert!(t.game.view_for(Seat(8)).is_none());
    // No event for everyone reveals a role before game over.
    let leak = t.events().any(|e| {
        e.audience == Audience::Everyone && matches!(e.kind, EventKind::RoleAssigned { .. })
    });
    assert!(!leak);
    // Play it out: then every role is visible to everyone.
    while !t.game.is_over() {
        let id = t.game.pending_requests()[0].id;
        let outs = t.game.expire(id).unwrap();
        t.log.extend(outs);
        if t.game.phase() == Phase::Night
            && t.game
                .pending_requests()
                .iter()
                .all(|r| r.kind != ActionKind::Attack)
        {
            continue;
        }
        if t.game.phase() == Phase::Night {
            let v = t.other(&[]);
            for w in t.seats(Role::Werewolf) {
                if t.try_request(w, ActionKind::Attack).is_some() {
                    t.act(w, Action::Attack(v));
                }
            }
        }
    }
    assert!(
        t.game
            .public_view()
            .players
            .iter()
            .all(|p| p.role.is_some())
    );
    assert!(
        t.game
            .view_for(villager)
            .unwrap()
            .players
            .iter()
            .all(|p| p.role.is_some())
    );
}

// ----- timeouts -----

#[test]
fn timeout_defaults_are_as_documented() {
    use ActionKind::*;
    assert_eq!(werewolf_engine::timeout_default(Talk), Action::Talk(None));
    assert_eq!(werewolf_engine::timeout_default(Vote), Action::Vote(None));
    assert_eq!(werewolf_engine::timeout_default(Attack), Action::NoAttack);
    assert_eq!(werewolf_engine::timeout_default(Divine), Action::NoDivine);
    assert_eq!(werewolf_engine::timeout_default(Protect), Action::NoProtect);
    assert_eq!(
        werewolf_engine::timeout_default(Witch),
        Action::Witch {
            save: false,
            poison: None
        }
    );
    assert_eq!(werewolf_engine::timeout_default(Shoot), Action::Shoot(None));
    for kind in ActionKind::ALL {
        assert_eq!(werewolf_engine::timeout_default(kind).kind(), kind);
    }
}

#[test]
fn expired_night_requests_apply_their_defaults() {
    let mut t = Table::custom(
        counts(|c| {
            c.werewolf = 1;
            c.seer = 1;
            c.doctor = 1;
            c.witch = 1;
            c.villager = 2
        }),
        25,
        |_| {},
    );
    let wolf = t.seat(Role::Werewolf);
    let seer = t.seat(Role::Seer);
    let doctor = t.seat(Role::Doctor);
    let witch = t.seat(Role::Witch);
    let outs = t.expire(seer, ActionKind::Divine);
    assert!(
        matches!(outs[0], Output::Closed(c) if c.reason == CloseReason::TimedOut && c.seat == seer)
    );
    let timed_out = events_of(&outs)[0].clone();
    assert_eq!(timed_out.audience, Audience::Player(seer));
    assert!(
        matches!(timed_out.kind, EventKind::RequestTimedOut { seat, kind: ActionKind::Divine, applied: Action::NoDivine, .. } if seat == seer)
    );
    t.expire(doctor, ActionKind::Protect);
    t.expire(wolf, ActionKind::Attack);
    t.expire(witch, ActionKind::Witch);
    let kinds = t.kinds();
    assert!(!kinds.iter().any(|k| matches!(
        k,
        EventKind::DivineResult { .. } | EventKind::Protected { .. } | EventKind::WitchUsed { .. }
    )));
    assert!(kinds.iter().any(|k| matches!(
        k,
        EventKind::AttackTarget { victim: None, tally, .. } if tally.is_empty()
    )));
    assert!(kinds.contains(&&EventKind::AttackVoteCast { wolf, target: None }));
    assert_eq!(
        t.game.full_view().players[witch.index()].potions,
        Some((true, true))
    );
    assert_eq!(
        t.game.full_view().players[doctor.index()].last_protected,
        None
    );
    assert_eq!(t.game.living().count(), 6);
}

#[test]
fn expired_day_requests_apply_their_defaults() {
    let mut config = GameConfig::preset("classic9").unwrap().with_seed(26);
    config.talk_rounds = 1;
    let mut t = Table::new(config);
    let hunter = t.seat(Role::Hunter);
    t.night(hunter);
    let outs = t.expire(hunter, ActionKind::Shoot);
    assert!(events_of(&outs).iter().any(|e| e.kind
        == EventKind::HunterShot {
            hunter,
            target: None
        }));
    assert_eq!(t.game.living().count(), 8);
    let speaker = t.game.pending_requests()[0].seat;
    let outs = t.expire(speaker, ActionKind::Talk);
    assert!(events_of(&outs).iter().any(|e| e.kind
        == EventKind::TalkSkipped {
            seat: speaker,
            round: 1
        }));
    t.skip_talks();
    let voter = t.game.pending_requests()[0].seat;
    let outs = t.expire(voter, ActionKind::Vote);
    assert!(events_of(&outs).iter().any(|e| e.kind
        == EventKind::VoteCast {
            voter,
            target: None,
            revote: false
        }));
    // The request is gone: expiring or answering it again is refused.
    let id = match outs[0] {
        Output::Closed(c) => c.id,
        _ => panic!("the close notice comes first"),
    };
    assert_eq!(t.game.expire(id), Err(ActionError::AlreadyAnswered(id)));
    t.refused(
        voter,
        id,
        Action::Vote(None),
        ActionError::AlreadyAnswered(id),
    );
    assert_eq!(
        t.game.expire(RequestId(10_000)),
        Err(ActionError::UnknownRequest(RequestId(10_000)))
    );
}

// ----- invalid inputs -----

#[test]
fn invalid_actions_are_refused_and_change_nothing() {
    let mut t = preset("arena8", 27);
    let wolves = t.seats(Role::Werewolf);
    let seer = t.seat(Role::Seer);
    let villager = t.seat(Role::Villager);
    let attack = t.request(wolves[0], ActionKind::Attack);
    t.refused(
        wolves[0],
        attack.id,
        Action::Vote(Some(villager)),
        ActionError::WrongAction {
            expected: ActionKind::Attack,
            got: ActionKind::Vote,
        },
    );
    t.refused(
        wolves[0],
        attack.id,
        Action::Attack(wolves[1]),
        ActionError::InvalidTarget { target: wolves[1] },
    );
    t.refused(
        wolves[0],
        attack.id,
        Action::Attack(Seat(99)),
        ActionError::InvalidTarget { target: Seat(99) },
    );
    t.refused(
        villager,
        attack.id,
        Action::Attack(seer),
        ActionError::NotYourRequest {
            request_id: attack.id,
            seat: villager,
        },
    );
    t.refused(
        Seat(8),
        attack.id,
        Action::Attack(seer),
        ActionError::UnknownSeat(Seat(8)),
    );
    t.refused(
        wolves[0],
        RequestId(999),
        Action::Attack(seer),
        ActionError::UnknownRequest(RequestId(999)),
    );
    t.refused(
        wolves[0],
        RequestId(0),
        Action::Attack(seer),
        ActionError::UnknownRequest(RequestId(0)),
    );
    let divine = t.request(seer, ActionKind::Divine);
    t.refused(
        seer,
        divine.id,
        Action::Divine(seer),
        ActionError::InvalidTarget { target: seer },
    );
    t.act(wolves[0], Action::Attack(villager));
    t.refused(
        wolves[0],
        attack.id,
        Action::Attack(villager),
        ActionError::AlreadyAnswered(attack.id),
    );
    t.night(villager);
    // The dead cannot act, not even on a live request of someone else.
    let vote = t.game.pending_requests()[0].clone();
    t.refused(
        villager,
        vote.id,
        Action::Vote(None),
        ActionError::DeadActor(villager),
    );
    t.refused(
        vote.seat,
        vote.id,
        Action::Vote(Some(villager)),
        ActionError::InvalidTarget { target: villager },
    );
    t.refused(
        vote.seat,
        vote.id,
        Action::Vote(Some(vote.seat)),
        ActionError::InvalidTarget { target: vote.seat },
    );
}

#[test]
fn seq_is_strictly_increasing_and_requests_share_it() {
    let mut t = preset("classic9", 28);
    let v = t.seat(Role::Villager);
    t.night(v);
    t.vote(|_| None);
    let mut last = 0;
    let mut last_id = 0;
    for o in &t.log {
        let seq = match o {
            Output::Event(e) => e.seq,
            Output::Request(r) => {
                assert!(r.id.0 > last_id);
                last_id = r.id.0;
                r.seq
            }
            Output::Closed(_) => continue,
        };
        assert!(seq > last, "{seq} after {last}");
        last = seq;
    }
    assert_eq!(last, t.game.last_seq());
}

#[test]
fn every_request_is_closed_exactly_once() {
    let mut t = preset("classic9", 29);
    let v = t.seat(Role::Villager);
    t.night(v);
    t.vote(|_| None);
    let issued: Vec<RequestId> = t
        .log
        .iter()
        .filter_map(Output::as_request)
        .map(|r| r.id)
        .collect();
    let closed: Vec<RequestId> = t
        .log
        .iter()
        .filter_map(Output::as_closed)
        .map(|c| c.id)
        .collect();
    let pending: Vec<RequestId> = t.game.pending_requests().iter().map(|r| r.id).collect();
    let mut all: Vec<RequestId> = closed.iter().chain(pending.iter()).copied().collect();
    all.sort();
    assert_eq!(all, issued);
}

#[test]
fn views_show_what_each_player_may_know() {
    let mut t = preset("classic9", 30);
    let witch = t.seat(Role::Witch);
    let v = t.seat(Role::Villager);
    let view = t.game.view_for(witch).unwrap();
    assert_eq!(view.potions, Some((true, true)));
    assert_eq!(view.phase, Phase::Night);
    assert_eq!(view.day, 1);
    assert_eq!(view.roles, Preset::Classic9.counts());
    t.night(v);
    let full = t.game.full_view();
    assert_eq!(full.players.len(), 9);
    assert!(full.players.iter().all(|p| p.team == p.role.team()));
    assert_eq!(
        full.players[v.index()].death.unwrap().cause,
        DeathCause::Attack
    );
    assert_eq!(full.pending.len(), t.game.pending_requests().len());
    let voter_view = t.game.view_for(full.pending[0].seat).unwrap();
    assert_eq!(voter_view.pending.len(), 1);
    assert_eq!(voter_view.pending[0].kind, ActionKind::Vote);
    // Serializable for logs and the wire.
    let json = serde_json::to_value(&full).unwrap();
    assert_eq!(json["phase"], "vote");
}

impl Table {
    /// Roles the given player's view reveals, other than its own.
    fn view_roles_known_by(&self, seat: Seat) -> Vec<(Seat, Role)> {
        self.game
            .view_for(seat)
            .unwrap()
            .players
            .iter()
            .filter(|p| p.seat != seat)
            .filter_map(|p| p.role.map(|r| (p.seat, r)))
            .collect()
    }
}

#[test]
fn errors_read_well() {
    let e = ActionError::WrongAction {
        expected: ActionKind::Attack,
        got: ActionKind::Vote,
    };
    assert_eq!(e.to_string(), "the request asks for `attack`, not `vote`");
    assert_eq!(
        ActionError::WrongPhase { phase: Phase::Vote }.to_string(),
        "not allowed during the vote phase"
    );
    assert_eq!(
        ActionError::PotionUnavailable {
            potion: Potion::Save
        }
        .to_string(),
        "the save potion is not available"
    );
    assert!(
        SetupError::UnknownPreset("x".into())
            .to_string()
            .contains("arena8")
    );
    for kind in ActionKind::ALL {
        assert_eq!(serde_json::to_value(kind).unwrap(), kind.name());
    }
}

// ----- abort -----

#[test]
fn an_aborted_game_cancels_every_request_and_reveals_the_roles() {
    let mut t = preset("classic9", 4);
    let pending: Vec<RequestId> = t.game.pending_requests().iter().map(|r| r.id).collect();
    assert!(!pending.is_empty(), "night 1 has requests");
    let out = t.game.abort().expect("a running game can be aborted");
    let cancelled: Vec<RequestId> = out
        .iter()
        .filter_map(|o| match o {
            Output::Closed(c) if c.reason == CloseReason::Cancelled => Some(c.id),
            _ => None,
        })
        .collect();
    assert_eq!(cancelled, pending, "every pending request is cancelled");
    let over = events_of(&out)
        .into_iter()
        .find_map(|e| match &e.kind {
            EventKind::GameOver { winner, roles, .. } => Some((*winner, roles.len())),
            _ => None,
        })
        .expect("game_over");
    assert_eq!(over, (Winner::Aborted, 9));
    assert!(t.game.is_over() && t.game.pending_requests().is_empty());
    assert_eq!(t.game.winner(), Some(Winner::Aborted));
    assert_eq!(t.game.abort().unwrap_err(), ActionError::GameOver);
}

#[test]
fn without_a_first_night_attack_only_the_seer_acts_and_nobody_dies() {
    let mut config = GameConfig::preset("aiwolf13").unwrap().with_seed(3);
    config.talk_rounds = 0;
    config.first_night_attack = false;
    let mut t = Table::new(config);
    let wolves = t.seats(Role::Werewolf);
    let doctor = t.seat(Role::Doctor);
    let seer = t.seat(Role::Seer);
    for &w in &wolves {
        assert!(
            t.try_request(w, ActionKind::Attack).is_none(),
            "no attack on night 1"
        );
    }
    assert!(
        t.try_request(doctor, ActionKind::Protect).is_none(),
        "nothing to protect"
    );
    let target = t.other(&[seer]);
    t.act(seer, Action::Divine(target));
    assert_eq!(
        t.game.phase(),
        Phase::Vote,
        "the night ended with the divination"
    );
    assert_eq!(t.game.living().count(), 13, "nobody died on night 1");
    assert!(
        !t.kinds()
            .iter()
            .any(|k| matches!(k, EventKind::AttackTarget { .. }))
    );
    // Day 1's vote, then night 2 is a full night: the pack is asked.
    let villager = t.seat(Role::Villager);
    t.vote(|v| Some(if v == villager { seer } else { villager }));
    assert_eq!(t.game.phase(), Phase::Night);
    for &w in &wolves {
        assert!(
            t.try_request(w, ActionKind::Attack).is_some(),
            "the pack attacks on night 2"
        );
    }
}
