package litepeer

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unique"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/bcastdev/bcast/codec"
	"github.com/bcastdev/bcast/dtlssrtp"
)

// Capabilities are what a peer can send, per media kind.
type Capabilities struct {
	// Codecs in order of preference; payload types are ignored, the
	// offer's are used (RFC 3264 §6.1). RTCPFeedback lists the feedback
	// the sender acts on (nack, nack pli, ccm fir).
	Codecs map[webrtc.RTPCodecType][]webrtc.RTPCodecParameters
	// Extensions are the header extension URIs the sender can write.
	Extensions map[webrtc.RTPCodecType][]string
}

// Media is one negotiated send-only section of the session.
type Media struct {
	Kind   webrtc.RTPCodecType
	Mid    string
	SSRC   uint32
	Codecs []webrtc.RTPCodecParameters // the offer's payload types and fmtp
	Exts   []webrtc.RTPHeaderExtensionParameter
}

// remoteParams is what the answer takes from the offer for the transport.
type remoteParams struct {
	ufrag, pwd string
	fp         dtlssrtp.Fingerprint
	dtlsServer bool // we are the DTLS server (a=setup:passive in our answer)
}

// ErrOffer is wrapped by every error about the offer's content: the
// caller answers 400 with the message.
var ErrOffer = errors.New("SDP offer")

func offerError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrOffer, fmt.Sprintf(format, args...))
}

// session is a negotiated offer: what the answer says and what the
// transport needs.
type session struct {
	remote remoteParams
	media  []Media
	// sections are the answer's m-sections in offer order; rejected
	// ones have port 0.
	sections []section
	bundle   []string
	mixed    bool   // a=extmap-allow-mixed (RFC 8285 §6)
	origin   uint32 // the answer's o= session id
}

// section is what the answer repeats of one offered m-section. The
// strings are copied out of the offer (intern), so a session does not keep
// the offer's text alive: ~3 KB per viewer.
type section struct {
	media, protos, formats string
	mid                    string
	hasMid                 bool
	index                  int // into session.media, or -1 when rejected
	rtcpRsz                bool
	feedback               map[uint8][]string // answered rtcp-fb values per payload type
	extDirs                map[int]string     // extmap directions the answer states
}

// intern returns the canonical copy of s: the same codec parameters,
// extension URIs and feedback names recur in every viewer's offer.
func intern(s string) string { return unique.Make(s).Value() }

// negotiate matches an offer against caps. Only the first audio and the
// first video section that want to receive are accepted (a broadcast has
// one of each); everything else, data channels included, is rejected
// with port 0 (RFC 3264 §6). The transport is the first accepted
// section's: bundled and rtcp-muxed, as WHEP requires (RFC 9725 §4.5).
func negotiate(d *sdp.SessionDescription, caps Capabilities) (*session, error) {
	s := &session{origin: randomUint32() >> 1}
	if _, ok := d.Attribute("extmap-allow-mixed"); ok {
		s.mixed = true
	}
	if _, ok := d.Attribute("ice-lite"); ok {
		return nil, offerError("the offerer is ICE-lite like bcast: nobody would send checks (RFC 8445 §6.1.1)")
	}
	group := bundleGroup(d)
	taken := map[webrtc.RTPCodecType]bool{}
	var first *sdp.MediaDescription
	for _, m := range d.MediaDescriptions {
		mid, hasMid := m.Attribute("mid")
		sec := section{
			media: intern(m.MediaName.Media), protos: intern(strings.Join(m.MediaName.Protos, "/")),
			formats: intern(strings.Join(m.MediaName.Formats, " ")), mid: strings.Clone(mid), hasMid: hasMid, index: -1,
		}
		kind := webrtc.NewRTPCodecType(m.MediaName.Media)
		if _, ok := m.Attribute("extmap-allow-mixed"); ok {
			s.mixed = true
		}
		// One transport: without a BUNDLE group only the first section
		// can share it; with one, only the group's members (RFC 8843).
		// A member may be bundle-only, port 0 (RFC 8843 §7.3.1).
		inGroup := group != nil && hasMid && contains(group, mid)
		_, bundleOnly := m.Attribute("bundle-only")
		open := m.MediaName.Port.Value != 0 || bundleOnly && inGroup
		shareable := group == nil && first == nil || inGroup
		if !open || !shareable || kind == 0 || taken[kind] || !receives(m) || !isRTP(m) {
			s.sections = append(s.sections, sec)
			continue
		}
		codecs, fb := matchCodecs(m, kind, caps.Codecs[kind])
		if len(codecs) == 0 {
			s.sections = append(s.sections, sec)
			continue
		}
		taken[kind] = true
		_, sec.rtcpRsz = m.Attribute("rtcp-rsize")
		sec.feedback = fb
		sec.index = len(s.media)
		exts, dirs := matchExtensions(m, caps.Extensions[kind])
		sec.extDirs = dirs
		s.media = append(s.media, Media{Kind: kind, Mid: sec.mid, SSRC: randomUint32(), Codecs: codecs, Exts: exts})
		if inGroup {
			s.bundle = append(s.bundle, sec.mid)
		}
		if first == nil {
			first = m
		}
		s.sections = append(s.sections, sec)
	}
	if first == nil {
		return nil, offerError("no audio or video section to receive in a codec bcast can send")
	}
	attr := func(key string) string {
		if v, ok := first.Attribute(key); ok {
			return strings.TrimSpace(v)
		}
		v, _ := d.Attribute(key)
		return strings.TrimSpace(v)
	}
	s.remote.ufrag, s.remote.pwd = strings.Clone(attr("ice-ufrag")), strings.Clone(attr("ice-pwd"))
	if s.remote.ufrag == "" || s.remote.pwd == "" {
		return nil, offerError("no ICE credentials (a=ice-ufrag, a=ice-pwd)")
	}
	fp, err := dtlssrtp.ParseFingerprint(attr("fingerprint"))
	if err != nil {
		return nil, offerError("%v", err)
	}
	fp.Value = strings.Clone(fp.Value)
	s.remote.fp = fp
	// RFC 5763 §5: the offerer says actpass and the answerer picks; the
	// server takes the passive side, so it only answers ClientHellos and
	// never races the browser's own handshake.
	switch setup := attr("setup"); setup {
	case "actpass", "active", "":
		s.remote.dtlsServer = true
	case "passive":
		s.remote.dtlsServer = false
	default:
		return nil, offerError("a=setup:%s is not active, passive or actpass", setup)
	}
	return s, nil
}

// receives reports whether the offerer wants to receive on m.
func receives(m *sdp.MediaDescription) bool {
	for _, a := range m.Attributes {
		switch a.Key {
		case "sendonly", "inactive":
			return false
		case "recvonly", "sendrecv":
			return true
		}
	}
	return true // sendrecv is the default (RFC 3264 §5.1)
}

func isRTP(m *sdp.MediaDescription) bool {
	for _, p := range m.MediaName.Protos {
		if p == "RTP" {
			return true
		}
	}
	return false
}

// matchCodecs returns the offered formats that caps can send, in the
// offer's order, each with the offer's payload type and parameters, and
// the feedback both sides understand.
func matchCodecs(m *sdp.MediaDescription, kind webrtc.RTPCodecType, caps []webrtc.RTPCodecParameters) ([]webrtc.RTPCodecParameters, map[uint8][]string) {
	rtpmap := map[uint8]string{}
	fmtp := map[uint8]string{}
	fb := map[int][]string{} // -1: "*"
	for _, a := range m.Attributes {
		pt, rest, _ := strings.Cut(a.Value, " ")
		rest = strings.TrimSpace(rest)
		switch a.Key {
		case "rtpmap", "fmtp":
			n, err := strconv.ParseUint(pt, 10, 7)
			if err != nil {
				continue
			}
			if a.Key == "rtpmap" {
				rtpmap[uint8(n)] = rest
			} else {
				fmtp[uint8(n)] = rest
			}
		case "rtcp-fb":
			key := -1
			if pt != "*" {
				n, err := strconv.ParseUint(pt, 10, 7)
				if err != nil {
					continue
				}
				key = int(n)
			}
			fb[key] = append(fb[key], rest)
		}
	}
	var out []webrtc.RTPCodecParameters
	answered := map[uint8][]string{}
	for _, f := range m.MediaName.Formats {
		n, err := strconv.ParseUint(f, 10, 7)
		if err != nil {
			continue
		}
		pt := uint8(n)
		enc, ok := rtpmap[pt]
		if !ok {
			continue // static payload types: nothing bcast forwards
		}
		parts := strings.Split(enc, "/")
		if len(parts) < 2 {
			continue
		}
		clock, err := strconv.ParseUint(parts[1], 10, 32)
		if err != nil {
			continue
		}
		channels := uint64(0)
		if len(parts) > 2 {
			channels, _ = strconv.ParseUint(parts[2], 10, 16)
		}
		mime := kind.String() + "/" + parts[0]
		for _, c := range caps {
			if c.ClockRate != uint32(clock) || !codec.SameFormat(c.MimeType, c.SDPFmtpLine, mime, fmtp[pt]) {
				continue
			}
			if kind == webrtc.RTPCodecTypeAudio && channels != uint64(c.Channels) && !(channels == 0 && c.Channels == 1) {
				continue
			}
			p := webrtc.RTPCodecParameters{
				RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: c.MimeType, ClockRate: c.ClockRate, Channels: uint16(channels), SDPFmtpLine: intern(fmtp[pt])},
				PayloadType:        webrtc.PayloadType(pt),
			}
			for _, offered := range append(fb[int(pt)], fb[-1]...) {
				for _, ours := range c.RTCPFeedback {
					want := strings.TrimSpace(ours.Type + " " + ours.Parameter)
					if offered == want && !contains(answered[pt], want) {
						want = intern(want)
						answered[pt] = append(answered[pt], want)
						typ, param, _ := strings.Cut(want, " ")
						p.RTCPFeedback = append(p.RTCPFeedback, webrtc.RTCPFeedback{Type: typ, Parameter: param})
					}
				}
			}
			out = append(out, p)
			break
		}
	}
	return out, answered
}

// bundleGroup returns the mids of the offer's first BUNDLE group, or nil.
func bundleGroup(d *sdp.SessionDescription) []string {
	for _, a := range d.Attributes {
		if a.Key != "group" {
			continue
		}
		if f := strings.Fields(a.Value); len(f) > 0 && f[0] == "BUNDLE" {
			mids := make([]string, 0, len(f)-1)
			for _, mid := range f[1:] {
				mids = append(mids, strings.Clone(mid))
			}
			return mids
		}
	}
	return nil
}

// matchExtensions keeps the offered header extensions (RFC 8285) that the
// sender writes, with the offer's IDs, and the direction the answer gives
// those the offer restricted: an offerer's recvonly is our sendonly
// (RFC 8285 §7).
func matchExtensions(m *sdp.MediaDescription, uris []string) ([]webrtc.RTPHeaderExtensionParameter, map[int]string) {
	var (
		out  []webrtc.RTPHeaderExtensionParameter
		dirs map[int]string
	)
	for _, a := range m.Attributes {
		if a.Key != "extmap" {
			continue
		}
		idDir, rest, _ := strings.Cut(a.Value, " ")
		idStr, dir, _ := strings.Cut(idDir, "/")
		uri, _, _ := strings.Cut(strings.TrimSpace(rest), " ")
		id, err := strconv.Atoi(idStr)
		if err != nil || id < 1 || id > 255 || id == 15 || dir == "sendonly" || dir == "inactive" || !contains(uris, uri) {
			continue
		}
		out = append(out, webrtc.RTPHeaderExtensionParameter{URI: intern(uri), ID: id})
		if dir == "recvonly" {
			if dirs == nil {
				dirs = map[int]string{}
			}
			dirs[id] = "sendonly"
		}
	}
	return out, dirs
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// answer writes the SDP answer (RFC 8829 §5.3, RFC 8839 for ICE
// attributes). The server is ICE-lite (RFC 8445 §2.5): it lists its host
// candidates and answers checks, the viewer does the rest.
func (s *session) answer(ufrag, pwd, fingerprint, cname string, candidates []netip.AddrPort) string {
	var b strings.Builder
	b.Grow(2048)
	fmt.Fprintf(&b, "v=0\r\no=- %d 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=ice-lite\r\n", s.origin)
	if len(s.bundle) > 0 {
		fmt.Fprintf(&b, "a=group:BUNDLE %s\r\n", strings.Join(s.bundle, " "))
	}
	if s.mixed {
		b.WriteString("a=extmap-allow-mixed\r\n")
	}
	b.WriteString("a=msid-semantic: WMS " + streamID + "\r\n")
	setup := "active"
	if s.remote.dtlsServer {
		setup = "passive"
	}
	for _, sec := range s.sections {
		if sec.index < 0 {
			fmt.Fprintf(&b, "m=%s 0 %s %s\r\nc=IN IP4 0.0.0.0\r\n", sec.media, sec.protos, sec.formats)
			if sec.hasMid {
				fmt.Fprintf(&b, "a=mid:%s\r\n", sec.mid)
			}
			b.WriteString("a=inactive\r\n")
			continue
		}
		md := s.media[sec.index]
		pts := make([]string, len(md.Codecs))
		for i, c := range md.Codecs {
			pts[i] = strconv.Itoa(int(c.PayloadType))
		}
		fmt.Fprintf(&b, "m=%s 9 %s %s\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n", sec.media, sec.protos, strings.Join(pts, " "))
		fmt.Fprintf(&b, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:%s\r\na=setup:%s\r\n", ufrag, pwd, fingerprint, setup)
		if sec.hasMid {
			fmt.Fprintf(&b, "a=mid:%s\r\n", sec.mid)
		}
		for _, e := range md.Exts {
			if dir := sec.extDirs[e.ID]; dir != "" {
				fmt.Fprintf(&b, "a=extmap:%d/%s %s\r\n", e.ID, dir, e.URI)
			} else {
				fmt.Fprintf(&b, "a=extmap:%d %s\r\n", e.ID, e.URI)
			}
		}
		b.WriteString("a=sendonly\r\na=rtcp-mux\r\n")
		if sec.rtcpRsz {
			b.WriteString("a=rtcp-rsize\r\n")
		}
		for _, c := range md.Codecs {
			_, name, _ := strings.Cut(c.MimeType, "/")
			fmt.Fprintf(&b, "a=rtpmap:%d %s/%d", c.PayloadType, name, c.ClockRate)
			if c.Channels > 0 {
				fmt.Fprintf(&b, "/%d", c.Channels)
			}
			b.WriteString("\r\n")
			if c.SDPFmtpLine != "" {
				fmt.Fprintf(&b, "a=fmtp:%d %s\r\n", c.PayloadType, c.SDPFmtpLine)
			}
			for _, f := range sec.feedback[uint8(c.PayloadType)] {
				fmt.Fprintf(&b, "a=rtcp-fb:%d %s\r\n", c.PayloadType, f)
			}
		}
		track := md.Kind.String()
		fmt.Fprintf(&b, "a=msid:%s %s\r\na=ssrc:%d cname:%s\r\na=ssrc:%d msid:%s %s\r\n", streamID, track, md.SSRC, cname, md.SSRC, streamID, track)
		for i, c := range candidates {
			// Host candidates (RFC 8445 §5.1.2.1): type preference 126,
			// earlier addresses preferred, component 1.
			prio := 126<<24 | (65535-i)<<8 | 255
			fmt.Fprintf(&b, "a=candidate:%d 1 udp %d %s %d typ host\r\n", i+1, prio, c.Addr().Unmap(), c.Port())
		}
		b.WriteString("a=end-of-candidates\r\n")
	}
	return b.String()
}

// streamID groups a viewer's audio and video (msid, RFC 8830) so the
// browser plays them in sync.
const streamID = "bcast"
