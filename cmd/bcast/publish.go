package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/bcastdev/bcast/client"
	"github.com/bcastdev/bcast/media"
)

func newPublishCmd() *cobra.Command {
	var (
		url, token string
		loop       bool
	)
	cmd := &cobra.Command{
		Use:   "publish --url URL --token T FILE...",
		Short: "Publish IVF (VP8/VP9/AV1), H264 Annex-B and Ogg/Opus files over WHIP in real time",
		Example: "  bcast publish --url http://localhost:8080/api/whip/live --token $TOKEN video.ivf audio.ogg\n" +
			"  bcast publish --url http://localhost:8080/api/whip/live --token $TOKEN --loop clip.h264",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			if url == "" {
				return errors.New("--url is required (the WHIP endpoint, e.g. http://host:8080/api/whip/live)")
			}
			if token == "" {
				token = os.Getenv("BCAST_PUBLISH_TOKEN")
			}
			log := newLogger(cmd.ErrOrStderr(), "info")
			return runPublish(cmd.Context(), log, url, token, files, loop)
		},
	}
	cmd.Flags().StringVar(&url, "url", "", "WHIP endpoint URL")
	cmd.Flags().StringVar(&token, "token", "", "publish token (default $BCAST_PUBLISH_TOKEN)")
	cmd.Flags().BoolVar(&loop, "loop", false, "start over at the end of the files")
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

func kindName(video bool) string {
	if video {
		return "video"
	}
	return "audio"
}
