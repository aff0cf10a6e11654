package chat

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestBucket(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var b bucket
	for i := range 5 {
		if w := b.take(t0, 5, time.Second); w != 0 {
			t.Fatalf("take %d refused (%v)", i, w)
		}
	}
	if w := b.take(t0, 5, time.Second); w != time.Second {
		t.Fatalf("empty bucket: wait %v, want 1s", w)
	}
	if w := b.take(t0.Add(400*time.Millisecond), 5, time.Second); w != 600*time.Millisecond {
		t.Fatalf("partly refilled: wait %v, want 600ms", w)
	}
	if w := b.take(t0.Add(time.Second), 5, time.Second); w != 0 {
		t.Fatalf("refilled: wait %v", w)
	}
	if w := b.take(t0, 5, time.Second); w == 0 {
		t.Fatal("a clock going back refilled the bucket")
	}
	if w := b.take(t0.Add(time.Hour), 5, time.Second); w != 0 || b.tokens != 4 {
		t.Fatalf("after an hour: wait %v, %v tokens left, want 4 (capped at the burst)", w, b.tokens)
	}
}

func TestClientAddr(t *testing.T) {
	for _, tc := range []struct{ in, host, key string }{
		{"192.0.2.1:5000", "192.0.2.1", "192.0.2.1"},
		{"[::ffff:192.0.2.1]:5000", "192.0.2.1", "192.0.2.1"},
		{"[2001:db8:1:2:3:4:5:6]:5000", "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"[fe80::1%eth0]:5000", "fe80::1", "fe80::/64"},
		{"garbage", "garbage", "garbage"},
	} {
		if h, k := clientAddr(tc.in); h != tc.host || k != tc.key {
			t.Errorf("clientAddr(%q) = %q, %q; want %q, %q", tc.in, h, k, tc.host, tc.key)
		}
	}
}

func TestRateLimitPerConnection(t *testing.T) {
	e := newEnv(t)
	bob := e.chatter("s", "bob", dialOpt{})
	for i := range 5 {
		bob.say(fmt.Sprint(i))
		bob.expectMessage(fmt.Sprint(i))
	}
	bob.say("too fast")
	if f := bob.expectError(codeRateLimited); f.RetryAfter != 1 {
		t.Fatalf("retry after %d, want 1", f.RetryAfter)
	}
	e.clock.add(time.Second)
	bob.say("ok")
	bob.expectMessage("ok")
}

func TestRateLimitPerAddress(t *testing.T) {
	e := newEnv(t)
	var cs []*client
	for i := range 3 {
		cs = append(cs, e.chatter("s", fmt.Sprint("tab", i), addr(1)))
	}
	other := e.chatter("s", "other", addr(2))
	drain := func(text string) {
		for _, c := range append(cs, other) {
			c.expectMessage(text)
		}
	}
	// Two connections spend the address's burst of 10 ...
	for _, c := range cs[:2] {
		for i := range 5 {
			c.say(fmt.Sprint(i))
			drain(fmt.Sprint(i))
		}
	}
	// ... so the third, with its own bucket full, is refused.
	cs[2].say("x")
	if f := cs[2].expectError(codeRateLimited); f.RetryAfter != 1 {
		t.Fatalf("retry after %d, want 1", f.RetryAfter)
	}
	other.say("other address")
	drain("other address")
	e.clock.add(500 * time.Millisecond)
	cs[2].say("x")
	drain("x")
}

func TestFlooding(t *testing.T) {
	e := newEnv(t)
	bob := e.chatter("s", "bob", dialOpt{})
	for range 5 {
		bob.say("x")
	}
	for range maxStrikes + 1 {
		bob.say("x")
	}
	for range 5 {
		bob.expectMessage("x")
	}
	for range maxStrikes {
		bob.expectError(codeRateLimited)
	}
	bob.expectError(codeFlooding)
	bob.expectClose(websocket.StatusPolicyViolation)
}

func TestConnectionCap(t *testing.T) {
	e := newEnv(t, withLimits(Limits{ConnsPerAddr: 3}))
	var cs []*client
	for range 3 {
		cs = append(cs, e.join("s", clientMsg{}, addr(1)))
	}
	extra := e.open("s", addr(1))
	extra.expectError(codeTooManyConns)
	extra.expectClose(websocket.StatusTryAgainLater)
	e.join("s", clientMsg{}, addr(2)) // other addresses are not affected

	cs[0].ws.Close(websocket.StatusNormalClosure, "")
	eventually(t, "the slot to free", func() bool { return e.hub.State("s").Connections == 3 })
	e.join("s", clientMsg{}, addr(1))
}

func TestOversizeFrame(t *testing.T) {
	e := newEnv(t)
	bob := e.chatter("s", "bob", dialOpt{})
	bob.writeRaw([]byte(`{"type":"send","text":"` + strings.Repeat("x", 5000) + `"}`))
	bob.expectClose(websocket.StatusMessageTooBig)
}

func TestOrigin(t *testing.T) {
	e := newEnv(t, func(o *Options, _ *httptest.Server) { o.OriginPatterns = []string{"trusted.example"} })
	host := strings.TrimPrefix(e.srv.URL, "http://")
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{"", true}, // not a browser
		{"http://" + host, true},
		{"https://trusted.example", true},
		{"https://evil.example", false},
		{"https://trusted.example.evil.example", false},
		{"null", false},
	} {
		ws, resp, err := e.dial("s", dialOpt{origin: tc.origin})
		if tc.ok {
			if err != nil {
				t.Errorf("origin %q refused: %v", tc.origin, err)
				continue
			}
			ws.CloseNow()
		} else if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			if ws != nil {
				ws.CloseNow()
			}
			t.Errorf("origin %q: %v, %v; want 403", tc.origin, resp, err)
		}
	}
}

// smallBuffers keeps the kernel from buffering much for a client, so a
// client that does not read shows up as a full send queue quickly.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(4096)
	}
	return c, err
}

// TestSlowClient: a client that stops reading is disconnected once its
// queue fills, and the room never waits for it.
func TestSlowClient(t *testing.T) {
	e := newEnv(t,
		withLimits(Limits{SendQueue: 8, MessageBurst: 10000, AddrBurst: 10000}),
		func(_ *Options, s *httptest.Server) { s.Listener = smallBuffers{s.Listener} })

	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, address string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, address)
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetReadBuffer(4096)
		}
		return c, err
	}}}
	slow, _, err := websocket.Dial(t.Context(), e.url("s"), &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	defer slow.CloseNow()
	if err := slow.Write(t.Context(), websocket.MessageText, []byte(`{"type":"join"}`)); err != nil {
		t.Fatal(err)
	}
	// slow never reads again.

	bob := e.chatter("s", "bob", dialOpt{})
	reader := e.join("s", clientMsg{}, dialOpt{})
	eventually(t, "three connections", func() bool { return e.hub.State("s").Connections == 3 })
	text := strings.Repeat("x", 500)
	for i := 0; e.hub.State("s").Connections == 3; i++ {
		if i == 2000 {
			t.Fatal("the slow client was never disconnected")
		}
		bob.say(text)
		bob.expectMessage(text)
		reader.expectMessage(text)
	}
	// The others go on.
	bob.say("after")
	bob.expectMessage("after")
	reader.expectMessage("after")
}
