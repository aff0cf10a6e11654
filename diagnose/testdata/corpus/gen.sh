#!/bin/sh
# Regenerates the capture corpus of the diagnose tests: real RTP from
# ffmpeg's packetizers (libx264 over RFC 6184 FU-A/STAP-A, libvpx over
# RFC 7741, libopus over RFC 7587), sent to loopback and captured by dumpcap.
# Needs ffmpeg, dumpcap (wireshark-common) and the right to capture on lo
# (root, or dumpcap's capabilities). Ground truth in README.md.
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# capture NAME SECONDS ENCODER-ARGS...: one video and (unless NOAUDIO=1)
# one audio RTP stream, video on port 5004, audio on 5006.
capture() {
	name=$1 secs=$2
	shift 2
	dumpcap -q -i lo -f "udp portrange 5004-5007" -w "$tmp/$name.pcapng" >/dev/null 2>&1 &
	dc=$!
	sleep 1
	if [ "${NOAUDIO:-0}" = 1 ]; then
		timeout 30 ffmpeg -hide_banner -loglevel error -y \
			-re -f lavfi -i "testsrc2=size=${SIZE:-160x120}:rate=15:duration=$secs" \
			-map 0:v "$@" -payload_type 96 -ssrc "${VSSRC:-287454020}" -pkt_size 500 -f rtp rtp://127.0.0.1:5004 \
			-sdp_file "$name.sdp"
	else
		timeout 30 ffmpeg -hide_banner -loglevel error -y \
			-re -f lavfi -i "testsrc2=size=${SIZE:-160x120}:rate=15:duration=$secs" \
			-re -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=$secs" \
			-map 0:v "$@" -payload_type 96 -ssrc "${VSSRC:-287454020}" -pkt_size 500 -f rtp rtp://127.0.0.1:5004 \
			-map 1:a -c:a libopus -b:a 24k -payload_type 111 -ssrc 572662306 -f rtp rtp://127.0.0.1:5006 \
			-sdp_file "$name.sdp"
	fi
	sleep 1
	kill "$dc"
	wait "$dc" || true
	mv "$tmp/$name.pcapng" "$name.pcapng"
	chmod 644 "$name.pcapng"
	sed -i 's/^a=tool:libavformat [^\r]*/a=tool:libavformat/' "$name.sdp"
}

x264="-c:v libx264 -profile:v baseline -preset veryfast -tune zerolatency -g 15 -b:v 150k"
# shellcheck disable=SC2086
capture h264_opus 4 $x264
# shellcheck disable=SC2086
SIZE=320x240 VSSRC=305419896 NOAUDIO=1 capture h264_qvga 2 $x264
capture vp8_opus 4 -c:v libvpx -deadline realtime -cpu-used 8 -g 15 -b:v 150k
ls -l ./*.pcapng
