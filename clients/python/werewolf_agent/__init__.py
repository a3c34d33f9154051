"""werewolf-agent: play a seat of a werewolf-hub game from Python.

    from werewolf_agent import Agent

    class Mine(Agent):
        async def on_request(self, request):
            return {"target": request["candidates"][0]["player_id"]}

    asyncio.run(Mine("http://localhost:8000", game_id, player_id, token).run())

See README.md beside this package for the LLM agent and the command line.
"""

from .agent import (
    CLOSE_CODES,
    MAX_RETRY_AFTER,
    Agent,
    AgentError,
    RandomAgent,
    Refused,
    Stopped,
    socket_url,
    ws_base,
)
from .answers import InvalidAnswer, complete, random_answer, take_reasoning, validate
from .llm import LLMAgent

__version__ = "0.1.0"

__all__ = [
    "CLOSE_CODES",
    "MAX_RETRY_AFTER",
    "Agent",
    "AgentError",
    "InvalidAnswer",
    "LLMAgent",
    "RandomAgent",
    "Refused",
    "Stopped",
    "complete",
    "random_answer",
    "socket_url",
    "take_reasoning",
    "validate",
    "ws_base",
]
