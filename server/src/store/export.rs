//! `werewolf-hub export`: every finished game of a store as one JSON line
//! ([`werewolf_schemas::ExportedGame`]), for offline analysis.

use super::{GameStore, StoreError, StreamId};
use std::collections::HashMap;
use std::io::Write;
use werewolf_schemas::{ExportedGame, ExportedPlayer, Role};

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The store could not be read.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// The output could not be written.
    #[error("cannot write the export: {0}")]
    Write(#[from] std::io::Error),
}

/// Writes one line per finished game (ended at or after `since`, epoch seconds), oldest
/// first. Returns how many games were written.
pub fn export(
    store: &dyn GameStore,
    since: Option<f64>,
    out: &mut dyn Write,
) -> Result<usize, ExportError> {
    let mut written = 0;
    for row in store.games()? {
        let Some(ended) = row.ended else { continue };
        if since.is_some_and(|t| ended.ended_at < t) {
            continue;
        }
        let Some(game) = store.load(&row.game_id)? else {
            continue;
        };
        let events: Vec<serde_json::Value> = store
            .frames(&row.game_id, StreamId::Full, 0, u64::MAX)?
            .iter()
            .filter_map(|text| serde_json::from_str(text).ok())
            .collect();
        let reasoning: Vec<serde_json::Value> = store
            .frames(&row.game_id, StreamId::Reasoning, 0, u64::MAX)?
            .iter()
            .filter_map(|text| serde_json::from_str(text).ok())
            .collect();
        let roles: HashMap<String, Role> = events
            .iter()
            .rev()
            .find(|e| e["message_type"] == "game_over")
            .and_then(|e| serde_json::from_value(e["roles"].clone()).ok())
            .unwrap_or_default();
        let bot_seats = game.meta.spec["bot_seats"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let line = ExportedGame {
            game_id: row.game_id.clone(),
            created_at: row.created_at,
            ended_at: ended.ended_at,
            seed: game.meta.spec["config"]["seed"]
                .as_u64()
                .unwrap_or_default(),
            config: game.meta.spec.clone(),
            players: game
                .meta
                .seats
                .iter()
                .enumerate()
                .map(|(i, s)| ExportedPlayer {
                    player_id: s.player_id.clone(),
                    name: s.name.clone().unwrap_or_default(),
                    role: roles.get(&s.player_id).copied(),
                    bot: bot_seats.contains(&serde_json::json!(i + 1)),
                })
                .collect(),
            winner: ended.winner,
            days: ended.days,
            events,
            reasoning,
        };
        serde_json::to_writer(&mut *out, &line).map_err(std::io::Error::other)?;
        out.write_all(b"\n")?;
        written += 1;
    }
    out.flush()?;
    Ok(written)
}
