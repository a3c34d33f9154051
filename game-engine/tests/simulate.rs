//! Simulation: every preset plays to the end, digests are reproducible and seed-sensitive.

use werewolf_engine::{
    GameConfig, LogDigest, Preset, RoleCounts, SetupError, Winner, play_game, simulate,
    simulate_config,
};

#[test]
fn every_preset_plays_to_the_end() {
    for preset in Preset::ALL {
        let s = simulate(preset.name(), 300, 11).expect("preset is valid");
        assert_eq!(s.preset, preset.name());
        assert_eq!(s.games, 300);
        assert_eq!(s.unfinished, 0, "{preset}: a game stalled");
        assert_eq!(
            s.illegal_bot_actions, 0,
            "{preset}: a bot action was refused"
        );
        assert_eq!(s.villager_wins + s.werewolf_wins + s.draws, 300);
        assert!(
            s.villager_wins > 0 && s.werewolf_wins > 0,
            "{preset}: {s:?}"
        );
        assert!(s.avg_days >= 1.0 && s.avg_days < 20.0, "{preset}: {s:?}");
        assert_eq!(s.digest.len(), 16);
    }
}

#[test]
fn same_seed_same_digest_other_seed_other_digest() {
    let a = simulate("arena8", 200, 1).unwrap();
    let b = simulate("arena8", 200, 1).unwrap();
    let c = simulate("arena8", 200, 2).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.digest, b.digest);
    assert_ne!(a.digest, c.digest);
    // One game more changes the digest too.
    let d = simulate("arena8", 201, 1).unwrap();
    assert_ne!(a.digest, d.digest);
}

#[test]
fn digest_is_fnv1a_over_the_json_lines_of_the_log() {
    let config = GameConfig::preset("classic9").unwrap().with_seed(5);
    let mut lines = String::new();
    let mut digest = LogDigest::new();
    play_game(config, 9, |o| {
        lines.push_str(&serde_json::to_string(o).unwrap());
        lines.push('\n');
        digest.update(o);
    })
    .unwrap();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in lines.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    assert_eq!(digest.hex(), format!("{h:016x}"));
    // FNV-1a reference value for the empty input and for "a".
    assert_eq!(LogDigest::new().hex(), "cbf29ce484222325");
    let mut a = LogDigest::new();
    a.update_bytes(b"a");
    assert_eq!(a.hex(), "af63dc4c8601ec8c");
}

#[test]
fn custom_role_counts_play_to_the_end() {
    let setups = [
        RoleCounts {
            werewolf: 1,
            villager: 2,
            ..Default::default()
        },
        RoleCounts {
            werewolf: 2,
            hunter: 2,
            witch: 2,
            doctor: 1,
            medium: 1,
            seer: 1,
            villager: 1,
            ..Default::default()
        },
        RoleCounts {
            werewolf: 3,
            possessed: 2,
            hunter: 1,
            medium: 2,
            villager: 4,
            ..Default::default()
        },
    ];
    for counts in setups {
        let s = simulate_config(&GameConfig::with_counts(counts), 200, 3).unwrap();
        assert_eq!(s.unfinished, 0, "{counts:?}");
        assert_eq!(s.illegal_bot_actions, 0, "{counts:?}");
        assert_eq!(s.villager_wins + s.werewolf_wins + s.draws, 200);
    }
}

#[test]
fn unknown_preset_is_a_typed_error() {
    assert_eq!(
        simulate("arena9", 1, 1).unwrap_err(),
        SetupError::UnknownPreset("arena9".into())
    );
}

#[test]
fn a_tiny_day_limit_ends_in_draws() {
    let mut config = GameConfig::preset("aiwolf13").unwrap();
    config.max_days = 1;
    let s = simulate_config(&config, 100, 4).unwrap();
    assert!(s.draws > 0, "{s:?}");
    assert!(s.avg_days <= 1.0);
    let (_, record) = play_game(config.with_seed(1), 1, |_| {}).unwrap();
    assert!(record.winner.is_some());
    assert!(matches!(
        record.winner,
        Some(Winner::Draw | Winner::Villagers | Winner::Werewolves)
    ));
}
