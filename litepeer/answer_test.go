package litepeer

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/bcastdev/bcast/codec"
)

func testCaps() Capabilities {
	fb := []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "ccm", Parameter: "fir"}}
	v := func(mime, fmtp string) webrtc.RTPCodecParameters {
		return webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: mime, ClockRate: 90000, SDPFmtpLine: fmtp, RTCPFeedback: fb}}
	}
	return Capabilities{
		Codecs: map[webrtc.RTPCodecType][]webrtc.RTPCodecParameters{
			webrtc.RTPCodecTypeVideo: {
				v(webrtc.MimeTypeVP8, ""),
				v(webrtc.MimeTypeH264, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"),
			},
			webrtc.RTPCodecTypeAudio: {{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}}},
		},
		Extensions: map[webrtc.RTPCodecType][]string{
			webrtc.RTPCodecTypeVideo: {codec.ExtAbsSendTime, codec.ExtVideoOrientation},
			webrtc.RTPCodecTypeAudio: {codec.ExtAudioLevel},
		},
	}
}

// chromeOffer is the shape of a browser's recvonly WHEP offer: BUNDLE,
// RTX and RED formats, feedback bcast does not answer, a data channel.
const chromeOffer = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
	"a=group:BUNDLE 0 1 2\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 39\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n" +
	"a=ice-ufrag:Vd3q\r\na=ice-pwd:rj3Xy7l9Z1kqfFqsLX0bnY5L\r\na=ice-options:trickle\r\n" +
	"a=fingerprint:sha-256 4F:1E:94:05:A2:2C:5B:80:DA:4B:C5:72:4E:0B:C0:DE:29:C4:EC:7E:96:61:EE:2A:86:6C:4D:73:71:4A:6B:E1\r\n" +
	"a=setup:actpass\r\na=mid:0\r\n" +
	"a=extmap:3 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n" +
	"a=extmap:13 urn:3gpp:video-orientation\r\n" +
	"a=extmap:4 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n" +
	"a=recvonly\r\na=rtcp-mux\r\na=rtcp-rsize\r\n" +
	"a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 goog-remb\r\na=rtcp-fb:96 transport-cc\r\na=rtcp-fb:96 ccm fir\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\n" +
	"a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n" +
	"a=rtpmap:102 H264/90000\r\na=rtcp-fb:102 nack\r\na=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f\r\n" +
	"a=rtpmap:103 H264/90000\r\na=rtcp-fb:103 nack\r\na=rtcp-fb:103 nack pli\r\na=fmtp:103 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n" +
	"a=rtpmap:39 red/90000\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 111 63 0\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n" +
	"a=ice-ufrag:Vd3q\r\na=ice-pwd:rj3Xy7l9Z1kqfFqsLX0bnY5L\r\n" +
	"a=fingerprint:sha-256 4F:1E:94:05:A2:2C:5B:80:DA:4B:C5:72:4E:0B:C0:DE:29:C4:EC:7E:96:61:EE:2A:86:6C:4D:73:71:4A:6B:E1\r\n" +
	"a=setup:actpass\r\na=mid:1\r\na=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\na=recvonly\r\na=rtcp-mux\r\n" +
	"a=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\na=fmtp:111 minptime=10;useinbandfec=1\r\na=rtpmap:63 red/48000/2\r\na=rtpmap:0 PCMU/8000\r\n" +
	"m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:Vd3q\r\na=ice-pwd:rj3Xy7l9Z1kqfFqsLX0bnY5L\r\n" +
	"a=fingerprint:sha-256 4F:1E:94:05:A2:2C:5B:80:DA:4B:C5:72:4E:0B:C0:DE:29:C4:EC:7E:96:61:EE:2A:86:6C:4D:73:71:4A:6B:E1\r\n" +
	"a=setup:actpass\r\na=mid:2\r\na=sctp-port:5000\r\n"

func parse(t testing.TB, s string) *sdp.SessionDescription {
	t.Helper()
	var d sdp.SessionDescription
	if err := d.UnmarshalString(s); err != nil {
		t.Fatal(err)
	}
	return &d
}

func TestNegotiateBrowserOffer(t *testing.T) {
	s, err := negotiate(parse(t, chromeOffer), testCaps())
	if err != nil {
		t.Fatal(err)
	}
	if len(s.media) != 2 || s.media[0].Kind != webrtc.RTPCodecTypeVideo || s.media[1].Kind != webrtc.RTPCodecTypeAudio {
		t.Fatalf("media %+v", s.media)
	}
	var pts []webrtc.PayloadType
	for _, c := range s.media[0].Codecs {
		pts = append(pts, c.PayloadType)
	}
	// VP8 and the Constrained Baseline H.264 (42e01f) match; 42001f is
	// Baseline, which the caps do not list; RTX and RED are not sent.
	if len(pts) != 2 || pts[0] != 96 || pts[1] != 103 {
		t.Errorf("video payload types %v, want [96 103]", pts)
	}
	if fb := s.media[0].Codecs[0].RTCPFeedback; len(fb) != 3 {
		t.Errorf("VP8 feedback %v, want ccm fir, nack, nack pli", fb)
	}
	if len(s.media[1].Codecs) != 1 || s.media[1].Codecs[0].PayloadType != 111 || s.media[1].Codecs[0].Channels != 2 {
		t.Errorf("audio %+v", s.media[1].Codecs)
	}
	if e := s.media[0].Exts; len(e) != 2 || e[0].ID != 3 || e[1].ID != 13 {
		t.Errorf("video extensions %+v", e)
	}
	if !s.remote.dtlsServer || s.remote.ufrag != "Vd3q" || !s.mixed {
		t.Errorf("remote %+v mixed %v", s.remote, s.mixed)
	}

	ans := s.answer("ufragufragufrag1", "pwd", "sha-256 AA:BB", "cname", []netip.AddrPort{netip.MustParseAddrPort("192.0.2.1:8189"), netip.MustParseAddrPort("[::1]:8189")})
	d := parse(t, ans)
	if _, ok := d.Attribute("ice-lite"); !ok {
		t.Error("answer is not ice-lite")
	}
	if g, _ := d.Attribute("group"); g != "BUNDLE 0 1" {
		t.Errorf("group %q", g)
	}
	if len(d.MediaDescriptions) != 3 || d.MediaDescriptions[2].MediaName.Port.Value != 0 {
		t.Fatalf("sections: %d, data channel must be rejected with port 0", len(d.MediaDescriptions))
	}
	for i, m := range d.MediaDescriptions[:2] {
		for _, want := range []string{"sendonly", "rtcp-mux", "setup", "ice-ufrag", "fingerprint", "mid", "msid", "ssrc", "end-of-candidates"} {
			if _, ok := m.Attribute(want); !ok {
				t.Errorf("section %d lacks a=%s", i, want)
			}
		}
		if v, _ := m.Attribute("setup"); v != "passive" {
			t.Errorf("setup %q, want passive", v)
		}
	}
	if !strings.Contains(ans, "a=candidate:1 1 udp 2130706431 192.0.2.1 8189 typ host\r\n") || !strings.Contains(ans, " ::1 8189 typ host") {
		t.Errorf("candidates:\n%s", ans)
	}
	if strings.Contains(ans, "goog-remb") || strings.Contains(ans, "transport-cc") || strings.Contains(ans, "rtx") {
		t.Errorf("answer carries what bcast does not do:\n%s", ans)
	}
}

func TestNegotiate(t *testing.T) {
	base := func(setup, dir, rtpmap string) string {
		return "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
			"a=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdefghijklmn\r\na=fingerprint:sha-256 AB:CD\r\n" +
			"m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:v\r\n" + setup + dir + rtpmap
	}
	const vp8 = "a=rtpmap:96 VP8/90000\r\n"
	for _, tc := range []struct {
		name, offer string
		err         string // substring; "" = accepted
		server      bool
	}{
		{"session-level transport, actpass", base("a=setup:actpass\r\n", "a=recvonly\r\n", vp8), "", true},
		{"offerer active", base("a=setup:active\r\n", "a=recvonly\r\n", vp8), "", true},
		{"offerer passive: we are the client", base("a=setup:passive\r\n", "a=recvonly\r\n", vp8), "", false},
		{"sendrecv", base("", "a=sendrecv\r\n", vp8), "", true},
		{"no direction means sendrecv", base("", "", vp8), "", true},
		{"sendonly", base("", "a=sendonly\r\n", vp8), "no audio or video section", false},
		{"inactive", base("", "a=inactive\r\n", vp8), "no audio or video section", false},
		{"no common codec", base("", "a=recvonly\r\n", "a=rtpmap:96 VP9/90000\r\n"), "no audio or video section", false},
		{"bad setup", base("a=setup:both\r\n", "a=recvonly\r\n", vp8), "a=setup:both", false},
		{"no ICE", strings.Replace(base("", "", vp8), "a=ice-pwd:0123456789abcdefghijklmn\r\n", "", 1), "ICE credentials", false},
		{"no fingerprint", strings.Replace(base("", "", vp8), "a=fingerprint:sha-256 AB:CD\r\n", "", 1), "fingerprint", false},
		{"ICE-lite offerer", strings.Replace(base("", "", vp8), "t=0 0\r\n", "t=0 0\r\na=ice-lite\r\n", 1), "ICE-lite", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := negotiate(parse(t, tc.offer), testCaps())
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.remote.dtlsServer != tc.server {
				t.Errorf("DTLS server %v, want %v", s.remote.dtlsServer, tc.server)
			}
			want := "a=setup:active"
			if tc.server {
				want = "a=setup:passive"
			}
			if ans := s.answer("u", "p", "sha-256 AA", "c", []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:1")}); !strings.Contains(ans, want) {
				t.Errorf("answer lacks %s:\n%s", want, ans)
			}
		})
	}
}

// Sections share the one transport only through the offer's BUNDLE group:
// bundle-only members (port 0) are accepted, non-members rejected, and
// without a group only the first section is taken. An extension the
// offerer only receives is answered sendonly.
func TestNegotiateBundle(t *testing.T) {
	head := "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
	creds := "a=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdefghijklmn\r\na=fingerprint:sha-256 AB:CD\r\na=setup:actpass\r\na=rtcp-mux\r\n"
	video := "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\n" + creds + "a=mid:v\r\na=recvonly\r\na=rtpmap:96 VP8/90000\r\n" +
		"a=extmap:3/recvonly http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
	audio := func(port string, extra string) string {
		return "m=audio " + port + " UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n" + creds + "a=mid:a\r\na=recvonly\r\na=rtpmap:111 opus/48000/2\r\n" + extra
	}
	for _, tc := range []struct {
		name, offer string
		kinds       int
		group       string
	}{
		{"bundle-only member", head + "a=group:BUNDLE v a\r\n" + video + audio("0", "a=bundle-only\r\n"), 2, "BUNDLE v a"},
		{"port 0 without bundle-only", head + "a=group:BUNDLE v a\r\n" + video + audio("0", ""), 1, "BUNDLE v"},
		{"not in the group", head + "a=group:BUNDLE v\r\n" + video + audio("9", ""), 1, "BUNDLE v"},
		{"no group: the first section only", head + video + audio("9", ""), 1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := negotiate(parse(t, tc.offer), testCaps())
			if err != nil {
				t.Fatal(err)
			}
			if len(s.media) != tc.kinds {
				t.Fatalf("%d sections accepted, want %d", len(s.media), tc.kinds)
			}
			d := parse(t, s.answer("u", "p", "sha-256 AA", "c", []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:1")}))
			if g, _ := d.Attribute("group"); g != tc.group {
				t.Errorf("group %q, want %q", g, tc.group)
			}
			if e, _ := d.MediaDescriptions[0].Attribute("extmap"); !strings.HasPrefix(e, "3/sendonly ") {
				t.Errorf("extmap %q, want 3/sendonly", e)
			}
		})
	}
}

// FuzzNegotiate: any SDP either fails with an offer error or yields an
// answer that parses and accepts at most one audio and one video section.
func FuzzNegotiate(f *testing.F) {
	f.Add(chromeOffer)
	f.Add("v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/SAVPF 111\r\na=rtpmap:111 opus/48000\r\na=ice-ufrag:a\r\na=ice-pwd:b\r\na=fingerprint:sha-1 00\r\n")
	f.Add("v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 RTP/SAVPF 96 97\r\na=rtpmap:96 VP8/90000\r\na=rtpmap:97 VP8\r\na=rtcp-fb:* nack\r\na=extmap:1/recvonly urn:3gpp:video-orientation\r\na=extmap:x y\r\n")
	caps := testCaps()
	f.Fuzz(func(t *testing.T, offer string) {
		var d sdp.SessionDescription
		if d.UnmarshalString(offer) != nil {
			return
		}
		s, err := negotiate(&d, caps)
		if err != nil {
			return
		}
		if len(s.media) == 0 || len(s.media) > 2 {
			t.Fatalf("%d media sections accepted", len(s.media))
		}
		ans := s.answer("u", "p", "sha-256 AA", "c", []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:1")})
		var a sdp.SessionDescription
		if err := a.UnmarshalString(ans); err != nil {
			t.Fatalf("answer does not parse: %v\n%s", err, ans)
		}
		if len(a.MediaDescriptions) != len(d.MediaDescriptions) {
			t.Fatalf("answer has %d sections, offer %d", len(a.MediaDescriptions), len(d.MediaDescriptions))
		}
	})
}
