#!/usr/bin/env bash
# Re-vendor the front-end libraries from npm into static/vendor/<lib>/ (no CDN: the app
# must work offline). Pinned versions; static/vendor/README.md lists them with licences.
# Source maps are left out and their sourceMappingURL comments stripped, because the
# manifest static storage refuses references to files that do not exist.
set -euo pipefail

LEAFLET=1.9.4
GEOMAN=2.20.2

root=$(cd "$(dirname "$0")/.." && pwd)
vendor="$root/static/vendor"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

unpack() {  # unpack <npm spec> <directory>
  (cd "$work" && npm pack --silent "$1" >/dev/null)
  mkdir -p "$work/$2"
  tar xzf "$work"/*.tgz -C "$work/$2" --strip-components=1
  rm "$work"/*.tgz
}

strip_source_map() {
  sed -i '/^\/\/# sourceMappingURL=/d; s#/\*\# sourceMappingURL=[^*]*\*/##' "$@"
}

unpack "leaflet@$LEAFLET" leaflet
rm -rf "$vendor/leaflet" && mkdir -p "$vendor/leaflet"
cp -r "$work/leaflet/dist/leaflet.js" "$work/leaflet/dist/leaflet.css" \
  "$work/leaflet/dist/images" "$work/leaflet/LICENSE" "$vendor/leaflet/"
strip_source_map "$vendor/leaflet/leaflet.js" "$vendor/leaflet/leaflet.css"

unpack "@geoman-io/leaflet-geoman-free@$GEOMAN" geoman
rm -rf "$vendor/leaflet-geoman" && mkdir -p "$vendor/leaflet-geoman"
cp "$work/geoman/dist/leaflet-geoman.min.js" "$work/geoman/dist/leaflet-geoman.css" \
  "$work/geoman/LICENSE" "$vendor/leaflet-geoman/"
strip_source_map "$vendor/leaflet-geoman/leaflet-geoman.min.js" \
  "$vendor/leaflet-geoman/leaflet-geoman.css"

echo "vendored leaflet $LEAFLET and leaflet-geoman-free $GEOMAN into $vendor"
