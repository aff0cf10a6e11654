package tui

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/bcastdev/bcast/server/status"
)

// systemHeight is one line for the process and one for the dump.
const systemHeight = 2

// Thresholds of the system line's colours.
const (
	cpuWarn       = 70        // percent of the machine, or of all cores for the process
	cpuBad        = 90        //
	diskWarn      = 2 << 30   // free dump disk bytes below which the disk warns
	diskBad       = 512 << 20 //
	fdBadHeadroom = 0.95      // fraction of the fd limit in use that is bad
)

// system shows the resources that end a broadcast when they run out: CPU,
// memory, file descriptors (one or more per viewer), egress bandwidth and
// the dump disk.
type system struct {
	st     *styles
	width  int
	snap   *status.Snapshot
	stream *status.Stream // selected stream, for its dump; may be nil
	egress *ring
}

func (s *system) SetSize(w, _ int) { s.width = w }

func (s *system) set(snap *status.Snapshot, stream *status.Stream, egress *ring) {
	s.snap, s.stream, s.egress = snap, stream, egress
}

func (s *system) View() string {
	if s.snap == nil {
		return strings.Join(block(nil, s.width, systemHeight), "\n")
	}
	return strings.Join(block([]string{s.processLine(), s.dumpLine()}, s.width, systemHeight), "\n")
}

// processLine puts what runs out first first, so that a narrow terminal
// cuts the least useful numbers.
func (s *system) processLine() string {
	st, sys := s.st, &s.snap.System
	label := st.Muted.Render
	cores := max(sys.Cores, 1)
	cpu := join(" ", label("cpu"),
		st.health(sys.ProcessCPUPercent/float64(cores), cpuWarn, cpuBad).Render(formatPercent(sys.ProcessCPUPercent)),
		label("host"),
		st.health(sys.MachineCPUPercent, cpuWarn, cpuBad).Render(formatPercent(sys.MachineCPUPercent)),
		label(fmt.Sprintf("%d cores", sys.Cores)))
	fdStyle := st.OK
	if sys.FDLimit > 0 {
		fdStyle = st.health(float64(sys.FDs)/float64(sys.FDLimit), fdHeadroomLow, fdBadHeadroom)
	}
	out := label("out") + " " + formatBitrate(sys.EgressBPS)
	if s.egress != nil && s.egress.n > 0 {
		out += " " + st.SparkOut.Render(sparkline(s.egress, min(s.egress.n, 20)))
	}
	return join("  ", cpu,
		label("rss")+" "+formatBytes(sys.RSSBytes),
		label("fds")+" "+fdStyle.Render(fmt.Sprintf("%d/%d", sys.FDs, sys.FDLimit)),
		out,
		udpPart(st, sys),
		label("goroutines")+" "+fmt.Sprint(sys.Goroutines))
}

// udpPart says how well the sockets batch (datagrams per system call, ~5
// for video with GSO) and whether the kernel refuses datagrams; empty
// before the first sends.
func udpPart(st *styles, sys *status.System) string {
	if sys.UDPDatagramsPerSend <= 0 && sys.UDPSendErrors == 0 {
		return ""
	}
	s := st.Muted.Render("udp") + " " + fmt.Sprintf("%.1f/call", sys.UDPDatagramsPerSend)
	if !sys.UDPGSO {
		s += " " + st.Warn.Render("no GSO")
	}
	if sys.UDPSendErrors > 0 {
		s += " " + st.Bad.Render(formatCount(sys.UDPSendErrors)+" refused")
	}
	return s
}

// dumpLine leads with errors and drops, then the disk, then the segment.
func (s *system) dumpLine() string {
	st, sys := s.st, &s.snap.System
	label := st.Muted.Render
	var parts []string
	if sys.DumpError != "" {
		parts = append(parts, st.Bad.Render("! "+sys.DumpError))
	}
	d := s.streamDump()
	if d != nil && d.Error != "" && d.Error != sys.DumpError {
		parts = append(parts, st.Bad.Render("! "+d.Error))
	}
	if d != nil {
		drops := st.OK
		if d.Dropped > 0 {
			drops = st.Warn
		}
		parts = append(parts, formatByteRate(d.BytesPerSecond), label("drops")+" "+drops.Render(formatCount(d.Dropped)))
	}
	if sys.DumpDir != "" {
		free := st.OK
		switch {
		case sys.DumpFreeBytes < diskBad:
			free = st.Bad
		case sys.DumpFreeBytes < diskWarn:
			free = st.Warn
		}
		parts = append(parts,
			label("free")+" "+free.Render(formatBytes(sys.DumpFreeBytes)),
			label("kept")+" "+formatBytes(uint64(max(sys.DumpBytes, 0))))
	}
	switch {
	case d != nil:
		parts = append(parts, label("segment")+" "+formatBytes(uint64(max(d.SegmentBytes, 0)))+" "+filepath.Base(d.Segment))
	case sys.DumpDir == "":
		parts = append(parts, label("off"))
	default:
		parts = append(parts, label("idle"))
	}
	return label("dump") + " " + strings.Join(parts, "  ")
}

func (s *system) streamDump() *status.Dump {
	if s.stream == nil {
		return nil
	}
	return s.stream.Dump
}
