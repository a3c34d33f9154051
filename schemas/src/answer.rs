//! What an agent may answer to an `action_request`: the JSON Schema of exactly that answer,
//! fit for LLM structured output.
//!
//! Every `action_request` carries [`response_schema`] of its answer: a `player_action` frame
//! whose `request_id` and `action` are fixed, whose `target` is an enum of the request's
//! candidates (plus `null` where abstaining is allowed), and, for the witch, whose `save` is
//! `false` when the save potion cannot be used. An LLM constrained by it cannot produce an
//! answer the hub refuses (talk length aside: the strict subset has no `maxLength`, so the
//! limit is in the description and in the request's `max_message_chars`).
//!
//! The schemas keep to the subset OpenAI's and Anthropic's strict structured output accept
//! ([`STRICT_KEYWORDS`]): the root is one object, every object lists all its properties in
//! `required` and sets `additionalProperties: false`, optional values are nullable instead
//! of absent, and there is no `oneOf`, no length, size or numeric bound, no `format` and no
//! `pattern`.

use crate::game::ActionKind;
use crate::outbound::Candidate;
use serde_json::{Map, Value, json};

/// Every keyword a response schema may use (the strictest common subset of the strict modes
/// of OpenAI and Anthropic structured outputs).
pub const STRICT_KEYWORDS: &[&str] = &[
    "$schema",
    "title",
    "description",
    "type",
    "properties",
    "required",
    "additionalProperties",
    "enum",
];

/// What the schema of one answer depends on.
#[derive(Debug, Clone, Copy)]
pub struct AnswerSpec<'a> {
    /// The request's id, as the seat knows it.
    pub request_id: &'a str,
    /// What is asked.
    pub action: ActionKind,
    /// Who may be chosen (for the witch: whom the poison may target).
    pub candidates: &'a [Candidate],
    /// Whether `target: null` (abstain, skip, no shot, no poison) is allowed.
    pub may_abstain: bool,
    /// Witch only: whether the save potion can be used tonight.
    pub can_save: bool,
    /// Talk only: the longest text accepted, in characters.
    pub max_message_chars: usize,
}

/// The JSON Schema of the `player_action` answering one request (see the module docs).
#[must_use]
pub fn response_schema(spec: &AnswerSpec<'_>) -> Value {
    let mut properties = Map::new();
    properties.insert("message_type".into(), one_string("player_action"));
    properties.insert(
        "request_id".into(),
        with_description(
            one_string(spec.request_id),
            "The id of the request this answers.",
        ),
    );
    properties.insert("action".into(), one_string(spec.action.name()));
    if spec.action == ActionKind::Talk {
        properties.insert(
            "text".into(),
            json!({
                "type": ["string", "null"],
                "description": format!(
                    "What you say to the table, at most {} characters (longer text is refused); null to skip your turn.",
                    spec.max_message_chars
                ),
            }),
        );
        properties.insert("over".into(), over_schema());
    } else if spec.action == ActionKind::Whisper {
        properties.insert(
            "text".into(),
            json!({
                "type": ["string", "null"],
                "description": format!(
                    "What you whisper to the other werewolves, at most {} characters; null to pass this turn.",
                    spec.max_message_chars
                ),
            }),
        );
    } else if spec.action == ActionKind::Bid {
        properties.insert("bid".into(), bid_schema());
    } else {
        properties.insert("target".into(), target_schema(spec));
    }
    if spec.action == ActionKind::Witch {
        let mut save = json!({
            "type": "boolean",
            "description": "Use the save potion on tonight's victim.",
        });
        if !spec.can_save {
            save["enum"] = json!([false]);
            save["description"] = json!(
                "The save potion cannot be used tonight (used already, or no victim): false."
            );
        }
        properties.insert("save".into(), save);
    }
    let required: Vec<Value> = properties.keys().map(|k| json!(k)).collect();
    json!({
        "title": format!("{}_answer", spec.action.name()),
        "description": instruction(spec.action),
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

/// The schema of an answer of `kind` with any id and any target: the shape every
/// [`response_schema`] of that kind narrows (committed under `schemas/json/answers/`).
#[must_use]
pub fn answer_template(kind: ActionKind) -> Value {
    let mut schema = response_schema(&AnswerSpec {
        request_id: "",
        action: kind,
        candidates: &[],
        may_abstain: true,
        can_save: true,
        max_message_chars: 0,
    });
    let props = &mut schema["properties"];
    props["request_id"] = json!({
        "type": "string",
        "description": "The id of the request this answers.",
    });
    if kind == ActionKind::Talk {
        props["text"] = json!({
            "type": ["string", "null"],
            "description": "What you say to the table, at most the request's max_message_chars characters; null to skip your turn.",
        });
    } else if kind == ActionKind::Whisper {
        props["text"] = json!({
            "type": ["string", "null"],
            "description": "What you whisper to the pack, at most the request's max_message_chars characters; null to pass.",
        });
    } else if kind != ActionKind::Bid {
        props["target"] = json!({
            "type": ["string", "null"],
            "description": "The player_id of one of the request's candidates; null to abstain.",
        });
    }
    schema
}

/// What the answer means, for the model reading the schema.
fn instruction(kind: ActionKind) -> &'static str {
    match kind {
        ActionKind::Talk => "Your turn to speak in the day discussion.",
        ActionKind::Vote => "Day vote: whom the village should execute.",
        ActionKind::Attack => "Night, werewolves: whom the pack should kill tonight.",
        ActionKind::Divine => "Night, seer: whom to divine (you learn werewolf or human).",
        ActionKind::Protect => "Night, doctor: whom to protect from tonight's attack.",
        ActionKind::Witch => {
            "Night, witch: whether to save tonight's victim, and whom to poison (if anyone)."
        }
        ActionKind::Shoot => "You are a hunter and just died: whom to take with you.",
        ActionKind::Whisper => {
            "Night, werewolves: your turn to whisper to the pack before the attack vote."
        }
        ActionKind::Bid => "Day discussion: how much you want to speak next (0-4).",
    }
}

/// `over` of a talk answer: AIWolf's `Over`.
fn over_schema() -> Value {
    json!({
        "type": "boolean",
        "description": "true: you are done talking for today (no more turns today; `text`, if any, is still said). false: you may get more turns.",
    })
}

/// `bid` of a bid answer: Werewolf Arena's meanings.
fn bid_schema() -> Value {
    json!({
        "type": "integer",
        "enum": [0, 1, 2, 3, 4],
        "description": "0: I would rather observe; 1: I have general thoughts; 2: I have something critical to add; 3: it is urgent that I speak next; 4: someone addressed me directly and I must answer. The highest bid speaks next; ties are drawn at random.",
    })
}

fn target_schema(spec: &AnswerSpec<'_>) -> Value {
    let mut values: Vec<Value> = spec.candidates.iter().map(|c| json!(c.player_id)).collect();
    let listed: Vec<String> = spec
        .candidates
        .iter()
        .map(|c| format!("{} ({})", c.player_id, c.name))
        .collect();
    let who = if listed.is_empty() {
        "There is no candidate.".to_owned()
    } else {
        format!("Candidates: {}.", listed.join(", "))
    };
    let none = match spec.action {
        ActionKind::Vote => "abstain",
        ActionKind::Witch => "poison nobody",
        ActionKind::Shoot => "shoot nobody",
        _ => "do nothing",
    };
    let description = if spec.may_abstain {
        values.push(Value::Null);
        format!("The player_id of your choice, or null to {none}. {who}")
    } else {
        format!("The player_id of your choice. {who}")
    };
    let types = if spec.may_abstain {
        json!(["string", "null"])
    } else {
        json!("string")
    };
    json!({ "type": types, "enum": values, "description": description })
}

fn one_string(value: &str) -> Value {
    json!({ "type": "string", "enum": [value] })
}

fn with_description(mut schema: Value, description: &str) -> Value {
    schema["description"] = json!(description);
    schema
}

/// Why `schema` is outside the strict subset, or `Ok` when it is inside: the root is an
/// object schema, every object requires all its properties and forbids others, and only
/// [`STRICT_KEYWORDS`] are used.
pub fn check_strict(schema: &Value) -> Result<(), String> {
    if schema.get("type") != Some(&json!("object")) {
        return Err("the root must be `\"type\": \"object\"`".into());
    }
    check_node(schema, "$")
}

fn check_node(node: &Value, path: &str) -> Result<(), String> {
    let Some(map) = node.as_object() else {
        return Err(format!("{path}: a schema must be an object"));
    };
    for key in map.keys() {
        if !STRICT_KEYWORDS.contains(&key.as_str()) {
            return Err(format!(
                "{path}: keyword `{key}` is outside the strict subset"
            ));
        }
    }
    let types: Vec<&str> = match map.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return Err(format!("{path}: every schema needs a `type`")),
    };
    if let Some(values) = map.get("enum") {
        let values = values
            .as_array()
            .ok_or_else(|| format!("{path}: `enum` must be an array"))?;
        if values.is_empty() {
            return Err(format!("{path}: empty `enum`"));
        }
        for v in values {
            let t = match v {
                Value::Null => "null",
                Value::Bool(_) => "boolean",
                Value::String(_) => "string",
                Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
                Value::Number(_) => "number",
                _ => return Err(format!("{path}: `enum` values must be primitives")),
            };
            let fits = types.contains(&t) || (t == "integer" && types.contains(&"number"));
            if !fits {
                return Err(format!("{path}: enum value {v} is not of type {types:?}"));
            }
        }
    }
    if types.contains(&"object") {
        let props = map
            .get("properties")
            .and_then(Value::as_object)
            .ok_or_else(|| format!("{path}: an object needs `properties`"))?;
        if map.get("additionalProperties") != Some(&Value::Bool(false)) {
            return Err(format!("{path}: `additionalProperties` must be false"));
        }
        let required: Vec<&str> = map
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for key in props.keys() {
            if !required.contains(&key.as_str()) {
                return Err(format!("{path}: property `{key}` is not required"));
            }
        }
        if required.len() != props.len() {
            return Err(format!(
                "{path}: `required` names a property that does not exist"
            ));
        }
        for (key, sub) in props {
            check_node(sub, &format!("{path}.{key}"))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidates() -> Vec<Candidate> {
        vec![
            Candidate {
                player_id: "g1-p2".into(),
                name: "Bob".into(),
            },
            Candidate {
                player_id: "g1-p5".into(),
                name: "Eve".into(),
            },
        ]
    }

    #[test]
    fn every_kind_is_strict() {
        let c = candidates();
        for kind in ActionKind::ALL {
            for (abstain, save) in [(true, true), (false, false)] {
                let s = response_schema(&AnswerSpec {
                    request_id: "7",
                    action: kind,
                    candidates: &c,
                    may_abstain: abstain,
                    can_save: save,
                    max_message_chars: 300,
                });
                check_strict(&s).unwrap_or_else(|e| panic!("{kind}: {e}\n{s:#}"));
            }
            check_strict(&answer_template(kind)).unwrap_or_else(|e| panic!("{kind}: {e}"));
        }
    }

    #[test]
    fn vote_targets_are_the_candidates_and_null() {
        let c = candidates();
        let s = response_schema(&AnswerSpec {
            request_id: "3",
            action: ActionKind::Vote,
            candidates: &c,
            may_abstain: true,
            can_save: false,
            max_message_chars: 0,
        });
        assert_eq!(
            s["properties"]["target"]["enum"],
            json!(["g1-p2", "g1-p5", null])
        );
        assert_eq!(s["properties"]["request_id"]["enum"], json!(["3"]));
        let d = s["properties"]["target"]["description"].as_str().unwrap();
        assert!(d.contains("g1-p5 (Eve)"), "{d}");
    }

    #[test]
    fn the_checker_refuses_what_strict_modes_refuse() {
        let bad = [
            json!({"oneOf": [{"type": "object"}]}),
            json!({"type": "object", "properties": {"a": {"type": "string"}}, "required": [], "additionalProperties": false}),
            json!({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}),
            json!({"type": "object", "properties": {"a": {"type": "string", "maxLength": 3}}, "required": ["a"], "additionalProperties": false}),
            json!({"type": "object", "properties": {"a": {"type": "string", "enum": [null]}}, "required": ["a"], "additionalProperties": false}),
        ];
        for schema in bad {
            assert!(check_strict(&schema).is_err(), "{schema}");
        }
    }
}
