//! JSON Schema of both directions, the game records and each kind of answer, as committed
//! under `schemas/json/`.

use crate::answer;
use crate::game::ActionKind;
use crate::inbound::ClientFrame;
use crate::outbound::ServerFrame;
use crate::replay::{ExportedGame, ReplayLine};

/// The files under `schemas/json/` and the generator of each, for the freshness test and
/// for regeneration (`UPDATE_SCHEMAS=1 cargo test -p werewolf-schemas`).
pub fn all() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = vec![
        (
            "client_frame.schema.json",
            pretty(schemars::schema_for!(ClientFrame)),
        ),
        (
            "server_frame.schema.json",
            pretty(schemars::schema_for!(ServerFrame)),
        ),
        (
            "replay_line.schema.json",
            pretty(schemars::schema_for!(ReplayLine)),
        ),
        (
            "export_line.schema.json",
            pretty(schemars::schema_for!(ExportedGame)),
        ),
    ]
    .into_iter()
    .map(|(name, text)| (name.to_owned(), text))
    .collect();
    // The shape of each kind's answer; every `action_request` carries its narrowed form.
    for kind in ActionKind::ALL {
        files.push((
            format!("answers/{}.schema.json", kind.name()),
            pretty_value(&answer::answer_template(kind)),
        ));
    }
    files
}

fn pretty_value(value: &serde_json::Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

fn pretty(schema: schemars::Schema) -> String {
    pretty_value(&schema.to_value())
}
