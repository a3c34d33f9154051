//! An insta snapshot of one full scripted game of arena8's table under the hub's rules: every output, audiences included, one
//! compact JSON line each.

mod common;

use common::Table;
use werewolf_engine::{Action, ActionKind, GameConfig, Preset, Role, RoleSetup, Winner};

#[test]
fn scripted_arena8_game_log() {
    let mut config = GameConfig::hub_rules(RoleSetup::Preset(Preset::Arena8)).with_seed(2024);
    config.talk_rounds = 1;
    let mut t = Table::new(config);
    let wolves = t.seats(Role::Werewolf);
    let seer = t.seat(Role::Seer);
    let doctor = t.seat(Role::Doctor);
    let villagers = t.seats(Role::Villager);

    // Night 1: the pack whispers and attacks a villager; the seer finds a wolf; the doctor
    // protects itself.
    let outs = t
        .game
        .whisper(wolves[0], "Let's take the first villager.")
        .unwrap();
    t.log.extend(outs);
    t.act(wolves[0], Action::Attack(villagers[0]));
    t.act(wolves[1], Action::Attack(villagers[0]));
    t.act(seer, Action::Divine(wolves[0]));
    t.act(doctor, Action::Protect(doctor));

    // Day 1: one round of talk (one skip, one timeout), then the wolf the seer found is voted out.
    let mut turn = 0;
    while let Some(r) = t.game.pending_requests().first().cloned() {
        if r.kind != ActionKind::Talk {
            break;
        }
        match turn {
            1 => {
                t.act(r.seat, Action::Talk(None));
            }
            2 => {
                t.expire(r.seat, ActionKind::Talk);
            }
            _ if r.seat == seer => {
                t.act(
                    r.seat,
                    Action::Talk(Some(format!(
                        "I am the seer: seat {} is a werewolf.",
                        wolves[0].0
                    ))),
                );
            }
            _ => {
                t.act(
                    r.seat,
                    Action::Talk(Some(format!("Seat {} here, no information.", r.seat.0))),
                );
            }
        }
        turn += 1;
    }
    t.vote(|v| Some(if wolves.contains(&v) { seer } else { wolves[0] }));

    // Night 2: the last wolf kills the doctor, who may not protect itself twice in a row.
    t.act(wolves[1], Action::Attack(doctor));
    t.act(seer, Action::Divine(wolves[1]));
    t.act(doctor, Action::Protect(villagers[1]));

    // Day 2: everyone skips; a 2-2 tie, then the revote executes the last wolf.
    t.skip_talks();
    let (v2, v3, v4) = (villagers[1], villagers[2], villagers[3]);
    t.vote(|v| match v {
        _ if v == seer || v == v3 => Some(wolves[1]),
        _ if v == wolves[1] || v == v4 => Some(v2),
        _ => None,
    });
    t.vote(|v| Some(if v == wolves[1] { v2 } else { wolves[1] }));

    assert_eq!(t.game.winner(), Some(Winner::Villagers));
    let lines: Vec<String> = t
        .log
        .iter()
        .map(|o| serde_json::to_string(o).unwrap())
        .collect();
    insta::assert_snapshot!("arena8_scripted_game", lines.join("\n"));
}
