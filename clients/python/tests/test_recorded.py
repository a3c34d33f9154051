"""Answers an agent really sent, against the response_schema the hub sent with each request.

``tests/python_kit.rs`` plays a game with ``WEREWOLF_AGENT_RECORD=<file>`` (one JSON line
per answer: the request as received, the answer as sent) and runs these tests with
``WEREWOLF_RECORDED_ANSWERS=<file>``. Without it they are skipped.
"""

import json
import os
import unittest

try:
    import jsonschema
except ImportError:
    jsonschema = None

from werewolf_agent import validate


class RecordedAnswers(unittest.TestCase):
    def setUp(self):
        path = os.environ.get("WEREWOLF_RECORDED_ANSWERS")
        if not path:
            self.skipTest("WEREWOLF_RECORDED_ANSWERS is not set (tests/python_kit.rs sets it)")
        if jsonschema is None:
            self.fail("jsonschema is needed: pip install jsonschema")
        with open(path, encoding="utf-8") as f:
            self.lines = [json.loads(line) for line in f if line.strip()]

    def test_every_answer_fits_its_request_schema(self):
        self.assertTrue(self.lines, "no answer was recorded")
        actions = set()
        for line in self.lines:
            request, answer = line["request"], line["answer"]
            schema = request["response_schema"]
            jsonschema.Draft202012Validator.check_schema(schema)
            jsonschema.validate(answer, schema)  # the reference validator
            validate(schema, answer)  # and the kit's own
            self.assertEqual(answer["request_id"], request["request_id"])
            self.assertEqual(answer["action"], request["action"])
            actions.add(request["action"])
        self.assertTrue(actions)


if __name__ == "__main__":
    unittest.main()
