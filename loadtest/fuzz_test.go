package loadtest

import (
	"crypto"
	"net/netip"
	"strings"
	"testing"
)

// seedAnswer is an answer as bcast's server writes it (trimmed to what the
// peer reads).
const seedAnswer = "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n" +
	"a=fingerprint:sha-256 4F:1E:94:05:A2:2C:5B:80:DA:4B:C5:72:4E:0B:C0:DE:29:C4:EC:7E:96:61:EE:2A:86:6C:4D:73:71:4A:6B:E1\r\n" +
	"a=group:BUNDLE 0 1\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=setup:active\r\na=mid:0\r\na=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdef01234567\r\n" +
	"a=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\na=sendonly\r\n" +
	"a=candidate:1 1 udp 2130706431 127.0.0.1 8189 typ host\r\na=candidate:2 1 udp 2130706431 ::1 8189 typ host\r\na=end-of-candidates\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=setup:active\r\na=mid:1\r\na=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdef01234567\r\n" +
	"a=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\na=sendonly\r\n"

func TestApplyAnswer(t *testing.T) {
	p := &peer{sh: &peers{localIP: netip.MustParseAddr("127.0.0.1"), loopback: true}}
	if err := p.applyAnswer(seedAnswer); err != nil {
		t.Fatal(err)
	}
	if !p.dtlsServer || p.rufrag != "abcd" || p.remoteFP.Hash != crypto.SHA256 || !strings.HasPrefix(p.remoteFP.Value, "4F:1E") ||
		len(p.candidates) != 1 || p.candidates[0] != netip.MustParseAddrPort("127.0.0.1:8189") ||
		len(p.video) != 1 || len(p.audio) != 1 {
		t.Fatalf("peer after the answer: %+v", p)
	}
	for _, bad := range []string{
		"",
		seedAnswer[:len(seedAnswer)/2] + "m=video 0 UDP/TLS/RTP/SAVPF 96\r\n",
		"v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=ice-ufrag:a\r\na=ice-pwd:b\r\n",
	} {
		p := &peer{sh: &peers{localIP: netip.MustParseAddr("127.0.0.1"), loopback: true}}
		if err := p.applyAnswer(bad); err == nil {
			t.Errorf("answer %q accepted", bad)
		}
	}
}

// The answer comes from the server under test: nothing in it may crash the
// load tester.
func FuzzApplyAnswer(f *testing.F) {
	f.Add(seedAnswer)
	f.Add("v=0\r\n")
	f.Add("a=fingerprint:sha-256 zz\r\n")
	f.Fuzz(func(t *testing.T, answer string) {
		p := &peer{sh: &peers{localIP: netip.MustParseAddr("127.0.0.1"), loopback: true}}
		if p.applyAnswer(answer) == nil && (p.rufrag == "" || p.remoteFP.Hash != crypto.SHA256 || !strings.HasPrefix(p.remoteFP.Value, "4F:1E") || len(p.candidates) == 0) {
			t.Fatalf("accepted an incomplete answer: %+v", p)
		}
	})
}
