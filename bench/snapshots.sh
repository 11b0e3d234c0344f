#!/usr/bin/env bash
# `snapshots list` over 1,000 Snapshot objects on the sandbox: the time of one CLI run
# (process start, kubeconfig, one list call, the table), best and median of 10 runs.
#
# Usage: bench/snapshots.sh            (builds the release binary first)
# Environment: SNAPSHOTS (default 1000), BENCH_SKIP_BUILD=1 to use target/release as built.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/kubectl-kubestash"
COUNT="${SNAPSHOTS:-1000}"
if [[ "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
    cargo build --release --locked -p kubectl-kubestash --manifest-path "$ROOT/Cargo.toml" >&2
fi

WORK="$(mktemp -d)"
"$BIN" sandbox --kubeconfig-out "$WORK/kubeconfig" --data-dir "$WORK/data" 2>"$WORK/sandbox.log" &
SANDBOX=$!
trap 'kill $SANDBOX 2>/dev/null; wait $SANDBOX 2>/dev/null; rm -rf "$WORK"' EXIT
export KUBECONFIG="$WORK/kubeconfig"
for _ in $(seq 1 100); do
    [[ -s "$KUBECONFIG" ]] && kubectl get namespaces >/dev/null 2>&1 && break
    sleep 0.1
done
kubectl apply -f "$ROOT/crds" >/dev/null
kubectl create namespace bench >/dev/null

python3 - "$COUNT" >"$WORK/snapshots.yaml" <<'PY'
import sys
count = int(sys.argv[1])
for i in range(count):
    print(f"""---
apiVersion: storage.kubestash.com/v1alpha1
kind: Snapshot
metadata:
  name: bench-repo-nightly-{1700000000 + i * 3600}
  namespace: bench
  labels:
    kubestash.com/repo-name: bench-repo
spec:
  repository: bench-repo
  session: nightly
  backupSession: bench-backup-nightly-{1700000000 + i * 3600}
  snapshotID: 01HZ{i:022d}
  type: FullBackup
  appRef:
    apiGroup: apps
    kind: Deployment
    name: app
    namespace: bench
  deletionPolicy: Delete""")
PY
start=$(date +%s.%N)
kubectl create -f "$WORK/snapshots.yaml" >/dev/null
echo "created $COUNT snapshots in $(python3 -c "print(round($(date +%s.%N) - $start, 2))") s" >&2

times=()
for _ in $(seq 1 10); do
    start=$(date +%s%N)
    rows=$("$BIN" snapshots list -n bench | wc -l)
    times+=($(( ($(date +%s%N) - start) / 1000000 )))
done
[[ "$rows" -eq $((COUNT + 1)) ]] || { echo "error: expected $COUNT rows and a header, got $rows lines" >&2; exit 1; }
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
echo "snapshots list over $COUNT snapshots: best ${sorted[0]} ms, median ${sorted[5]} ms (10 runs; each a full CLI process)"
