// Package admin is a client of bcast's admin API: the snapshot, the event
// stream and operator actions over HTTP. `bcast console URL` uses it to
// attach the operator console to a server on another host; it imports no
// WebRTC code.
package admin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/bcastdev/bcast/server/status"
)

// Client talks to one server's admin API. Its methods are safe for
// concurrent use.
type Client struct {
	base  *url.URL
	token string
	hc    *http.Client
	log   *slog.Logger

	mu   sync.Mutex
	etag string          // of last, sent as If-None-Match
	last status.Snapshot // the latest snapshot, returned again on 304

	once   sync.Once
	events chan status.Event
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

// New returns a client for the server at base (e.g. http://host:8080).
func New(base, token string, log *slog.Logger) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("invalid server URL %q: want http(s)://host:port", base)
	}
	if token == "" {
		return nil, errors.New("invalid admin token: empty (give --admin-token or BCAST_ADMIN_TOKEN)")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Client{
		base: u, token: token, log: log,
		// No overall timeout: the event stream is a long poll. Requests
		// carry their own deadlines through their contexts.
		hc:     &http.Client{Transport: http.DefaultTransport},
		events: make(chan status.Event, 256),
		ctx:    ctx, cancel: cancel,
		done: make(chan struct{}),
	}, nil
}

// Close stops the event stream.
func (c *Client) Close() error {
	c.cancel()
	c.once.Do(func() { close(c.done) }) // never started
	<-c.done
	return nil
}

func (c *Client) request(ctx context.Context, method, path string, body io.Reader, header ...func(http.Header)) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range header {
		h(req.Header)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 && resp.StatusCode != http.StatusNotModified {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return nil, &StatusError{Code: resp.StatusCode, Reason: strings.TrimSpace(string(b))}
	}
	return resp, nil
}

// StatusError is a refusal from the server, with its one-line reason.
type StatusError struct {
	Code   int
	Reason string
}

func (e *StatusError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("server answered %d %s", e.Code, http.StatusText(e.Code))
	}
	return fmt.Sprintf("server answered %d: %s", e.Code, e.Reason)
}

// Snapshot fetches GET /api/admin/snapshot.
func (c *Client) Snapshot(ctx context.Context) (status.Snapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c.mu.Lock()
	etag := c.etag
	c.mu.Unlock()
	var snap status.Snapshot
	resp, err := c.request(ctx, http.MethodGet, "/api/admin/snapshot", nil, func(h http.Header) {
		if etag != "" {
			h.Set("If-None-Match", etag)
		}
	})
	if err != nil {
		return snap, fmt.Errorf("snapshot: %w", err)
	}
	defer resp.Body.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	if resp.StatusCode == http.StatusNotModified && c.etag == etag {
		return c.last, nil
	}
	if err := json.NewDecoder(resp.Body).Decode(&snap); err != nil {
		return snap, fmt.Errorf("snapshot: decoding: %w", err)
	}
	c.etag, c.last = resp.Header.Get("ETag"), snap
	return snap, nil
}

// Do applies an action with POST /api/admin/actions.
func (c *Client) Do(ctx context.Context, a status.Action) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	resp, err := c.request(ctx, http.MethodPost, "/api/admin/actions", bytes.NewReader(b))
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

// Events returns the server's events (GET /api/admin/events), reconnecting
// with backoff after errors. The channel is bounded: when the reader falls
// behind, the oldest events are dropped.
func (c *Client) Events() <-chan status.Event {
	c.once.Do(func() { go c.stream() })
	return c.events
}

func (c *Client) stream() {
	defer close(c.done)
	backoff := 500 * time.Millisecond
	for c.ctx.Err() == nil {
		start := time.Now()
		err := c.readEvents()
		if c.ctx.Err() != nil {
			return
		}
		if time.Since(start) > 10*time.Second {
			backoff = 500 * time.Millisecond
		}
		c.log.Debug("event stream ended; reconnecting", "err", err, "in", backoff)
		select {
		case <-c.ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

// readEvents reads one server-sent-event connection until it ends.
func (c *Client) readEvents() error {
	resp, err := c.request(c.ctx, http.MethodGet, "/api/admin/events", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return ReadSSE(resp.Body, func(data []byte) {
		var ev status.Event
		if json.Unmarshal(data, &ev) != nil {
			return
		}
		c.push(ev)
	})
}

// push delivers ev, dropping the oldest event when the channel is full.
func (c *Client) push(ev status.Event) {
	for {
		select {
		case c.events <- ev:
			return
		default:
		}
		select {
		case <-c.events:
		default:
		}
	}
}

// ReadSSE calls fn with the data of each event in a text/event-stream
// (multi-line data joined with "\n"; comments and other fields ignored;
// LF or CRLF line ends) until r ends. Lines are bounded to 1 MiB.
func ReadSSE(r io.Reader, fn func(data []byte)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var data []byte
	has := false // an event may carry empty data ("data:")
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case len(line) == 0:
			if has {
				fn(data)
				data, has = nil, false
			}
		case bytes.HasPrefix(line, []byte("data:")):
			v := bytes.TrimPrefix(line[5:], []byte(" "))
			if has {
				data = append(data, '\n')
			}
			data, has = append(data, v...), true
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return io.ErrUnexpectedEOF
}
