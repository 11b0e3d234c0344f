#!/usr/bin/env bash
# Fills krew-manifest.yaml for a release: the version and the sha256 of each platform archive.
# usage: plugin/release/krew-manifest.sh VERSION ARCHIVE_DIR [OUTPUT]
#   ARCHIVE_DIR holds kubectl-kubestash-<os>-<arch>.tar.gz (.zip for Windows), as the
#   manifest's `uri`s name them. Writes OUTPUT (default: stdout). Fails, writing nothing,
#   when an archive is missing or a placeholder would stay unfilled.
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
