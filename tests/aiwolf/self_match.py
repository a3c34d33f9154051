"""Agents built on aiwolf-nlp-common's own Client and packet classes (its parsing raises on an
unknown request, a missing map or a malformed setting) self-match on the hub's AIWolf endpoint
and play to FINISH. Prints one JSON line per agent; exits non-zero if any agent fails.

usage: self_match.py WS_URL TEAM COUNT SEED

Environment (optional):
- AIWOLF_TOKEN: the JWT the agents send (the Client's `Authorization: Bearer`).
- AIWOLF_SLOW: `name:mode,...`: that agent's first TALK is answered late. `silent`: not answered;
  the NAME probe that follows is answered with the name (the agent stays in the game).
  `late`: answered after AIWOLF_SLOW_S seconds (past the hub's timeout), before the probe is
  read (the probe gets the late answer: the agent has failed and hears nothing more until the
  socket closes at the game's end).
"""

import json
import os
import random
import sys
import threading
import time

from aiwolf_nlp_common.client import Client
from aiwolf_nlp_common.packet import Packet, Request, Role

url, team, count, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
token = os.environ.get("AIWOLF_TOKEN") or None
slow = dict(pair.split(":") for pair in os.environ.get("AIWOLF_SLOW", "").split(",") if pair)
slow_s = float(os.environ.get("AIWOLF_SLOW_S", "0"))
results = [None] * count


def play(i: int) -> None:
    name = f"{team}{i + 1}"
    rng = random.Random(seed * 100 + i)
    seen = []
    # Every packet but NAME as received, to compare with the hub's JSON log.
    raw_seen = []
    out = {"name": name, "requests": seen, "errors": [], "raw": raw_seen}
    client = Client(url, token)
    mode = slow.get(name)
    try:
        client.connect()
        talks = 0
        while True:
            try:
                raw = client.socket.recv()
            except Exception:  # noqa: BLE001 - the socket closed
                raw = ""
            if not raw:
                out["closed"] = True
                break
            if isinstance(raw, bytes):
                raw = raw.decode("utf-8")
            # What Client.receive does: aiwolf-nlp-common parses (and validates) every packet.
            packet = Packet.from_dict(json.loads(raw))
            req = packet.request
            seen.append(req.value)
            if req != Request.NAME:
                raw_seen.append(raw)
            info = packet.info
            if packet.whisper_history:
                out.setdefault("whispers_heard", 0)
                out["whispers_heard"] += len(packet.whisper_history)
            if req == Request.NAME:
                client.send(name)
            elif req == Request.INITIALIZE:
                me = info.agent
                out["agent"] = me
                out["role"] = info.role_map[me].value
                out["init_role_map"] = {k: v.value for k, v in info.role_map.items()}
                out["agent_count"] = packet.setting.agent_count
                out["role_num_map"] = {k.value: v for k, v in packet.setting.role_num_map.items()}
                out["timeout"] = {"action": packet.setting.timeout.action,
                                  "response": packet.setting.timeout.response}
            elif req == Request.WHISPER:
                out.setdefault("whispers", 0)
                out["whispers"] += 1
                client.send(f"{name} whispers")
            elif req == Request.TALK and mode and talks == 0:
                talks += 1
                out["slow_at"] = len(seen) - 1
                if mode == "late":
                    time.sleep(slow_s)
                    client.send(f"{name} answers late")
            elif req == Request.TALK:
                talks += 1
                client.send(f"{name} talks, turn {talks}" if talks % 3 else "Over")
            elif req in (Request.VOTE, Request.DIVINE, Request.GUARD, Request.ATTACK):
                alive = [a for a, s in info.status_map.items() if s.value == "ALIVE" and a != info.agent]
                client.send(rng.choice(alive))
                if req == Request.DIVINE:
                    out.setdefault("divines", 0)
                    out["divines"] += 1
            elif req == Request.DAILY_INITIALIZE:
                if info.divine_result is not None:
                    out.setdefault("divine_results", []).append(info.divine_result.result.value)
                # What this seat may know of roles, every day.
                out.setdefault("role_maps", []).append({k: v.value for k, v in info.role_map.items()})
            elif req == Request.FINISH:
                out["finish_role_map"] = {k: v.value for k, v in info.role_map.items()}
                break
    except Exception as e:  # noqa: BLE001 - reported to the test
        out["errors"].append(repr(e))
    finally:
        try:
            client.close()
        except Exception:  # noqa: BLE001
            pass
    results[i] = out


threads = [threading.Thread(target=play, args=(i,)) for i in range(count)]
for t in threads:
    t.start()
for t in threads:
    t.join(timeout=300)
ok = True
for r in results:
    print(json.dumps(r))
    failed_as_meant = r is not None and slow.get(r["name"]) == "late" and r.get("closed")
    if r is None or r["errors"] or ("finish_role_map" not in r and not failed_as_meant):
        ok = False
sys.exit(0 if ok else 1)
