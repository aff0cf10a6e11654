#!/usr/bin/env bash
# Load benchmark: what fan-out costs the server, measured from the outside.
#
# Starts `bcast serve`, publishes a ~1.5 Mbps VP8 + Opus stream with
# `bcast publish --loop`, then for each N in $NS runs `bcast loadtest` with N
# browser-like viewers joining in one burst and prints, per N:
#   cpu_us_pkt   server CPU (user+sys from /proc/PID/stat) per RTP packet it
#                sent to a viewer, measured over a steady window after all joins
#   rss_kb_view  (RSS during the window - RSS before the viewers) / N
#   gor_view     (goroutines during the window - before) / N
#   join p50/p99, first-frame p95 (ms), loss % and failed joins, from loadtest --json
# With CONSOLE=1 (needs tmux) it also runs `bcast console --readonly` in a
# detached tmux terminal during each window and prints its CPU: the
# operator console's cost with N viewers (4 snapshots a second over the
# admin API, JSON decode, render).
#
# With PROFILE=1 the server also serves pprof on loopback and a CPU profile
# of each window is saved as $WORK/cpu-N.prof (`go tool pprof -top`), a heap
# profile at its end as $WORK/heap-N.prof.
#
# SERVER_CPUS / CLIENT_CPUS (taskset lists, e.g. 0 and 1) pin the server and
# the clients (publisher, load tester, console) to separate cores, so the
# server's figures are not bent by competing for a core with 1000 peers.
#
# Everything runs on loopback and stops by itself. Usage:
#   scripts/loadbench.sh                    # N = 100 300 1000, 30 s windows
#   NS="100" WINDOW=10 scripts/loadbench.sh # quick run
# Needs: go, ffmpeg (libvpx, libopus), curl, awk.
set -euo pipefail
cd "$(dirname "$0")/.."

NS=${NS:-"100 300 1000"}
WINDOW=${WINDOW:-30}      # seconds of steady state measured per N
SETTLE=${SETTLE:-8}       # seconds after the burst before measuring
PORT=${PORT:-18480}
WORK=${WORK:-$(mktemp -d /tmp/bcast-loadbench.XXXXXX)}
BASE="http://127.0.0.1:$PORT"
TOKEN=loadbench

. scripts/benchclip.sh

# on CPUS CMD... &: run CMD pinned to CPUS when set. Always started in the
# background, so exec makes $! the command's own pid (for /proc and kill).
on() {
	local cpus=$1
	shift
	if [ -n "$cpus" ]; then exec taskset -c "$cpus" "$@"; else exec "$@"; fi
}

pids=()
TMUX_SOCK=bcast-loadbench-$$
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	[ "${CONSOLE:-}" = 1 ] && tmux -L "$TMUX_SOCK" kill-server 2>/dev/null || true
	wait 2>/dev/null || true
}
trap cleanup EXIT

BCAST_NO_TUI=1 on "${SERVER_CPUS:-}" "$WORK/bcast" serve --addr "127.0.0.1:$PORT" --ice-udp-port 0 --publish-token "$TOKEN" --admin-token "$TOKEN" \
	--dump-dir "$WORK/dumps" --log-level warn ${PROFILE:+--pprof-addr "127.0.0.1:$((PORT + 1))"} \
	2>"$WORK/server.log" >/dev/null &
SERVER=$!
pids+=("$SERVER")
until curl -fs "$BASE/api/streams" >/dev/null; do sleep 0.2; done
on "${CLIENT_CPUS:-}" "$WORK/bcast" publish --url "$BASE/api/whip/bench" --token "$TOKEN" --loop "$WORK/clip.ivf" "$WORK/clip.ogg" \
	2>"$WORK/publish.log" &
pids+=("$!")
# grep reads all of curl's output (no -q): with pipefail, curl killed by
# SIGPIPE would make the test fail forever.
until curl -fs "$BASE/api/streams" | grep '"live": true' >/dev/null; do sleep 0.2; done

CLK=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$SERVER/status"; }
metric() { curl -fs "$BASE/metrics" | awk -v m="$1" '$1 ~ "^"m"({|$)" {s += $2} END {printf "%.0f", s}'; }

printf '%-6s %-11s %-11s %-9s %-9s %-9s %-12s %-8s %s\n' \
	N cpu_us_pkt rss_kb_view gor_view join_p50 join_p99 firstfr_p95 loss_% failed
for N in $NS; do
	rss0=$(rss_kb); gor0=$(metric go_goroutines)
	on "${CLIENT_CPUS:-}" "$WORK/bcast" loadtest "$BASE/api/whep/bench" -n "$N" --burst --duration "$((SETTLE + WINDOW + 2))s" --json \
		>"$WORK/loadtest-$N.json" 2>"$WORK/loadtest-$N.log" &
	lt=$!
	sleep "$SETTLE"
	if [ "${CONSOLE:-}" = 1 ]; then
		tmux -L "$TMUX_SOCK" -f /dev/null new-session -d -x 160 -y 50 \
			"echo \$\$ > $WORK/console.pid; exec ${CLIENT_CPUS:+taskset -c $CLIENT_CPUS} $WORK/bcast console $BASE --admin-token $TOKEN --readonly"
		sleep 2
		CPID=$(cat "$WORK/console.pid")
		c0=$(awk '{print $14 + $15}' "/proc/$CPID/stat")
	fi
	t0=$(cpu_ticks); p0=$(metric bcast_egress_packets_total)
	if [ "${PROFILE:-}" = 1 ]; then
		curl -fs -o "$WORK/cpu-$N.prof" "http://127.0.0.1:$((PORT + 1))/debug/pprof/profile?seconds=$WINDOW" &
	fi
	sleep "$WINDOW"
	t1=$(cpu_ticks); p1=$(metric bcast_egress_packets_total)
	if [ "${PROFILE:-}" = 1 ]; then
		curl -fs -o "$WORK/heap-$N.prof" "http://127.0.0.1:$((PORT + 1))/debug/pprof/heap"
	fi
	if [ "${CONSOLE:-}" = 1 ]; then
		c1=$(awk '{print $14 + $15}' "/proc/$CPID/stat")
		tmux -L "$TMUX_SOCK" capture-pane -p >"$WORK/console-$N.txt"
		tmux -L "$TMUX_SOCK" kill-server
		awk -v d="$((c1 - c0))" -v clk="$CLK" -v w="$WINDOW" -v N="$N" \
			'BEGIN { printf "       console (bcast console --readonly, %d viewers): %.2f %% of one core\n", N, d * 100 / clk / w }'
	fi
	rss1=$(rss_kb); gor1=$(metric go_goroutines)
	wait "$lt" || true
	json="$WORK/loadtest-$N.json"
	# field OBJ KEY: KEY inside the JSON object OBJ ("" = top level) of loadtest --json.
	field() {
		awk -v obj="$1" -v key="$2" '
			obj == "" || $0 ~ "\"" obj "\": *[{]" { on = 1 }
			on && $0 ~ "^ *\"" key "\":" { v = $2; gsub(/[",]/, "", v); printf "%.0f", v; exit }' "$json"
	}
	# join = POST sent -> ICE+DTLS connected, per viewer (loadtest's join_ms).
	awk -v N="$N" -v dt="$((t1 - t0))" -v clk="$CLK" -v dp="$((p1 - p0))" -v r0="$rss0" -v r1="$rss1" \
		-v g0="$gor0" -v g1="$gor1" \
		-v j50="$(field join_ms p50)" -v j99="$(field join_ms p99)" \
		-v ff="$(field first_keyframe_ms p95)" -v loss="$(awk '/"totals"/ {on=1} on && /"loss_pct"/ {v=$2; gsub(/[",]/,"",v); print v; exit}' "$json")" \
		-v failed="$(field "" failed)" \
		'BEGIN { printf "%-6d %-11.2f %-11.0f %-9.2f %-9s %-9s %-12s %-8.3f %s\n", N, (dp > 0 ? dt * 1e6 / clk / dp : 0),
			(r1 - r0) / N, (g1 - g0) / N, j50, j99, ff, loss, failed }'
	sleep 3 # let viewers leave before the next round
done
echo "raw results: $WORK"
