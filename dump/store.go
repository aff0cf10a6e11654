package dump

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Permissions: dumps hold the media of real people.
const (
	dirPerm  = 0o750
	filePerm = 0o640
)

// hooks are the Store's dependencies on the outside world, replaced by
// tests to simulate a full disk or to move the clock.
type hooks struct {
	now func() time.Time
	// create opens a new segment file; it must fail with an error
	// wrapping fs.ErrExist if path exists (segments are never
	// overwritten).
	create func(path string) (io.WriteCloser, error)
	// remove deletes a segment abandoned before any packet reached it.
	remove func(path string) error
	// retry is how long a failed writer waits before opening a fresh
	// segment.
	retry time.Duration
	// sweepEvery is the retention period when no rotation triggers it.
	sweepEvery time.Duration
}

func defaultHooks() hooks {
	return hooks{
		now: time.Now,
		create: func(path string) (io.WriteCloser, error) {
			return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, filePerm)
		},
		remove:     os.Remove,
		retry:      5 * time.Second,
		sweepEvery: time.Minute,
	}
}

// Store owns the dump root: it creates writers, enforces retention across
// all of them (never deleting an open segment) and reports totals.
type Store struct {
	opts  Options
	hooks hooks
	log   *slog.Logger
	// pool recycles packet buffers across all writers: the media path
	// pays a copy, not an allocation.
	pool sync.Pool

	mu      sync.Mutex
	writers map[*Writer]struct{}
	open    map[string]struct{} // paths of open segments: never deleted
	closed  bool
	lastErr string
	errAt   time.Time

	sweepc chan struct{} // capacity 1: a pending retention request
	stop   chan struct{}
	done   chan struct{}
}

// NewStore creates Root if missing and starts retention when RetainBytes
// or RetainAge is set.
func NewStore(opts Options) (*Store, error) {
	return newStore(opts, defaultHooks())
}

func newStore(opts Options, h hooks) (*Store, error) {
	if opts.Root == "" {
		return nil, errors.New("dump: no dump directory configured")
	}
	opts = opts.withDefaults()
	if err := os.MkdirAll(opts.Root, dirPerm); err != nil {
		return nil, fmt.Errorf("dump: create dump directory %s: %w", opts.Root, err)
	}
	s := &Store{
		opts:    opts,
		hooks:   h,
		log:     opts.Logger,
		writers: make(map[*Writer]struct{}),
		open:    make(map[string]struct{}),
		sweepc:  make(chan struct{}, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	s.pool.New = func() any { return &packet{buf: make([]byte, 0, 1500+ipv6HeaderLen+udpHeaderLen)} }
	if opts.RetainBytes > 0 || opts.RetainAge > 0 {
		go s.retain()
	} else {
		close(s.done)
	}
	return s, nil
}

// NewWriter starts dumping one leg. It fails only for an invalid Leg or a
// closed Store: a filesystem problem (full disk, permissions) must not stop
// a stream, so the writer then starts in the error state, counts what it
// cannot write, and retries (see Writer).
func (s *Store) NewWriter(leg Leg) (*Writer, error) {
	if err := leg.validate(); err != nil {
		return nil, err
	}
	w := newWriter(s, leg)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	s.writers[w] = struct{}{}
	s.mu.Unlock()
	w.start()
	return w, nil
}

// Close closes all writers (each drains its queue and completes its
// segment) and stops retention.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	ws := make([]*Writer, 0, len(s.writers))
	for w := range s.writers {
		ws = append(ws, w)
	}
	s.mu.Unlock()

	var errs []error
	for _, w := range ws {
		errs = append(errs, w.Close())
	}
	close(s.stop)
	<-s.done
	return errors.Join(errs...)
}

// Stats scans Root (one directory read per stream) and reports totals.
func (s *Store) Stats() StoreStats {
	files, err := s.scan()
	var st StoreStats
	for _, f := range files {
		st.Bytes += f.size
	}
	st.Segments = len(files)
	st.FreeBytes = freeBytes(s.opts.Root)
	if err != nil {
		s.recordErr(err)
	}
	s.mu.Lock()
	st.Writers = len(s.writers)
	st.LastError, st.LastErrorAt = s.lastErr, s.errAt
	s.mu.Unlock()
	return st
}

func (s *Store) recordErr(err error) {
	s.mu.Lock()
	s.lastErr, s.errAt = err.Error(), s.hooks.now()
	s.mu.Unlock()
}

func (s *Store) removeWriter(w *Writer) {
	s.mu.Lock()
	delete(s.writers, w)
	s.mu.Unlock()
}

// setOpen registers path as open before the file is created, so that a
// concurrent sweep can never see it unregistered, and forgets it once the
// segment is closed.
func (s *Store) setOpen(path string, open bool) {
	s.mu.Lock()
	if open {
		s.open[path] = struct{}{}
	} else {
		delete(s.open, path)
	}
	s.mu.Unlock()
}

// requestSweep asks for a retention pass without waiting for it.
func (s *Store) requestSweep() {
	select {
	case s.sweepc <- struct{}{}:
	default:
	}
}

// retain runs retention after each rotation (requestSweep) and every
// sweepEvery, on its own goroutine so that no writer waits for a
// directory walk.
func (s *Store) retain() {
	defer close(s.done)
	t := time.NewTicker(s.hooks.sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		case <-s.sweepc:
		}
		s.sweep()
	}
}

type segFile struct {
	path string
	size int64
	mod  time.Time
}

// scan lists Root/<stream>/*.pcapng.
func (s *Store) scan() ([]segFile, error) {
	streams, err := os.ReadDir(s.opts.Root)
	if err != nil {
		return nil, fmt.Errorf("dump: read dump directory: %w", err)
	}
	var files []segFile
	var errs []error
	for _, d := range streams {
		if !d.IsDir() {
			continue
		}
		dir := filepath.Join(s.opts.Root, d.Name())
		entries, err := os.ReadDir(dir)
		if err != nil {
			errs = append(errs, fmt.Errorf("dump: read %s: %w", dir, err))
			continue
		}
		for _, e := range entries {
			if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), ".pcapng") {
				continue
			}
			info, err := e.Info()
			if err != nil {
				if !errors.Is(err, fs.ErrNotExist) { // deleted meanwhile
					errs = append(errs, fmt.Errorf("dump: stat: %w", err))
				}
				continue
			}
			files = append(files, segFile{filepath.Join(dir, e.Name()), info.Size(), info.ModTime()})
		}
	}
	return files, errors.Join(errs...)
}

// sweep deletes closed segments, oldest first, while the total is above
// RetainBytes, and every closed segment last modified more than RetainAge
// ago. Open segments count toward the total but are never deleted.
func (s *Store) sweep() {
	files, err := s.scan()
	if err != nil {
		s.recordErr(err)
		s.log.Warn("dump retention: scan failed", "err", err)
	}
	slices.SortFunc(files, func(a, b segFile) int {
		if c := a.mod.Compare(b.mod); c != 0 {
			return c
		}
		return cmp.Compare(a.path, b.path)
	})
	var total int64
	for _, f := range files {
		total += f.size
	}
	now := s.hooks.now()
	for _, f := range files {
		overBytes := s.opts.RetainBytes > 0 && total > s.opts.RetainBytes
		tooOld := s.opts.RetainAge > 0 && now.Sub(f.mod) > s.opts.RetainAge
		if !overBytes && !tooOld {
			continue
		}
		s.mu.Lock()
		_, open := s.open[f.path]
		var err error
		if !open {
			err = os.Remove(f.path)
		}
		s.mu.Unlock()
		switch {
		case open:
			continue
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			err = fmt.Errorf("dump retention: %w", err)
			s.recordErr(err)
			s.log.Warn("dump retention: delete failed", "err", err)
			continue
		}
		total -= f.size
		s.log.Debug("dump retention: deleted segment", "path", f.path, "bytes", f.size, "old", tooOld)
	}
}
