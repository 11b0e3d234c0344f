#!/usr/bin/env bash
# Side-by-side benchmark of the repository engine (examples/engine_bench.rs) and the stock
# `restic`: first backup, unchanged re-backup and restore of 1 GiB on local repositories.
#
# Usage: bench/engine.sh
# Environment:
#   BENCH_DATA      reuse (or create once) the data set in this directory instead of a temp one
#   BENCH_TMP       parent of the temp directory (default: $TMPDIR or /tmp)
#   BENCH_KEEP=1    keep the temp directory (repositories, restores, logs) afterwards
#   BENCH_TOOLS     tools to run, in order (default: "ours restic")
#   BENCH_SKIP_BUILD=1  use the example binary already built (for repeated experiments)
#   CARGO_TARGET_DIR is honoured by the build; any ENGINE_BENCH_* variables reach the example.
# Exits non-zero when a step fails or a restored tree differs from the source.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
TOOLS="${BENCH_TOOLS:-ours restic}"
export RESTIC_PASSWORD="engine-bench-password"

for command in restic /usr/bin/time python3 cargo; do
    command -v "$command" >/dev/null || { echo "error: \`$command\` is not installed" >&2; exit 2; }
done

WORK="$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/engine-bench.XXXXXX")"
cleanup() {
    if [[ "${BENCH_KEEP:-0}" == 1 ]]; then
        echo "kept $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

if [[ "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
    echo "== building the example (release)" >&2
    (cd "$ROOT" && cargo build --release --example engine_bench) >&2
fi
ENGINE="$TARGET_DIR/release/examples/engine_bench"

DATA="${BENCH_DATA:-$WORK/data}"
DATA="$(mkdir -p "$DATA" && cd "$DATA" && pwd)"
if [[ -z "$(ls -A "$DATA")" ]]; then
    echo "== generating data into $DATA" >&2
    python3 "$ROOT/bench/generate_data.py" "$DATA"
fi
BYTES="$(find "$DATA" -type f -printf '%s\n' | awk '{ total += $1 } END { print total }')"
FILES="$(find "$DATA" -type f | wc -l)"
# Both tools then read the source from the page cache.
find "$DATA" -type f -exec cat {} + >/dev/null

ROWS=()
FAILED=0

# measure TOOL STEP COMMAND...: runs COMMAND under /usr/bin/time -v and appends a table row.
measure() {
    local tool="$1" step="$2"
    shift 2
    local report="$WORK/$tool-$step.time" log="$WORK/$tool-$step.log"
    # Write back the previous step's dirty pages so they do not slow this one.
    sync
    local busy_before busy_after
    busy_before="$(busy_ticks)"
    # The trailing `sync` is timed too: restores do not fsync, and without it the figures
    # depend on how much of the previous writes the kernel still has to flush.
    if ! /usr/bin/time -v -o "$report" sh -c '"$@" && sync' measured "$@" >"$log" 2>&1; then
        echo "error: $tool $step failed; see below" >&2
        tail -n 20 "$log" >&2
        FAILED=1
        return 0
    fi
    busy_after="$(busy_ticks)"
    local wall rss cpu other
    wall="$(awk -F': ' '/Elapsed \(wall clock\)/ {
        n = split($2, part, ":"); seconds = 0
        for (i = 1; i <= n; i++) seconds = seconds * 60 + part[i]
        printf "%.2f", seconds }' "$report")"
    rss="$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 * 1024 / 1e6 }' "$report")"
    cpu="$(awk -F': ' '/Percent of CPU/ { print $2 }' "$report")"
    # CPU the rest of the machine used meanwhile (other builds and tests skew the figures).
    other="$(awk -F': ' -v busy="$((busy_after - busy_before))" -v tick="$(getconf CLK_TCK)" -v wall="$wall" '
        /User time|System time/ { own += $2 }
        END { value = (busy / tick - own) / (wall > 0 ? wall : 0.01) * 100; printf "%.0f%%", value < 0 ? 0 : value }' "$report")"
    local rate
    rate="$(awk -v bytes="$BYTES" -v wall="$wall" 'BEGIN { printf "%.0f", bytes / 1e6 / (wall > 0 ? wall : 0.01) }')"
    ROWS+=("$step|$tool|$wall|$rate|$rss|$cpu|$other")
    echo "   $tool $step: ${wall}s, ${rate} MB/s, ${rss} MB peak RSS, CPU $cpu (others $other)" >&2
}

# Busy CPU ticks of the whole machine so far (user, nice, system, irq, softirq, steal).
busy_ticks() {
    awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}

# verify TOOL DIRECTORY: the restored tree must equal the source.
verify() {
    local tool="$1" restored="$2"
    if diff -r -q "$DATA" "$restored" >"$WORK/$tool-diff.txt" 2>&1; then
        echo "   $tool restore: identical to the source" >&2
        VERIFIED+=("$tool: restored tree identical to the source ($FILES files)")
    else
        echo "error: $tool restored tree differs from the source:" >&2
        head -n 20 "$WORK/$tool-diff.txt" >&2
        VERIFIED+=("$tool: RESTORED TREE DIFFERS (see $WORK/$tool-diff.txt)")
        FAILED=1
    fi
}

VERIFIED=()
SIZES=()
for tool in $TOOLS; do
    repository="$WORK/$tool-repository"
    restored="$WORK/$tool-restore"
    echo "== $tool" >&2
    case "$tool" in
        ours)
            "$ENGINE" init "$repository" >"$WORK/$tool-init.log"
            measure "$tool" "first backup" "$ENGINE" backup "$repository" "$DATA"
            measure "$tool" "re-backup" "$ENGINE" backup "$repository" "$DATA"
            measure "$tool" "restore" "$ENGINE" restore "$repository" "$DATA" "$restored"
            verify "$tool" "$restored"
            ;;
        restic)
            cache="$WORK/restic-cache"
            restic -q -r "$repository" --cache-dir "$cache" init >"$WORK/$tool-init.log"
            measure "$tool" "first backup" restic -r "$repository" --cache-dir "$cache" backup "$DATA"
            measure "$tool" "re-backup" restic -r "$repository" --cache-dir "$cache" backup "$DATA"
            measure "$tool" "restore" restic -r "$repository" --cache-dir "$cache" restore latest --target "$restored"
            # restic 0.14 restores the absolute path below the target.
            verify "$tool" "$restored$DATA"
            ;;
        *)
            echo "error: unknown tool \`$tool\` in BENCH_TOOLS" >&2
            exit 2
            ;;
    esac
    SIZES+=("$tool: repository $(du -sm "$repository" | cut -f1) MiB")
    # Free the page cache the restored copy holds before the next tool runs.
    rm -rf "$restored"
done

echo
echo "Data: $FILES files, $BYTES bytes ($(awk -v b="$BYTES" 'BEGIN { printf "%.0f", b / 1048576 }') MiB) in $DATA"
echo "Host: $(nproc) cores, $(restic version | cut -d' ' -f1-2), engine_bench $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "Caches cannot be dropped: the source is read once before timing, and each tool runs"
echo "init, first backup, re-backup, restore in the same order (tools in order: $TOOLS);"
echo "\`sync\` runs before every timed step and is timed at its end (restores do not fsync)."
echo "MB = 10^6 bytes; MB/s = source bytes / wall seconds; peak RSS is the tool's (\`time -v\`)."
echo "\"Others' CPU\" is what the rest of the machine used during the step (of $(nproc)00%); rerun if it is high."
echo
echo "| Step | Tool | Wall (s) | MB/s | Peak RSS (MB) | CPU | Others' CPU |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
for step in "first backup" "re-backup" "restore"; do
    for row in "${ROWS[@]}"; do
        IFS='|' read -r row_step tool wall rate rss cpu other <<<"$row"
        if [[ "$row_step" == "$step" ]]; then
            echo "| $step | $tool | $wall | $rate | $rss | $cpu | $other |"
        fi
    done
done
echo
for line in "${SIZES[@]}" "${VERIFIED[@]}"; do
    echo "- $line"
done
exit "$FAILED"
