// werewolf-hub — table page, part 5 of 6: replay mode.
// Loads the whole stream from `GET /games/{id}/events` (public, or full with the token),
// then rebuilds the state up to any seq: step / play (speed) / jump to a phase / scrubber,
// first / last, keyboard keys, and the `?seq=N` URL kept in sync with the position.
'use strict';

(() => {
  const WT = (window.WerewolfTable = window.WerewolfTable || {});
  const { page, $, h, enc, setConn, showError, pageUrl, render } = WT;
  const { newState, apply, seedSeats } = WT.State;
  const { gameId, token, view } = page;

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

  // The players' private reasoning opens when the game is over (403 before): each line goes
  // right after the frame it follows — `after_seq` in the full view, by time in the public
  // view (whose numbering differs) — with that frame's seq, so positions stay in seq terms.
  async function loadReasoning() {
    const info = page.replayInfo;
    if (info && !(info.winner || info.phase === 'ended')) return [];
    try {
      const res = await fetch(`/games/${enc(gameId)}/events?view=reasoning`, { headers: { accept: 'application/x-ndjson' }, cache: 'no-store' });
      if (!res.ok) return [];
      return parseLines(await res.text()).filter((f) => f.message_type === 'reasoning');
    } catch { return []; }
  }

  function mergeReasoning(frames, notes) {
    if (!notes.length) return frames;
    const anchored = new Map();
    for (const n of notes) {
      let at = 0;
      if (view === 'full') at = n.after_seq || 0;
      else for (const f of frames) { if (f.timestamp <= n.timestamp) at = f.seq; else break; }
      if (!anchored.has(at)) anchored.set(at, []);
      anchored.get(at).push({ ...n, reasoningSeq: n.seq, seq: at });
    }
    const out = [...(anchored.get(0) || [])];
    for (const f of frames) { out.push(f); out.push(...(anchored.get(f.seq) || [])); }
    return out;
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
    page.mode = 'replay';
    WT.stopLobbyPoll();
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
    replay.frames = mergeReasoning(parseLines(text), await loadReasoning());
    page.state = newState(page.setup);
    replay.pos = 0;
    if (page.replayInfo) seedSeats(page.state, replayInfoForSeats());
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
    const { replayInfo } = page;
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
    if (n < replay.pos) { page.state = newState(page.setup); if (page.replayInfo) seedSeats(page.state, replayInfoForSeats()); replay.pos = 0; }
    const state = page.state;
    for (; replay.pos < n; replay.pos += 1) apply(state, replay.frames[replay.pos], false);
    if (n === 0) state.lastSeq = 0;
    render();
    updateReplayControls();
    if (syncUrl) history.replaceState(null, '', pageUrl({ seq: state.lastSeq }));
  }
  function goToSeq(seq, syncUrl = true) { goToIndex(indexForSeq(seq), syncUrl); }

  function updateReplayControls() {
    const state = page.state;
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

  function replayInfoForSeats() {
    // Only the seat list (ids, names): everything else comes from the frames.
    return { players: (page.replayInfo.players || []).map((p) => ({ id: p.id, name: p.name })) };
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
      if (page.mode !== 'replay' || e.altKey || e.ctrlKey || e.metaKey) return;
      const tag = (e.target && e.target.tagName) || '';
      if (tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA') return;
      if (e.key === 'ArrowRight') { e.preventDefault(); step(1); }
      else if (e.key === 'ArrowLeft') { e.preventDefault(); step(-1); }
      else if (e.key === 'Home') { e.preventDefault(); stopPlay(); goToIndex(0); }
      else if (e.key === 'End') { e.preventDefault(); stopPlay(); goToIndex(replay.frames.length); }
      else if ((e.key === ' ' || e.key === 'k') && tag !== 'BUTTON' && tag !== 'A') { e.preventDefault(); replay.playing ? stopPlay() : startPlay(); }
    });
  }

  Object.assign(WT, { startReplay, initReplayControls });
})();
