"""``python -m werewolf_agent --url URL --game G --player P --token T``: plays one seat.

``--url`` may be repeated (the nodes of a hub cluster): the agent connects to the first
that answers and, when a connection is lost or closed with 1012, reconnects to the next one
in turn with ``last_seq``.

With ``OPENAI_BASE_URL`` (and ``OPENAI_API_KEY``, ``OPENAI_MODEL`` or ``--model``) it asks
that OpenAI-compatible endpoint for every decision; without it, or whenever the model fails,
it plays a random legal move. Logs one line per decision on stderr; at the end prints one
JSON line on stdout (``player_id``, ``role``, ``winner``, ``day``, ``decisions``) and a
``resume: {...}`` line on stderr. A refusal or a final close prints ``error: <why>`` and
exits 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from typing import List, Optional

from .agent import AgentError, RandomAgent
from .llm import LLMAgent


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m werewolf_agent",
                                description="Play one seat of a werewolf-hub game.")
    p.add_argument("--url", required=True, action="append", metavar="URL",
                   help="the hub, http(s)://host:port (ws(s):// works too); repeat it for "
                        "the nodes of a hub cluster: tried in turn, the next one after a "
                        "lost connection, a 503 refusal or a close with 1012")
    p.add_argument("--fallback-url", action="append", default=[], metavar="URL",
                   help="another address of the hub, tried after the --url ones (repeatable)")
    p.add_argument("--game", required=True, help="game_id")
    p.add_argument("--player", required=True, help="the seat's player_id")
    p.add_argument("--token", required=True, help="the seat's token")
    p.add_argument("--model", help="model name (default: $OPENAI_MODEL or gpt-4o-mini)")
    p.add_argument("--random", action="store_true",
                   help="play random legal moves, never call a model")
    p.add_argument("--seed", type=int, help="seed of the random moves (reproducible games)")
    p.add_argument("--llm-timeout", type=float, default=30.0,
                   help="seconds per model call (always ended before the request's deadline)")
    p.add_argument("--give-up-after", type=float, default=60.0,
                   help="seconds without a connection before giving up (default 60)")
    p.add_argument("--quiet", action="store_true", help="no decision log")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(stream=sys.stderr, format="%(message)s",
                        level=logging.WARNING if args.quiet else logging.INFO)
    common = dict(fallback_urls=args.fallback_url, give_up_after=args.give_up_after,
                  seed=args.seed)
    try:
        if args.random:
            agent = RandomAgent(args.url, args.game, args.player, args.token, **common)
        else:
            agent = LLMAgent(args.url, args.game, args.player, args.token, model=args.model,
                             timeout=args.llm_timeout, **common)
        over = asyncio.run(agent.run())
    except (AgentError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    print(json.dumps({"player_id": agent.player_id, "role": agent.role,
                      "winner": over.get("winner"), "day": over.get("day"),
                      "decisions": agent.decisions}))
    print("resume: " + json.dumps(agent.stats), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
