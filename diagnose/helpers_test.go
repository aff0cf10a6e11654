package diagnose

import (
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/bcastdev/bcast/dump"
	"github.com/bcastdev/bcast/inspect"
)

// Test legs are built from the corpus (real packetizers, see
// testdata/corpus/README.md): a capture is read into packets, optionally
// rewritten the way the SFU rewrites a viewer's leg, faults are injected on
// either leg, and each leg is written as a pcapng file with its SDP, the
// way the server dumps it.

// tpkt is one packet of a test leg.
type tpkt struct {
	at   time.Time
	rtcp []byte // RTCP compound, or nil for RTP
	p    rtp.Packet
	kind string // "video" or "audio" (RTP)
}

// tleg is a leg under construction.
type tleg struct {
	sdp  string
	pkts []tpkt
}

const (
	vPT, aPT = 96, 111 // the corpus's payload types
	cvoIn    = 3       // video-orientation ID on test ingest legs
)

// loadCorpus reads testdata/corpus/NAME.pcapng with its SDP, as an ingest
// leg: every video packet gets a video-orientation element (0°) under ID 3,
// declared in the SDP, so that orientation faults can be injected.
func loadCorpus(t testing.TB, name string) *tleg {
	t.Helper()
	sdp, err := os.ReadFile(filepath.Join("testdata", "corpus", name+".sdp"))
	if err != nil {
		t.Fatal(err)
	}
	l := &tleg{sdp: addExtmap(string(sdp), cvoIn)}
	r, err := dump.Open(filepath.Join("testdata", "corpus", name+".pcapng"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for {
		p, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.RTCP {
			continue // ffmpeg's sender reports: not what the server would dump
		}
		var q rtp.Packet
		if err := q.Unmarshal(p.Payload); err != nil {
			t.Fatal(err)
		}
		q = *q.Clone()
		kind := "audio"
		if q.PayloadType == vPT {
			kind = "video"
			_ = q.SetExtension(cvoIn, []byte{0})
		}
		l.pkts = append(l.pkts, tpkt{at: p.Time, p: q, kind: kind})
	}
	return l
}

// addExtmap declares video-orientation under id in the video section.
func addExtmap(sdp string, id int) string {
	line := "a=extmap:" + itoa(id) + " urn:3gpp:video-orientation\r\n"
	i := strings.Index(sdp, "m=video")
	if i < 0 {
		return sdp
	}
	j := strings.Index(sdp[i:], "\n")
	return sdp[:i+j+1] + line + sdp[i+j+1:]
}

func itoa(i int) string { return strconv.Itoa(i) }

func (l *tleg) clone() *tleg {
	c := &tleg{sdp: l.sdp, pkts: make([]tpkt, len(l.pkts))}
	for i, p := range l.pkts {
		c.pkts[i] = p
		c.pkts[i].p = *p.p.Clone()
		c.pkts[i].rtcp = slices.Clone(p.rtcp)
	}
	return c
}

// sfu is what the server changes for one viewer.
type sfu struct {
	vSSRC, aSSRC uint32
	vPT, aPT     uint8
	cvo          uint8
	seqOff       uint16
	tsOff        uint32
	delay        time.Duration
}

var defaultSFU = sfu{vSSRC: 0xaaaa0001, aSSRC: 0xbbbb0002, vPT: 120, aPT: 109, cvo: 7, seqOff: 30000, tsOff: 123456789, delay: 30 * time.Millisecond}

var ptLine = regexp.MustCompile(`(?m)^(m=\w+ \d+ [A-Z/]+ )(\d+)|^(a=(?:rtpmap|fmtp):)(\d+)`)

// viewer makes the viewer leg of an ingest leg as the SFU does: another
// SSRC, payload type, sequence and timestamp offset and extension ID per
// viewer, payloads untouched, RTP only (the RTCP of a viewer leg is its own).
func (l *tleg) viewer(s sfu) *tleg {
	sdp := ptLine.ReplaceAllStringFunc(l.sdp, func(m string) string {
		m = strings.Replace(m, " "+itoa(vPT), " "+itoa(int(s.vPT)), 1)
		m = strings.Replace(m, " "+itoa(aPT), " "+itoa(int(s.aPT)), 1)
		m = strings.Replace(m, ":"+itoa(vPT), ":"+itoa(int(s.vPT)), 1)
		return strings.Replace(m, ":"+itoa(aPT), ":"+itoa(int(s.aPT)), 1)
	})
	sdp = strings.Replace(sdp, "a=extmap:"+itoa(cvoIn)+" ", "a=extmap:"+itoa(int(s.cvo))+" ", 1)
	v := &tleg{sdp: sdp}
	for _, p := range l.pkts {
		if p.rtcp != nil {
			continue
		}
		q := *p.p.Clone()
		cvo := q.GetExtension(cvoIn)
		q.Header.Extension, q.Header.Extensions = false, nil
		if cvo != nil {
			_ = q.SetExtension(s.cvo, cvo)
		}
		switch p.kind {
		case "video":
			q.SSRC, q.PayloadType = s.vSSRC, s.vPT
		default:
			q.SSRC, q.PayloadType = s.aSSRC, s.aPT
		}
		q.SequenceNumber += s.seqOff
		q.Timestamp += s.tsOff
		v.pkts = append(v.pkts, tpkt{at: p.at.Add(s.delay), p: q, kind: p.kind})
	}
	return v
}

// write writes the leg as the server would dump it, into its own directory,
// and returns the files.
func (l *tleg) write(t testing.TB, name string) []string {
	t.Helper()
	root := t.TempDir()
	st, err := dump.NewStore(dump.Options{Root: root, Queue: len(l.pkts) + 16})
	if err != nil {
		t.Fatal(err)
	}
	w, err := st.NewWriter(dump.Leg{Stream: "s", Name: name, SDP: l.sdp,
		Peer: netip.MustParseAddrPort("198.51.100.7:40000"), Server: netip.MustParseAddrPort("192.0.2.2:8189")})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range l.pkts {
		if p.rtcp != nil {
			w.WriteRTCP(dump.ToPeer, p.at, p.rtcp)
			continue
		}
		b, err := p.p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		w.WriteRTP(dump.FromPeer, p.at, b)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if s := w.Stats(); s.DroppedQueue != 0 {
		t.Fatalf("dump writer dropped %d packets", s.DroppedQueue)
	}
	_ = st.Close()
	files, err := inspect.Expand([]string{root})
	if err != nil || len(files) == 0 {
		t.Fatalf("%v %v", files, err)
	}
	return files
}

// nth returns the index in l.pkts of the i-th RTP packet of a kind.
func (l *tleg) nth(kind string, i int) int {
	for k, p := range l.pkts {
		if p.rtcp == nil && p.kind == kind {
			if i == 0 {
				return k
			}
			i--
		}
	}
	panic("no such packet")
}

// find returns the index of the first packet of a kind from the i-th on
// that satisfies ok.
func (l *tleg) find(kind string, from int, ok func(*tpkt) bool) int {
	for k := l.nth(kind, from); k < len(l.pkts); k++ {
		if p := &l.pkts[k]; p.rtcp == nil && p.kind == kind && ok(p) {
			return k
		}
	}
	panic("no such packet")
}

// Faults. Each edits a leg in place.
type fault func(l *tleg)

// drop removes n packets of a kind from the i-th: loss.
func drop(kind string, i, n int) fault {
	return func(l *tleg) {
		k := l.nth(kind, i)
		for range n {
			l.pkts = slices.Delete(l.pkts, k, k+1)
			for k < len(l.pkts) && (l.pkts[k].rtcp != nil || l.pkts[k].kind != kind) {
				k++
			}
		}
	}
}

// dropWhere removes the packets of a kind matching ok and renumbers the
// rest so that no sequence gap shows: what an SFU that filters packets
// without fixing up the stream does, and what DTX looks like.
func dropWhere(kind string, ok func(i int, p *tpkt) bool) fault {
	return func(l *tleg) {
		var out []tpkt
		var shift uint16
		i := 0
		for _, p := range l.pkts {
			if p.rtcp == nil && p.kind == kind {
				if ok(i, &p) {
					shift++
					i++
					continue
				}
				i++
				p.p.SequenceNumber -= shift
			}
			out = append(out, p)
		}
		l.pkts = out
	}
}

// edit changes the i-th packet of a kind.
func edit(kind string, i int, fn func(p *tpkt)) fault {
	return func(l *tleg) { fn(&l.pkts[l.nth(kind, i)]) }
}

// editFrom changes every packet of a kind from the i-th on.
func editFrom(kind string, i int, fn func(p *tpkt)) fault {
	return func(l *tleg) {
		for k := l.nth(kind, i); k < len(l.pkts); k++ {
			if p := &l.pkts[k]; p.rtcp == nil && p.kind == kind {
				fn(p)
			}
		}
	}
}

// editFromFrame changes every packet of a kind from the first frame that
// starts at or after the i-th packet (the packet after a marker bit).
func editFromFrame(kind string, i int, fn func(p *tpkt)) fault {
	return func(l *tleg) {
		k := l.find(kind, i, func(p *tpkt) bool { return p.p.Marker }) + 1
		for ; k < len(l.pkts); k++ {
			if p := &l.pkts[k]; p.rtcp == nil && p.kind == kind {
				fn(p)
			}
		}
	}
}

// dropFirst removes the first packet of a kind from the i-th on that
// satisfies ok, renumbering the rest so no sequence gap shows.
func dropFirst(kind string, i int, ok func(*tpkt) bool) fault {
	return func(l *tleg) {
		sn := l.pkts[l.find(kind, i, ok)].p.SequenceNumber
		dropWhere(kind, func(_ int, p *tpkt) bool { return p.p.SequenceNumber == sn })(l)
	}
}

// duplicate sends the i-th packet of a kind twice.
func duplicate(kind string, i int) fault {
	return func(l *tleg) {
		k := l.nth(kind, i)
		c := l.pkts[k]
		c.p = *c.p.Clone()
		c.at = c.at.Add(time.Millisecond)
		l.pkts = slices.Insert(l.pkts, k+1, c)
	}
}

// reorder delivers the i-th packet of a kind after the next one.
func reorder(kind string, i int) fault {
	return func(l *tleg) {
		a := l.nth(kind, i)
		b := l.nth(kind, i+1)
		l.pkts[a].at, l.pkts[b].at = l.pkts[b].at, l.pkts[a].at
		l.pkts[a], l.pkts[b] = l.pkts[b], l.pkts[a]
	}
}

// stall delays every packet from the i-th packet of a kind on by d: an
// arrival gap (the network or the sender stopped).
func stall(kind string, i int, d time.Duration) fault {
	return func(l *tleg) {
		k := l.nth(kind, i)
		for ; k < len(l.pkts); k++ {
			l.pkts[k].at = l.pkts[k].at.Add(d)
		}
	}
}

// feedback adds RTCP packets every interval from a time for a while.
func feedback(from, dur, every time.Duration, mk func(i int) rtcp.Packet) fault {
	return func(l *tleg) {
		t0 := l.pkts[0].at.Add(from)
		for i := 0; time.Duration(i)*every < dur; i++ {
			b, err := rtcp.Marshal([]rtcp.Packet{mk(i)})
			if err != nil {
				panic(err)
			}
			l.pkts = append(l.pkts, tpkt{at: t0.Add(time.Duration(i) * every), rtcp: b})
		}
		slices.SortStableFunc(l.pkts, func(a, b tpkt) int { return a.at.Compare(b.at) })
	}
}

// ssrcOf returns the SSRC of a kind's first packet.
func (l *tleg) ssrcOf(kind string) uint32 { return l.pkts[l.nth(kind, 0)].p.SSRC }

// splice appends other (another publisher: its own SSRC, sequence and
// timestamps) gap seconds after l ends.
func (l *tleg) splice(other *tleg, gap time.Duration) {
	shift := l.pkts[len(l.pkts)-1].at.Add(gap).Sub(other.pkts[0].at)
	for _, p := range other.clone().pkts {
		p.at = p.at.Add(shift)
		l.pkts = append(l.pkts, p)
	}
}

// sfuSwitch makes the viewer leg of a spliced ingest leg as the DownTrack
// does at a publisher change: one SSRC throughout, the sequence continuing
// from the last one sent and the timestamp advanced by the wall-clock gap
// (forward.DownTrack.rebase). from is the index where the second publisher
// starts.
func sfuSwitch(v *tleg, from int, clock uint32) {
	var last *tpkt
	for k := from - 1; k >= 0; k-- {
		if v.pkts[k].kind == "video" {
			last = &v.pkts[k]
			break
		}
	}
	var seqOff uint16
	var tsOff uint32
	set := false
	for k := from; k < len(v.pkts); k++ {
		p := &v.pkts[k]
		if p.kind != "video" {
			continue
		}
		if !set {
			seqOff = last.p.SequenceNumber + 1 - p.p.SequenceNumber
			tsOff = last.p.Timestamp + uint32(p.at.Sub(last.at).Seconds()*float64(clock)) - p.p.Timestamp
			set = true
		}
		p.p.SSRC = last.p.SSRC
		p.p.SequenceNumber += seqOff
		p.p.Timestamp += tsOff
	}
}

// rtxRepair makes the i-th packet of a kind arrive d later as an RFC 4588
// retransmission (payload type 97, its own SSRC, the original sequence
// number first), declaring RTX in the SDP: loss that a NACK repaired.
func rtxRepair(kind string, i int, d time.Duration) fault {
	return func(l *tleg) {
		sdp := strings.Replace(l.sdp, "RTP/AVP 96\r\n", "RTP/AVP 96 97\r\n", 1)
		sdp = strings.Replace(sdp, "a=rtpmap:96 H264/90000\r\n", "a=rtpmap:96 H264/90000\r\na=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n", 1)
		if len(sdp) != len(l.sdp)+len(" 97")+len("a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n") {
			panic("rtxRepair: not the H.264 corpus SDP")
		}
		l.sdp = sdp
		k := l.nth(kind, i)
		p := l.pkts[k]
		l.pkts = slices.Delete(l.pkts, k, k+1)
		r := tpkt{at: p.at.Add(d), kind: kind, p: *p.p.Clone()}
		r.p.Payload = append([]byte{byte(p.p.SequenceNumber >> 8), byte(p.p.SequenceNumber)}, p.p.Payload...)
		r.p.PayloadType, r.p.SSRC, r.p.SequenceNumber = 97, 0x55555555, 1
		l.pkts = append(l.pkts, r)
		slices.SortStableFunc(l.pkts, func(a, b tpkt) int { return a.at.Compare(b.at) })
	}
}

// late makes the i-th packet of a kind arrive d later, as a server
// forwards a packet it got late.
func late(kind string, i int, d time.Duration) fault {
	return func(l *tleg) {
		l.pkts[l.nth(kind, i)].at = l.pkts[l.nth(kind, i)].at.Add(d)
		slices.SortStableFunc(l.pkts, func(a, b tpkt) int { return a.at.Compare(b.at) })
	}
}
