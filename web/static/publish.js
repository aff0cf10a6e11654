// bcast publish page: captures camera+mic or a screen and publishes it over WHIP.
//
// Test hooks:
//   window.bcastPublishState  "idle" | "starting" | "live" | "error"
//   window.bcastPublishError  last error message ('' unless state is "error")
//   window.bcastPublishStats  latest outbound video stats while publishing, else null
// Query parameters (read once, token/autostart then stripped from the URL):
//   ?stream=NAME&token=T&autostart=1
import {
  waitForIceGathering, loadIceServers, newPeerConnection, reasonText, resolveLocation,
  deleteSession, sleep, abortError, isAbort, formatBitrate, backoffDelay,
} from './common.js';

const TOKEN_KEY = 'bcast.publishToken';
const STREAM_KEY = 'bcast.publishStream';
const LOST_GRACE_MS = 5000;
const RESOLUTIONS = {
  480: { width: 854, height: 480, maxBitrate: 1_200_000 },
  720: { width: 1280, height: 720, maxBitrate: 2_500_000 },
  1080: { width: 1920, height: 1080, maxBitrate: 4_500_000 },
};

const $ = (id) => document.getElementById(id);
const el = {
  form: $('publish-form'),
  stream: $('stream'),
  token: $('token'),
  source: $('source'),
  resolution: $('resolution'),
  start: $('start'),
  stop: $('stop'),
  status: $('status'),
  preview: $('preview'),
  stats: $('publish-stats'),
  watchLink: $('watch-link'),
  obsServer: $('obs-server'),
};

window.bcastPublishState = 'idle';
window.bcastPublishError = '';
window.bcastPublishStats = null;

// ---------------------------------------------------------------- URL params & storage

const params = new URLSearchParams(location.search);
const qStream = params.get('stream');
const qToken = params.get('token');
const autostart = params.get('autostart') === '1';
if (params.has('token') || params.has('autostart')) {
  // Never leave the token in the address bar or history.
  params.delete('token');
  params.delete('autostart');
  const qs = params.toString();
  history.replaceState(history.state, '', `${location.pathname}${qs ? `?${qs}` : ''}${location.hash}`);
}

function storageGet(key) {
  try { return sessionStorage.getItem(key); } catch { return null; }
}
function storageSet(key, value) {
  try { sessionStorage.setItem(key, value); } catch { /* storage disabled */ }
}

el.stream.value = (qStream && qStream.trim()) || storageGet(STREAM_KEY) || 'live';
el.token.value = qToken ?? storageGet(TOKEN_KEY) ?? '';
if (qToken !== null) storageSet(TOKEN_KEY, qToken);

// ---------------------------------------------------------------- UI

function setStatus(state, text) {
  window.bcastPublishState = state;
  window.bcastPublishError = state === 'error' ? text : '';
  el.status.dataset.state = state;
  el.status.textContent = text;
  const busy = state === 'starting' || state === 'live';
  for (const input of [el.stream, el.token, el.source, el.resolution]) input.disabled = busy;
  el.start.disabled = busy;
  el.stop.disabled = !busy;
}

function updateHints() {
  const name = el.stream.value.trim() || 'live';
  const enc = encodeURIComponent(name);
  el.obsServer.textContent = `${location.origin}/api/whip/${enc}`;
  el.watchLink.href = `/?stream=${enc}`;
  el.watchLink.textContent = `${location.origin}/?stream=${enc}`;
}

el.stream.addEventListener('input', updateHints);
el.token.addEventListener('change', () => storageSet(TOKEN_KEY, el.token.value));
el.form.addEventListener('submit', (e) => {
  e.preventDefault();
  start();
});
el.stop.addEventListener('click', () => stopPublishing(pub, 'idle', 'stopped'));
window.addEventListener('pagehide', () => stopPublishing(pub, 'idle', 'stopped'));

// ---------------------------------------------------------------- capture

async function getMedia(source, res) {
  const md = navigator.mediaDevices;
  if (source === 'screen') {
    if (!md?.getDisplayMedia) throw new Error('screen capture is not supported by this browser');
    const video = { width: { max: res.width }, height: { max: res.height }, frameRate: { ideal: 30, max: 30 } };
    let stream;
    try {
      stream = await md.getDisplayMedia({ video, audio: true });
    } catch (err) {
      if (err?.name !== 'TypeError') throw err;
      stream = await md.getDisplayMedia({ video }); // browser without display audio
    }
    for (const t of stream.getVideoTracks()) if ('contentHint' in t) t.contentHint = 'detail';
    return stream;
  }
  if (!md?.getUserMedia) throw new Error('camera access needs HTTPS (or localhost)');
  const video = { width: { ideal: res.width }, height: { ideal: res.height }, frameRate: { ideal: 30 } };
  const audio = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
  try {
    return await md.getUserMedia({ video, audio });
  } catch (err) {
    if (err?.name !== 'NotFoundError' && err?.name !== 'NotReadableError') throw err;
    // Missing (or busy) microphone or camera: publish what is available.
    try { return await md.getUserMedia({ video }); } catch { /* fall through */ }
    try { return await md.getUserMedia({ audio }); } catch { /* fall through */ }
    throw err;
  }
}

function describeError(err, source) {
  switch (err?.name) {
    case 'NotAllowedError':
      return source === 'screen' ? 'screen sharing was cancelled or not allowed' : 'camera/microphone permission denied';
    case 'NotFoundError':
      return 'no camera or microphone found';
    case 'NotReadableError':
      return 'camera or microphone is in use by another application';
    case 'OverconstrainedError':
      return 'the selected resolution is not supported by this device';
    case 'SecurityError':
      return 'media access is blocked (the page must be served over HTTPS or from localhost)';
    default:
      return err?.message || String(err);
  }
}

function stopTracks(media) {
  for (const t of media?.getTracks() ?? []) t.stop();
}

// ---------------------------------------------------------------- publishing

/** The current publishing session, or null. */
let pub = null;

class PublishError extends Error {
  constructor(message, fatal) {
    super(message);
    this.fatal = fatal;
  }
}

async function start() {
  if (pub) return;
  const name = el.stream.value.trim();
  if (!name) {
    setStatus('error', 'enter a stream name');
    el.stream.focus();
    return;
  }
  const token = el.token.value.trim();
  storageSet(STREAM_KEY, name);
  storageSet(TOKEN_KEY, token);
  if (new URLSearchParams(location.search).get('stream') !== name) {
    history.replaceState(history.state, '', `${location.pathname}?stream=${encodeURIComponent(name)}`);
  }

  const source = el.source.value === 'screen' ? 'screen' : 'camera';
  const res = RESOLUTIONS[el.resolution.value] || RESOLUTIONS[720];
  const p = { name, token, source, res, ctrl: new AbortController(), media: null, pc: null, location: '' };
  pub = p;
  setStatus('starting', source === 'screen' ? 'choose what to share…' : 'requesting camera and microphone…');

  try {
    const media = await getMedia(source, res);
    if (pub !== p) {
      stopTracks(media);
      return;
    }
    p.media = media;
    el.preview.srcObject = media;
    el.preview.play().catch(() => {});
    for (const t of media.getVideoTracks()) {
      t.addEventListener('ended', () => {
        stopPublishing(p, 'idle', source === 'screen' ? 'stopped: screen sharing ended' : 'stopped: camera disconnected');
      });
    }
    await runPublish(p);
  } catch (err) {
    if (pub !== p || isAbort(err)) return;
    console.warn('bcast: publish failed:', err);
    stopPublishing(p, 'error', err instanceof PublishError ? err.message : describeError(err, source));
  }
}

function stopPublishing(p, state, text) {
  if (!p || pub !== p) return;
  pub = null;
  p.ctrl.abort(); // closes the peer connection and DELETEs the WHIP session
  stopTracks(p.media);
  el.preview.srcObject = null;
  window.bcastPublishStats = null;
  el.stats.hidden = true;
  setStatus(state, text);
}

/** Publishes until stopped; reconnects (same media) if the connection drops. */
async function runPublish(p) {
  const signal = p.ctrl.signal;
  let failures = 0;
  let reconnecting = false;
  for (;;) {
    setStatus('starting', reconnecting ? 'connection lost, reconnecting…' : 'connecting…');
    let outcome;
    try {
      outcome = await publishOnce(p);
    } catch (err) {
      if (isAbort(err) || signal.aborted) throw abortError();
      if (!reconnecting || err.fatal) throw err;
      console.warn('bcast: reconnect attempt failed:', err);
      outcome = { wasLive: false };
    }
    if (signal.aborted) throw abortError();
    if (!outcome.wasLive && !reconnecting) {
      throw new PublishError('could not connect to the server (ICE failed; check network/firewall or TURN settings)', true);
    }
    if (outcome.wasLive) failures = 0;
    reconnecting = true;
    setStatus('starting', 'connection lost, reconnecting…');
    await sleep(backoffDelay(failures++), signal);
  }
}

/**
 * One WHIP session. Throws on HTTP/negotiation errors; once established,
 * resolves with {wasLive} when the connection is lost (or on stop).
 */
async function publishOnce(p) {
  const signal = p.ctrl.signal;
  const iceServers = await loadIceServers();
  if (signal.aborted) throw abortError();

  const pc = newPeerConnection(iceServers);
  p.pc = pc;
  p.location = '';
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    deleteSession(p.location);
    p.location = '';
    try { pc.close(); } catch { /* ignore */ }
    if (p.pc === pc) p.pc = null;
  };
  signal.addEventListener('abort', close, { once: true });
  const finish = () => {
    signal.removeEventListener('abort', close);
    close();
  };

  try {
    for (const track of p.media.getTracks()) {
      const init = { direction: 'sendonly', streams: [p.media] };
      if (track.kind === 'video') init.sendEncodings = [{ maxBitrate: p.res.maxBitrate }];
      pc.addTransceiver(track, init);
    }
    await pc.setLocalDescription(await pc.createOffer());
    await waitForIceGathering(pc);
    if (signal.aborted) throw abortError();

    const headers = { 'Content-Type': 'application/sdp' };
    if (p.token) headers.Authorization = `Bearer ${p.token}`;
    let resp;
    try {
      resp = await fetch(`/api/whip/${encodeURIComponent(p.name)}`, {
        method: 'POST',
        headers,
        body: pc.localDescription.sdp,
      });
    } catch {
      throw new PublishError('cannot reach the server', false);
    }
    if (resp.status === 401) throw new PublishError('wrong publish token', true);
    if (!resp.ok) {
      const reason = await reasonText(resp);
      const retryable = resp.status >= 500 || [408, 409, 429].includes(resp.status);
      throw new PublishError(`error ${resp.status}: ${reason || resp.statusText || 'request failed'}`, !retryable);
    }
    const location = resolveLocation(resp);
    const answer = await resp.text();
    if (closed) {
      deleteSession(location);
      throw abortError();
    }
    p.location = location;
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    if (closed) throw abortError();
    await applyMaxBitrate(pc, p.res.maxBitrate);
  } catch (err) {
    finish();
    throw err;
  }

  return new Promise((resolve) => {
    let wasLive = false;
    let lostTimer = null;
    const lost = () => {
      clearTimeout(lostTimer);
      finish();
      resolve({ wasLive });
    };
    const onState = () => {
      if (closed) return;
      switch (pc.connectionState) {
        case 'connected':
          clearTimeout(lostTimer);
          lostTimer = null;
          wasLive = true;
          setStatus('live', 'live');
          break;
        case 'disconnected':
          if (!lostTimer) lostTimer = setTimeout(lost, LOST_GRACE_MS);
          if (wasLive) el.status.textContent = 'live (connection unstable…)';
          break;
        case 'failed':
          lost();
          break;
        default:
      }
    };
    pc.addEventListener('connectionstatechange', onState);
    signal.addEventListener('abort', () => {
      clearTimeout(lostTimer);
      resolve({ wasLive });
    }, { once: true });
    onState();
  });
}

/** Makes sure the video sender has maxBitrate set (in case sendEncodings was ignored). */
async function applyMaxBitrate(pc, maxBitrate) {
  for (const sender of pc.getSenders()) {
    if (sender.track?.kind !== 'video') continue;
    try {
      const params = sender.getParameters();
      if (!params.encodings?.length || params.encodings[0].maxBitrate === maxBitrate) continue;
      params.encodings[0].maxBitrate = maxBitrate;
      await sender.setParameters(params);
    } catch (err) {
      console.warn('bcast: could not set maxBitrate:', err);
    }
  }
}

// ---------------------------------------------------------------- stats

let prevStats = null;

async function statsTick() {
  const p = pub;
  const pc = p?.pc;
  if (!pc) {
    prevStats = null;
    return;
  }
  let report;
  try {
    report = await pc.getStats();
  } catch {
    return;
  }
  if (pub !== p || p.pc !== pc) return;
  let v = null;
  let audioBytes = 0;
  report.forEach((s) => {
    if (s.type !== 'outbound-rtp') return;
    const kind = s.kind || s.mediaType;
    if (kind === 'video' && (!v || (s.bytesSent || 0) > (v.bytesSent || 0))) v = s;
    if (kind === 'audio') audioBytes += s.bytesSent || 0;
  });
  const now = performance.now();
  const bytes = v?.bytesSent || 0;
  let bitrate = 0;
  if (prevStats && prevStats.pc === pc) {
    const dt = (now - prevStats.t) / 1000;
    if (dt > 0) bitrate = Math.max(0, ((bytes - prevStats.bytes) * 8) / dt);
  }
  prevStats = { pc, t: now, bytes };
  const s = {
    framesEncoded: v?.framesEncoded || 0,
    framesPerSecond: Math.round((v?.framesPerSecond || 0) * 10) / 10,
    width: v?.frameWidth || 0,
    height: v?.frameHeight || 0,
    bytesSent: bytes,
    bitrateBps: Math.round(bitrate),
    audioBytesSent: audioBytes,
    qualityLimitationReason: v?.qualityLimitationReason || 'none',
    connectionState: pc.connectionState,
  };
  window.bcastPublishStats = s;
  const parts = [];
  if (v) {
    parts.push(s.width && s.height ? `${s.width}×${s.height}` : 'video', `${s.framesPerSecond} fps`, formatBitrate(s.bitrateBps));
    if (s.qualityLimitationReason !== 'none') parts.push(`limited by ${s.qualityLimitationReason}`);
  }
  if (audioBytes) parts.push('audio on');
  parts.push(s.connectionState);
  el.stats.textContent = parts.join(' · ');
  el.stats.hidden = false;
}

setInterval(statsTick, 1000);

// ---------------------------------------------------------------- init

updateHints();
setStatus('idle', 'idle');
if (autostart) {
  el.source.value = 'camera';
  start();
}
