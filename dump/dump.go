package dump

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"
)

// Direction of a packet relative to the server.
type Direction uint8

const (
	// FromPeer: the peer sent it to the server (a streamer's RTP, a
	// viewer's receiver reports).
	FromPeer Direction = iota
	// ToPeer: the server sent it (NACK/PLI/RR to a streamer, RTP to a
	// viewer).
	ToPeer
)

func (d Direction) String() string {
	switch d {
	case FromPeer:
		return "from-peer"
	case ToPeer:
		return "to-peer"
	}
	return fmt.Sprintf("Direction(%d)", uint8(d))
}

// Leg is one peer connection's media exchange.
type Leg struct {
	// Stream is the stream name, the directory under the dump root;
	// [A-Za-z0-9_-] only, so a name can never leave the root.
	Stream string
	// Name is "ingest" or "viewer-<id>": the file name prefix for
	// non-ingest legs and the pcapng interface name (if_name).
	Name string
	// SDP is the negotiated SDP (the answer), stored in the interface
	// description (if_description) so that replay knows the codecs,
	// payload types and extmap IDs. a=ice-pwd values are redacted.
	SDP string
	// Peer is the peer's real address; invalid → 192.0.2.1:9 (TEST-NET-1).
	Peer netip.AddrPort
	// Server is the server's address; invalid → 192.0.2.2:9.
	Server netip.AddrPort
}

// IngestLeg is the Leg.Name of a streamer's connection; its files carry no
// name prefix.
const IngestLeg = "ingest"

const maxNameLen = 128

// validName reports whether s is a safe path element: non-empty,
// [A-Za-z0-9_-] only (no dots, so never "." or ".."), bounded length.
func validName(s string) bool {
	if s == "" || len(s) > maxNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func (l Leg) validate() error {
	if !validName(l.Stream) {
		return fmt.Errorf("dump: invalid stream name %q: want 1-%d of [A-Za-z0-9_-]", l.Stream, maxNameLen)
	}
	if !validName(l.Name) {
		return fmt.Errorf("dump: invalid leg name %q: want 1-%d of [A-Za-z0-9_-]", l.Name, maxNameLen)
	}
	return nil
}

// redactSDP replaces a=ice-pwd values (RFC 8839 §5.4): the dump outlives
// the session and needs codecs and extmaps, not ICE credentials.
// Fingerprints stay: they are public by design (RFC 8122).
func redactSDP(sdp string) string {
	if !strings.Contains(sdp, "a=ice-pwd:") {
		return sdp
	}
	lines := strings.SplitAfter(sdp, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "a=ice-pwd:") {
			end := strings.TrimRight(l[len("a=ice-pwd:"):], "\r\n")
			lines[i] = "a=ice-pwd:redacted" + l[len("a=ice-pwd:")+len(end):]
		}
	}
	return strings.Join(lines, "")
}

// maxOptionLen is the largest pcapng option value (a 16-bit length).
const maxOptionLen = 0xffff &^ 3

// Options configures a Store. Zero values take the defaults below.
type Options struct {
	// Root is the dump root (--dump-dir); files go to Root/<stream>/.
	Root string
	// SegmentBytes rotates a segment when it reaches this size
	// (default 256 MiB).
	SegmentBytes int64
	// SegmentAge rotates a segment after this long (default 10 min).
	SegmentAge time.Duration
	// RetainBytes deletes the oldest closed segments, across the whole
	// Root, while the total is above it (0 = unlimited).
	RetainBytes int64
	// RetainAge deletes closed segments last modified longer ago than
	// this (0 = keep).
	RetainAge time.Duration
	// Queue is the number of packets buffered per writer before
	// dropping (default 8192).
	Queue int
	// FlushInterval is the longest time written packets stay in memory
	// (default 1 s).
	FlushInterval time.Duration
	// Logger receives errors (rate-limited) and rotations; nil discards.
	Logger *slog.Logger
}

// Defaults.
const (
	DefaultSegmentBytes  = 256 << 20
	DefaultSegmentAge    = 10 * time.Minute
	DefaultQueue         = 8192
	DefaultFlushInterval = time.Second
)

func (o Options) withDefaults() Options {
	if o.SegmentBytes <= 0 {
		o.SegmentBytes = DefaultSegmentBytes
	}
	if o.SegmentAge <= 0 {
		o.SegmentAge = DefaultSegmentAge
	}
	if o.Queue <= 0 {
		o.Queue = DefaultQueue
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = DefaultFlushInterval
	}
	if o.FlushInterval < time.Millisecond {
		o.FlushInterval = time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// ErrClosed is returned by NewWriter after Store.Close.
var ErrClosed = errors.New("dump: store closed")

// StoreStats is a snapshot of a Store.
type StoreStats struct {
	Bytes       int64     // bytes of *.pcapng under Root (all streams, open segments included)
	Segments    int       // number of *.pcapng files under Root
	FreeBytes   uint64    // bytes available to us on Root's filesystem (0 when unknown)
	Writers     int       // open writers
	LastError   string    // most recent error of a writer or of retention ("" if none yet)
	LastErrorAt time.Time // when LastError happened
}

// WriterStats is a snapshot of a Writer.
type WriterStats struct {
	Packets        uint64  // packets flushed to segment files
	Bytes          uint64  // pcapng bytes flushed to segment files (headers included)
	DroppedQueue   uint64  // packets dropped because the queue was full
	DroppedError   uint64  // packets lost to write errors, or offered while no segment could be opened
	Segment        string  // path of the open segment ("" when none is open)
	SegmentBytes   int64   // size of the open segment, buffered bytes included
	Segments       uint64  // segment files this writer created, the open one included
	Errors         uint64  // write, open and close errors
	LastError      string  // the error that stopped dumping; "" when healthy
	BytesPerSecond float64 // flush rate over the last second or so
}
