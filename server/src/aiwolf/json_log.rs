//! AIWolf's `json_logger` (`service/json_logger.go`): with `AIWOLF_LOG_DIR` set, one JSON file
//! per AIWolf game, `<dir>/json/{timestamp}_{teams}.json` (`timestamp`: Unix seconds at the
//! game's start; `teams`: every agent's team, sorted, joined by `_`), holding one compact
//! object with AIWolf's keys in alphabetical order:
//!
//! - `agents`: `[{idx, name, role, team}]` (`name`: the name the agent sent; `role` as each seat
//!   learns its own, and every role from `FINISH`);
//! - `entries`: one per packet sent to an agent, in the order they complete:
//!   `{agent, request, request_timestamp, response?, response_timestamp, error?}` (`agent`: the
//!   in-game name; `request`: the packet exactly as sent, as a string; timestamps: Unix ms);
//! - `game_id`, `win_side` (`VILLAGER`, `WEREWOLF`, `NONE` until the end or with no winner).
//!
//! AIWolf rewrites the file after every entry (quadratic in the game's length); here the
//! game's adapters send their entries to one writer task per game, which rewrites the file at
//! most once a second while entries come in, and once more when the last adapter is done
//! (every seat has had its `FINISH`). The file is written off the async threads (a temporary
//! file renamed over it, so a reader never sees half a file). If the name is taken (two games
//! of the same teams started in the same second) the game id is appended. The file is for
//! contest tooling after the game and is never served to anyone.

use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::mpsc;
use tracing::warn;

/// How often at most the file is rewritten while the game runs.
const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// One agent of `agents`.
#[derive(Debug, Clone, Serialize)]
struct AgentRow {
    /// 1-based seat (AIWolf's arrival order).
    idx: usize,
    /// The name the agent sent to `NAME`.
    name: String,
    /// Its role in AIWolf's names (empty until known).
    role: &'static str,
    /// Its team (the name without trailing digits).
    team: String,
}

/// One request/response pair of `entries`.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// The in-game name of the agent asked (`Agent[NN]`).
    pub agent: String,
    /// Why the request failed (timed out, a wrong probe answer, not sent to an errored agent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The packet as sent, JSON-encoded.
    pub request: String,
    /// When it was sent, Unix ms.
    pub request_timestamp: u64,
    /// The agent's answer without newlines (absent when empty or none was expected).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
    /// When the answer came (or the request ended), Unix ms.
    pub response_timestamp: u64,
}

/// The whole file.
#[derive(Debug, Serialize)]
struct GameFile<'a> {
    /// Every agent.
    agents: &'a [AgentRow],
    /// Every request so far.
    entries: &'a [Entry],
    /// The game's id.
    game_id: &'a str,
    /// `VILLAGER`, `WEREWOLF` or `NONE`.
    win_side: &'static str,
}

/// What an adapter tells the game's writer.
#[derive(Debug)]
enum Event {
    /// A finished request.
    Entry(Entry),
    /// A seat's role (0-based seat, AIWolf's role name).
    Role(usize, &'static str),
    /// The game is over: the winning side.
    End(&'static str),
}

/// A game's JSON log, held by each of its adapters; cheap to clone. The writer finishes the
/// file once every clone is dropped.
#[derive(Debug, Clone)]
pub struct GameJsonLog {
    /// To the game's writer task.
    tx: mpsc::UnboundedSender<Event>,
}

impl GameJsonLog {
    /// Starts the writer of a game's file under `<dir>/json/`; `names` are the agents' names
    /// in seat order.
    pub fn start(dir: &Path, game_id: &str, names: &[String]) -> GameJsonLog {
        let agents: Vec<AgentRow> = names
            .iter()
            .enumerate()
            .map(|(seat, name)| AgentRow {
                idx: seat + 1,
                name: name.clone(),
                role: "",
                team: super::team_of(name).to_owned(),
            })
            .collect();
        let mut teams: Vec<&str> = agents.iter().map(|a| a.team.as_str()).collect();
        teams.sort_unstable();
        let stem = format!("{}_{}", unix_ms() / 1000, teams.join("_"));
        let (tx, rx) = mpsc::unbounded_channel();
        let writer = Writer {
            dir: dir.join("json"),
            stem,
            path: None,
            game_id: game_id.to_owned(),
            agents,
            entries: Vec::new(),
            win_side: "NONE",
        };
        tokio::spawn(writer.run(rx));
        GameJsonLog { tx }
    }

    /// Records a finished request.
    pub fn entry(&self, entry: Entry) {
        let _ = self.tx.send(Event::Entry(entry));
    }

    /// Records a seat's role.
    pub fn role(&self, seat: usize, role: &'static str) {
        let _ = self.tx.send(Event::Role(seat, role));
    }

    /// Records the winner.
    pub fn end(&self, winner: werewolf_schemas::Winner) {
        use werewolf_schemas::Winner;
        let side = match winner {
            Winner::Villagers => "VILLAGER",
            Winner::Werewolves => "WEREWOLF",
            _ => "NONE",
        };
        let _ = self.tx.send(Event::End(side));
    }
}

/// Now, Unix ms.
pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The task that owns a game's log and writes its file.
#[derive(Debug)]
struct Writer {
    /// `<AIWOLF_LOG_DIR>/json`.
    dir: PathBuf,
    /// `{timestamp}_{teams}`.
    stem: String,
    /// The file, once claimed.
    path: Option<PathBuf>,
    /// The game's id.
    game_id: String,
    /// `agents`.
    agents: Vec<AgentRow>,
    /// `entries`.
    entries: Vec<Entry>,
    /// `win_side`.
    win_side: &'static str,
}

impl Writer {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Event>) {
        let mut dirty = false;
        let mut tick = tokio::time::interval(FLUSH_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                event = rx.recv() => match event {
                    Some(event) => {
                        self.apply(event);
                        dirty = true;
                    }
                    None => break,
                },
                _ = tick.tick() => {
                    if dirty {
                        dirty = false;
                        self.flush().await;
                    }
                }
            }
        }
        self.flush().await;
    }

    fn apply(&mut self, event: Event) {
        match event {
            Event::Entry(e) => self.entries.push(e),
            Event::Role(seat, role) => {
                if let Some(a) = self.agents.get_mut(seat) {
                    a.role = role;
                }
            }
            Event::End(side) => self.win_side = side,
        }
    }

    /// Rewrites the file with everything so far (serialized here, written on a blocking
    /// thread).
    async fn flush(&mut self) {
        let text = match serde_json::to_string(&GameFile {
            agents: &self.agents,
            entries: &self.entries,
            game_id: &self.game_id,
            win_side: self.win_side,
        }) {
            Ok(t) => t,
            Err(e) => {
                warn!(error = %e, "AIWolf JSON log not serializable");
                return;
            }
        };
        let dir = self.dir.clone();
        let claimed = self.path.clone();
        let stem = self.stem.clone();
        let game_id = self.game_id.clone();
        let written = tokio::task::spawn_blocking(move || {
            let path = match claimed {
                Some(p) => p,
                None => claim(&dir, &stem, &game_id)?,
            };
            let tmp = path.with_extension("json.tmp");
            std::fs::write(&tmp, text)?;
            std::fs::rename(&tmp, &path)?;
            Ok::<_, std::io::Error>(path)
        })
        .await;
        match written {
            Ok(Ok(path)) => self.path = Some(path),
            Ok(Err(e)) => {
                warn!(error = %e, dir = %self.dir.display(), "AIWolf JSON log not written")
            }
            Err(e) => warn!(error = %e, "AIWolf JSON log writer failed"),
        }
    }
}

/// Creates `dir` and a new file `{stem}.json` in it (`{stem}_{game_id}.json` if that exists).
fn claim(dir: &Path, stem: &str, game_id: &str) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    for name in [format!("{stem}.json"), format!("{stem}_{game_id}.json")] {
        let path = dir.join(name);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(_) => return Ok(path),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        format!("{stem}.json and {stem}_{game_id}.json exist"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_file_with_aiwolfs_keys_written_when_every_adapter_is_done() {
        let dir = std::env::temp_dir().join(format!(
            "aiwolf-json-log-{}-{}",
            std::process::id(),
            unix_ms()
        ));
        let names = vec!["b1".to_owned(), "a2".to_owned()];
        let log = GameJsonLog::start(&dir, "G1", &names);
        let second = log.clone();
        log.role(0, "SEER");
        log.entry(Entry {
            agent: "Agent[01]".into(),
            error: None,
            request: r#"{"request":"INITIALIZE"}"#.into(),
            request_timestamp: 1,
            response: None,
            response_timestamp: 2,
        });
        second.role(1, "WEREWOLF");
        second.entry(Entry {
            agent: "Agent[02]".into(),
            error: Some("timed out".into()),
            request: r#"{"request":"TALK"}"#.into(),
            request_timestamp: 3,
            response: Some("hi".into()),
            response_timestamp: 4,
        });
        second.end(werewolf_schemas::Winner::Werewolves);
        drop(log);
        drop(second);
        let json = dir.join("json");
        let mut found = None;
        for _ in 0..200 {
            if let Some(f) = std::fs::read_dir(&json).ok().and_then(|mut d| d.next()) {
                let path = f.expect("entry").path();
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                if text.contains("WEREWOLF\"}") {
                    found = Some((path, text));
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let (path, text) = found.expect("the file is written");
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.ends_with("_a_b.json"), "{name}");
        assert_eq!(
            text,
            r#"{"agents":[{"idx":1,"name":"b1","role":"SEER","team":"b"},{"idx":2,"name":"a2","role":"WEREWOLF","team":"a"}],"entries":[{"agent":"Agent[01]","request":"{\"request\":\"INITIALIZE\"}","request_timestamp":1,"response_timestamp":2},{"agent":"Agent[02]","error":"timed out","request":"{\"request\":\"TALK\"}","request_timestamp":3,"response":"hi","response_timestamp":4}],"game_id":"G1","win_side":"WEREWOLF"}"#
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
