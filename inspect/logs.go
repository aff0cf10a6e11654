package inspect

import (
	"bufio"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Kinds of files `bcast dump ls` lists beside the captures.
const (
	KindDump    = "dump"    // pcap/pcapng
	KindChat    = "chat"    // chat-*.jsonl: messages and moderation actions
	KindMetrics = "metrics" // metrics-*.jsonl: one line per stream per second
	KindLog     = "log"     // bcast-*.log: the server log in console mode
)

// logKind tells which kind of log a file name is, "" for none.
func logKind(name string) string {
	base := filepath.Base(name)
	switch {
	case strings.HasPrefix(base, "chat-") && strings.HasSuffix(base, ".jsonl"):
		return KindChat
	case strings.HasPrefix(base, "metrics-") && strings.HasSuffix(base, ".jsonl"):
		return KindMetrics
	case strings.HasPrefix(base, "bcast-") && strings.HasSuffix(base, ".log"):
		return KindLog
	}
	return ""
}

// Logs lists the chat logs, metrics timelines and server logs under the
// directories in paths, with their time range and line count, so the
// post-mortem finds them next to the packets.
func Logs(paths []string) ([]File, error) {
	var out []File
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			if kind := logKind(path); kind != "" {
				out = append(out, readLog(p, path, kind))
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// readLog counts a log's lines and takes its time range from the first and
// last lines that carry a time: "t" or "time" in JSON lines, time= in
// slog's text format. A torn last line is counted, not fatal.
func readLog(root, path, kind string) File {
	f := File{Path: path, Kind: kind}
	if rel, err := filepath.Rel(root, filepath.Dir(path)); err == nil && rel != "." && !strings.HasPrefix(rel, "..") {
		f.Stream = filepath.Base(rel)
	}
	fh, err := os.Open(path)
	if err != nil {
		f.Err = err.Error()
		return f
	}
	defer fh.Close()
	if fi, err := fh.Stat(); err == nil {
		f.Size = fi.Size()
	}
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		f.Lines++
		if t, ok := lineTime(sc.Bytes()); ok {
			if f.Start.IsZero() {
				f.Start = t
			}
			f.End = t
		}
	}
	if err := sc.Err(); err != nil {
		f.Err = err.Error()
	}
	return f
}

func lineTime(line []byte) (time.Time, bool) {
	if len(line) > 0 && line[0] == '{' {
		var v struct {
			T    time.Time `json:"t"`
			Time time.Time `json:"time"`
		}
		if json.Unmarshal(line, &v) != nil {
			return time.Time{}, false
		}
		if !v.T.IsZero() {
			return v.T, true
		}
		return v.Time, !v.Time.IsZero()
	}
	s := string(line)
	if rest, ok := strings.CutPrefix(s, "time="); ok {
		if i := strings.IndexByte(rest, ' '); i > 0 {
			t, err := time.Parse(time.RFC3339Nano, rest[:i])
			return t, err == nil
		}
	}
	return time.Time{}, false
}
