package server

import "testing"

// FuzzParseOffer feeds arbitrary bodies to the offer validation every WHIP
// and WHEP request goes through first: it must never panic, and an accepted
// offer must have a media section of a wanted direction.
func FuzzParseOffer(f *testing.F) {
	f.Add("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=recvonly\r\na=rtpmap:96 VP8/90000\r\n")
	f.Add("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 0 UDP/TLS/RTP/SAVPF 111\r\na=sendonly\r\n")
	f.Add("v=0\r\nm=bogus")
	f.Add("")
	f.Fuzz(func(t *testing.T, body string) {
		d, reason := parseOffer(body, "recvonly", "sendrecv")
		if (d == nil) == (reason == "") {
			t.Fatalf("parseOffer returned desc %v with reason %q", d != nil, reason)
		}
		if d != nil {
			ok := false
			for _, dir := range offerKinds(d) {
				ok = ok || dir == "recvonly" || dir == "sendrecv"
			}
			if !ok {
				t.Fatal("accepted an offer without a receivable media section")
			}
		}
	})
}
