package inspect

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestLogs(t *testing.T) {
	root := t.TempDir()
	write := func(rel, body string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("live/chat-20261121T080000Z.jsonl",
		`{"t":"2026-11-21T08:00:01Z","type":"message","nick":"a","text":"hi"}`+"\n"+
			`{"t":"2026-11-21T08:05:00Z","type":"ban","by":"console"}`+"\n"+
			`{"t":"2026-11-21T08:0`) // torn by a crash
	write("live/metrics-20261121T080000Z.jsonl", `{"t":"2026-11-21T08:00:00Z","live":true}`+"\n")
	write("bcast-20261121T075959Z.log", "time=2026-11-21T07:59:59.5Z level=INFO msg=serving\ntime=2026-11-21T08:10:00Z level=WARN msg=x\n")
	write("live/ingest-20261121T080000Z.pcapng", "not listed here")
	write("live/notes.jsonl", "{}\n")

	logs, err := Logs([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	ts := func(s string) time.Time { v, _ := time.Parse(time.RFC3339Nano, s); return v }
	want := []File{
		{Kind: KindLog, Stream: "", Lines: 2, Start: ts("2026-11-21T07:59:59.5Z"), End: ts("2026-11-21T08:10:00Z")},
		{Kind: KindChat, Stream: "live", Lines: 3, Start: ts("2026-11-21T08:00:01Z"), End: ts("2026-11-21T08:05:00Z")},
		{Kind: KindMetrics, Stream: "live", Lines: 1, Start: ts("2026-11-21T08:00:00Z"), End: ts("2026-11-21T08:00:00Z")},
	}
	if len(logs) != len(want) {
		t.Fatalf("got %d logs %+v, want %d", len(logs), logs, len(want))
	}
	for i, w := range want {
		g := logs[i]
		if g.Kind != w.Kind || g.Stream != w.Stream || g.Lines != w.Lines || !g.Start.Equal(w.Start) || !g.End.Equal(w.End) || g.Size == 0 || g.Err != "" {
			t.Errorf("log %d = %+v, want %+v", i, g, w)
		}
	}
}

// FuzzLineTime: any log line either yields a time or not; no panic.
func FuzzLineTime(f *testing.F) {
	for _, s := range []string{`{"t":"2026-11-21T08:00:01Z"}`, `{"time":"x"}`, "time=2026-11-21T07:59:59.5Z level=INFO", "time=", "{", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if tm, ok := lineTime([]byte(line)); ok && tm.IsZero() {
			t.Fatalf("%q: ok with a zero time", line)
		}
	})
}
