#!/usr/bin/env python3
"""A werewolf-hub agent in a few lines, on the Python kit (clients/python, `werewolf_agent`).

    pip install ./clients/python          # or: pip install -r examples/requirements.txt
    python examples/python_agent.py --url http://127.0.0.1:8000 --game G --player P --token T

The kit connects, reconnects with backoff and `last_seq`, follows the close codes, completes
and checks every answer against the request's `response_schema`, and keeps what the seat saw
(`self.you`, `self.state`, `self.events`). This agent only decides: it suspects whoever
voted for it or spoke its name, and votes for them. For an LLM instead, see `LLMAgent` and
`python -m werewolf_agent` (clients/python/README.md). Run from a checkout, it also works
without installing the kit (it then imports it from clients/python; `websockets` is needed).

At the end: one JSON line on stdout (player_id, role, winner, day) and a `resume: {...}`
line on stderr (reconnects, `recovered` flags, missed seq ranges).
"""
import argparse
import asyncio
import collections
import json
import logging
import pathlib
import sys

try:
    from werewolf_agent import Agent, AgentError
except ImportError:  # a checkout without `pip install ./clients/python`
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "clients" / "python"))
    from werewolf_agent import Agent, AgentError


class Grudge(Agent):
    """Votes (and, as a werewolf, attacks) whoever voted for it or named it most."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.grudges = collections.Counter()

    async def on_event(self, frame):
        kind = frame["message_type"]
        if frame.get("player_id", frame.get("agent_id")) == self.player_id:
            return  # our own moves and words
        if kind == "player_action" and frame.get("target") == self.player_id:
            self.grudges[frame["player_id"]] += 2
        elif kind == "agent_message" and self.player_id in frame.get("message_text", ""):
            self.grudges[frame["agent_id"]] += 1

    async def on_request(self, request):
        ids = [c["player_id"] for c in request["candidates"]]
        if request["action"] == "talk":
            suspect = self.grudges.most_common(1)
            if not suspect:
                return {"text": f"I am {self.player_id}. Nothing points anywhere yet."}
            return {"text": f"{self.name(suspect[0][0])} keeps coming after me. Why?"}
        if request["action"] == "witch":
            return {"target": None, "save": False}  # the kit refuses a save it cannot make
        mates = (self.you or {}).get("teammates", [])
        ranked = sorted((i for i in ids if i not in mates),
                        key=lambda i: (-self.grudges[i], self.rng.random()))
        return {"target": ranked[0] if ranked else None}

    async def whisper(self, request):
        return "Let's take the loudest one tonight."


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", action="append",
                        help="hub URL, http(s):// or ws(s):// (repeat for fallbacks); "
                             "default http://127.0.0.1:8000")
    parser.add_argument("--game", required=True)
    parser.add_argument("--player", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--give-up-after", type=float, default=60.0,
                        help="seconds without a connection before giving up (default 60)")
    args = parser.parse_args()
    logging.basicConfig(stream=sys.stderr, format="%(message)s", level=logging.INFO)
    urls = args.url or ["http://127.0.0.1:8000"]
    agent = Grudge(urls[0], args.game, args.player, args.token, fallback_urls=urls[1:],
                   give_up_after=args.give_up_after, seed=args.seed)
    try:
        over = asyncio.run(agent.run())
    except AgentError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    print(json.dumps({"player_id": agent.player_id, "role": agent.role,
                      "winner": over["winner"], "day": over["day"]}))
    print("resume: " + json.dumps(agent.stats), file=sys.stderr)


if __name__ == "__main__":
    main()
