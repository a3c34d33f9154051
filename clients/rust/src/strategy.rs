//! How an agent plays: the [`Strategy`] trait, its [`Decision`]s and [`Knowledge`], and the
//! [`RandomStrategy`] bot.

use rand::prelude::*;
use rand::rngs::StdRng;
use serde_json::{Value, json};
use werewolf_schemas::{ActionKind, ActionRequestBody, ActionResultBody, GameStateBody};

/// What a strategy answers to an `action_request`.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Send `player_action` with this target (and, for the witch, `save`).
    Act {
        /// A candidate's player id, or `None` to abstain / skip.
        target: Option<String>,
        /// Witch: use the save potion.
        save: bool,
    },
    /// Speak on a talk turn (or whisper on a `whisper` turn).
    Talk(String),
    /// Talk turn: say the text if any, then be done talking for today (AIWolf's `Over`).
    Over(Option<String>),
    /// `bid` request (`talk_order: bidding`): how much to want the next turn, 0–4.
    Bid(u8),
}

impl Decision {
    /// The frame that answers `request` with this decision: a `player_action`, or a talk
    /// `agent_message`, carrying the request's `request_id`.
    pub fn reply_to(self, request: &ActionRequestBody) -> Value {
        let turn = |text: Option<String>| {
            json!({
                "message_type": "player_action",
                "request_id": request.request_id,
                "action": request.action,
                "text": text,
            })
        };
        match self {
            Decision::Talk(text) if request.action == ActionKind::Whisper => turn(Some(text)),
            Decision::Act { .. } | Decision::Over(_) if request.action == ActionKind::Whisper => {
                turn(None)
            }
            Decision::Bid(bid) => json!({
                "message_type": "player_action",
                "request_id": request.request_id,
                "action": "bid",
                "bid": bid.min(4),
            }),
            _ if request.action == ActionKind::Bid => json!({
                "message_type": "player_action",
                "request_id": request.request_id,
                "action": "bid",
                "bid": 0,
            }),
            Decision::Over(text) => {
                let mut v = turn(text);
                v["action"] = json!("talk");
                v["over"] = json!(true);
                v
            }
            Decision::Talk(text) => json!({
                "message_type": "agent_message",
                "request_id": request.request_id,
                "message_text": text,
            }),
            Decision::Act { .. } if request.action == ActionKind::Talk => json!({
                "message_type": "player_action",
                "request_id": request.request_id,
                "action": "talk",
                "text": null,
            }),
            Decision::Act { target, save } => {
                let mut v = json!({
                    "message_type": "player_action",
                    "request_id": request.request_id,
                    "action": request.action,
                    "target": target,
                });
                if request.action == ActionKind::Witch {
                    v["save"] = json!(save);
                }
                v
            }
        }
    }
}

/// A [`Decision`] with the private reasoning behind it: sent as the answer's `reasoning`,
/// which nobody sees while the game runs; the hub stores it and shows it in the replay once
/// the game is over.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// What to answer.
    pub decision: Decision,
    /// Why, in free text (`None`: no reasoning). Cut to the request's `max_reasoning_chars`
    /// when longer.
    pub reasoning: Option<String>,
}

impl From<Decision> for Answer {
    fn from(decision: Decision) -> Self {
        Answer {
            decision,
            reasoning: None,
        }
    }
}

impl Decision {
    /// This decision with the reasoning behind it.
    pub fn with_reasoning(self, reasoning: impl Into<String>) -> Answer {
        Answer {
            decision: self,
            reasoning: Some(reasoning.into()),
        }
    }
}

impl Answer {
    /// The frame that answers `request`: [`Decision::reply_to`] plus `reasoning`, cut to
    /// the request's `max_reasoning_chars` (so the hub never refuses it for its length).
    pub fn reply_to(self, request: &ActionRequestBody) -> Value {
        let mut frame = self.decision.reply_to(request);
        if let Some(mut reasoning) = self.reasoning {
            if let Some((cut, _)) = request
                .max_reasoning_chars
                .and_then(|max| reasoning.char_indices().nth(max))
            {
                reasoning.truncate(cut);
            }
            frame["reasoning"] = json!(reasoning);
        }
        frame
    }
}

/// How an agent plays. Implement this (an LLM call goes in `decide`, or in `answer` to
/// attach private reasoning).
pub trait Strategy: Send {
    /// Answers one request, knowing the latest `game_state` and private result.
    fn decide(&mut self, request: &ActionRequestBody, knowledge: &Knowledge<'_>) -> Decision;

    /// The answer [`crate::Agent::play`] sends: by default [`Strategy::decide`] without
    /// reasoning. Override it to attach private reasoning
    /// (`decision.with_reasoning("…")`); `decide` may then simply call it and drop the
    /// reasoning.
    fn answer(&mut self, request: &ActionRequestBody, knowledge: &Knowledge<'_>) -> Answer {
        self.decide(request, knowledge).into()
    }

    /// Optionally whisper to the pack when a werewolf is asked to attack.
    fn whisper(
        &mut self,
        _request: &ActionRequestBody,
        _knowledge: &Knowledge<'_>,
    ) -> Option<String> {
        None
    }
}

/// What an agent knows when deciding.
#[derive(Debug)]
pub struct Knowledge<'a> {
    /// Latest `game_state` (with `you`).
    pub state: Option<&'a GameStateBody>,
    /// Latest private `action_result` (divination, the witch's view of the victim...).
    pub last_result: Option<&'a ActionResultBody>,
}

/// A random but legal player: picks uniformly among the candidates, talks a little, and as
/// a werewolf whispers to the pack.
#[derive(Debug)]
pub struct RandomStrategy {
    /// Seeded for reproducible choices.
    rng: StdRng,
}

impl RandomStrategy {
    /// A bot seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        RandomStrategy {
            rng: StdRng::seed_from_u64(seed),
        }
    }
}

impl Strategy for RandomStrategy {
    fn decide(&mut self, request: &ActionRequestBody, knowledge: &Knowledge<'_>) -> Decision {
        match request.action {
            ActionKind::Talk => {
                let day = knowledge.state.map_or(0, |s| s.day);
                if self.rng.random_bool(0.2) {
                    Decision::Act {
                        target: None,
                        save: false,
                    }
                } else {
                    Decision::Talk(format!("Day {day}: I am a simple villager, trust me."))
                }
            }
            ActionKind::Bid => Decision::Bid(self.rng.random_range(0..=4)),
            ActionKind::Whisper => match request.candidates.first() {
                Some(c) => Decision::Talk(format!("Let's take {} tonight.", c.name)),
                None => Decision::Talk("Stay quiet today and follow the majority.".into()),
            },
            ActionKind::Witch => Decision::Act {
                target: if self.rng.random_bool(0.2) {
                    request
                        .candidates
                        .choose(&mut self.rng)
                        .map(|c| c.player_id.clone())
                } else {
                    None
                },
                save: knowledge
                    .last_result
                    .is_some_and(|r| r.can_save == Some(true) && r.target.is_some())
                    && self.rng.random_bool(0.5),
            },
            _ => Decision::Act {
                target: request
                    .candidates
                    .choose(&mut self.rng)
                    .map(|c| c.player_id.clone()),
                save: false,
            },
        }
    }

    fn whisper(
        &mut self,
        request: &ActionRequestBody,
        _knowledge: &Knowledge<'_>,
    ) -> Option<String> {
        let target = request.candidates.choose(&mut self.rng)?;
        Some(format!("Let's take {} tonight.", target.name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(action: ActionKind, max_reasoning_chars: Option<usize>) -> ActionRequestBody {
        ActionRequestBody {
            game_id: "g".into(),
            seq: 3,
            request_id: "7".into(),
            action,
            candidates: vec![],
            max_message_chars: None,
            max_reasoning_chars,
            response_schema: Value::Null,
            deadline: 0.0,
        }
    }

    #[test]
    fn an_answer_carries_its_reasoning_cut_to_the_requests_limit() {
        let vote = request(ActionKind::Vote, Some(5));
        let act = Decision::Act {
            target: Some("p2".into()),
            save: false,
        };
        let frame = act.clone().with_reasoning("p2 lied ✓✓").reply_to(&vote);
        assert_eq!(frame["reasoning"], "p2 li");
        assert_eq!(
            (frame["target"].clone(), frame["request_id"].clone()),
            (json!("p2"), json!("7"))
        );
        let plain = Answer::from(act.clone()).reply_to(&vote);
        assert_eq!(
            plain,
            act.reply_to(&vote),
            "no reasoning: the decision's frame"
        );
        let talk = Decision::Talk("hi".into())
            .with_reasoning("long enough")
            .reply_to(&request(ActionKind::Talk, None));
        assert_eq!(
            (talk["message_text"].clone(), talk["reasoning"].clone()),
            (json!("hi"), json!("long enough"))
        );
    }
}
