package dump

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// closedSegment makes a closed segment file of size bytes last modified
// age ago.
func closedSegment(t *testing.T, root, stream, name string, size int, age time.Duration) string {
	t.Helper()
	dir := filepath.Join(root, stream)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, make([]byte, size), 0o640); err != nil {
		t.Fatal(err)
	}
	mod := time.Now().Add(-age)
	if err := os.Chtimes(p, mod, mod); err != nil {
		t.Fatal(err)
	}
	return p
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func TestRetention(t *testing.T) {
	root := t.TempDir()
	// Other streams' closed segments, oldest first.
	old := []string{
		closedSegment(t, root, "other", "20261121T020000Z-0001.pcapng", 10_000, 4*time.Hour),
		closedSegment(t, root, "other", "20261121T054500Z-0002.pcapng", 10_000, 30*time.Minute),
		closedSegment(t, root, "third", "viewer-1-20261121T055500Z-0001.pcapng", 10_000, 20*time.Minute),
		closedSegment(t, root, "other", "20261121T060500Z-0003.pcapng", 10_000, 10*time.Minute),
		closedSegment(t, root, "third", "viewer-1-20261121T061400Z-0002.pcapng", 10_000, time.Minute),
	}
	notDump := closedSegment(t, root, "other", "notes.txt", 50_000, 10*time.Hour)

	tests := []struct {
		name        string
		retainBytes int64 // beyond the open segment
		retainAge   time.Duration
		want        []bool // survivors among old
	}{
		{"bytes", 25_000, 0, []bool{false, false, false, true, true}},
		{"age", 0, time.Hour, []bool{false, true, true, true, true}},
		{"both", 35_000, 15 * time.Minute, []bool{false, false, false, true, true}},
		{"unlimited", 0, 0, []bool{true, true, true, true, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, p := range old {
				if !exists(p) {
					closedSegment(t, root, filepath.Base(filepath.Dir(p)), filepath.Base(p), 10_000, 0)
				}
			}
			for i, age := range []time.Duration{4 * time.Hour, 30 * time.Minute, 20 * time.Minute, 10 * time.Minute, time.Minute} {
				mod := time.Now().Add(-age)
				os.Chtimes(old[i], mod, mod)
			}
			s := newTestStore(t, Options{Root: root}, nil)
			w, err := s.NewWriter(testLeg("live", IngestLeg))
			if err != nil {
				t.Fatal(err)
			}
			w.WriteRTP(FromPeer, time.Now(), vp8RTP(t, 1, 1, 1, 500))
			waitFor(t, "flush", func() bool { return w.Stats().Packets == 1 })
			open := w.Stats().Segment
			// The open segment is the oldest and largest candidate:
			// retention must still leave it alone.
			mod := time.Now().Add(-10 * time.Hour)
			if err := os.Chtimes(open, mod, mod); err != nil {
				t.Fatal(err)
			}
			fi, _ := os.Stat(open)
			s.opts.RetainBytes, s.opts.RetainAge = 0, tt.retainAge
			if tt.retainBytes > 0 {
				s.opts.RetainBytes = fi.Size() + tt.retainBytes
			}
			s.sweep()
			if !exists(open) {
				t.Fatal("retention deleted the open segment")
			}
			if !exists(notDump) {
				t.Fatal("retention deleted a file that is not a segment")
			}
			var got []bool
			for _, p := range old {
				got = append(got, exists(p))
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("survivors %v, want %v", got, tt.want)
			}
			w.Close()
			os.Remove(open)
		})
	}
}

// Rotation triggers retention on the Store's goroutine: a long session
// under a small budget keeps the newest segments, and the open one.
func TestRetentionAfterRotation(t *testing.T) {
	const segBytes, budget = 4 << 10, 16 << 10
	s := newTestStore(t, Options{SegmentBytes: segBytes, RetainBytes: budget}, nil)
	w, err := s.NewWriter(testLeg("live", IngestLeg))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		w.WriteRTP(FromPeer, time.Now(), vp8RTP(t, 1, uint16(i), 0, 500))
		if i%20 == 0 {
			time.Sleep(time.Millisecond) // let sweeps interleave
		}
	}
	waitFor(t, "200 packets", func() bool { return w.Stats().Packets == 200 })
	w.WriteRTP(FromPeer, time.Now(), vp8RTP(t, 1, 200, 0, 100)) // small: no rotation
	waitFor(t, "201 packets", func() bool { return w.Stats().Packets == 201 })
	open := w.Stats().Segment
	// The open segment grew since the last rotation's sweep: the next
	// periodic sweep brings the total under the budget.
	waitFor(t, "retention", func() bool { s.requestSweep(); return s.Stats().Bytes <= budget })
	st := s.Stats()
	files := segments(t, filepath.Join(s.opts.Root, "live"))
	if !slices.Contains(files, open) {
		t.Fatalf("open segment %s deleted; left %v", open, files)
	}
	if w.Stats().Segments < 20 || st.Segments != len(files) || st.Writers != 1 || st.FreeBytes == 0 {
		t.Fatalf("writer %+v, store %+v, files %v", w.Stats(), st, files)
	}
	// The survivors are the newest.
	last := files[len(files)-1]
	if last != open {
		t.Fatalf("newest file %s, open %s", last, open)
	}
}
