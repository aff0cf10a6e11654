package dump

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// writeSession writes what an ingest leg sees: the streamer's VP8 RTP and
// sender reports, the server's RR+PLI, and (to cover both directions for
// RTP too) a few RTP packets towards the peer. Sequence numbers wrap.
func writeSession(t testing.TB, w *Writer, start time.Time, nRTP int) []written {
	t.Helper()
	var out []written
	add := func(dir Direction, at time.Time, b []byte, isRTCP bool) {
		if isRTCP {
			w.WriteRTCP(dir, at, b)
		} else {
			w.WriteRTP(dir, at, b)
		}
		out = append(out, written{dir, at, b, isRTCP})
	}
	at := start
	for i := range nRTP {
		at = at.Add(33*time.Millisecond + time.Duration(i)) // distinct nanoseconds
		seq := uint16(65500 + i)
		add(FromPeer, at, vp8RTP(t, 0xa1, seq, uint32(i)*3000, 200+i*7%1000), false)
		if i%10 == 9 {
			add(ToPeer, at.Add(time.Millisecond), rrPLI(t, 1, 0xa1, seq), true)
		}
		if i%25 == 0 {
			add(FromPeer, at.Add(2*time.Millisecond), senderReport(t, 0xa1), true)
		}
		if i%4 == 0 {
			add(ToPeer, at.Add(3*time.Millisecond), vp8RTP(t, 0xb2, uint16(i/4), uint32(i)*90, 100), false)
		}
	}
	return out
}

func TestWriterTshark(t *testing.T) {
	tests := []struct {
		name         string
		peer, server string // "" = unknown
		wantPeer     string
		wantServer   string
		v6           bool
	}{
		{"ipv4", "203.0.113.7:51000", "198.51.100.1:8189", "203.0.113.7:51000", "198.51.100.1:8189", false},
		{"ipv4-mapped", "[::ffff:203.0.113.7]:51000", "198.51.100.1:8189", "203.0.113.7:51000", "198.51.100.1:8189", false},
		{"ipv6", "[2001:db8::7]:51000", "[2001:db8::1]:8189", "[2001:db8::7]:51000", "[2001:db8::1]:8189", true},
		{"mixed", "[2001:db8::7]:51000", "198.51.100.1:8189", "[2001:db8::7]:51000", "[::ffff:198.51.100.1]:8189", true},
		{"unknown", "", "", "192.0.2.1:9", "192.0.2.2:9", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestStore(t, Options{}, nil)
			leg := testLeg("live", IngestLeg)
			leg.Peer, leg.Server = netip.AddrPort{}, netip.AddrPort{}
			if tt.peer != "" {
				leg.Peer = netip.MustParseAddrPort(tt.peer)
				leg.Server = netip.MustParseAddrPort(tt.server)
			}
			w, err := s.NewWriter(leg)
			if err != nil {
				t.Fatal(err)
			}
			const nRTP = 100
			sent := writeSession(t, w, time.Date(2026, 11, 21, 6, 15, 0, 0, time.UTC), nRTP)
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			st := w.Stats()
			if st.Packets != uint64(len(sent)) || st.DroppedQueue+st.DroppedError != 0 || st.LastError != "" || st.Segments != 1 {
				t.Fatalf("stats %+v, want %d packets, no drops, no error, 1 segment", st, len(sent))
			}
			files := segments(t, filepath.Join(s.opts.Root, "live"))
			if len(files) != 1 {
				t.Fatalf("files %v, want 1", files)
			}
			file := files[0]
			if fi, _ := os.Stat(file); uint64(fi.Size()) != st.Bytes {
				t.Errorf("Stats().Bytes = %d, file has %d", st.Bytes, fi.Size())
			}
			peer, server := netip.MustParseAddrPort(tt.wantPeer), netip.MustParseAddrPort(tt.wantServer)

			// Our reader gets back exactly what was written.
			got, intfs := readAll(t, file)
			if len(got) != len(sent) {
				t.Fatalf("read %d packets, wrote %d", len(got), len(sent))
			}
			for i, p := range got {
				want := sent[i]
				src, dst := peer, server
				if want.dir == ToPeer {
					src, dst = server, peer
				}
				if !bytes.Equal(p.Payload, want.payload) || p.Src != src || p.Dst != dst || !p.Time.Equal(want.at) || p.RTCP != want.rtcp || p.Interface != 0 {
					t.Fatalf("packet %d: got %v %v→%v rtcp=%v %d bytes; want %v %v→%v rtcp=%v %d bytes",
						i, p.Time, p.Src, p.Dst, p.RTCP, len(p.Payload), want.at, src, dst, want.rtcp, len(want.payload))
				}
			}
			wantIntf := Interface{Name: IngestLeg, Description: redactSDP(testSDP), LinkType: linkTypeRaw, Received: uint64(len(sent))}
			if len(intfs) != 1 || intfs[0] != wantIntf {
				t.Fatalf("interfaces %+v, want %+v", intfs, wantIntf)
			}
			if strings.Contains(intfs[0].Description, "0123456789abcdefghijkl") {
				t.Fatal("ICE password in the dump")
			}

			// tshark reads every packet, with our addresses and valid
			// checksums, and tells RTCP from RTP (rtcp-mux).
			ipField, ckField := "ip", "ip.checksum.status"
			if tt.v6 {
				ipField, ckField = "ipv6", "udp.checksum.status"
			}
			out := tool(t, "tshark", "-r", file, "-o", "rtp.heuristic_rtp:TRUE",
				"-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
				"-T", "fields", "-E", "separator=/t",
				"-e", "frame.number", "-e", ipField+".src", "-e", ipField+".dst",
				"-e", "udp.srcport", "-e", "udp.dstport", "-e", ckField, "-e", "frame.protocols")
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != len(sent) {
				t.Fatalf("tshark shows %d frames, wrote %d", len(lines), len(sent))
			}
			for i, l := range lines {
				f := strings.Split(l, "\t")
				src, dst := peer, server
				if sent[i].dir == ToPeer {
					src, dst = server, peer
				}
				want := []string{strconv.Itoa(i + 1), src.Addr().String(), dst.Addr().String(),
					strconv.Itoa(int(src.Port())), strconv.Itoa(int(dst.Port())), "1" /* Good */}
				if len(f) != 7 || strings.Join(f[:6], " ") != strings.Join(want, " ") {
					t.Fatalf("tshark frame %d: %q, want %q", i+1, f, want)
				}
				proto := "rtp"
				if sent[i].rtcp {
					proto = "rtcp"
				}
				if !strings.HasSuffix(f[6], ":"+proto) {
					t.Fatalf("tshark frame %d decodes as %s, want %s", i+1, f[6], proto)
				}
			}

			// The RTP stream analysis finds the streamer's stream whole.
			out = tool(t, "tshark", "-r", file, "-o", "rtp.heuristic_rtp:TRUE", "-q", "-z", "rtp,streams")
			row := regexp.MustCompile(`0x000000[aA]1\s+\S+\s+(\d+)\s+(-?\d+) \(`).FindStringSubmatch(out)
			if row == nil || row[1] != strconv.Itoa(nRTP) || row[2] != "0" {
				t.Fatalf("rtp,streams: want SSRC 0xa1 with %d packets, 0 lost:\n%s", nRTP, out)
			}

			// The SDP is the interface description.
			out = tool(t, "tshark", "-r", file, "-c", "1", "-T", "fields", "-e", "frame.interface_name", "-e", "frame.interface_description")
			if want := IngestLeg + "\t" + strings.ReplaceAll(redactSDP(testSDP), "\r\n", `\r\n`); strings.TrimRight(out, "\n") != want {
				t.Fatalf("interface: %q, want %q", out, want)
			}
		})
	}
}

func TestWriterCapinfos(t *testing.T) {
	s := newTestStore(t, Options{}, nil)
	w, err := s.NewWriter(testLeg("live", "viewer-42"))
	if err != nil {
		t.Fatal(err)
	}
	sent := writeSession(t, w, time.Now(), 20)
	w.Close()
	files := segments(t, filepath.Join(s.opts.Root, "live"))
	if len(files) != 1 {
		t.Fatalf("files %v", files)
	}
	out := tool(t, "capinfos", files[0])
	for _, want := range []string{
		"File type:           Wireshark/... - pcapng",
		"File timestamp precision:  nanoseconds (9)",
		fmt.Sprintf("Number of packets:   %d", len(sent)),
		"Name = viewer-42",
		"a=rtpmap:96 VP8/90000",
		"Number of stat entries = 1",
		"Capture application: bcast dump",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("capinfos lacks %q:\n%s", want, out)
		}
	}
}

var (
	ingestName = regexp.MustCompile(`^\d{8}T\d{6}Z-\d{4}\.pcapng$`)
	viewerName = regexp.MustCompile(`^viewer-42-\d{8}T\d{6}Z-\d{4}\.pcapng$`)
)

func TestRotationBySize(t *testing.T) {
	const segBytes = 8 << 10
	s := newTestStore(t, Options{SegmentBytes: segBytes}, nil)
	legs := []struct {
		leg  Leg
		name *regexp.Regexp
	}{
		{testLeg("live", IngestLeg), ingestName},
		{testLeg("live", "viewer-42"), viewerName},
	}
	for _, l := range legs {
		w, err := s.NewWriter(l.leg)
		if err != nil {
			t.Fatal(err)
		}
		const n = 100
		for i := range n {
			w.WriteRTP(FromPeer, time.Now(), vp8RTP(t, 7, uint16(i), uint32(i)*3000, 500))
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		var files []string
		for _, f := range segments(t, filepath.Join(s.opts.Root, "live")) {
			if l.name.MatchString(filepath.Base(f)) {
				files = append(files, f)
			}
		}
		if st := w.Stats(); len(files) < 5 || st.Segments != uint64(len(files)) {
			t.Fatalf("%s: %d files, Stats %+v; want ≥ 5 segments", l.leg.Name, len(files), st)
		}
		// Each segment stands alone: its own headers, its own ISB.
		var seq int
		for i, f := range files {
			if want := fmt.Sprintf("-%04d.pcapng", i+1); !strings.HasSuffix(f, want) {
				t.Errorf("segment %d is %s, want suffix %s", i, f, want)
			}
			fi, _ := os.Stat(f)
			if fi.Size() > segBytes+700 {
				t.Errorf("%s: %d bytes, limit %d", f, fi.Size(), segBytes)
			}
			pkts, intfs := readAll(t, f)
			if len(intfs) != 1 || intfs[0].Received != uint64(len(pkts)) || intfs[0].Name != l.leg.Name {
				t.Errorf("%s: %d packets, interfaces %+v", f, len(pkts), intfs)
			}
			for _, p := range pkts {
				if got := int(p.Payload[2])<<8 | int(p.Payload[3]); got != seq {
					t.Fatalf("%s: sequence %d, want %d", f, got, seq)
				}
				seq++
			}
		}
		if seq != 100 {
			t.Fatalf("read %d packets across segments, wrote 100", seq)
		}
		// One capinfos run over all segments: each opens on its own.
		out := tool(t, "capinfos", append([]string{"-c", "-T", "-r"}, files...)...)
		var total int
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			f := strings.Split(l, "\t")
			n, err := strconv.Atoi(strings.TrimSpace(f[len(f)-1]))
			if err != nil {
				t.Fatalf("capinfos: %q", l)
			}
			total += n
		}
		if total != 100 {
			t.Fatalf("capinfos counts %d packets in %d files, want 100:\n%s", total, len(files), out)
		}
	}
}

func TestRotationByAge(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 11, 21, 6, 15, 0, 0, time.UTC)}
	s := newTestStore(t, Options{SegmentAge: time.Minute}, func(h *hooks) { h.now = clk.Now })
	w, err := s.NewWriter(testLeg("live", IngestLeg))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		w.WriteRTP(FromPeer, time.Now(), vp8RTP(t, 7, uint16(i), 0, 300))
	}
	waitFor(t, "10 packets flushed", func() bool { return w.Stats().Packets == 10 })
	first := w.Stats().Segment
	clk.Add(61 * time.Second)
	waitFor(t, "the segment to close", func() bool { return w.Stats().Segment == "" })
	// The next packet opens the next segment, named after its start.
	for i := range 5 {
		w.WriteRTP(FromPeer, time.Now(), vp8RTP(t, 7, uint16(10+i), 0, 300))
	}
	w.Close()
	files := segments(t, filepath.Join(s.opts.Root, "live"))
	want := []string{"20261121T061500Z-0001.pcapng", "20261121T061601Z-0002.pcapng"}
	if len(files) != 2 || filepath.Base(files[0]) != want[0] || filepath.Base(files[1]) != want[1] || files[0] != first {
		t.Fatalf("segments %v, want %v", files, want)
	}
	for i, n := range []int{10, 5} {
		pkts, intfs := readAll(t, files[i])
		if len(pkts) != n || intfs[0].Received != uint64(n) {
			t.Errorf("%s: %d packets, ISB %+v; want %d", files[i], len(pkts), intfs[0], n)
		}
		if out := tool(t, "tshark", "-r", files[i], "-T", "fields", "-e", "frame.number"); strings.Count(out, "\n") != n {
			t.Errorf("tshark reads %d frames of %s, want %d", strings.Count(out, "\n"), files[i], n)
		}
	}
}

// Two writers of the same leg within the same second (a streamer
// reconnecting) never overwrite each other's files.
func TestSegmentNameCollision(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 11, 21, 6, 15, 0, 0, time.UTC)}
	s := newTestStore(t, Options{}, func(h *hooks) { h.now = clk.Now })
	var ws []*Writer
	for range 3 {
		w, err := s.NewWriter(testLeg("live", IngestLeg))
		if err != nil {
			t.Fatal(err)
		}
		w.WriteRTP(FromPeer, time.Now(), vp8RTP(t, 1, 1, 1, 100))
		ws = append(ws, w)
	}
	for _, w := range ws {
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	files := segments(t, filepath.Join(s.opts.Root, "live"))
	if len(files) != 3 {
		t.Fatalf("files %v, want 3", files)
	}
	for i, f := range files {
		if want := fmt.Sprintf("20261121T061500Z-%04d.pcapng", i+1); filepath.Base(f) != want {
			t.Errorf("file %d: %s, want %s", i, filepath.Base(f), want)
		}
		if pkts, _ := readAll(t, f); len(pkts) != 1 {
			t.Errorf("%s: %d packets, want 1", f, len(pkts))
		}
	}
}

// A full disk: writes fail, the writer keeps accepting and counting, says
// why, and resumes in a new segment once space is back.
func TestWriteErrorRecovery(t *testing.T) {
	ffs := &faultyFS{}
	logs := &logCount{}
	s := newTestStore(t, Options{Logger: slog.New(logs)}, func(h *hooks) { h.create = ffs.create })
	w, err := s.NewWriter(testLeg("live", IngestLeg))
	if err != nil {
		t.Fatal(err)
	}
	seq := uint16(0)
	send := func(n int) {
		for range n {
			start := time.Now()
			w.WriteRTP(FromPeer, time.Now(), vp8RTP(t, 9, seq, uint32(seq)*3000, 400))
			if d := time.Since(start); d > 100*time.Millisecond {
				t.Fatalf("WriteRTP took %v", d)
			}
			seq++
		}
	}
	const n1, m, n2 = 20, 30, 15
	send(n1)
	waitFor(t, "first packets flushed", func() bool { return w.Stats().Packets == n1 })
	first := w.Stats().Segment

	ffs.set(syscall.ENOSPC, nil)
	send(m)
	// The writer goroutine counts the drops and records the error in
	// separate steps: wait for both.
	waitFor(t, "drops counted and the error recorded", func() bool {
		st := w.Stats()
		return st.DroppedError == m && st.LastError != "" && st.Segment == ""
	})
	st := w.Stats()
	if !strings.Contains(st.LastError, "no space left on device") || st.Segment != "" || st.Errors == 0 || st.Packets != n1 {
		t.Fatalf("during the outage: %+v", st)
	}
	if ss := s.Stats(); !strings.Contains(ss.LastError, "no space left on device") {
		t.Fatalf("store stats: %+v", ss)
	}
	time.Sleep(3 * s.hooks.retry) // a few failed retries
	if files := segments(t, filepath.Join(s.opts.Root, "live")); len(files) != 1 {
		t.Fatalf("failed retries left files: %v", files)
	}

	ffs.set(nil, nil)
	waitFor(t, "a new segment", func() bool { st := w.Stats(); return st.Segment != "" && st.LastError == "" })
	second := w.Stats().Segment
	send(n2)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	st = w.Stats()
	if st.Packets != n1+n2 || st.DroppedError != m || st.DroppedQueue != 0 || st.Segments != 2 {
		t.Fatalf("after recovery: %+v", st)
	}
	// Failed retries left no file and used no number.
	if files := segments(t, filepath.Join(s.opts.Root, "live")); len(files) != 2 || files[0] != first || files[1] != second ||
		!strings.HasSuffix(second, "-0002.pcapng") {
		t.Fatalf("files %v, want [%s %s]", files, first, second)
	}
	// Logged once, however many retries failed.
	if n, r := logs.count("dump stopped: dropping packets until a segment can be written"), logs.count("dump resumed"); n != 1 || r != 1 || st.Errors < 3 {
		t.Fatalf("logged the error %d times and the recovery %d times for %d errors", n, r, st.Errors)
	}
	// The abandoned segment keeps what was flushed and has no ISB; the
	// new one accounts for the outage.
	pkts, intfs := readAll(t, first)
	if len(pkts) != n1 || intfs[0].Received != 0 {
		t.Fatalf("first segment: %d packets, %+v", len(pkts), intfs)
	}
	pkts, intfs = readAll(t, second)
	if len(pkts) != n2 || intfs[0].Received != m+n2 || intfs[0].Dropped != m {
		t.Fatalf("second segment: %d packets, %+v; want %d, received %d, dropped %d", len(pkts), intfs, n2, m+n2, m)
	}
	for _, f := range []string{first, second} {
		tool(t, "capinfos", "-c", f)
	}
}

// Creating files fails (permissions) from the start: NewWriter still
// succeeds, nothing blocks, and dumping starts once the directory is
// writable.
func TestCreateErrorAtStart(t *testing.T) {
	ffs := &faultyFS{}
	ffs.set(nil, syscall.EACCES)
	s := newTestStore(t, Options{}, func(h *hooks) { h.create = ffs.create })
	w, err := s.NewWriter(testLeg("live", IngestLeg))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the error", func() bool { return strings.Contains(w.Stats().LastError, "permission denied") })
	w.WriteRTP(FromPeer, time.Now(), vp8RTP(t, 1, 1, 1, 100))
	waitFor(t, "the drop", func() bool { return w.Stats().DroppedError == 1 })
	ffs.set(nil, nil)
	waitFor(t, "a segment", func() bool { return w.Stats().Segment != "" })
	w.WriteRTP(FromPeer, time.Now(), vp8RTP(t, 1, 2, 1, 100))
	w.Close()
	files := segments(t, filepath.Join(s.opts.Root, "live"))
	if len(files) != 1 || !strings.HasSuffix(files[0], "-0001.pcapng") {
		t.Fatalf("files %v", files)
	}
	if pkts, intfs := readAll(t, files[0]); len(pkts) != 1 || intfs[0].Received != 2 || intfs[0].Dropped != 1 {
		t.Fatalf("%d packets, %+v", len(pkts), intfs)
	}
}

// A stalled disk fills the queue; WriteRTP drops and counts instead of
// waiting.
func TestQueueOverflow(t *testing.T) {
	bfs := &blockFS{release: make(chan struct{})}
	const queue, n = 16, 10000
	s := newTestStore(t, Options{Queue: queue}, func(h *hooks) { h.create = bfs.create })
	w, err := s.NewWriter(testLeg("live", IngestLeg))
	if err != nil {
		t.Fatal(err)
	}
	pkt := vp8RTP(t, 1, 1, 1, 1000)
	var worst time.Duration
	start := time.Now()
	for range n {
		t0 := time.Now()
		w.WriteRTP(FromPeer, t0, pkt)
		worst = max(worst, time.Since(t0))
	}
	total := time.Since(start)
	st := w.Stats()
	t.Logf("%d WriteRTP on a stalled disk: %v, worst call %v", n, total, worst)
	// The drain goroutine is stuck writing the first segment's headers,
	// so exactly the queue's worth is kept.
	if st.DroppedQueue != n-queue || st.Packets != 0 {
		t.Fatalf("stats %+v, want %d dropped", st, n-queue)
	}
	if worst > 50*time.Millisecond {
		t.Fatalf("a WriteRTP call took %v", worst)
	}
	close(bfs.release)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	files := segments(t, filepath.Join(s.opts.Root, "live"))
	pkts, intfs := readAll(t, files[0])
	if len(pkts) != queue || intfs[0].Received != n || intfs[0].Dropped != n-queue {
		t.Fatalf("%d packets, %+v", len(pkts), intfs)
	}
}

func TestWriteAfterClose(t *testing.T) {
	s := newTestStore(t, Options{}, nil)
	w, err := s.NewWriter(testLeg("live", IngestLeg))
	if err != nil {
		t.Fatal(err)
	}
	w.WriteRTP(FromPeer, time.Now(), vp8RTP(t, 1, 1, 1, 100))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	w.WriteRTP(FromPeer, time.Now(), vp8RTP(t, 1, 2, 1, 100)) // ignored, no panic
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st.Packets != 1 {
		t.Fatalf("%+v", st)
	}
	if _, err := s.NewWriter(testLeg("live", IngestLeg)); err != ErrClosed {
		t.Fatalf("NewWriter after Close: %v", err)
	}
	if ss := s.Stats(); ss.Writers != 0 || ss.Segments != 1 || ss.Bytes == 0 {
		t.Fatalf("store stats %+v", ss)
	}
}

func TestNewWriterValidation(t *testing.T) {
	s := newTestStore(t, Options{}, nil)
	tests := []struct {
		stream, name string
		ok           bool
	}{
		{"live", IngestLeg, true},
		{"Live_2-b", "viewer-7f3a-99", true},
		{"", IngestLeg, false},
		{"..", IngestLeg, false},
		{"a/b", IngestLeg, false},
		{"live", "", false},
		{"live", "../x", false},
		{"live", "viewer 1", false},
		{strings.Repeat("a", 129), IngestLeg, false},
	}
	for _, tt := range tests {
		w, err := s.NewWriter(Leg{Stream: tt.stream, Name: tt.name})
		if (err == nil) != tt.ok {
			t.Errorf("NewWriter(%q, %q): %v, want ok=%v", tt.stream, tt.name, err, tt.ok)
		}
		if w != nil {
			w.Close()
		}
	}
}

func TestNewStoreError(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := NewStore(Options{Root: filepath.Join(f, "dumps")})
	if err == nil || !strings.Contains(err.Error(), filepath.Join(f, "dumps")) {
		t.Fatalf("NewStore under a file: %v, want an error naming the directory", err)
	}
	if _, err := NewStore(Options{}); err == nil {
		t.Fatal("NewStore without Root succeeded")
	}
}

func TestRedactSDP(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"v=0\r\na=ice-pwd:secret\r\na=x\r\n", "v=0\r\na=ice-pwd:redacted\r\na=x\r\n"},
		{"a=ice-pwd:secret\n", "a=ice-pwd:redacted\n"},
		{"a=ice-pwd:secret", "a=ice-pwd:redacted"},
		{"a=ice-ufrag:u\r\n", "a=ice-ufrag:u\r\n"},
	}
	for _, tt := range tests {
		if got := redactSDP(tt.in); got != tt.want {
			t.Errorf("redactSDP(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
