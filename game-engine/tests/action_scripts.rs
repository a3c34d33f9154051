//! Arbitrary scripts of inputs (legal bot moves mixed with arbitrary `act`, `whisper`,
//! `expire` and `abort` calls) never panic, and every refused input leaves the game exactly as
//! it was. The same generator and check as the cargo-fuzz target `engine_actions` (see
//! `support/script.rs`); here the bytes come from proptest, on stable.

#[path = "support/script.rs"]
mod script;

use proptest::collection::vec;
use proptest::prelude::*;
use script::{Script, run};

proptest! {
    // ~1 s in a debug build: each case plays up to a few hundred inputs.
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn refused_inputs_change_nothing(bytes in vec(any::<u8>(), 0..8192)) {
        if let Ok(script) = Script::from_bytes(&bytes) {
            run(&script);
        }
    }
}

/// The generator reaches the interesting parts: games that start, accept inputs, refuse some,
/// and end (a generator that only ever produced refused setups would prove nothing).
#[test]
fn scripts_reach_accepted_refused_and_finished_games() {
    let mut rng = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let (mut started, mut accepted, mut refused, mut over) = (0, 0, 0, 0);
    for _ in 0..200 {
        let bytes: Vec<u8> = (0..4096).map(|_| next() as u8).collect();
        let Ok(script) = Script::from_bytes(&bytes) else {
            continue;
        };
        let tally = run(&script);
        started += usize::from(!tally.setup_refused);
        accepted += tally.accepted;
        refused += tally.refused;
        over += usize::from(tally.over);
    }
    assert!(started > 50, "only {started} of 200 setups started a game");
    assert!(accepted > 1000, "only {accepted} inputs accepted");
    assert!(refused > 1000, "only {refused} inputs refused");
    assert!(over > 10, "only {over} games ended");
}
