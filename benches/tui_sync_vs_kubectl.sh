#!/bin/bash
# The whole TUI process against the simulator at 5,000 nodes x 30 DaemonSets: time to
# every watch live, peak RSS (GNU time -v), and kubectl get pods -A -o json for comparison.
# Needs: a release build (cargo build --release), tmux, GNU time, kubectl.
set -u
B=${B:-target/release/daemonscope}
N=${NODES:-5000}
D=${DAEMONSETS:-30}
T=$(mktemp -d)
$B sim --nodes "$N" --daemonsets "$D" --kubeconfig-out "$T/kc" >"$T/sim.out" 2>&1 &
SIM=$!
trap 'kill $SIM 2>/dev/null; tmux kill-session -t ds-measure 2>/dev/null' EXIT
for _ in $(seq 1 300); do grep -q serving "$T/sim.out" && break; sleep 1; done
head -1 "$T/sim.out"
tmux new-session -d -s ds-measure -x 200 -y 50 "/usr/bin/time -v -o $T/time.txt $B --kubeconfig $T/kc --log-file $T/ds.log"
for _ in $(seq 1 600); do grep -q "initial sync complete" "$T/ds.log" 2>/dev/null && break; sleep 1; done
grep -o "initial sync complete.*" "$T/ds.log"
sleep 10
tmux send-keys -t ds-measure q
sleep 3
grep -E "Maximum resident|Elapsed" "$T/time.txt"
/usr/bin/time -f "kubectl get pods -A -o json: %e s" kubectl --kubeconfig "$T/kc" get pods -A -o json >/dev/null
