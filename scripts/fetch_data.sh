#!/usr/bin/env bash
# Fetch PRISM's datasets for CI runners that have no copy (GitHub Actions): the data is not public in the
# repository. PRISM_DATA_URL names a .tar.gz of the data folder (utd_mhad/, msr_action3d/, jhmdb/, videos/,
# either at the top of the archive or inside one folder); PRISM_DATA_SHA256, if set, must match the archive.
# Usage: scripts/fetch_data.sh DEST   -> DEST holds utd_mhad/ ... ; exits 1 (saying why) if it cannot.
set -euo pipefail
dest=${1:?usage: scripts/fetch_data.sh DEST}
if [ -z "${PRISM_DATA_URL:-}" ]; then
  echo "fetch_data.sh: PRISM_DATA_URL is not set (a .tar.gz of the data folder; see CONTRIBUTING.md, Continuous integration)" >&2
  exit 1
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
curl -fsSL --retry 3 -o "$tmp/data.tar.gz" "$PRISM_DATA_URL"
if [ -n "${PRISM_DATA_SHA256:-}" ]; then echo "$PRISM_DATA_SHA256  $tmp/data.tar.gz" | sha256sum -c -; fi
mkdir -p "$tmp/x"; tar -xzf "$tmp/data.tar.gz" -C "$tmp/x"
src=$(dirname "$(find "$tmp/x" -maxdepth 3 -type d -name utd_mhad | head -1)")
[ -d "$src/utd_mhad" ] || { echo "fetch_data.sh: no utd_mhad/ in the archive" >&2; exit 1; }
mkdir -p "$dest"; cp -a "$src"/. "$dest"/
echo "data in $dest: $(ls "$dest" | tr '\n' ' ')"
