//! Arbitrary bytes → `parse_client_frame` on their UTF-8 text (the hub only parses text
//! frames, which tungstenite has already checked for UTF-8). Never panics; an accepted frame
//! re-serializes to text that parses to the same frame.

#![no_main]

use libfuzzer_sys::fuzz_target;
use werewolf_schemas::parse_client_frame;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_client_frame(text) {
        Ok(frame) => {
            let again = serde_json::to_string(&frame).expect("an accepted frame serializes");
            let reparsed = parse_client_frame(&again)
                .unwrap_or_else(|e| panic!("{text:?} → {again:?} was refused: {e}"));
            assert_eq!(reparsed, frame, "{text:?} → {again:?}");
        }
        Err(e) => {
            // The code of every refusal is one the README documents for the parser.
            use werewolf_schemas::ErrorCode::*;
            assert!(
                matches!(
                    e.code(),
                    MalformedJson
                        | MissingMessageType
                        | UnknownMessageType
                        | NotPermitted
                        | InvalidMessage
                ),
                "{text:?}: {e}"
            );
        }
    }
});
