// Package status holds the plain data the server reports about itself: the
// JSON of GET /api/streams and the snapshot the operator console renders. It
// imports nothing heavy so that a remote console does not pull in pion.
package status

import "time"

// Stream is one named stream as listed by GET /api/streams.
type Stream struct {
	Name          string   `json:"name"`
	Live          bool     `json:"live"`
	Viewers       int      `json:"viewers"`
	UptimeSeconds float64  `json:"uptime_seconds"`
	Video         *Media   `json:"video,omitempty"`
	Audio         *Media   `json:"audio,omitempty"`
	Publisher     *Session `json:"publisher,omitempty"` // admin only
	Dump          *Dump    `json:"dump,omitempty"`      // admin only
}

// Dump is the state of the current publisher's ingest dump.
type Dump struct {
	Segment        string  `json:"segment"`
	SegmentBytes   int64   `json:"segment_bytes"`
	Packets        uint64  `json:"packets"`
	Dropped        uint64  `json:"dropped"` // queue full or write errors
	BytesPerSecond float64 `json:"bytes_per_second"`
	Error          string  `json:"error,omitempty"` // why dumping is not working right now
}

// Media describes one ingest track.
type Media struct {
	Codec            string  `json:"codec"`
	SSRC             uint32  `json:"ssrc"`
	Width            int     `json:"width,omitempty"`
	Height           int     `json:"height,omitempty"`
	FPS              float64 `json:"fps,omitempty"`
	BitrateBPS       int64   `json:"bitrate_bps"`
	Packets          uint64  `json:"packets"`
	Bytes            uint64  `json:"bytes"`
	Lost             int64   `json:"lost"`
	KeyframeInterval float64 `json:"keyframe_interval_seconds,omitempty"`
	PLIsRequested    uint64  `json:"plis_requested"`
	PLIsSent         uint64  `json:"plis_sent"`
}

// Session is a publisher (or viewer) connection, shown to admins only since
// addresses are personal data.
type Session struct {
	ID      string    `json:"id"`
	Remote  string    `json:"remote"`
	Since   time.Time `json:"since"`
	State   string    `json:"state"`
	Problem string    `json:"problem,omitempty"`
}

// Viewer is one viewer session as the admin API and the console show it.
type Viewer struct {
	ID          string    `json:"id"`
	Num         int       `json:"num"` // per-stream number, also used in capture file names
	Remote      string    `json:"remote"`
	Since       time.Time `json:"since"`
	State       string    `json:"state"`
	VideoCodec  string    `json:"video_codec,omitempty"`
	AudioCodec  string    `json:"audio_codec,omitempty"`
	Packets     uint64    `json:"packets"`
	Bytes       uint64    `json:"bytes"`
	BitrateBPS  int64     `json:"bitrate_bps"`
	RTTMS       float64   `json:"rtt_ms"`
	LossPercent float64   `json:"loss_percent"` // from the viewer's latest receiver report (video)
	NACKs       uint64    `json:"nacks"`
	PLIs        uint64    `json:"plis"`
	Problem     string    `json:"problem,omitempty"` // e.g. codec mismatch
	Capture     string    `json:"capture,omitempty"` // current capture segment when the leg is captured
}
