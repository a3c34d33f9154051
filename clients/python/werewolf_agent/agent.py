"""The agent base class: one seat, played to ``game_over`` across dropped connections."""

from __future__ import annotations

import asyncio
import http
import inspect
import json
import logging
import os
import random
import time
import urllib.parse
from typing import Any, Dict, List, Optional, Sequence, Union

import websockets
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from .answers import InvalidAnswer, complete, random_answer, take_reasoning, validate

try:  # websockets >= 13: the new asyncio implementation
    from websockets.asyncio.client import connect as _ws_connect
except ImportError:  # websockets 12
    from websockets.client import connect as _ws_connect  # type: ignore[no-redef]

log = logging.getLogger("werewolf_agent")

# The hub's close codes (README, "Close codes"): what each means and whether to come back.
CLOSE_CODES: Dict[int, tuple] = {
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
    1014: ("bad gateway", True),
    4000: ("replaced: a newer connection took this client_id", False),
    4001: ("slow consumer: the send queue filled", True),
    4002: ("heartbeat timeout", True),
    4003: ("the game ended and was removed", False),
    4004: ("client_id taken by a connection with another credential", False),
}
# HTTP statuses of a refused upgrade worth another try, elsewhere or later (a hub node that
# is taking a game over answers 503); the others are final (Refused): the same on every node.
RETRY_STATUSES = {408, 425, 429, *range(500, 600)}
# The longest Retry-After (seconds) honoured; a longer one is cut to this.
MAX_RETRY_AFTER = 30.0


class AgentError(Exception):
    """The agent stopped before ``game_over``; ``str()`` is one line saying why."""


class Refused(AgentError):
    """The hub refused the WebSocket upgrade (HTTP 401, 403, 404, 409, ...)."""

    def __init__(self, status: int, reason: str):
        super().__init__(status, reason)
        self.status = status
        self.reason = reason

    def __str__(self) -> str:
        try:
            phrase = http.HTTPStatus(self.status).phrase
        except ValueError:
            phrase = "refused"
        return f"hub refused ({self.status} {phrase}): {self.reason}"


class Stopped(AgentError):
    """The hub closed with a code that says not to come back, or reconnecting gave up."""


def ws_base(url: str) -> str:
    """``ws(s)://host:port[/prefix]`` from ``http(s)://`` or ``ws(s)://`` (one URL form)."""
    parts = urllib.parse.urlsplit(url.strip())
    scheme = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}.get(parts.scheme.lower())
    if scheme is None or not parts.netloc:
        raise ValueError(f"bad hub URL {url!r}: expected http(s)://host:port or ws(s)://host:port")
    return f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def socket_url(base: str, game_id: str, player_id: str, token: str,
               last_seq: Optional[int] = None) -> str:
    """The seat's agent socket URL, query percent-encoded."""
    query = {"client_type": "agent", "game_id": game_id, "token": token}
    if last_seq is not None:
        query["last_seq"] = str(last_seq)
    player = urllib.parse.quote(player_id, safe="")
    return f"{ws_base(base)}/ws/{player}?{urllib.parse.urlencode(query)}"


def _refusal(exc: BaseException) -> Optional[tuple]:
    """(status, reason) of a refused upgrade, else None."""
    response = getattr(exc, "response", None)  # InvalidStatus (websockets >= 13)
    status = getattr(response, "status_code", None)
    body = getattr(response, "body", b"") or b""
    if status is None:
        status = getattr(exc, "status_code", None)  # legacy InvalidStatusCode
    if status is None:
        return None
    text = body.decode("utf-8", "replace").strip() if isinstance(body, (bytes, bytearray)) else ""
    try:
        reason = json.loads(text).get("error") or text
    except (ValueError, AttributeError):
        reason = text
    reason = " ".join(str(reason).split()) or "no reason given"
    return status, reason


def _retry_after(exc: BaseException) -> Optional[float]:
    """A refused upgrade's ``Retry-After`` in seconds (at most :data:`MAX_RETRY_AFTER`; the
    HTTP-date form is ignored), else None."""
    response = getattr(exc, "response", None)  # InvalidStatus (websockets >= 13)
    headers = getattr(response, "headers", None)
    if headers is None:
        headers = getattr(exc, "headers", None)  # legacy InvalidStatusCode
    try:
        value = headers.get("Retry-After") if headers is not None else None
        seconds = int(str(value).strip()) if value is not None else None
    except (ValueError, AttributeError):
        return None
    if seconds is None or seconds < 0:
        return None
    return float(min(seconds, MAX_RETRY_AFTER))


def _urls(url: Union[str, Sequence[str]], fallback_urls: Sequence[str]) -> List[str]:
    """Every hub URL in order, each as its ``ws(s)://`` base; a ValueError if none."""
    given = [url] if isinstance(url, str) else list(url)
    urls = [ws_base(u) for u in [*given, *fallback_urls]]
    if not urls:
        raise ValueError("no hub URL given")
    return urls


async def _maybe(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


class Agent:
    """One seat of one game. Subclass it and write :meth:`on_request`; :meth:`run` plays.

    What it does for you: connects (``http(s)://`` or ``ws(s)://`` URLs; give several, the
    nodes of a hub cluster, as a list: they are tried in turn), reconnects with exponential
    backoff and jitter and ``last_seq`` (so the hub sends only what was missed), starting
    with the URL after the one whose connection was lost, treats a 503 refusal (with its
    ``Retry-After``) and close 1012 as "come back", follows the hub's close-code table
    (README), asks
    :meth:`on_request` once per request (never again after a reconnect), completes and
    checks its answer against the request's ``response_schema`` (a random legal move when
    it is missing or invalid), re-sends answers the hub may not have received, and keeps
    what the seat knows: :attr:`state` (latest ``game_state``), :attr:`you`,
    :attr:`players` (id -> name), :attr:`events` (every game frame seen, in order).
    """

    def __init__(self, url: Union[str, Sequence[str]], game_id: str, player_id: str,
                 token: str, *, fallback_urls: Sequence[str] = (), give_up_after: float = 60.0,
                 initial_delay: float = 0.1, max_delay: float = 5.0,
                 seed: Optional[int] = None, record: Optional[str] = None):
        # ``url``: one hub URL, or a list (the nodes of a cluster); ``fallback_urls`` follow
        self.urls: List[str] = _urls(url, fallback_urls)
        self.game_id = game_id
        self.player_id = player_id
        self.token = token
        self.give_up_after = give_up_after
        self.initial_delay = initial_delay
        self.max_delay = max_delay
        self.rng = random.Random(seed)  # decisions; the jitter has its own
        self.record = record if record is not None else os.environ.get("WEREWOLF_AGENT_RECORD")
        # what the seat knows
        self.state: Optional[Dict[str, Any]] = None
        self.you: Optional[Dict[str, Any]] = None
        self.players: Dict[str, str] = {}
        self.events: List[Dict[str, Any]] = []
        self.game_over: Optional[Dict[str, Any]] = None
        self.decisions = 0
        # the stream and the answers, across reconnects
        self.last_seq: Optional[int] = None
        self.stats: Dict[str, Any] = {"reconnects": 0, "recovered": [], "missed": [],
                                      "duplicates": 0, "answers_resent": 0, "drops": [],
                                      "connected_to": []}
        self._epoch = 0  # connections opened
        self._fresh = True  # no stream frame yet on this connection
        self._recovered: Optional[bool] = None
        self._max_bytes: Optional[int] = None
        self._decided: set = set()  # request ids asked of on_request
        self._answers: Dict[str, str] = {}  # request id -> answer text, no action_result yet
        self._closed: set = set()  # request ids the hub closed (answered or timed out)
        self._resent: set = set()  # answers re-sent on this connection
        self._last_answer: Optional[str] = None
        self._notes: Dict[str, str] = {}
        self._tasks: set = set()
        self._ws: Any = None

    # ---- the hooks ------------------------------------------------------------------------

    async def on_request(self, request: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """The answer to one ``action_request``: the whole ``player_action`` frame, or a
        short form (``{"target": id}``, ``{"text": "..."}``, ``{"target": None, "save":
        True}``; ``None`` abstains / skips) that the kit completes. Answers that do not fit
        ``request["response_schema"]`` are replaced by a random legal move (and logged).
        Any answer may add ``"reasoning": "..."``: private free text, shown to nobody while
        the game runs and kept in the game's replay (cut to the request's
        ``max_reasoning_chars``)."""
        raise NotImplementedError("subclass Agent and write on_request")

    async def on_event(self, frame: Dict[str, Any]) -> None:
        """Every frame handled (duplicates after a reconnect are not), after the kit."""

    async def on_game_state(self, state: Dict[str, Any]) -> None:
        """Each ``game_state`` (on join, after phase changes, at the end)."""

    async def whisper(self, request: Dict[str, Any]) -> Optional[str]:
        """Werewolves, before answering a night ``attack`` request: text to whisper to the
        pack (``channel: wolves``), or ``None`` (the default) to stay silent."""
        return None

    def note(self, request: Dict[str, Any], text: str) -> None:
        """Adds a word on how a decision was made to its log line."""
        self._notes[str(request.get("request_id"))] = text

    # ---- playing ----------------------------------------------------------------------------

    @property
    def role(self) -> Optional[str]:
        return (self.you or {}).get("role")

    def url(self, index: int = 0) -> str:
        """The socket URL for ``self.urls[index]``, with ``last_seq`` once there is one."""
        return socket_url(self.urls[index], self.game_id, self.player_id, self.token,
                          self.last_seq)

    async def run(self) -> Dict[str, Any]:
        """Plays until ``game_over`` and returns it. Raises :class:`Refused` when the hub
        refuses the seat, :class:`Stopped` on a final close code or after
        ``give_up_after`` seconds without a connection.

        Every failed attempt and every lost connection moves on to the next URL (round
        robin): a reconnect starts with the URL after the one whose connection was lost.
        The wait before each attempt is the backoff (``initial_delay`` doubling to
        ``max_delay``, with jitter), or longer if that URL refused with ``Retry-After``."""
        jitter = random.Random()
        current, attempt, down_since = 0, 0, None
        not_before = [0.0] * len(self.urls)  # per URL: its Retry-After, as a monotonic time
        try:
            while True:
                why = None
                try:
                    over, code, reason = await self._connection(current)
                    if over is not None:
                        return over
                    attempt, down_since = 0, None
                    meaning, again = CLOSE_CODES.get(code, ("unknown close code", False))
                    if not again:
                        raise Stopped(f"the hub closed the connection with {code} ({meaning})"
                                      + (f": {reason}" if reason else ""))
                    why = f"closed with {code} ({meaning})"
                    self.stats["drops"].append(why)
                    if code == 1009 and self._last_answer is not None:
                        self._answers.pop(self._last_answer, None)  # never send it again
                except InvalidURI as e:
                    raise Stopped(f"bad hub URL: {e}") from None
                except InvalidHandshake as e:
                    refused = _refusal(e)
                    if refused is not None and refused[0] not in RETRY_STATUSES:
                        raise Refused(*refused) from None
                    wait = _retry_after(e) if refused is not None else None
                    if wait is not None:
                        not_before[current] = time.monotonic() + wait
                    why = (str(Refused(*refused)) if refused is not None
                           else f"handshake failed: {e}")
                except (OSError, asyncio.TimeoutError, EOFError) as e:
                    why = f"cannot connect: {e or type(e).__name__}"
                now = time.monotonic()
                if down_since is None:
                    down_since = now
                    log.warning("%s: %s (%s); reconnecting", self.player_id, why,
                                self.urls[current])
                else:
                    log.debug("%s: %s (%s)", self.player_id, why, self.urls[current])
                if now - down_since >= self.give_up_after:
                    raise Stopped(f"gave up reconnecting after {attempt} attempts in "
                                  f"{now - down_since:.1f} s; last: {why}")
                current = (current + 1) % len(self.urls)
                ceiling = min(self.initial_delay * 2 ** min(attempt, 30), self.max_delay)
                delay = max(jitter.uniform(ceiling / 2, ceiling), not_before[current] - now)
                await asyncio.sleep(min(delay, self.give_up_after - (now - down_since)))
                attempt += 1
        finally:
            for task in list(self._tasks):
                task.cancel()

    async def _connection(self, index: int):
        """One connection to ``self.urls[index]``: (game_over, None, None) or (None, close
        code, reason)."""
        async with _ws_connect(self.url(index), max_size=2 ** 24, open_timeout=10) as ws:
            self._ws = ws
            self._connected()
            self.stats["connected_to"].append(self.urls[index])
            try:
                while True:
                    over = await self._receive(await ws.recv())
                    if over is not None:
                        return over, None, None
            except ConnectionClosed as closed:
                rcvd = closed.rcvd
                if rcvd is not None:
                    return None, rcvd.code, rcvd.reason
                return None, 1006, ""
            finally:
                self._ws = None

    def _connected(self) -> None:
        self._epoch += 1
        if self._epoch > 1:
            self.stats["reconnects"] += 1
        self._fresh, self._recovered = True, None
        self._resent.clear()

    async def _send(self, text: str) -> bool:
        ws = self._ws
        if ws is None:
            return False
        try:
            await ws.send(text)
            return True
        except ConnectionClosed:
            return False

    def _advance(self, seq: int) -> None:
        if self.last_seq is None:
            self.last_seq = seq
        elif seq > self.last_seq:
            if seq > self.last_seq + 1:
                self.stats["missed"].append([self.last_seq + 1, seq - 1])
            self.last_seq = seq

    async def _receive(self, raw: Any) -> Optional[Dict[str, Any]]:
        """Handles one frame; returns it when it is ``game_over``."""
        try:
            frame = json.loads(raw)
        except ValueError:
            log.warning("%s: not JSON: %.200r", self.player_id, raw)
            return None
        if not isinstance(frame, dict):
            return None
        kind = frame.get("message_type")
        if kind == "connection":
            data = frame.get("data") or {}
            self._max_bytes = data.get("max_message_bytes")
            self._recovered = data.get("recovered")
            if self._epoch > 1:
                self.stats["recovered"].append(self._recovered)
            # answers sent before the drop that the hub may not have received: the same text
            # again (the hub takes one answer per request and refuses a repeat)
            for rid, text in list(self._answers.items()):
                self._resent.add(rid)
                self.stats["answers_resent"] += 1
                await self._send(text)
            await _maybe(self.on_event(frame))
            return None
        if kind == "error":
            rid = frame.get("request_id")
            if frame.get("code") == "invalid_action" and rid in self._resent:
                self._resent.discard(rid)  # the original had arrived after all
                self._answers.pop(rid, None)
                self.stats["duplicates"] += 1
                return None
            if frame.get("code") == "game_busy" and rid in self._answers:
                await asyncio.sleep(0.05)
                self.stats["answers_resent"] += 1
                await self._send(self._answers[rid])
                return None
            log.warning("%s: the hub refused a frame: %s %s", self.player_id,
                        frame.get("code"), frame.get("message"))
            await _maybe(self.on_event(frame))
            return None
        seq = frame.get("seq")
        if isinstance(seq, int) and not isinstance(seq, bool):
            fresh, self._fresh = self._fresh, False
            if kind == "game_state" and fresh:
                # a snapshot (recovered: false) carries the stream's head
                if self.last_seq is not None and seq > self.last_seq:
                    self.stats["missed"].append([self.last_seq + 1, seq])
                self.last_seq = seq if self.last_seq is None else max(self.last_seq, seq)
            elif kind == "action_request":
                # a request re-sent after a snapshot keeps its original seq: judge it by id
                self._advance(seq)
                rid = frame.get("request_id")
                if rid in self._decided:
                    self.stats["duplicates"] += 1
                    return None
            elif self.last_seq is not None and seq <= self.last_seq:
                self.stats["duplicates"] += 1
                return None
            else:
                self._advance(seq)
        return await self._handle(frame)

    async def _handle(self, frame: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        kind = frame.get("message_type")
        if kind != "connection":
            self.events.append(frame)
        if kind == "game_state":
            self.state = frame
            for p in frame.get("players") or []:
                self.players[p["id"]] = p.get("name", p["id"])
            if frame.get("you"):
                self.you = frame["you"]
            await _maybe(self.on_game_state(frame))
        elif kind == "action_result" and frame.get("request_id") is not None:
            self._answers.pop(frame["request_id"], None)
            self._closed.add(frame["request_id"])
        elif kind == "action_request":
            rid = frame["request_id"]
            self._decided.add(rid)
            if rid not in self._closed:
                task = asyncio.create_task(self._decide(frame))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        await _maybe(self.on_event(frame))
        if kind == "game_over":
            self.game_over = frame
            return frame
        return None

    async def _decide(self, request: Dict[str, Any]) -> None:
        rid = str(request["request_id"])
        schema = request.get("response_schema") or {}
        started = time.monotonic()
        if request.get("action") == "attack" and self.role == "werewolf":
            try:
                said = await _maybe(self.whisper(request))
                if said:
                    await self._send(json.dumps({"message_type": "agent_message",
                                                 "channel": "wolves", "message_text": said}))
            except Exception as e:  # a hook's bug must not lose the seat
                log.warning("%s: whisper failed: %r", self.player_id, e)
        try:
            frame = complete(request, await _maybe(self.on_request(request)))
            reasoning = take_reasoning(request, frame)
            validate(schema, frame)
            if reasoning is not None:
                frame["reasoning"] = reasoning
        except asyncio.CancelledError:
            raise
        except Exception as e:
            why = str(e) if isinstance(e, InvalidAnswer) else repr(e)
            self.note(request, f"random: the answer was refused ({why})")
            frame = random_answer(request, self.rng)
        text = json.dumps(frame)
        if self._max_bytes and len(text.encode()) > self._max_bytes:
            log.warning("%s: answer to request %s is %d bytes, over the hub's %d: not sent",
                        self.player_id, rid, len(text.encode()), self._max_bytes)
            return
        if rid in self._closed:  # it timed out meanwhile
            log.warning("%s: request %s expired before its answer", self.player_id, rid)
            return
        self._answers[rid] = text  # before sending: re-sent if the send is lost
        self._last_answer = rid
        self.decisions += 1
        self._record(request, frame)
        chosen = frame.get("text", frame.get("target"))
        if "save" in frame:
            chosen = f"{chosen!r} save={frame['save']}"
        elif isinstance(chosen, str) and "text" in frame:
            chosen = repr(chosen if len(chosen) <= 60 else chosen[:57] + "...")
        log.info("%s: request %s %s -> %s [%s, %.2f s]", self.player_id, rid,
                 request.get("action"), chosen,
                 self._notes.pop(rid, type(self).__name__), time.monotonic() - started)
        await self._send(text)

    def _record(self, request: Dict[str, Any], answer: Dict[str, Any]) -> None:
        """With ``record`` (or ``WEREWOLF_AGENT_RECORD``): one JSON line per answer."""
        if not self.record:
            return
        with open(self.record, "a", encoding="utf-8") as f:
            f.write(json.dumps({"player_id": self.player_id, "request": request,
                                "answer": answer}) + "\n")

    # ---- helpers for prompts -----------------------------------------------------------------

    def name(self, player_id: Optional[str]) -> str:
        """``id (Name)`` for a player id."""
        if player_id is None:
            return "nobody"
        name = self.players.get(player_id)
        return f"{player_id} ({name})" if name and name != player_id else player_id


class RandomAgent(Agent):
    """A random legal move for every request (from its candidates / schema enums)."""

    async def on_request(self, request: Dict[str, Any]) -> Dict[str, Any]:
        self.note(request, "random")
        return random_answer(request, self.rng)
