#!/usr/bin/env python3
"""A complete werewolf-hub agent in Python (pip install websockets).

    python examples/python_agent.py --url ws://127.0.0.1:8000 --game G --player P --token T

It keeps what it learns (its role, teammates, private results), answers every
`action_request` before its deadline, and talks on its turns. The one place to plug an
LLM is `decide()` below: give it the prompt, ask for JSON matching PLAYER_ACTION_SCHEMA
(structured output), and return the parsed object.

It stays in the game when the connection drops: it reconnects by itself with exponential
backoff and jitter (100 ms doubling to 5 s, giving up after --give-up-after seconds), trying
every --url in turn, and adds `last_seq=<last seq received>` to the URL so the hub sends
what it missed. It follows the hub's close-code table (README): 1001, 1009, 4001, 4002 and a
lost connection → reconnect; 1002, 1007, 1008, 4000, 4003, 4004 → stop with one line saying
why. A refused connection (HTTP 401, 403, 404, 409...) stops it with the hub's JSON reason.
Frames are handled once: duplicates after a reconnect are dropped, answers the hub may not
have received are sent again. At the end, stdout gets one JSON line (the result) and stderr a
`resume: {...}` line (reconnects, `recovered` flags, missed seq ranges).
"""
import argparse
import asyncio
import json
import random
import sys
import time

import websockets
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

# JSON Schema of the `player_action` an agent sends (generated from the hub's schemas crate:
# schemas/json/client_frame.schema.json). Pass it to your LLM as the structured-output format.
PLAYER_ACTION_SCHEMA = {
    "type": "object",
    "properties": {
        "message_type": {"const": "player_action"},
        "request_id": {"type": "string", "description": "the request_id of the action_request"},
        "action": {
            "type": "string",
            "enum": ["talk", "vote", "attack", "divine", "protect", "witch", "shoot"],
            "description": "must equal the request's action",
        },
        "target": {
            "type": ["string", "null"],
            "description": "one of the request's candidates; null abstains / skips",
        },
        "save": {"type": "boolean", "description": "witch only: use the save potion on tonight's victim"},
    },
    "required": ["message_type", "request_id", "action"],
    "additionalProperties": False,
}


class Memory:
    """What this agent knows: its own view of the game, nothing more."""

    def __init__(self, player_id):
        self.player_id = player_id
        self.role = None
        self.teammates = []
        self.players = {}  # id -> {"name", "alive"}
        self.results = []  # private action_result frames (divinations, witch's view...)
        self.log = []  # public talk, votes and deaths, in order

    def update(self, frame):
        kind = frame["message_type"]
        if kind == "game_state":
            for p in frame["players"]:
                self.players[p["id"]] = {"name": p["name"], "alive": p["alive"]}
            you = frame.get("you")
            if you:
                self.role, self.teammates = you["role"], you["teammates"]
        elif kind == "action_result" and frame["result"] not in ("accepted", "timed_out"):
            self.results.append(frame)
        elif kind in ("agent_message", "player_action", "death", "vote_result"):
            self.log.append(frame)


def prompt_for(memory, request):
    """The text an LLM would get for one request."""
    alive = [f'{pid} ({p["name"]})' for pid, p in memory.players.items() if p["alive"]]
    return "\n".join([
        f"You are {memory.player_id}, a {memory.role} in a game of Werewolf.",
        f"Your fellow werewolves: {memory.teammates}" if memory.teammates else "",
        f"Alive: {', '.join(alive)}",
        f"Private results so far: {json.dumps(memory.results)}",
        f"Recent events: {json.dumps(memory.log[-20:])}",
        f"Now: {request['action']}, choose among {request['candidates']}.",
    ])


def decide(memory, request):
    """>>> THE LLM CALL GOES HERE. <<<

    Replace the body with a call to your model, e.g. with prompt_for(memory, request) as the
    prompt and PLAYER_ACTION_SCHEMA as the response format, and return its JSON object.
    For a talk request, return {"say": "..."} to speak or {"say": None} to skip.
    This stand-in picks randomly among the legal choices.
    """
    if request["action"] == "talk":
        return {"say": f"I am {memory.player_id}; let's find the wolves." if random.random() < 0.8 else None}
    target = random.choice(request["candidates"]) if request["candidates"] else None
    answer = {"message_type": "player_action", "request_id": request["request_id"],
              "action": request["action"], "target": target}
    if request["action"] == "witch":
        answer["target"] = None  # keep the poison
        answer["save"] = any(r.get("can_save") and r.get("target") for r in memory.results[-1:])
    return answer


# The hub's close codes (README): what each means and whether to come back.
CLOSE_CODES = {
    1000: ("normal close", False),
    1001: ("server shutting down", True),
    1002: ("protocol error: fix the client", False),
    1005: ("closed without a status code", True),
    1006: ("connection lost without a close frame", True),
    1007: ("a text message that is not valid UTF-8: fix the client", False),
    1008: ("policy violation: kept exceeding the rate limit", False),
    1009: ("a message exceeded the hub's size limit", True),
    1011: ("server error", True),
    1012: ("service restart", True),
    1013: ("try again later", True),
    4000: ("replaced: a newer connection took this client_id", False),
    4001: ("slow consumer: the send queue filled", True),
    4002: ("heartbeat timeout", True),
    4003: ("the game ended and was removed", False),
    4004: ("client_id taken by a connection with another credential", False),
}
# HTTP statuses of a refused connection worth another try (the others are final).
RETRY_STATUSES = {408, 425, 429, 500, 502, 503, 504}


class Stop(Exception):
    """The agent must stop: a close code or a refusal that says do not come back."""


class Resume:
    """What this connection received and answered, across reconnects."""

    def __init__(self):
        self.last_seq = None  # highest seq received on this seat's stream
        self.epoch = 0  # connections opened
        self.fresh = True  # no stream frame yet on this connection (next game_state: snapshot)
        self.recovered = None  # this connection's connection.data.recovered
        self.max_bytes = None  # the hub's frame size limit
        self.seen = {}  # request_id -> connection it was handled on
        self.answers = {}  # request_id -> [connection, text]: sent, no action_result yet
        self.closed = set()  # request ids the hub closed (answered or timed out)
        self.resent = set()  # answers re-sent on this connection
        self.last_answer = None
        self.stats = {"reconnects": 0, "recovered": [], "missed": [], "duplicates": 0,
                      "answers_resent": 0}

    def url(self, base, path):
        return base + path + ("" if self.last_seq is None else f"&last_seq={self.last_seq}")

    def connected(self):
        self.epoch += 1
        if self.epoch > 1:
            self.stats["reconnects"] += 1
        self.fresh, self.recovered = True, None
        self.resent.clear()

    def record_answer(self, answer, text):
        rid = answer.get("request_id")
        if rid is not None and rid not in self.closed:
            self.answers[rid] = [self.epoch, text]
            self.last_answer = rid

    def _advance(self, seq):
        if self.last_seq is None:
            self.last_seq = seq
        elif seq > self.last_seq:
            if seq > self.last_seq + 1:
                self.stats["missed"].append([self.last_seq + 1, seq - 1])
            self.last_seq = seq

    def _duplicate(self):
        self.stats["duplicates"] += 1
        return False, [], 0

    def admit(self, frame):
        """(handle it?, texts to send back, pause before sending them)."""
        kind = frame.get("message_type")
        if kind == "connection":
            data = frame.get("data") or {}
            self.max_bytes = data.get("max_message_bytes")
            self.recovered = data.get("recovered")
            if self.epoch > 1:
                self.stats["recovered"].append(self.recovered)
            # answers sent before the drop that the hub may not have received
            send = []
            for rid, answer in self.answers.items():
                if answer[0] < self.epoch:
                    answer[0] = self.epoch
                    send.append(answer[1])
                    self.resent.add(rid)
            self.stats["answers_resent"] += len(send)
            return True, send, 0
        if kind == "error":
            rid = frame.get("request_id")
            if frame.get("code") == "invalid_action" and rid in self.resent:
                self.resent.discard(rid)  # the original had arrived after all
                self.answers.pop(rid, None)
                return self._duplicate()
            if frame.get("code") == "game_busy" and rid in self.answers:
                self.stats["answers_resent"] += 1
                return True, [self.answers[rid][1]], 0.05
            return True, [], 0
        seq = frame.get("seq")
        if not isinstance(seq, int):
            return True, [], 0
        fresh, self.fresh = self.fresh, False
        if kind == "game_state" and fresh:
            # a snapshot: it carries the stream head (older hubs: a number of its own)
            if self.last_seq is not None:
                through = seq - 1 if self.recovered is None else seq
                if through > self.last_seq:
                    self.stats["missed"].append([self.last_seq + 1, through])
            self.last_seq = seq if self.last_seq is None else max(self.last_seq, seq)
            return True, [], 0
        if kind == "action_request":
            # a re-sent request keeps its original (older) seq: judge it by its id
            self._advance(seq)
            rid = frame["request_id"]
            if rid in self.answers or rid in self.closed or self.seen.get(rid) == self.epoch:
                return self._duplicate()
            self.seen[rid] = self.epoch
            return True, [], 0
        if self.last_seq is not None and seq <= self.last_seq:
            return self._duplicate()
        self._advance(seq)
        if kind == "action_result" and frame.get("request_id") is not None:
            self.answers.pop(frame["request_id"], None)
            self.closed.add(frame["request_id"])
        return True, [], 0


def answer_for(memory, frame):
    """The frame answering one action_request."""
    answer = decide(memory, frame)
    if frame["action"] == "talk":
        if answer.get("say"):
            return {"message_type": "agent_message", "request_id": frame["request_id"],
                    "message_text": answer["say"]}
        return {"message_type": "player_action", "request_id": frame["request_id"],
                "action": "talk", "target": None}
    return answer


def refusal(exc):
    """(status, body) of a refused WebSocket upgrade, else None."""
    response = getattr(exc, "response", None)  # websockets >= 14: InvalidStatus
    if response is not None and hasattr(response, "status_code"):
        body = response.body.decode("utf-8", "replace") if response.body else ""
        return response.status_code, body.strip()
    status = getattr(exc, "status_code", None)  # legacy InvalidStatusCode
    if status is not None:
        return status, ""
    return None


async def session(ws, resume, memory, player_id):
    """Handles frames until game_over (returned) or the connection ends (None)."""
    async for raw in ws:
        frame = json.loads(raw)
        handle, send, pause = resume.admit(frame)
        if pause:
            await asyncio.sleep(pause)
        for text in send:
            await ws.send(text)
        if not handle:
            continue
        memory.update(frame)
        kind = frame["message_type"]
        if kind == "action_request":
            answer = answer_for(memory, frame)
            text = json.dumps(answer)
            if resume.max_bytes and len(text.encode()) > resume.max_bytes:
                print(f"{player_id}: answer to request {frame['request_id']} is "
                      f"{len(text.encode())} bytes, over the hub's {resume.max_bytes}: not sent",
                      file=sys.stderr)
                continue
            resume.record_answer(answer, text)  # before sending: re-sent if the send is lost
            await ws.send(text)
        elif kind == "error":
            print(f"hub refused: {frame['message']}", file=sys.stderr)
        elif kind == "game_over":
            return frame
    return None


async def play(urls, game_id, player_id, token, give_up_after=60.0, initial_delay=0.1,
               max_delay=5.0):
    path = f"/ws/{player_id}?client_type=agent&game_id={game_id}&token={token}"
    memory = Memory(player_id)
    resume = Resume()
    jitter = random.Random()  # not the seeded one: decisions stay reproducible
    current, attempt, down_since = 0, 0, None
    while True:
        why = None
        try:
            async with websockets.connect(resume.url(urls[current], path)) as ws:
                resume.connected()
                attempt, down_since = 0, None
                received = None  # the hub's close frame, if any
                try:
                    over = await session(ws, resume, memory, player_id)
                except ConnectionClosed as closed:
                    over, received = None, closed.rcvd
                if over is not None:
                    print(json.dumps({"player_id": player_id, "role": memory.role,
                                      "winner": over["winner"], "day": over["day"]}))
                    print("resume: " + json.dumps(resume.stats), file=sys.stderr)
                    return over
                # no close frame (a lost connection) reads as 1006
                if received is not None:
                    code, reason = received.code, received.reason
                else:
                    code, reason = ws.close_code or 1006, ws.close_reason
                meaning, again = CLOSE_CODES.get(code, ("unknown close code", False))
                if not again:
                    raise Stop(f"the hub closed the connection with {code} ({meaning})"
                               + (f": {reason}" if reason else ""))
                why = f"closed with {code} ({meaning})"
                if code == 1009 and resume.last_answer is not None:
                    resume.answers.pop(resume.last_answer, None)  # never send it again
        except InvalidURI as e:
            raise Stop(f"bad hub URL: {e}") from None
        except InvalidHandshake as e:
            refused = refusal(e)
            if refused is not None and refused[0] not in RETRY_STATUSES:
                status, body = refused
                raise Stop(f"hub refused the connection ({status}): {body or e}") from None
            why = f"handshake failed: {e}"
        except (OSError, asyncio.TimeoutError, EOFError) as e:
            why = f"cannot connect: {e or type(e).__name__}"
        # reconnect: backoff with jitter, the next URL on failure
        now = time.monotonic()
        if down_since is None:
            down_since = now
            print(f"{player_id}: {why}; retrying", file=sys.stderr)
        elif attempt > 0:
            current = (current + 1) % len(urls)
        if now - down_since >= give_up_after:
            raise Stop(f"gave up reconnecting after {attempt} attempts in "
                       f"{now - down_since:.1f} s; last: {why}")
        ceiling = min(initial_delay * 2 ** min(attempt, 30), max_delay)
        await asyncio.sleep(min(jitter.uniform(ceiling / 2, ceiling),
                                give_up_after - (now - down_since)))
        attempt += 1


def ws_base(url):
    url = url.rstrip("/")
    for http, ws in (("http://", "ws://"), ("https://", "wss://")):
        if url.startswith(http):
            return ws + url[len(http):]
    return url


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", action="append",
                        help="hub URL (repeat for fallbacks, tried in turn); "
                             "default ws://127.0.0.1:8000")
    parser.add_argument("--game", required=True)
    parser.add_argument("--player", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--give-up-after", type=float, default=60.0,
                        help="seconds without a connection before giving up (default 60)")
    args = parser.parse_args()
    random.seed(args.seed)
    urls = [ws_base(u) for u in (args.url or ["ws://127.0.0.1:8000"])]
    try:
        asyncio.run(play(urls, args.game, args.player, args.token, args.give_up_after))
    except Stop as e:
        print(f"{args.player}: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
