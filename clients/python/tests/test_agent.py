"""The kit's frame handling and the LLM agent's fallbacks, without a hub."""

import asyncio
import http.server
import json
import threading
import time
import unittest

from werewolf_agent import Agent, LLMAgent, validate

from helpers import request_for


class Counting(Agent):
    def __init__(self):
        super().__init__("http://127.0.0.1:1", "g1", "g1-p1", "t")
        self.asked = []

    async def on_request(self, request):
        self.asked.append(request["request_id"])
        return {"target": request["candidates"][0]["player_id"]}


class FakeSocket:
    def __init__(self):
        self.sent = []

    async def send(self, text):
        self.sent.append(json.loads(text))


def connection(recovered=None):
    return json.dumps({"message_type": "connection", "client_id": "g1-p1", "timestamp": 1.0,
                       "data": {"client_type": "agent", "timeout_s": 300,
                                "max_message_bytes": 65536, "recovered": recovered}})


def frame(seq, kind="death", **fields):
    return json.dumps({"message_type": kind, "client_id": "g1-p1", "timestamp": 1.0,
                       "game_id": "g1", "seq": seq, **fields})


class Resume(unittest.IsolatedAsyncioTestCase):
    async def test_one_decision_per_request_across_reconnects(self):
        agent, ws = Counting(), FakeSocket()
        agent._ws = ws
        agent._connected()
        await agent._receive(connection())
        await agent._receive(frame(1, "game_state", phase="night", day=1, players=[]))
        request = dict(request_for("vote", "3"), seq=2)
        await agent._receive(json.dumps(request))
        await asyncio.sleep(0.01)
        self.assertEqual(agent.asked, ["3"])
        self.assertEqual(ws.sent[-1]["target"], "g1-p2")
        # the connection drops; the hub sends a snapshot and the pending request again
        ws2 = FakeSocket()
        agent._ws = ws2
        agent._connected()
        await agent._receive(connection(recovered=False))
        self.assertEqual(ws2.sent, [ws.sent[-1]], "the unacknowledged answer is re-sent as is")
        await agent._receive(frame(2, "game_state", phase="night", day=1, players=[]))
        await agent._receive(json.dumps(request))
        await asyncio.sleep(0.01)
        self.assertEqual(agent.asked, ["3"], "on_request is not asked again")
        self.assertEqual(agent.stats["duplicates"], 1)
        # a duplicate of an older frame is dropped; the next one is taken
        await agent._receive(frame(3, "action_result", action="vote", result="accepted",
                                   request_id="3"))
        await agent._receive(frame(3, "action_result", action="vote", result="accepted",
                                   request_id="3"))
        self.assertEqual(agent.last_seq, 3)
        self.assertEqual(agent.stats["duplicates"], 2)
        self.assertEqual(agent.stats["missed"], [])
        await agent._receive(frame(6))
        self.assertEqual(agent.stats["missed"], [[4, 5]])

    async def test_an_invalid_answer_becomes_a_random_legal_move(self):
        class Wrong(Counting):
            async def on_request(self, request):
                return {"target": "not-a-candidate"}

        agent, ws = Wrong(), FakeSocket()
        agent._ws = ws
        agent._connected()
        request = request_for("vote", "5")
        await agent._receive(json.dumps(dict(request, seq=1)))
        await asyncio.sleep(0.01)
        validate(request["response_schema"], ws.sent[-1])


class FakeModel(http.server.BaseHTTPRequestHandler):
    mode = "ok"
    bodies = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeModel.bodies.append(body)
        if FakeModel.mode == "500":
            self.send_error(500)
            return
        if FakeModel.mode == "slow":
            time.sleep(1.5)
        schema = body["response_format"]["json_schema"]["schema"]
        answer = {k: (p["enum"][0] if "enum" in p else None)
                  for k, p in schema["properties"].items()}
        if FakeModel.mode == "invalid":
            answer["target"] = "nobody-at-all"
        data = json.dumps({"choices": [{"message": {"content": json.dumps(answer)}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the agent gave up waiting (the timeout case)

    def log_message(self, *args):
        pass


class Llm(unittest.IsolatedAsyncioTestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeModel)
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()
        cls.base = f"http://127.0.0.1:{cls.server.server_address[1]}/v1"

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()

    def agent(self, base):
        return LLMAgent("http://127.0.0.1:1", "g1", "g1-p1", "t", base_url=base, model="m",
                        timeout=1.0, seed=1)

    async def decide(self, mode, base=None):
        FakeModel.mode, FakeModel.bodies = mode, []
        agent = self.agent(self.base if base is None else base)
        request = dict(request_for("vote", "3"), deadline=time.time() + 30)
        answer = await agent.on_request(request)
        validate(request["response_schema"], answer)
        return agent._notes.get("3"), answer

    async def test_the_model_is_asked_with_the_strict_schema(self):
        note, answer = await self.decide("ok")
        self.assertEqual(note, "llm m")
        self.assertEqual(answer["target"], "g1-p2")
        body = FakeModel.bodies[0]
        self.assertEqual(body["response_format"]["type"], "json_schema")
        self.assertIs(body["response_format"]["json_schema"]["strict"], True)
        self.assertEqual(body["response_format"]["json_schema"]["schema"],
                         request_for("vote", "3")["response_schema"])
        self.assertIn("G1-P5", body["messages"][1]["content"], "candidates with their names")

    async def test_fallbacks(self):
        for mode, why in [("500", "HTTP 500"), ("invalid", "invalid reply"),
                          ("slow", "timeout")]:
            note, _ = await self.decide(mode)
            self.assertIn(why, note, mode)
        note, _ = await self.decide("ok", base="")
        self.assertIn("OPENAI_BASE_URL is not set", note)


if __name__ == "__main__":
    unittest.main()
