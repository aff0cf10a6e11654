// Package demo embeds the built-in test clip that `bcast serve --demo`
// publishes as stream "demo", so a first run shows moving video and plays
// audible sound without any streamer: 10 s of 640x360 30 fps VP8 (a test
// pattern with a running clock and frame counter, a keyframe every 2 s) and
// 48 kHz stereo Opus (a tone with a beep every second), about 470 KB in
// all. make-clip.sh regenerates the files with ffmpeg.
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

// OpenVideo returns a reader over the embedded VP8 clip. Each call reads
// from the start, so media.Loop(OpenVideo) plays it forever.
func OpenVideo() (media.Source, error) {
	return media.OpenReader(bytes.NewReader(clipIVF), "demo/clip.ivf")
}

// OpenAudio returns a reader over the embedded Opus clip. Each call reads
// from the start, so media.Loop(OpenAudio) plays it forever.
func OpenAudio() (media.Source, error) {
	return media.OpenReader(bytes.NewReader(clipOgg), "demo/clip.ogg")
}
