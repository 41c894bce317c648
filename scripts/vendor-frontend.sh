#!/usr/bin/env bash
# Re-vendor the front-end libraries from npm into static/vendor/<lib>/ (no CDN: the app
# must work offline). Pinned versions; static/vendor/README.md lists them with licences.
# Source maps are left out and their sourceMappingURL comments stripped, because the
# manifest static storage refuses references to files that do not exist.
#
#   scripts/vendor-frontend.sh                 # every library
#   scripts/vendor-frontend.sh uplot           # only the named ones (leaflet, geoman, uplot, zxing)
set -euo pipefail

LEAFLET=1.9.4
GEOMAN=2.20.2
UPLOT=1.6.32
ZXING_WASM=3.1.8

root=$(cd "$(dirname "$0")/.." && pwd)
vendor="$root/static/vendor"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

wanted=("$@")
[ ${#wanted[@]} -eq 0 ] && wanted=(leaflet geoman uplot zxing)
for name in "${wanted[@]}"; do
  case "$name" in
    leaflet | geoman | uplot | zxing) ;;
    *) echo "unknown library: $name (leaflet, geoman, uplot, zxing)" >&2 && exit 2 ;;
  esac
done

wants() {  # wants <name>: was it asked for?
  local name
  for name in "${wanted[@]}"; do [ "$name" = "$1" ] && return 0; done
  return 1
}

unpack() {  # unpack <npm spec> <directory>
  (cd "$work" && npm pack --silent "$1" >/dev/null)
  mkdir -p "$work/$2"
  tar xzf "$work"/*.tgz -C "$work/$2" --strip-components=1
  rm "$work"/*.tgz
}

strip_source_map() {
  sed -i '/^\/\/# sourceMappingURL=/d; s#/\*\# sourceMappingURL=[^*]*\*/##' "$@"
}

if wants leaflet; then
  unpack "leaflet@$LEAFLET" leaflet
  rm -rf "$vendor/leaflet" && mkdir -p "$vendor/leaflet"
  cp -r "$work/leaflet/dist/leaflet.js" "$work/leaflet/dist/leaflet.css" \
    "$work/leaflet/dist/images" "$work/leaflet/LICENSE" "$vendor/leaflet/"
  strip_source_map "$vendor/leaflet/leaflet.js" "$vendor/leaflet/leaflet.css"
  echo "vendored leaflet $LEAFLET into $vendor/leaflet"
fi

if wants geoman; then
  unpack "@geoman-io/leaflet-geoman-free@$GEOMAN" geoman
  rm -rf "$vendor/leaflet-geoman" && mkdir -p "$vendor/leaflet-geoman"
  cp "$work/geoman/dist/leaflet-geoman.min.js" "$work/geoman/dist/leaflet-geoman.css" \
    "$work/geoman/LICENSE" "$vendor/leaflet-geoman/"
  strip_source_map "$vendor/leaflet-geoman/leaflet-geoman.min.js" \
    "$vendor/leaflet-geoman/leaflet-geoman.css"
  echo "vendored leaflet-geoman-free $GEOMAN into $vendor/leaflet-geoman"
fi

if wants uplot; then
  # The price board's 30-day chart (static/js/price_chart.js): the IIFE build defines uPlot.
  unpack "uplot@$UPLOT" uplot
  rm -rf "$vendor/uplot" && mkdir -p "$vendor/uplot"
  cp "$work/uplot/dist/uPlot.iife.min.js" "$work/uplot/dist/uPlot.min.css" \
    "$work/uplot/LICENSE" "$vendor/uplot/"
  strip_source_map "$vendor/uplot/uPlot.iife.min.js" "$vendor/uplot/uPlot.min.css"
  echo "vendored uplot $UPLOT into $vendor/uplot"
fi

if wants zxing; then
  # The gate's QR scanner (static/js/traceability/gate_scanner.js): the IIFE reader build
  # defines ZXingWASM; its WebAssembly is served from this site (the page overrides the
  # build's default CDN location), and the gate page's CSP allows 'wasm-unsafe-eval'.
  unpack "zxing-wasm@$ZXING_WASM" zxing
  rm -rf "$vendor/zxing-wasm" && mkdir -p "$vendor/zxing-wasm"
  cp "$work/zxing/dist/iife/reader/index.js" "$vendor/zxing-wasm/zxing-reader.js"
  cp "$work/zxing/dist/reader/zxing_reader.wasm" "$work/zxing/LICENSE" "$vendor/zxing-wasm/"
  strip_source_map "$vendor/zxing-wasm/zxing-reader.js"
  echo "vendored zxing-wasm $ZXING_WASM into $vendor/zxing-wasm"
fi
