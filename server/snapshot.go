package server

import (
	"math"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/bcastdev/bcast/server/status"
	"github.com/bcastdev/bcast/sysinfo"
	"github.com/bcastdev/bcast/udpbatch"
)

// sysSampler keeps the process and machine figures that need two readings
// (CPU shares, bitrates). Housekeeping refreshes it once a second, so a
// snapshot is a copy, whatever the number of consoles polling.
type sysSampler struct {
	mu       sync.Mutex
	cur      status.System
	lastCPU  sysinfo.CPUTicks
	lastUDP  udpbatch.Stats
	dumpScan time.Time
}

// sampleSystem refreshes the figures; processCPU is the share computed for the
// metrics timeline in the same tick.
func (s *Server) sampleSystem(now time.Time, processCPU float64, fds int, egressBPS int64) {
	ss := &s.sys
	machine := sysinfo.MachineCPU()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	c := &ss.cur
	if ss.lastCPU.Total > 0 {
		c.MachineCPUPercent = machine.Percent(ss.lastCPU)
	}
	ss.lastCPU = machine
	c.ProcessCPUPercent = processCPU
	c.Cores = runtime.NumCPU()
	c.RSSBytes = sysinfo.RSS()
	c.Goroutines = runtime.NumGoroutine()
	c.FDs = fds
	c.FDLimit = int(min(sysinfo.FDLimit(), math.MaxInt32))
	c.EgressBPS = egressBPS
	udp := s.tr.batch.Stats()
	if udp.Sends > ss.lastUDP.Sends {
		sends := udp.Sends - ss.lastUDP.Sends
		c.UDPDatagramsPerSend = float64(udp.Datagrams-ss.lastUDP.Datagrams) / float64(sends)
	} else {
		c.UDPDatagramsPerSend = 0
	}
	c.UDPGSO, c.UDPSendErrors = udp.GSO, udp.Errors
	ss.lastUDP = udp
	c.DumpDir = s.cfg.DumpDir
	// Retention scans the dump tree: every few seconds is plenty for a
	// figure that changes by one segment every few minutes.
	if s.dumps != nil && now.Sub(ss.dumpScan) >= 5*time.Second {
		ds := s.dumps.Stats()
		c.DumpBytes, c.DumpFreeBytes, c.DumpError = ds.Bytes, ds.FreeBytes, ds.LastError
		if !ds.LastErrorAt.IsZero() && now.Sub(ds.LastErrorAt) > time.Minute {
			c.DumpError = "" // recovered: the last failure is old news
		}
		ss.dumpScan = now
	}
}

// Snapshot returns everything the operator console shows: system figures,
// and every stream with its publisher, dump, viewers and chat. It copies
// counters; nothing on the media path waits for it.
func (s *Server) Snapshot() status.Snapshot {
	s.sys.mu.Lock()
	sys := s.sys.cur
	s.sys.mu.Unlock()
	sys.Viewers = int(s.viewers.Load())
	sys.MaxViewers = int(s.maxViewers.Load())
	snap := status.Snapshot{Time: time.Now(), Version: s.version, Started: s.started, System: sys}

	list := s.streamList()
	for _, st := range list {
		out := st.status(true)
		out.ViewerList = st.viewerList()
		out.Chat = s.chat.State(st.name)
		snap.Streams = append(snap.Streams, out)
	}
	// Streams that only have a chat room (chatters on the page, no WebRTC
	// session yet) still appear, so their chat can be moderated.
	for _, name := range s.chat.Rooms() {
		if s.getStream(name, false) == nil {
			snap.Streams = append(snap.Streams, status.Stream{Name: name, Chat: s.chat.State(name)})
		}
	}
	sort.Slice(snap.Streams, func(i, j int) bool { return snap.Streams[i].Name < snap.Streams[j].Name })
	return snap
}

// viewerList is the admin view of every viewer, ordered by number.
func (st *stream) viewerList() []status.Viewer {
	st.mu.Lock()
	vs := make([]*viewer, 0, len(st.viewers))
	for _, v := range st.viewers {
		vs = append(vs, v)
	}
	st.mu.Unlock()
	out := make([]status.Viewer, 0, len(vs))
	for _, v := range vs {
		out = append(out, v.status())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Num < out[j].Num })
	return out
}
