//! Input from seats: `player_action` and `agent_message`, checked and fed to the engine.

use super::*;

impl GameActor {
    pub(super) fn player_action(
        &mut self,
        seat: usize,
        action: &PlayerActionIn,
    ) -> Result<(), (ErrorCode, String)> {
        let game = self.game.as_ref().ok_or((
            ErrorCode::InvalidAction,
            "the game has not started".to_owned(),
        ))?;
        let reasoning = self.checked_reasoning(action.reasoning.as_deref())?;
        let kind = action.action;
        let request = self.resolve_request(game, seat, action.request_id.as_deref(), kind)?;
        let target = match action.target() {
            None => None,
            Some(id) => Some(self.seat_of(id).ok_or_else(|| {
                (
                    ErrorCode::InvalidAction,
                    format!("`target` `{id}` is not a player of this game"),
                )
            })?),
        };
        // A talk's or whisper turn's `text` (null skips); free whispers and seed-style talk
        // come as agent_message.
        let parts = wire::ActionParts {
            target,
            save: action.save.unwrap_or(false),
            text: action.text.clone().flatten(),
            over: action.over.unwrap_or(false),
            bid: action.bid.unwrap_or(0),
        };
        let engine_action = wire::engine_action(action.action, parts);
        let at = self.reasoning_at(seat, Some((request, kind)));
        self.act(seat, request, engine_action)?;
        if let Some(text) = reasoning {
            self.record_reasoning(at, text);
        }
        Ok(())
    }

    pub(super) fn say(
        &mut self,
        seat: usize,
        message: AgentMessageIn,
    ) -> Result<(), (ErrorCode, String)> {
        if self.game.is_none() {
            return Err((
                ErrorCode::InvalidAction,
                "the game has not started".to_owned(),
            ));
        }
        let reasoning = self.checked_reasoning(message.reasoning.as_deref())?;
        if message.channel == Some(werewolf_schemas::Channel::Wolves) {
            let at = self.reasoning_at(seat, None);
            let game = self.game.as_mut().ok_or((
                ErrorCode::InvalidAction,
                "the game has not started".to_owned(),
            ))?;
            let text = message.message_text;
            let outputs = game.whisper(Seat(seat as u8), text.clone()).map_err(|e| {
                let why = wire::refusal(&e, &self.names, &self.requests, &[]);
                (ErrorCode::InvalidAction, why)
            })?;
            self.batch.push(Op::Input(Input::Whisper { seat, text }));
            self.process(outputs, false);
            if let Some(reasoning) = reasoning {
                self.record_reasoning(at, reasoning);
            }
            return Ok(());
        }
        let game = self.game.as_ref().ok_or((
            ErrorCode::InvalidAction,
            "the game has not started".to_owned(),
        ))?;
        let request = self.resolve_request(
            game,
            seat,
            message.request_id.as_deref(),
            engine::ActionKind::Talk,
        )?;
        let at = self.reasoning_at(seat, Some((request, engine::ActionKind::Talk)));
        self.act(
            seat,
            request,
            engine::Action::Talk(Some(message.message_text)),
        )?;
        if let Some(text) = reasoning {
            self.record_reasoning(at, text);
        }
        Ok(())
    }

    /// The request an action answers: the given id, or the seat's only pending request of
    /// that kind when the id is omitted.
    pub(super) fn resolve_request(
        &self,
        game: &Game,
        seat: usize,
        request_id: Option<&str>,
        kind: engine::ActionKind,
    ) -> Result<engine::RequestId, (ErrorCode, String)> {
        match request_id {
            Some(text) => match self.requests.resolve(seat, text) {
                wire::RequestRef::Mine(id) if game.pending_request(id).is_some() => Ok(id),
                wire::RequestRef::Mine(_) => Err((
                    ErrorCode::InvalidAction,
                    format!("request_id `{text}` has already been answered or expired"),
                )),
                wire::RequestRef::NotYours => Err((
                    ErrorCode::InvalidAction,
                    format!("request_id `{text}` is not one of your live requests"),
                )),
            },
            None => {
                let mine: Vec<_> = game
                    .pending_requests()
                    .iter()
                    .filter(|r| r.seat.index() == seat && r.kind == kind)
                    .collect();
                match mine.as_slice() {
                    [only] => Ok(only.id),
                    [] => Err((
                        ErrorCode::InvalidAction,
                        format!("no pending `{}` request for you", kind.name()),
                    )),
                    _ => Err((
                        ErrorCode::InvalidAction,
                        "several requests pending: give request_id".to_owned(),
                    )),
                }
            }
        }
    }

    pub(super) fn act(
        &mut self,
        seat: usize,
        request: engine::RequestId,
        action: engine::Action,
    ) -> Result<(), (ErrorCode, String)> {
        let game = self.game.as_mut().ok_or((
            ErrorCode::InvalidAction,
            "the game has not started".to_owned(),
        ))?;
        let candidates = game
            .pending_request(request)
            .map(|r| r.candidates.clone())
            .unwrap_or_default();
        let outputs = game
            .act(Seat(seat as u8), request, action.clone())
            .map_err(|e| {
                let why = wire::refusal(&e, &self.names, &self.requests, &candidates);
                (ErrorCode::InvalidAction, why)
            })?;
        self.batch.push(Op::Input(Input::Act {
            seat,
            request: request.0,
            action,
        }));
        self.process(outputs, false);
        Ok(())
    }
}
