// Package loadtest measures a WHEP server's capacity with many viewers of
// one stream in one process.
//
// Each viewer is a pion PeerConnection that behaves like a browser where
// it matters to the server: it joins with a real offer, answers losses with
// NACKs (pion's generator) and keyframe requests (PLI), and sends receiver
// reports. A load tester that ignores feedback measures a server that never
// has to retransmit or produce keyframes, which is not the server viewers
// meet. What a viewer does not need is not done: payloads are inspected
// for frame boundaries but never depacketised or decoded, and everything
// shareable (API, certificate, HTTP transport) is shared.
//
// The report answers "how many viewers can this server take": join
// latencies, media loss and repair, complete and incomplete frames, and
// freezes as a person watching would have seen them.
package loadtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/pion/rtp"

	"github.com/bcastdev/bcast/sysinfo"
)

// Config describes one load test run.
type Config struct {
	// URL is the WHEP endpoint, e.g. http://127.0.0.1:8080/api/whep/demo.
	URL string
	// Viewers is the number of viewers to join.
	Viewers int
	// Ramp spreads the joins evenly over this duration. 0 joins them all
	// at once.
	Ramp time.Duration
	// Burst joins all viewers at once, as Ramp 0 does, and also sends all
	// their POSTs at the same instant: each viewer first builds its offer
	// and gathers its candidates, then all wait for the last one. This is
	// the worst case for the server's join path. It excludes Ramp.
	Burst bool
	// Duration is how long to hold all viewers after the last join
	// completed; 0 holds them until ctx is done.
	Duration time.Duration
	// Logger receives pion's messages and the run's own; nil discards them.
	Logger *slog.Logger
	// Progress, if set, is called about once a second from Run's goroutine.
	Progress func(Progress)
}

// Progress is a snapshot of a running test.
type Progress struct {
	Elapsed   time.Duration
	Viewers   int // planned
	Joined    int // the server answered the POST with 201
	Connected int // ICE and DTLS came up
	Failed    int // the join failed
	Receiving int // got RTP in the last second
	// Kbps is the RTP received in the last second by all viewers together.
	Kbps             float64
	FramesComplete   uint64
	FramesIncomplete uint64
	Freezes          uint64
}

// closeTimeout bounds a viewer's DELETE and the wait for its readers.
const closeTimeout = 5 * time.Second

// closeParallel is how many viewers leave at once at the end: enough to
// finish 1000 viewers in a few seconds, few enough not to turn the
// teardown into a second load test.
const closeParallel = 64

// runner is one Run.
type runner struct {
	cfg       Config
	log       *slog.Logger
	start     time.Time
	peers     *peers
	transport *http.Transport
	gate      *gate // burst only
	viewers   []*viewer
}

// now is the monotonic time since the run started, the clock of every
// measurement.
func (r *runner) now() time.Duration { return time.Since(r.start) }

// Run joins cfg.Viewers viewers to cfg.URL, holds them for cfg.Duration
// (or until ctx is done), makes them leave and reports what they saw. It
// fails only when the test cannot start; viewers that fail are in the
// report, and a ctx cancelled during the test ends it early with a report.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	return run(ctx, cfg, hooks{})
}

// hooks let the tests change every viewer's transport.
type hooks struct {
	// newDrop gives each viewer a function that drops received RTP after
	// decryption and before anything else sees it: loss injection.
	newDrop func() func(video bool, p *rtp.Packet) bool
}

func run(ctx context.Context, cfg Config, h hooks) (*Report, error) {
	u, err := url.Parse(cfg.URL)
	switch {
	case err != nil:
		return nil, fmt.Errorf("URL: %w", err)
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return nil, fmt.Errorf("URL %q: want an http(s) WHEP endpoint such as http://host:8080/api/whep/demo", cfg.URL)
	case cfg.Viewers < 1:
		return nil, fmt.Errorf("viewers: %d, want at least 1", cfg.Viewers)
	case cfg.Ramp < 0 || cfg.Duration < 0:
		return nil, errors.New("ramp and duration must not be negative")
	case cfg.Burst && cfg.Ramp > 0:
		return nil, errors.New("burst and ramp exclude each other: burst joins everyone at once")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}

	// Each viewer holds a UDP socket and, until it leaves, an HTTP
	// connection; the default soft limit of 1024 stops at ~500 viewers.
	soft, hard, err := sysinfo.RaiseFDLimit()
	if err != nil {
		log.Warn("could not raise the file descriptor limit", "soft", soft, "hard", hard, "err", err)
	}
	if need := uint64(2*cfg.Viewers + 64); soft > 0 && soft < need {
		log.Warn("file descriptor limit too low for this many viewers", "limit", soft, "need", need)
	}

	peers, err := newPeers(u.Hostname(), log, h)
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	// Every viewer may hold a connection: the joins run in parallel and
	// the DELETEs at the end should not wait for a free one.
	tr.MaxIdleConns = 0
	tr.MaxIdleConnsPerHost = cfg.Viewers
	tr.MaxConnsPerHost = 0
	defer tr.CloseIdleConnections()

	r := &runner{
		cfg:       cfg,
		log:       log,
		start:     time.Now(),
		peers:     peers,
		transport: tr,
	}
	if cfg.Burst {
		r.gate = newGate(cfg.Viewers)
	}
	r.viewers = make([]*viewer, cfg.Viewers)
	for i := range r.viewers {
		r.viewers[i] = newViewer(r)
	}
	log.Info("load test starting", "url", cfg.URL, "viewers", cfg.Viewers, "ramp", cfg.Ramp, "burst", cfg.Burst)

	joinCtx, cancelJoins := context.WithCancel(ctx)
	defer cancelJoins()
	var joins sync.WaitGroup
	for i, v := range r.viewers {
		delay := cfg.Ramp * time.Duration(i) / time.Duration(cfg.Viewers)
		joins.Go(func() { v.join(joinCtx, delay) })
	}
	joined := make(chan struct{})
	go func() {
		joins.Wait()
		close(joined)
	}()

	r.hold(ctx, joined)
	end := r.now()
	cancelJoins()
	<-joined
	deleteFailed := r.closeAll(end)
	rep := r.report(end)
	rep.DeleteFailed = deleteFailed
	return rep, nil
}

// hold runs until cfg.Duration after the last join completed, or until
// ctx is done, reporting progress once a second.
func (r *runner) hold(ctx context.Context, joined <-chan struct{}) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var done <-chan time.Time // set once all joins completed
	p := newProgressMeter(len(r.viewers))
	for {
		select {
		case <-ctx.Done():
			return
		case <-done:
			return
		case <-joined:
			joined = nil
			if r.cfg.Duration > 0 {
				t := time.NewTimer(r.cfg.Duration)
				defer t.Stop()
				done = t.C
			}
			r.log.Info("all joins completed", "elapsed", r.now().Round(time.Millisecond))
		case <-tick.C:
			if r.cfg.Progress != nil {
				r.cfg.Progress(p.sample(r))
			}
		}
	}
}

// closeAll makes every viewer that is still there leave, closeParallel at a
// time, and returns the number of DELETEs that failed.
func (r *runner) closeAll(end time.Duration) int {
	sem := make(chan struct{}, closeParallel)
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed int
	)
	for _, v := range r.viewers {
		if v.failed.Load() {
			continue // left when it failed
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
			defer cancel()
			if v.close(ctx, end) {
				mu.Lock()
				failed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return failed
}

// progressMeter turns the viewers' counters into per-second rates.
type progressMeter struct {
	lastAt      time.Duration
	lastPackets []uint64
	lastBytes   uint64
}

func newProgressMeter(n int) *progressMeter {
	return &progressMeter{lastPackets: make([]uint64, n)}
}

func (m *progressMeter) sample(r *runner) Progress {
	now := r.now()
	p := Progress{Elapsed: now, Viewers: len(r.viewers)}
	var bytes uint64
	for i, v := range r.viewers {
		if v.joined.Load() {
			p.Joined++
		}
		if v.connectedAt.Load() != 0 {
			p.Connected++
		}
		if v.failed.Load() {
			p.Failed++
		}
		pk := v.c.packets.Load()
		if pk != m.lastPackets[i] {
			p.Receiving++
			m.lastPackets[i] = pk
		}
		bytes += v.c.bytes.Load()
		p.FramesComplete += v.c.framesComplete.Load()
		p.FramesIncomplete += v.c.framesIncomplete.Load()
		p.Freezes += v.c.freezes.Load()
	}
	if dt := now - m.lastAt; dt > 0 {
		p.Kbps = float64(bytes-m.lastBytes) * 8 / 1000 / dt.Seconds()
	}
	m.lastAt, m.lastBytes = now, bytes
	return p
}
