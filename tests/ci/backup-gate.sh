#!/usr/bin/env bash
# A CI gate: back up a BackupConfiguration now, wait for it, and fail the pipeline unless every
# session succeeded. The JSON result is parsed with python3 (no jq needed).
#
#   tests/ci/backup-gate.sh <backupconfiguration> <namespace> [timeout]
#
# KUBECTL_KUBESTASH names the plugin binary (default: kubectl-kubestash on PATH).
set -euo pipefail

config=${1:?usage: backup-gate.sh <backupconfiguration> <namespace> [timeout]}
namespace=${2:?usage: backup-gate.sh <backupconfiguration> <namespace> [timeout]}
timeout=${3:-30m}
plugin=${KUBECTL_KUBESTASH:-kubectl-kubestash}

# pipefail: a failed, skipped or timed-out backup (exit 1 or 3) fails the pipeline even though
# the parser below still prints what happened.
"$plugin" backup now "$config" -n "$namespace" --wait --timeout "$timeout" -o json |
  python3 -c '
import json, sys
result = json.load(sys.stdin)
failed = result["phase"] != "Succeeded"
if result["phase"] == "TimedOut":
    print("timed out waiting for the backup")
for session in result["backupSessions"]:
    name, phase = session["backupSession"], session["phase"]
    if phase != "Succeeded":
        print("%s: %s: %s" % (name, phase, session.get("reason") or "no reason recorded"))
        continue
    snapshots = ["%s (%s)" % (s["name"], s.get("size") or "?") for s in session["snapshots"]]
    print("%s: %s; snapshots: %s" % (name, phase, ", ".join(snapshots)))
sys.exit(1 if failed else 0)
'
echo "backup gate passed for $namespace/$config"
