// Package inspect summarises captures — bcast's own dumps or any pcap/pcapng
// of plain RTP over UDP — into per-file and per-RTP-stream facts for
// `bcast dump ls` and `bcast dump info`.
package inspect

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/pion/rtp"

	"github.com/bcastdev/bcast/dump"
	"github.com/bcastdev/bcast/rtpstats"
)

// File is one capture file.
type File struct {
	Path    string    `json:"path"`
	Kind    string    `json:"kind"`             // KindDump, or a log kind (KindChat, …)
	Stream  string    `json:"stream,omitempty"` // directory name for bcast dumps
	Leg     string    `json:"leg,omitempty"`    // interface name (ingest, viewer-…)
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Size    int64     `json:"size"`
	Packets uint64    `json:"packets"` // UDP packets
	RTCP    uint64    `json:"rtcp"`
	Skipped int       `json:"skipped"`           // non-UDP or undecodable frames
	Dropped uint64    `json:"dropped,omitempty"` // packets the writer could not store (interface statistics)
	Lines   int       `json:"lines,omitempty"`   // logs: JSON lines or log lines
	Err     string    `json:"error,omitempty"`   // a corrupt block stopped the read here
}

// Stream is one RTP stream (one SSRC from one source address).
type Stream struct {
	rtpstats.Stats
	Leg  string `json:"leg,omitempty"`
	From string `json:"from"`
	To   string `json:"to"`
}

// Report is what a set of captures holds.
type Report struct {
	Files   []File   `json:"files"`
	Streams []Stream `json:"streams"`
	// SSRCChanges counts, per media kind and source, how often a new SSRC
	// appeared after the first: an encoder or streamer restart.
	SSRCChanges map[string]int `json:"ssrc_changes,omitempty"`
}

// Expand turns directories into the capture files below them, oldest name
// first (bcast names segments by their UTC start time).
func Expand(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			out = append(out, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			switch strings.ToLower(filepath.Ext(path)) {
			case ".pcapng", ".pcap", ".cap":
				if !d.IsDir() {
					out = append(out, path)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if filepath.Dir(out[i]) != filepath.Dir(out[j]) {
			return filepath.Dir(out[i]) < filepath.Dir(out[j])
		}
		return filepath.Base(out[i]) < filepath.Base(out[j])
	})
	return out, nil
}

type streamKey struct {
	src  netip.AddrPort
	ssrc uint32
}

// Analyze reads every packet of the files (in the given order) and
// summarises them. sdpOverride, when set, maps payload types for captures
// that carry no SDP of their own.
func Analyze(files []string, sdpOverride string) (*Report, error) {
	rep := &Report{SSRCChanges: map[string]int{}}
	trackers := map[streamKey]*Stream{}
	tr := map[streamKey]*rtpstats.Tracker{}
	var order []streamKey
	firstSSRC := map[string]uint32{}
	var pkt rtp.Header
	for _, path := range files {
		f, err := analyzeFile(path, func(r *dump.Reader, p dump.Packet) {
			if p.RTCP || len(p.Payload) < 12 || p.Payload[0]>>6 != 2 {
				return
			}
			n, err := pkt.Unmarshal(p.Payload)
			if err != nil {
				return
			}
			k := streamKey{p.Src, pkt.SSRC}
			t := tr[k]
			if t == nil {
				desc := sdpOverride
				leg := ""
				if ifs := r.Interfaces(); p.Interface < len(ifs) {
					if desc == "" {
						desc = ifs[p.Interface].Description
					}
					leg = ifs[p.Interface].Name
				}
				pt := PayloadTypes(desc)[pkt.PayloadType]
				t = rtpstats.New(pkt.SSRC, pkt.PayloadType, pt.Codec, pt.ClockRate)
				tr[k] = t
				trackers[k] = &Stream{Leg: leg, From: p.Src.String(), To: p.Dst.String()}
				order = append(order, k)
				kind := pt.Kind
				if kind == "" {
					kind = fmt.Sprintf("pt%d", pkt.PayloadType)
				}
				id := leg + " " + p.Src.String() + " " + kind
				if prev, ok := firstSSRC[id]; ok && prev != pkt.SSRC {
					rep.SSRCChanges[id]++
				} else if !ok {
					firstSSRC[id] = pkt.SSRC
				}
			}
			end := len(p.Payload)
			if pkt.Padding && end > n {
				end -= int(p.Payload[end-1])
			}
			if end < n {
				end = n
			}
			t.Add(p.Time, &pkt, p.Payload[n:end])
		})
		rep.Files = append(rep.Files, f)
		if err != nil {
			return rep, err
		}
	}
	for _, k := range order {
		s := trackers[k]
		s.Stats = tr[k].Stats()
		rep.Streams = append(rep.Streams, *s)
	}
	return rep, nil
}

// analyzeFile reads one capture, calling fn for each UDP packet.
func analyzeFile(path string, fn func(*dump.Reader, dump.Packet)) (File, error) {
	f := File{Path: path, Kind: KindDump}
	if fi, err := os.Stat(path); err == nil {
		f.Size = fi.Size()
	}
	if dir := filepath.Base(filepath.Dir(path)); dir != "." && dir != "/" {
		f.Stream = dir
	}
	r, err := dump.Open(path)
	if err != nil {
		return f, err // names the file already
	}
	defer r.Close()
	for {
		p, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			f.Err = err.Error()
			break
		}
		if f.Packets == 0 {
			f.Start = p.Time
		}
		f.End = p.Time
		f.Packets++
		if p.RTCP {
			f.RTCP++
		}
		fn(r, p)
	}
	f.Skipped = r.Skipped()
	for _, i := range r.Interfaces() {
		if f.Leg == "" {
			f.Leg = i.Name
		}
		f.Dropped += i.Dropped
	}
	if f.Leg != "ingest" && !strings.HasPrefix(f.Leg, "viewer-") {
		f.Stream = "" // not a bcast dump: the directory name means nothing
	}
	return f, nil
}
