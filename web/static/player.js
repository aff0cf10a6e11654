// bcast player: lists streams, plays one over WHEP.
//
// Test hooks:
//   window.bcastState  "idle" | "connecting" | "waiting" | "playing" | "full"
//                      | "unsupported" | "reconnecting" | "error"
//   window.bcastStats  latest inbound stats, see emptyStats() below.
import {
  waitForIceGathering, loadIceServers, newPeerConnection, reasonText, resolveLocation,
  deleteSession, sleep, abortError, isAbort, formatBitrate, formatDuration, backoffDelay,
} from './common.js';

const POLL_MS = 2000;
const STATS_MS = 1000;
const FLOW_TIMEOUT_MS = 3000; // no new bytes for this long = media not flowing
const LOST_GRACE_MS = 5000; // "disconnected" for this long = connection lost
// Live, connected, and still nothing arrives for this long: join again. This
// recovers a session that waited for a stream the server cannot send to this
// browser (the new join answers 406 with the reason) or that got stuck.
const SILENT_LIVE_MS = 8000;

const $ = (id) => document.getElementById(id);
const el = {
  player: $('player'),
  video: $('video'),
  overlayText: $('overlay-text'),
  retry: $('retry'),
  unmute: $('unmute'),
  mute: $('mute'),
  fullscreen: $('fullscreen'),
  title: $('stream-title'),
  liveBadge: $('live-badge'),
  viewers: $('viewers'),
  mediaInfo: $('media-info'),
  stats: $('stats'),
  streams: $('streams'),
  streamsEmpty: $('streams-empty'),
  streamsError: $('streams-error'),
};

function emptyStats(connectionState = 'new') {
  return {
    framesDecoded: 0,
    framesPerSecond: 0,
    width: 0,
    height: 0,
    packetsLost: 0,
    jitter: 0, // seconds
    bytesReceived: 0, // video
    bitrateBps: 0, // video, from bytesReceived delta
    audioPacketsReceived: 0,
    audioBytesReceived: 0,
    audioPacketsLost: 0,
    connectionState,
  };
}

window.bcastState = 'idle';
window.bcastStats = emptyStats();

let selected = ''; // stream being shown ('' = none)
let streamsByName = new Map();
let streamsLoaded = false;
let session = null; // { name, ctrl } for the selected stream
let cur = null; // the established peer connection of the session, see attempt()

// ---------------------------------------------------------------- state

function setState(state, text, opts = {}) {
  window.bcastState = state;
  el.player.dataset.state = state;
  if (text !== undefined) el.overlayText.textContent = text;
  el.retry.hidden = !opts.retry;
  updateControls();
}

/** Derives connecting/waiting/playing for an established session. */
function refreshState() {
  const c = cur;
  if (!c || c.closed || !session || session.name !== c.name) return;
  const flowing = c.lastMediaAt > 0 && performance.now() - c.lastMediaAt < FLOW_TIMEOUT_MS;
  const info = streamsByName.get(c.name);
  const pcState = c.pc.connectionState;
  if (!flowing && info?.live && c.connected) {
    const now = performance.now();
    if (!c.silentSince) c.silentSince = now;
    else if (now - c.silentSince > SILENT_LIVE_MS && c.redo) {
      c.silentSince = 0;
      c.redo();
      return;
    }
  } else {
    c.silentSince = 0;
  }
  if (flowing) {
    c.mediaSeen = true;
    setState('playing', '');
  } else if (pcState === 'disconnected' || pcState === 'failed') {
    // No media and the transport is down: say so during the grace period
    // before the session is torn down and redone.
    setState('reconnecting', 'Connection lost, reconnecting…');
  } else if (streamsLoaded && !info?.live) {
    // The WHEP session stays open; the server starts sending when the
    // streamer goes live.
    c.mediaSeen = false;
    setState('waiting', 'Waiting for the stream to start…');
  } else if (c.mediaSeen) {
    setState('playing', ''); // live, momentarily quiet (e.g. static screen share)
  } else if (c.reconnecting) {
    setState('reconnecting', 'Connection lost, reconnecting…');
  } else {
    setState('connecting', 'Connecting…');
  }
}

// ---------------------------------------------------------------- session

function play(name) {
  stopSession();
  selected = name;
  renderSelection();
  renderInfo();
  if (!name) {
    setState('idle', idleText());
    return;
  }
  const ctrl = new AbortController();
  session = { name, ctrl };
  runSession(name, ctrl.signal);
}

function stopSession() {
  if (session) {
    session.ctrl.abort(); // tears down the peer connection, DELETEs the session
    session = null;
  }
  el.video.srcObject = null;
}

async function runSession(name, signal) {
  let failures = 0;
  let reconnecting = false;
  while (!signal.aborted) {
    let res;
    try {
      res = await attempt(name, signal, reconnecting);
    } catch (err) {
      if (signal.aborted || isAbort(err)) return;
      console.warn('bcast: WHEP attempt failed:', err);
      res = { kind: 'retry', reason: err?.message || String(err) };
    }
    if (signal.aborted) return;
    try {
      switch (res.kind) {
        case 'full':
          for (let n = res.retryAfter; n > 0; n--) {
            setState('full', `Server full, retrying in ${n} s…`);
            await sleep(1000, signal);
          }
          break;
        case 'unsupported':
          setState('unsupported', `Your browser cannot play this stream's codec: ${res.reason}`, { retry: true });
          return;
        case 'error':
          setState('error', res.message, { retry: true });
          return;
        case 'lost':
          if (res.wasConnected) failures = 0;
          reconnecting = true;
          setState('reconnecting', 'Connection lost, reconnecting…');
          await sleep(backoffDelay(failures++), signal);
          break;
        default: { // 'retry': network error, 5xx, …
          const text = reconnecting
            ? 'Connection lost, reconnecting…'
            : `Cannot connect${res.reason ? ` (${res.reason})` : ''}, retrying…`;
          reconnecting = true;
          setState('reconnecting', text);
          await sleep(backoffDelay(failures++), signal);
        }
      }
    } catch (err) {
      if (isAbort(err)) return;
      throw err;
    }
  }
}

function parseRetryAfter(value) {
  let secs = parseInt(value ?? '', 10);
  if (!Number.isFinite(secs)) {
    const when = Date.parse(value ?? '');
    secs = Number.isFinite(when) ? Math.ceil((when - Date.now()) / 1000) : 5;
  }
  return Math.min(Math.max(secs, 1), 600);
}

/**
 * One WHEP attempt. Resolves with what happened:
 *   {kind:'full', retryAfter} | {kind:'unsupported', reason} | {kind:'error', message}
 *   | {kind:'retry', reason} | {kind:'lost', wasConnected} | {kind:'aborted'}
 * Once the answer is applied it stays pending until the connection is lost.
 */
async function attempt(name, signal, reconnecting) {
  if (reconnecting) setState('reconnecting', 'Connection lost, reconnecting…');
  else setState('connecting', 'Connecting…');

  const iceServers = await loadIceServers();
  if (signal.aborted) throw abortError();

  const pc = newPeerConnection(iceServers);
  const c = {
    name, pc, location: '', reconnecting, closed: false, connected: false, mediaSeen: false,
    lastBytes: 0, lastMediaAt: 0, prev: null, lostTimer: null, silentSince: 0, redo: null,
  };
  const cleanup = () => {
    if (c.closed) return;
    c.closed = true;
    clearTimeout(c.lostTimer);
    deleteSession(c.location);
    try { pc.close(); } catch { /* ignore */ }
    if (cur === c) {
      cur = null;
      window.bcastStats = emptyStats('closed');
      el.stats.hidden = true;
    }
  };
  signal.addEventListener('abort', cleanup, { once: true });
  const finish = (result) => {
    signal.removeEventListener('abort', cleanup);
    cleanup();
    return result;
  };

  try {
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    const remote = new MediaStream();
    pc.addEventListener('track', (e) => {
      if (c.closed) return;
      remote.addTrack(e.track);
      if (el.video.srcObject !== remote) el.video.srcObject = remote;
      el.video.play().catch(() => {});
    });

    await pc.setLocalDescription(await pc.createOffer());
    await waitForIceGathering(pc);
    if (signal.aborted) throw abortError();

    let resp;
    try {
      // No abort signal here: if the server creates a session we must learn
      // its Location to DELETE it.
      resp = await fetch(`/api/whep/${encodeURIComponent(name)}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/sdp' },
        body: pc.localDescription.sdp,
      });
    } catch {
      return finish({ kind: 'retry', reason: 'cannot reach the server' });
    }

    if (!resp.ok) {
      const reason = await reasonText(resp);
      switch (resp.status) {
        case 503:
          return finish({ kind: 'full', retryAfter: parseRetryAfter(resp.headers.get('Retry-After')) });
        case 406:
          return finish({ kind: 'unsupported', reason: reason || 'no common codec' });
        case 404:
          return finish({ kind: 'error', message: reason ? `Stream not found: ${reason}` : `Stream "${name}" not found.` });
        case 400:
          return finish({ kind: 'error', message: `The server rejected the request: ${reason || 'bad request'}` });
        default:
          if (resp.status >= 500 || resp.status === 408 || resp.status === 429) {
            return finish({ kind: 'retry', reason: `${resp.status}${reason ? ` ${reason}` : ''}` });
          }
          return finish({ kind: 'error', message: `Error ${resp.status}: ${reason || resp.statusText}` });
      }
    }

    const location = resolveLocation(resp);
    const answer = await resp.text();
    if (c.closed) { // aborted while the request was in flight
      deleteSession(location);
      throw abortError();
    }
    c.location = location;
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    if (c.closed) throw abortError();
  } catch (err) {
    finish();
    throw err;
  }

  cur = c;
  el.stats.hidden = false;
  refreshState();

  return new Promise((resolve) => {
    const lost = () => resolve(finish({ kind: 'lost', wasConnected: c.connected }));
    c.redo = lost;
    const onConnectionState = () => {
      if (c.closed) return;
      const st = pc.connectionState;
      window.bcastStats = { ...window.bcastStats, connectionState: st };
      if (st === 'connected') {
        c.connected = true;
        clearTimeout(c.lostTimer);
        c.lostTimer = null;
      } else if (st === 'disconnected') {
        if (!c.lostTimer) c.lostTimer = setTimeout(lost, LOST_GRACE_MS);
      } else if (st === 'failed') {
        lost(); // terminal: no point waiting out the grace period
      }
      refreshState();
    };
    pc.addEventListener('connectionstatechange', onConnectionState);
    signal.addEventListener('abort', () => resolve({ kind: 'aborted' }), { once: true });
    onConnectionState();
  });
}

// ---------------------------------------------------------------- stats

async function statsTick() {
  const c = cur;
  if (!c || c.closed) return;
  let report;
  try {
    report = await c.pc.getStats();
  } catch {
    return;
  }
  if (c !== cur || c.closed) return;

  let v = null;
  let a = null;
  report.forEach((s) => {
    if (s.type !== 'inbound-rtp') return;
    const kind = s.kind || s.mediaType;
    if (kind === 'video' && (!v || (s.bytesReceived || 0) > (v.bytesReceived || 0))) v = s;
    if (kind === 'audio' && (!a || (s.bytesReceived || 0) > (a.bytesReceived || 0))) a = s;
  });

  const now = performance.now();
  const vBytes = v?.bytesReceived || 0;
  const aBytes = a?.bytesReceived || 0;
  const frames = v?.framesDecoded || 0;
  if (vBytes + aBytes > c.lastBytes) c.lastMediaAt = now;
  c.lastBytes = vBytes + aBytes;

  let bitrate = 0;
  let fps = v?.framesPerSecond;
  if (c.prev) {
    const dt = (now - c.prev.t) / 1000;
    if (dt > 0) {
      bitrate = Math.max(0, ((vBytes - c.prev.vBytes) * 8) / dt);
      if (fps == null) fps = Math.max(0, (frames - c.prev.frames) / dt);
    }
  }
  c.prev = { t: now, vBytes, frames };

  const s = {
    framesDecoded: frames,
    framesPerSecond: Math.round((fps || 0) * 10) / 10,
    width: v?.frameWidth || el.video.videoWidth || 0,
    height: v?.frameHeight || el.video.videoHeight || 0,
    packetsLost: v?.packetsLost || 0,
    jitter: v?.jitter || 0,
    bytesReceived: vBytes,
    bitrateBps: Math.round(bitrate),
    audioPacketsReceived: a?.packetsReceived || 0,
    audioBytesReceived: aBytes,
    audioPacketsLost: a?.packetsLost || 0,
    connectionState: c.pc.connectionState,
  };
  window.bcastStats = s;

  el.stats.textContent = [
    s.width && s.height ? `${s.width}×${s.height}` : 'no video',
    `${s.framesPerSecond} fps`,
    formatBitrate(s.bitrateBps),
    `${s.framesDecoded} frames`,
    `${s.packetsLost} lost`,
    `jitter ${Math.round(s.jitter * 1000)} ms`,
    `audio ${s.audioPacketsReceived} pkts`,
    s.connectionState,
  ].join(' · ');
  el.stats.hidden = false;
  refreshState();
}

// ---------------------------------------------------------------- stream list

const items = new Map(); // name -> { li, btn, badge, meta }

async function poll() {
  try {
    const resp = await fetch('/api/streams', { cache: 'no-store' });
    if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
    const list = await resp.json();
    onStreams(Array.isArray(list) ? list.filter((s) => s && typeof s.name === 'string') : []);
    el.streamsError.hidden = true;
  } catch (err) {
    el.streamsError.hidden = false;
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

function onStreams(list) {
  streamsByName = new Map(list.map((s) => [s.name, s]));
  streamsLoaded = true;
  renderList(list);
  if (!selected) {
    const live = list.filter((s) => s.live);
    if (live.length === 1) {
      play(live[0].name);
      return;
    }
    setState('idle', idleText());
  }
  renderInfo();
  refreshState();
}

function idleText() {
  if (!streamsLoaded) return 'Loading streams…';
  const live = [...streamsByName.values()].filter((s) => s.live).length;
  return live === 0 ? 'No live streams right now.' : 'Choose a stream below.';
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function renderList(list) {
  const sorted = [...list].sort((a, b) => (Number(!!b.live) - Number(!!a.live)) || a.name.localeCompare(b.name));
  const seen = new Set();
  sorted.forEach((s, i) => {
    let it = items.get(s.name);
    if (!it) {
      const li = document.createElement('li');
      const btn = document.createElement('button');
      btn.type = 'button';
      btn.className = 'stream-item';
      btn.dataset.stream = s.name;
      const name = document.createElement('span');
      name.className = 'name';
      name.textContent = s.name;
      const badge = document.createElement('span');
      badge.className = 'badge';
      const meta = document.createElement('span');
      meta.className = 'meta';
      btn.append(name, badge, meta);
      btn.addEventListener('click', () => choose(s.name));
      li.append(btn);
      it = { li, btn, badge, meta };
      items.set(s.name, it);
    }
    it.badge.textContent = s.live ? 'live' : 'offline';
    it.badge.classList.toggle('live', !!s.live);
    it.meta.textContent = `${plural(s.viewers || 0, 'viewer')}`;
    if (el.streams.children[i] !== it.li) el.streams.insertBefore(it.li, el.streams.children[i] || null);
    seen.add(s.name);
  });
  for (const [name, it] of items) {
    if (!seen.has(name)) {
      it.li.remove();
      items.delete(name);
    }
  }
  el.streamsEmpty.hidden = sorted.length > 0;
  renderSelection();
}

function renderSelection() {
  for (const [name, it] of items) it.btn.setAttribute('aria-current', String(name === selected));
}

function renderInfo() {
  const info = selected ? streamsByName.get(selected) : null;
  el.title.textContent = selected || 'No stream selected';
  el.liveBadge.hidden = !selected;
  el.liveBadge.textContent = info?.live ? 'live' : 'offline';
  el.liveBadge.classList.toggle('live', !!info?.live);
  el.viewers.hidden = !info;
  el.viewers.textContent = info ? `${plural(info.viewers || 0, 'viewer')}` : '';

  const parts = [];
  if (info?.live) {
    const v = info.video;
    if (v) {
      let s = v.codec || 'video';
      if (v.width && v.height) s += ` ${v.width}×${v.height}`;
      if (v.bitrate_bps) s += ` ${formatBitrate(v.bitrate_bps)}`;
      parts.push(s);
    }
    const a = info.audio;
    if (a) parts.push(`${a.codec || 'audio'}${a.bitrate_bps ? ` ${formatBitrate(a.bitrate_bps)}` : ''}`);
    if (Number.isFinite(info.uptime_seconds)) parts.push(`live for ${formatDuration(info.uptime_seconds)}`);
  } else if (selected && streamsLoaded) {
    parts.push('The stream is not live.');
  }
  el.mediaInfo.textContent = parts.join(' · ');
}

// ---------------------------------------------------------------- navigation

function streamFromURL() {
  const q = new URLSearchParams(location.search).get('stream');
  if (q && q.trim()) return q.trim();
  if (location.hash.length > 1) {
    try {
      return decodeURIComponent(location.hash.slice(1)).trim();
    } catch {
      return location.hash.slice(1).trim();
    }
  }
  return '';
}

function choose(name) {
  if (name === selected && session && !['error', 'unsupported'].includes(window.bcastState)) {
    el.player.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    return;
  }
  history.pushState(null, '', `${location.pathname}?stream=${encodeURIComponent(name)}`);
  play(name);
}

function onURLChange() {
  const name = streamFromURL();
  if (name !== selected) play(name);
}

// ---------------------------------------------------------------- controls

function updateControls() {
  const muted = el.video.muted;
  el.unmute.hidden = !muted || !selected || ['idle', 'error', 'unsupported'].includes(window.bcastState);
  el.mute.textContent = muted ? 'Unmute' : 'Mute';
  el.mute.disabled = !selected;
  el.fullscreen.disabled = !selected;
}

function setMuted(muted) {
  el.video.muted = muted;
  if (!muted) {
    if (el.video.volume === 0) el.video.volume = 1;
    el.video.play().catch(() => {});
  }
  updateControls();
}

function toggleFullscreen() {
  if (document.fullscreenElement) {
    document.exitFullscreen().catch(() => {});
  } else if (el.player.requestFullscreen) {
    el.player.requestFullscreen().catch(() => {});
  } else if (el.video.webkitEnterFullscreen) {
    el.video.webkitEnterFullscreen(); // iOS Safari
  }
}

el.video.muted = true; // autoplay policy: start muted
el.unmute.addEventListener('click', () => setMuted(false));
el.mute.addEventListener('click', () => setMuted(!el.video.muted));
el.video.addEventListener('volumechange', updateControls);
el.fullscreen.addEventListener('click', toggleFullscreen);
el.video.addEventListener('dblclick', toggleFullscreen);
el.retry.addEventListener('click', () => play(selected));

window.addEventListener('popstate', onURLChange);
window.addEventListener('hashchange', onURLChange);
window.addEventListener('pagehide', () => {
  // keepalive DELETE of the WHEP session happens in the abort handler.
  if (session) {
    session.ctrl.abort();
    session = null;
  }
});
window.addEventListener('pageshow', (e) => {
  if (e.persisted && selected) play(selected); // restored from bfcache
});

setInterval(statsTick, STATS_MS);
play(streamFromURL());
poll();
