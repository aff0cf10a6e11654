package server

import (
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/bcastdev/bcast/config"
)

func TestClientAddr(t *testing.T) {
	lb := config.Defaults().TrustedProxies
	lan := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	tests := []struct {
		name    string
		trusted []netip.Prefix
		peer    string
		xff     []string
		want    string
	}{
		{"direct client", lb, "203.0.113.9:5000", nil, "203.0.113.9:5000"},
		{"untrusted peer's header ignored", lb, "203.0.113.9:5000", []string{"1.2.3.4"}, "203.0.113.9:5000"},
		{"proxy on this host", lb, "127.0.0.1:40000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"spoofed left entries ignored", lb, "127.0.0.1:40000", []string{"6.6.6.6, 198.51.100.7"}, "198.51.100.7"},
		{"chain of trusted proxies", lan, "10.0.0.2:1", []string{"198.51.100.7, 10.0.0.9", "10.0.0.3"}, "198.51.100.7"},
		{"all hops trusted: the peer", lan, "10.0.0.2:1", []string{"10.1.1.1"}, "10.0.0.2:1"},
		{"malformed hop stops the walk", lb, "[::1]:1", []string{"198.51.100.7, garbage"}, "[::1]:1"},
		{"trust none", nil, "127.0.0.1:40000", []string{"198.51.100.7"}, "127.0.0.1:40000"},
		{"IPv6 client", lb, "127.0.0.1:1", []string{"2001:db8::1"}, "2001:db8::1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &Server{cfg: config.Server{TrustedProxies: tc.trusted}}
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := s.clientAddr(r); got != tc.want {
				t.Errorf("clientAddr = %q, want %q", got, tc.want)
			}
		})
	}
}
