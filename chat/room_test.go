package chat

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestJoin(t *testing.T) {
	e := newEnv(t)
	c := e.join("s", clientMsg{}, dialOpt{})
	w := c.welcome
	if w.User == "" || !validSecret(w.Session) || w.Nick != "" || w.Admin {
		t.Fatalf("welcome %+v", w)
	}
	if !w.Enabled || w.SlowModeSeconds != 0 || w.History == nil || len(w.History) != 0 {
		t.Fatalf("welcome state %+v", w)
	}
	if w.Limits != (wireLimits{NickMax: 25, MessageMax: 500}) {
		t.Fatalf("limits %+v", w.Limits)
	}
	// A reader without a nickname cannot post.
	c.say("hi")
	c.expectError(codeNoNick)

	// The session secret brings back the same public id; a made-up one
	// does not.
	again := e.join("s", clientMsg{Session: w.Session}, dialOpt{})
	if again.welcome.User != w.User || again.welcome.Session != w.Session {
		t.Fatalf("rejoin: %+v, want user %s", again.welcome, w.User)
	}
	forged := e.join("s", clientMsg{Session: "not-a-session"}, dialOpt{})
	if forged.welcome.Session == "not-a-session" || forged.welcome.User == w.User {
		t.Fatalf("made-up session accepted: %+v", forged.welcome)
	}

	// The admin token is checked; a wrong one joins as a viewer and says so.
	if a := e.join("s", clientMsg{AdminToken: testAdmin}, dialOpt{}); !a.welcome.Admin {
		t.Fatal("admin token not accepted")
	}
	bad := e.join("s", clientMsg{AdminToken: "guess", Nick: "guesser"}, dialOpt{})
	if bad.welcome.Admin || bad.welcome.Nick != "guesser" {
		t.Fatalf("wrong admin token: %+v", bad.welcome)
	}
	bad.expectError(codeBadAdminToken)

	// A second join is an error, not a new identity.
	c.write(clientMsg{Type: typeJoin})
	c.expectError(codeBadRequest)
}

func TestJoinRefused(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name  string
		frame []byte
		typ   websocket.MessageType
		code  websocket.StatusCode
	}{
		{"send before join", []byte(`{"type":"send","text":"hi"}`), websocket.MessageText, websocket.StatusPolicyViolation},
		{"not json", []byte(`hello`), websocket.MessageText, websocket.StatusPolicyViolation},
		{"binary join", []byte(`{"type":"join"}`), websocket.MessageBinary, websocket.StatusPolicyViolation},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := e.in(t).open("s", dialOpt{})
			if err := c.ws.Write(t.Context(), tc.typ, tc.frame); err != nil {
				t.Fatal(err)
			}
			c.expectError(codeBadRequest)
			c.expectClose(tc.code)
		})
	}

	t.Run("binary after join", func(t *testing.T) {
		c := e.in(t).join("s", clientMsg{}, dialOpt{})
		if err := c.ws.Write(t.Context(), websocket.MessageBinary, []byte("x")); err != nil {
			t.Fatal(err)
		}
		c.expectClose(websocket.StatusUnsupportedData)
	})

	t.Run("invalid utf-8", func(t *testing.T) {
		c := e.in(t).join("s", clientMsg{}, dialOpt{})
		c.writeRaw([]byte("{\"type\":\"send\",\"text\":\"\xc3\x28\"}"))
		c.expectError(codeBadRequest)
	})

	t.Run("invalid stream name", func(t *testing.T) {
		for _, name := range []string{"", "a/b", "a b", strings.Repeat("x", 65), "..", "ä"} {
			req := httptest.NewRequest("GET", "/api/chat/x", nil)
			req.SetPathValue("stream", name)
			rec := httptest.NewRecorder()
			e.hub.ServeHTTP(rec, req)
			if rec.Code != http.StatusBadRequest {
				t.Errorf("stream %q: status %d", name, rec.Code)
			}
		}
	})
}

func TestNick(t *testing.T) {
	e := newEnv(t)
	for i, tc := range []struct {
		in, want, code string
	}{
		{"bob", "bob", ""},
		{"  bob   smith ", "bob smith", ""},
		{strings.Repeat("é", 25), strings.Repeat("é", 25), ""},
		{strings.Repeat("é", 26), "", codeBadNick},
		{strings.Repeat("🙂", 25), strings.Repeat("🙂", 25), ""},
		{"", "", codeBadNick},
		{"   ", "", codeBadNick},
		{"\u200B\u2066\x07", "", codeBadNick},
		{"b\u200Bob\u202E", "bob", ""},
		{"<b>x</b>", "<b>x</b>", ""},
	} {
		t.Run(fmt.Sprintf("%d %q", i, tc.in), func(t *testing.T) {
			c := e.in(t).join(fmt.Sprintf("nick%d", i), clientMsg{}, dialOpt{addr: fmt.Sprintf("10.1.0.%d:1", i)})
			c.write(clientMsg{Type: typeNick, Nick: tc.in})
			if tc.code != "" {
				c.expectError(tc.code)
				return
			}
			if f := c.expect(typeNickSet); f.Nick != tc.want {
				t.Fatalf("nick %q, want %q", f.Nick, tc.want)
			}
		})
	}
}

func TestNickUnique(t *testing.T) {
	e := newEnv(t)
	bob := e.chatter("s", "Bob", dialOpt{})
	other := e.join("s", clientMsg{}, dialOpt{})
	for _, n := range []string{"bob", "BOB", " Bob "} {
		other.write(clientMsg{Type: typeNick, Nick: n})
		other.expectError(codeNickTaken)
	}
	// A nick in the join frame that is taken: welcome without it, then the error.
	third := e.join("s", clientMsg{Nick: "bOb"}, dialOpt{})
	if third.welcome.Nick != "" {
		t.Fatalf("took a taken nick: %+v", third.welcome)
	}
	third.expectError(codeNickTaken)

	// The same session in a second tab shares the nickname.
	tab := e.join("s", clientMsg{Session: bob.welcome.Session, Nick: "Bob"}, dialOpt{})
	if tab.welcome.Nick != "Bob" || tab.welcome.User != bob.welcome.User {
		t.Fatalf("second tab: %+v", tab.welcome)
	}
	// Renaming reaches every tab of the session.
	tab.write(clientMsg{Type: typeNick, Nick: "Robert"})
	tab.expect(typeNickSet)
	if f := bob.expect(typeNickSet); f.Nick != "Robert" {
		t.Fatalf("other tab got %+v", f)
	}
	other.write(clientMsg{Type: typeNick, Nick: "bob"})
	other.expect(typeNickSet)

	// Once the holder leaves, the nickname is free.
	bob.ws.Close(websocket.StatusNormalClosure, "")
	tab.ws.Close(websocket.StatusNormalClosure, "")
	eventually(t, "the holder to leave", func() bool { return e.hub.State("s").Connections == 2 })
	third.write(clientMsg{Type: typeNick, Nick: "ROBERT"})
	third.expect(typeNickSet)
}

func TestMessages(t *testing.T) {
	e := newEnv(t)
	bob := e.chatter("s", "bob", dialOpt{})
	reader := e.join("s", clientMsg{}, dialOpt{})
	for _, tc := range []struct {
		in, want, code string
	}{
		{"hello", "hello", ""},
		{"  padded\n", "padded", ""},
		{"ring\a the \u202Ebell", "ring the bell", ""},
		{strings.Repeat("ü", 500), strings.Repeat("ü", 500), ""},
		{strings.Repeat("ü", 501), "", codeBadMessage},
		{"", "", codeBadMessage},
		{" \t\n", "", codeBadMessage},
		{"\x00\u2066", "", codeBadMessage},
	} {
		e.clock.add(time.Second) // keep the rate limit out of it
		bob.say(tc.in)
		if tc.code != "" {
			bob.expectError(tc.code)
			continue
		}
		m := bob.expectMessage(tc.want)
		r := reader.expectMessage(tc.want)
		if m.ID == "" || m.ID != r.ID || m.User != bob.welcome.User || m.Nick != "bob" || m.Admin {
			t.Fatalf("message %+v, reader saw %+v", m, r)
		}
		if !m.Time.Equal(e.clock.now()) {
			t.Fatalf("message time %v, want the server's %v", m.Time, e.clock.now())
		}
	}
	admin := e.join("s", clientMsg{Nick: "mod", AdminToken: testAdmin}, dialOpt{})
	admin.say("hi")
	admin.expectMessage("hi")
	if m := bob.expectMessage("hi"); !m.Admin {
		t.Fatalf("admin's message not marked: %+v", m)
	}
}

func TestHistory(t *testing.T) {
	e := newEnv(t, withLimits(Limits{MessageBurst: 1000, AddrBurst: 1000}))
	bob := e.chatter("s", "bob", dialOpt{})
	ids := map[string]bool{}
	for i := range 105 {
		e.clock.add(time.Millisecond)
		bob.say(fmt.Sprintf("m%d", i))
		ids[bob.expectMessage(fmt.Sprintf("m%d", i)).ID] = true
	}
	if len(ids) != 105 {
		t.Fatalf("%d distinct ids for 105 messages", len(ids))
	}
	late := e.join("s", clientMsg{}, dialOpt{})
	h := late.welcome.History
	if len(h) != 100 {
		t.Fatalf("history of %d messages, want 100", len(h))
	}
	for i, m := range h {
		if want := fmt.Sprintf("m%d", i+5); m.Text != want || m.Nick != "bob" || !ids[m.ID] {
			t.Fatalf("history[%d] = %+v, want %s", i, m, want)
		}
		if i > 0 && !m.Time.After(h[i-1].Time) {
			t.Fatalf("history not oldest first at %d", i)
		}
	}
	if st := e.hub.State("s"); len(st.Messages) != 100 || st.Messages[0].Text != "m5" {
		t.Fatalf("state history: %d messages starting %+v", len(st.Messages), st.Messages[0])
	}
}

func TestStateAndMemory(t *testing.T) {
	e := newEnv(t)
	if e.hub.State("s") != nil {
		t.Fatal("state of a room nobody opened")
	}
	bob := e.chatter("s", "bob", addr(1))
	e.clock.add(time.Second)
	reader := e.join("s", clientMsg{}, addr(2))
	e.clock.add(time.Second)
	quiet := e.chatter("s", "quiet", addr(3))
	bob.say("hi")
	bob.expectMessage("hi")

	st := e.hub.State("s")
	if st.Connections != 3 || !st.Enabled || len(st.Messages) != 1 {
		t.Fatalf("state %+v", st)
	}
	if len(st.Chatters) != 2 {
		t.Fatalf("chatters %+v, want bob and quiet (not the silent reader)", st.Chatters)
	}
	c := st.Chatters[0]
	if c.Nick != "bob" || c.User != bob.welcome.User || c.Remote != "10.0.0.1" || !c.Connected || c.Messages != 1 {
		t.Fatalf("chatter %+v", c)
	}

	// Leaving forgets whoever nothing keeps: the reader and quiet; bob
	// stays while his message is in the history.
	for _, c := range []*client{reader, quiet, bob} {
		c.ws.Close(websocket.StatusNormalClosure, "")
	}
	eventually(t, "everyone to leave", func() bool { return e.hub.State("s").Connections == 0 })
	r, _ := e.hub.room("s", false)
	r.mu.Lock()
	n := len(r.users)
	r.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d users remembered, want 1 (the author in the history)", n)
	}
	// Clearing drops the last reason to keep the room.
	e.do(statusAction("chat_clear", "s", "", 0))
	if e.hub.State("s") != nil {
		t.Fatal("empty room kept")
	}
}

func TestRoomEviction(t *testing.T) {
	e := newEnv(t, withLimits(Limits{Rooms: 2}))
	a := e.chatter("a", "x", dialOpt{})
	a.say("keep me")
	a.expectMessage("keep me")
	a.ws.Close(websocket.StatusNormalClosure, "")
	eventually(t, "a to leave", func() bool { return e.hub.State("a").Connections == 0 })
	e.clock.add(time.Second)
	e.join("b", clientMsg{}, dialOpt{})
	// Room a is idle (history only), room b has a client: c evicts a.
	e.join("c", clientMsg{}, dialOpt{})
	if e.hub.State("a") != nil {
		t.Fatal("idle room a not evicted")
	}
	// With every room busy, a new one is refused.
	d := e.open("d", dialOpt{})
	d.write(clientMsg{Type: typeJoin})
	d.expectError(codeTooManyRooms)
	d.expectClose(websocket.StatusTryAgainLater)
}

func TestCloseGoingAway(t *testing.T) {
	e := newEnv(t)
	c := e.join("s", clientMsg{}, dialOpt{})
	pending := e.open("s", dialOpt{}) // upgraded, no join yet
	closed := make(chan error)
	go func() { closed <- e.hub.Close() }()
	c.expectClose(websocket.StatusGoingAway)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if _, err := pending.read(); err == nil {
		t.Fatal("pending connection still open")
	}
	if _, resp, err := e.dial("s", dialOpt{}); err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("dial after Close: %v, %v", resp, err)
	}
}
