//! Seats played by the hub's built-in bots: each request of a bot seat is answered by the
//! engine's random legal bot, `bot_delay_ms` after it is issued, through the same path (and
//! the same log) as a client's answer.

use super::*;

impl GameActor {
    /// Schedules the bot's answer when `request` is for a bot seat.
    pub(super) fn schedule_bot(&mut self, request: &engine::Request) {
        if self.spec.is_bot(request.seat.index()) {
            let due = Instant::now() + self.spec.bot_delay;
            self.bot_moves.push_back((due, request.id));
        }
    }

    /// Plays every bot answer that is due, oldest first.
    pub(super) fn bot_moves_due(&mut self) {
        let now = Instant::now();
        while let Some(&(due, id)) = self.bot_moves.front() {
            if due > now {
                break;
            }
            self.bot_moves.pop_front();
            self.bot_move(id);
        }
    }

    /// The bot answers `id`, if it is still pending. Its choice depends only on the game's
    /// seed, the request and what the seat may know, so a recovered game's bots choose as
    /// the crashed one's would have.
    fn bot_move(&mut self, id: engine::RequestId) {
        if !self.pending.contains_key(&id) {
            return;
        }
        let Some(game) = self.game.as_ref() else {
            return;
        };
        let Some(request) = game.pending_request(id).cloned() else {
            return;
        };
        let seed = self.spec.config.seed ^ id.0.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let action = engine::RandomBots::new(seed)
            .with_timeouts(0)
            .choose(game, &request);
        if let Err((_, why)) = self.act(request.seat.index(), id, action) {
            tracing::warn!(error = %why, "built-in bot's answer refused");
        }
    }

    /// Whether seat index `seat` has a player present: its agent connected, or a bot.
    pub(super) fn present(&self, seat: usize) -> bool {
        self.agents[seat].is_some() || self.spec.is_bot(seat)
    }
}
