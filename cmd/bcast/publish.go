package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bcastdev/bcast/client"
	"github.com/bcastdev/bcast/inspect"
	"github.com/bcastdev/bcast/media"
)

func newPublishCmd() *cobra.Command {
	var (
		url, token, sdpFile string
		loop                bool
	)
	cmd := &cobra.Command{
		Use:   "publish --url URL --token T FILE...",
		Short: "Publish media files, or re-publish an RTP dump, over WHIP in real time",
		Long: "publish sends IVF (VP8/VP9/AV1), H264 Annex-B and Ogg/Opus files over WHIP, paced in real time.\n" +
			"Given .pcapng/.pcap files or a dump directory instead, it re-publishes the captured RTP with its\n" +
			"original pacing (codecs from the embedded SDP or --sdp), to reproduce an incident on a staging server.",
		Example: "  bcast publish --url http://localhost:8080/api/whip/live --token $TOKEN video.ivf audio.ogg\n" +
			"  bcast publish --url http://localhost:8080/api/whip/live --token $TOKEN --loop clip.h264\n" +
			"  bcast publish --url http://staging:8080/api/whip/repro --token $TOKEN dumps/live/",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			if url == "" {
				return errors.New("--url is required (the WHIP endpoint, e.g. http://host:8080/api/whip/live)")
			}
			if token == "" {
				token = os.Getenv("BCAST_PUBLISH_TOKEN")
			}
			log := newLogger(cmd.ErrOrStderr(), "info")
			if captures, err := captureFiles(files); err != nil || len(captures) > 0 {
				if err != nil {
					return err
				}
				sdp, err := readOptional(sdpFile)
				if err != nil {
					return err
				}
				return client.PublishCapture(cmd.Context(), log, url, token, captures, sdp, loop)
			}
			return runPublish(cmd.Context(), log, url, token, files, loop)
		},
	}
	cmd.Flags().StringVar(&url, "url", "", "WHIP endpoint URL")
	cmd.Flags().StringVar(&token, "token", "", "publish token (default $BCAST_PUBLISH_TOKEN)")
	cmd.Flags().BoolVar(&loop, "loop", false, "start over at the end of the files")
	cmd.Flags().StringVar(&sdpFile, "sdp", "", "SDP of captures that carry none (re-publishing a foreign pcap)")
	return cmd
}

func runPublish(ctx context.Context, log *slog.Logger, url, token string, files []string, loop bool) error {
	sources := make([]media.Source, 0, len(files))
	defer func() {
		for _, s := range sources {
			_ = s.Close()
		}
	}()
	kinds := map[bool]string{}
	for _, f := range files {
		open := func() (media.Source, error) { return media.Open(f) }
		src, err := open()
		if err != nil {
			return err
		}
		video := src.Channels() == 0
		if prev, dup := kinds[video]; dup {
			_ = src.Close()
			return fmt.Errorf("%s and %s are both %s: give at most one video and one audio file", prev, f, kindName(video))
		}
		kinds[video] = f
		if loop {
			_ = src.Close()
			src = media.Loop(open)
		}
		sources = append(sources, src)
	}

	return client.Publish(ctx, log, url, token, sources)
}

// captureFiles returns the capture files among args (a dump directory
// expands to its segments); media files and captures cannot be mixed.
func captureFiles(args []string) ([]string, error) {
	var captures []string
	for _, a := range args {
		fi, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		ext := strings.ToLower(filepath.Ext(a))
		if fi.IsDir() || ext == ".pcapng" || ext == ".pcap" || ext == ".cap" {
			captures = append(captures, a)
		}
	}
	if len(captures) == 0 {
		return nil, nil
	}
	if len(captures) != len(args) {
		return nil, errors.New("give either media files or captures (.pcapng/.pcap, dump directories), not both")
	}
	return inspect.Expand(captures)
}

func readOptional(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("--sdp: %w", err)
	}
	return string(b), nil
}

func kindName(video bool) string {
	if video {
		return "video"
	}
	return "audio"
}
