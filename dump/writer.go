package dump

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// packet is one queued datagram: headroom for the IP and UDP headers, then
// the RTP or RTCP bytes. Recycled through Store.pool.
type packet struct {
	buf []byte
	at  int64 // Unix nanoseconds
	dir Direction
}

// Sizes of the buffered writer in front of a segment file. A streamer's leg
// carries the media (~200 packets/s per Mbit/s); a viewer's leg mostly
// RTCP, and there may be thousands of them.
const (
	ingestBufSize = 256 << 10
	viewerBufSize = 16 << 10
)

const (
	segmentTimeLayout = "20060102T150405Z"
	// errLogEvery rate-limits the "still failing" log of a writer.
	errLogEvery = time.Minute
	// epbOverhead is an Enhanced Packet Block without its data: header
	// 28 bytes + trailer 4 (pcapng §4.3).
	epbOverhead = 32
	// isbMaxLen bounds the Interface Statistics Block we write: 24 bytes
	// + 4 options of at most 12 bytes + end of options.
	isbMaxLen = 24 + 4*12 + 4
)

// Writer dumps one leg into a sequence of pcapng segment files.
//
// WriteRTP and WriteRTCP are called on the media path and never block: they
// copy the packet into a pooled buffer and do a non-blocking channel send;
// when the queue is full the packet is dropped and counted. One goroutine
// per writer drains the queue into a bufio.Writer flushed at least every
// FlushInterval (no fsync: a crash loses at most the last interval, and the
// Reader reads every complete block of a torn file).
//
// When a write, flush or create fails (disk full, permissions) the segment
// is abandoned, the error is logged once and reported by Stats, and the
// writer keeps accepting and counting packets while it retries a fresh
// segment every few seconds. Accounting, written into each segment's
// Interface Statistics Block (pcapng §4.6): isb_ifrecv counts every packet
// offered since the previous segment ended and isb_ifdrop those of them
// that are in no file (queue overflow, lost to a write error, offered while
// no segment could be opened). A segment cut short by an error has no ISB
// (its last unflushed packets count as dropped in the next one), so the ISBs
// of a leg's files add up to every packet offered except those safely
// written into a failed segment.
type Writer struct {
	s      *Store
	leg    Leg
	log    *slog.Logger
	hdrLen int
	queue  chan *packet
	stop   chan struct{}
	done   chan struct{}

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error

	// Counters for Stats; written by the drain goroutine except
	// droppedQueue (media path) and droppedErr (both).
	packets, bytes, droppedQueue, droppedErr, segments, errs atomic.Uint64
	segBytes                                                 atomic.Int64
	rate                                                     atomic.Uint64 // float64 bits

	mu      sync.Mutex // guards segPath and lastErr
	segPath string
	lastErr string

	// Owned by the drain goroutine.
	fr          framer
	intf        pcapgo.NgInterface
	bufSize     int
	seg         *segment
	failed      bool
	lastAttempt time.Time
	lastErrLog  time.Time
	n           int // last segment number used
	period      period
	pending     uint64 // packets in the bufio.Writer, not yet flushed
	rateAt      time.Time
	rateBytes   uint64
}

// period accumulates the counts of the next Interface Statistics Block.
type period struct {
	recv, drop uint64
	qd0        uint64 // droppedQueue when the period began
}

// segment is one open pcapng file.
type segment struct {
	path    string
	f       io.WriteCloser
	bw      *bufio.Writer
	ng      *pcapgo.NgWriter
	opened  time.Time
	packets uint64 // packets flushed to f
	size    int64  // bytes handed to bw
	flushed int64  // bytes bw handed to f
}

func newWriter(s *Store, leg Leg) *Writer {
	w := &Writer{
		s:     s,
		leg:   leg,
		log:   s.log.With("stream", leg.Stream, "leg", leg.Name),
		queue: make(chan *packet, s.opts.Queue),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
		fr:    newFramer(leg.Peer, leg.Server),
	}
	w.hdrLen = w.fr.hdrLen
	w.bufSize = viewerBufSize
	if leg.Name == IngestLeg {
		w.bufSize = ingestBufSize
	}
	sdp := redactSDP(leg.SDP)
	if len(sdp) > maxOptionLen {
		sdp = sdp[:maxOptionLen]
	}
	// Room for the headers, so that bufio never flushes on its own
	// (see write).
	w.bufSize = max(w.bufSize, len(sdp)+4096)
	w.intf = pcapgo.NgInterface{
		Name:                leg.Name,
		Description:         sdp,
		OS:                  runtime.GOOS,
		LinkType:            layers.LinkType(linkTypeRaw),
		SnapLength:          0, // no limit
		TimestampResolution: 9, // nanoseconds; pcapgo always writes if_tsresol=9
	}
	return w
}

func (w *Writer) start() {
	w.rateAt = time.Now()
	go w.run()
}

// WriteRTP queues an RTP packet for the dump. It never blocks and does not
// keep pkt.
func (w *Writer) WriteRTP(dir Direction, at time.Time, pkt []byte) {
	w.enqueue(dir, at, pkt)
}

// WriteRTCP queues an RTCP packet (compound allowed) as is; RTP and RTCP
// share the 5-tuple as with rtcp-mux (RFC 5761), and readers tell them
// apart by the payload type byte (RFC 5761 §4).
func (w *Writer) WriteRTCP(dir Direction, at time.Time, pkt []byte) {
	w.enqueue(dir, at, pkt)
}

func (w *Writer) enqueue(dir Direction, at time.Time, pkt []byte) {
	if w.closed.Load() {
		return
	}
	if len(pkt) > maxPayload {
		w.droppedErr.Add(1)
		return
	}
	p := w.s.pool.Get().(*packet)
	p.buf = append(p.buf[:w.hdrLen], pkt...)
	if at.IsZero() {
		at = time.Now()
	}
	p.at, p.dir = at.UnixNano(), dir
	select {
	case w.queue <- p:
	default:
		w.droppedQueue.Add(1)
		w.s.pool.Put(p)
	}
}

// Stats returns a snapshot; safe to call from any goroutine.
func (w *Writer) Stats() WriterStats {
	st := WriterStats{
		Packets:        w.packets.Load(),
		Bytes:          w.bytes.Load(),
		DroppedQueue:   w.droppedQueue.Load(),
		DroppedError:   w.droppedErr.Load(),
		SegmentBytes:   w.segBytes.Load(),
		Segments:       w.segments.Load(),
		Errors:         w.errs.Load(),
		BytesPerSecond: math.Float64frombits(w.rate.Load()),
	}
	w.mu.Lock()
	st.Segment, st.LastError = w.segPath, w.lastErr
	w.mu.Unlock()
	return st
}

// Close drains the queue, writes the Interface Statistics Block and closes
// the segment. Packets written after Close are ignored. It returns the
// error of completing the last segment, if any.
func (w *Writer) Close() error {
	w.closeOnce.Do(func() {
		w.closed.Store(true)
		close(w.stop)
		<-w.done
		w.s.removeWriter(w)
	})
	return w.closeErr
}

func (w *Writer) run() {
	defer close(w.done)
	// The first segment opens right away, before any packet (a peer that
	// negotiated and then sent nothing is evidence too), but here: the
	// caller of NewWriter never waits for the disk.
	w.openSegment()
	t := time.NewTicker(w.s.opts.FlushInterval)
	defer t.Stop()
	for {
		select {
		case p := <-w.queue:
			w.write(p)
		case <-t.C:
			w.tick()
		case <-w.stop:
			w.drain()
			if w.seg != nil {
				w.closeErr = w.closeSegment()
			}
			return
		}
	}
}

// drain writes what is queued; WriteRTP no longer enqueues once closed is
// set (a call already past that check may leave a packet behind for the
// garbage collector).
func (w *Writer) drain() {
	for {
		select {
		case p := <-w.queue:
			w.write(p)
		default:
			return
		}
	}
}

// write appends one packet to the open segment, opening one if a rotation
// left none.
func (w *Writer) write(p *packet) {
	defer w.s.pool.Put(p)
	w.period.recv++
	if w.seg == nil && !w.failed {
		w.openSegment()
	}
	if w.seg == nil {
		w.period.drop++
		w.droppedErr.Add(1)
		return
	}
	data := w.fr.frame(p.buf, p.dir)
	block := epbOverhead + (len(data)+3)&^3
	// Flush before a block that does not fit, so that bufio never
	// flushes on its own: then a failed flush loses exactly the packets
	// counted in w.pending.
	if w.seg.bw.Available() < block && w.seg.bw.Buffered() > 0 {
		if err := w.flush(); err != nil {
			w.pending++ // this packet is lost with the batch
			w.fail(err)
			return
		}
	}
	ci := gopacket.CaptureInfo{
		Timestamp:     time.Unix(0, p.at),
		CaptureLength: len(data),
		Length:        len(data),
	}
	w.pending++
	if err := w.seg.ng.WritePacket(ci, data); err != nil {
		w.fail(ioErr("write", w.seg.path, err))
		return
	}
	w.seg.size += int64(block)
	w.segBytes.Store(w.seg.size)
	if w.seg.size >= w.s.opts.SegmentBytes {
		w.closeSegment()
	}
}

func (w *Writer) tick() {
	now := w.s.hooks.now()
	switch {
	case w.seg != nil && now.Sub(w.seg.opened) >= w.s.opts.SegmentAge:
		w.closeSegment()
	case w.seg != nil && w.seg.bw.Buffered() > 0:
		if err := w.flush(); err != nil {
			w.fail(err)
		}
	case w.seg == nil && w.failed && now.Sub(w.lastAttempt) >= w.s.hooks.retry:
		w.openSegment()
	}

	real := time.Now()
	if d := real.Sub(w.rateAt); d >= time.Second {
		b := w.bytes.Load()
		w.rate.Store(math.Float64bits(float64(b-w.rateBytes) / d.Seconds()))
		w.rateAt, w.rateBytes = real, b
	}
}

// flush hands the buffered blocks to the file and counts them as written.
func (w *Writer) flush() error {
	if err := w.seg.bw.Flush(); err != nil {
		return ioErr("write", w.seg.path, err)
	}
	w.packets.Add(w.pending)
	w.seg.packets += w.pending
	w.bytes.Add(uint64(w.seg.size - w.seg.flushed))
	w.seg.flushed = w.seg.size
	w.pending = 0
	return nil
}

// openSegment creates the next segment file and writes its Section Header
// and Interface Description Blocks. Segments are self-contained: each opens
// in Wireshark on its own. On failure the writer enters the error state.
func (w *Writer) openSegment() {
	now := w.s.hooks.now()
	w.lastAttempt = now
	dir := filepath.Join(w.s.opts.Root, w.leg.Stream)
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		w.setFailed(ioErr("create", dir, err))
		return
	}
	prefix := ""
	if w.leg.Name != IngestLeg {
		prefix = w.leg.Name + "-"
	}
	stamp := now.UTC().Format(segmentTimeLayout)
	var (
		path string
		f    io.WriteCloser
		err  error
	)
	// Another writer of the same leg name (a streamer reconnecting within
	// the second) may own a name: take the next number, never overwrite.
	for range 1000 {
		path = filepath.Join(dir, fmt.Sprintf("%s%s-%04d.pcapng", prefix, stamp, w.n+1))
		w.s.setOpen(path, true)
		f, err = w.s.hooks.create(path)
		if err == nil {
			w.n++
			break
		}
		w.s.setOpen(path, false)
		if !errors.Is(err, fs.ErrExist) {
			break
		}
		w.n++
	}
	if err != nil {
		w.setFailed(ioErr("create", path, err))
		return
	}
	seg := &segment{path: path, f: f, opened: now, bw: bufio.NewWriterSize(f, w.bufSize)}
	sect := pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{
		Application: "bcast dump",
		OS:          runtime.GOOS,
		Hardware:    runtime.GOARCH,
		Comment: fmt.Sprintf("stream %s, leg %s, peer %s, server %s, segment %d",
			w.leg.Stream, w.leg.Name, w.fr.peer, w.fr.server, w.n),
	}}
	// pcapgo keeps our bufio.Writer: bufio.NewWriter returns a
	// *bufio.Writer that is already large enough.
	seg.ng, err = pcapgo.NewNgWriterInterface(seg.bw, w.intf, sect)
	w.seg = seg
	if err != nil {
		err = ioErr("write", path, err)
	} else {
		seg.size = int64(seg.bw.Buffered())
		err = w.flush()
	}
	if err != nil {
		w.fail(err)
		return
	}
	w.segments.Add(1)
	w.segBytes.Store(seg.size)
	w.log.Debug("dump segment opened", "path", path)
	w.mu.Lock()
	w.segPath = path
	w.lastErr = ""
	w.mu.Unlock()
	if w.failed {
		w.failed = false
		w.log.Info("dump resumed", "path", path, "dropped", w.droppedErr.Load())
	}
}

// closeSegment completes the open segment: Interface Statistics Block,
// flush, close. The next packet opens the next segment.
func (w *Writer) closeSegment() error {
	seg := w.seg
	now := w.s.hooks.now()
	qd := w.droppedQueue.Load()
	q := qd - w.period.qd0
	stats := pcapgo.NgInterfaceStatistics{
		LastUpdate:      now,
		StartTime:       seg.opened,
		EndTime:         now,
		PacketsReceived: w.period.recv + q,
		PacketsDropped:  w.period.drop + q,
	}
	var err error
	if seg.bw.Available() < isbMaxLen {
		err = w.flush()
	}
	if err == nil {
		before := seg.bw.Buffered()
		if err = seg.ng.WriteInterfaceStats(0, stats); err == nil {
			seg.size += int64(seg.bw.Buffered() - before)
			err = w.flush()
		} else {
			err = ioErr("write", seg.path, err)
		}
	}
	if err == nil {
		if err = seg.f.Close(); err != nil {
			err = ioErr("close", seg.path, err)
		}
		seg.f = nil
	}
	if err != nil {
		w.fail(err)
		return err
	}
	w.period = period{qd0: qd}
	w.endSegment()
	w.s.requestSweep()
	w.log.Debug("dump segment closed", "path", seg.path, "bytes", seg.size)
	return nil
}

// endSegment forgets the open segment (already closed or abandoned).
func (w *Writer) endSegment() {
	w.s.setOpen(w.seg.path, false)
	w.seg = nil
	w.segBytes.Store(0)
	w.mu.Lock()
	w.segPath = ""
	w.mu.Unlock()
}

// fail abandons the open segment after a write error. The packets still
// in its buffer are lost: they count as dropped, and the period goes on
// into the next segment's ISB, minus the packets that did reach this
// segment's file (which will get no ISB).
func (w *Writer) fail(err error) {
	lost := w.pending
	w.pending = 0
	w.droppedErr.Add(lost)
	qd := w.droppedQueue.Load()
	q := qd - w.period.qd0
	w.period = period{
		recv: w.period.recv - w.seg.packets + q,
		drop: w.period.drop + lost + q,
		qd0:  qd,
	}
	if seg := w.seg; seg.f != nil {
		_ = seg.f.Close() // the error that matters is err
		if seg.packets == 0 && w.s.hooks.remove(seg.path) == nil {
			// Nothing but headers (a full disk accepts the create
			// and fails the first write): leave no empty file per
			// retry, and reuse its number.
			w.n--
		}
	}
	w.endSegment()
	w.setFailed(err)
	// Retention may free the space we need.
	w.s.requestSweep()
}

// setFailed enters (or stays in) the error state: logged once, then at
// most every errLogEvery while retries keep failing.
func (w *Writer) setFailed(err error) {
	now := w.s.hooks.now()
	w.lastAttempt = now
	w.errs.Add(1)
	w.mu.Lock()
	w.lastErr = err.Error()
	w.mu.Unlock()
	w.s.recordErr(err)
	switch {
	case !w.failed:
		w.log.Error("dump stopped: dropping packets until a segment can be written", "err", err, "retry", w.s.hooks.retry)
		w.lastErrLog = now
	case now.Sub(w.lastErrLog) >= errLogEvery:
		w.log.Warn("dump still failing", "err", err, "dropped", w.droppedErr.Load())
		w.lastErrLog = now
	}
	w.failed = true
}

// ioErr wraps a file error once, with the path: os errors name it already
// (*fs.PathError), errors of injected writers may not.
func ioErr(op, path string, err error) error {
	if _, ok := errors.AsType[*fs.PathError](err); ok {
		return fmt.Errorf("dump: %w", err)
	}
	return fmt.Errorf("dump: %s %s: %w", op, path, err)
}
