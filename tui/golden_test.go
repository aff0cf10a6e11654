package tui

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestGoldenView renders fixed snapshots at the sizes operators use and
// compares them with testdata/*.golden. The content goes through the same
// colour downsampling Bubble Tea applies on a terminal of that profile, so
// the files are what the operator sees. Regenerate with
// go test ./tui/ -run Golden -update and review the diff.
func TestGoldenView(t *testing.T) {
	tests := []struct {
		name    string
		w, h    int
		profile colorprofile.Profile
		opts    Options
		keys    []string
	}{
		{name: "80x24", w: 80, h: 24, profile: colorprofile.NoTTY},
		{name: "120x40", w: 120, h: 40, profile: colorprofile.NoTTY},
		{name: "200x60", w: 200, h: 60, profile: colorprofile.NoTTY},
		{name: "120x40_ansi16", w: 120, h: 40, profile: colorprofile.ANSI},
		{name: "80x24_help", w: 80, h: 24, profile: colorprofile.NoTTY, keys: []string{"?"}},
		{name: "120x40_help_about", w: 120, h: 40, profile: colorprofile.NoTTY, keys: []string{"?"},
			opts: Options{About: []string{"  player:      http://localhost:8080/", "  publish token: t0k3n\x1b[31m (escapes are stripped)"}}},
		{name: "80x24_readonly_help", w: 80, h: 24, profile: colorprofile.NoTTY, opts: Options{ReadOnly: true}, keys: []string{"?"}},
		{name: "120x40_chat_ban_confirm", w: 120, h: 40, profile: colorprofile.NoTTY, keys: []string{"tab", "k", "k", "b", "1", "d", "enter"}},
		{name: "120x40_chatters_filter", w: 120, h: 40, profile: colorprofile.NoTTY, keys: []string{"/", "2", "0", "3", "enter", "o", "o", "o", "tab", "v"}},
		{name: "120x40_backup_offline", w: 120, h: 40, profile: colorprofile.NoTTY, keys: []string{"s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			opts.Title = "bcast serve :8080"
			m := testModel(t, newFakeBackend(fixture(0)), opts, tt.w, tt.h, tt.profile, 30)
			m, _ = press(t, m, tt.keys...)

			content := m.View().Content
			checkSize(t, content, tt.w, tt.h)

			var out bytes.Buffer
			w := &colorprofile.Writer{Forward: &out, Profile: tt.profile}
			if _, err := w.Write([]byte(content)); err != nil {
				t.Fatal(err)
			}
			out.WriteByte('\n')
			golden(t, filepath.Join("testdata", tt.name+".golden"), out.Bytes())
		})
	}
}

// checkSize asserts that the view fills exactly w×h cells: no line wider
// than the terminal (it would wrap and scroll the screen) and no line
// missing or extra.
func checkSize(t *testing.T, content string, w, h int) {
	t.Helper()
	lines := strings.Split(content, "\n")
	if len(lines) != h {
		t.Errorf("view has %d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if got := ansi.StringWidth(l); got > w {
			t.Errorf("line %d is %d cells wide, more than %d: %q", i+1, got, w, ansi.Strip(l))
		}
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./tui/ -run Golden -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the view (rerun with -update and review the diff)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
