"""Agents built on aiwolf-nlp-common's own Client and packet classes (its parsing raises on an
unknown request, a missing map or a malformed setting) self-match on the hub's AIWolf endpoint
and play to FINISH. Prints one JSON line per agent; exits non-zero if any agent fails.

Every agent also audits every packet it gets (the per-seat leak audit): its report's `leaks`
lists each packet that told it what its role may not know (a WHISPER or a whisper_history to a
non-werewolf, a divine_result to a non-seer, a medium_result to a non-medium, an
attack_vote_list to a non-werewolf), and `role_maps` holds every distinct role_map it saw before
FINISH, which the test compares with what the seat may know.

usage: self_match.py WS_URL TEAM COUNT SEED

Environment (optional):
- AIWOLF_TOKEN: the JWT the agents send (the Client's `Authorization: Bearer`).
- AIWOLF_MIXED: when set, agent i is of its own team (`{TEAM}{letter i}1`), for the hub's
  mixed matching (AIWOLF_SELF_MATCH=false).
- AIWOLF_SEAT_TOKENS: comma-separated, one per agent: agent i sends the i-th (the token of its
  seat in a game created through POST /games; WS_URL then ends in `?game_id=…`).
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
seat_tokens = [t for t in os.environ.get("AIWOLF_SEAT_TOKENS", "").split(",") if t]
slow = dict(pair.split(":") for pair in os.environ.get("AIWOLF_SLOW", "").split(",") if pair)
slow_s = float(os.environ.get("AIWOLF_SLOW_S", "0"))
results = [None] * count


def audit(out: dict, role: str | None, data: dict) -> None:
    """Records what this packet tells a seat of role `role` that the seat may not know."""
    req = data.get("request")
    info = data.get("info") or {}
    where = f"{req} day {info.get('day')}"
    if role is None:
        return
    wolf = role == "WEREWOLF"
    if req == "WHISPER" and not wolf:
        out["leaks"].append(f"{where}: a WHISPER request to a {role}")
    if "whisper_history" in data and not wolf:
        out["leaks"].append(f"{where}: whisper_history to a {role}: {data['whisper_history']}")
    if "divine_result" in info and role != "SEER":
        out["leaks"].append(f"{where}: divine_result to a {role}")
    if "medium_result" in info and role != "MEDIUM":
        out["leaks"].append(f"{where}: medium_result to a {role}")
    if "attack_vote_list" in info and not wolf:
        out["leaks"].append(f"{where}: attack_vote_list to a {role}")
    for key in ("divine_result", "medium_result", "attack_vote_list"):
        if key in info:
            out.setdefault(key + "s", 0)
            out[key + "s"] += 1
    if req != "FINISH" and "role_map" in info:
        seen = {k: v for k, v in info["role_map"].items()}
        if seen not in out["role_maps"]:
            out["role_maps"].append(seen)


def play(i: int) -> None:
    name = f"{team}{'abcdefghijklm'[i]}1" if os.environ.get("AIWOLF_MIXED") else f"{team}{i + 1}"
    rng = random.Random(seed * 100 + i)
    seen = []
    # Every packet but NAME as received, to compare with the hub's JSON log.
    raw_seen = []
    out = {"name": name, "requests": seen, "errors": [], "raw": raw_seen, "leaks": [],
           "role_maps": []}
    role = None
    client = Client(url, seat_tokens[i] if seat_tokens else token)
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
            # The raw packet for the audit, then aiwolf-nlp-common's own parsing (which validates
            # it) exactly as its Client.receive does.
            data = json.loads(raw)
            packet = Packet.from_dict(data)
            req = packet.request
            if req == Request.INITIALIZE:
                role = data["info"]["role_map"][data["info"]["agent"]]
            audit(out, role, data)
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
                # A unique text per turn (the test checks every wolf heard it), and now and
                # then Over after the first turn (AIWolf's end of a wolf's whispering).
                turn = 3 - (info.remain_count or 0)
                text = "Over" if turn > 0 and rng.random() < 0.25 else \
                    f"{name} whispers d{info.day} t{turn}"
                out.setdefault("whispered", []).append({"day": info.day, "text": text})
                client.send(text)
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
                    out.setdefault("divine_species", []).append(info.divine_result.result.value)
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
