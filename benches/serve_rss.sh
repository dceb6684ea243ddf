#!/bin/bash
# Steady-state resident memory of `daemonscope serve` and of the TUI, each alone against
# the same simulator at NODES x DAEMONSETS (5,000 x 30 by default), and the time and size
# of a scrape over HTTP. Each client runs until every watch is live, then SETTLE seconds
# more, and its VmRSS is sampled SAMPLES times, 2 s apart (the median is printed).
# Needs: a release build (cargo build --release), tmux, curl.
set -u
B=${B:-target/release/daemonscope}
N=${NODES:-5000}
D=${DAEMONSETS:-30}
SETTLE=${SETTLE:-20}
SAMPLES=${SAMPLES:-5}
PORT=${PORT:-19753}
T=$(mktemp -d)
SIM=
SERVE=
cleanup() {
    [ -n "$SERVE" ] && kill "$SERVE" 2>/dev/null
    [ -n "$SIM" ] && kill "$SIM" 2>/dev/null
    tmux -L ds-rss kill-server 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
median_rss() {
    local pid=$1 v=()
    for _ in $(seq 1 "$SAMPLES"); do v+=("$(rss_kb "$pid")"); sleep 2; done
    printf '%s\n' "${v[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.0f", a[int((NR+1)/2)]/1024}'
}

$B sim --nodes "$N" --daemonsets "$D" --listen 127.0.0.1:0 --kubeconfig-out "$T/kc" >"$T/sim.out" 2>&1 &
SIM=$!
for _ in $(seq 1 600); do grep -q serving "$T/sim.out" && break; sleep 1; done
head -1 "$T/sim.out"

$B --kubeconfig "$T/kc" serve --listen "127.0.0.1:$PORT" 2>"$T/serve.err" &
SERVE=$!
for _ in $(seq 1 600); do [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/readyz")" = 200 ] && break; sleep 1; done
sleep "$SETTLE"
echo "serve steady-state RSS (median of $SAMPLES): $(median_rss "$SERVE") MB"
for i in 1 2 3; do
    curl -s -o "$T/scrape.txt" -w "scrape $i: %{time_total} s, %{size_download} bytes\n" "http://127.0.0.1:$PORT/metrics"
done
echo "node problem series: $(grep -c '^daemonscope_daemonset_node_problem{' "$T/scrape.txt"), dropped: $(grep '^daemonscope_node_series_dropped' "$T/scrape.txt")"
kill "$SERVE"; wait "$SERVE" 2>/dev/null; SERVE=

tmux -L ds-rss new-session -d -s tui -x 200 -y 50 "$B --kubeconfig $T/kc --log-file $T/tui.log"
for _ in $(seq 1 600); do grep -q "initial sync complete" "$T/tui.log" 2>/dev/null && break; sleep 1; done
sleep "$SETTLE"
TUI=$(pgrep -f "^$B --kubeconfig $T/kc --log-file" | head -1)
echo "TUI steady-state RSS (median of $SAMPLES): $(median_rss "$TUI") MB"
tmux -L ds-rss send-keys -t tui q
