// Package demo embeds the built-in test clip that `bcast serve --demo`
// publishes as stream "demo", so a first run shows moving video and audible
// sound without any streamer. make-clip.sh regenerates the files with ffmpeg.
package demo

import (
	"bytes"
	_ "embed"

	"github.com/bcastdev/bcast/media"
)

var (
	//go:embed clip.ivf
	clipIVF []byte
	//go:embed clip.ogg
	clipOgg []byte
)

// OpenVideo returns a reader over the embedded VP8 clip.
func OpenVideo() (media.Source, error) {
	return media.OpenReader(bytes.NewReader(clipIVF), "demo/clip.ivf")
}

// OpenAudio returns a reader over the embedded Opus clip.
func OpenAudio() (media.Source, error) {
	return media.OpenReader(bytes.NewReader(clipOgg), "demo/clip.ogg")
}
