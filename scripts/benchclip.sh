# Sourced by the benchmark scripts: builds bcast into $WORK and makes the
# benchmark stream once, a 1280×720 VP8 clip at ~1.4 Mbps with a keyframe
# every 2 s plus 96 kbps Opus, 20 s each (published with --loop).
go build -o "$WORK/bcast" ./cmd/bcast
if [ ! -f "$WORK/clip.ivf" ]; then
	ffmpeg -hide_banner -loglevel error -y -f lavfi -i "testsrc2=size=1280x720:rate=30:duration=20" \
		-c:v libvpx -b:v 1400k -minrate 1400k -maxrate 1400k -g 60 -deadline realtime -cpu-used 8 \
		-auto-alt-ref 0 -error-resilient 1 "$WORK/clip.ivf"
	ffmpeg -hide_banner -loglevel error -y -f lavfi -i "sine=frequency=440:duration=20" \
		-ac 2 -ar 48000 -c:a libopus -b:a 96k -frame_duration 20 "$WORK/clip.ogg"
fi
