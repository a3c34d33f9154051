//! Frames the server sends to clients (the protocol's `Event` side).

use crate::client_type::ClientType;
use crate::error::ErrorCode;
use crate::game::{
    ActionKind, Channel, DeathCause, DeathInfo, Phase, PlayerInfo, Role, Winner, You,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One outbound frame: the common envelope plus the typed message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ServerFrame {
    /// The typed message, tagged by `message_type`.
    #[serde(flatten)]
    pub message: ServerMessage,
    /// Whom the frame is about: the connecting or leaving client, the agent that spoke, the
    /// client a reply answers, or `"server"`.
    pub client_id: String,
    /// Server clock when the frame was built, float seconds since the Unix epoch.
    pub timestamp: f64,
}

/// Every message the server sends, tagged by `message_type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "message_type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// Welcome, sent first on every accepted socket.
    Connection {
        /// Details of the accepted connection.
        data: ConnectionData,
    },
    /// A client left; sent to every remaining client.
    Disconnection {
        /// Details of the departed client.
        data: DisconnectionData,
    },
    /// Answer to a client's `ping`.
    Pong(PongBody),
    /// The frame this answers was refused; nothing else changed.
    Error(ErrorBody),
    /// A game began: its rules, sent once to every client of the game before the first
    /// `game_state` (and replayed by resume and `GET /games/{id}/events`).
    GameStart(GameStartBody),
    /// A snapshot of a game as the recipient may see it.
    GameState(GameStateBody),
    /// Something an agent said.
    AgentMessage(AgentMessageOut),
    /// A move made by a player, shown to those entitled to see it.
    PlayerAction(PlayerActionOut),
    /// A game entered a new phase.
    PhaseUpdate(PhaseUpdateBody),
    /// The game asks this player to act before a deadline (only to the player concerned).
    ActionRequest(ActionRequestBody),
    /// A private outcome: a divination, the witch's view of the victim, an accepted or
    /// timed-out action.
    ActionResult(ActionResultBody),
    /// The count of a day vote and what it decided.
    VoteResult(VoteResultBody),
    /// A player died.
    Death(DeathBody),
    /// A seat's agent connected or disconnected.
    Presence(PresenceBody),
    /// The game is over; every role is revealed.
    GameOver(GameOverBody),
    /// A player's private reasoning behind an accepted answer. Never sent live: stored with
    /// the game and read once it is over (`GET /games/{id}/events?view=reasoning`).
    Reasoning(ReasoningBody),
}

/// `connection.data`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConnectionData {
    /// The type this connection was accepted as.
    pub client_type: ClientType,
    /// Seconds of silence after which the server closes the socket (close 4002).
    pub timeout_s: u64,
    /// Largest text frame the server accepts, in bytes (larger → close 1009).
    pub max_message_bytes: usize,
    /// The game this connection is bound to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub game_id: Option<String>,
    /// Game-bound connections only: whether the stream was resumed from the URL's
    /// `last_seq` (every frame after it follows, then live ones) or not (a `game_state`
    /// snapshot follows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovered: Option<bool>,
}

/// `disconnection.data`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DisconnectionData {
    /// The type the departed client had.
    pub client_type: ClientType,
    /// Why it left, e.g. `"closed by client"`, `"slow consumer"`.
    pub reason: String,
}

/// `pong` fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PongBody {
    /// The `timestamp` of the `ping` this answers, if it had one (round-trip measurement).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ping_timestamp: Option<f64>,
}

/// `error` fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ErrorBody {
    /// Machine-readable reason.
    pub code: ErrorCode,
    /// Human-readable explanation, naming the offending field where there is one.
    pub message: String,
    /// The `message_type` of the refused frame, when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub related_message_type: Option<String>,
    /// The `request_id` of the refused frame, when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// `game_start` fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GameStartBody {
    /// The game.
    pub game_id: String,
    /// Position in the recipient's stream of this game.
    pub seq: u64,
    /// The preset the roles come from, if any (`aiwolf5`, `arena8`, `aiwolf13`, `classic9`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    /// Every seat in order: player id and name.
    pub players: Vec<Candidate>,
    /// Every rule of the game: role counts, talk, votes, night options, timeouts.
    pub rules: crate::rules::GameRules,
}

/// One ballot, published with the count (`vote_result`, the pack's `action_result`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Ballot {
    /// Who voted.
    pub voter: String,
    /// For whom; `null` = abstained, timed out or cast no vote.
    pub target: Option<String>,
}

/// `game_state` fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GameStateBody {
    /// The game this describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub game_id: Option<String>,
    /// Position in the game's event stream (strictly increasing per game).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// Current phase.
    pub phase: Phase,
    /// Day number (night 1 precedes day 1).
    pub day: u32,
    /// Same as `day`; kept for clients written for seed 004.
    pub current_turn: u32,
    /// Every seat, with roles only where the recipient may know them.
    pub players: Vec<PlayerInfo>,
    /// Living players.
    pub alive_count: u32,
    /// Dead players.
    pub dead_count: u32,
    /// The recipient's own seat, role, team and (werewolves) teammates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub you: Option<You>,
    /// Who won, once the game is over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub winner: Option<Winner>,
}

/// `agent_message` as relayed by the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AgentMessageOut {
    /// The speaking agent's id, set by the server from the connection (never from the client).
    pub agent_id: String,
    /// The speaking agent's display name.
    pub agent_name: String,
    /// What was said.
    pub message_text: String,
    /// Who may read it.
    pub channel: Channel,
    /// Phase label (seed 004 field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// The game it was said in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub game_id: Option<String>,
    /// Position in the game's event stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
}

/// `player_action` as shown to those entitled to see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PlayerActionOut {
    /// The game.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub game_id: Option<String>,
    /// Position in the game's event stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// Who acted.
    pub player_id: String,
    /// What they did.
    pub action: ActionKind,
    /// On whom (`null`: abstained, skipped or no target).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Witch only: whether the save potion was used on the victim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub save: Option<bool>,
    /// Talk only: `true` when the player is done talking for today (`Over`, or its
    /// `talks_per_agent` used up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub over: Option<bool>,
    /// Bid only (spectators): the bid, 0–4.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bid: Option<u8>,
}

/// `phase_update` fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PhaseUpdateBody {
    /// The game.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub game_id: Option<String>,
    /// Position in the game's event stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// The phase entered.
    pub phase: Phase,
    /// Day number.
    pub day: u32,
    /// When the phase's requests expire at the latest, epoch seconds (absent when none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<f64>,
    /// Deaths announced with this phase (dawn), with the cause the recipient may know.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deaths: Option<Vec<DeathInfo>>,
}

/// `action_request` fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ActionRequestBody {
    /// The game.
    pub game_id: String,
    /// Position in the recipient's stream of this game.
    pub seq: u64,
    /// Echo it in the `player_action` (or talk `agent_message`) that answers.
    pub request_id: String,
    /// What is asked.
    pub action: ActionKind,
    /// Who may be chosen, in seat order. Empty for `talk`; for `witch`, the poison targets.
    pub candidates: Vec<Candidate>,
    /// Talk only: the longest text accepted, in characters (the game's `max_message_chars`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_message_chars: Option<usize>,
    /// The longest `reasoning` the answer may carry, in characters (the game's
    /// `max_reasoning_chars`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_reasoning_chars: Option<usize>,
    /// The JSON Schema of exactly the `player_action` that answers this request, valid for
    /// OpenAI / Anthropic strict structured output (see [`crate::answer`]): hand it to the
    /// model and send what it produces.
    pub response_schema: serde_json::Value,
    /// When the request expires and its default applies, epoch seconds.
    pub deadline: f64,
}

/// A player an `action_request` lets the recipient choose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Candidate {
    /// The value to put in the answer's `target`.
    pub player_id: String,
    /// The player's display name.
    pub name: String,
}

/// What kind of outcome an `action_result` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResultKind {
    /// A day discussion turn.
    Talk,
    /// A day vote.
    Vote,
    /// The pack's attack.
    Attack,
    /// The seer's divination.
    Divine,
    /// The doctor's protection.
    Protect,
    /// The witch's potions, or its view of the victim.
    Witch,
    /// The hunter's shot.
    Shoot,
    /// The medium's reading of yesterday's executed player.
    Medium,
    /// A werewolf's whisper turn.
    Whisper,
    /// A bid for the floor.
    Bid,
}

/// The outcome reported by an `action_result`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResultValue {
    /// The action was accepted.
    Accepted,
    /// The request expired; the default (abstain / skip) was applied.
    TimedOut,
    /// Divination or medium: the target is a werewolf.
    Werewolf,
    /// Divination or medium: the target is human (the possessed reads human).
    Human,
    /// Attack: the pack's victim for tonight (`target`; `null` if nobody voted).
    PackChoice,
    /// Witch: tonight's victim is `target` (`null`: no attack).
    Victim,
    /// Attack (with `attack_revote`): the pack tied between `tied`; an `attack` request to
    /// vote again among them follows.
    Tie,
    /// Divination with `seer_sees_role`: the target's exact role is `role`.
    Role,
}

/// `action_result` fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ActionResultBody {
    /// The game.
    pub game_id: String,
    /// Position in the recipient's stream of this game.
    pub seq: u64,
    /// The request this concerns, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// What kind of outcome.
    pub action: ResultKind,
    /// The player concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The outcome.
    pub result: ResultValue,
    /// Witch: whether the save potion can be used tonight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub can_save: Option<bool>,
    /// Witch: whether the poison potion is still available.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_poison: Option<bool>,
    /// Divination with `seer_sees_role`: the target's exact role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// The pack's `pack_choice` or `tie`: every attack ballot of the round, in the order cast.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ballots: Vec<Ballot>,
    /// `tie`: the tied targets the pack votes on again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tied: Vec<String>,
}

/// Votes one player received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VoteTally {
    /// The player voted for.
    pub player_id: String,
    /// Votes received.
    pub votes: u32,
}

/// What a day vote decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum VoteDecision {
    /// `executed` is executed.
    Executed,
    /// Tie: revote among `tied`.
    Revote,
    /// Nobody is executed.
    NoExecution,
}

/// `vote_result` fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VoteResultBody {
    /// The game.
    pub game_id: String,
    /// Position in the recipient's stream of this game.
    pub seq: u64,
    /// The day.
    pub day: u32,
    /// Whether this was the revote.
    pub revote: bool,
    /// Votes per player (players without votes omitted).
    pub counts: Vec<VoteTally>,
    /// What the vote decided.
    pub decision: VoteDecision,
    /// The executed player, with `executed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executed: Option<String>,
    /// The tied players, with `revote` or a tied `no_execution`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tied: Vec<String>,
    /// Every ballot of the round in the order cast (abstentions as `null`), when votes are
    /// public; absent otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ballots: Vec<Ballot>,
}

/// `death` fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeathBody {
    /// The game.
    pub game_id: String,
    /// Position in the recipient's stream of this game.
    pub seq: u64,
    /// Who died.
    pub player_id: String,
    /// Why, as the recipient may know it.
    pub cause: DeathCause,
}

/// `presence` fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PresenceBody {
    /// The game.
    pub game_id: String,
    /// Position in the recipient's stream of this game.
    pub seq: u64,
    /// The seat's player id.
    pub player_id: String,
    /// Whether its agent is connected now.
    pub connected: bool,
    /// Last time the agent was seen (connected or sent a frame), epoch seconds.
    pub last_seen: f64,
}

/// `game_over` fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GameOverBody {
    /// The game.
    pub game_id: String,
    /// Position in the recipient's stream of this game.
    pub seq: u64,
    /// Who won.
    pub winner: Winner,
    /// The day the game ended on.
    pub day: u32,
    /// Every player's role (empty for a game removed before it started).
    pub roles: BTreeMap<String, Role>,
    /// Why the game ended early, when it did (`winner: aborted`): ended by the operator
    /// (`DELETE /games/{id}`), abandoned, or never started within `GAME_LOBBY_EXPIRE_S`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `reasoning` fields: what a player privately reasoned when it answered. Frames of the
/// game's `reasoning` stream, readable only once the game is over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReasoningBody {
    /// The game.
    pub game_id: String,
    /// Position in the game's reasoning stream.
    pub seq: u64,
    /// Who reasoned.
    pub player_id: String,
    /// The request the answer answered, as the player's seat numbered it (absent for a wolf
    /// whisper, which answers none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The kind of request answered (absent for a wolf whisper).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<ActionKind>,
    /// Whether it came with a wolf whisper (channel `wolves`) rather than an answer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub whisper: bool,
    /// The day of the answer.
    pub day: u32,
    /// The phase of the answer.
    pub phase: Phase,
    /// The reasoning, as accepted (cut to `max_reasoning_chars` when the game truncates).
    pub text: String,
    /// The `seq` of the full view (`GET /games/{id}/events?view=full`) this follows: the
    /// first full-view frame its answer produced (the answer's accepted `action_result`,
    /// just before the action itself; for a whisper, the whisper), or the last frame before
    /// the answer when it produced none. Show it right after that frame.
    pub after_seq: u64,
}

impl ServerMessage {
    /// The wire tag of this message.
    pub fn message_type(&self) -> &'static str {
        match self {
            ServerMessage::Connection { .. } => "connection",
            ServerMessage::Disconnection { .. } => "disconnection",
            ServerMessage::Pong(_) => "pong",
            ServerMessage::Error(_) => "error",
            ServerMessage::GameStart(_) => "game_start",
            ServerMessage::GameState(_) => "game_state",
            ServerMessage::AgentMessage(_) => "agent_message",
            ServerMessage::PlayerAction(_) => "player_action",
            ServerMessage::PhaseUpdate(_) => "phase_update",
            ServerMessage::ActionRequest(_) => "action_request",
            ServerMessage::ActionResult(_) => "action_result",
            ServerMessage::VoteResult(_) => "vote_result",
            ServerMessage::Death(_) => "death",
            ServerMessage::Presence(_) => "presence",
            ServerMessage::GameOver(_) => "game_over",
            ServerMessage::Reasoning(_) => "reasoning",
        }
    }
}

const SERIALIZATION_FAILED: &str = r#"{"message_type":"error","client_id":"server","timestamp":0,"code":"invalid_message","message":"server failed to serialize a frame"}"#;

impl ServerFrame {
    /// Serializes the frame to its JSON text. Infallible for these types (string keys only).
    pub fn to_json(&self) -> String {
        // Cannot fail for these types (string keys, no fallible Serialize impls); should that
        // ever change, the recipient still gets a valid frame instead of a torn socket.
        serde_json::to_string(self).unwrap_or_else(|_| SERIALIZATION_FAILED.to_owned())
    }
}
