"""The TypedDicts of werewolf_agent.types against the committed JSON Schemas."""

import typing
import unittest

from werewolf_agent import types

from helpers import answer_template, load


def body_of(schema: dict, entry: dict) -> dict:
    ref = entry.get("$ref")
    return schema["$defs"][ref.rsplit("/", 1)[1]] if ref else {}


def keys(td: type):
    return set(td.__required_keys__), set(td.__optional_keys__)


class TypedDictsMatchTheSchemas(unittest.TestCase):
    def assert_same(self, td: type, properties: dict, required, label: str):
        req, opt = keys(td)
        self.assertEqual(req | opt, set(properties), f"{label}: keys of {td.__name__}")
        self.assertEqual(req, set(required), f"{label}: required keys of {td.__name__}")

    def test_every_server_frame(self):
        schema = load("server_frame.schema.json")
        envelope, env_required = schema["properties"], schema["required"]
        seen = set()
        for entry in schema["oneOf"]:
            kind = entry["properties"]["message_type"]["const"]
            seen.add(kind)
            self.assertIn(kind, types.SERVER_FRAMES, f"no TypedDict for `{kind}`")
            body = body_of(schema, entry)
            props = {**envelope, **entry["properties"], **body.get("properties", {})}
            required = set(env_required) | set(entry["required"]) | set(body.get("required", []))
            self.assert_same(types.SERVER_FRAMES[kind], props, required, kind)
        self.assertEqual(seen, set(types.SERVER_FRAMES), "frames the schema does not have")

    def test_nested_objects(self):
        defs = load("server_frame.schema.json")["$defs"]
        for name in ["Candidate", "PlayerInfo", "You", "DeathInfo", "VoteTally",
                     "ConnectionData", "DisconnectionData"]:
            d = defs[name]
            self.assert_same(getattr(types, name), d["properties"], d.get("required", []), name)

    def test_enums(self):
        defs = load("server_frame.schema.json")["$defs"]
        for name in ["ActionKind", "ResultKind", "ResultValue", "Role", "Team", "Phase",
                     "Channel", "ClientType", "DeathCause", "VoteDecision", "Winner",
                     "ErrorCode"]:
            values = {o["const"] for o in defs[name]["oneOf"]}
            self.assertEqual(set(typing.get_args(getattr(types, name))), values, name)

    def test_every_answer(self):
        for action in typing.get_args(types.ActionKind):
            schema = answer_template(action)
            self.assert_same(types.ANSWERS[action], schema["properties"], schema["required"],
                             f"answers/{action}")

    def test_the_wolf_whisper(self):
        schema = load("client_frame.schema.json")
        entry = next(e for e in schema["oneOf"]
                     if e["properties"]["message_type"]["const"] == "agent_message")
        body = body_of(schema, entry)
        props = set(body["properties"]) | {"message_type"}
        req, opt = keys(types.WolfWhisper)
        # the whisper is the agent_message a werewolf sends: a subset of its fields
        self.assertTrue((req | opt) <= props, sorted((req | opt) - props))
        self.assertTrue(set(body["required"]) <= req)


if __name__ == "__main__":
    unittest.main()
