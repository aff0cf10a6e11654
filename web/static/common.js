// Helpers shared by the player and the publish page.

/** How long to wait for ICE gathering before sending the offer anyway. */
export const ICE_GATHER_TIMEOUT_MS = 2000;

/**
 * Resolves once ICE gathering is complete, or after timeoutMs, whichever
 * comes first. The server does not support trickle ICE, so the offer must
 * carry the candidates.
 */
export function waitForIceGathering(pc, timeoutMs = ICE_GATHER_TIMEOUT_MS) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', onState);
      pc.removeEventListener('icecandidate', onCandidate);
      resolve();
    };
    const onState = () => { if (pc.iceGatheringState === 'complete') done(); };
    const onCandidate = (e) => { if (!e.candidate) done(); };
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener('icegatheringstatechange', onState);
    pc.addEventListener('icecandidate', onCandidate);
  });
}

let iceServersPromise = null;

/** Fetches /api/config once per page and returns its iceServers ([] on error). */
export function loadIceServers() {
  if (!iceServersPromise) {
    iceServersPromise = (async () => {
      try {
        const resp = await fetch('/api/config', { cache: 'no-store' });
        if (!resp.ok) return [];
        const cfg = await resp.json();
        const list = Array.isArray(cfg?.iceServers) ? cfg.iceServers : [];
        return list.filter((s) => s && (typeof s.urls === 'string' || Array.isArray(s.urls)));
      } catch {
        return [];
      }
    })();
    // Do not cache failures forever: a later call may succeed.
    iceServersPromise.then((l) => { if (l.length === 0) iceServersPromise = null; });
  }
  return iceServersPromise;
}

/** Creates an RTCPeerConnection, falling back to no ICE servers if the configured ones are rejected. */
export function newPeerConnection(iceServers) {
  try {
    return new RTCPeerConnection({ iceServers });
  } catch (err) {
    console.warn('bcast: ICE server config rejected, continuing without it:', err);
    return new RTCPeerConnection();
  }
}

/** Reads an error response body as a short one-line reason. */
export async function reasonText(resp) {
  try {
    const text = (await resp.text()).trim();
    const line = text.split(/\r?\n/, 1)[0] || '';
    return line.length > 300 ? line.slice(0, 300) + '…' : line;
  } catch {
    return '';
  }
}

/** Resolves a WHIP/WHEP Location header against the response URL. */
export function resolveLocation(resp) {
  const loc = resp.headers.get('Location');
  if (!loc) return '';
  try {
    return new URL(loc, resp.url || location.href).href;
  } catch {
    return '';
  }
}

/** Ends a WHIP/WHEP session. keepalive lets it complete during page unload. */
export function deleteSession(url) {
  if (!url) return;
  try {
    fetch(url, { method: 'DELETE', keepalive: true }).catch(() => {});
  } catch {
    // ignore
  }
}

/** Sleeps ms milliseconds; rejects with an AbortError if signal aborts. */
export function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) { reject(abortError()); return; }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => { clearTimeout(timer); reject(abortError()); };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function abortError() {
  return new DOMException('aborted', 'AbortError');
}

export function isAbort(err) {
  return err?.name === 'AbortError';
}

/** "800 kbps", "2.5 Mbps". */
export function formatBitrate(bps) {
  if (!Number.isFinite(bps) || bps <= 0) return '0 kbps';
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(bps >= 1e7 ? 0 : 1)} Mbps`;
  return `${Math.round(bps / 1e3)} kbps`;
}

/** "0:42", "12:05", "1:02:03". */
export function formatDuration(seconds) {
  const s = Math.max(0, Math.floor(seconds || 0));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Backoff delays for reconnect attempts, in milliseconds. */
export function backoffDelay(attempt) {
  const steps = [1000, 2000, 4000, 8000, 15000];
  const base = steps[Math.min(attempt, steps.length - 1)];
  return base + Math.floor(Math.random() * 250 * (attempt + 1)); // jitter
}
