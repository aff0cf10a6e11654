package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/bcastdev/bcast/client"
)

// tmuxSession runs commands in a private tmux server (its own socket, no
// user configuration) and reads its screen: a real terminal for the real
// binary.
type tmuxSession struct {
	t    *testing.T
	sock string
}

func newTmux(t *testing.T) *tmuxSession {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("tmux is required for the console test (apt-get install tmux; .ci/run installs it)")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	tm := &tmuxSession{t: t, sock: "bcast-test-" + hex.EncodeToString(b[:])}
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", tm.sock, "kill-server").Run() })
	return tm
}

func (tm *tmuxSession) run(args ...string) string {
	tm.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", tm.sock, "-f", "/dev/null"}, args...)...).CombinedOutput()
	if err != nil {
		tm.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (tm *tmuxSession) screen(target string) string {
	return tm.run("capture-pane", "-p", "-t", target)
}

// waitScreen polls the screen until cond holds.
func (tm *tmuxSession) waitScreen(target, what string, timeout time.Duration, cond func(string) bool) string {
	tm.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := tm.screen(target)
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("screen never showed %s; last screen:\n%s", what, s)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (tm *tmuxSession) keys(target string, keys ...string) {
	tm.t.Helper()
	tm.run(append([]string{"send-keys", "-t", target}, keys...)...)
}

var videoRate = regexp.MustCompile(`in video\s+([0-9.]+) (b|kb|Mb)/s`)

// TestConsoleEndToEnd runs `bcast serve --demo` in a terminal: the console
// shows the stream live with its bitrate and the viewer count; a ban typed
// in the console takes effect for that chatter (refused again on
// reconnect); `bcast console --readonly` attaches to the same server from
// a second terminal; q asks before quitting while a viewer watches.
func TestConsoleEndToEnd(t *testing.T) {
	bin := buildBinary(t)
	tm := newTmux(t)
	port, udp := freePort(t, "tcp"), freePort(t, "udp")
	dumps := t.TempDir()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	exitFile := filepath.Join(dumps, "exit-code")
	serve := fmt.Sprintf("%s serve --demo --addr 127.0.0.1:%d --ice-udp-port %d --dump-dir %s --admin-token adm --publish-token pub; echo $? > %s",
		bin, port, udp, dumps, exitFile)
	tm.run("new-session", "-d", "-s", "srv", "-x", "120", "-y", "40", serve)

	tm.waitScreen("srv", "the demo stream live with video bitrate > 0", 20*time.Second, func(s string) bool {
		m := videoRate.FindStringSubmatch(s)
		if m == nil || !strings.Contains(s, "demo") || !strings.Contains(s, "LIVE") {
			return false
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		return v > 0
	})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	watched := make(chan error, 1)
	go func() { watched <- client.Watch(ctx, base+"/api/whep/demo", "", io.Discard) }()
	tm.waitScreen("srv", "one viewer", 20*time.Second, func(s string) bool {
		return regexp.MustCompile(`LIVE.* 1 viewers?`).MatchString(s)
	})

	// A chatter posts spam.
	chatURL := fmt.Sprintf("ws://127.0.0.1:%d/api/chat/demo", port)
	c, welcome := chatJoin(t, ctx, chatURL, "", "troll")
	send(t, ctx, c, map[string]string{"type": "send", "text": "buy followers now"})
	tm.waitScreen("srv", "the chat message", 10*time.Second, func(s string) bool { return strings.Contains(s, "buy followers now") })

	// The operator bans the author: tab to the chat pane, b, Enter for a
	// permanent ban, y to confirm.
	tm.waitScreen("srv", "the chat pane focused", 5*time.Second, func(s string) bool {
		if strings.Contains(s, "▶ Chat") {
			return true
		}
		tm.keys("srv", "Tab")
		time.Sleep(200 * time.Millisecond)
		return strings.Contains(tm.screen("srv"), "▶ Chat")
	})
	tm.keys("srv", "b")
	tm.waitScreen("srv", "the ban duration prompt", 5*time.Second, func(s string) bool { return strings.Contains(strings.ToLower(s), "ban") })
	tm.keys("srv", "Enter")
	tm.waitScreen("srv", "the ban confirmation", 5*time.Second, func(s string) bool { return strings.Contains(s, "[y/N]") })
	tm.keys("srv", "y")

	if typ := readUntil(t, ctx, c, "banned", "error"); typ != "banned" {
		t.Fatalf("chatter got %q, want banned", typ)
	}
	tm.waitScreen("srv", "the chatter marked banned", 10*time.Second, func(s string) bool { return strings.Contains(s, "1 banned") || strings.Contains(s, "[banned]") })
	// A reconnect with the same session, or with a new one from the same
	// address, is refused.
	for _, session := range []string{welcome.Session, ""} {
		c2, err := dialChat(ctx, chatURL)
		if err != nil {
			continue // refused at the upgrade: banned address
		}
		send(t, ctx, c2, map[string]string{"type": "join", "session": session, "nick": "troll2"})
		if typ := readUntil(t, ctx, c2, "banned", "welcome"); typ != "banned" {
			c2.CloseNow()
			t.Fatalf("banned chatter reconnecting (kept session %v): got %q, want banned", session != "", typ)
		}
		c2.CloseNow()
	}

	// A second operator attaches read-only over the admin API.
	tm.run("new-session", "-d", "-s", "ro", "-x", "100", "-y", "30",
		fmt.Sprintf("%s console %s --admin-token adm --readonly", bin, base))
	ro := tm.waitScreen("ro", "the remote console with the live stream", 15*time.Second, func(s string) bool {
		return strings.Contains(s, "demo") && strings.Contains(s, "LIVE")
	})
	if strings.Contains(ro, "kick") {
		t.Errorf("read-only console offers kick:\n%s", ro)
	}
	tm.keys("ro", "q")

	// q asks while a viewer is connected; y quits and serve exits 0.
	tm.keys("srv", "q")
	tm.waitScreen("srv", "the quit confirmation", 5*time.Second, func(s string) bool { return strings.Contains(s, "[y/N]") })
	tm.keys("srv", "y")
	deadline := time.Now().Add(15 * time.Second)
	for {
		b, err := os.ReadFile(exitFile)
		if err == nil && strings.TrimSpace(string(b)) != "" {
			if code := strings.TrimSpace(string(b)); code != "0" {
				t.Fatalf("serve exited with %s", code)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not exit after q, y; screen:\n%s", tm.screen("srv"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	cancel()
	<-watched

	// The log went to a file beside the dumps, the ban to the chat log.
	logs, _ := filepath.Glob(filepath.Join(dumps, "bcast-*.log"))
	if len(logs) != 1 {
		t.Fatalf("server logs in %s: %v", dumps, logs)
	}
	chatLogs, _ := filepath.Glob(filepath.Join(dumps, "demo", "chat-*.jsonl"))
	if len(chatLogs) != 1 {
		t.Fatalf("chat logs: %v", chatLogs)
	}
	if b, _ := os.ReadFile(chatLogs[0]); !strings.Contains(string(b), `"chat_ban"`) || !strings.Contains(string(b), "buy followers now") {
		t.Errorf("chat log lacks the message or the ban:\n%s", b)
	}
}

type chatWelcome struct {
	Type    string `json:"type"`
	User    string `json:"user"`
	Session string `json:"session"`
}

func dialChat(ctx context.Context, url string) (*websocket.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, nil)
	return c, err
}

func chatJoin(t *testing.T, ctx context.Context, url, session, nick string) (*websocket.Conn, chatWelcome) {
	t.Helper()
	c, err := dialChat(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	send(t, ctx, c, map[string]string{"type": "join", "session": session, "nick": nick})
	for {
		var w chatWelcome
		_, b, err := c.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if json.Unmarshal(b, &w); w.Type == "welcome" {
			return c, w
		}
	}
}

func send(t *testing.T, ctx context.Context, c *websocket.Conn, v any) {
	t.Helper()
	b, _ := json.Marshal(v)
	if err := c.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
}

// readUntil reads frames until one of the given types arrives (returned),
// or the connection ends ("closed").
func readUntil(t *testing.T, ctx context.Context, c *websocket.Conn, types ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			return "closed"
		}
		var m struct{ Type string }
		_ = json.Unmarshal(b, &m)
		for _, typ := range types {
			if m.Type == typ {
				return typ
			}
		}
	}
}
