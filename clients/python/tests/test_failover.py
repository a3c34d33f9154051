"""Several hub URLs (the nodes of a hub cluster): the agent goes past a node that is down or
answers 503, waits out a ``Retry-After``, moves to the next URL when its node closes with
1012 and resumes there with ``last_seq``, and stops at once on a 4xx refusal. The "nodes"
are real local websockets servers speaking just enough of the hub's protocol."""

import asyncio
import http
import json
import socket
import time
import unittest

from werewolf_agent import CLOSE_CODES, RandomAgent, Refused
from werewolf_agent.__main__ import parser
from werewolf_agent.agent import MAX_RETRY_AFTER, _retry_after, _urls

from helpers import request_for

try:  # websockets >= 13
    from websockets.asyncio.server import serve
except ImportError:  # pragma: no cover - websockets 12 has only the legacy server
    serve = None

GAME, PLAYER, TOKEN = "g1", "g1-p1", "t"


def connection(recovered=None):
    return json.dumps({"message_type": "connection", "client_id": PLAYER, "timestamp": 1.0,
                       "data": {"client_type": "agent", "timeout_s": 300, "game_id": GAME,
                                "max_message_bytes": 65536, "recovered": recovered}})


def frame(seq, kind, **fields):
    return json.dumps({"message_type": kind, "client_id": "game_engine", "timestamp": 1.0,
                       "game_id": GAME, "seq": seq, **fields})


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Node:
    """A local websockets server standing in for one hub node. ``refuse`` answers the next
    handshakes with an HTTP status (and ``Retry-After``); ``script(ws)`` plays a
    connection. Every handshake is logged as ``(monotonic time, path, status)``."""

    def __init__(self, script=None):
        self.script = script
        self.refusals = []  # (status, retry_after or None), one per coming handshake
        self.refuse_all = None  # (status, retry_after) for every handshake
        self.log = []
        self.server = None
        self.url = None  # http://127.0.0.1:<port>, once started

    def refuse(self, status, retry_after=None, count=1):
        self.refusals.extend([(status, retry_after)] * count)

    def _process_request(self, connection, request):
        refusal = self.refusals.pop(0) if self.refusals else self.refuse_all
        if refusal is None:
            self.log.append((time.monotonic(), request.path, 101))
            return None
        status, retry_after = refusal
        self.log.append((time.monotonic(), request.path, status))
        body = json.dumps({"error": "game g1 is moving to another hub node", "status": status})
        response = connection.respond(http.HTTPStatus(status), body)
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response

    async def _handler(self, ws):
        if self.script is not None:
            await self.script(ws)

    async def __aenter__(self):
        self.server = await serve(self._handler, "127.0.0.1", 0,
                                  process_request=self._process_request)
        port = next(iter(self.server.sockets)).getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc):
        self.server.close()
        await self.server.wait_closed()


def quick_agent(urls, **kw):
    return RandomAgent(urls, GAME, PLAYER, TOKEN, initial_delay=0.01, max_delay=0.05,
                       give_up_after=10, seed=1, **kw)


async def game_over_at_once(ws):
    await ws.send(connection())
    await ws.send(frame(0, "game_over", winner="villagers", day=1, players=[]))
    await ws.wait_closed()


@unittest.skipIf(serve is None, "needs websockets >= 13 for the test servers")
class Failover(unittest.IsolatedAsyncioTestCase):
    async def test_the_first_connection_goes_past_a_closed_port_and_a_503_node(self):
        async with Node() as busy, Node(game_over_at_once) as good:
            busy.refuse_all = (503, None)
            agent = quick_agent([f"http://127.0.0.1:{closed_port()}", busy.url, good.url])
            over = await asyncio.wait_for(agent.run(), 10)
        self.assertEqual(over["winner"], "villagers")
        self.assertEqual(agent.stats["connected_to"], [good.url.replace("http", "ws")])
        self.assertEqual(agent.stats["reconnects"], 0)
        self.assertEqual([status for _, _, status in busy.log], [503])
        self.assertEqual([status for _, _, status in good.log], [101])

    async def test_a_503_with_retry_after_is_waited_out(self):
        async with Node(game_over_at_once) as node:
            node.refuse(503, retry_after=1)
            agent = quick_agent(node.url)  # the single-URL form
            started = time.monotonic()
            over = await asyncio.wait_for(agent.run(), 10)
        self.assertEqual(over["message_type"], "game_over")
        self.assertEqual([status for _, _, status in node.log], [503, 101])
        gap = node.log[1][0] - node.log[0][0]
        self.assertGreaterEqual(gap, 0.95, "asked again before its Retry-After")
        self.assertLess(gap, 3)
        self.assertGreaterEqual(time.monotonic() - started, 0.95)

    async def test_a_4xx_refusal_is_final_and_the_next_url_is_not_asked(self):
        async with Node() as forbidding, Node(game_over_at_once) as good:
            forbidding.refuse_all = (403, None)
            agent = quick_agent([forbidding.url, good.url])
            with self.assertRaises(Refused) as raised:
                await asyncio.wait_for(agent.run(), 10)
        self.assertEqual(raised.exception.status, 403)
        self.assertIn("hub refused (403 Forbidden): game g1 is moving", str(raised.exception))
        self.assertEqual(len(forbidding.log), 1)
        self.assertEqual(good.log, [])

    async def test_a_1012_moves_the_agent_to_the_next_url_and_it_resumes_with_last_seq(self):
        request = dict(request_for("vote", "3"), seq=2)
        answers = {"a": [], "b": []}
        nodes = {}

        async def node_a(ws):
            await ws.send(connection())
            await ws.send(frame(0, "game_state", phase="night", day=1, players=[]))
            await ws.send(frame(1, "death", player_id="g1-p4", cause="night"))
            await ws.send(json.dumps(request))
            answers["a"].append(json.loads(await ws.recv()))
            # node A drains: it closes with 1012 and refuses from now on; node B is still
            # taking the game over: it refuses once, asking for a second
            nodes["a"].refuse_all = (503, None)
            nodes["b"].refuse(503, retry_after=1)
            await ws.close(1012, "service restart")

        async def node_b(ws):
            await ws.send(connection(recovered=True))
            # the answer sent to node A had no action_result: the agent sends it again
            answers["b"].append(json.loads(await asyncio.wait_for(ws.recv(), 5)))
            await ws.send(frame(3, "action_result", action="vote", result="accepted",
                                request_id="3", target=answers["b"][0]["target"]))
            await ws.send(frame(4, "game_over", winner="werewolves", day=2, players=[]))
            await ws.wait_closed()

        async with Node(node_a) as a, Node(node_b) as b:
            nodes.update(a=a, b=b)
            agent = quick_agent([a.url, b.url])
            over = await asyncio.wait_for(agent.run(), 15)

        self.assertEqual(over["winner"], "werewolves")
        self.assertEqual(agent.stats["connected_to"], [a.url.replace("http", "ws"),
                                                       b.url.replace("http", "ws")])
        self.assertEqual(agent.stats["drops"], ["closed with 1012 (service restart)"])
        self.assertEqual(agent.stats["reconnects"], 1)
        self.assertEqual(agent.stats["recovered"], [True])
        self.assertEqual(agent.stats["missed"], [])
        self.assertEqual(agent.decisions, 1, "on_request asked once")
        self.assertEqual(answers["a"][0]["request_id"], "3")
        self.assertEqual(answers["b"], answers["a"], "the same answer, re-sent")
        self.assertEqual(agent.last_seq, 4)
        # the order of attempts: A accepted; after the 1012, B first (the URL after the lost
        # one) refused with Retry-After: 1, then A refused, then B again a second later
        events = sorted([(t, "a", path, s) for t, path, s in a.log]
                        + [(t, "b", path, s) for t, path, s in b.log])
        self.assertEqual([(node, s) for _, node, _, s in events],
                         [("a", 101), ("b", 503), ("a", 503), ("b", 101)])
        self.assertNotIn("last_seq", events[0][2])
        for _, _, path, _ in events[1:]:
            self.assertIn("last_seq=2", path)
        self.assertGreaterEqual(events[3][0] - events[1][0], 0.95,
                                "B was asked again before its Retry-After")


class Urls(unittest.TestCase):
    def test_one_url_a_list_and_fallbacks(self):
        self.assertEqual(_urls("http://a:1/", ()), ["ws://a:1"])
        self.assertEqual(_urls(["http://a:1", "https://b/pre/"], ["ws://c:3"]),
                         ["ws://a:1", "wss://b/pre", "ws://c:3"])
        self.assertEqual(_urls(("http://a:1",), ()), ["ws://a:1"])
        with self.assertRaises(ValueError):
            _urls([], ())
        with self.assertRaises(ValueError):
            _urls(["http://a:1", "a:2"], ())
        agent = RandomAgent(["http://a:1", "http://b:2"], GAME, PLAYER, TOKEN)
        self.assertEqual(agent.url(1), "ws://b:2/ws/g1-p1?client_type=agent&game_id=g1&token=t")

    def test_url_may_be_repeated_on_the_command_line(self):
        args = parser().parse_args(["--url", "http://a:1", "--url", "http://b:2",
                                    "--fallback-url", "http://c:3", "--game", "g",
                                    "--player", "p", "--token", "t"])
        self.assertEqual(args.url, ["http://a:1", "http://b:2"])
        agent = RandomAgent(args.url, args.game, args.player, args.token,
                            fallback_urls=args.fallback_url)
        self.assertEqual(agent.urls, ["ws://a:1", "ws://b:2", "ws://c:3"])
        one = parser().parse_args(["--url", "http://a:1", "--game", "g", "--player", "p",
                                   "--token", "t"])
        self.assertEqual(RandomAgent(one.url, "g", "p", "t").urls, ["ws://a:1"])

    def test_1012_and_503_say_come_back(self):
        self.assertEqual(CLOSE_CODES[1012], ("service restart", True))
        for code in (1001, 1006, 1011, 1013, 1014, 4001, 4002):
            self.assertTrue(CLOSE_CODES[code][1], code)
        for code in (1000, 1002, 1007, 1008, 4000, 4003, 4004):
            self.assertFalse(CLOSE_CODES[code][1], code)

    def test_retry_after_is_read_in_seconds_and_capped(self):
        class Response:
            def __init__(self, value):
                self.headers = {} if value is None else {"Retry-After": value}

        class Refusal(Exception):
            def __init__(self, value):
                super().__init__()
                self.response = Response(value)

        self.assertEqual(_retry_after(Refusal("2")), 2.0)
        self.assertEqual(_retry_after(Refusal("86400")), MAX_RETRY_AFTER)
        self.assertIsNone(_retry_after(Refusal("Wed, 21 Oct 2015 07:28:00 GMT")))
        self.assertIsNone(_retry_after(Refusal("-1")))
        self.assertIsNone(_retry_after(Refusal(None)))
        self.assertIsNone(_retry_after(ValueError("no response at all")))


if __name__ == "__main__":
    unittest.main()
