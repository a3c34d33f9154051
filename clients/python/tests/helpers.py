"""Where the hub's committed JSON Schemas are (``schemas/json/`` of the repository)."""

import json
import os
import pathlib


def schemas_dir() -> pathlib.Path:
    env = os.environ.get("WEREWOLF_SCHEMAS")
    if env:
        return pathlib.Path(env)
    for parent in pathlib.Path(__file__).resolve().parents:
        candidate = parent / "schemas" / "json"
        if (candidate / "server_frame.schema.json").is_file():
            return candidate
    raise RuntimeError("schemas/json not found: run from the werewolf-hub repository "
                       "or set WEREWOLF_SCHEMAS")


def load(name: str) -> dict:
    return json.loads((schemas_dir() / name).read_text(encoding="utf-8"))


def answer_template(action: str) -> dict:
    return load(f"answers/{action}.schema.json")


def request_for(action: str, request_id: str = "7", candidates=("g1-p2", "g1-p5"),
                may_abstain: bool = True, can_save: bool = True) -> dict:
    """An action_request as the hub sends it: the committed template narrowed to one
    request (fixed id, candidates as the target's enum), the way the hub narrows it."""
    schema = answer_template(action)
    props = schema["properties"]
    props["request_id"] = {"type": "string", "enum": [request_id]}
    if "target" in props:
        values = list(candidates) + ([None] if may_abstain else [])
        props["target"] = {"type": ["string", "null"] if may_abstain else "string",
                           "enum": values}
    if "save" in props and not can_save:
        props["save"] = {"type": "boolean", "enum": [False]}
    return {
        "message_type": "action_request", "client_id": "g1-p1", "timestamp": 1.0,
        "game_id": "g1", "seq": 3, "request_id": request_id, "action": action,
        "candidates": [{"player_id": c, "name": c.upper()} for c in candidates],
        "response_schema": schema, "deadline": 2e9,
        **({"max_message_chars": 20} if action == "talk" else {}),
    }
