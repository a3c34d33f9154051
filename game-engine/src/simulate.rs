//! Headless simulation: full games between [`RandomBots`], and a stable digest of their logs.

use crate::bots::RandomBots;
use crate::rng::GameRng;
use crate::{Game, GameConfig, Output, Preset, RequestId, SetupError, Winner};
use serde::Serialize;
use std::collections::VecDeque;

/// FNV-1a 64-bit offset basis.
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
/// FNV-1a 64-bit prime.
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// A stable digest of an event log: FNV-1a 64 over each [`Output`] serialized as compact JSON
/// followed by `\n` (i.e. over the log's JSON lines). Identical on every platform and run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogDigest {
    /// The running FNV-1a state.
    hash: u64,
    /// Reused serialization buffer (one JSON line at a time).
    line: Vec<u8>,
}

impl Default for LogDigest {
    fn default() -> Self {
        Self::new()
    }
}

impl LogDigest {
    /// An empty digest.
    #[must_use]
    pub fn new() -> Self {
        Self {
            hash: FNV_OFFSET,
            line: Vec::with_capacity(256),
        }
    }

    /// Feeds raw bytes.
    pub fn update_bytes(&mut self, bytes: &[u8]) {
        let mut h = self.hash;
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(FNV_PRIME);
        }
        self.hash = h;
    }

    /// Feeds one output as a JSON line.
    pub fn update(&mut self, output: &Output) {
        // Writing into the hasher cannot fail, and these types always serialize.
        if serde_json::to_writer(&mut *self, output).is_ok() {
            self.update_bytes(b"\n");
        }
    }

    /// The digest so far as 16 lowercase hex digits.
    #[must_use]
    pub fn hex(&self) -> String {
        format!("{:016x}", self.hash)
    }

    /// The digest so far as a number.
    #[must_use]
    pub fn value(&self) -> u64 {
        self.hash
    }
}

impl std::io::Write for LogDigest {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.update_bytes(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// How one simulated game went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct GameRecord {
    /// Who won; `None` only if the game stalled (a bug: no request left but not over).
    pub winner: Option<Winner>,
    /// The day the game ended on.
    pub days: u32,
    /// Outputs emitted (events, requests and close notices).
    pub outputs: u64,
    /// Bot actions the engine refused (a bug: bots only choose legal actions); each was
    /// replaced by the request's timeout.
    pub illegal_bot_actions: u64,
}

/// Plays one full game of `config` between [`RandomBots`] seeded with `bot_seed`, answering
/// requests in the order they were issued; every output is passed to `on_output`.
pub fn play_game(
    config: GameConfig,
    bot_seed: u64,
    on_output: impl FnMut(&Output),
) -> Result<(Game, GameRecord), SetupError> {
    play_game_with(config, RandomBots::new(bot_seed), on_output)
}

/// [`play_game`] with these bots (e.g. ones that never time out or abstain).
pub fn play_game_with(
    config: GameConfig,
    mut bots: RandomBots,
    mut on_output: impl FnMut(&Output),
) -> Result<(Game, GameRecord), SetupError> {
    let players = config.player_count();
    let (mut game, first) = Game::new(config, players)?;
    let mut queue: VecDeque<RequestId> = VecDeque::with_capacity(16);
    let mut record = GameRecord {
        winner: None,
        days: 0,
        outputs: 0,
        illegal_bot_actions: 0,
    };
    let mut feed =
        |outputs: Vec<Output>, queue: &mut VecDeque<RequestId>, record: &mut GameRecord| {
            for output in &outputs {
                on_output(output);
                if let Output::Request(r) = output {
                    queue.push_back(r.id);
                }
            }
            record.outputs += outputs.len() as u64;
        };
    feed(first, &mut queue, &mut record);
    while let Some(id) = queue.pop_front() {
        let Some(request) = game.pending_request(id) else {
            continue;
        };
        let result = if bots.times_out() {
            game.expire(id)
        } else {
            let seat = request.seat;
            let action = bots.choose(&game, request);
            match game.act(seat, id, action) {
                Ok(outputs) => Ok(outputs),
                Err(_) => {
                    record.illegal_bot_actions += 1;
                    game.expire(id)
                }
            }
        };
        match result {
            Ok(outputs) => feed(outputs, &mut queue, &mut record),
            Err(_) => record.illegal_bot_actions += 1,
        }
    }
    record.winner = game.winner();
    record.days = game.day();
    Ok((game, record))
}

/// The outcome of [`simulate`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SimSummary {
    /// The preset (or `custom`).
    pub preset: String,
    /// Games played.
    pub games: u64,
    /// Games the villagers won.
    pub villager_wins: u64,
    /// Games the werewolves won.
    pub werewolf_wins: u64,
    /// Games that hit `max_days`.
    pub draws: u64,
    /// Games that stalled without a winner (always 0 unless the engine has a bug).
    pub unfinished: u64,
    /// Mean of the day each game ended on.
    pub avg_days: f64,
    /// Bot actions refused by the engine (always 0 unless the engine or bots have a bug).
    pub illegal_bot_actions: u64,
    /// Total outputs emitted over all games.
    pub outputs: u64,
    /// [`LogDigest`] over every game's complete log, in game order (16 hex digits).
    pub digest: String,
}

/// Plays `games` full games of the preset named `preset` between random bots.
///
/// Game `i` uses the game seed `GameRng::derive(seed, i)` and bot seed
/// `GameRng::derive(!seed, i)`, so the result (digest included) is a pure function of
/// `(preset, games, seed)`.
pub fn simulate(preset: &str, games: u64, seed: u64) -> Result<SimSummary, SetupError> {
    let preset = Preset::from_name(preset)?;
    let mut summary = simulate_config(&GameConfig::preset(preset.name())?, games, seed)?;
    summary.preset = preset.name().to_owned();
    Ok(summary)
}

/// Like [`simulate`] for any config (its `seed` is replaced per game).
pub fn simulate_config(base: &GameConfig, games: u64, seed: u64) -> Result<SimSummary, SetupError> {
    simulate_with(base, games, seed, BotHabits::default())
}

/// How the simulated bots deviate from always answering with a legal choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BotHabits {
    /// One request in this many is left to time out (0 = never; default 50).
    pub timeout_one_in: u32,
    /// One day vote in this many is an abstention (0 = never; default 10).
    pub abstain_one_in: u32,
}

impl Default for BotHabits {
    fn default() -> Self {
        Self {
            timeout_one_in: 50,
            abstain_one_in: 10,
        }
    }
}

/// Like [`simulate_config`] with bots of these habits.
pub fn simulate_with(
    base: &GameConfig,
    games: u64,
    seed: u64,
    habits: BotHabits,
) -> Result<SimSummary, SetupError> {
    base.validate(base.player_count())?;
    let mut digest = LogDigest::new();
    let mut summary = SimSummary {
        preset: "custom".to_owned(),
        games,
        villager_wins: 0,
        werewolf_wins: 0,
        draws: 0,
        unfinished: 0,
        avg_days: 0.0,
        illegal_bot_actions: 0,
        outputs: 0,
        digest: String::new(),
    };
    let mut total_days = 0u64;
    for i in 0..games {
        let game_seed = GameRng::derive(seed, i).next_u64();
        let bot_seed = GameRng::derive(!seed, i).next_u64();
        let config = base.clone().with_seed(game_seed);
        let bots = RandomBots::new(bot_seed)
            .with_timeouts(habits.timeout_one_in)
            .with_abstentions(habits.abstain_one_in);
        let (_, record) = play_game_with(config, bots, |o| digest.update(o))?;
        match record.winner {
            Some(Winner::Villagers) => summary.villager_wins += 1,
            Some(Winner::Werewolves) => summary.werewolf_wins += 1,
            Some(Winner::Draw) => summary.draws += 1,
            // Bots never abandon a game; were one aborted, it is no result.
            Some(Winner::Aborted) | None => summary.unfinished += 1,
        }
        total_days += u64::from(record.days);
        summary.illegal_bot_actions += record.illegal_bot_actions;
        summary.outputs += record.outputs;
    }
    if games > 0 {
        summary.avg_days = total_days as f64 / games as f64;
    }
    summary.digest = digest.hex();
    Ok(summary)
}
