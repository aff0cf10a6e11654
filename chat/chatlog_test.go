package chat

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bcastdev/bcast/server/status"
)

func readLog(t *testing.T, path string) []logRecord {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []logRecord
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r logRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	return out
}

func TestChatLog(t *testing.T) {
	e := newEnv(t)
	start := e.clock.now()
	bob := e.chatter("s", "bob", addr(1))
	e.clock.add(time.Second)
	bob.say("spam")
	spam := bob.expectMessage("spam")
	e.do(status.Action{Kind: status.ActionChatDelete, Stream: "s", Target: spam.ID, By: "web"})
	bob.expect(typeDelete)
	e.do(status.Action{Kind: status.ActionChatBan, Stream: "s", Target: bob.welcome.User, Seconds: 60, By: "api"})
	e.do(statusAction("chat_slow", "s", "", 5))
	bob.ws.CloseNow()
	if err := e.hub.Close(); err != nil { // flushes
		t.Fatal(err)
	}

	path := filepath.Join(e.dir, "s", "chat-"+start.Format("20060102T150405Z")+".jsonl")
	got := readLog(t, path)
	user := bob.welcome.User
	want := []logRecord{
		{Time: start, Type: "nick", User: user, Nick: "bob", Remote: "10.0.0.1"},
		{Time: start.Add(time.Second), Type: "message", ID: spam.ID, User: user, Nick: "bob", Text: "spam"},
		{Time: start.Add(time.Second), Type: "action", Action: status.ActionChatDelete, By: "web", Target: spam.ID, User: user, Nick: "bob", Text: "spam"},
		{Time: start.Add(time.Second), Type: "action", Action: status.ActionChatBan, By: "api", Target: user, Seconds: 60, User: user, Nick: "bob", Remote: "10.0.0.1"},
		{Time: start.Add(time.Second), Type: "action", Action: status.ActionChatSlow, By: "console", Seconds: 5},
	}
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if !got[i].Time.Equal(want[i].Time) {
			t.Errorf("record %d time %v, want %v", i, got[i].Time, want[i].Time)
		}
		got[i].Time = want[i].Time
		if got[i] != want[i] {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func TestChatLogUnwritable(t *testing.T) {
	// The dump directory is a file: the log cannot be written, the chat
	// goes on and the failure is logged once.
	var logs syncBuffer
	e := newEnv(t, func(o *Options, _ *httptest.Server) {
		o.Dir = filepath.Join(o.Dir, "file")
		if err := os.WriteFile(o.Dir, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	bob := e.chatter("s", "bob", dialOpt{})
	for _, text := range []string{"one", "two"} {
		bob.say(text)
		bob.expectMessage(text)
	}
	bob.ws.CloseNow()
	if err := e.hub.Close(); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(logs.String(), "chat log write failed"); n != 1 {
		t.Fatalf("failure logged %d times:\n%s", n, logs.String())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestEvents(t *testing.T) {
	e := newEnv(t)
	bob := e.chatter("s", "bob", dialOpt{})
	bob.say("hello")
	m := bob.expectMessage("hello")
	e.do(status.Action{Kind: status.ActionChatTimeout, Stream: "s", Target: bob.welcome.User, Seconds: 300, By: "web"})

	chats := e.eventsOf(status.EventChat)
	if len(chats) != 1 || chats[0].Stream != "s" || chats[0].Chat == nil || *chats[0].Chat != (status.ChatMessage{
		ID: m.ID, Time: m.Time, User: bob.welcome.User, Nick: "bob", Text: "hello",
	}) || chats[0].Text != "bob: hello" {
		t.Fatalf("chat events %+v", chats)
	}
	acts := e.eventsOf(status.EventAction)
	if len(acts) != 1 || acts[0].Stream != "s" || acts[0].Text != "chat: bob ("+bob.welcome.User+") timed out for 5 min (by web)" {
		t.Fatalf("action events %+v", acts)
	}
	if strings.Contains(acts[0].Text, bob.welcome.Session) {
		t.Fatal("event leaks the session secret")
	}
}
