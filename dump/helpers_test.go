package dump

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

const testSDP = "v=0\r\n" +
	"o=- 1 2 IN IP4 127.0.0.1\r\n" +
	"s=-\r\n" +
	"t=0 0\r\n" +
	"a=group:BUNDLE 0\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 96\r\n" +
	"c=IN IP4 0.0.0.0\r\n" +
	"a=ice-ufrag:abcd\r\n" +
	"a=ice-pwd:0123456789abcdefghijkl\r\n" +
	"a=mid:0\r\n" +
	"a=rtpmap:96 VP8/90000\r\n" +
	"a=extmap:4 urn:3gpp:video-orientation\r\n" +
	"a=rtcp-mux\r\n"

func testLeg(stream, name string) Leg {
	return Leg{
		Stream: stream,
		Name:   name,
		SDP:    testSDP,
		Peer:   netip.MustParseAddrPort("203.0.113.7:51000"),
		Server: netip.MustParseAddrPort("198.51.100.1:8189"),
	}
}

// vp8RTP returns an RTP packet with a VP8 payload descriptor (RFC 7741
// §4.2: S bit on the first packet of a frame) and size bytes of payload.
func vp8RTP(t testing.TB, ssrc uint32, seq uint16, ts uint32, size int) []byte {
	t.Helper()
	payload := make([]byte, size)
	payload[0] = 0x10 // S=1, PID=0
	for i := 1; i < size; i++ {
		payload[i] = byte(int(seq) + i)
	}
	p := rtp.Packet{
		Header: rtp.Header{
			Version:        2,
			PayloadType:    96,
			SequenceNumber: seq,
			Timestamp:      ts,
			SSRC:           ssrc,
			Marker:         true,
		},
		Payload: payload,
	}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rrPLI is what a server sends a streamer: a compound receiver report and
// picture loss indication (RFC 3550 §6.1, RFC 4585 §6.3.1).
func rrPLI(t testing.TB, sender, media uint32, seq uint16) []byte {
	t.Helper()
	b, err := rtcp.Marshal([]rtcp.Packet{
		&rtcp.ReceiverReport{SSRC: sender, Reports: []rtcp.ReceptionReport{{SSRC: media, LastSequenceNumber: uint32(seq), Jitter: 12}}},
		&rtcp.PictureLossIndication{SenderSSRC: sender, MediaSSRC: media},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// senderReport is RTCP packet type 200, the lowest value of RFC 5761's
// range: a classifier using 194..223 would miss it.
func senderReport(t testing.TB, ssrc uint32) []byte {
	t.Helper()
	b, err := rtcp.Marshal([]rtcp.Packet{&rtcp.SenderReport{SSRC: ssrc, NTPTime: 1 << 40, RTPTime: 1234, PacketCount: 10, OctetCount: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// written is one packet handed to a Writer.
type written struct {
	dir     Direction
	at      time.Time
	payload []byte
	rtcp    bool
}

// newTestStore creates a Store in a temporary directory with fast timers.
func newTestStore(t testing.TB, opts Options, edit func(*hooks)) *Store {
	t.Helper()
	if opts.Root == "" {
		opts.Root = t.TempDir()
	}
	if opts.FlushInterval == 0 {
		opts.FlushInterval = 5 * time.Millisecond
	}
	h := defaultHooks()
	h.retry = 20 * time.Millisecond
	if edit != nil {
		edit(&h)
	}
	s, err := newStore(opts, h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// readAll reads a capture with our Reader, copying payloads.
func readAll(t testing.TB, path string) ([]Packet, []Interface) {
	t.Helper()
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var pkts []Packet
	for {
		p, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: packet %d: %v", path, len(pkts), err)
		}
		p.Payload = bytes.Clone(p.Payload)
		pkts = append(pkts, p)
	}
	return pkts, r.Interfaces()
}

func segments(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.pcapng"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// tool runs a Wireshark command-line tool, skipping the test if it is not
// installed.
func tool(t testing.TB, name string, args ...string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed", name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// waitFor polls cond until it holds or a few seconds pass.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// fakeClock is a settable clock for rotation and retention tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// faultyFS wraps real files with a switch that makes writes and creates
// fail with a given error, as a full disk does (a full disk usually still
// lets open(2) create the file; the first write then fails).
type faultyFS struct {
	mu        sync.Mutex
	writeErr  error // returned by Write while set
	createErr error // returned by create while set
}

func (f *faultyFS) set(write, create error) {
	f.mu.Lock()
	f.writeErr, f.createErr = write, create
	f.mu.Unlock()
}

func (f *faultyFS) create(path string) (io.WriteCloser, error) {
	f.mu.Lock()
	err := f.createErr
	f.mu.Unlock()
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	file, err := defaultHooks().create(path)
	if err != nil {
		return nil, err
	}
	return &faultyFile{fs: f, f: file}, nil
}

type faultyFile struct {
	fs *faultyFS
	f  io.WriteCloser
}

func (f *faultyFile) Write(b []byte) (int, error) {
	f.fs.mu.Lock()
	err := f.fs.writeErr
	f.fs.mu.Unlock()
	if err != nil {
		return 0, err
	}
	return f.f.Write(b)
}

func (f *faultyFile) Close() error { return f.f.Close() }

// blockFS stalls every write until released: a hung disk or NFS server.
type blockFS struct {
	release chan struct{}
}

func (b *blockFS) create(path string) (io.WriteCloser, error) {
	f, err := defaultHooks().create(path)
	if err != nil {
		return nil, err
	}
	return &blockFile{b: b, f: f}, nil
}

type blockFile struct {
	b *blockFS
	f io.WriteCloser
}

func (f *blockFile) Write(p []byte) (int, error) {
	<-f.b.release
	return f.f.Write(p)
}

func (f *blockFile) Close() error { return f.f.Close() }

// logCount counts log records by message.
type logCount struct {
	mu   sync.Mutex
	msgs map[string]int
}

func (l *logCount) Enabled(context.Context, slog.Level) bool { return true }
func (l *logCount) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logCount) WithGroup(string) slog.Handler            { return l }
func (l *logCount) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.msgs == nil {
		l.msgs = map[string]int{}
	}
	l.msgs[r.Message]++
	return nil
}

func (l *logCount) count(msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.msgs[msg]
}
