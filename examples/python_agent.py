#!/usr/bin/env python3
"""A complete werewolf-hub agent in Python (pip install websockets).

    python examples/python_agent.py --url ws://127.0.0.1:8000 --game G --player P --token T

It keeps what it learns (its role, teammates, private results), answers every
`action_request` before its deadline, and talks on its turns. The one place to plug an
LLM is `decide()` below: give it the prompt, ask for JSON matching PLAYER_ACTION_SCHEMA
(structured output), and return the parsed object.
"""
import argparse
import asyncio
import json
import random
import sys
import time

import websockets

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


async def play(url, game_id, player_id, token):
    uri = f"{url}/ws/{player_id}?client_type=agent&game_id={game_id}&token={token}"
    memory = Memory(player_id)
    async with websockets.connect(uri) as ws:
        async for raw in ws:
            frame = json.loads(raw)
            memory.update(frame)
            kind = frame["message_type"]
            if kind == "action_request":
                answer = decide(memory, frame)
                if frame["action"] == "talk":
                    if answer.get("say"):
                        answer = {"message_type": "agent_message", "request_id": frame["request_id"],
                                  "message_text": answer["say"]}
                    else:
                        answer = {"message_type": "player_action", "request_id": frame["request_id"],
                                  "action": "talk", "target": None}
                await ws.send(json.dumps(answer))
            elif kind == "error":
                print(f"hub refused: {frame['message']}", file=sys.stderr)
            elif kind == "game_over":
                print(json.dumps({"player_id": player_id, "role": memory.role,
                                  "winner": frame["winner"], "day": frame["day"]}))
                return frame


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="ws://127.0.0.1:8000")
    parser.add_argument("--game", required=True)
    parser.add_argument("--player", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    random.seed(args.seed)
    asyncio.run(play(args.url.rstrip("/"), args.game, args.player, args.token))


if __name__ == "__main__":
    main()
