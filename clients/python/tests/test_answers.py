"""Answers completed, validated and drawn from a request's response_schema."""

import random
import typing
import unittest

from werewolf_agent import InvalidAnswer, complete, random_answer, take_reasoning, types, validate
from werewolf_agent.agent import Refused, socket_url, ws_base

from helpers import request_for

try:
    import jsonschema
except ImportError:  # the kit itself does not need it
    jsonschema = None

ACTIONS = typing.get_args(types.ActionKind)


class Answers(unittest.TestCase):
    def test_short_forms_are_completed(self):
        vote = request_for("vote", "3")
        self.assertEqual(complete(vote, {"target": "g1-p2"}),
                         {"message_type": "player_action", "request_id": "3",
                          "action": "vote", "target": "g1-p2"})
        self.assertEqual(complete(vote, None)["target"], None)
        self.assertEqual(complete(vote, "g1-p5")["target"], "g1-p5")
        talk = request_for("talk", "4")
        # `over` is required by the talk schema: completed as false (more turns may come)
        self.assertEqual(complete(talk, {"text": "hello"}),
                         {"message_type": "player_action", "request_id": "4",
                          "action": "talk", "text": "hello", "over": False})
        self.assertEqual(complete(talk, {"text": "bye", "over": True})["over"], True)
        bid = request_for("bid", "5")
        self.assertEqual(complete(bid, {"bid": 3}),
                         {"message_type": "player_action", "request_id": "5",
                          "action": "bid", "bid": 3})
        self.assertEqual(complete(talk, {"text": "x" * 50})["text"], "x" * 20, "max_message_chars")
        self.assertEqual(complete(talk, None)["text"], None)
        witch = request_for("witch", "9")
        self.assertEqual(complete(witch, {"save": True}),
                         {"message_type": "player_action", "request_id": "9",
                          "action": "witch", "target": None, "save": True})

    def test_reasoning_is_kept_apart_from_the_schema_and_cut_to_the_limit(self):
        vote = dict(request_for("vote", "3"), max_reasoning_chars=6)
        frame = complete(vote, {"target": "g1-p2", "reasoning": "p2 lied twice"})
        self.assertEqual(take_reasoning(vote, frame), "p2 lie")
        validate(vote["response_schema"], frame)  # what is left fits the schema
        self.assertNotIn("reasoning", frame)
        self.assertIsNone(take_reasoning(vote, complete(vote, {"target": None})))
        with self.assertRaises(InvalidAnswer):
            take_reasoning(vote, complete(vote, {"target": None, "reasoning": 7}))

    def test_invalid_answers_are_refused(self):
        vote = request_for("vote", "3")
        for bad in [{"target": "g1-p9"}, {"target": 3}, {"target": "g1-p2", "save": True},
                    {"target": "g1-p2", "request_id": "2"}, {"target": "g1-p2", "action": "attack"}]:
            with self.assertRaises(InvalidAnswer, msg=str(bad)):
                validate(vote["response_schema"], complete(vote, bad))
        no_abstain = request_for("attack", may_abstain=False)
        with self.assertRaises(InvalidAnswer):
            validate(no_abstain["response_schema"], complete(no_abstain, {"target": None}))
        missing = {"message_type": "player_action", "request_id": "3", "action": "vote"}
        with self.assertRaises(InvalidAnswer):
            validate(vote["response_schema"], missing)
        no_save = request_for("witch", can_save=False)
        with self.assertRaises(InvalidAnswer):
            validate(no_save["response_schema"], complete(no_save, {"save": True}))

    def test_random_answers_are_legal(self):
        rng = random.Random(1)
        for action in ACTIONS:
            for abstain, save in [(True, True), (False, False)]:
                request = request_for(action, may_abstain=abstain, can_save=save)
                for _ in range(50):
                    answer = random_answer(request, rng)
                    validate(request["response_schema"], answer)
                    if jsonschema is not None:
                        jsonschema.validate(answer, request["response_schema"])

    @unittest.skipIf(jsonschema is None, "jsonschema is not installed")
    def test_the_validator_agrees_with_jsonschema(self):
        rng = random.Random(2)
        for action in ACTIONS:
            request = request_for(action, may_abstain=rng.random() < 0.5)
            schema = request["response_schema"]
            for candidate in [None, "g1-p2", "g1-p9", 1, True, {"target": "g1-p5"},
                              {"text": None}, {"text": 5}, {"save": "yes"}, {"extra": 1}]:
                frame = complete(request, candidate) if isinstance(candidate, (dict, str, type(None))) \
                    else {**complete(request, None), "target": candidate}
                ours = _valid(lambda: validate(schema, frame), InvalidAnswer)
                theirs = _valid(lambda: jsonschema.validate(frame, schema),
                                jsonschema.ValidationError)
                self.assertEqual(ours, theirs, f"{action}: {frame}")


def _valid(check, error) -> bool:
    try:
        check()
        return True
    except error:
        return False


class Urls(unittest.TestCase):
    def test_one_url_form(self):
        self.assertEqual(ws_base("http://127.0.0.1:8000/"), "ws://127.0.0.1:8000")
        self.assertEqual(ws_base("https://hub.example:443"), "wss://hub.example:443")
        self.assertEqual(ws_base("ws://h:1"), "ws://h:1")
        with self.assertRaises(ValueError):
            ws_base("localhost:8000")

    def test_query_is_percent_encoded(self):
        url = socket_url("http://h:1", "g 1", "g1-p1", "a&b=c/d", 12)
        self.assertEqual(url, "ws://h:1/ws/g1-p1?client_type=agent&game_id=g+1"
                              "&token=a%26b%3Dc%2Fd&last_seq=12")

    def test_refusals_read_as_one_line(self):
        self.assertEqual(str(Refused(403, "nope")), "hub refused (403 Forbidden): nope")
        self.assertEqual(str(Refused(409, "taken")), "hub refused (409 Conflict): taken")


if __name__ == "__main__":
    unittest.main()
