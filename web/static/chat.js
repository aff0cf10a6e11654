// bcast chat: the chat of the stream the player shows (protocol: docs/CHAT.md).
//
// Everything users wrote is put on the page with textContent, never as HTML.
//
// Admin mode: open the page with #admin=TOKEN. The token moves to
// sessionStorage (this tab only) and off the address bar; moderation buttons
// call POST /api/admin/actions with it.
//
// Test hooks:
//   window.bcastChat  { state, stream, user, nick, admin, enabled,
//                       slowModeSeconds, messages: [text…], ids: [id…], error }
//   state: "off" (no stream) | "connecting" | "reading" (no nickname yet)
//          | "chatting" | "reconnecting" | "banned"
import { backoffDelay, reasonText } from './common.js';

const STREAM_RE = /^[A-Za-z0-9_-]{1,64}$/; // the server's stream names
const SESSION_KEY = 'bcast.chat.session';
const NICK_KEY = 'bcast.chat.nick';
const ADMIN_KEY = 'bcast.adminToken';
const MAX_LINES = 300; // messages kept on the page
const NOTICE_MS = 8000;
const BUSY_RETRY_MS = 15000; // after "too many connections"

const $ = (id) => document.getElementById(id);
const el = {
  section: $('chat'),
  status: $('chat-status'),
  admin: $('chat-admin'),
  slow: $('chat-slow'),
  toggle: $('chat-toggle'),
  clear: $('chat-clear'),
  list: $('chat-list'),
  notice: $('chat-notice'),
  nickForm: $('chat-nick-form'),
  nick: $('chat-nick'),
  form: $('chat-form'),
  input: $('chat-input'),
  count: $('chat-count'),
  send: $('chat-send'),
  me: $('chat-me'),
  meNick: $('chat-me-nick'),
  rename: $('chat-rename'),
  title: $('stream-title'),
};

let adminToken = takeAdminToken();

const chat = {
  stream: '',
  conn: null, // { ws, banned, busy } of the current connection
  failures: 0,
  retryTimer: 0,
  state: 'off',
  user: '',
  nick: '',
  admin: false,
  enabled: true,
  slow: 0,
  limits: { nick_max: 25, message_max: 500 },
  cooldownUntil: 0, // performance.now() ms: rate limit or slow mode
  timeoutUntil: 0,
  renaming: false,
  pending: '', // text of the message in flight, restored if refused
  error: '',
  lines: new Map(), // message id -> { li, text }, oldest first
};

// ---------------------------------------------------------------- storage

function load(store, key) {
  try { return store.getItem(key) || ''; } catch { return ''; }
}

function save(store, key, value) {
  try {
    if (value) store.setItem(key, value);
    else store.removeItem(key);
  } catch { /* storage disabled */ }
}

/** Takes #admin=TOKEN off the URL so it does not end up in history or screenshots. */
function takeAdminToken() {
  const m = /^#admin=(.+)$/.exec(location.hash);
  if (m) {
    let token = m[1];
    try { token = decodeURIComponent(token); } catch { /* keep it raw */ }
    save(sessionStorage, ADMIN_KEY, token);
    history.replaceState(history.state, '', location.pathname + location.search);
    return token;
  }
  return load(sessionStorage, ADMIN_KEY);
}

// ---------------------------------------------------------------- connection

function setStream(name) {
  if (name === chat.stream) return;
  disconnect();
  chat.stream = name;
  clearLines();
  el.section.hidden = !name;
  chat.failures = 0;
  if (name) connect();
  else setState('off');
}

function disconnect() {
  const c = chat.conn;
  chat.conn = null;
  clearTimeout(chat.retryTimer);
  if (c) c.ws.close(1000, 'leaving');
}

function connect() {
  setState(chat.failures > 0 ? 'reconnecting' : 'connecting');
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(`${scheme}//${location.host}/api/chat/${encodeURIComponent(chat.stream)}`);
  const c = { ws, banned: false, busy: false };
  chat.conn = c;
  ws.addEventListener('open', () => {
    if (chat.conn !== c) return;
    const join = { type: 'join' };
    const session = load(localStorage, SESSION_KEY);
    const nick = load(localStorage, NICK_KEY);
    if (session) join.session = session;
    if (nick) join.nick = nick;
    if (adminToken) join.admin_token = adminToken;
    ws.send(JSON.stringify(join));
  });
  ws.addEventListener('message', (e) => {
    if (chat.conn !== c) return;
    let m;
    try { m = JSON.parse(e.data); } catch { return; }
    if (m && typeof m.type === 'string') onFrame(c, m);
  });
  ws.addEventListener('close', () => {
    if (chat.conn !== c) return;
    chat.conn = null;
    if (c.banned) {
      setState('banned');
      return;
    }
    setState('reconnecting');
    const delay = c.busy ? BUSY_RETRY_MS : backoffDelay(chat.failures++);
    chat.retryTimer = setTimeout(() => { if (!chat.conn && chat.stream) connect(); }, delay);
  });
}

function sendFrame(frame) {
  const ws = chat.conn?.ws;
  if (!ws || ws.readyState !== WebSocket.OPEN) {
    notice('Not connected to the chat; reconnecting…');
    return false;
  }
  ws.send(JSON.stringify(frame));
  return true;
}

// ---------------------------------------------------------------- frames

function onFrame(c, m) {
  switch (m.type) {
    case 'welcome':
      chat.failures = 0;
      chat.user = m.user || '';
      chat.admin = !!m.admin;
      if (m.limits) chat.limits = m.limits;
      save(localStorage, SESSION_KEY, m.session);
      setNick(m.nick || '');
      applyState(m);
      chat.timeoutUntil = m.timeout_seconds > 0 ? performance.now() + m.timeout_seconds * 1000 : 0;
      clearLines();
      for (const msg of Array.isArray(m.history) ? m.history : []) addLine(msg);
      scrollToEnd();
      break;
    case 'message':
      addLine(m, true);
      if (m.user === chat.user) {
        chat.pending = '';
        if (chat.slow > 0 && !chat.admin) cooldown(chat.slow);
      }
      break;
    case 'delete':
      removeLine(m.id);
      break;
    case 'clear':
      clearLines();
      notice('A moderator cleared the chat.');
      break;
    case 'state':
      applyState(m);
      break;
    case 'nick':
      setNick(m.nick || '');
      break;
    case 'timeout':
      chat.timeoutUntil = m.seconds > 0 ? performance.now() + m.seconds * 1000 : 0;
      notice(m.text || (m.seconds > 0 ? 'You are timed out.' : 'Your timeout was lifted.'));
      break;
    case 'banned':
      c.banned = true;
      chat.error = m.text || 'You are banned from this chat.';
      notice(chat.error, true);
      setState('banned');
      break;
    case 'error':
      onError(c, m);
      break;
  }
  render();
}

function onError(c, m) {
  chat.error = m.text || m.code || 'error';
  const retry = Number(m.retry_after_seconds) || 0;
  switch (m.code) {
    case 'nick_taken':
    case 'bad_nick':
      chat.renaming = true;
      el.nick.value = el.nick.value || load(localStorage, NICK_KEY);
      break;
    case 'no_nick':
      chat.renaming = true;
      break;
    case 'rate_limited':
    case 'slow_mode':
      cooldown(retry);
      restorePending();
      break;
    case 'timed_out':
      chat.timeoutUntil = performance.now() + retry * 1000;
      restorePending();
      break;
    case 'chat_off':
    case 'bad_message':
      restorePending();
      break;
    case 'bad_admin_token':
      adminToken = '';
      save(sessionStorage, ADMIN_KEY, '');
      break;
    case 'too_many_connections':
      c.busy = true;
      break;
  }
  notice(chat.error);
}

function applyState(m) {
  chat.enabled = m.enabled !== false;
  chat.slow = Math.max(0, Number(m.slow_mode_seconds) || 0);
}

function setNick(nick) {
  chat.nick = nick;
  if (nick) {
    save(localStorage, NICK_KEY, nick);
    chat.renaming = false;
  }
  setState(nick ? 'chatting' : 'reading');
}

function cooldown(seconds) {
  if (seconds > 0) chat.cooldownUntil = Math.max(chat.cooldownUntil, performance.now() + seconds * 1000);
}

function restorePending() {
  if (chat.pending && !el.input.value) el.input.value = chat.pending;
  chat.pending = '';
}

// ---------------------------------------------------------------- lines

function addLine(m, live = false) {
  if (!m || typeof m.id !== 'string' || chat.lines.has(m.id)) return;
  const follow = live && (m.user === chat.user || nearBottom());
  const li = document.createElement('li');
  li.className = 'chat-msg';
  if (m.admin) li.classList.add('chat-mod');
  if (m.user === chat.user) li.classList.add('chat-own');

  const time = document.createElement('time');
  time.className = 'chat-time';
  const d = new Date(m.time);
  if (!Number.isNaN(d.getTime())) {
    time.dateTime = d.toISOString();
    time.textContent = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    time.title = d.toLocaleString();
  }
  const nick = document.createElement('span');
  nick.className = `chat-nick chat-c${colorOf(String(m.user || m.nick))}`;
  nick.textContent = String(m.nick ?? '');
  const text = document.createElement('span');
  text.className = 'chat-text';
  text.textContent = String(m.text ?? '');
  li.append(time, nick);
  if (m.admin) {
    const badge = document.createElement('span');
    badge.className = 'chat-badge';
    badge.textContent = 'mod';
    li.append(badge);
  }
  li.append(text);
  if (chat.admin) li.append(tools(m));

  el.list.append(li);
  chat.lines.set(m.id, { li, text: text.textContent });
  while (chat.lines.size > MAX_LINES) removeLine(chat.lines.keys().next().value);
  if (follow) scrollToEnd();
}

function removeLine(id) {
  const line = chat.lines.get(id);
  if (!line) return;
  line.li.remove();
  chat.lines.delete(id);
}

function clearLines() {
  chat.lines.clear();
  el.list.replaceChildren();
}

function colorOf(s) {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
  return Math.abs(h) % 8;
}

function nearBottom() {
  return el.list.scrollHeight - el.list.scrollTop - el.list.clientHeight < 48;
}

function scrollToEnd() {
  el.list.scrollTop = el.list.scrollHeight;
}

// ---------------------------------------------------------------- admin mode

/** Moderation buttons of one message. */
function tools(m) {
  const box = document.createElement('span');
  box.className = 'chat-tools';
  box.append(toolButton('Delete', 'Delete this message', () => act('chat_delete', { target: m.id })));
  if (m.user !== chat.user && !m.admin) {
    box.append(toolButton('Timeout', `Time ${m.nick} out for 5 minutes`, () => act('chat_timeout', { target: m.user, seconds: 300 })));
    box.append(toolButton('Ban', `Ban ${m.nick} (session and address)`, () => act('chat_ban', { target: m.user }), true));
  }
  return box;
}

/** A small button; with confirm, the first click arms it and the second acts. */
function toolButton(label, title, onClick, confirm = false) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'chat-tool';
  b.textContent = label;
  b.title = title;
  armable(b, label, onClick, confirm);
  return b;
}

function armable(b, label, onClick, confirm) {
  let timer = 0;
  b.addEventListener('click', () => {
    if (confirm && !timer) {
      b.textContent = 'Sure?';
      b.classList.add('armed');
      timer = setTimeout(() => { timer = 0; b.textContent = label; b.classList.remove('armed'); }, 3000);
      return;
    }
    clearTimeout(timer);
    timer = 0;
    b.textContent = label;
    b.classList.remove('armed');
    onClick();
  });
}

async function act(kind, extra = {}) {
  let resp;
  try {
    resp = await fetch('/api/admin/actions', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${adminToken}` },
      body: JSON.stringify({ kind, stream: chat.stream, by: 'web', ...extra }),
    });
  } catch {
    notice('Moderation failed: cannot reach the server.');
    return;
  }
  if (resp.ok) return;
  const reason = await reasonText(resp);
  notice(resp.status === 401 ? 'The admin token was rejected.' : `Moderation failed: ${reason || resp.status}`);
}

el.slow.addEventListener('change', () => act('chat_slow', { seconds: Number(el.slow.value) || 0 }));
el.toggle.addEventListener('click', () => act(chat.enabled ? 'chat_off' : 'chat_on'));
armable(el.clear, el.clear.textContent, () => act('chat_clear'), true);

// ---------------------------------------------------------------- input

function runes(s) {
  return [...s.trim()].length;
}

el.form.addEventListener('submit', (e) => {
  e.preventDefault();
  const text = el.input.value;
  const n = runes(text);
  if (n === 0 || n > chat.limits.message_max || sendBlocked()) return;
  if (!sendFrame({ type: 'send', text })) return;
  chat.pending = text;
  el.input.value = '';
  hideNotice();
  render();
});

el.nickForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const nick = el.nick.value.trim();
  if (!nick) return;
  sendFrame({ type: 'nick', nick });
});

el.rename.addEventListener('click', () => {
  chat.renaming = true;
  el.nick.value = chat.nick;
  render();
  el.nick.focus();
});

el.nick.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && chat.nick) {
    chat.renaming = false;
    render();
  }
});

el.input.addEventListener('input', render);

/** Why sending is not possible right now ('' = it is). */
function sendBlocked() {
  const now = performance.now();
  if (chat.timeoutUntil > now) return `Timed out · ${countdown(chat.timeoutUntil - now)}`;
  if (!chat.enabled && !chat.admin) return 'Chat is off';
  if (chat.cooldownUntil > now) return `Wait ${countdown(chat.cooldownUntil - now)}`;
  return '';
}

function countdown(ms) {
  const s = Math.ceil(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}` : `${s} s`;
}

// ---------------------------------------------------------------- rendering

function setState(state) {
  chat.state = state;
  render();
}

let noticeTimer = 0;

function notice(text, sticky = false) {
  el.notice.textContent = text;
  el.notice.hidden = false;
  clearTimeout(noticeTimer);
  if (!sticky) noticeTimer = setTimeout(hideNotice, NOTICE_MS);
  publish();
}

function hideNotice() {
  if (chat.state === 'banned') return;
  el.notice.hidden = true;
  chat.error = '';
  publish();
}

function render() {
  const joined = chat.state === 'chatting' || chat.state === 'reading';
  el.nickForm.hidden = !joined || (chat.state === 'chatting' && !chat.renaming);
  el.form.hidden = chat.state !== 'chatting' || chat.renaming;
  el.me.hidden = el.form.hidden;
  el.meNick.textContent = chat.nick;
  el.admin.hidden = !chat.admin || !joined;

  const n = runes(el.input.value);
  const max = chat.limits.message_max;
  el.count.textContent = `${n}/${max}`;
  el.count.classList.toggle('over', n > max);
  const blocked = sendBlocked();
  el.send.textContent = blocked && !blocked.startsWith('Chat') ? blocked : 'Send';
  el.send.disabled = !!blocked || n === 0 || n > max;
  el.input.placeholder = !chat.enabled && !chat.admin ? 'Chat is off' : 'Send a message';

  const parts = [];
  switch (chat.state) {
    case 'connecting': parts.push('connecting…'); break;
    case 'reconnecting': parts.push('reconnecting…'); break;
    case 'banned': parts.push('banned'); break;
  }
  if (joined) {
    if (!chat.enabled) parts.push('chat off');
    if (chat.slow > 0) parts.push(`slow mode ${countdown(chat.slow * 1000)}`);
  }
  el.status.textContent = parts.join(' · ');
  if (chat.admin) {
    el.toggle.textContent = chat.enabled ? 'Turn chat off' : 'Turn chat on';
    if (document.activeElement !== el.slow) {
      const v = String(chat.slow);
      if (![...el.slow.options].some((o) => o.value === v)) el.slow.add(new Option(`${chat.slow} s`, v));
      el.slow.value = v;
    }
  }
  publish();
}

function publish() {
  const lines = [...chat.lines.entries()];
  window.bcastChat = {
    state: chat.state,
    stream: chat.stream,
    user: chat.user,
    nick: chat.nick,
    admin: chat.admin,
    enabled: chat.enabled,
    slowModeSeconds: chat.slow,
    messages: lines.map(([, l]) => l.text),
    ids: lines.map(([id]) => id),
    error: chat.error,
  };
}

// Countdowns (slow mode, timeout, rate limit) tick on the send button.
setInterval(() => {
  if (!chat.cooldownUntil && !chat.timeoutUntil) return;
  const now = performance.now();
  if (chat.cooldownUntil <= now) chat.cooldownUntil = 0;
  if (chat.timeoutUntil <= now) chat.timeoutUntil = 0;
  render();
}, 250);

// ---------------------------------------------------------------- stream

/** The player shows its stream's name in the title; follow it. */
function currentStream() {
  const name = (el.title?.textContent || '').trim();
  return STREAM_RE.test(name) ? name : '';
}

if (el.title) {
  new MutationObserver(() => setStream(currentStream()))
    .observe(el.title, { childList: true, characterData: true, subtree: true });
}
window.addEventListener('hashchange', () => {
  if (!/^#admin=/.test(location.hash)) return;
  adminToken = takeAdminToken();
  const name = chat.stream;
  setStream('');
  setStream(name);
});
setStream(currentStream());
