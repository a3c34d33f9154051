//! A game and a script of inputs against it, generated with `arbitrary` from raw bytes: shared
//! by the stable property test (`tests/action_scripts.rs`, random bytes from proptest) and the
//! cargo-fuzz target `engine_actions` (`fuzz/`, bytes from libFuzzer), which includes this file
//! by path.
//!
//! [`run`] plays the script and checks, after every input, that a refused input left the game
//! exactly as before (`Game: Clone + PartialEq`, every field compared) and that nothing
//! panicked. Most steps are bot moves answering a pending request legally, so scripts reach
//! late nights, hunters' shots and game over; the rest are arbitrary, mostly illegal inputs.

use arbitrary::{Arbitrary, Unstructured};
use werewolf_engine::{
    Action, ActionError, Game, GameConfig, Outputs, Preset, RandomBots, RequestId, Seat, TiePolicy,
};

/// The game's setup: a preset and a seed, plus the rule switches.
#[derive(Debug, Clone, Arbitrary)]
pub struct Setup {
    /// Index into [`Preset::ALL`] (taken modulo).
    pub preset: u8,
    /// The game's seed.
    pub seed: u64,
    /// The bots' seed.
    pub bot_seed: u64,
    /// `Some(n)`: create the game for `n` players instead of the preset's count (mostly
    /// refused by `Game::new`, which must not panic either).
    pub players: Option<u8>,
    /// Talk rounds per day (taken modulo 4).
    pub talk_rounds: u8,
    /// Longest talk/whisper (taken modulo 600, at least 1).
    pub max_talk_chars: u16,
    /// Public ballots.
    pub public_votes: bool,
    /// Doctor may protect the same seat twice.
    pub doctor_same_target_twice: bool,
    /// Tie policy (taken modulo 4).
    pub tie_policy: u8,
    /// Last day before a draw (taken modulo 20, at least 1).
    pub max_days: u8,
}

/// Which request an input names.
#[derive(Debug, Clone, Arbitrary)]
pub enum RequestRef {
    /// The pending request at this index (modulo the count; request 0 if none is pending).
    Pending(u8),
    /// A raw id: unknown, answered or pending, whatever it happens to be.
    Raw(u16),
}

/// A text (talk or whisper), made from two bytes rather than an arbitrary `String`: a random
/// `String` swallows most of the remaining input, which left scripts a step or two long.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub struct AnyText(pub u8, pub u8);

impl AnyText {
    /// Empty, blank, short, multi-byte or long (up to 1020 chars, over any `max_talk_chars`
    /// the setup allows).
    pub fn text(self) -> String {
        let n = usize::from(self.1);
        match self.0 % 6 {
            0 => String::new(),
            1 => " \t\n ".repeat(n % 4 + 1),
            2 => "Bob is the wolf".to_owned(),
            3 => "é🐺".repeat(n),
            4 => "x".repeat(n * 4),
            _ => format!("\u{0}{n}\u{202e}"),
        }
    }
}

/// An action as a client could send it: any kind, any seat number, any text.
#[derive(Debug, Clone, Arbitrary)]
pub enum AnyAction {
    /// `talk`.
    Talk(Option<AnyText>),
    /// `vote`.
    Vote(Option<u8>),
    /// `attack`.
    Attack(u8),
    /// No attack.
    NoAttack,
    /// `divine`.
    Divine(u8),
    /// No divination.
    NoDivine,
    /// `protect`.
    Protect(u8),
    /// No protection.
    NoProtect,
    /// `witch`.
    Witch(bool, Option<u8>),
    /// `shoot`.
    Shoot(Option<u8>),
}

impl AnyAction {
    fn into_action(self) -> Action {
        match self {
            AnyAction::Talk(t) => Action::Talk(t.map(AnyText::text)),
            AnyAction::Vote(t) => Action::Vote(t.map(Seat)),
            AnyAction::Attack(t) => Action::Attack(Seat(t)),
            AnyAction::NoAttack => Action::NoAttack,
            AnyAction::Divine(t) => Action::Divine(Seat(t)),
            AnyAction::NoDivine => Action::NoDivine,
            AnyAction::Protect(t) => Action::Protect(Seat(t)),
            AnyAction::NoProtect => Action::NoProtect,
            AnyAction::Witch(save, poison) => Action::Witch {
                save,
                poison: poison.map(Seat),
            },
            AnyAction::Shoot(t) => Action::Shoot(t.map(Seat)),
        }
    }
}

/// One input of the script.
#[derive(Debug, Clone, Arbitrary)]
pub enum Step {
    /// The first pending request's seat answers it with a legal bot move (drives the game on).
    Bot,
    /// The `n`-th pending request (modulo) gets a legal bot move.
    BotAt(u8),
    /// The `n`-th pending request (modulo) gets a legal bot move, but from `seat`.
    BotFrom(u8, u8),
    /// `act` with anything.
    Act(u8, RequestRef, AnyAction),
    /// `whisper`.
    Whisper(u8, AnyText),
    /// `expire`.
    Expire(RequestRef),
    /// `abort`, only when the byte is 0 (else a bot move): an abort ends the game, so an
    /// unweighted one would end most scripts after a few steps.
    Abort(u8),
}

/// A setup and its script.
#[derive(Debug, Clone)]
pub struct Script {
    /// The game.
    pub setup: Setup,
    /// The inputs, in order.
    pub steps: Vec<Step>,
}

impl Script {
    /// A script from raw bytes (what libFuzzer or proptest produce).
    ///
    /// Steps are read until the bytes run out, not with `Vec`'s own `Arbitrary` (a coin flip
    /// before each element, so random bytes made scripts of one or two steps).
    pub fn from_bytes(bytes: &[u8]) -> arbitrary::Result<Script> {
        let mut u = Unstructured::new(bytes);
        let setup = Setup::arbitrary(&mut u)?;
        let mut steps = Vec::new();
        while !u.is_empty() {
            steps.push(Step::arbitrary(&mut u)?);
        }
        Ok(Script { setup, steps })
    }
}

impl Setup {
    /// The config and the player count `Game::new` gets.
    pub fn config(&self) -> (GameConfig, usize) {
        let preset = Preset::ALL[usize::from(self.preset) % Preset::ALL.len()];
        let mut config = GameConfig::preset(preset.name())
            .expect("a preset")
            .with_seed(self.seed);
        config.talk_rounds = self.talk_rounds % 4;
        config.max_talk_chars = usize::from(self.max_talk_chars % 600).max(1);
        config.public_votes = self.public_votes;
        config.doctor_same_target_twice = self.doctor_same_target_twice;
        config.tie_policy = [
            TiePolicy::RevoteThenNoExecution,
            TiePolicy::RevoteThenRandom,
            TiePolicy::NoExecution,
            TiePolicy::Random,
        ][usize::from(self.tie_policy % 4)];
        config.max_days = u32::from(self.max_days % 20).max(1);
        let players = self.players.map_or(preset.player_count(), usize::from);
        (config, players)
    }
}

/// What a script did, for the caller's statistics.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// `Game::new` refused the setup.
    pub setup_refused: bool,
    /// Inputs the game accepted.
    pub accepted: usize,
    /// Inputs the game refused (and that changed nothing).
    pub refused: usize,
    /// The game ended.
    pub over: bool,
}

fn pending_id(game: &Game, r: &RequestRef) -> RequestId {
    match r {
        RequestRef::Pending(i) => {
            let pending = game.pending_requests();
            if pending.is_empty() {
                RequestId(0)
            } else {
                pending[usize::from(*i) % pending.len()].id
            }
        }
        RequestRef::Raw(id) => RequestId(u64::from(*id)),
    }
}

fn bot_move(
    game: &mut Game,
    bots: &mut RandomBots,
    index: usize,
    seat: Option<Seat>,
) -> Result<Outputs, ActionError> {
    let pending = game.pending_requests();
    if pending.is_empty() {
        // Nothing to answer: an input that must be refused all the same.
        return game.act(seat.unwrap_or(Seat(0)), RequestId(0), Action::NoAttack);
    }
    let request = pending[index % pending.len()].clone();
    let action = bots.choose(game, &request);
    game.act(seat.unwrap_or(request.seat), request.id, action)
}

/// Plays `script`; panics (with the step) when a refused input changed the game.
pub fn run(script: &Script) -> Tally {
    let mut tally = Tally::default();
    let (config, players) = script.setup.config();
    let Ok((mut game, _)) = Game::new(config, players) else {
        tally.setup_refused = true;
        return tally;
    };
    let mut bots = RandomBots::new(script.setup.bot_seed).with_timeouts(0);
    for (n, step) in script.steps.iter().enumerate() {
        let before = game.clone();
        let result = match step {
            Step::Bot => bot_move(&mut game, &mut bots, 0, None),
            Step::BotAt(i) => bot_move(&mut game, &mut bots, usize::from(*i), None),
            Step::BotFrom(i, seat) => {
                bot_move(&mut game, &mut bots, usize::from(*i), Some(Seat(*seat)))
            }
            Step::Act(seat, request, action) => {
                let id = pending_id(&game, request);
                game.act(Seat(*seat), id, action.clone().into_action())
            }
            Step::Whisper(seat, text) => game.whisper(Seat(*seat), text.text()),
            Step::Expire(request) => {
                let id = pending_id(&game, request);
                game.expire(id)
            }
            Step::Abort(0) => game.abort(),
            Step::Abort(_) => bot_move(&mut game, &mut bots, 0, None),
        };
        match result {
            Ok(_) => tally.accepted += 1,
            Err(error) => {
                tally.refused += 1;
                assert!(
                    game == before,
                    "step {n} {step:?} was refused ({error}) but changed the game:\nbefore: \
                     {before:?}\nafter: {game:?}"
                );
            }
        }
    }
    tally.over = game.is_over();
    tally
}
