package chat

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/bcastdev/bcast/server/status"
)

// maxStrikes is how many frames in a row a client may send into its rate
// limit before it is taken for a flooder and disconnected. The page never
// gets near it: it waits out retry_after_seconds.
const maxStrikes = 20

// conn is one WebSocket client. Its reader runs in ServeHTTP's goroutine;
// a writer goroutine drains out, so a room broadcast only ever does a
// non-blocking channel send.
type conn struct {
	h      *Hub
	ws     *websocket.Conn
	remote string // client host, shown to moderators
	addr   string // key of per-address limits and bans
	cancel context.CancelFunc

	// Set once by join before the conn is visible to the room; read under
	// the room's lock afterwards.
	room  *room
	user  *user
	admin bool

	// Reader goroutine only.
	bucket  bucket
	strikes int

	mu     sync.Mutex
	out    chan []byte
	ended  bool // out is closed or the connection is being dropped
	code   websocket.StatusCode
	reason string
}

// ServeHTTP upgrades GET /api/chat/{stream} to a WebSocket.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	stream := r.PathValue("stream")
	if !status.ValidStreamName(stream) {
		http.Error(w, "invalid stream name", http.StatusBadRequest)
		return
	}
	remote := r.RemoteAddr
	if h.opts.ClientAddr != nil {
		remote = h.opts.ClientAddr(r)
	}
	host, addr := clientAddr(remote)
	ctx, cancel := context.WithCancel(h.ctx)
	defer cancel()
	c := &conn{h: h, remote: host, addr: addr, cancel: cancel, out: make(chan []byte, h.lim.SendQueue)}

	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		http.Error(w, "chat is shutting down", http.StatusServiceUnavailable)
		return
	}
	h.conns[c] = struct{}{}
	h.wg.Add(1)
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.conns, c)
		h.mu.Unlock()
		h.wg.Done()
	}()

	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: h.opts.OriginPatterns})
	if err != nil {
		// Accept has answered (403 for a foreign Origin).
		h.log.Debug("chat upgrade refused", "stream", stream, "remote", host, "origin", r.Header.Get("Origin"), "err", err)
		return
	}
	defer ws.CloseNow()
	ws.SetReadLimit(h.lim.MaxFrame)
	c.ws = ws

	if !h.addrs.acquire(addr, h.lim.ConnsPerAddr, h.now(), h.lim) {
		h.log.Info("chat connection refused: too many from address", "stream", stream, "remote", host)
		c.refuse(ctx, errorFrame(codeTooManyConns, "Too many chat connections from your address; close another tab and retry.", 0),
			websocket.StatusTryAgainLater, "too many connections")
		return
	}
	// The slot is free again before the room counts the connection gone,
	// so a client that sees itself leave can come straight back.
	releaseAddr := sync.OnceFunc(func() { h.addrs.release(addr) })
	defer releaseAddr()

	m, err := c.readJoin(ctx)
	if err != nil {
		return
	}
	rm, frame, err := h.join(stream, c, m)
	if err != nil {
		code := websocket.StatusPolicyViolation
		if errors.Is(err, errTooManyRooms) {
			code = websocket.StatusTryAgainLater
		}
		c.refuse(ctx, frame, code, err.Error())
		return
	}
	var wg sync.WaitGroup
	wg.Go(func() { c.writeLoop(ctx) })
	wg.Go(func() { c.keepalive(ctx) })
	c.readLoop(ctx)
	releaseAddr()
	rm.leave(c)
	cancel()
	wg.Wait()
}

// join puts c into the stream's room, retrying if the room was evicted
// between lookup and join. On refusal it returns the frame to send before
// closing and a short close reason.
func (h *Hub) join(stream string, c *conn, m clientMsg) (*room, []byte, error) {
	for {
		r, err := h.room(stream, true)
		if err != nil {
			h.log.Warn("chat connection refused", "stream", stream, "remote", c.remote, "err", err)
			return nil, errorFrame(codeTooManyRooms, "The server has too many chat rooms open; retry later.", 0), errTooManyRooms
		}
		frame, err := r.join(c, m)
		if errors.Is(err, errRoomGone) {
			continue
		}
		return r, frame, err
	}
}

// readJoin waits for the join frame. Anything else closes the connection.
func (c *conn) readJoin(ctx context.Context) (clientMsg, error) {
	jctx, cancel := context.WithTimeout(ctx, c.h.lim.JoinTimeout)
	defer cancel()
	defer context.AfterFunc(c.h.closing, cancel)() // no join needed at shutdown
	typ, b, err := c.ws.Read(jctx)
	if err != nil {
		return clientMsg{}, err
	}
	m, err := decode(b)
	if err == nil && (typ != websocket.MessageText || m.Type != typeJoin) {
		err = errors.New("the first frame must be a join")
	}
	if err != nil {
		c.refuse(ctx, errorFrame(codeBadRequest, err.Error(), 0), websocket.StatusPolicyViolation, "join expected")
	}
	return m, err
}

// refuse sends one frame and closes, before the writer exists.
func (c *conn) refuse(ctx context.Context, frame []byte, code websocket.StatusCode, reason string) {
	wctx, cancel := context.WithTimeout(ctx, c.h.lim.WriteTimeout)
	defer cancel()
	if c.ws.Write(wctx, websocket.MessageText, frame) == nil {
		c.ws.Close(code, reason)
	}
}

func (c *conn) readLoop(ctx context.Context) {
	for {
		typ, b, err := c.ws.Read(ctx)
		if err != nil {
			return // closed, too big (1009 sent by the library) or cancelled
		}
		if c.isEnded() {
			continue // closing: wait for the peer's close frame
		}
		if typ != websocket.MessageText {
			c.end(websocket.StatusUnsupportedData, "text frames only")
			continue
		}
		c.handle(b)
	}
}

// handle processes one frame after the rate limits.
func (c *conn) handle(b []byte) {
	now := c.h.now()
	wait := c.bucket.take(now, c.h.lim.MessageBurst, c.h.lim.MessageInterval)
	if wait == 0 {
		wait = c.h.addrs.take(c.addr, now, c.h.lim)
	}
	if wait > 0 {
		if c.strikes++; c.strikes > maxStrikes {
			c.send(errorFrame(codeFlooding, "You kept sending while rate limited.", 0))
			c.end(websocket.StatusPolicyViolation, "flooding")
			return
		}
		c.send(errorFrame(codeRateLimited, "You are sending too fast.", wait))
		return
	}
	c.strikes = 0
	m, err := decode(b)
	if err != nil {
		c.send(errorFrame(codeBadRequest, err.Error(), 0))
		return
	}
	switch m.Type {
	case typeJoin:
		c.send(errorFrame(codeBadRequest, "already joined", 0))
	case typeNick:
		c.room.setNick(c, m.Nick)
	case typeSend:
		c.room.post(c, m.Text)
	}
}

// send queues a frame without blocking. A client whose queue is full is
// too slow to follow the room and is dropped.
func (c *conn) send(b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return
	}
	select {
	case c.out <- b:
	default:
		c.ended = true
		c.h.log.Info("chat client too slow, disconnecting", "stream", c.room.name, "remote", c.remote)
		c.cancel()
	}
}

// end lets the writer flush what is queued, then close with code.
func (c *conn) end(code websocket.StatusCode, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return
	}
	c.ended, c.code, c.reason = true, code, reason
	close(c.out)
}

func (c *conn) isEnded() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ended
}

func (c *conn) writeLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case b, ok := <-c.out:
			if !ok {
				c.mu.Lock()
				code, reason := c.code, c.reason
				c.mu.Unlock()
				c.ws.Close(code, reason)
				return
			}
			wctx, cancel := context.WithTimeout(ctx, c.h.lim.WriteTimeout)
			err := c.ws.Write(wctx, websocket.MessageText, b)
			cancel()
			if err != nil {
				c.cancel()
				return
			}
		}
	}
}

// keepalive pings so that dead peers are noticed and proxies keep idle
// chat connections open.
func (c *conn) keepalive(ctx context.Context) {
	t := time.NewTicker(c.h.lim.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			pctx, cancel := context.WithTimeout(ctx, c.h.lim.WriteTimeout)
			err := c.ws.Ping(pctx)
			cancel()
			if err != nil {
				c.cancel()
				return
			}
		}
	}
}
