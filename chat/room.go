package chat

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/bcastdev/bcast/server/status"
)

var (
	errRoomGone     = errors.New("chat room was dropped")
	errBanned       = errors.New("banned")         // also the close reason
	errTooManyRooms = errors.New("too many rooms") // also the close reason
)

// room is one stream's chat.
type room struct {
	h    *Hub
	name string

	mu         sync.Mutex
	dead       bool // dropped from the hub: joiners look it up again
	enabled    bool
	slow       int                  // seconds between a user's messages, 0 = off
	history    []status.ChatMessage // oldest first, at most Limits.History
	users      map[string]*user     // by public id; see keepLocked for who stays
	bans       map[string]*user     // the banned subset of users
	conns      map[*conn]struct{}   // joined connections
	lastActive time.Time
}

// user is one session in one room, with or without a nickname.
type user struct {
	id           string
	nick         string
	remote, addr string // of the latest connection
	since        time.Time
	conns        int
	messages     int
	lastSent     time.Time
	banned       bool
	banUntil     time.Time // zero: until unbanned
	timeoutUntil time.Time
}

func (u *user) bannedAt(now time.Time) bool {
	return u.banned && (u.banUntil.IsZero() || now.Before(u.banUntil))
}

func (u *user) timedOutAt(now time.Time) bool { return now.Before(u.timeoutUntil) }

func newRoom(h *Hub, name string) *room {
	return &room{
		h:          h,
		name:       name,
		enabled:    true,
		users:      make(map[string]*user),
		bans:       make(map[string]*user),
		conns:      make(map[*conn]struct{}),
		lastActive: h.now(),
	}
}

// join admits c as the session m names, sends the welcome and returns nil;
// or returns the frame to send before closing and why.
func (r *room) join(c *conn, m clientMsg) ([]byte, error) {
	admin := r.h.isAdmin(m.AdminToken)
	secret := m.Session
	if !validSecret(secret) {
		secret = newSecret()
	}
	id := r.h.userID(secret)
	now := r.h.now()

	r.mu.Lock()
	defer r.mu.Unlock()
	if r.dead {
		return nil, errRoomGone
	}
	u := r.users[id]
	if b := r.banFor(u, c.addr, now); b != nil && !admin {
		r.h.log.Info("chat join refused: banned", "stream", r.name, "user", id, "remote", c.remote, "ban", b.id)
		return bannedFrame(b, now), errBanned
	}
	if u == nil {
		u = &user{id: id, since: now}
		r.users[id] = u
	}
	u.conns++
	u.remote, u.addr = c.remote, c.addr
	c.room, c.user, c.admin = r, u, admin
	r.conns[c] = struct{}{}
	r.lastActive = now

	var after [][]byte // frames that follow the welcome
	if m.AdminToken != "" && !admin {
		after = append(after, errorFrame(codeBadAdminToken, "The admin token was not accepted; you are chatting as a viewer.", 0))
	}
	if old := u.nick; m.Nick != "" {
		if f := r.setNickLocked(c, m.Nick, now); f != nil {
			after = append(after, f)
		} else if u.nick != old {
			r.tellNickLocked(u, c) // the session's other tabs
		}
	}
	w := welcomeMsg{
		Type:      typeWelcome,
		User:      id,
		Session:   secret,
		Nick:      u.nick,
		Admin:     admin,
		chatState: r.stateLocked(),
		Limits:    wireLimits{NickMax: r.h.lim.NickRunes, MessageMax: r.h.lim.MessageRunes},
		History:   slices.Clone(r.history),
	}
	if w.History == nil {
		w.History = []status.ChatMessage{}
	}
	if u.timedOutAt(now) && !admin {
		w.TimeoutSeconds = ceilSeconds(u.timeoutUntil.Sub(now))
	}
	c.send(encode(w))
	for _, f := range after {
		c.send(f)
	}
	level := slog.LevelDebug
	if admin {
		level = slog.LevelInfo // who moderates is worth an audit line
	}
	r.h.log.Log(context.Background(), level, "chat join", "stream", r.name, "user", id, "nick", u.nick, "remote", c.remote, "admin", admin)
	return nil, nil
}

// leave removes a joined connection.
func (r *room) leave(c *conn) {
	r.mu.Lock()
	delete(r.conns, c)
	u := c.user
	u.conns--
	now := r.h.now()
	r.lastActive = now
	if !r.keepLocked(u, now) {
		delete(r.users, u.id)
	}
	r.mu.Unlock()
	r.h.log.Debug("chat leave", "stream", r.name, "user", u.id, "remote", c.remote)
	r.h.dropIdle(r)
}

// setNick handles a nick frame.
func (r *room) setNick(c *conn, raw string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if f := r.setNickLocked(c, raw, r.h.now()); f != nil {
		c.send(f)
		return
	}
	r.tellNickLocked(c.user, nil)
}

// tellNickLocked sends u's nickname to its connections but skip.
func (r *room) tellNickLocked(u *user, skip *conn) {
	f := encode(nickMsg{Type: typeNickSet, Nick: u.nick})
	for o := range r.conns {
		if o.user == u && o != skip {
			o.send(f)
		}
	}
}

// setNickLocked sets c's nickname, or returns the error frame saying why not.
func (r *room) setNickLocked(c *conn, raw string, now time.Time) []byte {
	nick := cleanNick(raw)
	n := utf8.RuneCountInString(nick)
	if n == 0 || n > r.h.lim.NickRunes {
		return errorFrame(codeBadNick, fmt.Sprintf("A nickname has 1 to %d characters.", r.h.lim.NickRunes), 0)
	}
	u := c.user
	if nick == u.nick {
		return nil
	}
	key := nickKey(nick)
	for _, o := range r.users {
		if o != u && o.conns > 0 && nickKey(o.nick) == key {
			return errorFrame(codeNickTaken, fmt.Sprintf("The nickname %q is taken.", nick), 0)
		}
	}
	old := u.nick
	u.nick = nick
	r.h.record(r.name, logRecord{Time: now, Type: "nick", User: u.id, Nick: nick, OldNick: old, Remote: c.remote})
	return nil
}

// post handles a send frame.
func (r *room) post(c *conn, raw string) {
	text := cleanText(raw)
	if n := utf8.RuneCountInString(text); n == 0 {
		c.send(errorFrame(codeBadMessage, "The message is empty.", 0))
		return
	} else if n > r.h.lim.MessageRunes {
		c.send(errorFrame(codeBadMessage, fmt.Sprintf("The message has %d characters; at most %d fit.", n, r.h.lim.MessageRunes), 0))
		return
	}
	now := r.h.now()

	r.mu.Lock()
	u := c.user
	var refused []byte
	switch {
	case u.nick == "":
		refused = errorFrame(codeNoNick, "Choose a nickname first.", 0)
	case c.admin:
	case u.timedOutAt(now):
		refused = errorFrame(codeTimedOut, "A moderator timed you out.", u.timeoutUntil.Sub(now))
	case !r.enabled:
		refused = errorFrame(codeChatOff, "The chat is off; only moderators can write.", 0)
	case r.slow > 0 && now.Before(u.lastSent.Add(time.Duration(r.slow)*time.Second)):
		refused = errorFrame(codeSlowMode, fmt.Sprintf("Slow mode: one message every %s.", human(r.slow)),
			u.lastSent.Add(time.Duration(r.slow)*time.Second).Sub(now))
	}
	if refused != nil {
		r.mu.Unlock()
		c.send(refused)
		return
	}
	msg := status.ChatMessage{ID: newMessageID(), Time: now.UTC(), User: u.id, Nick: u.nick, Text: text, Admin: c.admin}
	r.history = append(r.history, msg)
	if over := len(r.history) - r.h.lim.History; over > 0 {
		gone := slices.Clone(r.history[:over])
		r.history = slices.Delete(r.history, 0, over)
		for _, m := range gone {
			r.forgetIfIdleLocked(m.User, now)
		}
	}
	u.messages++
	u.lastSent = now
	r.lastActive = now
	r.broadcastLocked(encode(messageMsg{Type: typeMessage, ChatMessage: msg}))
	r.h.record(r.name, logRecord{Time: now, Type: "message", ID: msg.ID, User: msg.User, Nick: msg.Nick, Text: msg.Text, Admin: msg.Admin})
	r.mu.Unlock()

	r.h.emit(status.Event{Time: now, Kind: status.EventChat, Stream: r.name, Level: "info", Text: msg.Nick + ": " + msg.Text, Chat: &msg})
}

func (r *room) broadcastLocked(frame []byte) {
	for c := range r.conns {
		c.send(frame)
	}
}

func (r *room) stateLocked() chatState {
	return chatState{Enabled: r.enabled, SlowModeSeconds: r.slow}
}

// banFor returns the ban that keeps a client out: its session's, or one on
// its address.
func (r *room) banFor(u *user, addr string, now time.Time) *user {
	if u != nil && u.bannedAt(now) {
		return u
	}
	for _, b := range r.bans {
		if b.addr == addr && b.bannedAt(now) {
			return b
		}
	}
	return nil
}

func bannedFrame(b *user, now time.Time) []byte {
	m := bannedMsg{Type: typeBanned, Text: "A moderator banned you from this chat."}
	if !b.banUntil.IsZero() {
		m.Seconds = ceilSeconds(b.banUntil.Sub(now))
		m.Text = fmt.Sprintf("A moderator banned you from this chat for %s.", human(m.Seconds))
	}
	return encode(m)
}

// keepLocked reports whether u must be remembered: it is connected, banned,
// timed out or wrote a message still in the history. Everyone else is
// forgotten, so memory stays bounded by connections, moderation and history.
func (r *room) keepLocked(u *user, now time.Time) bool {
	if u.conns > 0 || u.bannedAt(now) || u.timedOutAt(now) {
		return true
	}
	for _, m := range r.history {
		if m.User == u.id {
			return true
		}
	}
	return false
}

func (r *room) forgetIfIdleLocked(id string, now time.Time) {
	if u := r.users[id]; u != nil && !r.keepLocked(u, now) {
		delete(r.users, id)
	}
}

// sweepLocked lifts expired bans and forgets whom nothing keeps.
func (r *room) sweepLocked(now time.Time) {
	for id, u := range r.users {
		if u.banned && !u.bannedAt(now) {
			u.banned, u.banUntil = false, time.Time{}
			delete(r.bans, id)
		}
		if !r.keepLocked(u, now) {
			delete(r.users, id)
		}
	}
}

// trivial reports a room with nothing worth keeping.
func (r *room) trivial() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sweepLocked(r.h.now())
	return len(r.conns) == 0 && len(r.history) == 0 && len(r.users) == 0 && r.enabled && r.slow == 0
}

// evictable reports a room nobody is in and no ban or timeout holds, and
// when it was last active.
func (r *room) evictable() (bool, time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.h.now()
	if len(r.conns) > 0 {
		return false, r.lastActive
	}
	for _, u := range r.users {
		if u.bannedAt(now) || u.timedOutAt(now) {
			return false, r.lastActive
		}
	}
	return true, r.lastActive
}

func (r *room) kill() {
	r.mu.Lock()
	r.dead = true
	r.mu.Unlock()
}

// state is the moderators' view.
func (r *room) state() *status.Chat {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.h.now()
	r.sweepLocked(now)
	admins := make(map[*user]bool)
	for c := range r.conns {
		if c.admin {
			admins[c.user] = true
		}
	}
	st := &status.Chat{
		Enabled:         r.enabled,
		SlowModeSeconds: r.slow,
		Connections:     len(r.conns),
		Messages:        append([]status.ChatMessage{}, r.history...),
		Chatters:        []status.Chatter{},
	}
	for _, u := range r.users {
		banned, timedOut := u.bannedAt(now), u.timedOutAt(now)
		if !banned && !timedOut && (u.conns == 0 || u.nick == "" && u.messages == 0) {
			continue // gone, or a silent reader
		}
		ch := status.Chatter{
			User: u.id, Nick: u.nick, Remote: u.remote, Since: u.since, Connected: u.conns > 0,
			Admin: admins[u], Messages: u.messages, Banned: banned,
		}
		if timedOut {
			ch.TimeoutUntil = u.timeoutUntil.UTC()
		}
		st.Chatters = append(st.Chatters, ch)
	}
	slices.SortFunc(st.Chatters, func(a, b status.Chatter) int {
		return cmp.Or(a.Since.Compare(b.Since), cmp.Compare(a.User, b.User))
	})
	return st
}

// closeBanned tells the banned user's connections, and other non-admin
// connections from its address, and closes them.
func (r *room) closeBannedLocked(b *user, now time.Time) {
	f := bannedFrame(b, now)
	for c := range r.conns {
		if !c.admin && (c.user == b || c.addr == b.addr) {
			c.send(f)
			c.end(websocket.StatusPolicyViolation, "banned")
		}
	}
}

// human formats a duration in seconds the way the chat says it.
func human(secs int) string {
	switch {
	case secs < 60:
		return fmt.Sprintf("%d s", secs)
	case secs < 3600:
		if secs%60 == 0 {
			return fmt.Sprintf("%d min", secs/60)
		}
		return fmt.Sprintf("%d min %d s", secs/60, secs%60)
	case secs < 86400:
		if m := secs / 60 % 60; m != 0 {
			return fmt.Sprintf("%d h %d min", secs/3600, m)
		}
		return fmt.Sprintf("%d h", secs/3600)
	}
	if h := secs / 3600 % 24; h != 0 {
		return fmt.Sprintf("%d d %d h", secs/86400, h)
	}
	return fmt.Sprintf("%d d", secs/86400)
}
