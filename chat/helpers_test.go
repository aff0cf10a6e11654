package chat

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"

	"github.com/bcastdev/bcast/server/status"
)

// TestMain fails the package if a test leaves goroutines behind: every
// connection must end when its client goes or the hub closes.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const testAdmin = "admin-secret"

// waitTime bounds every wait for the server; reaching it is a failure,
// never a measurement.
const waitTime = 5 * time.Second

// clock is the hub's Now in tests: time only moves when a test says so.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a hub behind a real HTTP server.
type env struct {
	t      *testing.T
	hub    *Hub
	srv    *httptest.Server
	clock  *clock
	dir    string
	events *eventLog
}

type eventLog struct {
	mu     sync.Mutex
	events []status.Event
}

// in returns e reporting to t, for subtests.
func (e *env) in(t *testing.T) *env {
	c := *e
	c.t = t
	return &c
}

type envOption func(*Options, *httptest.Server)

func withLimits(l Limits) envOption {
	return func(o *Options, _ *httptest.Server) { o.Limits = l }
}

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	e := &env{t: t, clock: &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}, dir: t.TempDir(), events: &eventLog{}}
	level := slog.LevelError + 1
	if os.Getenv("BCAST_TEST_DEBUG") != "" {
		level = slog.LevelDebug
	}
	o := Options{
		Logger:  slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
		Dir:     e.dir,
		IsAdmin: func(tok string) bool { return tok == testAdmin },
		OnEvent: func(ev status.Event) {
			e.events.mu.Lock()
			e.events.events = append(e.events.events, ev)
			e.events.mu.Unlock()
		},
		Now: e.clock.now,
	}
	mux := http.NewServeMux()
	e.srv = httptest.NewUnstartedServer(mux)
	for _, f := range opts {
		f(&o, e.srv)
	}
	e.hub = New(o)
	mux.Handle("GET /api/chat/{stream}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Tests pose as other client addresses with this header.
		if a := r.Header.Get("X-Test-Addr"); a != "" {
			r.RemoteAddr = a
		}
		e.hub.ServeHTTP(w, r)
	}))
	e.srv.Start()
	t.Cleanup(func() {
		e.hub.Close()
		e.srv.Close()
	})
	return e
}

func (e *env) url(stream string) string {
	return "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/api/chat/" + stream
}

func (e *env) eventsOf(kind status.EventKind) []status.Event {
	e.events.mu.Lock()
	defer e.events.mu.Unlock()
	var out []status.Event
	for _, ev := range e.events.events {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

// do runs a moderation action that must succeed.
func (e *env) do(a status.Action) {
	e.t.Helper()
	if a.By == "" {
		a.By = "console"
	}
	if err := e.hub.Do(a); err != nil {
		e.t.Fatalf("Do(%+v): %v", a, err)
	}
}

// frame is the union of all server frames.
type frame struct {
	Type            string               `json:"type"`
	User            string               `json:"user"`
	Session         string               `json:"session"`
	Nick            string               `json:"nick"`
	Admin           bool                 `json:"admin"`
	Enabled         bool                 `json:"enabled"`
	SlowModeSeconds int                  `json:"slow_mode_seconds"`
	TimeoutSeconds  int                  `json:"timeout_seconds"`
	Limits          wireLimits           `json:"limits"`
	History         []status.ChatMessage `json:"history"`
	ID              string               `json:"id"`
	Time            time.Time            `json:"time"`
	Text            string               `json:"text"`
	Seconds         int                  `json:"seconds"`
	Until           time.Time            `json:"until"`
	Code            string               `json:"code"`
	RetryAfter      int                  `json:"retry_after_seconds"`
}

// client is a test chat client.
type client struct {
	t       *testing.T
	ws      *websocket.Conn
	welcome frame
}

type dialOpt struct {
	addr   string // X-Test-Addr, e.g. "10.0.0.1:1234"
	origin string
}

func (e *env) dial(stream string, o dialOpt) (*websocket.Conn, *http.Response, error) {
	h := http.Header{}
	if o.addr != "" {
		h.Set("X-Test-Addr", o.addr)
	}
	if o.origin != "" {
		h.Set("Origin", o.origin)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTime)
	defer cancel()
	return websocket.Dial(ctx, e.url(stream), &websocket.DialOptions{HTTPHeader: h})
}

// open connects without joining.
func (e *env) open(stream string, o dialOpt) *client {
	e.t.Helper()
	ws, _, err := e.dial(stream, o)
	if err != nil {
		e.t.Fatalf("dial %s: %v", stream, err)
	}
	c := &client{t: e.t, ws: ws}
	e.t.Cleanup(func() { ws.CloseNow() })
	return c
}

// join connects, joins and reads the welcome.
func (e *env) join(stream string, j clientMsg, o dialOpt) *client {
	e.t.Helper()
	c := e.open(stream, o)
	j.Type = typeJoin
	c.write(j)
	c.welcome = c.expect(typeWelcome)
	return c
}

// chatter joins with a nickname and checks it was taken.
func (e *env) chatter(stream, nick string, o dialOpt) *client {
	e.t.Helper()
	c := e.join(stream, clientMsg{Nick: nick}, o)
	if c.welcome.Nick != nick {
		c.t.Fatalf("joined as %q, want %q (next: %+v)", c.welcome.Nick, nick, c.next())
	}
	return c
}

func (c *client) write(v any) {
	c.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	c.writeRaw(b)
}

func (c *client) writeRaw(b []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTime)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *client) say(text string) { c.t.Helper(); c.write(clientMsg{Type: typeSend, Text: text}) }

func (c *client) read() (frame, error) {
	ctx, cancel := context.WithTimeout(context.Background(), waitTime)
	defer cancel()
	_, b, err := c.ws.Read(ctx)
	if err != nil {
		return frame{}, err
	}
	var f frame
	if err := json.Unmarshal(b, &f); err != nil {
		c.t.Fatalf("bad frame %q: %v", b, err)
	}
	return f, nil
}

func (c *client) next() frame {
	c.t.Helper()
	f, err := c.read()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return f
}

// expect reads the next frame, which must be of type typ.
func (c *client) expect(typ string) frame {
	c.t.Helper()
	f := c.next()
	if f.Type != typ {
		c.t.Fatalf("got %+v, want a %q frame", f, typ)
	}
	return f
}

func (c *client) expectError(code string) frame {
	c.t.Helper()
	f := c.expect(typeError)
	if f.Code != code {
		c.t.Fatalf("error %q (%s), want %q", f.Code, f.Text, code)
	}
	if f.Text == "" {
		c.t.Fatalf("error %q without text", f.Code)
	}
	return f
}

// expectMessage reads a message frame with the given text.
func (c *client) expectMessage(text string) frame {
	c.t.Helper()
	f := c.expect(typeMessage)
	if f.Text != text {
		c.t.Fatalf("message %q, want %q", f.Text, text)
	}
	return f
}

// expectClose reads until the server closes, with status code.
func (c *client) expectClose(code websocket.StatusCode) {
	c.t.Helper()
	for {
		f, err := c.read()
		if err == nil {
			continue // frames before the close are checked by the caller
		}
		if got := websocket.CloseStatus(err); got != code {
			c.t.Fatalf("closed with %v (%v), want %v; last frame %+v", got, err, code, f)
		}
		return
	}
}

// eventually polls cond until it holds; the deadline is a failure, not a
// measurement.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTime)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// addr is a test client address on another host.
func addr(i int) dialOpt {
	return dialOpt{addr: net.JoinHostPort("10.0.0."+string(rune('0'+i)), "40000")}
}
