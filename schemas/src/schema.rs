//! JSON Schema of both directions, as committed under `schemas/json/`.

use crate::inbound::ClientFrame;
use crate::outbound::ServerFrame;
use crate::replay::{ExportedGame, ReplayLine};

/// The files under `schemas/json/` and the generator of each, for the freshness test and
/// for regeneration (`UPDATE_SCHEMAS=1 cargo test -p werewolf-schemas`).
pub fn all() -> Vec<(&'static str, String)> {
    vec![
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
}

fn pretty(schema: schemars::Schema) -> String {
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
