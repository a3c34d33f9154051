// werewolf-hub — table page, part 2 of 6: the page context and its chrome.
// Reads the URL (`?token=` → full view, `?seq=N` → replay at seq N), holds the shared
// mutable context (`page.state`, `page.mode`, `page.setup`, `page.clockOffset`,
// `page.replayInfo`), the DOM helpers (`$`, `h`, `fill`), the header / view panel / setup
// line, the connection badge and error alerts, and the public `GET /games/{id}` check.
'use strict';

(() => {
  const WT = (window.WerewolfTable = window.WerewolfTable || {});
  const { newState } = WT.State;

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

  // ───────────────────────── shared context ────────────────────────
  const page = {
    gameId, token, view, wantReplaySeq,
    setup: null, // public setup from GET /games/{id}: {talkRounds, publicVotes, delayMs, roles, players}
    state: null, // the state being shown (replay swaps in a fresh one to step back)
    mode: 'live',
    clockOffset: 0, // server clock − local clock, seconds (live)
    replayInfo: null, // GET /games/{id} of a replayed game (its seat list)
  };
  page.state = newState(page.setup);

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
      if (page.mode === 'replay') q.set('seq', String(page.state.lastSeq));
      location.assign(`/games/${enc(gameId)}?${q}`);
    });
    if (token) $('token-input').value = token;
  }

  function describeSetup(cfg) {
    if (!cfg || typeof cfg !== 'object') return;
    const inner = cfg.config || {};
    const setup = (page.setup = {
      talkRounds: inner.talk_rounds, publicVotes: inner.public_votes, delayMs: cfg.observer_delay_ms,
      roles: inner.roles, players: cfg.player_count,
    });
    if (setup.talkRounds) page.state.talkRounds = setup.talkRounds;
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

  Object.assign(WT, {
    page, $, h, fill, enc, fmtClock, fmtLeft, ROLE_LABEL, PHASE_LABEL,
    pageUrl, setConn, showError, initChrome, describeSetup, fetchGameInfo,
  });
})();
