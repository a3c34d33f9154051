"""Typed shapes of the hub's frames (``TypedDict``s, for type checkers and editors).

They mirror the JSON Schemas the hub commits (``schemas/json/server_frame.schema.json`` and
``schemas/json/answers/*.schema.json``); ``tests/test_types.py`` checks that every class
here has exactly the schema's properties, with the same ones required. They are shapes
only: answers are checked against the ``response_schema`` each ``action_request`` carries
(see :mod:`werewolf_agent.answers`), never against a copy kept here.

Python 3.10 has no ``NotRequired``: optional keys live in a ``total=False`` subclass of a
class holding the required ones (``__required_keys__`` / ``__optional_keys__`` say which).
"""

from __future__ import annotations

from typing import Any, Dict, List, Literal, Optional, TypedDict, Union

ActionKind = Literal[
    "talk", "vote", "attack", "divine", "protect", "witch", "shoot", "whisper", "bid"
]
ResultKind = Literal[
    "talk", "vote", "attack", "divine", "protect", "witch", "shoot", "medium", "whisper", "bid"
]
ResultValue = Literal[
    "accepted", "timed_out", "werewolf", "human", "pack_choice", "victim", "tie", "role"
]
Role = Literal["werewolf", "villager", "seer", "doctor", "witch", "hunter", "possessed", "medium"]
Team = Literal["villagers", "werewolves"]
Phase = Literal["lobby", "night", "day", "discussion", "vote", "ended"]
Channel = Literal["public", "wolves"]
ClientType = Literal["agent", "ui", "observer"]
DeathCause = Literal["night", "attack", "poison", "execution", "hunter_shot"]
VoteDecision = Literal["executed", "revote", "no_execution"]
Winner = Literal["villagers", "werewolves", "draw", "aborted"]
ErrorCode = Literal[
    "malformed_json",
    "missing_message_type",
    "unknown_message_type",
    "invalid_message",
    "not_permitted",
    "client_id_mismatch",
    "rate_limited",
    "binary_not_supported",
    "not_in_game",
    "invalid_action",
    "game_busy",
    "store_unavailable",
]

# ---- pieces ------------------------------------------------------------------------------


class Candidate(TypedDict):
    player_id: str
    name: str


class _PlayerInfo(TypedDict):
    id: str
    name: str
    alive: bool


class PlayerInfo(_PlayerInfo, total=False):
    bot: bool
    connected: Optional[bool]
    role: Optional[Role]


class You(TypedDict):
    player_id: str
    role: Role
    team: Team
    teammates: List[str]


class _DeathInfo(TypedDict):
    player_id: str


class DeathInfo(_DeathInfo, total=False):
    cause: Optional[DeathCause]


class VoteTally(TypedDict):
    player_id: str
    votes: int


class _ConnectionData(TypedDict):
    client_type: ClientType
    timeout_s: int
    max_message_bytes: int


class ConnectionData(_ConnectionData, total=False):
    game_id: Optional[str]
    recovered: Optional[bool]


class DisconnectionData(TypedDict):
    client_type: ClientType
    reason: str


# ---- server frames -----------------------------------------------------------------------


class Envelope(TypedDict):
    """What every server frame has."""

    message_type: str
    client_id: str
    timestamp: float


class ConnectionFrame(Envelope):
    data: ConnectionData


class DisconnectionFrame(Envelope):
    data: DisconnectionData


class PongFrame(Envelope, total=False):
    ping_timestamp: Optional[float]


class _ErrorFrame(Envelope):
    code: ErrorCode
    message: str


class ErrorFrame(_ErrorFrame, total=False):
    related_message_type: Optional[str]
    request_id: Optional[str]


class _GameStateFrame(Envelope):
    phase: Phase
    day: int
    current_turn: int
    players: List[PlayerInfo]
    alive_count: int
    dead_count: int


class GameStateFrame(_GameStateFrame, total=False):
    game_id: Optional[str]
    seq: Optional[int]
    winner: Optional[Winner]
    you: Optional[You]


class _AgentMessageFrame(Envelope):
    agent_id: str
    agent_name: str
    message_text: str
    channel: Channel


class AgentMessageFrame(_AgentMessageFrame, total=False):
    game_id: Optional[str]
    phase: Optional[str]
    seq: Optional[int]


class _PlayerActionFrame(Envelope):
    player_id: str
    action: ActionKind


class PlayerActionFrame(_PlayerActionFrame, total=False):
    bid: Optional[int]
    game_id: Optional[str]
    over: Optional[bool]
    save: Optional[bool]
    seq: Optional[int]
    target: Optional[str]


class _PhaseUpdateFrame(Envelope):
    phase: Phase
    day: int


class PhaseUpdateFrame(_PhaseUpdateFrame, total=False):
    deadline: Optional[float]
    deaths: Optional[List[DeathInfo]]
    game_id: Optional[str]
    seq: Optional[int]


class _GameFrame(Envelope):
    """A frame of a game's stream: numbered per recipient."""

    game_id: str
    seq: int


class _ActionRequestFrame(_GameFrame):
    request_id: str
    action: ActionKind
    candidates: List[Candidate]
    response_schema: Dict[str, Any]
    deadline: float


class ActionRequestFrame(_ActionRequestFrame, total=False):
    max_message_chars: Optional[int]
    max_reasoning_chars: Optional[int]


class _ActionResultFrame(_GameFrame):
    action: ResultKind
    result: ResultValue


class Ballot(TypedDict):
    voter: str
    target: Optional[str]


class ActionResultFrame(_ActionResultFrame, total=False):
    ballots: List[Ballot]
    can_save: Optional[bool]
    has_poison: Optional[bool]
    request_id: Optional[str]
    role: Optional[Role]
    target: Optional[str]
    tied: List[str]


class _VoteResultFrame(_GameFrame):
    day: int
    revote: bool
    counts: List[VoteTally]
    decision: VoteDecision


class VoteResultFrame(_VoteResultFrame, total=False):
    ballots: List[Ballot]
    executed: Optional[str]
    tied: List[str]


class _GameStartFrame(_GameFrame):
    players: List[Candidate]
    rules: Dict[str, Any]  # every rule switch: schemas/json/server_frame.schema.json GameRules


class GameStartFrame(_GameStartFrame, total=False):
    preset: Optional[str]


class DeathFrame(_GameFrame):
    player_id: str
    cause: DeathCause


class PresenceFrame(_GameFrame):
    player_id: str
    connected: bool
    last_seen: float


class _GameOverFrame(_GameFrame):
    winner: Winner
    day: int
    roles: Dict[str, Role]


class GameOverFrame(_GameOverFrame, total=False):
    reason: str  # why it ended early (winner "aborted")


class _ReasoningFrame(_GameFrame):
    """A player's private reasoning behind an accepted answer: never sent live, read from a
    finished game's ``GET /games/{id}/events?view=reasoning``."""

    player_id: str
    day: int
    phase: Phase
    text: str
    after_seq: int


class ReasoningFrame(_ReasoningFrame, total=False):
    request_id: Optional[str]
    action: Optional[ActionKind]
    whisper: bool


ServerFrame = Union[
    ConnectionFrame,
    DisconnectionFrame,
    PongFrame,
    ErrorFrame,
    GameStartFrame,
    GameStateFrame,
    AgentMessageFrame,
    PlayerActionFrame,
    PhaseUpdateFrame,
    ActionRequestFrame,
    ActionResultFrame,
    VoteResultFrame,
    DeathFrame,
    PresenceFrame,
    GameOverFrame,
    ReasoningFrame,
]

# message_type -> its TypedDict (the test walks this against the schema's `oneOf`).
SERVER_FRAMES: Dict[str, type] = {
    "connection": ConnectionFrame,
    "disconnection": DisconnectionFrame,
    "pong": PongFrame,
    "error": ErrorFrame,
    "game_start": GameStartFrame,
    "game_state": GameStateFrame,
    "agent_message": AgentMessageFrame,
    "player_action": PlayerActionFrame,
    "phase_update": PhaseUpdateFrame,
    "action_request": ActionRequestFrame,
    "action_result": ActionResultFrame,
    "vote_result": VoteResultFrame,
    "death": DeathFrame,
    "presence": PresenceFrame,
    "game_over": GameOverFrame,
    "reasoning": ReasoningFrame,
}

# ---- answers (what an agent sends; schemas/json/answers/*.schema.json) --------------------


class _Answer(TypedDict):
    message_type: Literal["player_action"]
    request_id: str


class TalkAnswer(_Answer):
    action: Literal["talk"]
    text: Optional[str]
    over: bool


class WhisperAnswer(_Answer):
    action: Literal["whisper"]
    text: Optional[str]


class BidAnswer(_Answer):
    action: Literal["bid"]
    bid: int


class VoteAnswer(_Answer):
    action: Literal["vote"]
    target: Optional[str]


class AttackAnswer(_Answer):
    action: Literal["attack"]
    target: Optional[str]


class DivineAnswer(_Answer):
    action: Literal["divine"]
    target: Optional[str]


class ProtectAnswer(_Answer):
    action: Literal["protect"]
    target: Optional[str]


class ShootAnswer(_Answer):
    action: Literal["shoot"]
    target: Optional[str]


class WitchAnswer(_Answer):
    action: Literal["witch"]
    target: Optional[str]
    save: bool


Answer = Union[
    TalkAnswer,
    VoteAnswer,
    AttackAnswer,
    DivineAnswer,
    ProtectAnswer,
    ShootAnswer,
    WitchAnswer,
    WhisperAnswer,
    BidAnswer,
]

# action -> its TypedDict (checked against schemas/json/answers/<action>.schema.json).
ANSWERS: Dict[str, type] = {
    "talk": TalkAnswer,
    "vote": VoteAnswer,
    "attack": AttackAnswer,
    "divine": DivineAnswer,
    "protect": ProtectAnswer,
    "shoot": ShootAnswer,
    "witch": WitchAnswer,
    "whisper": WhisperAnswer,
    "bid": BidAnswer,
}


class _WolfWhisper(TypedDict):
    message_type: Literal["agent_message"]
    message_text: str
    channel: Literal["wolves"]


class WolfWhisper(_WolfWhisper, total=False):
    """A werewolf's night whisper to the pack (``client_frame.schema.json``, agent_message)."""

    request_id: Optional[str]
    reasoning: Optional[str]  # private: shown to nobody while the game runs
