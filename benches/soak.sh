#!/bin/bash
# Soak: the whole TUI process watching a churning simulated cluster for a long time
# (30 min by default), to show its memory stays flat. Not run in CI.
#
# The simulator (NODES x DAEMONSETS) is churned with kubectl every STEP seconds, in a
# fixed cycle: nodes join and leave (a rolling set of up to EXTRA_NODES `soak-*` nodes),
# RollingUpdate DaemonSets roll (a pod-template annotation changes), a DaemonSet's pods
# go bad (template annotation sim.daemonscope.io/behavior = crash-loop |
# image-pull-error | never-ready) and later back to healthy, a soak node gets
# sim.daemonscope.io/pod-behavior, a generated node goes NotReady
# (sim.daemonscope.io/node-state) and back. Every SAMPLE seconds the VmRSS of the TUI
# process and of the simulator go to $OUT as `elapsed_s,tui_rss_kb,sim_rss_kb`; at the
# end a summary (growth between the medians of the first and the last quarter) and an
# ASCII plot. Exits 1 if the TUI died (or would not quit on `q`); Ctrl-C stops early,
# with the summary. The simulator's own RSS grows as it fills its watch history (50,000 events
# by default): that is not the TUI.
#
#   benches/soak.sh                                   # 30 min, 1000 nodes x 10 DaemonSets
#   DURATION=150 SAMPLE=15 NODES=300 DAEMONSETS=5 benches/soak.sh   # a trial
#
# Env: B (binary, default target/release/daemonscope), DURATION (s, 1800), SAMPLE (s, 30),
# STEP (s between churn steps, 5), NODES (1000), DAEMONSETS (10), EXTRA_NODES (8),
# OUT (target/soak.csv), SIM_ARGS (extra flags for the simulator, e.g. its fault injection:
# "--drop-watches 60s --expire-every 5m"), KEEP=1 keeps the temp dir (it is also kept when the TUI died).
# Needs: a release build (cargo build --release), tmux, kubectl.
set -u
B=${B:-target/release/daemonscope}
N=${NODES:-1000}
D=${DAEMONSETS:-10}
DURATION=${DURATION:-1800}
SAMPLE=${SAMPLE:-30}
STEP=${STEP:-5}
EXTRA=${EXTRA_NODES:-8}
OUT=${OUT:-target/soak.csv}
KEEP=${KEEP:-0}
SIM_ARGS=${SIM_ARGS:-}

for tool in tmux kubectl; do
    command -v "$tool" >/dev/null || { echo "soak: $tool is not installed" >&2; exit 2; }
done
[ -x "$B" ] || { echo "soak: no binary at $B (cargo build --release, or set B=)" >&2; exit 2; }

T=$(mktemp -d)
SOCK=ds-soak-$$ # a private tmux server: never touches the user's sessions
S=soak
SIM=
TUI=
FAILED=0
cleanup() {
    [ -n "$SIM" ] && kill "$SIM" 2>/dev/null
    tmux -L "$SOCK" kill-server 2>/dev/null
    [ -n "$SIM" ] && wait "$SIM" 2>/dev/null
    if [ "$KEEP" = 1 ] || [ "$FAILED" != 0 ]; then
        echo "soak: kept $T (sim.out, ds.log, tui.stderr, screen.txt)"
    else
        rm -rf "$T"
    fi
}
trap cleanup EXIT
trap 'echo; echo "soak: interrupted"; exit 130' INT TERM

k() { kubectl --kubeconfig "$T/kc" --request-timeout=15s "$@"; }
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null; }
alive() { [ -n "$1" ] && [ -e "/proc/$1/status" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
log() { printf '[%5ds] %s\n' "$((SECONDS - T0))" "$*"; }

# --- the simulator ------------------------------------------------------------------
T0=$SECONDS
# shellcheck disable=SC2086 # SIM_ARGS: extra flags, word-split on purpose
"$B" sim --nodes "$N" --daemonsets "$D" $SIM_ARGS --kubeconfig-out "$T/kc" >"$T/sim.out" 2>&1 &
SIM=$!
for _ in $(seq 1 300); do grep -q serving "$T/sim.out" && break; alive "$SIM" || break; sleep 1; done
grep -q serving "$T/sim.out" || { echo "soak: the simulator did not start:" >&2; cat "$T/sim.out" >&2; exit 2; }
head -1 "$T/sim.out"

# --- the TUI, detached in tmux (exec: the pane's process is the TUI itself) ----------
tmux -L "$SOCK" -f /dev/null new-session -d -s "$S" -x 200 -y 50 \
    "exec $B --kubeconfig $T/kc --log-file $T/ds.log 2>$T/tui.stderr"
tmux -L "$SOCK" set-option -t "$S" remain-on-exit on >/dev/null # keep a dead pane to read
TUI=$(tmux -L "$SOCK" list-panes -t "$S" -F '#{pane_pid}' | head -1)
if [ "$(cat "/proc/$TUI/comm" 2>/dev/null)" != daemonscope ]; then
    TUI=$(pgrep -P "$TUI" -x daemonscope | head -1)
fi
alive "$TUI" || { echo "soak: the TUI did not start" >&2; cat "$T/tui.stderr" >&2; FAILED=1; exit 1; }
for _ in $(seq 1 600); do
    grep -q "initial sync complete" "$T/ds.log" 2>/dev/null && break
    alive "$TUI" || break
    sleep 1
done
if ! grep -q "initial sync complete" "$T/ds.log" 2>/dev/null; then
    echo "soak: the TUI never completed its initial sync" >&2
    cat "$T/tui.stderr" >&2
    FAILED=1
    exit 1
fi
grep -o "initial sync complete.*" "$T/ds.log" | head -1
echo "soak: TUI pid $TUI, sim pid $SIM; ${DURATION}s, a sample every ${SAMPLE}s, a churn step every ${STEP}s -> $OUT"

# --- what there is to churn ------------------------------------------------------------
# RollingUpdate DaemonSets without surge (a surge pod with a hostPort, like
# node-exporter's, can never schedule next to the old one: such a rollout just stalls).
# (retried: a simulator started with --server-errors may refuse a request)
for _ in 1 2 3 4 5; do
    mapfile -t ROLLING < <(k get ds -A -o jsonpath='{range .items[*]}{.metadata.namespace}/{.metadata.name} {.spec.updateStrategy.type} {.spec.updateStrategy.rollingUpdate.maxSurge}{"\n"}{end}' 2>/dev/null |
        awk '$2 == "RollingUpdate" && ($3 == "" || $3 == "0" || $3 == "0%") {print $1}')
    mapfile -t WORKERS < <(k get nodes -l '!node-role.kubernetes.io/control-plane' -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}' 2>/dev/null)
    [ "${#ROLLING[@]}" -gt 0 ] && [ "${#WORKERS[@]}" -gt 0 ] && break
    sleep 1
done
[ "${#ROLLING[@]}" -gt 0 ] && [ "${#WORKERS[@]}" -gt 0 ] || { echo "soak: nothing to churn (DaemonSets: ${#ROLLING[@]}, nodes: ${#WORKERS[@]})" >&2; exit 2; }
echo "soak: rolling ${ROLLING[*]}; ${#WORKERS[@]} worker nodes"

BEHAVIORS=(crash-loop image-pull-error never-ready)
POOLS=(general general general highmem spot)
SOAK_NODES=() # the rolling set, oldest first
SICK=()       # DaemonSets with a behavior annotation
BAD_NODE=     # the soak node with pod-behavior
DOWN_NODE=    # the generated node with node-state not-ready
JOINED=0 LEFT=0 ROLLS=0 STEPS=0 STEP_FAILS=0
pick() { local a=("$@"); echo "${a[RANDOM % ${#a[@]}]}"; }
run() { # a kubectl call; failures are logged and counted, not fatal
    local out
    if ! out=$(k "$@" 2>&1); then
        STEP_FAILS=$((STEP_FAILS + 1))
        log "  FAILED: kubectl $* -> $(echo "$out" | tail -1)"
        return 1
    fi
}

node_join() {
    local pool zone name
    pool=$(pick "${POOLS[@]}")
    zone=$(pick a b c)
    JOINED=$((JOINED + 1))
    name=$(printf 'soak-%s-%s-%04d' "$pool" "$zone" "$JOINED")
    local extra=""
    [ "$pool" = highmem ] && extra="    disktype: ssd"
    [ "$pool" = spot ] && extra="    lifecycle: spot"
    cat >"$T/node.yaml" <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $name
  labels:
    kubernetes.io/hostname: $name
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    beta.kubernetes.io/os: linux
    beta.kubernetes.io/arch: amd64
    pool: $pool
    topology.kubernetes.io/region: eu-west-1
    topology.kubernetes.io/zone: eu-west-1$zone
$extra
spec: {}
EOF
    run create --validate=false -f "$T/node.yaml" && SOAK_NODES+=("$name")
    log "join $name (soak nodes: ${#SOAK_NODES[@]})"
}
node_leave() {
    [ "${#SOAK_NODES[@]}" -gt 0 ] || return 0
    local name=${SOAK_NODES[0]}
    SOAK_NODES=("${SOAK_NODES[@]:1}")
    [ "$name" = "$BAD_NODE" ] && BAD_NODE=
    run delete node "$name" --wait=false && LEFT=$((LEFT + 1))
    log "leave $name (soak nodes: ${#SOAK_NODES[@]})"
}
nodes_step() { # join; once the set is full, the oldest leaves
    [ "${#SOAK_NODES[@]}" -ge "$EXTRA" ] && node_leave
    node_join
}
rollout() {
    local ds
    ds=$(pick "${ROLLING[@]}")
    ROLLS=$((ROLLS + 1))
    run -n "${ds%/*}" patch ds "${ds#*/}" --type merge \
        -p "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"soak.daemonscope.io/rev\":\"$ROLLS\"}}}}}"
    log "rollout $ds (rev $ROLLS)"
}
sicken() {
    local ds b
    ds=$(pick "${ROLLING[@]}")
    b=$(pick "${BEHAVIORS[@]}")
    run -n "${ds%/*}" patch ds "${ds#*/}" --type merge \
        -p "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"sim.daemonscope.io/behavior\":\"$b\"}}}}}" && SICK+=("$ds")
    log "$ds -> $b"
}
heal() {
    local ds
    for ds in $(printf '%s\n' "${SICK[@]}" | sort -u); do
        run -n "${ds%/*}" patch ds "${ds#*/}" --type merge \
            -p '{"spec":{"template":{"metadata":{"annotations":{"sim.daemonscope.io/behavior":null}}}}}'
        log "$ds -> healthy"
    done
    SICK=()
}
node_pod_behavior() {
    if [ -n "$BAD_NODE" ]; then
        run annotate node "$BAD_NODE" sim.daemonscope.io/pod-behavior-
        log "node $BAD_NODE pod-behavior cleared"
        BAD_NODE=
    elif [ "${#SOAK_NODES[@]}" -gt 0 ]; then
        local n=${SOAK_NODES[-1]} b ds
        b=$(pick "${BEHAVIORS[@]}")
        if [ $((RANDOM % 2)) = 0 ]; then # the per-DaemonSet form
            ds=$(pick "${ROLLING[@]}")
            b="${ds#*/}=$b"
        fi
        run annotate node "$n" "sim.daemonscope.io/pod-behavior=$b" --overwrite && BAD_NODE=$n
        log "node $n pod-behavior $b"
    fi
}
node_state() {
    if [ -n "$DOWN_NODE" ]; then
        run annotate node "$DOWN_NODE" sim.daemonscope.io/node-state-
        log "node $DOWN_NODE Ready again"
        DOWN_NODE=
    else
        local n
        n=$(pick "${WORKERS[@]}")
        run annotate node "$n" sim.daemonscope.io/node-state=not-ready --overwrite && DOWN_NODE=$n
        log "node $n NotReady"
    fi
}
churn() {
    case $((STEPS % 10)) in
    0 | 3 | 6 | 9) nodes_step ;;
    1 | 5) rollout ;;
    2) sicken ;;
    4) node_pod_behavior ;;
    7) heal ;;
    8) node_state ;;
    esac
    STEPS=$((STEPS + 1))
}

# --- the run ---------------------------------------------------------------------------
mkdir -p "$(dirname "$OUT")"
echo "elapsed_s,tui_rss_kb,sim_rss_kb" >"$OUT"
sample() {
    local t=$1 tr sr
    tr=$(rss "$TUI")
    sr=$(rss "$SIM")
    echo "$t,${tr:-0},${sr:-0}" >>"$OUT"
    LAST_SAMPLE=$t
    log "sample: TUI $((${tr:-0} / 1024)) MB, sim $((${sr:-0} / 1024)) MB"
}
DIED=
STOP=
LAST_SAMPLE=
trap "STOP=1" INT TERM # Ctrl-C ends the run early, with the summary
T0=$SECONDS
NEXT_SAMPLE=0
NEXT_STEP=$STEP
while :; do
    now=$((SECONDS - T0))
    if ! alive "$TUI"; then DIED=$now; break; fi
    if ! alive "$SIM"; then log "the simulator died"; FAILED=1; break; fi
    [ "$now" -ge "$DURATION" ] && break
    [ -n "$STOP" ] && { log "interrupted: stopping early"; break; }
    if [ "$now" -ge "$NEXT_SAMPLE" ]; then
        sample "$now"
        NEXT_SAMPLE=$((NEXT_SAMPLE + SAMPLE))
    fi
    if [ "$now" -ge "$NEXT_STEP" ]; then
        churn
        NEXT_STEP=$((NEXT_STEP + STEP))
    fi
    sleep 1
done
now=$((SECONDS - T0))
[ -z "$DIED" ] && [ "$now" != "$LAST_SAMPLE" ] && alive "$TUI" && sample "$now"
trap 'echo; echo "soak: interrupted"; exit 130' INT TERM

# --- quit --------------------------------------------------------------------------------
tmux -L "$SOCK" capture-pane -p -t "$S" >"$T/screen.txt" 2>/dev/null
if [ -n "$DIED" ]; then
    FAILED=1
    echo
    echo "soak: THE TUI PROCESS DIED after ${DIED}s. The start of its stderr (all of it in $T/tui.stderr):"
    sed -E "s/\x1b\[[0-9;]*m//g" "$T/tui.stderr" | head -8 | sed "s/^/  | /"
    tmux -L "$SOCK" display-message -p -t "$S" "  #{pane_dead_status}" 2>/dev/null | sed "s/^ */  exit status: /"
else
    tmux -L "$SOCK" send-keys -t "$S" q
    for _ in $(seq 1 20); do alive "$TUI" || break; sleep 0.5; done
    if alive "$TUI"; then
        echo "soak: the TUI did not quit within 10 s of 'q' (killed)"
        kill "$TUI" 2>/dev/null
        FAILED=1
    fi
fi

# --- summary -----------------------------------------------------------------------------
echo
echo "churn: $STEPS steps ($STEP_FAILS failed kubectl calls), $JOINED nodes joined, $LEFT left, $ROLLS rollouts"
awk -F, -v W=60 '
    NR == 1 { next }
    { n++; t[n] = $1; r[n] = $2; s[n] = $3 }
    function median(lo, hi,   m, i, j, a, x) {
        m = 0
        for (i = lo; i <= hi; i++) a[++m] = r[i]
        for (i = 2; i <= m; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
        return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
    }
    END {
        if (n == 0) { print "no samples"; exit }
        mn = r[1]; mx = r[1]
        for (i = 1; i <= n; i++) { if (r[i] < mn) mn = r[i]; if (r[i] > mx) mx = r[i] }
        q = int(n / 4); if (q < 1) q = 1
        a = median(1, q); b = median(n - q + 1, n)
        printf "samples: %d over %d s\n", n, t[n]
        printf "TUI RSS: first %.1f MB, min %.1f MB, max %.1f MB, last %.1f MB\n", r[1] / 1024, mn / 1024, mx / 1024, r[n] / 1024
        printf "TUI growth (median of the first %d vs the last %d samples): %+.1f MB (%+.1f%%)\n", q, q, (b - a) / 1024, a ? (b - a) * 100 / a : 0
        printf "sim RSS: first %.1f MB, last %.1f MB\n", s[1] / 1024, s[n] / 1024
        printf "\n  elapsed    TUI RSS   vs first  (bar: 0 .. %.1f MB)\n", mx / 1024
        for (i = 1; i <= n; i++) {
            w = mx ? int(W * r[i] / mx + 0.5) : 0
            bar = ""; for (j = 0; j < w; j++) bar = bar "#"
            printf "  %6ds %7.1f MB %+7.1f MB |%s\n", t[i], r[i] / 1024, (r[i] - r[1]) / 1024, bar
        }
    }' "$OUT"

echo
PANICS=$(cat "$T/ds.log" "$T/tui.stderr" 2>/dev/null | grep -c panicked)
WARNS=$(grep -cE '^[^ ]+ +WARN ' "$T/ds.log" 2>/dev/null)
ERRORS=$(grep -cE '^[^ ]+ +ERROR ' "$T/ds.log" 2>/dev/null)
echo "TUI log (and stderr): ${PANICS} panicked, ${WARNS} WARN, ${ERRORS} ERROR lines ($(wc -l <"$T/ds.log") lines)"
[ "$PANICS" -gt 0 ] && FAILED=1
if [ "$PANICS" -gt 0 ] && [ -z "$DIED" ]; then
    cat "$T/ds.log" "$T/tui.stderr" | sed -E "s/\x1b\[[0-9;]*m//g" | grep -A2 panicked | head -12 | sed "s/^/  | /"
fi
if [ $((WARNS + ERRORS)) -gt 0 ]; then # the most frequent messages, timestamps cut
    grep -E '^[^ ]+ +(WARN|ERROR) ' "$T/ds.log" | sed -E 's/^[^ ]+ +//; s/ [a-z_.]+=.*//' | cut -c1-160 | sort | uniq -c | sort -rn | head -8 | sed 's/^/  /'
fi
[ -n "$DIED" ] && { echo "FAIL: the TUI process died during the run"; exit 1; }
[ "$FAILED" != 0 ] && exit 1
[ -n "$STOP" ] && exit 130
exit 0
