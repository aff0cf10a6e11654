// Package config loads the server's settings with the precedence promised in
// CONTRACT.md: command-line flag > BCAST_* environment variable > YAML file
// (--config) > built-in default. Every setting has one name used in all
// three places (flag "--max-viewers", env "BCAST_MAX_VIEWERS", YAML key
// "max-viewers"), so an operator never has to learn three vocabularies.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"
)

// ICEServer is one STUN/TURN server handed to browsers (and to our own
// clients). The server itself needs none: it only answers.
type ICEServer struct {
	URLs       []string `json:"urls" yaml:"urls"`
	Username   string   `json:"username,omitempty" yaml:"username,omitempty"`
	Credential string   `json:"credential,omitempty" yaml:"credential,omitempty"`
}

// Server is the configuration of `bcast serve`.
type Server struct {
	Addr         string
	ICEUDPPort   int
	PublishToken string
	AdminToken   string
	DumpDir      string
	MaxViewers   int
	NoTUI        bool
	NATIP        string
	Demo         bool
	ConfigFile   string
	ICEServers   []ICEServer
	LogLevel     string
	PprofAddr    string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed: the client's address is the right-most entry that is not
	// one of them. Loopback by default (a proxy on the same host).
	TrustedProxies []netip.Prefix
	// ICEIPs restricts the local addresses that carry ICE (host candidates
	// and sockets); empty means every address but link-local ones.
	ICEIPs []netip.Prefix

	// Dump rotation and retention (bytes, durations; 0 = no limit).
	DumpSegmentBytes int64
	DumpSegmentAge   time.Duration
	DumpRetainBytes  int64
	DumpRetainAge    time.Duration
	// DumpViewers captures the legs of the first N viewers of each stream.
	DumpViewers int
}

// Defaults returns the documented defaults.
func Defaults() Server {
	return Server{
		Addr:       ":8080",
		ICEUDPPort: 8189,
		DumpDir:    "./dumps",
		LogLevel:   "info",

		DumpSegmentBytes: 256 << 20,
		DumpSegmentAge:   10 * time.Minute,
		TrustedProxies:   []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")},
	}
}

// setting binds one name to a field. parse takes the textual form used by
// flags and env vars; YAML values are converted to that form first so that
// one parser (and one error message) serves all three sources.
type setting struct {
	name  string
	usage string
	kind  string // "string", "int", "bool", "list" (for help text and YAML conversion)
	parse func(s *Server, v string) error
	show  func(s *Server) string
}

func settings() []setting {
	return []setting{
		{"addr", "HTTP listen address (host:port)", "string",
			func(s *Server, v string) error { s.Addr = v; return nil },
			func(s *Server) string { return s.Addr }},
		{"ice-udp-port", "UDP port carrying all ICE/media traffic (0 = ephemeral)", "int",
			func(s *Server, v string) error { return parseInt(&s.ICEUDPPort, v) },
			func(s *Server) string { return strconv.Itoa(s.ICEUDPPort) }},
		{"publish-token", "bearer token streamers must present on WHIP (random when empty, printed at start)", "string",
			func(s *Server, v string) error { s.PublishToken = v; return nil },
			func(*Server) string { return "" }},
		{"admin-token", "bearer token for the admin API and console (random when empty, printed at start)", "string",
			func(s *Server, v string) error { s.AdminToken = v; return nil },
			func(*Server) string { return "" }},
		{"dump-dir", "directory for continuous RTP dumps", "string",
			func(s *Server, v string) error { s.DumpDir = v; return nil },
			func(s *Server) string { return s.DumpDir }},
		{"dump-segment-size", "start a new dump segment at this size (e.g. 256MiB)", "string",
			func(s *Server, v string) error { return parseSize(&s.DumpSegmentBytes, v) },
			func(s *Server) string { return formatSize(s.DumpSegmentBytes) }},
		{"dump-segment-age", "start a new dump segment after this long", "string",
			func(s *Server, v string) error { return parseDuration(&s.DumpSegmentAge, v) },
			func(s *Server) string { return s.DumpSegmentAge.String() }},
		{"dump-retain-size", "delete the oldest dump segments above this total (e.g. 20GiB; 0 = keep all)", "string",
			func(s *Server, v string) error { return parseSize(&s.DumpRetainBytes, v) },
			func(s *Server) string { return formatSize(s.DumpRetainBytes) }},
		{"dump-retain-age", "delete dump segments older than this (e.g. 168h; 0 = keep all)", "string",
			func(s *Server, v string) error { return parseDuration(&s.DumpRetainAge, v) },
			func(s *Server) string { return s.DumpRetainAge.String() }},
		{"dump-viewers", "also capture what the first N viewers of each stream receive (their own dump files)", "int",
			func(s *Server, v string) error { return parseInt(&s.DumpViewers, v) },
			func(s *Server) string { return strconv.Itoa(s.DumpViewers) }},
		{"max-viewers", "maximum concurrent viewers across all streams (0 = unlimited)", "int",
			func(s *Server, v string) error { return parseInt(&s.MaxViewers, v) },
			func(s *Server) string { return strconv.Itoa(s.MaxViewers) }},
		{"no-tui", "log to stderr instead of opening the operator console", "bool",
			func(s *Server, v string) error { return parseBool(&s.NoTUI, v) },
			func(s *Server) string { return strconv.FormatBool(s.NoTUI) }},
		{"nat-ip", "public IP advertised in ICE candidates when behind 1:1 NAT", "string",
			func(s *Server, v string) error { s.NATIP = v; return nil },
			func(s *Server) string { return s.NATIP }},
		{"demo", "publish a built-in looping test clip as stream \"demo\"", "bool",
			func(s *Server, v string) error { return parseBool(&s.Demo, v) },
			func(s *Server) string { return strconv.FormatBool(s.Demo) }},
		{"ice-servers", "STUN/TURN servers for browsers, comma separated (turn:user:pass@host:3478)", "list",
			func(s *Server, v string) error {
				servers, err := ParseICEServers(v)
				s.ICEServers = servers
				return err
			},
			func(*Server) string { return "" }},
		{"ice-ips", "only these local addresses (IPs or CIDRs, comma separated) carry ICE media; default all but link-local", "list",
			func(s *Server, v string) error { return parsePrefixes(&s.ICEIPs, v) },
			func(s *Server) string { return formatList(s.ICEIPs) }},
		{"trusted-proxies", "reverse proxies (IPs or CIDRs, comma separated) whose X-Forwarded-For names the client; \"none\" trusts none", "list",
			func(s *Server, v string) error { return parsePrefixes(&s.TrustedProxies, v) },
			func(s *Server) string { return formatPrefixes(s.TrustedProxies) }},
		{"pprof-addr", "serve Go pprof profiles on this loopback address (e.g. 127.0.0.1:6060); off when empty", "string",
			func(s *Server, v string) error { s.PprofAddr = v; return nil },
			func(s *Server) string { return s.PprofAddr }},
		{"log-level", "log level: debug, info, warn, error", "string",
			func(s *Server, v string) error { s.LogLevel = v; return nil },
			func(s *Server) string { return s.LogLevel }},
	}
}

// EnvName is the environment variable of a setting: BCAST_ + upper snake case.
func EnvName(name string) string {
	return "BCAST_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// RegisterFlags adds every setting (and --config) to fs with its default.
func RegisterFlags(fs *pflag.FlagSet) {
	d := Defaults()
	for _, st := range settings() {
		usage := fmt.Sprintf("%s [$%s]", st.usage, EnvName(st.name))
		switch st.kind {
		case "bool":
			fs.Bool(st.name, false, usage)
		default:
			fs.String(st.name, st.show(&d), usage)
		}
	}
	fs.String("config", "", "YAML file with the same keys as the flags [$BCAST_CONFIG]")
}

// Load resolves the configuration from flags (only those the user set), the
// environment (lookup, usually os.LookupEnv) and the YAML file named by
// --config or BCAST_CONFIG. Errors name the setting and its source.
func Load(fs *pflag.FlagSet, lookup func(string) (string, bool)) (Server, error) {
	cfg := Defaults()
	sts := settings()

	path := ""
	if v, ok := lookup("BCAST_CONFIG"); ok {
		path = v
	}
	if f := fs.Lookup("config"); f != nil && f.Changed {
		path = f.Value.String()
	}
	if path != "" {
		if err := loadYAML(&cfg, sts, path); err != nil {
			return cfg, err
		}
		cfg.ConfigFile = path
	}
	for _, st := range sts {
		if v, ok := lookup(EnvName(st.name)); ok {
			if err := st.parse(&cfg, v); err != nil {
				return cfg, fmt.Errorf("invalid %s=%q: %w", EnvName(st.name), v, err)
			}
		}
	}
	for _, st := range sts {
		f := fs.Lookup(st.name)
		if f == nil || !f.Changed {
			continue
		}
		if err := st.parse(&cfg, f.Value.String()); err != nil {
			return cfg, fmt.Errorf("invalid --%s %q: %w", st.name, f.Value.String(), err)
		}
	}
	return cfg, cfg.Validate()
}

func loadYAML(cfg *Server, sts []setting, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("cannot read config file: %w", err)
	}
	var doc map[string]yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("invalid config file %s: %w", path, err)
	}
	byName := make(map[string]setting, len(sts))
	for _, st := range sts {
		byName[st.name] = st
	}
	for key, node := range doc {
		st, ok := byName[key]
		if !ok {
			return fmt.Errorf("invalid config file %s: unknown setting %q (line %d)", path, key, node.Line)
		}
		if st.name == "ice-servers" && node.Kind == yaml.SequenceNode {
			servers, err := iceServersFromYAML(&node)
			if err != nil {
				return fmt.Errorf("invalid config file %s: setting %q (line %d): %w", path, key, node.Line, err)
			}
			cfg.ICEServers = servers
			continue
		}
		if node.Kind == yaml.SequenceNode && st.kind == "list" {
			var items []string
			for _, item := range node.Content {
				if item.Kind != yaml.ScalarNode {
					return fmt.Errorf("invalid config file %s: setting %q (line %d): expected a list of values", path, key, item.Line)
				}
				items = append(items, item.Value)
			}
			node = yaml.Node{Kind: yaml.ScalarNode, Value: strings.Join(items, ","), Line: node.Line}
		}
		if node.Kind != yaml.ScalarNode {
			return fmt.Errorf("invalid config file %s: setting %q (line %d): expected a %s value", path, key, node.Line, st.kind)
		}
		if err := st.parse(cfg, node.Value); err != nil {
			return fmt.Errorf("invalid config file %s: setting %q (line %d): %w", path, key, node.Line, err)
		}
	}
	return nil
}

// iceServersFromYAML accepts a list whose items are either URL strings (same
// syntax as the flag) or objects {urls, username, credential}.
func iceServersFromYAML(node *yaml.Node) ([]ICEServer, error) {
	var out []ICEServer
	for _, item := range node.Content {
		switch item.Kind {
		case yaml.ScalarNode:
			s, err := ParseICEServers(item.Value)
			if err != nil {
				return nil, err
			}
			out = append(out, s...)
		case yaml.MappingNode:
			var s ICEServer
			if err := item.Decode(&s); err != nil {
				return nil, err
			}
			for _, u := range s.URLs {
				if err := checkICEURL(u); err != nil {
					return nil, err
				}
			}
			out = append(out, s)
		default:
			return nil, fmt.Errorf("line %d: expected a URL or {urls, username, credential}", item.Line)
		}
	}
	return out, nil
}

// ParseICEServers parses a comma separated list of stun:/turn:/turns: URLs;
// credentials may be given as turn:user:pass@host:port.
func ParseICEServers(v string) ([]ICEServer, error) {
	var out []ICEServer
	for _, raw := range strings.Split(v, ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		s := ICEServer{}
		scheme, rest, ok := strings.Cut(raw, ":")
		if !ok {
			return nil, fmt.Errorf("ICE server %q: want stun:, turn: or turns: URL", raw)
		}
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			user, pass, ok := strings.Cut(rest[:at], ":")
			if !ok {
				return nil, fmt.Errorf("ICE server %q: credentials must be user:pass@", scheme+":…")
			}
			s.Username, s.Credential = user, pass
			rest = rest[at+1:]
		}
		u := scheme + ":" + rest
		if err := checkICEURL(u); err != nil {
			return nil, err
		}
		s.URLs = []string{u}
		out = append(out, s)
	}
	return out, nil
}

func checkICEURL(u string) error {
	scheme, rest, _ := strings.Cut(u, ":")
	switch scheme {
	case "stun", "stuns", "turn", "turns":
	default:
		return fmt.Errorf("ICE server %q: scheme must be stun, stuns, turn or turns", u)
	}
	host, _, _ := strings.Cut(rest, "?")
	if host == "" {
		return fmt.Errorf("ICE server %q: missing host", u)
	}
	if _, err := url.Parse("x://" + host); err != nil {
		return fmt.Errorf("ICE server %q: %w", u, err)
	}
	return nil
}

// Validate checks values that parsed but make no sense, naming the setting.
func (s Server) Validate() error {
	var errs []error
	if _, port, err := net.SplitHostPort(s.Addr); err != nil {
		errs = append(errs, fmt.Errorf("invalid addr %q: want host:port, e.g. :8080 (%w)", s.Addr, err))
	} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		errs = append(errs, fmt.Errorf("invalid addr %q: port must be 0-65535", s.Addr))
	}
	if s.ICEUDPPort < 0 || s.ICEUDPPort > 65535 {
		errs = append(errs, fmt.Errorf("invalid ice-udp-port %d: must be 0-65535", s.ICEUDPPort))
	}
	if s.DumpViewers < 0 {
		errs = append(errs, fmt.Errorf("invalid dump-viewers %d: must be 0 or more", s.DumpViewers))
	}
	if s.MaxViewers < 0 {
		errs = append(errs, fmt.Errorf("invalid max-viewers %d: must be 0 (unlimited) or more", s.MaxViewers))
	}
	if s.NATIP != "" {
		if _, err := netip.ParseAddr(s.NATIP); err != nil {
			errs = append(errs, fmt.Errorf("invalid nat-ip %q: not an IP address", s.NATIP))
		}
	}
	if s.DumpDir == "" {
		errs = append(errs, errors.New("invalid dump-dir: must not be empty"))
	}
	if s.PprofAddr != "" {
		// Profiles reveal memory contents and cost CPU: never on a public address.
		host, _, err := net.SplitHostPort(s.PprofAddr)
		ip, perr := netip.ParseAddr(host)
		if err != nil || (host != "localhost" && (perr != nil || !ip.IsLoopback())) {
			errs = append(errs, fmt.Errorf("invalid pprof-addr %q: must be a loopback host:port such as 127.0.0.1:6060", s.PprofAddr))
		}
	}
	switch s.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("invalid log-level %q: want debug, info, warn or error", s.LogLevel))
	}
	return errors.Join(errs...)
}

// parseSize reads a byte size: a number with an optional unit B, KB, MB,
// GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024).
func parseSize(dst *int64, v string) error {
	t := strings.TrimSpace(v)
	i := len(t)
	for i > 0 && (t[i-1] < '0' || t[i-1] > '9') {
		i--
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(t[:i]), 64)
	if err != nil || n < 0 {
		return fmt.Errorf("not a size (want e.g. 256MiB, 20GB, 0)")
	}
	mult := map[string]float64{"": 1, "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
		"KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30, "TIB": 1 << 40}[strings.ToUpper(strings.TrimSpace(t[i:]))]
	if mult == 0 {
		return fmt.Errorf("unknown size unit %q (want B, KB, MB, GB, KiB, MiB, GiB)", strings.TrimSpace(t[i:]))
	}
	*dst = int64(n * mult)
	return nil
}

func formatSize(n int64) string {
	switch {
	case n == 0:
		return "0"
	case n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + "GiB"
	case n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "MiB"
	}
	return strconv.FormatInt(n, 10)
}

func parseDuration(dst *time.Duration, v string) error {
	v = strings.TrimSpace(v)
	if v == "0" {
		*dst = 0
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return fmt.Errorf("not a duration (want e.g. 10m, 24h, 0)")
	}
	*dst = d
	return nil
}

func parseInt(dst *int, v string) error {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return fmt.Errorf("not an integer")
	}
	*dst = n
	return nil
}

func parseBool(dst *bool, v string) error {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on":
		*dst = true
	case "0", "false", "no", "off", "":
		*dst = false
	default:
		return fmt.Errorf("not a boolean (want true/false/1/0)")
	}
	return nil
}

// parsePrefixes reads a comma separated list of IPs and CIDRs; "none" or
// an empty value is the empty list.
func parsePrefixes(dst *[]netip.Prefix, v string) error {
	var out []netip.Prefix
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" || item == "none" {
			continue
		}
		if p, err := netip.ParsePrefix(item); err == nil {
			out = append(out, p.Masked())
			continue
		}
		ip, err := netip.ParseAddr(item)
		if err != nil {
			return fmt.Errorf("%q is neither an IP address nor a CIDR prefix", item)
		}
		out = append(out, netip.PrefixFrom(ip, ip.BitLen()))
	}
	*dst = out
	return nil
}

// formatList is formatPrefixes with "" for the empty list (the flag's
// default shows nothing rather than "none").
func formatList(ps []netip.Prefix) string {
	if len(ps) == 0 {
		return ""
	}
	return formatPrefixes(ps)
}

func formatPrefixes(ps []netip.Prefix) string {
	if len(ps) == 0 {
		return "none"
	}
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return strings.Join(out, ",")
}
