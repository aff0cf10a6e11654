package server

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/bcastdev/bcast/sysinfo"
)

// timelineLine is one second of one stream in the metrics timeline written
// beside the dumps (<dump-dir>/<stream>/metrics-<UTC start>.jsonl): what a
// post-mortem needs to line up with the packets.
type timelineLine struct {
	Time         time.Time `json:"t"`
	Live         bool      `json:"live"`
	Viewers      int       `json:"viewers"`
	VideoBPS     int64     `json:"video_bps"`
	AudioBPS     int64     `json:"audio_bps"`
	VideoLost    int64     `json:"video_lost"`
	AudioLost    int64     `json:"audio_lost"`
	FPS          float64   `json:"fps"`
	CPUPercent   float64   `json:"cpu_percent"` // process, 100 = one core
	FDs          int       `json:"fds"`
	HTTPErrors   uint64    `json:"http_errors"` // 4xx/5xx answered in this second, all streams
	DumpDropped  uint64    `json:"dump_dropped,omitempty"`
	DumpErrorMsg string    `json:"dump_error,omitempty"`
}

// timeline appends one JSON line per second per stream.
type timeline struct {
	root    string
	started string
	files   map[string]*timelineFile
	lastCPU time.Duration
	lastAt  time.Time
}

type timelineFile struct {
	f *os.File
	w *bufio.Writer
}

func newTimeline(root string) *timeline {
	return &timeline{root: root, started: time.Now().UTC().Format("20060102T150405Z"), files: map[string]*timelineFile{}}
}

// sample records the process figures shared by all streams of this tick.
func (tl *timeline) sample(now time.Time) (cpuPercent float64) {
	cpu := sysinfo.ProcessCPU()
	if !tl.lastAt.IsZero() {
		if dt := now.Sub(tl.lastAt); dt > 0 {
			cpuPercent = float64(cpu-tl.lastCPU) / float64(dt) * 100
		}
	}
	tl.lastCPU, tl.lastAt = cpu, now
	return cpuPercent
}

// write appends line for stream; errors are returned for the caller to log
// once — the timeline must never disturb streaming.
func (tl *timeline) write(stream string, line timelineLine) error {
	tf := tl.files[stream]
	if tf == nil {
		dir := filepath.Join(tl.root, stream)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("metrics timeline: %w", err)
		}
		f, err := os.OpenFile(filepath.Join(dir, "metrics-"+tl.started+".jsonl"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("metrics timeline: %w", err)
		}
		tf = &timelineFile{f: f, w: bufio.NewWriter(f)}
		tl.files[stream] = tf
	}
	b, _ := json.Marshal(line)
	_, _ = tf.w.Write(append(b, '\n'))
	return tf.w.Flush()
}

// forget closes the file of a stream that is gone.
func (tl *timeline) forget(stream string) {
	if tf := tl.files[stream]; tf != nil {
		_ = tf.w.Flush()
		_ = tf.f.Close()
		delete(tl.files, stream)
	}
}

func (tl *timeline) close() {
	for name := range tl.files {
		tl.forget(name)
	}
}
