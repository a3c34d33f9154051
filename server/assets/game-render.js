// werewolf-hub — table page, part 3 of 6: `render()` draws `page.state` into the DOM.
// Seats around the table, status line and countdown, transcript, votes, deaths, the
// full view's secret panel and the game-over banner; keyed list sync so replay can step
// back. Draws only what the state holds (which only holds what the stream sent).
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
'use strict';

(() => {
  const WT = (window.WerewolfTable = window.WerewolfTable || {});
  const { page, $, h, fill, fmtClock, fmtLeft, ROLE_LABEL, PHASE_LABEL, pageUrl, showError } = WT;
  const { nameOf } = WT.State;
  const { view } = page;

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
    const state = page.state;
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
    const state = page.state;
    const p = state.players.get(id);
    const n = Math.max(state.order.length, 1);
    return p ? Math.round(((p.no - 1) * 360) / n) : 0;
  }
  function who(id, fallback) {
    const state = page.state;
    if (!id) return h('span', { class: 'who nobody' }, 'nobody');
    return h('span', { class: 'who', style: `--hue:${hueOf(id)}`, title: id }, fallback || nameOf(state, id));
  }
  function roleTag(role) {
    return role ? h('span', { class: `role role-${role}` }, ROLE_LABEL[role] || role) : null;
  }

  function deathText(cause, day, shotBy) {
    const state = page.state;
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

  function makeReasoning(e) {
    return h('li', { class: 'line reasoning', 'data-kind': 'reasoning', 'data-player': e.player, 'data-action': e.action || '', 'data-request': e.requestId || '' },
      h('span', { class: 'tag tag-reasoning' }, 'reasoning (private during the game)'), ' ', who(e.player),
      e.action ? h('span', { class: 'muted' }, ` (${e.action})`) : '', h('span', { class: 'sep', 'aria-hidden': 'true' }, ': '), h('span', { class: 'text' }, withNames(e.text)));
  }

  function makeTalk(e) {
    if (e.kind === 'reasoning') return makeReasoning(e);
    if (e.kind === 'round') return h('li', { class: 'round-sep', role: 'presentation' }, `Round ${e.round}`);
    if (e.kind === 'skip') {
      return h('li', { class: 'line skip', 'data-kind': 'skip', 'data-speaker': e.speaker }, who(e.speaker), ' ', h('em', null, 'skipped their turn'));
    }
    return h('li', { class: 'line talk', 'data-kind': 'talk', 'data-speaker': e.speaker },
      who(e.speaker, e.name), h('span', { class: 'sep', 'aria-hidden': 'true' }, ': '), h('span', { class: 'text' }, withNames(e.text)));
  }

  function makeVote(e) {
    if (e.kind === 'reasoning') return makeReasoning(e);
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
    if (e.kind === 'reasoning') return makeReasoning(e);
    const state = page.state;
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
    if (e.kind === 'reasoning') return makeReasoning(e);
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
    const state = page.state;
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
    const state = page.state;
    if (!state.phase) return '—';
    if (state.phase === 'night') return `Night ${state.day}`;
    if (state.phase === 'ended') return 'Game over';
    if (state.phase === 'lobby') return PHASE_LABEL.lobby;
    return `Day ${state.day} · ${PHASE_LABEL[state.phase] || state.phase}`;
  }

  function renderStatus() {
    const state = page.state;
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
    const { state, mode, clockOffset } = page;
    const el = $('countdown');
    if (!state.deadline || state.phase === 'ended') { el.textContent = '—'; return; }
    const now = mode === 'live' ? Date.now() / 1000 + clockOffset : state.lastTs;
    el.textContent = typeof now === 'number' ? fmtLeft(state.deadline - now) : '—';
  }

  function renderBanner() {
    const { state, mode } = page;
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
    const { state, mode } = page;
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

  Object.assign(WT, { render, scheduleRender, renderCountdown });
})();
