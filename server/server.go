// Package server is the live broadcast server: WHIP ingest, WHEP viewers,
// the web pages, the status API and Prometheus metrics. It wires pion
// PeerConnections to the fan-out in package forward and knows nothing of the
// terminal: the console reads Snapshot-style data from package status.
package server

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bcastdev/bcast/chat"
	"github.com/bcastdev/bcast/config"
	"github.com/bcastdev/bcast/dump"
	"github.com/bcastdev/bcast/forward"
	"github.com/bcastdev/bcast/server/status"
	"github.com/bcastdev/bcast/sysinfo"
)

// Options configure a Server.
type Options struct {
	Config  config.Server
	Logger  *slog.Logger
	Version string
	// ConnectTimeout reaps sessions whose ICE/DTLS does not complete
	// (default 15 s).
	ConnectTimeout time.Duration
	// Events receives joins, leaves, chat and operator actions for
	// consoles; nil creates a bus of the server's own (see Server.Events).
	Events *Events
}

// Server is a running broadcast server. Create it with New, serve HTTP with
// Serve, stop it with Close.
type Server struct {
	cfg     config.Server
	log     *slog.Logger
	version string
	reap    time.Duration
	tr      *transport
	dumps   *dump.Store // nil when dumping is off
	metrics *metrics
	events  *Events
	chat    *chat.Hub
	sys     sysSampler
	started time.Time

	mu      sync.Mutex
	streams map[string]*stream

	viewers    atomic.Int64  // connected or connecting viewers, all streams
	maxViewers atomic.Int64  // 0 = unlimited; changeable at run time
	fds        fdCount       // the join guard's view of open descriptors
	httpErrors atomic.Uint64 // 4xx/5xx answers since the last housekeeping tick
	ticks      atomic.Uint64 // housekeeping rounds: counters and rates move once per tick

	closed    chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
}

// ErrClosed is returned by operations on a closed server.
var ErrClosed = errors.New("server closed")

// New creates the server: binds the ICE UDP port, creates the shared DTLS
// certificate and the pion APIs. Tokens must already be set (cmd/bcast
// generates random ones when the operator gives none).
func New(opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Config.PublishToken == "" || opts.Config.AdminToken == "" {
		return nil, errors.New("publish and admin tokens must be set")
	}
	dumps, err := dump.NewStore(dump.Options{
		Root:         opts.Config.DumpDir,
		SegmentBytes: opts.Config.DumpSegmentBytes,
		SegmentAge:   opts.Config.DumpSegmentAge,
		RetainBytes:  opts.Config.DumpRetainBytes,
		RetainAge:    opts.Config.DumpRetainAge,
		Logger:       opts.Logger.With("component", "dump"),
	})
	if err != nil {
		return nil, fmt.Errorf("dump directory (--dump-dir): %w", err)
	}
	tr, err := newTransport(opts.Config.ICEUDPPort, opts.Config.NATIP, opts.Config.ICEIPs, opts.Logger)
	if err != nil {
		_ = dumps.Close()
		return nil, err
	}
	s := &Server{
		cfg:     opts.Config,
		log:     opts.Logger,
		version: opts.Version,
		reap:    opts.ConnectTimeout,
		tr:      tr,
		dumps:   dumps,
		started: time.Now(),
		streams: make(map[string]*stream),
		closed:  make(chan struct{}),
	}
	if s.reap <= 0 {
		s.reap = 15 * time.Second
	}
	if s.events = opts.Events; s.events == nil {
		s.events = NewEvents()
	}
	s.chat = chat.New(chat.Options{
		Logger: opts.Logger.With("component", "chat"),
		Dir:    opts.Config.DumpDir,
		IsAdmin: func(token string) bool {
			return subtle.ConstantTimeCompare([]byte(token), []byte(opts.Config.AdminToken)) == 1
		},
		OnEvent:    s.events.Publish,
		ClientAddr: s.clientAddr,
	})
	s.maxViewers.Store(int64(opts.Config.MaxViewers))
	s.fds.read = sysinfo.OpenFDs
	s.metrics = newMetrics(s)
	s.wg.Add(1)
	go s.housekeeping()
	return s, nil
}

// ICEAddrs returns the local addresses of the shared ICE UDP socket(s).
func (s *Server) ICEAddrs() []net.Addr { return s.tr.mux.GetListenAddresses() }

// Events is the server's event bus, for in-process consoles.
func (s *Server) Events() *Events { return s.events }

// SetMaxViewers changes the viewer limit (0 = unlimited) at run time.
func (s *Server) SetMaxViewers(n int) { s.maxViewers.Store(int64(n)) }

// Serve answers HTTP on ln until ctx is done or the server is closed.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	// Shutdown waits for handlers but does not cancel their requests: the
	// long-lived event streams of remote consoles end on this signal.
	stopping := make(chan struct{})
	hs.RegisterOnShutdown(func() { close(stopping) })
	hs.BaseContext = func(net.Listener) context.Context {
		return context.WithValue(context.Background(), stoppingKey{}, stopping)
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	case <-s.closed:
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = hs.Shutdown(shutdownCtx)
	return nil
}

// stoppingKey holds, in request contexts, a channel closed when the HTTP
// server shuts down.
type stoppingKey struct{}

// Close ends every session and releases the UDP port.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.mu.Lock()
		streams := make([]*stream, 0, len(s.streams))
		for _, st := range s.streams {
			streams = append(streams, st)
		}
		s.mu.Unlock()
		for _, st := range streams {
			st.closeAll()
		}
		_ = s.chat.Close()
		s.wg.Wait()
		_ = s.tr.mux.Close()
		_ = s.dumps.Close()
	})
	return nil
}

// getStream returns the named stream, creating it when create is set.
func (s *Server) getStream(name string, create bool) *stream {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.streams[name]
	if st == nil && create {
		st = newStream(s, name)
		s.streams[name] = st
	}
	return st
}

// forget removes st from the registry when it has neither publisher nor viewers.
func (s *Server) forget(st *stream) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.streams[st.name] == st && st.idle() {
		delete(s.streams, st.name)
	}
}

// streamList copies the registry, so callers can walk it without s.mu.
func (s *Server) streamList() []*stream {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := make([]*stream, 0, len(s.streams))
	for _, st := range s.streams {
		list = append(list, st)
	}
	return list
}

// Streams lists all streams, sorted by name. With admin set it includes
// personal data (addresses).
func (s *Server) Streams(admin bool) []status.Stream {
	list := s.streamList()
	out := make([]status.Stream, 0, len(list))
	for _, st := range list {
		out = append(out, st.status(admin))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// housekeeping runs once a second: sender reports to viewers and bitrate
// sampling. One goroutine for the whole server instead of one per viewer.
func (s *Server) housekeeping() {
	defer s.wg.Done()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	tl := newTimeline(s.cfg.DumpDir)
	defer tl.close()
	var lastErr string
	for {
		select {
		case <-s.closed:
			return
		case now := <-tick.C:
			s.ticks.Add(1)
			list := s.streamList()
			fds := sysinfo.OpenFDs()
			s.metrics.fds.Set(float64(fds))
			cpu := tl.sample(now)
			httpErrors := s.httpErrors.Swap(0)
			seen := make(map[string]bool, len(list))
			var egress int64
			for _, st := range list {
				egress += st.tick(now)
				seen[st.name] = true
				line := st.timelineLine(now)
				line.CPUPercent, line.FDs, line.HTTPErrors = cpu, fds, httpErrors
				if err := tl.write(st.name, line); err != nil && err.Error() != lastErr {
					lastErr = err.Error()
					s.log.Warn("metrics timeline not written; streaming continues", "err", err)
				}
			}
			s.sampleSystem(now, cpu, fds, egress)
			for name := range tl.files {
				if !seen[name] {
					tl.forget(name)
				}
			}
		}
	}
}

// newID returns a random 128-bit identifier: session URLs act as
// capabilities, so they must not be guessable.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// rateMeter turns a byte counter into a bitrate, sampled once a second.
type rateMeter struct {
	lastBytes uint64
	lastAt    time.Time
	bps       atomic.Int64
}

func (r *rateMeter) sample(bytes uint64, now time.Time) {
	if !r.lastAt.IsZero() && bytes >= r.lastBytes {
		if dt := now.Sub(r.lastAt).Seconds(); dt > 0 {
			r.bps.Store(int64(float64(bytes-r.lastBytes) * 8 / dt))
		}
	}
	r.lastBytes, r.lastAt = bytes, now
}

// trackStatus converts an ingest track's counters into the API form.
func trackStatus(t *forward.Track, meter *rateMeter, fps float64) *status.Media {
	if t == nil {
		return nil
	}
	st := t.Stats()
	m := &status.Media{
		Codec:         t.Codec().String(),
		SSRC:          st.SSRC,
		Width:         st.Width,
		Height:        st.Height,
		FPS:           fps,
		BitrateBPS:    meter.bps.Load(),
		Packets:       st.Packets,
		Bytes:         st.Bytes,
		Lost:          st.Lost,
		PLIsRequested: st.KeyframesRequested,
		PLIsSent:      st.KeyframesSentUpstream,
		JitterMS:      float64(st.Jitter.Microseconds()) / 1000,
	}
	if st.KeyframeInterval > 0 {
		m.KeyframeInterval = st.KeyframeInterval.Seconds()
	}
	return m
}
