package tui

import (
	"fmt"
	"strings"

	"github.com/bcastdev/bcast/server/status"
	"github.com/charmbracelet/x/ansi"
)

// headerHeight is the title bar plus three lines about the selected stream.
const headerHeight = 4

// header shows who the console is attached to and the selected stream's
// ingest: is the streamer there, what does it send, and is it arriving
// intact.
type header struct {
	st       *styles
	width    int
	title    string
	readOnly bool

	snap    *status.Snapshot // nil until the first snapshot
	connErr string           // why the last snapshot failed, "" when connected
	index   int              // selected stream in snap.Streams, -1 for none
	hist    *streamHistory
}

func (h *header) SetSize(w, _ int) { h.width = w }

// set gives the header the data of one frame.
func (h *header) set(snap *status.Snapshot, connErr string, index int, hist *streamHistory) {
	h.snap, h.connErr, h.index, h.hist = snap, connErr, index, hist
}

func (h *header) View() string {
	lines := []string{h.titleBar()}
	lines = append(lines, h.streamLines()...)
	return strings.Join(block(lines, h.width, headerHeight), "\n")
}

// titleBar is the console title, the server version and uptime on the left
// and the connection state on the right.
func (h *header) titleBar() string {
	st := h.st
	left := " " + h.title + " "
	var info []string
	if h.snap != nil {
		if h.snap.Version != "" {
			info = append(info, "bcast "+h.snap.Version)
		}
		if !h.snap.Started.IsZero() {
			info = append(info, "up "+formatDuration(h.snap.Time.Sub(h.snap.Started)))
		}
		info = append(info, plural(len(h.snap.Streams), "stream"))
	}
	if h.readOnly {
		info = append(info, "read-only")
	}
	mid := " " + strings.Join(info, " · ") + " "

	var right string
	switch {
	case h.connErr != "":
		right = st.Bad.Render(" disconnected: " + h.connErr + " ")
	case h.snap == nil:
		right = st.Warn.Render(" connecting… ")
	default:
		right = st.OK.Render(" ● connected ")
	}
	rw := ansi.StringWidth(right)
	lw := h.width - rw
	if lw < 20 { // a long error eats the title otherwise
		right = ansi.Truncate(right, max(h.width-20, 0), ellipsis)
		lw = h.width - ansi.StringWidth(right)
	}
	bar := st.Title.Render(left) + st.TitleBar.Render(fit(mid, max(lw-ansi.StringWidth(left), 0)))
	return fit(bar, lw) + right
}

// streamLines are identity and state, media facts and health, and the
// ingest bitrates with their recent history.
func (h *header) streamLines() []string {
	st := h.st
	if h.snap == nil {
		return nil
	}
	if h.index < 0 || h.index >= len(h.snap.Streams) {
		return []string{st.Muted.Render("no streams yet: publish with WHIP to /api/whip/<name>")}
	}
	s := &h.snap.Streams[h.index]
	label := st.Muted.Render
	name := st.Strong.Render(s.Name)
	if n := len(h.snap.Streams); n > 1 {
		name += label(fmt.Sprintf(" (%d/%d)", h.index+1, n))
	}

	if !s.Live {
		l1 := join("  ", name, st.Offline.Render("OFFLINE"), "no streamer",
			label(fmt.Sprintf("%d viewers waiting", s.Viewers)))
		return []string{l1, label("waiting for a streamer on /api/whip/" + s.Name), ""}
	}

	var who string
	if p := s.Publisher; p != nil {
		who = join(" ", label("from"), p.Remote, label(p.State))
		if p.Problem != "" {
			who += " " + st.Bad.Render("! "+p.Problem)
		}
	}
	l1 := join("  ", name,
		st.Live.Render("● LIVE")+" "+formatDuration(durationSeconds(s.UptimeSeconds)),
		who,
		fmt.Sprintf("%d %s", s.Viewers, label("viewers")),
		h.joinsPart(s.Joins))

	return []string{l1, h.mediaLine(s), h.rateLine(s)}
}

// joinsPart shows what viewers who joined in the last minute waited: for
// the connection, then for their picture. A slow first frame that the
// keyframe interval explains (an encoder that ignores PLI) reads the same
// as one the server causes, so the interval is beside it on the next line.
func (h *header) joinsPart(j *status.Joins) string {
	if j == nil {
		return ""
	}
	label := h.st.Muted.Render
	var p []string
	if j.Count > 0 {
		p = append(p, label("join p95")+" "+formatMS(j.JoinP95MS))
	}
	if j.FirstFrameP95MS > 0 {
		p = append(p, label("first frame p95")+" "+formatMS(j.FirstFrameP95MS))
	}
	return strings.Join(p, label(" · "))
}

// mediaLine shows what the streamer sends and how it arrives.
func (h *header) mediaLine(s *status.Stream) string {
	st := h.st
	label := st.Muted.Render
	var parts []string
	if v := s.Video; v != nil {
		p := []string{st.Strong.Render(v.Codec)}
		if v.Width > 0 {
			p = append(p, fmt.Sprintf("%dx%d", v.Width, v.Height))
		}
		if v.FPS > 0 {
			p = append(p, formatFPS(v.FPS))
		}
		if v.KeyframeInterval > 0 {
			p = append(p, label("kf")+" "+fmt.Sprintf("%.1f s", v.KeyframeInterval))
		}
		parts = append(parts, strings.Join(p, " "))
	}
	if a := s.Audio; a != nil {
		parts = append(parts, st.Strong.Render(a.Codec))
	}

	lost, pkts := ingestCounters(s)
	rate := lossFraction(lost, pkts)
	if h.hist != nil && h.hist.haveCounters {
		rate = h.hist.lossRate
	}
	var jitter float64
	var nacks, plis uint64
	for _, m := range []*status.Media{s.Video, s.Audio} {
		if m != nil {
			jitter = max(jitter, m.JitterMS)
			nacks += m.NACKsSent
			plis += m.PLIsSent
		}
	}
	health := join(" ",
		label("loss"), st.health(100*rate, 100*ingestLossClean, 100*ingestLossBad).Render(formatPercent(100*rate)),
		label("jitter"), st.health(jitter, 30, 100).Render(formatMS(jitter)),
		label("NACK"), formatCount(nacks),
		label("PLI"), formatCount(plis))
	parts = append(parts, health)
	return strings.Join(parts, label(" │ "))
}

// rateLine shows the ingest bitrates with sparklines sharing what width is
// left, two thirds for video.
func (h *header) rateLine(s *status.Stream) string {
	st := h.st
	label := st.Muted.Render
	v := label("in video ") + cell(formatBitrate(bitrate(s.Video)), 9, true)
	a := label("audio ") + cell(formatBitrate(bitrate(s.Audio)), 9, true)
	free := h.width - ansi.StringWidth(v) - ansi.StringWidth(a) - 4
	if h.hist == nil || free < 6 {
		return v + "  " + a
	}
	// Each sparkline is as wide as its history, so a young console does not
	// push the audio rate to the far right.
	vw := min(free*2/3, h.hist.video.n)
	aw := min(free-vw, h.hist.audio.n)
	vs := st.SparkVideo.Render(sparkline(&h.hist.video, vw))
	as := st.SparkAudio.Render(sparkline(&h.hist.audio, aw))
	return v + " " + vs + "  " + a + " " + as
}
