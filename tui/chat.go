package tui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bcastdev/bcast/server/status"
	"github.com/charmbracelet/x/ansi"
)

// chatMode is what the chat pane lists.
type chatMode int

const (
	chatMessages chatMode = iota // the live messages, to delete one or act on its author
	chatChatters                 // the participants, to reach someone banned who wrote nothing visible
)

// nickWidth caps nicknames in the message list.
const nickWidth = 16

// chatPane is the selected stream's chat as a moderator sees it: the
// messages with a cursor, the moderation state in the title, and the
// chatters list one key away.
type chatPane struct {
	st            *styles
	width, height int
	focused       bool
	loc           *time.Location
	mode          chatMode

	stream   string
	chat     *status.Chat // nil when the stream has no chat
	now      time.Time    // snapshot time
	msgs     []status.ChatMessage
	extra    []status.ChatMessage // from events, newer than the last snapshot
	chatters []status.Chatter     // moderated first, then by nick
	byUser   map[string]int       // user → index in chatters

	cursor, offset   int
	selected         string // message ID under the cursor
	follow           bool   // the cursor rides the newest message
	ccursor, coffset int
	selectedUser     string
}

func newChatPane(st *styles, loc *time.Location) chatPane {
	return chatPane{st: st, loc: loc, follow: true}
}

func (c *chatPane) SetSize(w, h int) {
	c.width, c.height = w, h
	c.clamp()
}

// setChat replaces the chat with a snapshot's. Messages that arrived as
// events after the snapshot was taken stay; older ones are the snapshot's to
// show, so a message deleted meanwhile does not linger.
func (c *chatPane) setChat(stream string, chat *status.Chat, now time.Time) {
	if stream != c.stream {
		c.extra, c.selected, c.selectedUser, c.follow = nil, "", "", true
		c.cursor, c.offset, c.ccursor, c.coffset = 0, 0, 0, 0
	}
	c.stream, c.chat, c.now = stream, chat, now
	c.msgs = c.msgs[:0]
	c.chatters = c.chatters[:0]
	if chat != nil {
		c.msgs = append(c.msgs, chat.Messages...)
		c.chatters = append(c.chatters, chat.Chatters...)
	}
	keep := c.extra[:0]
	for _, m := range c.extra {
		if m.Time.After(now) && !c.has(m.ID) {
			keep = append(keep, m)
			c.msgs = append(c.msgs, m)
		}
	}
	c.extra = keep

	slices.SortStableFunc(c.chatters, func(a, b status.Chatter) int {
		return cmp.Or(cmp.Compare(moderationRank(&a, now), moderationRank(&b, now)),
			cmp.Compare(a.Nick, b.Nick), cmp.Compare(a.User, b.User))
	})
	clear(c.byUser)
	if c.byUser == nil {
		c.byUser = make(map[string]int, len(c.chatters))
	}
	for i := range c.chatters {
		c.byUser[c.chatters[i].User] = i
	}
	c.restore()
}

// addMessage shows a chat event at once, before the next snapshot has it.
func (c *chatPane) addMessage(stream string, m status.ChatMessage) {
	if stream != c.stream || c.has(m.ID) {
		return
	}
	c.extra = append(c.extra, m)
	c.msgs = append(c.msgs, m)
	c.restore()
}

func (c *chatPane) has(id string) bool {
	return slices.ContainsFunc(c.msgs, func(m status.ChatMessage) bool { return m.ID == id })
}

// restore puts the cursors back on the selected message and chatter, or on
// the newest message while following.
func (c *chatPane) restore() {
	if c.follow || c.selected == "" {
		c.cursor = len(c.msgs) - 1
	} else if i := slices.IndexFunc(c.msgs, func(m status.ChatMessage) bool { return m.ID == c.selected }); i >= 0 {
		c.cursor = i
	} // else the message is gone: the cursor stays where it was
	if i, ok := c.byUser[c.selectedUser]; ok {
		c.ccursor = i
	}
	c.clamp()
}

func (c *chatPane) clamp() {
	page := c.pageSize()
	c.cursor = max(0, min(c.cursor, len(c.msgs)-1))
	c.offset = scrollOffset(c.cursor, c.offset, page, len(c.msgs))
	c.selected = ""
	if len(c.msgs) > 0 {
		c.selected = c.msgs[c.cursor].ID
	}
	c.follow = c.cursor >= len(c.msgs)-1
	c.ccursor = max(0, min(c.ccursor, len(c.chatters)-1))
	c.coffset = scrollOffset(c.ccursor, c.coffset, page, len(c.chatters))
	c.selectedUser = ""
	if len(c.chatters) > 0 {
		c.selectedUser = c.chatters[c.ccursor].User
	}
}

func (c *chatPane) pageSize() int { return max(c.height-1, 1) }

func (c *chatPane) move(delta int) {
	if c.mode == chatChatters {
		c.ccursor += delta
	} else {
		c.cursor += delta
	}
	c.clamp()
}

func (c *chatPane) top()    { c.move(-1 << 30) }
func (c *chatPane) bottom() { c.move(1 << 30) }

func (c *chatPane) toggleMode() {
	c.mode = 1 - c.mode
}

// selectedMessage is the message under the cursor, in the messages list.
func (c *chatPane) selectedMessage() (status.ChatMessage, bool) {
	if c.mode != chatMessages || len(c.msgs) == 0 {
		return status.ChatMessage{}, false
	}
	return c.msgs[c.cursor], true
}

// selectedChatter is whom a ban, timeout or unban would hit: the selected
// message's author or the selected chatter.
func (c *chatPane) selectedChatter() (status.Chatter, bool) {
	if c.mode == chatChatters {
		if len(c.chatters) == 0 {
			return status.Chatter{}, false
		}
		return c.chatters[c.ccursor], true
	}
	m, ok := c.selectedMessage()
	if !ok {
		return status.Chatter{}, false
	}
	if i, ok := c.byUser[m.User]; ok {
		return c.chatters[i], true
	}
	return status.Chatter{User: m.User, Nick: m.Nick, Admin: m.Admin}, true
}

// moderated reports whether a user is banned or timed out now.
func (c *chatPane) moderated(ch *status.Chatter) bool {
	return ch.Banned || ch.TimeoutUntil.After(c.now)
}

// moderationRank orders chatters: banned, timed out, connected, gone.
func moderationRank(ch *status.Chatter, now time.Time) int {
	switch {
	case ch.Banned:
		return 0
	case ch.TimeoutUntil.After(now):
		return 1
	case ch.Connected:
		return 2
	default:
		return 3
	}
}

func (c *chatPane) View() string {
	lines := make([]string, 0, c.height)
	lines = append(lines, paneTitle(c.st, "Chat", c.titleInfo(), c.width, c.focused))
	switch {
	case c.chat == nil:
		lines = append(lines, c.st.Muted.Render("  no chat on this stream"))
	case c.mode == chatChatters:
		lines = c.chatterLines(lines)
	default:
		lines = c.messageLines(lines)
	}
	return strings.Join(block(lines, c.width, c.height), "\n")
}

func (c *chatPane) titleInfo() string {
	st := c.st
	if c.chat == nil {
		return ""
	}
	state := st.OK.Render("on")
	if !c.chat.Enabled {
		state = st.Bad.Render("OFF")
	}
	parts := []string{state}
	if c.chat.SlowModeSeconds > 0 {
		parts = append(parts, st.Warn.Render("slow "+formatSeconds(c.chat.SlowModeSeconds)))
	}
	var banned, timedOut int
	for i := range c.chatters {
		switch moderationRank(&c.chatters[i], c.now) {
		case 0:
			banned++
		case 1:
			timedOut++
		}
	}
	parts = append(parts, fmt.Sprintf("%d conn", c.chat.Connections))
	if banned > 0 {
		parts = append(parts, fmt.Sprintf("%d banned", banned))
	}
	if timedOut > 0 {
		parts = append(parts, fmt.Sprintf("%d timed out", timedOut))
	}
	if c.mode == chatChatters {
		parts = append(parts, st.Strong.Render("chatters"))
	}
	return strings.Join(parts, st.Muted.Render(" · "))
}

func (c *chatPane) messageLines(lines []string) []string {
	st := c.st
	if len(c.msgs) == 0 {
		return append(lines, st.Muted.Render("  no messages"))
	}
	end := min(c.offset+c.pageSize(), len(c.msgs))
	for i := c.offset; i < end; i++ {
		m := &c.msgs[i]
		cursor := i == c.cursor
		nick := clean(m.Nick)
		if m.Admin {
			nick = "@" + nick
		}
		if ansi.StringWidth(nick) > nickWidth {
			nick = ansi.Truncate(nick, nickWidth, ellipsis)
		}
		var mark string
		if j, ok := c.byUser[m.User]; ok {
			switch moderationRank(&c.chatters[j], c.now) {
			case 0:
				mark = " [banned]"
			case 1:
				mark = " [timeout]"
			}
		}
		ts := m.Time.In(c.loc).Format("15:04:05")
		if cursor {
			lines = append(lines, c.cursorLine("› "+ts+" "+nick+mark+": "+clean(m.Text)))
			continue
		}
		nickStyle := st.Nick
		if m.Admin {
			nickStyle = st.Admin
		}
		lines = append(lines, "  "+st.Muted.Render(ts)+" "+nickStyle.Render(nick)+st.Bad.Render(mark)+": "+clean(m.Text))
	}
	return lines
}

func (c *chatPane) chatterLines(lines []string) []string {
	st := c.st
	if len(c.chatters) == 0 {
		return append(lines, st.Muted.Render("  no chatters"))
	}
	end := min(c.coffset+c.pageSize(), len(c.chatters))
	for i := c.coffset; i < end; i++ {
		ch := &c.chatters[i]
		nick := clean(ch.Nick)
		if ch.Admin {
			nick = "@" + nick
		}
		var state string
		switch moderationRank(ch, c.now) {
		case 0:
			state = "banned"
		case 1:
			state = "timeout " + formatDuration(ch.TimeoutUntil.Sub(c.now))
		case 2:
			state = "online " + formatDuration(c.now.Sub(ch.Since))
		default:
			state = "left"
		}
		text := cell(nick, nickWidth, false) + " " + cell(state, 14, false) + " " +
			cell(fmt.Sprintf("%d msgs", ch.Messages), 8, true)
		// Identity columns only where they fit; the footer shows them for
		// the selected chatter anyway.
		if c.width >= 2+nickWidth+1+14+1+8+1+21 {
			text += " " + cell(ch.Remote, 21, false)
		}
		if c.width >= 2+nickWidth+1+14+1+8+1+21+1+10 {
			text += " " + cell(ch.User, 10, false)
		}
		if i == c.ccursor {
			lines = append(lines, c.cursorLine("› "+text))
			continue
		}
		if c.moderated(ch) {
			text = st.Bad.Render(text)
		}
		lines = append(lines, "  "+text)
	}
	return lines
}

func (c *chatPane) cursorLine(s string) string {
	s = fit(s, c.width)
	if c.focused {
		return c.st.Selected.Render(s)
	}
	return c.st.SelectedBlurred.Render(s)
}
