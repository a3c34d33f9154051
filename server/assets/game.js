// werewolf-hub — the table page, `/games/{id}`: live over the WebSocket (an `observer`
// client, with `last_seq` resume) and replay of the stream from `GET /games/{id}/events`.
// Both modes feed frames to one `apply(state, frame)` and draw with one `render(state)`.
// Hand-written ES2020, no dependencies, no build step.
//
// URL parameters: `?token=<observer_token>` → the full view; `?seq=N` → replay, at seq N.
//
// Stable hooks for browser tests (do not rename without updating the tests):
//   [data-testid="view"]        text contains "public view" or "full view (observer token)"
//   [data-testid="mode"]        text "live" or "replay"
//   [data-testid="connection"]  connection status; attribute data-state =
//                               connecting | live | reconnecting | closed | replay | error
//   [data-testid="phase"]       current phase label; attribute data-phase = lobby | night | day |
//                               discussion | vote | ended
//   [data-testid="day"]         current day number
//   [data-testid="countdown"]   time left to the current phase_update.deadline ("m:ss" or "—")
//   [data-testid="turn"]        whose turn it is (text), when known
//   [data-testid="seq"]         the last applied seq (text)
//   [data-seat="{player_id}"]   one per seat, with data-alive="true|false",
//                               data-connected="true|false", data-turn="true" (whose turn),
//                               data-cause once dead (night | attack | poison | execution | shot —
//                               `shot` is the protocol's hunter_shot), and data-role="{role}"
//                               only when this view may know it (full view, or after game_over)
//   [data-testid="transcript"]  the public discussion, grouped by [data-day="N"]; one
//                               [data-kind="talk"] per talk line (data-speaker, data-seq) and
//                               [data-kind="skip"] per skipped talk (player_action talk, target null)
//   [data-testid="votes"]       [data-kind="ballot"] per vote (data-voter, data-target, "" = abstain),
//                               [data-kind="tally"] per vote_result (data-day, data-revote,
//                               data-decision, data-executed)
//   [data-testid="deaths"]      [data-kind="death"] per death (data-player, data-cause as on seats, data-day),
//                               [data-kind="shot"] per hunter shot
//   [data-testid="whispers"]    FULL VIEW ONLY (absent from the public page's DOM): the secret
//                               night log, grouped by phase; [data-kind="whisper"] per wolf
//                               whisper, [data-kind="secret"] per night action / result with
//                               data-action = attack | pack | divine | medium | protect | witch |
//                               witch_sees | timeout
//   [data-testid="winner"]      present once game_over is applied; text = the winner
//                               (villagers | werewolves | draw | aborted)
//   [data-testid="roles"]       the game-over role list, children [data-player][data-role]
//   [data-testid="error"]       one per error shown (error frames, refusals, close reasons)
//   replay controls: [data-testid="step-forward"], [data-testid="step-back"],
//                    [data-testid="play"] (aria-pressed), [data-testid="speed"] (select),
//                    [data-testid="jump"] (select; option values are seqs of phase_update frames),
//                    [data-testid="scrubber"] (range over seq), [data-testid="replay-start"],
//                    [data-testid="replay-end"]
//
// Hidden information: this page renders only what the server sent on the stream it is
// entitled to. Without a token it reads the public stream (WebSocket without token,
// `/events?view=public`) and the public `GET /games/{id}`; nothing token-gated is fetched.
'use strict';

(() => {
  // ───────────────────────────── setup ─────────────────────────────
  const params = new URLSearchParams(location.search);
  const gameId = decodeURIComponent(location.pathname.replace(/\/+$/, '').split('/').pop() || '');
  const token = (params.get('token') || '').trim();
  const view = token ? 'full' : 'public';
  const seqParam = params.get('seq');
  const wantReplaySeq = seqParam !== null && /^\d+$/.test(seqParam) ? Number(seqParam) : null;

  const $ = (id) => document.getElementById(id);
  const enc = encodeURIComponent;

  const ROLE_LABEL = {
    werewolf: 'Werewolf', villager: 'Villager', seer: 'Seer', doctor: 'Doctor', witch: 'Witch',
    hunter: 'Hunter', possessed: 'Possessed', medium: 'Medium',
  };
  const PRESETS = {
    aiwolf5: { werewolf: 1, possessed: 1, seer: 1, villager: 2 },
    arena8: { werewolf: 2, seer: 1, doctor: 1, villager: 4 },
    aiwolf13: { werewolf: 3, possessed: 1, seer: 1, doctor: 1, medium: 1, villager: 6 },
    classic9: { werewolf: 2, seer: 1, witch: 1, hunter: 1, villager: 4 },
  };
  const PHASE_LABEL = {
    lobby: 'Waiting for players', night: 'Night', day: 'Dawn', discussion: 'Discussion',
    vote: 'Vote', ended: 'Game over',
  };

  /** `h('li', {class: 'x', 'data-kind': 'talk'}, child, 'text')` — text is never parsed as HTML. */
  function h(tag, props, ...kids) {
    const el = document.createElement(tag);
    if (props) {
      for (const [k, v] of Object.entries(props)) {
        if (v === null || v === undefined || v === false) continue;
        if (k === 'class') el.className = v;
        else if (k === 'text') el.textContent = v;
        else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
        else el.setAttribute(k, v === true ? '' : String(v));
      }
    }
    for (const c of kids.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : String(c));
    }
    return el;
  }

  /** `el.replaceChildren` without the null/undefined/false children (which it would print). */
  function fill(el, ...kids) {
    el.replaceChildren(...kids.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
    return el;
  }

  function fmtClock(epochS) {
    if (typeof epochS !== 'number') return '';
    return new Date(epochS * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  }
  function fmtLeft(s) {
    if (typeof s !== 'number' || !isFinite(s)) return '—';
    const t = Math.max(0, Math.ceil(s));
    return `${Math.floor(t / 60)}:${String(t % 60).padStart(2, '0')}`;
  }

  // ───────────────────────────── state ─────────────────────────────
  function newState() {
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
        if (a === 'talk') {
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
        state.votes.push({ key: `vr${f.seq}`, kind: 'tally', day, round: state.voteRound, revote: !!f.revote, counts: Array.isArray(f.counts) ? f.counts : [], decision: f.decision, executed: f.executed || null, tied: Array.isArray(f.tied) ? f.tied : [], seq: f.seq });
        state.voteRound += 1;
        state.ballotsClosed = true;
        break;
      }
      case 'death':
        addDeath(state, f, f.player_id, f.cause);
        break;
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

  // ──────────────────────────── render ─────────────────────────────
  let setup = null; // public setup from GET /games/{id}: {talkRounds, publicVotes, delayMs, roles, players}
  let state = newState();
  let mode = 'live';
  let clockOffset = 0; // server clock − local clock, seconds (live)

  const els = {
    seats: $('seats'), transcript: $('transcript'), votes: $('votes'), deaths: $('deaths'),
    whispers: null,
  };
  if (view === 'full') {
    els.whispers = h('div', { id: 'whispers', 'data-testid': 'whispers', 'aria-label': 'Wolf whispers and night actions' });
    $('secret-scroll').append(els.whispers, h('p', { class: 'empty muted', id: 'whispers-empty' }, 'Nothing secret yet.'));
    $('secret-panel').hidden = false;
  }

  /** Text with player ids replaced by their names (as text nodes, never HTML). */
  function withNames(text) {
    const ids = [...state.players.keys()].filter(Boolean).sort((a, b) => b.length - a.length);
    if (!ids.length || !text) return [text];
    const re = new RegExp(ids.map((i) => i.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
    const out = [];
    let last = 0;
    for (const m of text.matchAll(re)) {
      if (m.index > last) out.push(text.slice(last, m.index));
      out.push(h('span', { class: 'mention', title: m[0] }, nameOf(state, m[0])));
      last = m.index + m[0].length;
    }
    if (last < text.length) out.push(text.slice(last));
    return out;
  }

  function hueOf(id) {
    const p = state.players.get(id);
    const n = Math.max(state.order.length, 1);
    return p ? Math.round(((p.no - 1) * 360) / n) : 0;
  }
  function who(id, fallback) {
    if (!id) return h('span', { class: 'who nobody' }, 'nobody');
    return h('span', { class: 'who', style: `--hue:${hueOf(id)}`, title: id }, fallback || nameOf(state, id));
  }
  function roleTag(role) {
    return role ? h('span', { class: `role role-${role}` }, ROLE_LABEL[role] || role) : null;
  }

  function deathText(cause, day, shotBy) {
    switch (cause) {
      case 'night': return `killed in night ${day}`;
      case 'attack': return `killed in an attack, night ${day}`;
      case 'poison': return `poisoned, night ${day}`;
      case 'execution': return `executed on day ${day}`;
      case 'hunter_shot': return shotBy ? `shot by ${nameOf(state, shotBy)}, day ${day}` : `shot, day ${day}`;
      default: return cause ? `${cause}, day ${day}` : 'dead';
    }
  }

  /** The death cause as a data-cause / class value: the protocol's, except `hunter_shot` →
   * `shot`, so the public page's markup names no role before game over. */
  const causeKey = (cause) => (cause === 'hunter_shot' ? 'shot' : cause || '');

  function shortDeath(cause, day) {
    switch (cause) {
      case 'night': return `night ${day}`;
      case 'attack': return `attacked, night ${day}`;
      case 'poison': return `poisoned, night ${day}`;
      case 'execution': return `executed, day ${day}`;
      case 'hunter_shot': return `shot, day ${day}`;
      default: return cause || 'dead';
    }
  }

  /** Keyed list sync: entries are append-only in seq order; entries no longer in the state
   * (replay stepping back) are removed, new ones appended to their group. */
  function syncList(root, entries, make, groupOf) {
    const have = root._items || (root._items = new Map());
    const want = new Set(entries.map((e) => e.key));
    let added = false;
    for (const [k, el] of have) {
      if (want.has(k)) continue;
      const list = el.parentElement;
      el.remove();
      have.delete(k);
      if (list && !list.children.length) {
        const g = list.closest('[data-group]');
        if (g) g.remove();
      }
    }
    for (const e of entries) {
      if (have.has(e.key)) continue;
      const g = groupOf(e);
      let sec = root.querySelector(`:scope > [data-group="${g.key}"]`);
      if (!sec) {
        sec = h('section', { class: `group ${g.cls || ''}`, 'data-group': g.key, 'data-day': g.day ?? null },
          g.label ? h('h3', null, g.label) : null, h('ol', { class: 'entries' }));
        root.append(sec);
      }
      const el = make(e);
      if (typeof e.seq === 'number') el.dataset.seq = String(e.seq);
      sec.querySelector('ol').append(el);
      have.set(e.key, el);
      added = true;
    }
    return added;
  }

  function makeTalk(e) {
    if (e.kind === 'round') return h('li', { class: 'round-sep', role: 'presentation' }, `Round ${e.round}`);
    if (e.kind === 'skip') {
      return h('li', { class: 'line skip', 'data-kind': 'skip', 'data-speaker': e.speaker }, who(e.speaker), ' ', h('em', null, 'skipped their turn'));
    }
    return h('li', { class: 'line talk', 'data-kind': 'talk', 'data-speaker': e.speaker },
      who(e.speaker, e.name), h('span', { class: 'sep', 'aria-hidden': 'true' }, ': '), h('span', { class: 'text' }, withNames(e.text)));
  }

  function makeVote(e) {
    if (e.kind === 'head') {
      return h('li', { class: 'vote-head', role: 'presentation' }, e.round === 0 ? 'Vote' : 'Revote');
    }
    if (e.kind === 'ballot') {
      return h('li', { class: 'ballot', 'data-kind': 'ballot', 'data-voter': e.voter, 'data-target': e.target || '' },
        who(e.voter), e.target ? [' → ', who(e.target)] : [' ', h('em', null, 'abstains')]);
    }
    const max = Math.max(1, ...e.counts.map((c) => c.votes || 0));
    const counts = [...e.counts].sort((a, b) => (b.votes || 0) - (a.votes || 0));
    let decision;
    if (e.decision === 'executed') decision = [who(e.executed), ' is executed'];
    else if (e.decision === 'revote') decision = ['Tie between ', e.tied.map((id, i) => [i ? ', ' : '', who(id)]), ': revote'];
    else decision = [e.tied.length ? 'Tie again: ' : '', 'nobody is executed'];
    return h('li', { class: `tally decision-${e.decision}`, 'data-kind': 'tally', 'data-day': e.day, 'data-revote': String(e.revote), 'data-decision': e.decision || '', 'data-executed': e.executed || '' },
      h('div', { class: 'tally-title' }, `Day ${e.day} ${e.revote ? 'revote' : 'vote'} — tally`),
      counts.length ? h('ul', { class: 'bars' }, counts.map((c) => h('li', { class: 'bar-row' },
        h('span', { class: 'bar-name' }, who(c.player_id)),
        h('span', { class: 'bar', style: `--w:${Math.round(((c.votes || 0) / max) * 100)}%`, 'aria-hidden': 'true' }),
        h('span', { class: 'bar-n' }, String(c.votes), h('span', { class: 'sr-only' }, ' votes'))))) : h('p', { class: 'muted' }, 'No ballots.'),
      h('div', { class: 'decision' }, decision));
  }

  function makeDeath(e) {
    if (e.kind === 'shot') {
      return h('li', { class: 'shot', 'data-kind': 'shot', 'data-player': e.shooter, 'data-target': e.target || '' },
        h('span', { class: 'tag tag-shot' }, 'shot'), ' ', who(e.shooter), e.target ? [' shoots ', who(e.target)] : ' shoots nobody');
    }
    const p = state.players.get(e.player);
    const shotBy = p && p.shotBy;
    return h('li', { class: `death cause-${causeKey(e.cause)}`, 'data-kind': 'death', 'data-player': e.player, 'data-cause': causeKey(e.cause), 'data-day': e.day },
      '✝ ', who(e.player), ' — ', deathText(e.cause, e.day, e.cause === 'hunter_shot' ? shotBy : null));
  }

  function makeSecret(e) {
    if (e.kind === 'whisper') {
      return h('li', { class: 'line whisper', 'data-kind': 'whisper', 'data-speaker': e.speaker },
        h('span', { class: 'tag tag-whisper' }, 'whisper'), ' ', who(e.speaker, e.name), h('span', { class: 'sep', 'aria-hidden': 'true' }, ' whispers: '), h('span', { class: 'text' }, withNames(e.text)));
    }
    const actor = e.actor ? who(e.actor) : null;
    let body;
    switch (e.action) {
      case 'attack': body = e.target ? [actor, ' votes to attack ', who(e.target)] : [actor, ' casts no attack vote']; break;
      case 'pack': body = ['The pack chooses ', who(e.target)]; break;
      case 'protect': body = e.target ? [actor, ' protects ', who(e.target)] : [actor, ' protects nobody']; break;
      case 'witch': {
        const parts = [];
        if (e.save) parts.push('saves the victim');
        if (e.target) parts.push(['poisons ', who(e.target)]);
        body = [actor, ' (witch) ', parts.length ? parts.map((p, i) => [i ? ' and ' : '', p]) : 'uses no potion'];
        break;
      }
      case 'witch_sees':
        body = [actor || 'The witch', ' learns the victim: ', who(e.target),
          h('span', { class: 'muted' }, ` (save ${e.canSave ? 'available' : 'used'}, poison ${e.hasPoison ? 'available' : 'used'})`)];
        break;
      case 'divine':
        body = [actor || 'The seer', ' divines ', who(e.target), ': ', h('strong', { class: `verdict verdict-${e.result}` }, e.result)];
        break;
      case 'medium':
        body = [actor || 'The medium', ' learns that ', who(e.target), ' was ', h('strong', { class: `verdict verdict-${e.result}` }, e.result)];
        break;
      case 'timeout':
        body = [`A ${e.of} request timed out`, e.target ? [' (', who(e.target), ')'] : ''];
        break;
      default:
        body = [e.action, ' ', e.result || '', e.target ? [' ', who(e.target)] : ''];
    }
    return h('li', { class: `secret secret-${e.action}`, 'data-kind': 'secret', 'data-action': e.action },
      h('span', { class: `tag tag-${e.action}` }, { attack: 'attack vote', pack: 'pack', protect: 'doctor', witch: 'witch', witch_sees: 'witch', divine: 'seer', medium: 'medium', timeout: 'timeout' }[e.action] || e.action), ' ', body);
  }

  function renderSeats() {
    const ids = state.order;
    const n = ids.length;
    els.seats.dataset.count = String(n);
    els.seats.dataset.layout = n > 13 ? 'grid' : 'circle';
    const have = els.seats._seats || (els.seats._seats = new Map());
    for (const [id, el] of have) if (!state.players.has(id)) { el.remove(); have.delete(id); }
    const turnId = state.turnPos >= 0 ? state.talkOrder[state.turnPos] : null;
    ids.forEach((id, i) => {
      const p = state.players.get(id);
      let el = have.get(id);
      if (!el) {
        el = h('li', { class: 'seat', 'data-seat': id });
        have.set(id, el);
      }
      if (el.parentElement !== els.seats || els.seats.children[i] !== el) els.seats.insertBefore(el, els.seats.children[i] || null);
      const a = (i / Math.max(n, 1)) * 2 * Math.PI;
      el.style.setProperty('--x', `${(50 + 41 * Math.sin(a)).toFixed(2)}%`);
      el.style.setProperty('--y', `${(50 - 41 * Math.cos(a)).toFixed(2)}%`);
      el.style.setProperty('--hue', String(hueOf(id)));
      el.dataset.alive = String(!!p.alive);
      if (p.connected === null) delete el.dataset.connected; else el.dataset.connected = String(!!p.connected);
      if (turnId === id) el.dataset.turn = 'true'; else delete el.dataset.turn;
      if (p.role) el.dataset.role = p.role; else delete el.dataset.role;
      if (!p.alive && p.cause) el.dataset.cause = causeKey(p.cause); else delete el.dataset.cause;
      const conn = p.connected === null ? null
        : h('span', { class: `dot ${p.connected ? 'on' : 'off'}`, title: p.connected ? 'connected' : `offline${p.lastSeen ? ` since ${fmtClock(p.lastSeen)}` : ''}` },
          h('span', { class: 'sr-only' }, p.connected ? 'connected' : 'offline'));
      let vote = null;
      if (p.vote !== undefined && (state.phase === 'vote')) {
        vote = h('div', { class: 'seat-vote' }, p.vote ? ['→ ', nameOf(state, p.vote)] : 'abstains');
      }
      const name = p.name || (state.phase === 'lobby' || state.phase === null ? 'open seat' : id);
      fill(el,
        h('div', { class: 'seat-top' }, h('span', { class: 'seat-no' }, String(p.no)), conn,
          turnId === id ? h('span', { class: 'speaking' }, 'speaking') : null),
        h('div', { class: 'seat-name', title: id }, name),
        p.role ? h('div', { class: 'seat-role' }, roleTag(p.role)) : null,
        p.alive ? h('div', { class: 'seat-life' }, 'alive')
          : h('div', { class: 'seat-life', title: deathText(p.cause, p.deathDay ?? '?', p.cause === 'hunter_shot' ? p.shotBy : null) }, `✝ ${shortDeath(p.cause, p.deathDay ?? '?')}`),
        vote);
    });
  }

  function phaseText() {
    if (!state.phase) return '—';
    if (state.phase === 'night') return `Night ${state.day}`;
    if (state.phase === 'ended') return 'Game over';
    if (state.phase === 'lobby') return PHASE_LABEL.lobby;
    return `Day ${state.day} · ${PHASE_LABEL[state.phase] || state.phase}`;
  }

  function renderStatus() {
    const ph = $('phase');
    ph.textContent = state.phase ? (PHASE_LABEL[state.phase] || state.phase) : '—';
    ph.dataset.phase = state.phase || '';
    document.body.dataset.phase = state.phase || '';
    $('day').textContent = state.day ? String(state.day) : '—';
    $('seq').textContent = String(state.lastSeq);
    $('tc-phase').textContent = phaseText();
    const living = state.order.filter((id) => state.players.get(id).alive).length;
    $('alive-count').textContent = state.order.length ? `${living}/${state.order.length} alive` : '';
    $('tc-count').textContent = state.order.length ? `${living} of ${state.order.length} alive` : '';
    let turn = '';
    if (state.phase === 'discussion' && state.turnPos >= 0) turn = `Speaking: ${nameOf(state, state.talkOrder[state.turnPos])}`;
    else if (state.phase === 'vote') {
      const voted = [...state.players.values()].filter((p) => p.vote !== undefined).length;
      turn = `Voting${voted ? ` · ${voted}/${living} ballots seen` : ''}`;
    } else if (state.phase === 'night') turn = 'The village sleeps';
    $('turn').textContent = turn;
    renderCountdown();
  }

  function renderCountdown() {
    const el = $('countdown');
    if (!state.deadline || state.phase === 'ended') { el.textContent = '—'; return; }
    const now = mode === 'live' ? Date.now() / 1000 + clockOffset : state.lastTs;
    el.textContent = typeof now === 'number' ? fmtLeft(state.deadline - now) : '—';
  }

  function renderBanner() {
    const b = $('banner');
    if (!state.winner) { b.hidden = true; b.replaceChildren(); delete b.dataset.winner; return; }
    if (b.dataset.winner === state.winner && b.dataset.roles === String(!!state.roles) && b.dataset.mode === mode) return;
    b.dataset.winner = state.winner;
    b.dataset.roles = String(!!state.roles);
    b.dataset.mode = mode;
    b.className = `banner win-${state.winner}`;
    const w = h('strong', { 'data-testid': 'winner' }, state.winner);
    const title = state.winner === 'draw' ? ['Game over — ', w]
      : state.winner === 'aborted' ? ['Game over — ', w, ' (every seat went offline; not a result)']
        : ['Game over — the ', w, ' win'];
    const roles = state.roles ? Object.entries(state.roles) : [];
    roles.sort((a, b) => (state.players.get(a[0])?.no || 0) - (state.players.get(b[0])?.no || 0));
    fill(b,
      h('h2', { id: 'banner-title' }, title, state.endDay ? h('span', { class: 'muted' }, ` · day ${state.endDay}`) : null),
      roles.length ? h('ul', { class: 'roles', 'data-testid': 'roles', 'aria-label': 'Every role' },
        roles.map(([id, role]) => h('li', { 'data-player': id, 'data-role': role, class: state.players.get(id)?.alive ? 'alive' : 'dead' },
          who(id), ' ', roleTag(role)))) : null,
      mode === 'live' ? h('p', null, h('a', { href: pageUrl({ seq: 1 }) }, 'Replay this game from the start')) : null);
    b.hidden = false;
  }

  function scrollToEnd(scroller, force) {
    if (!scroller) return;
    if (force || scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80) scroller.scrollTop = scroller.scrollHeight;
  }

  function render() {
    const scrollers = [...document.querySelectorAll('.layout .scroll')];
    const nearEnd = new Map(scrollers.map((s) => [s, s.scrollHeight - s.scrollTop - s.clientHeight < 80]));
    renderSeats();
    renderStatus();
    syncList(els.transcript, state.talk, makeTalk, (e) => ({ key: `d${e.day}`, day: e.day, label: `Day ${e.day}` }));
    syncList(els.votes, state.votes, makeVote, (e) => ({ key: `d${e.day}`, day: e.day, label: `Day ${e.day}` }));
    syncList(els.deaths, state.deaths, makeDeath, () => ({ key: 'all', label: null }));
    $('transcript-empty').hidden = state.talk.length > 0;
    $('votes-empty').hidden = state.votes.length > 0;
    $('deaths-empty').hidden = state.deaths.length > 0;
    if (els.whispers) {
      syncList(els.whispers, state.secrets, makeSecret, (e) => ({ key: e.group, label: e.groupLabel, cls: 'secret-group' }));
      $('whispers-empty').hidden = state.secrets.length > 0;
    }
    renderBanner();
    // Follow the newest line, unless the reader scrolled up to read (live); replay always follows.
    for (const s of scrollers) if (mode === 'replay' || nearEnd.get(s)) scrollToEnd(s, true);
  }

  let renderQueued = false;
  function scheduleRender() {
    if (renderQueued) return;
    renderQueued = true;
    const run = () => { renderQueued = false; try { render(); } catch (e) { showError('render', String(e && e.message || e)); } };
    if (document.hidden) setTimeout(run, 50); else requestAnimationFrame(run);
  }

  // ────────────────────────── page chrome ──────────────────────────
  function pageUrl(extra) {
    const q = new URLSearchParams();
    if (token && !(extra && extra.public)) q.set('token', token);
    if (extra && typeof extra.seq === 'number') q.set('seq', String(extra.seq));
    const s = q.toString();
    return `/games/${enc(gameId)}${s ? `?${s}` : ''}`;
  }

  function setConn(stateName, text) {
    const c = $('conn');
    c.dataset.state = stateName;
    c.textContent = text;
  }

  const shownErrors = [];
  function showError(code, message, sticky) {
    const box = $('alerts');
    const item = h('div', { class: `alert ${sticky ? 'sticky' : ''}`, 'data-testid': 'error', 'data-code': code },
      h('strong', null, code), message ? ` — ${message}` : '',
      h('button', { type: 'button', class: 'dismiss', 'aria-label': 'Dismiss', onclick: () => item.remove() }, '×'));
    box.append(item);
    shownErrors.push(item);
    while (box.children.length > 5) box.firstElementChild.remove();
  }

  function initChrome() {
    document.title = `werewolf-hub — ${gameId}`;
    $('game-id').textContent = gameId;
    $('view-badge').textContent = view === 'full' ? 'full view (observer token)' : 'public view';
    $('view-badge').classList.add(view === 'full' ? 'badge-full' : 'badge-public');
    document.body.dataset.view = view;
    $('view-explain').textContent = view === 'full'
      ? 'You are watching the full view: every role, wolf whispers and night actions (shown in the secret style), possibly delayed by the game\'s observer_delay_ms.'
      : 'You are watching the public view: what everyone at the table knows. Roles are revealed when the game ends. Enter the observer token for the full view.';
    const pub = $('public-link');
    pub.href = pageUrl({ public: true, seq: wantReplaySeq ?? undefined });
    pub.hidden = view === 'public';
    $('token-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const t = $('token-input').value.trim();
      if (!t) { $('token-input').focus(); return; }
      const q = new URLSearchParams({ token: t });
      if (mode === 'replay') q.set('seq', String(state.lastSeq));
      location.assign(`/games/${enc(gameId)}?${q}`);
    });
    if (token) $('token-input').value = token;
  }

  function describeSetup(cfg) {
    if (!cfg || typeof cfg !== 'object') return;
    const inner = cfg.config || {};
    setup = {
      talkRounds: inner.talk_rounds, publicVotes: inner.public_votes, delayMs: cfg.observer_delay_ms,
      roles: inner.roles, players: cfg.player_count,
    };
    if (setup.talkRounds) state.talkRounds = setup.talkRounds;
    let counts = null;
    let preset = null;
    if (inner.roles && inner.roles.preset) { preset = inner.roles.preset; counts = PRESETS[preset] || null; }
    else if (inner.roles && inner.roles.counts) counts = inner.roles.counts;
    const parts = [];
    if (counts) {
      const plural = (r, n) => (n === 1 ? ROLE_LABEL[r] || r : r === 'werewolf' ? 'Werewolves' : `${ROLE_LABEL[r] || r}s`);
      parts.push(Object.entries(counts).filter(([, n]) => n > 0).map(([r, n]) => `${n} ${plural(r, n)}`).join(', '));
    }
    const txt = [preset ? `${preset}: ` : '', parts.join('')].join('');
    const notes = [];
    if (inner.talk_rounds) notes.push(`${inner.talk_rounds} talk round${inner.talk_rounds > 1 ? 's' : ''}`);
    if (inner.public_votes === false) notes.push('ballots hidden from the public (tallies only)');
    if (view === 'full' && cfg.observer_delay_ms) notes.push(`full view delayed by ${(cfg.observer_delay_ms / 1000).toFixed(1)} s`);
    $('setup').textContent = [txt, notes.join(' · ')].filter(Boolean).join(' — ');
    $('tc-setup').textContent = preset || '';
  }

  async function fetchGameInfo() {
    try {
      const res = await fetch(`/games/${enc(gameId)}`, { headers: { accept: 'application/json' }, cache: 'no-store' });
      if (res.status === 404) return { missing: true };
      if (!res.ok) return { error: `HTTP ${res.status}` };
      return { info: await res.json() };
    } catch (e) {
      return { error: String(e && e.message || e) };
    }
  }

  /** Seats of a game not started yet (names appear as seats are claimed); public info only. */
  function seedSeatsFromInfo(info) {
    if (!info || !Array.isArray(info.players)) return;
    for (const p of info.players) {
      const q = player(state, p.id);
      if (p.name) q.name = p.name; else if (q.name === p.id) q.name = '';
      if (typeof p.connected === 'boolean' && q.connected === null) q.connected = p.connected;
    }
    reorder(state, info.players.map((p) => p.id));
    if (!state.phase && info.phase) { state.phase = info.phase; state.day = info.day || 0; }
  }

  // ───────────────────────────── live ──────────────────────────────
  const live = {
    ws: null, clientId: `web-${Math.random().toString(16).slice(2, 10)}${Date.now().toString(16).slice(-4)}`,
    attempt: 0, failuresBeforeOpen: 0, timer: null, stopped: false, expectSnapshot: false, welcomed: false,
  };

  function wsUrl() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const q = new URLSearchParams({ client_type: 'observer', game_id: gameId });
    if (token) q.set('token', token);
    // last_seq=0 on the first connection: the server replays the whole stream (no snapshot),
    // so a page opened mid-game still shows the discussion so far.
    q.set('last_seq', String(state.lastSeq));
    return `${proto}//${location.host}/ws/${enc(live.clientId)}?${q}`;
  }

  function connect() {
    if (live.stopped) return;
    clearTimeout(live.timer);
    live.welcomed = false;
    setConn(live.attempt ? 'reconnecting' : 'connecting', live.attempt ? 'reconnecting…' : 'connecting…');
    let ws;
    try {
      ws = new WebSocket(wsUrl());
    } catch (e) {
      showError('websocket', String(e && e.message || e));
      scheduleReconnect();
      return;
    }
    live.ws = ws;
    ws.onmessage = (ev) => { if (ws === live.ws) onFrame(ev.data); };
    ws.onclose = (ev) => { if (ws === live.ws) { live.ws = null; onClose(ev); } };
    ws.onerror = () => { /* a close event follows */ };
  }

  function onFrame(data) {
    let f;
    try { f = JSON.parse(data); } catch { return; }
    if (!f || typeof f !== 'object') return;
    switch (f.message_type) {
      case 'connection':
        live.welcomed = true;
        live.attempt = 0;
        live.failuresBeforeOpen = 0;
        live.expectSnapshot = !!(f.data && f.data.recovered === false);
        if (typeof f.timestamp === 'number') clockOffset = f.timestamp - Date.now() / 1000;
        setConn('live', live.expectSnapshot && state.lastSeq > 0 ? 'live (resynchronised)' : 'live');
        return;
      case 'error':
        showError(f.code || 'error', f.message || '');
        return;
      case 'pong':
      case 'ping':
      case 'disconnection':
        return;
      default:
        break;
    }
    if (typeof f.seq !== 'number') return;
    if (live.expectSnapshot && f.message_type === 'game_state') {
      live.expectSnapshot = false;
      apply(state, f, true);
      state.lastSeq = Math.max(state.lastSeq, f.seq);
      scheduleRender();
      return;
    }
    if (f.seq <= state.lastSeq) return; // already shown: never a duplicate
    if (f.seq > state.lastSeq + 1 && !live.expectSnapshot) {
      // A hole: reconnect from what we have; the server resends everything after it.
      reconnectNow();
      return;
    }
    apply(state, f, false);
    scheduleRender();
  }

  const CLOSES = {
    1002: [false, 'protocol error'],
    1007: [false, 'invalid UTF-8'],
    1008: [false, 'policy violation (rate limit)'],
    4000: [false, 'replaced by a newer connection with the same id'],
    4003: [false, 'game over and removed'],
  };

  function onClose(ev) {
    if (live.stopped) return;
    const code = ev.code;
    if (code === 4003) {
      live.stopped = true;
      setConn('closed', 'game over and removed');
      showError('4003', 'The game is over and was removed from the hub.', true);
      const last = $('alerts').lastElementChild;
      if (last) last.insertBefore(h('span', null, ' ', h('a', { href: pageUrl({ seq: state.lastSeq || 1 }) }, 'Open the replay')), last.querySelector('.dismiss'));
      return;
    }
    if (code === 4004) {
      live.clientId = `web-${Math.random().toString(16).slice(2, 12)}`;
    }
    if (CLOSES[code] && !CLOSES[code][0]) {
      live.stopped = true;
      setConn('closed', `closed: ${CLOSES[code][1]} (${code})`);
      showError(String(code), CLOSES[code][1], true);
      return;
    }
    if (!live.welcomed) {
      live.failuresBeforeOpen += 1;
      if (live.failuresBeforeOpen >= 2) { diagnose(); return; }
    }
    scheduleReconnect(code);
  }

  /** The socket keeps failing before any frame: find out why over plain HTTP. */
  async function diagnose() {
    const r = await fetchGameInfo();
    if (r.missing) {
      live.stopped = true;
      setConn('error', 'no such game');
      showError('404', `No game \`${gameId}\` on this hub (it may have been removed).`, true);
      return;
    }
    if (r.info && (r.info.winner || r.info.phase === 'ended')) {
      // Over and no longer watchable live: replay it.
      live.stopped = true;
      replayInfo = r.info;
      startReplay(null);
      return;
    }
    if (token) {
      try {
        const res = await fetch(`/games/${enc(gameId)}/events?view=full&token=${enc(token)}&from_seq=${Number.MAX_SAFE_INTEGER}`, { cache: 'no-store' });
        if (res.status === 401) {
          live.stopped = true;
          setConn('error', 'token refused');
          showError('401', 'The observer token was refused. Open the public view or enter the right token.', true);
          return;
        }
      } catch { /* hub down: keep retrying */ }
    }
    scheduleReconnect();
  }

  function scheduleReconnect(code) {
    if (live.stopped) return;
    const delay = Math.min(15000, 500 * 2 ** live.attempt) * (0.6 + Math.random() * 0.4);
    live.attempt += 1;
    const at = Date.now() + delay;
    setConn('reconnecting', `disconnected${code ? ` (${code})` : ''} — retrying in ${Math.ceil(delay / 1000)} s`);
    clearTimeout(live.timer);
    live.timer = setTimeout(connect, delay);
    live.retryAt = at;
  }

  function reconnectNow() {
    const ws = live.ws;
    live.ws = null;
    if (ws) { try { ws.close(1000); } catch { /* already closed */ } }
    clearTimeout(live.timer);
    // Repeated holes (should never happen) back off instead of spinning.
    const now = Date.now();
    live.gaps = now - (live.lastGap || 0) < 60000 ? (live.gaps || 0) + 1 : 1;
    live.lastGap = now;
    live.timer = setTimeout(connect, Math.min(10000, 50 * 4 ** (live.gaps - 1)));
  }

  let lobbyPoll = null;
  function pollLobbySeats() {
    clearInterval(lobbyPoll);
    lobbyPoll = setInterval(async () => {
      if (state.phase && state.phase !== 'lobby') { clearInterval(lobbyPoll); return; }
      const r = await fetchGameInfo();
      if (r.info && (!state.phase || state.phase === 'lobby')) { seedSeatsFromInfo(r.info); scheduleRender(); }
    }, 2000);
  }

  function startLive(info) {
    mode = 'live';
    $('mode-badge').textContent = 'live';
    document.body.dataset.mode = 'live';
    if (info) seedSeatsFromInfo(info);
    if (info && info.phase === 'lobby') pollLobbySeats();
    scheduleRender();
    connect();
    setInterval(() => {
      renderCountdown();
      if (live.timer && live.retryAt && $('conn').dataset.state === 'reconnecting') {
        const s = Math.max(0, Math.ceil((live.retryAt - Date.now()) / 1000));
        $('conn').textContent = `disconnected — retrying in ${s} s`;
      }
    }, 250);
    window.addEventListener('pagehide', () => {
      live.paused = !live.stopped;
      live.stopped = true;
      const ws = live.ws;
      live.ws = null;
      if (ws) { try { ws.close(1000); } catch { /* ignore */ } }
    });
    window.addEventListener('pageshow', (e) => {
      if (e.persisted && live.paused) { live.paused = false; live.stopped = false; live.attempt = 0; connect(); }
    });
  }

  // ──────────────────────────── replay ─────────────────────────────
  const replay = { frames: [], pos: 0, playing: false, timer: null, speed: 1 };

  function parseLines(text) {
    const out = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const f = JSON.parse(line);
        if (f && typeof f.seq === 'number') out.push(f);
      } catch { /* skip a damaged line */ }
    }
    out.sort((a, b) => a.seq - b.seq);
    return out.filter((f, i) => i === 0 || f.seq !== out[i - 1].seq);
  }

  const BORING = new Set(['presence', 'game_state']);
  function isVisible(f) {
    if (BORING.has(f.message_type)) return false;
    if (f.message_type === 'action_result' && f.result === 'accepted') return false;
    return true;
  }

  function phaseLabel(p) {
    if (p.phase === 'night') return `Night ${p.day}`;
    if (p.phase === 'ended') return 'Game over';
    if (p.phase === 'day') return `Day ${p.day} · dawn`;
    return `Day ${p.day} · ${p.phase}`;
  }

  async function startReplay(seq) {
    mode = 'replay';
    clearInterval(lobbyPoll);
    $('mode-badge').textContent = 'replay';
    document.body.dataset.mode = 'replay';
    setConn('replay', 'loading the replay…');
    const v = view === 'full' ? `full&token=${enc(token)}` : 'public';
    let text;
    try {
      const res = await fetch(`/games/${enc(gameId)}/events?view=${v}`, { headers: { accept: 'application/x-ndjson' }, cache: 'no-store' });
      if (!res.ok) {
        let reason = `HTTP ${res.status}`;
        try { const j = await res.json(); if (j && j.error) reason = j.error; } catch { /* not json */ }
        setConn('error', 'replay unavailable');
        showError(String(res.status), res.status === 401 ? `The observer token was refused: ${reason}` : reason, true);
        return;
      }
      text = await res.text();
    } catch (e) {
      setConn('error', 'replay unavailable');
      showError('network', String(e && e.message || e), true);
      return;
    }
    replay.frames = parseLines(text);
    state = newState();
    replay.pos = 0;
    if (replayInfo) seedSeatsFromInfo(replayInfoForSeats());
    const last = replay.frames.length ? replay.frames[replay.frames.length - 1].seq : 0;
    setConn('replay', `replay · ${replay.frames.length} frames`);
    const jump = $('r-jump');
    jump.replaceChildren(h('option', { value: '0' }, 'Start'));
    for (const f of replay.frames) {
      if (f.message_type === 'phase_update') jump.append(h('option', { value: String(f.seq) }, `${phaseLabel({ phase: f.phase, day: f.day })} (seq ${f.seq})`));
    }
    const scrub = $('r-scrub');
    scrub.max = String(last);
    $('replay').hidden = false;
    const over = replayInfo ? !!(replayInfo.winner || replayInfo.phase === 'ended') : true;
    $('r-live').hidden = over;
    $('r-live').href = pageUrl({});
    goToSeq(seq === null || seq === undefined ? last : Math.min(seq, last), false);
  }

  function indexForSeq(seq) {
    // number of frames with f.seq <= seq
    let lo = 0;
    let hi = replay.frames.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (replay.frames[mid].seq <= seq) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  function goToIndex(n, syncUrl = true) {
    n = Math.max(0, Math.min(replay.frames.length, n));
    if (n < replay.pos) { state = newState(); if (replayInfo) seedSeatsFromInfo(replayInfoForSeats()); replay.pos = 0; }
    for (; replay.pos < n; replay.pos += 1) apply(state, replay.frames[replay.pos], false);
    if (n === 0) state.lastSeq = 0;
    render();
    updateReplayControls();
    if (syncUrl) history.replaceState(null, '', pageUrl({ seq: state.lastSeq }));
  }
  function goToSeq(seq, syncUrl = true) { goToIndex(indexForSeq(seq), syncUrl); }

  function updateReplayControls() {
    const total = replay.frames.length;
    const last = total ? replay.frames[total - 1].seq : 0;
    $('r-scrub').value = String(state.lastSeq);
    $('r-scrub').setAttribute('aria-valuetext', `seq ${state.lastSeq} of ${last}`);
    $('r-pos').textContent = `${state.lastSeq} / ${last}`;
    $('r-back').disabled = replay.pos === 0;
    $('r-start').disabled = replay.pos === 0;
    $('r-fwd').disabled = replay.pos >= total;
    $('r-end').disabled = replay.pos >= total;
    const play = $('r-play');
    play.setAttribute('aria-pressed', String(replay.playing));
    play.textContent = replay.playing ? '⏸ Pause' : '▶ Play';
    const jump = $('r-jump');
    let cur = '0';
    for (const o of jump.options) if (Number(o.value) <= state.lastSeq) cur = o.value;
    jump.value = cur;
    jump.dataset.current = cur;
    $('r-share').href = pageUrl({ seq: state.lastSeq, public: true });
    $('r-share').textContent = view === 'full' ? 'Public link to this moment' : 'Link to this moment';
  }

  function step(d) { stopPlay(); goToIndex(replay.pos + d); }

  function tick() {
    if (!replay.playing) return;
    if (replay.pos >= replay.frames.length) { stopPlay(); return; }
    let n = replay.pos + 1;
    while (n < replay.frames.length && !isVisible(replay.frames[n - 1])) n += 1;
    goToIndex(n);
    if (replay.pos >= replay.frames.length) { stopPlay(); return; }
    replay.timer = setTimeout(tick, 900 / replay.speed);
  }
  function startPlay() {
    if (replay.pos >= replay.frames.length) goToIndex(0);
    replay.playing = true;
    updateReplayControls();
    replay.timer = setTimeout(tick, 300 / replay.speed);
  }
  function stopPlay() {
    replay.playing = false;
    clearTimeout(replay.timer);
    updateReplayControls();
  }

  let replayInfo = null;
  function replayInfoForSeats() {
    // Only the seat list (ids, names): everything else comes from the frames.
    return { players: (replayInfo.players || []).map((p) => ({ id: p.id, name: p.name })) };
  }

  function initReplayControls() {
    $('r-start').addEventListener('click', () => { stopPlay(); goToIndex(0); });
    $('r-back').addEventListener('click', () => step(-1));
    $('r-fwd').addEventListener('click', () => step(1));
    $('r-end').addEventListener('click', () => { stopPlay(); goToIndex(replay.frames.length); });
    $('r-play').addEventListener('click', () => (replay.playing ? stopPlay() : startPlay()));
    // 'click' too: a WebDriver click on an <option> changes the value without 'change'.
    for (const t of ['change', 'input', 'click']) {
      $('r-speed').addEventListener(t, (e) => { replay.speed = Number(e.target.value) || 1; });
      $('r-jump').addEventListener(t, (e) => {
        const v = e.target.value;
        if (v === e.target.dataset.current) return;
        stopPlay();
        goToSeq(Number(v));
      });
    }
    $('r-scrub').addEventListener('input', (e) => { stopPlay(); goToSeq(Number(e.target.value)); });
    document.addEventListener('keydown', (e) => {
      if (mode !== 'replay' || e.altKey || e.ctrlKey || e.metaKey) return;
      const tag = (e.target && e.target.tagName) || '';
      if (tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA') return;
      if (e.key === 'ArrowRight') { e.preventDefault(); step(1); }
      else if (e.key === 'ArrowLeft') { e.preventDefault(); step(-1); }
      else if (e.key === 'Home') { e.preventDefault(); stopPlay(); goToIndex(0); }
      else if (e.key === 'End') { e.preventDefault(); stopPlay(); goToIndex(replay.frames.length); }
      else if ((e.key === ' ' || e.key === 'k') && tag !== 'BUTTON' && tag !== 'A') { e.preventDefault(); replay.playing ? stopPlay() : startPlay(); }
    });
  }

  // ───────────────────────────── start ─────────────────────────────
  async function main() {
    initChrome();
    initReplayControls();
    if (!gameId) { showError('url', 'No game id in the address.', true); return; }
    const r = await fetchGameInfo();
    if (r.missing) {
      setConn('error', 'no such game');
      showError('404', `No game \`${gameId}\` on this hub.`, true);
      $('mode-badge').textContent = '—';
      render();
      return;
    }
    const info = r.info || null;
    if (info) describeSetup(info.config);
    const over = !!(info && (info.winner || info.phase === 'ended'));
    if (wantReplaySeq !== null || over) {
      replayInfo = info;
      startReplay(wantReplaySeq);
    } else {
      startLive(info);
    }
  }

  window.addEventListener('error', (e) => { try { showError('script', String(e.message)); } catch { /* ignore */ } });
  main();
})();
