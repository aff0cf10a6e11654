package chat

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/bcastdev/bcast/server/status"
)

func statusAction(kind, stream, target string, secs int) status.Action {
	return status.Action{Kind: status.ActionKind(kind), Stream: stream, Target: target, Seconds: secs, By: "console"}
}

func TestDoRefused(t *testing.T) {
	e := newEnv(t)
	bob := e.chatter("s", "bob", dialOpt{})
	bob.say("hi")
	bob.expectMessage("hi")
	for _, tc := range []struct {
		a    status.Action
		want error
	}{
		{statusAction("kick", "s", "x", 0), ErrInvalid},
		{statusAction("chat_ban", "bad/name", bob.welcome.User, 0), ErrInvalid},
		{statusAction("chat_ban", "", bob.welcome.User, 0), ErrInvalid},
		{statusAction("chat_ban", "s", "", 0), ErrInvalid},
		{statusAction("chat_ban", "s", bob.welcome.User, -1), ErrInvalid},
		{statusAction("chat_timeout", "s", bob.welcome.User, 0), ErrInvalid},
		{statusAction("chat_slow", "s", "", -5), ErrInvalid},
		{statusAction("chat_slow", "s", "", 3601), ErrInvalid},
		{statusAction("chat_delete", "s", "", 0), ErrInvalid},
		{statusAction("chat_delete", "s", "nope", 0), ErrNotFound},
		{statusAction("chat_ban", "s", "nobody", 0), ErrNotFound},
		{statusAction("chat_unban", "s", bob.welcome.User, 0), ErrNotFound},
		{statusAction("chat_clear", "other", "", 0), ErrNotFound},
		{statusAction("chat_delete", "other", "x", 0), ErrNotFound},
	} {
		err := e.hub.Do(tc.a)
		if !errors.Is(err, tc.want) {
			t.Errorf("Do(%+v) = %v, want %v", tc.a, err, tc.want)
		} else if strings.Count(err.Error(), ":") < 1 {
			t.Errorf("Do(%+v): error %q gives no reason", tc.a, err)
		}
	}
	// Settings may be made before anyone opens the chat.
	e.do(statusAction("chat_off", "later", "", 0))
	if st := e.hub.State("later"); st == nil || st.Enabled {
		t.Fatalf("state of a room switched off in advance: %+v", st)
	}
}

func TestDelete(t *testing.T) {
	e := newEnv(t)
	bob := e.chatter("s", "bob", dialOpt{})
	ann := e.chatter("s", "ann", dialOpt{})
	bob.say("spam")
	spam := bob.expectMessage("spam")
	ann.expectMessage("spam")
	bob.say("fine")
	bob.expectMessage("fine")
	ann.expectMessage("fine")

	e.do(statusAction("chat_delete", "s", spam.ID, 0))
	for _, c := range []*client{bob, ann} {
		if f := c.expect(typeDelete); f.ID != spam.ID {
			t.Fatalf("delete frame %+v", f)
		}
	}
	if st := e.hub.State("s"); len(st.Messages) != 1 || st.Messages[0].Text != "fine" {
		t.Fatalf("history after delete: %+v", st.Messages)
	}
	if h := e.join("s", clientMsg{}, dialOpt{}).welcome.History; len(h) != 1 || h[0].Text != "fine" {
		t.Fatalf("new client's history after delete: %+v", h)
	}
	if err := e.hub.Do(statusAction("chat_delete", "s", spam.ID, 0)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

func TestClear(t *testing.T) {
	e := newEnv(t)
	bob := e.chatter("s", "bob", dialOpt{})
	bob.say("one")
	bob.expectMessage("one")
	e.do(statusAction("chat_clear", "s", "", 0))
	bob.expect(typeClear)
	if st := e.hub.State("s"); len(st.Messages) != 0 {
		t.Fatalf("history after clear: %+v", st.Messages)
	}
	if h := e.join("s", clientMsg{}, dialOpt{}).welcome.History; len(h) != 0 {
		t.Fatalf("history after clear: %+v", h)
	}
}

func TestBan(t *testing.T) {
	e := newEnv(t)
	bob := e.chatter("s", "bob", addr(1))
	bob.say("spam")
	bob.expectMessage("spam")
	bystander := e.chatter("s", "ann", addr(2))
	mod := e.join("s", clientMsg{AdminToken: testAdmin}, addr(1)) // same address as bob
	neighbour := e.join("s", clientMsg{}, addr(1))                // shares bob's address

	e.do(statusAction("chat_ban", "s", bob.welcome.User, 0))
	for _, c := range []*client{bob, neighbour} {
		if f := c.expect(typeBanned); f.Seconds != 0 || f.Text == "" {
			t.Fatalf("banned frame %+v", f)
		}
		c.expectClose(websocket.StatusPolicyViolation)
	}
	eventually(t, "the banned to leave", func() bool { return e.hub.State("s").Connections == 2 })

	refused := func(what string, j clientMsg, o dialOpt) {
		t.Helper()
		c := e.open("s", o)
		j.Type = typeJoin
		c.write(j)
		if f := c.expect(typeBanned); f.Text == "" {
			t.Fatalf("%s: banned frame %+v", what, f)
		}
		c.expectClose(websocket.StatusPolicyViolation)
	}
	refused("same session, new nick, other address", clientMsg{Session: bob.welcome.Session, Nick: "bob2"}, addr(3))
	refused("new session, same address", clientMsg{Nick: "bobby"}, addr(1))

	// Others chat on; the moderator on the banned address stays and may rejoin.
	bystander.say("still here")
	bystander.expectMessage("still here")
	mod.expectMessage("still here")
	e.join("s", clientMsg{AdminToken: testAdmin}, addr(1))

	st := e.hub.State("s")
	var found bool
	for _, c := range st.Chatters {
		if c.User == bob.welcome.User {
			found = c.Banned && !c.Connected && c.Remote == "10.0.0.1"
		}
	}
	if !found {
		t.Fatalf("banned chatter not in state: %+v", st.Chatters)
	}

	e.do(statusAction("chat_unban", "s", bob.welcome.User, 0))
	if c := e.join("s", clientMsg{Session: bob.welcome.Session}, addr(1)); c.welcome.User != bob.welcome.User {
		t.Fatalf("rejoin after unban: %+v", c.welcome)
	}
}

func TestBanExpires(t *testing.T) {
	e := newEnv(t)
	bob := e.chatter("s", "bob", addr(1))
	e.do(statusAction("chat_ban", "s", "BOB", 600)) // by nickname, as typed in a hand-made API call
	if f := bob.expect(typeBanned); f.Seconds != 600 || !strings.Contains(f.Text, "10 min") {
		t.Fatalf("banned frame %+v", f)
	}
	bob.expectClose(websocket.StatusPolicyViolation)

	e.clock.add(599 * time.Second)
	c := e.open("s", addr(1))
	c.write(clientMsg{Type: typeJoin, Session: bob.welcome.Session})
	if f := c.expect(typeBanned); f.Seconds != 1 {
		t.Fatalf("banned frame %+v, want 1 s left", f)
	}
	c.expectClose(websocket.StatusPolicyViolation)

	e.clock.add(time.Second)
	again := e.join("s", clientMsg{Session: bob.welcome.Session, Nick: "bob"}, addr(1))
	again.say("back")
	again.expectMessage("back")
}

func TestTimeout(t *testing.T) {
	e := newEnv(t)
	bob := e.chatter("s", "bob", dialOpt{})
	ann := e.chatter("s", "ann", dialOpt{})
	e.do(statusAction("chat_timeout", "s", bob.welcome.User, 300))
	f := bob.expect(typeTimeout)
	if f.Seconds != 300 || !f.Until.Equal(e.clock.now().Add(300*time.Second)) || !strings.Contains(f.Text, "5 min") {
		t.Fatalf("timeout frame %+v", f)
	}
	bob.say("hello?")
	if f := bob.expectError(codeTimedOut); f.RetryAfter != 300 {
		t.Fatalf("retry after %d, want 300", f.RetryAfter)
	}

	// Reconnecting does not shake it off.
	e.clock.add(100 * time.Second)
	re := e.join("s", clientMsg{Session: bob.welcome.Session}, dialOpt{})
	if re.welcome.TimeoutSeconds != 200 {
		t.Fatalf("welcome timeout %d s, want 200", re.welcome.TimeoutSeconds)
	}
	re.say("now?")
	if f := re.expectError(codeTimedOut); f.RetryAfter != 200 {
		t.Fatalf("retry after %d, want 200", f.RetryAfter)
	}
	for _, c := range e.hub.State("s").Chatters {
		if until := c.TimeoutUntil; (c.User == bob.welcome.User) != until.Equal(e.clock.now().Add(200*time.Second)) {
			t.Fatalf("chatter %+v: timeout until %v", c, until)
		}
	}

	e.clock.add(200 * time.Second)
	re.say("back")
	re.expectMessage("back")
	ann.expectMessage("back")
	bob.expectMessage("back")

	// Unban lifts a timeout early and says so.
	e.do(statusAction("chat_timeout", "s", bob.welcome.User, 60))
	bob.expect(typeTimeout)
	re.expect(typeTimeout)
	e.do(statusAction("chat_unban", "s", bob.welcome.User, 0))
	if f := re.expect(typeTimeout); f.Seconds != 0 {
		t.Fatalf("lift frame %+v", f)
	}
	bob.expect(typeTimeout)
	re.say("free")
	re.expectMessage("free")
}

func TestSlowMode(t *testing.T) {
	e := newEnv(t)
	bob := e.chatter("s", "bob", dialOpt{})
	mod := e.join("s", clientMsg{Nick: "mod", AdminToken: testAdmin}, addr(2))
	e.do(statusAction("chat_slow", "s", "", 10))
	for _, c := range []*client{bob, mod} {
		if f := c.expect(typeState); f.SlowModeSeconds != 10 || !f.Enabled {
			t.Fatalf("state frame %+v", f)
		}
	}
	if w := e.join("s", clientMsg{}, dialOpt{}).welcome; w.SlowModeSeconds != 10 {
		t.Fatalf("welcome %+v", w)
	}

	bob.say("one")
	bob.expectMessage("one")
	mod.expectMessage("one")
	bob.say("two")
	if f := bob.expectError(codeSlowMode); f.RetryAfter != 10 {
		t.Fatalf("retry after %d, want 10", f.RetryAfter)
	}
	e.clock.add(4 * time.Second)
	bob.say("two")
	if f := bob.expectError(codeSlowMode); f.RetryAfter != 6 {
		t.Fatalf("retry after %d, want 6", f.RetryAfter)
	}
	e.clock.add(6 * time.Second)
	bob.say("two")
	bob.expectMessage("two")
	mod.expectMessage("two")

	// Moderators are exempt.
	for _, text := range []string{"a", "b", "c"} {
		mod.say(text)
		mod.expectMessage(text)
	}

	e.do(statusAction("chat_slow", "s", "", 0))
	bob.expect(typeMessage)
	bob.expect(typeMessage)
	bob.expect(typeMessage)
	bob.expect(typeState)
	bob.say("three")
	bob.expectMessage("three")
}

func TestChatOff(t *testing.T) {
	e := newEnv(t)
	bob := e.chatter("s", "bob", dialOpt{})
	mod := e.join("s", clientMsg{Nick: "mod", AdminToken: testAdmin}, addr(2))
	e.do(statusAction("chat_off", "s", "", 0))
	if f := bob.expect(typeState); f.Enabled {
		t.Fatalf("state frame %+v", f)
	}
	mod.expect(typeState)
	if w := e.join("s", clientMsg{}, dialOpt{}).welcome; w.Enabled {
		t.Fatalf("welcome %+v", w)
	}
	bob.say("hello")
	bob.expectError(codeChatOff)
	mod.say("announcement")
	mod.expectMessage("announcement")
	bob.expectMessage("announcement")

	e.do(statusAction("chat_on", "s", "", 0))
	bob.expect(typeState)
	bob.say("hello")
	bob.expectMessage("hello")
}
