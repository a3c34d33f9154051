// werewolf-hub — the lobby page, `/`: every game (polled from `GET /games` every 2 s),
// a "create a game" form (`POST /games`), and the seated agents (`GET /agents`).
// Hand-written ES2020, no dependencies, no build step.
//
// Stable hooks for browser tests (do not rename without updating the tests):
//   [data-testid="games"]            the games table; one row per game:
//   [data-game="{game_id}"]          a row, with data-phase="{phase}" and data-winner when over;
//                                    its first cell links to /games/{game_id}
//   [data-filter="running|finished|all"] (also data-testid="filter-running" …) the filter
//                                    buttons; the active one has aria-pressed="true".
//                                    running = not over (lobby + started), finished =
//                                    `GET /games?status=finished` (includes retired games),
//                                    all = both
//   [data-testid="create-form"]      the form: [data-testid="preset"] (select), inputs named
//                                    seed, action_timeout_ms, talk_rounds, observer_delay_ms,
//                                    public_votes, players (textarea), admin_token;
//                                    [data-testid="create-submit"]
//   [data-testid="created"]          the answer to a 201: [data-testid="created-game-id"],
//                                    [data-testid="observer-token"], [data-testid="link-public"],
//                                    [data-testid="link-full"], one [data-player="{player_id}"]
//                                    row per seat with [data-testid="seat-token"]
//   [data-testid="create-error"]     is #create-error: the refusal reason (400/401/…)
//   [data-testid="agents"]           the agents table; one [data-agent="{player_id}"] row each,
//                                    with data-status="online|offline"
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const enc = encodeURIComponent;
  const SEATS = { aiwolf5: 5, arena8: 8, classic9: 9, aiwolf13: 13 };
  const ROLES = {
    aiwolf5: '1 werewolf, 1 possessed, 1 seer, 2 villagers',
    arena8: '2 werewolves, seer, doctor, 4 villagers',
    classic9: '2 werewolves, seer, witch, hunter, 4 villagers',
    aiwolf13: '3 werewolves, possessed, seer, doctor, medium, 6 villagers',
  };
  const PHASE = { lobby: 'waiting for players', night: 'night', day: 'dawn', discussion: 'discussion', vote: 'vote', ended: 'over' };
  const POLL_MS = 2000;

  function h(tag, props, ...kids) {
    const el = document.createElement(tag);
    if (props) {
      for (const [k, v] of Object.entries(props)) {
        if (v === null || v === undefined || v === false) continue;
        if (k === 'class') el.className = v;
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

  function ago(epochS) {
    if (typeof epochS !== 'number') return '—';
    const s = Math.max(0, Date.now() / 1000 - epochS);
    if (s < 5) return 'just now';
    if (s < 60) return `${Math.floor(s)} s ago`;
    if (s < 3600) return `${Math.floor(s / 60)} min ago`;
    if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
    return new Date(epochS * 1000).toLocaleDateString();
  }
  const fullDate = (epochS) => (typeof epochS === 'number' ? new Date(epochS * 1000).toLocaleString() : '');

  // ─────────────────────────── games list ──────────────────────────
  let filter = sessionStorage.getItem('ww.filter') || 'running';
  if (!['running', 'finished', 'all'].includes(filter)) filter = 'running';
  let polling = false;

  async function getJson(url) {
    const res = await fetch(url, { headers: { accept: 'application/json' }, cache: 'no-store' });
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
    return res.json();
  }

  async function loadGames() {
    if (filter === 'finished') return getJson('/games?status=finished');
    if (filter === 'running') return (await getJson('/games')).filter((g) => !g.winner && g.phase !== 'ended');
    const [mem, fin] = await Promise.all([getJson('/games'), getJson('/games?status=finished')]);
    const byId = new Map();
    for (const g of fin) byId.set(g.game_id, g);
    for (const g of mem) byId.set(g.game_id, g);
    return [...byId.values()];
  }

  function setCells(tr, cells) {
    cells.forEach((c, i) => {
      let td = tr.children[i];
      if (!td) { td = h('td'); tr.append(td); }
      td.setAttribute('data-label', c.label);
      if (c.cls) td.className = c.cls;
      if (c.node) {
        if (td.firstChild !== c.node) td.replaceChildren(c.node);
      } else if (td.textContent !== c.text) {
        td.textContent = c.text;
      }
      if (c.title) td.title = c.title; else td.removeAttribute('title');
    });
  }

  const gameRows = new Map();
  function renderGames(games) {
    games.sort((a, b) => (b.created_at || 0) - (a.created_at || 0));
    const body = $('games-body');
    const seen = new Set();
    games.forEach((g, i) => {
      seen.add(g.game_id);
      let row = gameRows.get(g.game_id);
      if (!row) {
        const link = h('a', { href: `/games/${enc(g.game_id)}` }, h('code', null, g.game_id));
        row = { tr: h('tr', { 'data-game': g.game_id }), link, phase: h('span', { class: 'pill' }) };
        gameRows.set(g.game_id, row);
      }
      const over = !!g.winner || g.phase === 'ended';
      row.tr.dataset.phase = g.phase || '';
      if (g.winner) row.tr.dataset.winner = g.winner; else delete row.tr.dataset.winner;
      row.phase.className = `pill phase-${g.phase}`;
      row.phase.textContent = PHASE[g.phase] || g.phase || '—';
      row.link.setAttribute('aria-label', `${over ? 'Replay' : 'Watch'} game ${g.game_id}`);
      setCells(row.tr, [
        { label: 'Game', node: row.link },
        { label: 'Phase', node: row.phase },
        { label: 'Day', text: g.day ? String(g.day) : '—', cls: 'num' },
        { label: 'Alive', text: `${g.alive ?? '?'}/${g.players ?? '?'}`, cls: 'num' },
        { label: 'Winner', text: g.winner || '—' },
        { label: 'Created', text: ago(g.created_at), title: fullDate(g.created_at) },
      ]);
      if (body.children[i] !== row.tr) body.insertBefore(row.tr, body.children[i] || null);
    });
    for (const [id, row] of gameRows) {
      if (!seen.has(id)) { row.tr.remove(); gameRows.delete(id); }
    }
    $('games-empty').hidden = games.length > 0;
    $('games-empty').textContent = filter === 'running' ? 'No game is running. Create one, or look at the finished ones.'
      : filter === 'finished' ? 'No finished game yet.' : 'No game yet.';
  }

  // ──────────────────────────── agents ─────────────────────────────
  const agentRows = new Map();
  function renderAgents(agents) {
    const onlineOnly = $('agents-online').checked;
    const list = agents.filter((a) => !onlineOnly || a.status === 'online');
    list.sort((a, b) => (a.status === b.status ? 0 : a.status === 'online' ? -1 : 1)
      || String(b.game_id).localeCompare(String(a.game_id)) || (a.seat || 0) - (b.seat || 0));
    const shown = list.slice(0, 300);
    const body = $('agents-body');
    const seen = new Set();
    shown.forEach((a, i) => {
      seen.add(a.player_id);
      let row = agentRows.get(a.player_id);
      if (!row) {
        row = {
          tr: h('tr', { 'data-agent': a.player_id }),
          who: h('span', null, h('strong', null, a.name || '—'), h('br'), h('code', { class: 'small muted' }, a.player_id)),
          game: h('a', { href: `/games/${enc(a.game_id)}` }, h('code', null, a.game_id)),
          status: h('span', { class: 'pill' }),
        };
        agentRows.set(a.player_id, row);
      }
      row.tr.dataset.status = a.status;
      row.status.className = `pill ${a.status}`;
      row.status.textContent = a.status;
      setCells(row.tr, [
        { label: 'Agent', node: row.who },
        { label: 'Game', node: row.game },
        { label: 'Seat', text: String(a.seat ?? '—'), cls: 'num' },
        { label: 'Status', node: row.status },
        { label: 'Last seen', text: ago(a.last_seen), title: fullDate(a.last_seen) },
        { label: 'Timeouts', text: a.timeouts === null || a.timeouts === undefined ? '—' : String(a.timeouts), cls: 'num', title: a.timeouts === null ? 'shown when the game has ended' : null },
      ]);
      if (body.children[i] !== row.tr) body.insertBefore(row.tr, body.children[i] || null);
    });
    for (const [id, row] of agentRows) if (!seen.has(id)) { row.tr.remove(); agentRows.delete(id); }
    $('agents-empty').hidden = shown.length > 0;
    $('agents-updated').textContent = list.length > shown.length ? `showing ${shown.length} of ${list.length}` : `${list.length} agent${list.length === 1 ? '' : 's'}`;
  }

  let lastAgents = [];
  async function poll() {
    if (polling) return;
    polling = true;
    const myFilter = filter;
    try {
      const [games, agents] = await Promise.all([loadGames(), getJson('/agents')]);
      if (myFilter === filter) renderGames(games);
      lastAgents = Array.isArray(agents) ? agents : [];
      renderAgents(lastAgents);
      $('games-error').textContent = '';
      $('conn').dataset.state = 'live';
      $('conn').textContent = `updated ${new Date().toLocaleTimeString()}`;
    } catch (e) {
      $('games-error').textContent = `Cannot reach the hub (${e && e.message ? e.message : e}); retrying…`;
      $('conn').dataset.state = 'reconnecting';
      $('conn').textContent = 'hub unreachable — retrying';
    } finally {
      polling = false;
    }
  }

  function setFilter(f) {
    filter = f;
    sessionStorage.setItem('ww.filter', f);
    for (const b of document.querySelectorAll('[data-filter]')) b.setAttribute('aria-pressed', String(b.dataset.filter === f));
    $('games-caption').textContent = `${f[0].toUpperCase()}${f.slice(1)} games`;
    poll();
  }

  // ─────────────────────────── create form ─────────────────────────
  function parseNames(text) {
    return text.split(/[\n,]/).map((s) => s.trim()).filter(Boolean);
  }

  function updateHints() {
    const preset = $('f-preset').value;
    $('preset-roles').textContent = ROLES[preset] || '';
    const n = parseNames($('f-players').value).length;
    const want = SEATS[preset];
    $('players-hint').textContent = n === 0 ? `${want} seats, all open until agents join`
      : n === want ? `${n} names for ${want} seats ✓` : `${n} names — ${preset} needs exactly ${want}`;
  }

  function intField(id, name, min, max) {
    const raw = $(id).value.trim();
    if (raw === '') return undefined;
    if (!/^\d+$/.test(raw)) throw new Error(`${name} must be a whole number`);
    const n = Number(raw);
    if (n < min || n > max) throw new Error(`${name} must be between ${min} and ${max}`);
    return n;
  }

  async function onCreate(ev) {
    ev.preventDefault();
    const err = $('create-error');
    err.textContent = '';
    const preset = $('f-preset').value;
    const body = { preset };
    let seedRaw = null;
    try {
      const seed = $('f-seed').value.trim();
      if (seed !== '') {
        if (!/^\d{1,20}$/.test(seed) || BigInt(seed) > 18446744073709551615n) throw new Error('seed must be an integer between 0 and 18446744073709551615');
        seedRaw = seed;
      }
      const t = intField('f-timeout', 'action_timeout_ms', 1, 86400000);
      if (t !== undefined) body.action_timeout_ms = t;
      const r = intField('f-rounds', 'talk_rounds', 1, 10);
      if (r !== undefined) body.talk_rounds = r;
      const d = intField('f-delay', 'observer_delay_ms', 0, 86400000);
      if (d !== undefined) body.observer_delay_ms = d;
      if (!$('f-public-votes').checked) body.public_votes = false;
      const names = parseNames($('f-players').value);
      if (names.length) {
        if (names.length !== SEATS[preset]) throw new Error(`${preset} has ${SEATS[preset]} seats: give ${SEATS[preset]} names, or none to leave the seats open`);
        body.players = names;
      }
    } catch (e) {
      err.textContent = e.message;
      return;
    }
    // The seed is a u64: written as raw digits so no precision is lost in a JS number.
    let json = JSON.stringify(body);
    if (seedRaw !== null) json = `${json.slice(0, -1)},"seed":${seedRaw}}`;
    const headers = { 'content-type': 'application/json', accept: 'application/json' };
    const admin = $('f-admin').value.trim();
    if (admin) headers.authorization = `Bearer ${admin}`;
    sessionStorage.setItem('ww.admin', admin);
    const btn = $('create-submit');
    btn.disabled = true;
    try {
      const res = await fetch('/games', { method: 'POST', headers, body: json });
      const text = await res.text();
      let data = null;
      try { data = JSON.parse(text); } catch { /* not JSON */ }
      if (res.status === 201 && data) {
        const seedMatch = /"seed"\s*:\s*(\d+)/.exec(text);
        showCreated(data, seedMatch ? seedMatch[1] : String(data.seed ?? ''), text);
        poll();
      } else if (res.status === 401) {
        err.textContent = `401 — ${data && data.error ? data.error : 'this hub needs its admin token'}: fill the admin token field.`;
        $('f-admin').focus();
      } else {
        err.textContent = `${res.status} — ${data && data.error ? data.error : text || res.statusText}`;
      }
    } catch (e) {
      err.textContent = `Cannot reach the hub: ${e && e.message ? e.message : e}`;
    } finally {
      btn.disabled = false;
    }
  }

  function copyButton(label, value) {
    return h('button', {
      type: 'button', class: 'small',
      onclick: async (e) => {
        const b = e.currentTarget;
        try {
          await navigator.clipboard.writeText(value);
          b.textContent = 'Copied';
        } catch {
          const ta = h('textarea', { class: 'sr-only' });
          ta.value = value;
          document.body.append(ta);
          ta.select();
          try { document.execCommand('copy'); b.textContent = 'Copied'; } catch { b.textContent = 'Copy failed'; }
          ta.remove();
        }
        setTimeout(() => { b.textContent = label; }, 1500);
      },
    }, label);
  }

  function showCreated(g, seed, raw) {
    const id = g.game_id;
    const pub = `/games/${enc(id)}`;
    const full = `/games/${enc(id)}?token=${enc(g.observer_token)}`;
    const seats = Array.isArray(g.players) ? g.players : [];
    const base = location.origin;
    const box = $('created');
    box.replaceChildren(h('div', { class: 'created' },
      h('h3', null, 'Game created'),
      h('p', null, 'Game ', h('a', { href: pub, 'data-testid': 'created-game-id' }, id), ' · seed ', h('code', null, seed)),
      h('div', { class: 'linkrow' },
        h('a', { href: pub, 'data-testid': 'link-public' }, 'Watch — public view'),
        h('a', { href: full, 'data-testid': 'link-full' }, 'Watch — full view (observer token)')),
      h('p', { class: 'small' }, 'Observer token: ', h('code', { class: 'secretval', 'data-testid': 'observer-token' }, g.observer_token), ' ',
        copyButton('Copy', g.observer_token)),
      h('p', { class: 'small muted' }, 'Tokens are shown only now: copy them before leaving the page. ', copyButton('Copy everything (JSON)', raw)),
      seats.length ? h('table', { class: 'list', 'data-testid': 'created-seats' },
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Seat'), h('th', { scope: 'col' }, 'player_id'), h('th', { scope: 'col' }, 'token'))),
        h('tbody', null, seats.map((p, i) => h('tr', { 'data-player': p.player_id },
          h('td', { 'data-label': 'Seat' }, `${i + 1}. ${p.name}`),
          h('td', { 'data-label': 'player_id' }, h('code', null, p.player_id)),
          h('td', { 'data-label': 'token' }, h('code', { class: 'secretval', 'data-testid': 'seat-token' }, p.token)))))) : null,
      seats.length
        ? h('details', null, h('summary', { class: 'small' }, 'Commands to seat a bot on each seat'),
          h('pre', { class: 'small secretval' }, seats.map((p) => `cargo run --example bot_agent -- --url ${base} --game ${id} --player ${p.player_id} --token ${p.token}`).join('\n')))
        : h('p', { class: 'small' }, 'The seats are open: each agent claims one with ',
          h('code', null, `curl -XPOST ${base}/games/${id}/join -H 'content-type: application/json' -d '{"name":"…"}'`),
          ' and connects with the player_id and token it gets back.')));
    box.querySelector('h3').setAttribute('tabindex', '-1');
    box.querySelector('h3').focus();
  }

  // ───────────────────────────── start ─────────────────────────────
  function main() {
    for (const b of document.querySelectorAll('[data-filter]')) b.addEventListener('click', () => setFilter(b.dataset.filter));
    $('create-form').addEventListener('submit', onCreate);
    $('f-preset').addEventListener('change', updateHints);
    $('f-players').addEventListener('input', updateHints);
    $('agents-online').addEventListener('change', () => renderAgents(lastAgents));
    $('create-error').setAttribute('data-testid', 'create-error');
    const admin = sessionStorage.getItem('ww.admin');
    if (admin) $('f-admin').value = admin;
    updateHints();
    setFilter(filter);
    setInterval(() => { if (!document.hidden) poll(); }, POLL_MS);
    document.addEventListener('visibilitychange', () => { if (!document.hidden) poll(); });
  }
  main();
})();
