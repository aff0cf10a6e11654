package chat

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/bcastdev/bcast/server/status"
)

const (
	maxSlowSeconds   = 3600            // slow mode beyond an hour is chat off
	maxActionSeconds = 366 * 24 * 3600 // bans and timeouts; longer is "until unbanned"
)

// Do applies a chat_* action from the console, the admin API or the web
// page's admin mode. Every applied action is logged with who did it,
// written to the chat log and published as an EventAction.
func (h *Hub) Do(a status.Action) error {
	if err := checkAction(a); err != nil {
		return err
	}
	by := a.By
	if by == "" {
		by = "api"
	}
	// Settings may be made before anyone connects; the rest needs a room.
	create := a.Kind == status.ActionChatSlow || a.Kind == status.ActionChatOn || a.Kind == status.ActionChatOff
	for {
		r, err := h.room(a.Stream, create)
		if err != nil {
			return err
		}
		if r == nil {
			return fmt.Errorf("%w: stream %q has no chat", ErrNotFound, a.Stream)
		}
		now := h.now()
		text, rec, err := r.apply(a, now)
		if errors.Is(err, errRoomGone) {
			continue
		}
		if err != nil {
			return err
		}
		text = "chat: " + text + " (by " + by + ")"
		rec.Time, rec.Type, rec.Action, rec.By = now, "action", a.Kind, by
		h.record(a.Stream, rec)
		h.log.Info("chat moderation", "stream", a.Stream, "action", a.Kind, "by", by,
			"target", a.Target, "seconds", a.Seconds, "result", text)
		h.emit(status.Event{Time: now, Kind: status.EventAction, Stream: a.Stream, Level: "info", Text: text})
		h.dropIdle(r)
		return nil
	}
}

// checkAction validates what can be checked without a room.
func checkAction(a status.Action) error {
	needTarget := false
	switch a.Kind {
	case status.ActionChatDelete, status.ActionChatUnban:
		needTarget = true
	case status.ActionChatBan:
		needTarget = true
		if a.Seconds < 0 || a.Seconds > maxActionSeconds {
			return fmt.Errorf("%w: ban seconds must be 0 (until unbanned) to %d, got %d", ErrInvalid, maxActionSeconds, a.Seconds)
		}
	case status.ActionChatTimeout:
		needTarget = true
		if a.Seconds <= 0 || a.Seconds > maxActionSeconds {
			return fmt.Errorf("%w: timeout seconds must be 1 to %d, got %d", ErrInvalid, maxActionSeconds, a.Seconds)
		}
	case status.ActionChatSlow:
		if a.Seconds < 0 || a.Seconds > maxSlowSeconds {
			return fmt.Errorf("%w: slow mode seconds must be 0 (off) to %d, got %d", ErrInvalid, maxSlowSeconds, a.Seconds)
		}
	case status.ActionChatOn, status.ActionChatOff, status.ActionChatClear:
	default:
		return fmt.Errorf("%w: %q is not a chat action", ErrInvalid, a.Kind)
	}
	if !status.ValidStreamName(a.Stream) {
		return fmt.Errorf("%w: invalid stream name %q", ErrInvalid, a.Stream)
	}
	if needTarget && a.Target == "" {
		return fmt.Errorf("%w: %s needs a target", ErrInvalid, a.Kind)
	}
	return nil
}

// apply changes the room and tells its clients. It returns the event text
// and the chat log record (without the fields Do fills in).
func (r *room) apply(a status.Action, now time.Time) (string, logRecord, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.dead {
		return "", logRecord{}, errRoomGone
	}
	rec := logRecord{Target: a.Target}
	switch a.Kind {
	case status.ActionChatDelete:
		i := slices.IndexFunc(r.history, func(m status.ChatMessage) bool { return m.ID == a.Target })
		if i < 0 {
			return "", rec, fmt.Errorf("%w: no message %q in the chat of %q (deleted, cleared or too old)", ErrNotFound, a.Target, r.name)
		}
		m := r.history[i]
		r.history = slices.Delete(r.history, i, i+1)
		r.forgetIfIdleLocked(m.User, now)
		r.broadcastLocked(encode(deleteMsg{Type: typeDelete, ID: m.ID}))
		rec.User, rec.Nick, rec.Text = m.User, m.Nick, m.Text
		return fmt.Sprintf("message by %s deleted: %q", m.Nick, abbrev(m.Text, 60)), rec, nil

	case status.ActionChatSlow:
		r.slow, rec.Seconds = a.Seconds, a.Seconds
		r.broadcastLocked(encode(stateMsg{Type: typeState, chatState: r.stateLocked()}))
		if a.Seconds == 0 {
			return "slow mode off", rec, nil
		}
		return "slow mode " + human(a.Seconds), rec, nil

	case status.ActionChatOn, status.ActionChatOff:
		r.enabled = a.Kind == status.ActionChatOn
		r.broadcastLocked(encode(stateMsg{Type: typeState, chatState: r.stateLocked()}))
		if r.enabled {
			return "turned on", rec, nil
		}
		return "turned off (moderators only)", rec, nil

	case status.ActionChatClear:
		n := len(r.history)
		r.history = nil
		r.sweepLocked(now)
		r.broadcastLocked(encode(typeOnly{Type: typeClear}))
		return fmt.Sprintf("cleared (%d messages)", n), rec, nil
	}

	u := r.userLocked(a.Target)
	if u == nil {
		return "", rec, fmt.Errorf("%w: no chatter %q in the chat of %q", ErrNotFound, a.Target, r.name)
	}
	rec.Target, rec.User, rec.Nick = u.id, u.id, u.nick
	if a.Kind != status.ActionChatUnban {
		rec.Seconds = a.Seconds
	}
	who := fmt.Sprintf("%s (%s)", cmp.Or(u.nick, "no nickname"), u.id)
	switch a.Kind {
	case status.ActionChatBan:
		u.banned = true
		u.banUntil = time.Time{}
		if a.Seconds > 0 {
			u.banUntil = now.Add(time.Duration(a.Seconds) * time.Second)
		}
		r.bans[u.id] = u
		r.closeBannedLocked(u, now)
		rec.Remote = u.remote
		if a.Seconds == 0 {
			return who + " banned until unbanned", rec, nil
		}
		return who + " banned for " + human(a.Seconds), rec, nil

	case status.ActionChatTimeout:
		u.timeoutUntil = now.Add(time.Duration(a.Seconds) * time.Second)
		r.sendToUserLocked(u, encode(timeoutMsg{Type: typeTimeout, Seconds: a.Seconds, Until: u.timeoutUntil.UTC(),
			Text: "A moderator timed you out for " + human(a.Seconds) + "."}))
		return who + " timed out for " + human(a.Seconds), rec, nil

	default: // unban: lifts a ban and a timeout
		banned, timedOut := u.bannedAt(now), u.timedOutAt(now)
		if !banned && !timedOut {
			return "", rec, fmt.Errorf("%w: %s is neither banned nor timed out", ErrNotFound, who)
		}
		u.banned, u.banUntil, u.timeoutUntil = false, time.Time{}, time.Time{}
		delete(r.bans, u.id)
		if timedOut {
			r.sendToUserLocked(u, encode(timeoutMsg{Type: typeTimeout, Text: "A moderator lifted your timeout."}))
		}
		r.forgetIfIdleLocked(u.id, now)
		return who + " unbanned", rec, nil
	}
}

// userLocked finds a chatter by public id or, for people typing API calls
// by hand, by the nickname of a connected chatter.
func (r *room) userLocked(target string) *user {
	if u := r.users[target]; u != nil {
		return u
	}
	key := nickKey(target)
	for _, u := range r.users {
		if u.conns > 0 && u.nick != "" && nickKey(u.nick) == key {
			return u
		}
	}
	return nil
}

func (r *room) sendToUserLocked(u *user, frame []byte) {
	for c := range r.conns {
		if c.user == u {
			c.send(frame)
		}
	}
}

// abbrev shortens s to n characters for event texts.
func abbrev(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
