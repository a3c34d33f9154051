// werewolf-hub — table page, part 4 of 6: live mode over the WebSocket.
// An `observer` client on `/ws/{client_id}` with `last_seq` resume: frames are applied in
// seq order (never a duplicate; a hole reconnects from the last applied seq; a snapshot
// after `connection{recovered:false}` resynchronises), reconnects with jittered backoff,
// close codes (4003 → offer the replay, 4004 → new client id, fatal codes stop), and plain
// HTTP checks when the socket keeps failing (404, game over → replay, token refused).
'use strict';

(() => {
  const WT = (window.WerewolfTable = window.WerewolfTable || {});
  const { page, $, h, enc, setConn, showError, pageUrl, fetchGameInfo, scheduleRender, renderCountdown } = WT;
  const { apply, seedSeats } = WT.State;
  const { gameId, token } = page;

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
    q.set('last_seq', String(page.state.lastSeq));
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
    const state = page.state;
    switch (f.message_type) {
      case 'connection':
        live.welcomed = true;
        live.attempt = 0;
        live.failuresBeforeOpen = 0;
        live.expectSnapshot = !!(f.data && f.data.recovered === false);
        if (typeof f.timestamp === 'number') page.clockOffset = f.timestamp - Date.now() / 1000;
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
      if (last) last.insertBefore(h('span', null, ' ', h('a', { href: pageUrl({ seq: page.state.lastSeq || 1 }) }, 'Open the replay')), last.querySelector('.dismiss'));
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
      page.replayInfo = r.info;
      WT.startReplay(null);
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
      if (page.state.phase && page.state.phase !== 'lobby') { clearInterval(lobbyPoll); return; }
      const r = await fetchGameInfo();
      if (r.info && (!page.state.phase || page.state.phase === 'lobby')) { seedSeats(page.state, r.info); scheduleRender(); }
    }, 2000);
  }

  function startLive(info) {
    page.mode = 'live';
    $('mode-badge').textContent = 'live';
    document.body.dataset.mode = 'live';
    if (info) seedSeats(page.state, info);
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

  function stopLobbyPoll() { clearInterval(lobbyPoll); }

  Object.assign(WT, { startLive, stopLobbyPoll });
})();
