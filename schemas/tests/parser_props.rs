//! Property tests of `parse_client_frame`: any text never panics, every frame it accepts
//! survives serialize → parse unchanged, and every refusal carries the error code the README
//! documents for that kind of input (`malformed_json`, `missing_message_type`,
//! `unknown_message_type`, `not_permitted`, `invalid_message`), decided here by an independent
//! oracle from the input's JSON.

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use werewolf_schemas::inbound::{CLIENT_TYPES, SERVER_ONLY_TYPES};
use werewolf_schemas::{ClientFrame, ErrorCode, parse_client_frame};

/// Every accepted frame re-serializes to text that parses to the same frame.
fn round_trips(text: &str, frame: &ClientFrame) -> Result<(), TestCaseError> {
    let again = serde_json::to_string(frame).expect("a frame serializes");
    let reparsed = parse_client_frame(&again)
        .map_err(|e| TestCaseError::fail(format!("{text:?} → {again:?} refused: {e}")))?;
    prop_assert_eq!(&reparsed, frame, "{:?} → {:?}", text, again);
    Ok(())
}

/// What the documentation says the parser does with `text`: `Ok(tag)` for a frame that may be
/// accepted or refused as `invalid_message`, otherwise the error code and the tag the error
/// names.
///
/// `None`: JSON by the grammar, but with a number beyond `f64` (`1e999`), which serde_json
/// reads only when it must: the frame is refused, with the code its tag decides, or
/// `invalid_message` for a client tag; never accepted.
fn expected(text: &str) -> Option<Result<String, (ErrorCode, Option<String>)>> {
    if serde_json::from_str::<serde::de::IgnoredAny>(text).is_err() {
        return Some(Err((ErrorCode::MalformedJson, None)));
    }
    let value = serde_json::from_str::<Value>(text).ok()?;
    Some(expected_of(value))
}

fn expected_of(value: Value) -> Result<String, (ErrorCode, Option<String>)> {
    let Value::Object(object) = value else {
        return Err((ErrorCode::MalformedJson, None));
    };
    match object.get("message_type") {
        Some(Value::String(tag)) if CLIENT_TYPES.contains(&tag.as_str()) => Ok(tag.clone()),
        Some(Value::String(tag)) if SERVER_ONLY_TYPES.contains(&tag.as_str()) => {
            Err((ErrorCode::NotPermitted, Some(tag.clone())))
        }
        Some(Value::String(tag)) => Err((ErrorCode::UnknownMessageType, Some(tag.clone()))),
        _ => Err((ErrorCode::MissingMessageType, None)),
    }
}

/// The parser's answer to `text` agrees with [`expected`], and an accepted frame round-trips.
fn check(text: &str) -> Result<(), TestCaseError> {
    let parsed = parse_client_frame(text);
    let Some(expected) = expected(text) else {
        let e = parsed.err().ok_or_else(|| {
            TestCaseError::fail(format!("{text:?}: a number beyond f64 was accepted"))
        })?;
        prop_assert_ne!(e.code(), ErrorCode::MalformedJson, "{:?}: {}", text, e);
        return Ok(());
    };
    match (expected, parsed) {
        (Ok(tag), Ok(frame)) => {
            prop_assert_eq!(frame.message.message_type(), tag.as_str());
            round_trips(text, &frame)?;
        }
        (Ok(tag), Err(e)) => {
            prop_assert_eq!(e.code(), ErrorCode::InvalidMessage, "{:?}: {}", text, e);
            prop_assert_eq!(e.message_type(), Some(tag.as_str()));
        }
        (Err((code, tag)), Err(e)) => {
            prop_assert_eq!(e.code(), code, "{:?}: {}", text, e);
            prop_assert_eq!(e.message_type(), tag.as_deref(), "{:?}", text);
        }
        (Err((code, _)), Ok(frame)) => {
            return Err(TestCaseError::fail(format!(
                "{text:?} was accepted as {frame:?}, expected {}",
                code.as_str()
            )));
        }
    }
    Ok(())
}

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON has no NaN or infinity", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        "[a-z_]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A plausible value for a field the protocol knows, so that many frames are accepted.
fn plausible(field: &'static str) -> BoxedStrategy<Value> {
    let text = prop_oneof![any::<String>(), "[a-zA-Z0-9 ]{0,16}"];
    match field {
        "timestamp" => prop_oneof![
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            (0u64..2_000_000_000).prop_map(Value::from),
        ]
        .boxed(),
        "save" => any::<bool>().prop_map(Value::Bool).boxed(),
        "action" => prop::sample::select(vec![
            "talk", "vote", "attack", "divine", "protect", "witch", "shoot", "fly",
        ])
        .prop_map(Value::from)
        .boxed(),
        "channel" => prop::sample::select(vec!["public", "wolves", "everyone"])
            .prop_map(Value::from)
            .boxed(),
        "target" | "text" => prop_oneof![Just(Value::Null), text.prop_map(Value::String)].boxed(),
        _ => text.prop_map(Value::String).boxed(),
    }
}

/// One field of a frame: a known name with a plausible or any value, or an unknown name.
fn field() -> impl Strategy<Value = (String, Value)> {
    let known = prop::sample::select(vec![
        "client_id",
        "timestamp",
        "message_text",
        "request_id",
        "channel",
        "agent_name",
        "phase",
        "action",
        "target",
        "save",
        "text",
        "agent_id",
    ]);
    prop_oneof![
        3 => known.prop_flat_map(|name| {
            prop_oneof![3 => plausible(name), 1 => any_json()]
                .prop_map(move |v| (name.to_owned(), v))
        }),
        1 => ("[a-z_]{1,12}", any_json()),
    ]
}

/// A `message_type` value: a client tag, a server tag, an unknown string, a non-string, or
/// none at all.
fn message_type() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        6 => prop::sample::select(CLIENT_TYPES.to_vec()).prop_map(|t| Some(json!(t))),
        2 => prop::sample::select(SERVER_ONLY_TYPES.to_vec()).prop_map(|t| Some(json!(t))),
        1 => any::<String>().prop_map(|t| Some(json!(t))),
        1 => any_json().prop_map(Some),
        1 => Just(None),
    ]
}

/// A JSON object with a random `message_type` and random fields, as text.
fn frame_object() -> impl Strategy<Value = String> {
    (message_type(), prop::collection::vec(field(), 0..7)).prop_map(|(tag, fields)| {
        let mut object = Map::new();
        for (k, v) in fields {
            object.insert(k, v);
        }
        match tag {
            Some(t) => object.insert("message_type".to_owned(), t),
            None => object.remove("message_type"),
        };
        Value::Object(object).to_string()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn any_string(text in any::<String>()) {
        check(&text)?;
    }

    #[test]
    fn json_like_strings(text in r#"[{}\[\]":,0-9a-z_ .\\-]{0,48}"#) {
        check(&text)?;
    }

    #[test]
    fn frame_objects(text in frame_object()) {
        check(&text)?;
    }

    /// A valid frame cut short or with a byte flipped is refused with the right code, never
    /// accepted as something else.
    #[test]
    fn damaged_frames(text in frame_object(), cut in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let at = cut.index(text.len() + 1);
        let truncated: String = text.chars().take(at).collect();
        check(&truncated)?;
        let mut bytes = text.clone().into_bytes();
        if !bytes.is_empty() {
            let i = cut.index(bytes.len());
            bytes[i] = byte;
        }
        if let Ok(flipped) = String::from_utf8(bytes) {
            check(&flipped)?;
        }
    }
}

/// The generator produces accepted frames, not only refusals.
#[test]
fn frame_objects_are_often_accepted() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = frame_object();
    let accepted = (0..500)
        .filter(|_| {
            let text = strategy.new_tree(&mut runner).expect("a value").current();
            parse_client_frame(&text).is_ok()
        })
        .count();
    assert!(
        accepted >= 50,
        "only {accepted} of 500 generated frames were accepted"
    );
}
