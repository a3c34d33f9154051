// werewolf-hub — the table page, `/games/{id}`, part 6 of 6: the entry that wires the rest.
// Live over the WebSocket (an `observer` client, with `last_seq` resume) and replay of the
// stream from `GET /games/{id}/events`; both modes feed frames to one `apply(state, frame)`
// and draw with one `render()`. Hand-written ES2020, no dependencies, no build step.
//
// Loaded by game.html, in this order, as plain scripts sharing `window.WerewolfTable`:
//   game-state.js   the state object and apply(state, frame) — pure, no DOM
//   game-page.js    URL parameters, the shared page context, DOM helpers, header, alerts
//   game-render.js  render() into the DOM (the stable data-* hooks for tests are listed there)
//   game-live.js    the WebSocket: backoff, last_seq, holes, close codes, HTTP checks
//   game-replay.js  /events loading, step / play / jump / scrubber, URL sync, keys
//   game.js         this file: chooses live or replay and starts
//
// URL parameters: `?token=<observer_token>` → the full view; `?seq=N` → replay, at seq N.
//
// Hidden information: this page renders only what the server sent on the stream it is
// entitled to. Without a token it reads the public stream (WebSocket without token,
// `/events?view=public`) and the public `GET /games/{id}`; nothing token-gated is fetched.
'use strict';

(() => {
  const WT = window.WerewolfTable;
  const { page, $, setConn, showError, initChrome, describeSetup, fetchGameInfo, render, initReplayControls, startReplay, startLive } = WT;
  const { gameId, wantReplaySeq } = page;

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
      page.replayInfo = info;
      startReplay(wantReplaySeq);
    } else {
      startLive(info);
    }
  }

  window.addEventListener('error', (e) => { try { showError('script', String(e.message)); } catch { /* ignore */ } });
  main();
})();
