"""An agent that asks any OpenAI-compatible chat endpoint (stdlib ``urllib``, no SDK)."""

from __future__ import annotations

import asyncio
import json
import os
import time
import urllib.error
import urllib.request
from typing import Any, Dict, List, Optional

from .agent import Agent
from .answers import InvalidAnswer, complete, random_answer, validate

SYSTEM_PROMPT = (
    "You are playing the social deduction game Werewolf with other AI agents. Villagers "
    "win by executing every werewolf; werewolves win when they equal the villagers. Stay "
    "in character, reason from what you saw, never reveal hidden information you should "
    "not have. Answer with exactly one JSON object matching the given schema."
)


class LLMAgent(Agent):
    """Each request goes to ``POST {base_url}/chat/completions`` with the request's own
    ``response_schema`` as a strict ``json_schema`` response format. The reply is checked
    against the schema's enums; without an endpoint (``OPENAI_BASE_URL`` unset), on an HTTP
    error, a timeout (kept under the request's deadline) or an invalid reply, the agent
    plays a random legal move instead. One log line per decision says which it was.

    Settings (arguments win over the environment): ``base_url`` / ``OPENAI_BASE_URL``
    (e.g. ``https://api.openai.com/v1``, ``http://localhost:11434/v1``), ``api_key`` /
    ``OPENAI_API_KEY`` (optional), ``model`` / ``OPENAI_MODEL`` (default ``gpt-4o-mini``),
    ``timeout`` seconds per call (default 30, always ended 1 s before the deadline).
    """

    def __init__(self, *args: Any, model: Optional[str] = None, base_url: Optional[str] = None,
                 api_key: Optional[str] = None, timeout: float = 30.0,
                 temperature: Optional[float] = 0.7, history: int = 40, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.model = model or os.environ.get("OPENAI_MODEL") or "gpt-4o-mini"
        base = base_url if base_url is not None else os.environ.get("OPENAI_BASE_URL", "")
        self.base_url = base.rstrip("/")
        self.api_key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        self.timeout = timeout
        self.temperature = temperature
        self.history = history
        self.llm_calls = 0
        self.llm_failures = 0

    # ---- the prompt ------------------------------------------------------------------------

    def describe(self, frame: Dict[str, Any]) -> Optional[str]:
        """One line for a game event, or None for frames not worth a line."""
        kind = frame.get("message_type")
        n = self.name
        if kind == "phase_update":
            deaths = frame.get("deaths") or []
            died = f"; died: {', '.join(n(d['player_id']) for d in deaths)}" if deaths else ""
            return f"-- {frame.get('phase')} of day {frame.get('day')}{died}"
        if kind == "agent_message":
            where = " (to the pack)" if frame.get("channel") == "wolves" else ""
            return f"{n(frame.get('agent_id'))}{where}: {frame.get('message_text')}"
        if kind == "player_action":
            return f"{n(frame.get('player_id'))} {frame.get('action')}: {n(frame.get('target'))}"
        if kind == "vote_result":
            counts = ", ".join(f"{n(c['player_id'])}={c['votes']}" for c in frame.get("counts", []))
            executed = frame.get("executed")
            return (f"vote: {counts}; {frame.get('decision')}"
                    + (f" {n(executed)}" if executed else ""))
        if kind == "death":
            return f"{n(frame.get('player_id'))} died ({frame.get('cause')})"
        if kind == "action_result" and frame.get("result") not in ("accepted", "timed_out"):
            extra = "" if frame.get("can_save") is None else f", can_save={frame['can_save']}"
            return (f"private: {frame.get('action')} {n(frame.get('target'))} -> "
                    f"{frame.get('result')}{extra}")
        return None

    def prompt(self, request: Dict[str, Any]) -> str:
        """The user message for one request: who you are, the table, what happened, the ask."""
        you = self.you or {}
        lines: List[str] = [f"You are {self.name(self.player_id)}, role: {you.get('role', '?')}"
                            f" (team {you.get('team', '?')})."]
        if you.get("teammates"):
            lines.append("Your fellow werewolves: "
                         + ", ".join(self.name(t) for t in you["teammates"]) + ".")
        state = self.state or {}
        if state.get("players"):
            alive = [self.name(p["id"]) for p in state["players"] if p.get("alive")]
            dead = [self.name(p["id"]) for p in state["players"] if not p.get("alive")]
            lines.append(f"Day {state.get('day')}, phase {state.get('phase')}. "
                         f"Alive: {', '.join(alive)}." + (f" Dead: {', '.join(dead)}." if dead else ""))
        seen = [d for d in (self.describe(f) for f in self.events) if d]
        if seen:
            lines.append("What happened so far (latest last):")
            lines.extend(seen[-self.history:])
        action = request.get("action")
        lines.append("")
        if action == "talk":
            limit = request.get("max_message_chars")
            lines.append("Your turn to speak to the table"
                         + (f" (at most {limit} characters)" if limit else "")
                         + "; put null in `text` to stay silent.")
        else:
            cands = ", ".join(f"{c['player_id']} ({c['name']})" for c in request.get("candidates", []))
            lines.append(f"Now: {action}. Candidates: {cands or 'none'}. "
                         "Put the chosen player_id in `target` (null where allowed abstains).")
        desc = (request.get("response_schema") or {}).get("description")
        if desc:
            lines.append(desc)
        return "\n".join(lines)

    # ---- the call --------------------------------------------------------------------------

    def body(self, request: Dict[str, Any]) -> Dict[str, Any]:
        """The chat completion request for one action request."""
        body: Dict[str, Any] = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": self.prompt(request)},
            ],
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "answer", "strict": True,
                                "schema": request["response_schema"]},
            },
        }
        if self.temperature is not None:
            body["temperature"] = self.temperature
        return body

    def _post(self, body: Dict[str, Any], timeout: float) -> Dict[str, Any]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        req = urllib.request.Request(f"{self.base_url}/chat/completions",
                                     data=json.dumps(body).encode(), headers=headers,
                                     method="POST")
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read().decode("utf-8"))

    async def ask(self, request: Dict[str, Any]) -> Dict[str, Any]:
        """The model's answer, completed and validated; raises on any failure."""
        budget = self.timeout
        deadline = request.get("deadline")
        if isinstance(deadline, (int, float)):
            budget = min(budget, deadline - time.time() - 1.0)
        if budget <= 0.2:
            raise TimeoutError("no time left before the deadline")
        self.llm_calls += 1
        reply = await asyncio.wait_for(asyncio.to_thread(self._post, self.body(request), budget),
                                       timeout=budget)
        content = reply["choices"][0]["message"]["content"]
        answer = json.loads(content) if isinstance(content, str) else content
        frame = complete(request, answer)
        validate(request["response_schema"], frame)
        return frame

    async def on_request(self, request: Dict[str, Any]) -> Dict[str, Any]:
        if not self.base_url:
            self.note(request, "random: OPENAI_BASE_URL is not set")
            return random_answer(request, self.rng)
        try:
            frame = await self.ask(request)
            self.note(request, f"llm {self.model}")
            return frame
        except urllib.error.HTTPError as e:
            why = f"HTTP {e.code}"
        except (asyncio.TimeoutError, TimeoutError):
            why = "timeout"
        except urllib.error.URLError as e:
            why = f"unreachable: {e.reason}"
        except (InvalidAnswer, ValueError, KeyError, IndexError, TypeError) as e:
            why = f"invalid reply: {e}"
        except OSError as e:
            why = f"{type(e).__name__}: {e}"
        self.llm_failures += 1
        self.note(request, f"random: llm {why}")
        return random_answer(request, self.rng)
