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
	Joins         *Joins   `json:"joins,omitempty"`     // viewers who joined in the last minute
	Dump          *Dump    `json:"dump,omitempty"`      // admin only
	// Snapshot only (GET /api/admin/snapshot, the console):
	ViewerList []Viewer `json:"viewer_list,omitempty"`
	Chat       *Chat    `json:"chat,omitempty"`
}

// Joins is what the viewers who joined lately waited: for the connection
// (WHEP POST to ICE+DTLS up) and then for their picture (connected to the
// keyframe that starts it being sent).
type Joins struct {
	WindowSeconds   float64 `json:"window_seconds"`
	Count           int     `json:"count"` // joins in the window
	JoinP50MS       float64 `json:"join_p50_ms"`
	JoinP95MS       float64 `json:"join_p95_ms"`
	FirstFrameP50MS float64 `json:"first_frame_p50_ms"`
	FirstFrameP95MS float64 `json:"first_frame_p95_ms"`
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
	NACKsSent        uint64  `json:"nacks_sent"` // NACKs bcast sent to the streamer
	JitterMS         float64 `json:"jitter_ms"`  // RFC 3550 interarrival jitter
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

// Snapshot is everything the operator console shows, taken at one instant.
// The server builds it in process (bcast serve) and serves it as JSON to
// remote consoles (GET /api/admin/snapshot), so both render the same data.
type Snapshot struct {
	Time    time.Time `json:"time"`
	Version string    `json:"version"`
	Started time.Time `json:"started"`
	System  System    `json:"system"`
	// Streams carry the admin-only fields: publisher, dump, viewer list and
	// chat state.
	Streams []Stream `json:"streams"`
}

// System is the process and machine side of a snapshot.
type System struct {
	ProcessCPUPercent float64 `json:"process_cpu_percent"` // 100 = one core busy
	MachineCPUPercent float64 `json:"machine_cpu_percent"` // 100 = all cores busy
	Cores             int     `json:"cores"`
	RSSBytes          uint64  `json:"rss_bytes"`
	Goroutines        int     `json:"goroutines"`
	FDs               int     `json:"fds"`
	FDLimit           int     `json:"fd_limit"`
	Viewers           int     `json:"viewers"`     // all streams
	MaxViewers        int     `json:"max_viewers"` // 0 = unlimited
	EgressBPS         int64   `json:"egress_bps"`  // media sent to viewers, all streams
	// UDP sockets: datagrams per system call over the last second (> 1
	// while UDP GSO batches each viewer's packets), whether GSO is in use,
	// and datagrams the kernel refused since start (full socket buffers).
	UDPDatagramsPerSend float64 `json:"udp_datagrams_per_send"`
	UDPGSO              bool    `json:"udp_gso"`
	UDPSendErrors       uint64  `json:"udp_send_errors"`
	DumpDir             string  `json:"dump_dir"`
	DumpBytes           int64   `json:"dump_bytes"`      // all dump files kept
	DumpFreeBytes       uint64  `json:"dump_free_bytes"` // free space on the dump file system
	DumpError           string  `json:"dump_error,omitempty"`
}

// Chat is one stream's chat as moderators see it.
type Chat struct {
	Enabled         bool          `json:"enabled"`
	SlowModeSeconds int           `json:"slow_mode_seconds"` // 0 = off
	Connections     int           `json:"connections"`
	Messages        []ChatMessage `json:"messages"` // history, oldest first (deleted ones are gone)
	Chatters        []Chatter     `json:"chatters"` // connected, banned or timed out
}

// ChatMessage is one chat line. ID and Time come from the server.
type ChatMessage struct {
	ID    string    `json:"id"`
	Time  time.Time `json:"time"`
	User  string    `json:"user"` // public chatter id (not the session secret)
	Nick  string    `json:"nick"`
	Text  string    `json:"text"`
	Admin bool      `json:"admin,omitempty"`
}

// Chatter is one chat participant as moderators see it.
type Chatter struct {
	User         string    `json:"user"`
	Nick         string    `json:"nick"`
	Remote       string    `json:"remote"` // address, admins only
	Since        time.Time `json:"since"`
	Connected    bool      `json:"connected"`
	Admin        bool      `json:"admin,omitempty"`
	Messages     int       `json:"messages"`
	Banned       bool      `json:"banned,omitempty"`
	TimeoutUntil time.Time `json:"timeout_until,omitzero"`
}

// ActionKind names an operator action.
type ActionKind string

// The operator actions, shared by the console, the admin API
// (POST /api/admin/actions) and the web page's admin mode.
const (
	ActionKick         ActionKind = "kick"          // Stream, Target = viewer id
	ActionMaxViewers   ActionKind = "max_viewers"   // Value = limit, 0 = unlimited
	ActionCaptureStart ActionKind = "capture_start" // Stream, Target = viewer id
	ActionCaptureStop  ActionKind = "capture_stop"  // Stream, Target = viewer id
	ActionChatDelete   ActionKind = "chat_delete"   // Stream, Target = message id
	ActionChatBan      ActionKind = "chat_ban"      // Stream, Target = user; Seconds 0 = until unbanned
	ActionChatUnban    ActionKind = "chat_unban"    // Stream, Target = user
	ActionChatTimeout  ActionKind = "chat_timeout"  // Stream, Target = user, Seconds
	ActionChatSlow     ActionKind = "chat_slow"     // Stream, Seconds (0 = off)
	ActionChatOn       ActionKind = "chat_on"       // Stream
	ActionChatOff      ActionKind = "chat_off"      // Stream
	ActionChatClear    ActionKind = "chat_clear"    // Stream
)

// Action is one operator action. Fields not used by Kind are ignored.
type Action struct {
	Kind    ActionKind `json:"kind"`
	Stream  string     `json:"stream,omitempty"`
	Target  string     `json:"target,omitempty"`
	Seconds int        `json:"seconds,omitempty"`
	Value   int        `json:"value,omitempty"`
	// By names who acted, for the server log and the chat log
	// ("console", "web", "api"); never a token.
	By string `json:"by,omitempty"`
}

// EventKind classifies a discrete event.
type EventKind string

// Events the server publishes to consoles (in process, or over
// GET /api/admin/events as server-sent events).
const (
	EventChat   EventKind = "chat"  // a chat message (Chat set)
	EventJoin   EventKind = "join"  // a viewer joined
	EventLeave  EventKind = "leave" // a viewer left
	EventLive   EventKind = "live"  // a publisher started
	EventOff    EventKind = "offline"
	EventAction EventKind = "action" // an operator action was applied
	EventAlert  EventKind = "alert"  // something the operator should look at
)

// Event is one discrete happening. Delivery is best effort: a slow consumer
// loses the oldest events, never blocks the server.
type Event struct {
	Time   time.Time    `json:"time"`
	Kind   EventKind    `json:"kind"`
	Stream string       `json:"stream,omitempty"`
	Level  string       `json:"level,omitempty"` // "info", "warn", "error"
	Text   string       `json:"text"`
	Chat   *ChatMessage `json:"chat,omitempty"`
}

// ValidStreamName reports whether s may name a stream: 1–64 characters of
// A–Z a–z 0–9 _ -. Names end up in URLs and in dump and chat-log directory
// names, so no dots, slashes or spaces.
func ValidStreamName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
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
