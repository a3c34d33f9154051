//! Private reasoning: the free text an agent may attach to an answer (or a wolf whisper).
//!
//! It is checked against the game's `max_reasoning_chars` before the answer reaches the
//! engine (too long: refused like any invalid answer, or cut with `truncate_talk`), and kept
//! only when the engine accepts the answer: one `reasoning` frame on the game's own
//! `reasoning` stream, appended to the log in the same batch as the answer. No member reads
//! that stream, so nothing of it is ever delivered live; `GET /games/{id}/events?view=reasoning`,
//! the replay and the export read it once the game is over.

use super::*;

/// What a reasoning frame says about its answer, taken before the engine applies it.
pub(super) struct ReasoningAt {
    /// The seat that answered.
    seat: usize,
    /// The request answered, as the seat numbers it (`None`: a whisper).
    request_id: Option<String>,
    /// The kind of request answered (`None`: a whisper).
    action: Option<engine::ActionKind>,
    /// The day of the answer.
    day: u32,
    /// The phase of the answer.
    phase: werewolf_schemas::Phase,
    /// The full stream's last `seq` before the answer.
    full_before: u64,
}

impl GameActor {
    /// The reasoning an answer carries, as the game keeps it: `None` when absent, cut to
    /// `max_reasoning_chars` when the game truncates, refused (nothing changes) when longer.
    pub(super) fn checked_reasoning(
        &self,
        reasoning: Option<&str>,
    ) -> Result<Option<String>, (ErrorCode, String)> {
        let Some(text) = reasoning else {
            return Ok(None);
        };
        let max = self.spec.max_reasoning_chars;
        match text.char_indices().nth(max) {
            None => Ok(Some(text.to_owned())),
            Some((cut, _)) if self.spec.config.truncate_talk => Ok(Some(text[..cut].to_owned())),
            Some(_) => Err((
                ErrorCode::InvalidAction,
                format!(
                    "`reasoning` is longer than the game's max_reasoning_chars ({max} characters); \
                     nothing was done: shorten it and answer again"
                ),
            )),
        }
    }

    /// Where an answer of `seat` to `request` (`None`: a whisper) stands, read before the
    /// engine applies it.
    pub(super) fn reasoning_at(
        &self,
        seat: usize,
        request: Option<(engine::RequestId, engine::ActionKind)>,
    ) -> ReasoningAt {
        let (day, phase) = self
            .game
            .as_ref()
            .map_or((0, werewolf_schemas::Phase::Lobby), |g| {
                (g.day(), wire::phase(g.phase()))
            });
        ReasoningAt {
            seat,
            request_id: request.map(|(id, _)| self.requests.wire(id)),
            action: request.map(|(_, kind)| kind),
            day,
            phase,
            full_before: self.full_seq,
        }
    }

    /// Logs the reasoning of an accepted answer on the `reasoning` stream (this turn's
    /// batch, with the answer). Nobody is sent it.
    pub(super) fn record_reasoning(&mut self, at: ReasoningAt, text: String) {
        let after_seq = if self.full_seq > at.full_before {
            at.full_before + 1
        } else {
            at.full_before
        };
        let message = ServerMessage::Reasoning(werewolf_schemas::ReasoningBody {
            game_id: self.shared.id.to_string(),
            seq: 0,
            player_id: self.names.id(Seat(at.seat as u8)),
            whisper: at.request_id.is_none(),
            request_id: at.request_id,
            action: at.action,
            day: at.day,
            phase: at.phase,
            text,
            after_seq,
        });
        let client_id = self.names.id(Seat(at.seat as u8));
        let stamped = Arc::new(SeqStamped::new(message, &client_id));
        self.reasoning_seq += 1;
        self.batch.push(Op::Event(EventRecord {
            stamped,
            streams: vec![(StreamId::Reasoning, self.reasoning_seq)],
        }));
    }
}
