// werewolf-hub — table page, part 1 of 6: the game state and `apply(state, frame)`.
// Pure data: no DOM, no network, no timers. One state object is built from the stream's
// frames (live over the WebSocket or replayed from `/events`); `game-render.js` draws it.
// Exposes `WerewolfTable.State = { newState, apply, player, nameOf, reorder, seedSeats }`.
'use strict';

(() => {
  const WT = (window.WerewolfTable = window.WerewolfTable || {});

  // ───────────────────────────── state ─────────────────────────────
  /** A fresh state; `setup` is the public setup from `GET /games/{id}` (or null). */
  function newState(setup) {
    return {
      lastSeq: 0,
      lastTs: null, // timestamp of the last applied frame (replay clock)
      phase: null,
      day: 0,
      deadline: null,
      players: new Map(), // id → {id, name, no, alive, connected, lastSeen, role, cause, deathDay, shotBy, vote}
      order: [], // player ids in seat order
      talkOrder: [], // today's speaking order (living at the start of the discussion, rotated)
      turnPos: -1, // index in talkOrder of the next speaker, -1 unknown
      talkRounds: setup && setup.talkRounds ? setup.talkRounds : null, // from the public setup
      talkCount: 0, // talks + skips today
      lastRound: 0,
      ballotsClosed: false,
      voteRound: 0, // tallies today
      winner: null,
      endDay: null,
      roles: null, // game_over.roles
      talk: [], // transcript entries
      votes: [], // ballot / tally / round-head entries
      deaths: [], // death / shot entries
      secrets: [], // whisper / secret entries (full view only)
      phases: [], // {seq, phase, day}
      resynced: false,
    };
  }

  function player(state, id) {
    let p = state.players.get(id);
    if (!p) {
      p = { id, name: id, no: state.order.length + 1, alive: true, connected: null, lastSeen: null, role: null, cause: null, deathDay: null, shotBy: null, vote: undefined };
      state.players.set(id, p);
      state.order.push(id);
    }
    return p;
  }
  const nameOf = (state, id) => (id && state.players.get(id) ? state.players.get(id).name || id : id || 'nobody');

  /** The players of a role that are alive, to name the actor of a night result. */
  function actorOf(state, role) {
    const all = state.order.map((id) => state.players.get(id)).filter((p) => p.role === role);
    const living = all.filter((p) => p.alive);
    const pick = living.length === 1 ? living[0] : all.length === 1 ? all[0] : null;
    return pick ? pick.id : null;
  }

  function phaseGroup(state) {
    return state.phase === 'night' ? { key: `n${state.day}`, label: `Night ${state.day}` }
      : { key: `d${state.day}`, label: state.phase === 'ended' ? 'Game over' : `Day ${state.day}` };
  }

  /** Puts `ids` (seat order, as the server lists them) first and renumbers the seats. */
  function reorder(state, ids) {
    const known = ids.filter((id) => state.players.has(id));
    const rest = state.order.filter((id) => !known.includes(id));
    state.order = known.concat(rest);
    state.order.forEach((id, i) => { state.players.get(id).no = i + 1; });
  }

  function setPlayers(state, list) {
    if (!Array.isArray(list)) return;
    for (const p of list) {
      const q = player(state, p.id);
      if (typeof p.name === 'string' && p.name) q.name = p.name;
      if (typeof p.alive === 'boolean') {
        if (q.alive && !p.alive && !q.deathDay) q.deathDay = state.day;
        q.alive = p.alive;
      }
      if (typeof p.connected === 'boolean') q.connected = p.connected;
      if (typeof p.role === 'string') q.role = p.role;
    }
    reorder(state, list.map((p) => p.id));
  }

  function addDeath(state, f, pid, cause) {
    const p = player(state, pid);
    if (state.deaths.some((d) => d.kind === 'death' && d.player === pid)) {
      if (cause && !p.cause) p.cause = cause;
      return;
    }
    p.alive = false;
    p.cause = cause || p.cause;
    p.deathDay = state.day;
    state.deaths.push({ key: `death-${pid}`, kind: 'death', player: pid, cause: p.cause, day: state.day, phase: state.phase, seq: f.seq, shotBy: p.shotBy });
  }

  function advanceTurn(state, speaker) {
    if (!state.talkOrder.length) return;
    const i = state.talkOrder.indexOf(speaker);
    if (i >= 0) state.turnPos = (i + 1) % state.talkOrder.length;
    // The last talk of the last round: nobody is next (the vote opens).
    if (state.talkRounds && state.talkCount >= state.talkRounds * state.talkOrder.length) state.turnPos = -1;
  }

  function roundOf(state) {
    if (!state.talkOrder.length) return 0;
    return Math.floor(state.talkCount / state.talkOrder.length) + 1;
  }

  function pushTalk(state, entry) {
    const r = roundOf(state);
    if (r && r !== state.lastRound) {
      state.lastRound = r;
      state.talk.push({ key: `round-${state.day}-${r}`, kind: 'round', day: state.day, round: r });
    }
    entry.round = r || null;
    state.talk.push(entry);
    state.talkCount += 1;
  }

  /** Applies one stream frame (anything with a `seq`). `snapshotReset`: a `game_state` that
   * follows `connection{recovered:false}`: derived state is rebuilt from it, entries kept. */
  function apply(state, f, snapshotReset) {
    const t = f.message_type;
    if (typeof f.timestamp === 'number') state.lastTs = f.timestamp;
    switch (t) {
      case 'game_state': {
        if (snapshotReset) {
          state.resynced = true;
          state.turnPos = -1;
          state.talkOrder = [];
          state.ballotsClosed = true;
          for (const p of state.players.values()) p.vote = undefined;
        }
        if (typeof f.day === 'number') state.day = f.day;
        if (typeof f.phase === 'string') state.phase = f.phase;
        setPlayers(state, f.players);
        if (f.winner) state.winner = f.winner;
        break;
      }
      case 'phase_update': {
        state.phase = f.phase;
        if (typeof f.day === 'number') state.day = f.day;
        state.deadline = typeof f.deadline === 'number' ? f.deadline : null;
        state.phases.push({ seq: f.seq, phase: f.phase, day: state.day });
        for (const p of state.players.values()) p.vote = undefined;
        state.ballotsClosed = false;
        if (f.phase === 'discussion') {
          const living = state.order.filter((id) => state.players.get(id).alive);
          const start = living.length ? (Math.max(0, state.day - 1)) % living.length : 0;
          state.talkOrder = living.slice(start).concat(living.slice(0, start));
          state.turnPos = state.talkOrder.length ? 0 : -1;
          state.talkCount = 0;
          state.lastRound = 0;
        } else {
          state.talkOrder = [];
          state.turnPos = -1;
        }
        if (f.phase === 'vote') state.voteRound = 0;
        if (Array.isArray(f.deaths)) for (const d of f.deaths) addDeath(state, f, d.player_id, d.cause);
        break;
      }
      case 'agent_message': {
        const who = f.agent_id || f.client_id;
        if (f.channel === 'wolves') {
          const g = phaseGroup(state);
          state.secrets.push({ key: `s${f.seq}`, kind: 'whisper', group: g.key, groupLabel: g.label, speaker: who, name: f.agent_name || nameOf(state, who), text: String(f.message_text ?? ''), seq: f.seq });
        } else {
          if (who && f.agent_name && state.players.has(who) && state.players.get(who).name === who) state.players.get(who).name = f.agent_name;
          pushTalk(state, { key: `t${f.seq}`, kind: 'talk', day: state.day, speaker: who, name: f.agent_name || nameOf(state, who), text: String(f.message_text ?? ''), seq: f.seq, ts: f.timestamp });
          advanceTurn(state, who);
        }
        break;
      }
      case 'player_action': {
        const a = f.action;
        const target = f.target ?? null;
        if (a === 'talk' && f.over) {
          break; // done talking for today: its pass (if any) came just before
        } else if (a === 'talk') {
          pushTalk(state, { key: `t${f.seq}`, kind: 'skip', day: state.day, speaker: f.player_id, seq: f.seq });
          advanceTurn(state, f.player_id);
        } else if (a === 'vote') {
          if (state.ballotsClosed) {
            for (const p of state.players.values()) p.vote = undefined;
            state.ballotsClosed = false;
          }
          const round = state.voteRound;
          if (!state.votes.some((v) => v.kind === 'head' && v.day === state.day && v.round === round)) {
            state.votes.push({ key: `vh-${state.day}-${round}`, kind: 'head', day: state.day, round });
          }
          player(state, f.player_id).vote = target;
          state.votes.push({ key: `v${f.seq}`, kind: 'ballot', day: state.day, round, voter: f.player_id, target, seq: f.seq });
        } else if (a === 'shoot') {
          if (target) player(state, target).shotBy = f.player_id;
          state.deaths.push({ key: `shot${f.seq}`, kind: 'shot', shooter: f.player_id, target, day: state.day, seq: f.seq });
        } else if (a === 'attack' || a === 'protect' || a === 'witch') {
          const g = phaseGroup(state);
          state.secrets.push({ key: `s${f.seq}`, kind: 'secret', action: a, group: g.key, groupLabel: g.label, actor: f.player_id, target, save: f.save, seq: f.seq });
        }
        break;
      }
      case 'action_result': {
        const r = f.result;
        if (r === 'accepted') break; // the matching player_action says the same, with the actor
        const g = phaseGroup(state);
        let action = f.action;
        if (r === 'timed_out') action = 'timeout';
        else if (r === 'pack_choice') action = 'pack';
        else if (r === 'victim') action = 'witch_sees';
        const roleFor = { divine: 'seer', medium: 'medium', witch_sees: 'witch' }[action];
        state.secrets.push({ key: `s${f.seq}`, kind: 'secret', action, of: f.action, group: g.key, groupLabel: g.label, actor: roleFor ? actorOf(state, roleFor) : null, target: f.target ?? null, result: r, canSave: f.can_save, hasPoison: f.has_poison, seq: f.seq });
        break;
      }
      case 'vote_result': {
        const day = typeof f.day === 'number' ? f.day : state.day;
        // Ballots hidden until the count (vote_reveal: after_count) arrive with it; a view
        // that saw them as cast (the full view) has them already.
        const round = state.voteRound;
        const ballots = Array.isArray(f.ballots) ? f.ballots : [];
        const seen = state.votes.some((v) => v.kind === 'ballot' && v.day === day && v.round === round);
        if (ballots.length && !seen) {
          if (state.ballotsClosed) {
            for (const p of state.players.values()) p.vote = undefined;
          }
          state.votes.push({ key: `vh-${day}-${round}`, kind: 'head', day, round });
          ballots.forEach((b, i) => {
            player(state, b.voter).vote = b.target ?? null;
            state.votes.push({ key: `vb${f.seq}-${i}`, kind: 'ballot', day, round, voter: b.voter, target: b.target ?? null, seq: f.seq });
          });
        }
        state.votes.push({ key: `vr${f.seq}`, kind: 'tally', day, round: state.voteRound, revote: !!f.revote, counts: Array.isArray(f.counts) ? f.counts : [], decision: f.decision, executed: f.executed || null, tied: Array.isArray(f.tied) ? f.tied : [], seq: f.seq });
        state.voteRound += 1;
        state.ballotsClosed = true;
        break;
      }
      case 'death':
        addDeath(state, f, f.player_id, f.cause);
        break;
      case 'reasoning': {
        // A player's private reasoning (finished games' replays only: the hub never sends it
        // live), shown in the list of the action it came with, just before that action.
        const entry = { key: `r${f.reasoningSeq ?? f.seq}`, kind: 'reasoning', day: state.day, player: f.player_id, action: f.action || (f.whisper ? 'whisper' : null), requestId: f.request_id ?? null, text: String(f.text ?? ''), seq: f.seq };
        if (f.action === 'talk') state.talk.push(entry);
        else if (f.action === 'vote') state.votes.push(entry);
        else if (f.action === 'shoot') state.deaths.push(entry);
        else {
          const g = phaseGroup(state);
          state.secrets.push({ ...entry, group: g.key, groupLabel: g.label });
        }
        break;
      }
      case 'presence': {
        const p = player(state, f.player_id);
        p.connected = !!f.connected;
        if (typeof f.last_seen === 'number') p.lastSeen = f.last_seen;
        break;
      }
      case 'game_over': {
        state.winner = f.winner || 'unknown';
        state.endDay = typeof f.day === 'number' ? f.day : state.day;
        state.phase = 'ended';
        state.deadline = null;
        state.talkOrder = [];
        state.turnPos = -1;
        if (f.roles && typeof f.roles === 'object') {
          state.roles = f.roles;
          for (const [id, role] of Object.entries(f.roles)) player(state, id).role = role;
        }
        break;
      }
      default:
        break;
    }
    if (typeof f.seq === 'number' && f.seq > state.lastSeq) state.lastSeq = f.seq;
  }

  /** Seats of a game not started yet (names appear as seats are claimed); public info only. */
  function seedSeats(state, info) {
    if (!info || !Array.isArray(info.players)) return;
    for (const p of info.players) {
      const q = player(state, p.id);
      if (p.name) q.name = p.name; else if (q.name === p.id) q.name = '';
      if (typeof p.connected === 'boolean' && q.connected === null) q.connected = p.connected;
    }
    reorder(state, info.players.map((p) => p.id));
    if (!state.phase && info.phase) { state.phase = info.phase; state.day = info.day || 0; }
  }

  WT.State = { newState, apply, player, nameOf, reorder, seedSeats };
})();
