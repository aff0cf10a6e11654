package tui

import (
	"fmt"
	"slices"

	"github.com/bcastdev/bcast/server/status"
)

// Thresholds of the derived alerts. Loss thresholds follow what a viewer
// notices: below half a percent NACKs repair it, above two percent frames
// start to freeze.
const (
	ingestLossBad   = 0.02  // ingest loss fraction that points at the streamer's side
	ingestLossClean = 0.005 // ingest loss fraction below which the ingest counts as clean
	viewerLossBad   = 2.0   // viewer RR loss percent that counts as lossy
	egressMinLossy  = 3     // lossy viewers needed before blaming the server/egress
	viewerListMax   = 3     // lossy viewers named one by one before aggregating
	fdHeadroomLow   = 0.8   // fraction of RLIMIT_NOFILE in use that warns
)

// Levels of log lines and alerts, the same words status.Event uses.
const (
	levelInfo  = "info"
	levelWarn  = "warn"
	levelError = "error"
)

// alert is one condition worth the operator's attention, derived by the
// console from two snapshots.
type alert struct {
	// Key names the condition, not its numbers, so that the log shows an
	// alert once while it lasts instead of once per poll.
	Key    string
	Level  string
	Stream string
	Text   string
}

// deriveAlerts compares two snapshots taken about a second apart (prev may
// be nil for the first one) and returns the conditions that hold in cur.
// It is the console's own diagnosis, kept pure so that every rule is a row in
// a table test: which leg loses packets decides whom to call — the streamer
// (ingest loss), the server (most viewers lose while the ingest is clean) or
// nobody (one viewer's own network).
func deriveAlerts(prev, cur *status.Snapshot) []alert {
	var out []alert
	add := func(key, level, stream, format string, args ...any) {
		out = append(out, alert{Key: key, Level: level, Stream: stream, Text: fmt.Sprintf(format, args...)})
	}

	for i := range cur.Streams {
		st := &cur.Streams[i]
		var was *status.Stream
		if prev != nil {
			was = findStream(prev.Streams, st.Name)
		}
		if was != nil && was.Live && !st.Live {
			add("lost:"+st.Name, levelError, st.Name, "streamer lost (was live for %s)",
				formatDuration(durationSeconds(was.UptimeSeconds)))
		}

		ingest := -1.0 // unknown without two comparable samples
		if was != nil && was.Live && st.Live {
			l0, p0 := ingestCounters(was)
			l1, p1 := ingestCounters(st)
			if l1 >= l0 && p1 >= p0 {
				ingest = lossFraction(l1-l0, p1-p0)
			}
		}
		if ingest > ingestLossBad {
			add("ingest-loss:"+st.Name, levelWarn, st.Name,
				"ingest loss %s: streamer side (upstream of bcast)", formatPercent(100*ingest))
		}
		if st.Live && ingest >= 0 && ingest < ingestLossClean {
			out = append(out, viewerLossAlerts(st)...)
		}

		if d := st.Dump; d != nil {
			if d.Error != "" {
				add("dump-error:"+st.Name+":"+d.Error, levelError, st.Name, "dump: %s", d.Error)
			}
			if was != nil && was.Dump != nil && d.Dropped > was.Dump.Dropped {
				add("dump-drops:"+st.Name, levelWarn, st.Name,
					"dump dropped %d packets (queue full or disk slow)", d.Dropped-was.Dump.Dropped)
			}
		}
	}
	if prev != nil {
		for i := range prev.Streams {
			was := &prev.Streams[i]
			if was.Live && findStream(cur.Streams, was.Name) == nil {
				add("lost:"+was.Name, levelError, was.Name, "streamer lost (stream removed)")
			}
		}
	}

	sys := &cur.System
	if sys.DumpError != "" {
		add("dump-error::"+sys.DumpError, levelError, "", "dump: %s", sys.DumpError)
	}
	if sys.FDLimit > 0 && float64(sys.FDs) > fdHeadroomLow*float64(sys.FDLimit) {
		add("fd", levelWarn, "", "file descriptors %d/%d (%s): headroom low, joins will fail at the limit",
			sys.FDs, sys.FDLimit, formatPercent(100*float64(sys.FDs)/float64(sys.FDLimit)))
	}
	if prev != nil && sys.UDPSendErrors > prev.System.UDPSendErrors {
		add("udp-errors", levelWarn, "", "kernel refused %d datagrams to viewers (socket buffers full or network down): viewers lose packets",
			sys.UDPSendErrors-prev.System.UDPSendErrors)
	}
	if sys.MaxViewers > 0 && sys.Viewers >= sys.MaxViewers {
		add("limit", levelWarn, "", "viewer limit reached (%d/%d): new viewers are refused", sys.Viewers, sys.MaxViewers)
	}
	return out
}

// viewerLossAlerts attributes viewer-side loss while the ingest is clean:
// when most viewers lose packets the common path (bcast, its host, its
// uplink) is at fault; when a few do, their own networks are.
func viewerLossAlerts(st *status.Stream) []alert {
	var lossy []*status.Viewer
	for i := range st.ViewerList {
		if st.ViewerList[i].LossPercent > viewerLossBad {
			lossy = append(lossy, &st.ViewerList[i])
		}
	}
	n := len(st.ViewerList)
	switch {
	case len(lossy) == 0:
		return nil
	case len(lossy) >= egressMinLossy && 2*len(lossy) >= n:
		return []alert{{
			Key: "egress-loss:" + st.Name, Level: levelError, Stream: st.Name,
			Text: fmt.Sprintf("%d of %d viewers lose > %s while ingest is clean: server/egress side",
				len(lossy), n, formatPercent(viewerLossBad)),
		}}
	case len(lossy) > viewerListMax:
		return []alert{{
			Key: "viewers-loss:" + st.Name, Level: levelInfo, Stream: st.Name,
			Text: fmt.Sprintf("%d of %d viewers lose > %s while ingest is clean: their networks",
				len(lossy), n, formatPercent(viewerLossBad)),
		}}
	}
	out := make([]alert, 0, len(lossy))
	for _, v := range lossy {
		out = append(out, alert{
			Key: "viewer-loss:" + st.Name + ":" + v.ID, Level: levelInfo, Stream: st.Name,
			Text: fmt.Sprintf("viewer #%d %s loses %s while ingest is clean: their network",
				v.Num, v.Remote, formatPercent(v.LossPercent)),
		})
	}
	return out
}

func findStream(streams []status.Stream, name string) *status.Stream {
	i := slices.IndexFunc(streams, func(s status.Stream) bool { return s.Name == name })
	if i < 0 {
		return nil
	}
	return &streams[i]
}

// alertHold is how many evaluations (about seconds) a condition must be
// absent before it may be logged again; statistics refreshed once a second
// make a threshold flicker, and a flickering alert would flood the log.
const alertHold = 5

// alertTracker turns the conditions that hold into the ones that are new.
type alertTracker struct {
	absent map[string]int // key → evaluations since last seen
}

// fresh returns the alerts whose condition was not already active, and ages
// the ones that no longer hold.
func (t *alertTracker) fresh(alerts []alert) []alert {
	if t.absent == nil {
		t.absent = make(map[string]int)
	}
	for k := range t.absent {
		t.absent[k]++
	}
	var out []alert
	for _, a := range alerts {
		if _, active := t.absent[a.Key]; !active {
			out = append(out, a)
		}
		t.absent[a.Key] = 0
	}
	for k, n := range t.absent {
		if n > alertHold {
			delete(t.absent, k)
		}
	}
	return out
}
