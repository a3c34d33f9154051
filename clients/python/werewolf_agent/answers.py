"""Answers to ``action_request``s, made and checked from the request's own ``response_schema``.

Every request carries the JSON Schema of exactly the ``player_action`` that answers it (the
hub's strict-mode subset: ``type``, ``properties``, ``required``,
``additionalProperties: false``, ``enum``). Nothing here knows a schema by heart: the fixed
fields (``message_type``, ``request_id``, ``action``) are the one-value enums of the
request's schema, and the legal choices are its enums.
"""

from __future__ import annotations

import random
from typing import Any, Dict, List, Optional

_JSON_TYPES = {
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}


class InvalidAnswer(ValueError):
    """An answer that its request's ``response_schema`` does not accept."""


def validate(schema: Dict[str, Any], value: Any, path: str = "$") -> None:
    """Raises :class:`InvalidAnswer` unless ``value`` fits ``schema`` (the strict subset:
    ``type``, ``enum``, ``properties``, ``required``, ``additionalProperties``)."""
    types = schema.get("type")
    if types is not None:
        names = [types] if isinstance(types, str) else list(types)
        if not any(_JSON_TYPES.get(t, lambda v: False)(value) for t in names):
            raise InvalidAnswer(f"{path}: {value!r} is not of type {' or '.join(names)}")
    if "enum" in schema and not any(
        value == e and type(value) is type(e) or (value is None and e is None)
        for e in schema["enum"]
    ):
        raise InvalidAnswer(f"{path}: {value!r} is not one of {schema['enum']!r}")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                raise InvalidAnswer(f"{path}: `{key}` is missing")
        if schema.get("additionalProperties") is False:
            extra = sorted(set(value) - set(props))
            if extra:
                raise InvalidAnswer(f"{path}: unexpected {', '.join(extra)}")
        for key, sub in props.items():
            if key in value:
                validate(sub, value[key], f"{path}.{key}")


def fixed_value(schema: Dict[str, Any], key: str) -> Any:
    """The only value property ``key`` may take (a one-value enum), else ``None``."""
    prop = schema.get("properties", {}).get(key, {})
    values = prop.get("enum")
    if isinstance(values, list) and len(values) == 1:
        return values[0]
    return None


def choices(schema: Dict[str, Any], key: str) -> Optional[List[Any]]:
    """The values property ``key`` may take (its enum, or both booleans), else ``None``."""
    prop = schema.get("properties", {}).get(key)
    if prop is None:
        return None
    if "enum" in prop:
        return list(prop["enum"])
    types = prop.get("type")
    names = [types] if isinstance(types, str) else list(types or [])
    if names == ["boolean"]:
        return [True, False]
    return None


def complete(request: Dict[str, Any], answer: Any) -> Dict[str, Any]:
    """The full ``player_action`` frame from an answer or a short form of it.

    ``answer`` may be the whole frame, or only what was chosen: ``{"target": ...}``,
    ``{"text": ...}``, ``{"target": ..., "save": ...}``; a bare string is taken as the
    target (or, for a talk, the text) and ``None`` as abstaining / skipping. The fixed
    fields come from the request (its schema's one-value enums); a missing ``text`` or
    ``target`` is ``null`` when the schema allows it, a missing ``save`` is ``false``.
    The result is not validated: see :func:`validate`.
    """
    schema = request.get("response_schema") or {}
    props = schema.get("properties", {})
    if answer is None or isinstance(answer, str):
        key = "text" if "text" in props else "target"
        answer = {key: answer}
    if not isinstance(answer, dict):
        raise InvalidAnswer(f"an answer is a dict, got {type(answer).__name__}")
    frame = dict(answer)
    # `say` is the key the first examples used for talk
    if "say" in frame and "text" in props and "text" not in frame:
        frame["text"] = frame.pop("say")
    defaults = {
        "message_type": fixed_value(schema, "message_type") or "player_action",
        "request_id": fixed_value(schema, "request_id") or request.get("request_id"),
        "action": fixed_value(schema, "action") or request.get("action"),
    }
    for key, value in defaults.items():
        frame.setdefault(key, value)
    for key in ("text", "target"):
        if key in props and key not in frame and _allows_null(props[key]):
            frame[key] = None
    if "save" in props and "save" not in frame:
        frame["save"] = False
    if "over" in props and "over" not in frame:
        frame["over"] = False
    if "bid" in props and "bid" not in frame:
        frame["bid"] = 0
    text = frame.get("text")
    limit = request.get("max_message_chars")
    if isinstance(text, str) and isinstance(limit, int) and len(text) > limit:
        frame["text"] = text[:limit]
    return frame


def take_reasoning(request: Dict[str, Any], frame: Dict[str, Any]) -> Optional[str]:
    """Removes an answer's ``reasoning`` (private free text, which the request's schema does
    not list) from ``frame`` and returns it cut to the request's ``max_reasoning_chars``;
    ``None`` when absent. Raises :class:`InvalidAnswer` when it is not a string."""
    reasoning = frame.pop("reasoning", None)
    if reasoning is None:
        return None
    if not isinstance(reasoning, str):
        raise InvalidAnswer(f"$.reasoning: {reasoning!r} is not a string")
    limit = request.get("max_reasoning_chars")
    if isinstance(limit, int) and len(reasoning) > limit:
        reasoning = reasoning[:limit]
    return reasoning


def _allows_null(prop: Dict[str, Any]) -> bool:
    types = prop.get("type")
    names = [types] if isinstance(types, str) else list(types or [])
    if "enum" in prop:
        return None in prop["enum"]
    return "null" in names


TALK_LINES = [
    "Good morning. I am a plain villager; let's compare what we saw.",
    "Whoever stays quiet today worries me most.",
    "I have no proof yet. I will follow the votes closely.",
    "Let us not rush: who changed their story since yesterday?",
]


def random_answer(request: Dict[str, Any], rng: Optional[random.Random] = None) -> Dict[str, Any]:
    """A random legal answer: a choice among the schema's enums (the candidates), a short
    line (or a skip) for a talk. It always validates against the request's schema."""
    rng = rng or random.Random()
    schema = request.get("response_schema") or {}
    props = schema.get("properties", {})
    answer: Dict[str, Any] = {}
    if "text" in props:
        answer["text"] = rng.choice(TALK_LINES) if rng.random() < 0.8 else None
    if "target" in props:
        options = choices(schema, "target")
        if options is None:  # no enum: the request's candidates (and null if allowed)
            options = [c["player_id"] for c in request.get("candidates", [])]
            if _allows_null(props["target"]) or not options:
                options.append(None)
        named = [o for o in options if o is not None]
        # abstain now and then, but mostly choose someone
        answer["target"] = rng.choice(named) if named and (rng.random() < 0.95 or None not in options) else None
        if request.get("action") == "witch" and None in options:
            answer["target"] = None  # keep the poison: poisoning at random helps nobody
    if "save" in props:
        answer["save"] = rng.choice(choices(schema, "save") or [False])
    if "bid" in props:
        answer["bid"] = rng.choice(choices(schema, "bid") or [0])
    return complete(request, answer)
