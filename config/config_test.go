package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func load(t *testing.T, args []string, env map[string]string, yaml string) (Server, error) {
	t.Helper()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	RegisterFlags(fs)
	if yaml != "" {
		p := filepath.Join(t.TempDir(), "bcast.yaml")
		if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		if env == nil {
			env = map[string]string{}
		}
		env["BCAST_CONFIG"] = p
	}
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return Load(fs, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
}

func TestPrecedence(t *testing.T) {
	yaml := "addr: \":7000\"\nmax-viewers: 10\ndemo: true\nice-udp-port: 9000\ndump-dir: /yaml\n"
	env := map[string]string{"BCAST_MAX_VIEWERS": "20", "BCAST_ICE_UDP_PORT": "9100"}
	cfg, err := load(t, []string{"--max-viewers", "30"}, env, yaml)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MaxViewers != 30 {
		t.Errorf("flag must win: max-viewers %d", cfg.MaxViewers)
	}
	if cfg.ICEUDPPort != 9100 {
		t.Errorf("env must beat YAML: ice-udp-port %d", cfg.ICEUDPPort)
	}
	if cfg.Addr != ":7000" || !cfg.Demo || cfg.DumpDir != "/yaml" {
		t.Errorf("YAML must beat defaults: %+v", cfg)
	}
	d, err := load(t, nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if d.Addr != ":8080" || d.ICEUDPPort != 8189 || d.DumpDir != "./dumps" || d.MaxViewers != 0 || d.Demo || d.NoTUI {
		t.Errorf("defaults: %+v", d)
	}
}

func TestDumpSizes(t *testing.T) {
	cfg, err := load(t, []string{"--dump-segment-size", "64MiB", "--dump-retain-size", "1.5GB", "--dump-retain-age", "168h"},
		nil, "dump-segment-age: 5m\n")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DumpSegmentBytes != 64<<20 || cfg.DumpRetainBytes != 1_500_000_000 || cfg.DumpRetainAge != 168*time.Hour ||
		cfg.DumpSegmentAge != 5*time.Minute {
		t.Fatalf("%+v", cfg)
	}
	d, _ := load(t, nil, nil, "")
	if d.DumpSegmentBytes != 256<<20 || d.DumpSegmentAge != 10*time.Minute || d.DumpRetainBytes != 0 {
		t.Fatalf("defaults %+v", d)
	}
}

func TestBoolEnvAndFlags(t *testing.T) {
	cfg, err := load(t, nil, map[string]string{"BCAST_NO_TUI": "1", "BCAST_DEMO": "1"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.NoTUI || !cfg.Demo {
		t.Fatalf("BCAST_NO_TUI=1 / BCAST_DEMO=1 not applied: %+v", cfg)
	}
	cfg, err = load(t, []string{"--demo=false"}, map[string]string{"BCAST_DEMO": "1"}, "")
	if err != nil || cfg.Demo {
		t.Fatalf("--demo=false must beat env: %+v %v", cfg, err)
	}
}

func TestInvalidNamesSetting(t *testing.T) {
	tests := []struct {
		args []string
		env  map[string]string
		yaml string
		want string
	}{
		{args: []string{"--max-viewers", "lots"}, want: "--max-viewers"},
		{args: []string{"--max-viewers", "-1"}, want: "max-viewers"},
		{args: []string{"--ice-udp-port", "70000"}, want: "ice-udp-port"},
		{args: []string{"--addr", "nonsense"}, want: "addr"},
		{args: []string{"--nat-ip", "not-an-ip"}, want: "nat-ip"},
		{env: map[string]string{"BCAST_MAX_VIEWERS": "x"}, want: "BCAST_MAX_VIEWERS"},
		{env: map[string]string{"BCAST_DEMO": "maybe"}, want: "BCAST_DEMO"},
		{yaml: "max-viewrs: 3\n", want: `unknown setting "max-viewrs"`},
		{yaml: "max-viewers: [1]\n", want: `"max-viewers"`},
		{yaml: "ice-servers: [\"http://x\"]\n", want: "ice-servers"},
		{yaml: ": : :\n", want: "config file"},
		{args: []string{"--ice-servers", "turn:user@host"}, want: "user:pass@"},
		{args: []string{"--log-level", "loud"}, want: "log-level"},
		{args: []string{"--pprof-addr", ":6060"}, want: "pprof-addr"},
		{args: []string{"--dump-segment-size", "lots"}, want: "--dump-segment-size"},
		{args: []string{"--dump-retain-size", "5 parsecs"}, want: "--dump-retain-size"},
		{args: []string{"--dump-segment-age", "soon"}, want: "--dump-segment-age"},
		{args: []string{"--pprof-addr", "0.0.0.0:6060"}, want: "pprof-addr"},
	}
	for _, tc := range tests {
		_, err := load(t, tc.args, tc.env, tc.yaml)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v %v %q: error %v, want mention of %q", tc.args, tc.env, tc.yaml, err, tc.want)
		}
	}
}

func TestICEServers(t *testing.T) {
	cfg, err := load(t, []string{"--ice-servers", "stun:stun.example.org:3478, turn:alice:s3cret@turn.example.org:3478?transport=udp"}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.ICEServers) != 2 || cfg.ICEServers[1].Username != "alice" || cfg.ICEServers[1].Credential != "s3cret" ||
		cfg.ICEServers[1].URLs[0] != "turn:turn.example.org:3478?transport=udp" {
		t.Fatalf("%+v", cfg.ICEServers)
	}
	cfg, err = load(t, nil, nil, "ice-servers:\n  - stun:a.example:3478\n  - urls: [turn:b.example:3478]\n    username: u\n    credential: c\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.ICEServers) != 2 || cfg.ICEServers[1].Username != "u" {
		t.Fatalf("%+v", cfg.ICEServers)
	}
}

func TestMissingConfigFile(t *testing.T) {
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	RegisterFlags(fs)
	_ = fs.Parse([]string{"--config", "/nonexistent/bcast.yaml"})
	if _, err := Load(fs, func(string) (string, bool) { return "", false }); err == nil || !strings.Contains(err.Error(), "config file") {
		t.Fatalf("got %v", err)
	}
}

// FuzzParseICEServers: any flag or env text gives servers or an error, never
// a panic, and accepted servers have a valid scheme and host.
func FuzzParseICEServers(f *testing.F) {
	for _, s := range []string{"stun:stun.example.org:3478", "turn:u:p@h:1?transport=tcp,stuns:x", "turn:@", ":", "", ",,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		servers, err := ParseICEServers(s)
		if err != nil {
			return
		}
		for _, srv := range servers {
			for _, u := range srv.URLs {
				if checkICEURL(u) != nil {
					t.Fatalf("accepted invalid URL %q", u)
				}
			}
		}
	})
}

func TestTrustedProxies(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      bool
	}{
		{"10.0.0.0/8, 192.168.1.5", "10.0.0.0/8,192.168.1.5/32", false},
		{"none", "none", false},
		{"2001:db8::/32", "2001:db8::/32", false},
		{"10.0.0.1/8", "10.0.0.0/8", false},
		{"proxy.local", "", true},
	} {
		var s Server
		err := parsePrefixes(&s.TrustedProxies, tc.in)
		if (err != nil) != tc.err {
			t.Fatalf("%q: err %v", tc.in, err)
		}
		if got := formatPrefixes(s.TrustedProxies); !tc.err && got != tc.want {
			t.Errorf("%q → %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzParsePrefixes: whatever parses formats back to a list that parses to
// the same prefixes.
func FuzzParsePrefixes(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8,192.168.1.5", "none", "::1, 2001:db8::/32", "1.2.3.4/33", ",", "fe80::1%eth0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var a, b Server
		if parsePrefixes(&a.TrustedProxies, s) != nil {
			return
		}
		text := formatPrefixes(a.TrustedProxies)
		if err := parsePrefixes(&b.TrustedProxies, text); err != nil {
			t.Fatalf("%q formats to %q, which does not parse: %v", s, text, err)
		}
		if formatPrefixes(b.TrustedProxies) != text {
			t.Fatalf("%q: %q then %q", s, text, formatPrefixes(b.TrustedProxies))
		}
	})
}
