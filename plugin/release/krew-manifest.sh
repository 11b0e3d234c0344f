#!/usr/bin/env bash
# Fills krew-manifest.yaml for a release: the version and the sha256 of each platform archive.
# usage: plugin/release/krew-manifest.sh VERSION ARCHIVE_DIR [OUTPUT]
#   ARCHIVE_DIR holds kubectl-kubestash-<os>-<arch>.tar.gz (.zip for Windows), as the
#   manifest's `uri`s name them, each with the binary the manifest's `bin` names
#   (kubectl-kubestash-<os>-<arch>, .exe on Windows) at its top level. Writes OUTPUT
#   (default: stdout). Fails, writing nothing, when an archive is missing, unreadable or
#   without its binary, or a placeholder would stay unfilled.
set -euo pipefail

if [ "$#" -lt 2 ] || [ "$#" -gt 3 ]; then
  echo "usage: $0 VERSION ARCHIVE_DIR [OUTPUT]" >&2
  exit 2
fi
version=$1
archives=$2
output=${3:-}
template="$(cd "$(dirname "$0")/../.." && pwd)/krew-manifest.yaml"

case "$version" in
  v[0-9]*) ;;
  *) echo "error: version \`$version\` must look like v1.2.3" >&2; exit 2 ;;
esac

manifest=$(sed "s/{{VERSION}}/$version/g" "$template")
for platform in linux-amd64 linux-arm linux-arm64 darwin-amd64 darwin-arm64 windows-amd64; do
  extension=tar.gz
  [ "${platform%%-*}" = windows ] && extension=zip
  archive="$archives/kubectl-kubestash-$platform.$extension"
  if [ ! -f "$archive" ]; then
    echo "error: missing archive \`$archive\`" >&2
    exit 1
  fi
  # krew links the manifest's `bin` out of the unpacked archive: it must be there.
  binary=$(awk -v uri="/kubectl-kubestash-$platform.$extension" \
    '/uri:/ { ours = substr($0, length($0) - length(uri) + 1) == uri } ours && /bin:/ { print $2; exit }' \
    "$template")
  if [ -z "$binary" ]; then
    echo "error: the manifest names no bin for \`kubectl-kubestash-$platform.$extension\`" >&2
    exit 1
  fi
  python3 - "$archive" "$binary" <<'PYTHON'
import sys, tarfile, zipfile
archive, binary = sys.argv[1:]
try:
    if archive.endswith(".zip"):
        with zipfile.ZipFile(archive) as bundle:
            names = [name for name in bundle.namelist() if not name.endswith("/")]
    else:
        with tarfile.open(archive, "r:gz") as bundle:
            names = [member.name for member in bundle.getmembers() if member.isfile()]
except Exception as error:  # a truncated gzip raises EOFError or zlib.error too
    sys.exit("error: `%s` is not a readable archive: %s" % (archive, error))
names = [name[2:] if name.startswith("./") else name for name in names]
if binary not in names:
    sys.exit("error: `%s` does not hold `%s` at its top level (the manifest's bin); it holds: %s"
             % (archive, binary, ", ".join(names) or "no files"))
PYTHON
  sum=$(sha256sum "$archive" | cut -d' ' -f1)
  placeholder="SHA256_$(echo "$platform" | tr 'a-z-' 'A-Z_')"
  manifest=$(printf '%s\n' "$manifest" | sed "s/{{$placeholder}}/$sum/")
done

if printf '%s\n' "$manifest" | grep -v '^#' | grep -q '{{'; then
  echo "error: unfilled placeholders remain in the manifest" >&2
  exit 1
fi
if [ -n "$output" ]; then
  printf '%s\n' "$manifest" > "$output.tmp"
  mv "$output.tmp" "$output"
else
  printf '%s\n' "$manifest"
fi
