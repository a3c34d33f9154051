//! Random-but-legal bots for headless simulation and tests: pure functions of a seeded RNG and
//! what the asked player may know.

use crate::rng::GameRng;
use crate::{Action, ActionKind, Game, Request};

/// Things a bot may say in the discussion.
const PHRASES: [&str; 8] = [
    "Good morning. I am a villager, for what it's worth.",
    "I have a bad feeling about the quiet ones.",
    "Let's vote together; splitting helps the wolves.",
    "Who was defending the last victim yesterday?",
    "I trust the seer's claim, if there is one.",
    "Nothing to add; I'll listen.",
    "That vote pattern yesterday looked coordinated.",
    "I'm voting on evidence, not on vibes.",
];

/// A pool of random bots sharing one seeded RNG (one RNG for the whole table keeps a game's
/// bot choices a pure function of the seed and the order requests are answered in).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RandomBots {
    /// The bots' own randomness, separate from the game's.
    rng: GameRng,
    /// One in `timeout_one_in` requests is left to expire (0 = never).
    timeout_one_in: u32,
    /// One in `abstain_one_in` day votes is an abstention (0 = never).
    abstain_one_in: u32,
}

impl RandomBots {
    /// Bots seeded with `seed` that let 1 request in 50 time out, to exercise the defaults.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self {
            rng: GameRng::new(seed),
            timeout_one_in: 50,
            abstain_one_in: 10,
        }
    }

    /// The same bots abstaining from one day vote in `one_in` (0 = always vote; default 10).
    #[must_use]
    pub fn with_abstentions(mut self, one_in: u32) -> Self {
        self.abstain_one_in = one_in;
        self
    }

    /// The same bots letting one request in `one_in` time out (0 = never).
    #[must_use]
    pub fn with_timeouts(mut self, one_in: u32) -> Self {
        self.timeout_one_in = one_in;
        self
    }

    /// Whether to leave the next request unanswered until it expires.
    pub fn times_out(&mut self) -> bool {
        self.timeout_one_in != 0 && self.rng.chance(1, self.timeout_one_in)
    }

    /// A legal answer to `request` (which must be pending in `game`), chosen at random.
    ///
    /// Uses only what the asked player may know: the request's candidates and, for the witch,
    /// [`Game::witch_options`].
    pub fn choose(&mut self, game: &Game, request: &Request) -> Action {
        let rng = &mut self.rng;
        let pick = |rng: &mut GameRng| rng.pick(&request.candidates);
        match request.kind {
            ActionKind::Talk => {
                if rng.chance(1, 4) {
                    Action::Talk(None)
                } else {
                    let phrase = PHRASES[rng.below(PHRASES.len())];
                    let max = game.config().max_talk_chars;
                    let text = if phrase.len() <= max {
                        phrase.to_owned()
                    } else {
                        phrase.chars().take(max).collect()
                    };
                    Action::Talk(Some(text))
                }
            }
            ActionKind::Vote => {
                let may_abstain = game.config().vote_abstain;
                if self.abstain_one_in != 0 && rng.chance(1, self.abstain_one_in) && may_abstain {
                    Action::Vote(None)
                } else {
                    Action::Vote(pick(rng))
                }
            }
            ActionKind::Attack => pick(rng).map_or(Action::NoAttack, Action::Attack),
            ActionKind::Divine => pick(rng).map_or(Action::NoDivine, Action::Divine),
            ActionKind::Protect => pick(rng).map_or(Action::NoProtect, Action::Protect),
            ActionKind::Witch => {
                let options = game.witch_options(request.seat);
                let can_save = options.is_some_and(|o| o.can_save);
                let can_poison = options.is_some_and(|o| o.can_poison);
                let save = can_save && rng.chance(1, 2);
                let poison = if can_poison && rng.chance(1, 5) {
                    pick(rng)
                } else {
                    None
                };
                Action::Witch { save, poison }
            }
            ActionKind::Shoot => {
                if rng.chance(4, 5) {
                    Action::Shoot(pick(rng))
                } else {
                    Action::Shoot(None)
                }
            }
            ActionKind::Whisper => {
                if rng.chance(1, 3) {
                    Action::Whisper(None)
                } else {
                    let phrase = PHRASES[rng.below(PHRASES.len())];
                    let max = game.config().max_talk_chars;
                    Action::Whisper(Some(phrase.chars().take(max).collect()))
                }
            }
            ActionKind::Bid => Action::Bid(rng.below(5) as u8),
        }
    }
}
