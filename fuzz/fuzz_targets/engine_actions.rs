//! A game from a fuzzed seed and preset, then a fuzzed script of bot moves and arbitrary
//! `act` / `whisper` / `expire` / `abort` calls: never panics, and every refused input leaves
//! the game exactly as it was (compared with a clone taken before). The generator and the
//! check are the stable property test's (`game-engine/tests/support/script.rs`).

#![no_main]

#[path = "../../game-engine/tests/support/script.rs"]
#[allow(dead_code)]
mod script;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(script) = script::Script::from_bytes(data) {
        script::run(&script);
    }
});
