#!/bin/sh
# make-clip.sh regenerates the embedded demo clip (clip.ivf + clip.ogg).
#
# The clip is synthetic so that it carries no licensing baggage and so that
# problems are easy to see and hear:
#
#   clip.ivf  10 s, 640x360, 30 fps VP8 in IVF. testsrc2 pattern with a
#             burned-in clip clock and frame counter, so a viewer can tell
#             at a glance whether playback is smooth, stalled or looping.
#             -g 60 -keyint_min 60: a keyframe every 2 s, so a viewer who
#             joins mid-stream waits at most 2 s for a decodable picture.
#             -auto-alt-ref 0: no hidden alt-ref frames (every IVF frame is
#             a shown frame, i.e. one WebRTC sample of 1/30 s).
#             -error-resilient 1 -deadline realtime -cpu-used 8: the
#             settings a real-time sender would use, so the demo stresses
#             the same decoder paths as a live publisher. -threads 1 makes
#             the libvpx output deterministic (multi-threaded encoding is
#             not), so re-running the script does not churn the binaries.
#   clip.ogg  10 s Opus in Ogg, 48 kHz stereo, 64 kbps, 20 ms frames. A
#             440 Hz tone with a higher beep once per second (beep_factor)
#             so that audio/video sync and looping are audible.
#             -vbr constrained: plain VBR spends ~90 kbps on pure tones;
#             constrained VBR keeps the file at the nominal 64 kbps.
#
# -fflags +bitexact keeps the output reproducible: no encoder version
# strings in the containers and a fixed Ogg serial number.
#
# Requires ffmpeg built with libvpx, libopus and libfreetype (drawtext).
# If the font below is missing, the script falls back to testsrc2 alone.
# Usage: ./make-clip.sh   (writes next to this script)
set -eu

cd "$(dirname "$0")"

font=/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf
video="testsrc2=size=640x360:rate=30:duration=10"
if [ -f "$font" ]; then
	video="$video,drawtext=fontfile=$font:fontsize=28:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=8:x=16:y=h-th-24:text='bcast demo  %{pts\:hms}  frame %{eif\:n\:d\:3}'"
fi

ffmpeg -hide_banner -loglevel error -y \
	-f lavfi -i "$video" \
	-an -pix_fmt yuv420p \
	-c:v libvpx -b:v 300k -g 60 -keyint_min 60 -auto-alt-ref 0 \
	-deadline realtime -cpu-used 8 -error-resilient 1 -threads 1 \
	-fflags +bitexact -flags:v +bitexact \
	-f ivf clip.ivf

ffmpeg -hide_banner -loglevel error -y \
	-f lavfi -i "sine=frequency=440:beep_factor=4:sample_rate=48000:duration=10" \
	-vn -ac 2 -ar 48000 \
	-c:a libopus -b:a 64k -vbr constrained -frame_duration 20 -application audio \
	-fflags +bitexact -flags:a +bitexact \
	-f ogg clip.ogg

ls -l clip.ivf clip.ogg
