package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/bcastdev/bcast/config"
	"github.com/bcastdev/bcast/demo"
	"github.com/bcastdev/bcast/media"
	"github.com/bcastdev/bcast/server"
	"github.com/bcastdev/bcast/sysinfo"
	"github.com/bcastdev/bcast/tui"
)

func newServeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the broadcast server (the default command)",
		Example: "  bcast serve --demo\n" +
			"  BCAST_PUBLISH_TOKEN=secret bcast serve --addr :8080 --max-viewers 1000",
		Args: cobra.NoArgs,
	}
	config.RegisterFlags(cmd.Flags())
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := config.Load(cmd.Flags(), os.LookupEnv)
		if err != nil {
			return err
		}
		return runServe(cmd.Context(), cfg, cmd.OutOrStdout(), cmd.ErrOrStderr())
	}
	return cmd
}

// randomToken returns a 128-bit URL-safe token.
func randomToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func newLogger(w io.Writer, level string) *slog.Logger {
	return slog.New(logHandler(w, level))
}

func logHandler(w io.Writer, level string) slog.Handler {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})
}

// wantConsole reports whether serve opens the operator console: stdout
// and stdin are a terminal and --no-tui is not set (CONTRACT.md).
func wantConsole(cfg config.Server, stdout io.Writer) bool {
	f, ok := stdout.(*os.File)
	return !cfg.NoTUI && ok && term.IsTerminal(f.Fd()) && term.IsTerminal(os.Stdin.Fd())
}

// openLogFile opens <dump-dir>/bcast-<UTC start>.log for the console mode,
// where the terminal belongs to the console: the log stays beside the
// dumps for the post-mortem.
func openLogFile(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	name := filepath.Join(dir, "bcast-"+time.Now().UTC().Format("20060102T150405Z")+".log")
	return os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
}

func runServe(ctx context.Context, cfg config.Server, stdout, stderr io.Writer) error {
	console := wantConsole(cfg, stdout)
	events := server.NewEvents()
	logOut := stderr
	if console {
		f, err := openLogFile(cfg.DumpDir)
		if err != nil {
			return fmt.Errorf("log file in %s (--dump-dir): %w", cfg.DumpDir, err)
		}
		defer f.Close()
		logOut = f
	}
	// Warnings and errors also reach consoles (this one and remote ones) as
	// alerts.
	log := slog.New(server.AlertHandler(logHandler(logOut, cfg.LogLevel), events, slog.LevelWarn))
	soft, hard, err := sysinfo.RaiseFDLimit()
	if err != nil {
		log.Warn("could not raise file descriptor limit", "soft", soft, "hard", hard, "err", err)
	} else if soft > 0 {
		log.Info("file descriptor limit", "soft", soft, "hard", hard)
	}
	generatedPublish, generatedAdmin := cfg.PublishToken == "", cfg.AdminToken == ""
	if generatedPublish {
		cfg.PublishToken = randomToken()
	}
	if generatedAdmin {
		cfg.AdminToken = randomToken()
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s (--addr): %w", cfg.Addr, err)
	}
	srv, err := server.New(server.Options{Config: cfg, Logger: log, Version: buildVersion(), Events: events})
	if err != nil {
		_ = ln.Close()
		return fmt.Errorf("start server (--ice-udp-port %d): %w", cfg.ICEUDPPort, err)
	}
	defer srv.Close()

	banner := bannerLines(cfg, ln.Addr(), srv, generatedPublish, generatedAdmin)
	printBanner(stdout, banner)
	log.Info("serving", "http", ln.Addr().String(), "ice_udp", addrList(srv.ICEAddrs()), "version", buildVersion())

	if cfg.PprofAddr != "" {
		stop, err := servePprof(cfg.PprofAddr, log)
		if err != nil {
			return err
		}
		defer stop()
	}
	if cfg.Demo {
		go runDemo(ctx, srv, log)
	}
	if !console {
		return serveUntilDone(ctx, srv, ln)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- serveUntilDone(ctx, srv, ln) }()
	local := srv.Local()
	defer local.Close()
	title := fmt.Sprintf("bcast serve %s", ln.Addr())
	cerr := tui.Run(ctx, local, tui.Options{Title: title, About: banner})
	cancel()
	return errors.Join(cerr, <-errc)
}

func serveUntilDone(ctx context.Context, srv *server.Server, ln net.Listener) error {
	err := srv.Serve(ctx, ln)
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// runDemo publishes the embedded clip as stream "demo", looping, and
// re-publishes it if a WHIP publisher took the stream over and left.
func runDemo(ctx context.Context, srv *server.Server, log *slog.Logger) {
	video := media.Loop(demo.OpenVideo)
	audio := media.Loop(demo.OpenAudio)
	defer video.Close()
	defer audio.Close()
	if err := srv.PublishLocal(ctx, "demo", video, audio); err != nil {
		log.Error("demo stream stopped", "err", err)
	}
}

// servePprof serves net/http/pprof on its own loopback listener, apart from
// the public mux, so profiles are never reachable from the network.
func servePprof(addr string, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s (--pprof-addr): %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	log.Info("pprof", "addr", "http://"+ln.Addr().String()+"/debug/pprof/")
	return func() { _ = hs.Close() }, nil
}

// printBanner tells the operator where things are. Tokens are printed here,
// once, to the terminal (and shown in the console's help), never written to
// the logs.
func printBanner(w io.Writer, lines []string) {
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
}

func bannerLines(cfg config.Server, addr net.Addr, srv *server.Server, genPub, genAdmin bool) []string {
	base := fmt.Sprintf("http://localhost:%d", addr.(*net.TCPAddr).Port)
	lines := []string{
		"bcast " + buildVersion(),
		"  player:      " + base + "/",
		"  publish:     " + base + "/publish",
		"  WHIP (OBS):  " + base + "/api/whip/<stream>",
		"  WHEP:        " + base + "/api/whep/<stream>",
		"  ICE UDP:     " + addrList(srv.ICEAddrs()),
		"  publish token: " + cfg.PublishToken + randomNote(genPub, "publish-token"),
		"  admin token:   " + cfg.AdminToken + randomNote(genAdmin, "admin-token"),
	}
	if cfg.Demo {
		lines = append(lines, "  demo stream:   "+base+"/?stream=demo")
	}
	return lines
}

func randomNote(generated bool, setting string) string {
	if !generated {
		return ""
	}
	return fmt.Sprintf(" (random; set --%s / %s to keep it)", setting, config.EnvName(setting))
}

func addrList(addrs []net.Addr) string {
	seen := map[string]bool{}
	var out []string
	for _, a := range addrs {
		if s := a.String(); !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}
