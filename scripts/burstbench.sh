#!/usr/bin/env bash
# Burst benchmark: what a burst of joins does to the viewers already watching.
#
# Starts `bcast serve` and a ~1.5 Mbps VP8 + Opus publisher (as
# scripts/loadbench.sh does), joins EXISTING background viewers and WATCHERS
# measuring viewers, then after SETTLE seconds BURST more viewers in one
# burst, and prints the watchers' longest gap between two complete frames
# (p50/p99/max) and their loss, the burst's joins, and the longest gap in the
# ingest dump (what the server received, with tshark).
#
# One machine runs everything, so the load tester's own CPU would bend the
# figure: the background viewers and the burst run at nice 19, so that the
# server and the few watchers get the CPU they need and the gap shows what
# the server does, not what starves the clients. The burst's join times are
# therefore not meaningful here (scripts/loadbench.sh measures those).
#
# Everything runs on loopback and stops by itself. Usage:
#   scripts/burstbench.sh                          # EXISTING=500 WATCHERS=20 BURST=500
#   EXISTING=200 BURST=200 scripts/burstbench.sh
# Needs: go, ffmpeg (libvpx, libopus), curl, awk, python3; tshark optional.
set -euo pipefail
cd "$(dirname "$0")/.."

EXISTING=${EXISTING:-500}
WATCHERS=${WATCHERS:-20}
BURST=${BURST:-500}
SETTLE=${SETTLE:-20}
PORT=${PORT:-18580}
WORK=${WORK:-$(mktemp -d /tmp/bcast-burstbench.XXXXXX)}
BASE="http://127.0.0.1:$PORT"
TOKEN=burstbench

. scripts/benchclip.sh

pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT

BCAST_NO_TUI=1 "$WORK/bcast" serve --addr "127.0.0.1:$PORT" --ice-udp-port 0 --publish-token "$TOKEN" --admin-token "$TOKEN" \
	--dump-dir "$WORK/dumps" --log-level warn 2>"$WORK/server.log" >/dev/null &
pids+=("$!")
until curl -fs "$BASE/api/streams" >/dev/null; do sleep 0.2; done
"$WORK/bcast" publish --url "$BASE/api/whip/bench" --token "$TOKEN" --loop "$WORK/clip.ivf" "$WORK/clip.ogg" 2>"$WORK/publish.log" &
pids+=("$!")
until curl -fs "$BASE/api/streams" | grep '"live": true' >/dev/null; do sleep 0.2; done

hold=$((SETTLE + 15))
nice -n 19 "$WORK/bcast" loadtest "$BASE/api/whep/bench" -n "$EXISTING" --ramp 10s --duration "${hold}s" --json \
	>"$WORK/existing.json" 2>"$WORK/existing.log" &
pids+=("$!")
"$WORK/bcast" loadtest "$BASE/api/whep/bench" -n "$WATCHERS" --ramp 2s --duration "$((hold + 8))s" --json \
	>"$WORK/watchers.json" 2>"$WORK/watchers.log" &
watchers=$!
pids+=("$watchers")
sleep "$SETTLE"
burst_at=$(date +%s.%N)
nice -n 19 "$WORK/bcast" loadtest "$BASE/api/whep/bench" -n "$BURST" --burst --duration 5s --json \
	>"$WORK/burst.json" 2>"$WORK/burst.log" || true
wait "$watchers" || true

ingest_gap=n/a
if command -v tshark >/dev/null; then
	ingest_gap=$(for f in "$WORK"/dumps/bench/*.pcapng; do tshark -r "$f" -T fields -e frame.time_epoch 2>/dev/null; done |
		awk -v from="$burst_at" '$1 >= from - 1 && p { d = $1 - p; if (d > m) m = d } { p = $1 } END { printf "%.0f", m * 1000 }')
fi
python3 - "$WORK" "$ingest_gap" "$EXISTING" "$WATCHERS" "$BURST" <<'PY'
import json, sys
work, ingest, existing, watchers, burst = sys.argv[1:]
w = json.load(open(f"{work}/watchers.json"))
b = json.load(open(f"{work}/burst.json"))
g = w["max_frame_gap_ms"]
print(f"{existing}+{watchers} watching, {burst} joining in a burst")
print(f"watchers: ok {w['ok']}/{watchers}, longest frame gap p50 {g['p50']:.0f} ms, p99 {g['p99']:.0f} ms, max {g['max']:.0f} ms, "
      f"loss {w['totals']['loss_pct']:.3f} %")
print(f"burst: ok {b['ok']}/{burst}, failed {b['failed']}")
print(f"ingest: longest gap between received packets from 1 s before the burst: {ingest} ms")
print(f"raw results: {work}")
PY
