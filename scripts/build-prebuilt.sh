#!/usr/bin/env bash
# Usage: scripts/build-prebuilt.sh [PLATFORM...]
#   PLATFORM: linux-x64-gnu, linux-arm64-gnu, linux-x64-musl, win32-x64-msvc, darwin-arm64, darwin-x64
#             (default: all six)
#
# Builds the release `.node` that ships in the platform package npm/<PLATFORM>/, from this x86_64 Linux
# host. Linux and macOS with cargo-zigbuild (zig is the C compiler and linker, ring's C and assembly
# included), Windows with Debian's mingw-w64:
#   linux-x64-gnu    x86_64-unknown-linux-gnu.2.17    glibc >= 2.17 (zig links against 2.17's symbols)
#   linux-arm64-gnu  aarch64-unknown-linux-gnu.2.17   glibc >= 2.17
#   linux-x64-musl   x86_64-unknown-linux-musl        musl (Alpine); dynamically linked, like Node there
#   win32-x64-msvc   x86_64-pc-windows-gnu            Windows 10+ x64, for the official (MSVC-built) node.exe
#   darwin-arm64     aarch64-apple-darwin             macOS >= 11.0 (MACOSX_DEPLOYMENT_TARGET)
#   darwin-x64       x86_64-apple-darwin              macOS >= 10.13 (MACOSX_DEPLOYMENT_TARGET)
# then copies it to npm/<PLATFORM>/wx-openapi-native.<PLATFORM>.node, checks it and prints its size:
#   glibc  scripts/check-glibc.sh ... 2.17 (no symbol newer than glibc 2.17)
#   musl   no glibc symbol, only musl's libc and libgcc_s needed
#   win32  scripts/check-pe.js: a PE32+ x86-64 DLL exporting napi_register_module_v1 that imports only
#          Windows' own DLLs (nothing from node.exe, no mingw runtime DLL)
#   darwin scripts/check-macho.js: Mach-O for the right CPU exporting _napi_register_module_v1, linking
#          only libSystem and other /usr/lib libraries every macOS has (no framework), floor as above
#
# Why win32-x64-msvc is built with the GNU toolchain: napi-rs's loader (binding.js) looks for the `-msvc`
# package under every Node built with MSVC, which is the official node.exe; `-gnu` only under a MinGW-built
# Node. The addon talks to Node through N-API alone (C calls, found at run time: napi's `dyn-symbols`), so
# the toolchain that built it does not have to match Node's; Rust's std for *-windows-gnu links libgcc and
# winpthreads statically and uses msvcrt.dll, which every Windows has. x86_64-pc-windows-msvc itself needs
# Microsoft's CRT and SDK libraries (cargo-xwin downloads them from Microsoft), which this build avoids.
# napi-build (2.x) insists on a libnode.dll for *-windows-gnu (to link `-lnode`) even with `dyn-symbols`:
# LIBNODE_PATH points it at target/prebuilt/libnode-stub, an empty libnode.dll next to an empty import
# library libnode.a, which the linker picks first; the DLL then imports nothing from node.
#
# What it installs when missing (nothing when it is there already):
#   zig 0.14.x     from PyPI's `ziglang` wheel, into target/tools/zig (no system-wide pip install)
#   cargo-zigbuild `cargo install cargo-zigbuild --locked` (crates.io), into ~/.cargo/bin
#   mingw-w64      Debian's `gcc-mingw-w64-x86-64` (apt-get), for win32-x64-msvc only
#   Rust std       `rustup target add <triple>` for each target (rustup's own download)
#
# It builds in target/prebuilt (CARGO_TARGET_DIR) so that it never invalidates the `napi build` of
# `npm run build` in target/x86_64-unknown-linux-gnu, and keeps that cache between runs.
# The release profile is Cargo.toml's (lto, codegen-units = 1, strip = "symbols", panic = "unwind"), with
# opt-level "s" (CARGO_PROFILE_RELEASE_OPT_LEVEL): measured on x86_64-gnu.2.17, 4,215,576 bytes at
# opt-level 3, 3,873,424 at "s", 3,874,904 at "z", and no measurable difference in calls per second (the
# addon waits on the network; ring's assembly does the crypto). PREBUILT_OPT_LEVEL=3 builds as Cargo.toml.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

ZIG_VERSION_SPEC=${ZIG_VERSION_SPEC:-0.14.*}
CARGO_ZIGBUILD_VERSION=${CARGO_ZIGBUILD_VERSION:-0.24.1}
GLIBC_FLOOR=2.17
BINARY_NAME=wx-openapi-native
export CARGO_TARGET_DIR=${PREBUILT_TARGET_DIR:-$ROOT/target/prebuilt}
TOOLS=$ROOT/target/tools

log() { printf '[build-prebuilt] %s\n' "$*" >&2; }

platform_triple() {
  case "$1" in
    linux-x64-gnu) echo x86_64-unknown-linux-gnu ;;
    linux-arm64-gnu) echo aarch64-unknown-linux-gnu ;;
    linux-x64-musl) echo x86_64-unknown-linux-musl ;;
    win32-x64-msvc) echo x86_64-pc-windows-gnu ;;
    darwin-arm64) echo aarch64-apple-darwin ;;
    darwin-x64) echo x86_64-apple-darwin ;;
    *) echo "unknown platform '$1' (expected one of: $ALL_PLATFORMS)" >&2; return 1 ;;
  esac
}
# The minimum macOS version each darwin binary is linked for (LC_BUILD_VERSION minos): arm64 Macs start
# at 11.0; for x64, 10.13 is the oldest macOS that Node 16 (the oldest Node this package supports) runs on.
macos_floor() {
  case "$1" in
    darwin-arm64) echo 11.0 ;;
    darwin-x64) echo 10.13 ;;
  esac
}
# What cargo writes for the cdylib on each target.
cargo_output() {
  case "$1" in
    win32-*) echo wx_openapi_native.dll ;;
    darwin-*) echo libwx_openapi_native.dylib ;;
    *) echo libwx_openapi_native.so ;;
  esac
}
# The --target given to cargo zigbuild: for glibc, the suffix pins the glibc version zig links against.
zig_target() {
  case "$1" in
    *-gnu) echo "$(platform_triple "$1").$GLIBC_FLOOR" ;;
    *) platform_triple "$1" ;;
  esac
}

ALL_PLATFORMS="linux-x64-gnu linux-arm64-gnu linux-x64-musl win32-x64-msvc darwin-arm64 darwin-x64"
# shellcheck disable=SC2086
if [ "$#" -eq 0 ]; then set -- $ALL_PLATFORMS; fi
for p in "$@"; do platform_triple "$p" >/dev/null; done

if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  log "this script cross-builds from an x86_64 Linux host; this is $(uname -s)-$(uname -m)"
  exit 1
fi

# --- zig ---------------------------------------------------------------------------------------------
zig_ok() { local v; v=$("$@" version 2>/dev/null) && case "$v" in 0.14.*) return 0 ;; esac; return 1; }
if zig_ok zig; then
  log "zig $(zig version) from PATH"
elif zig_ok "$TOOLS/zig/ziglang/zig"; then
  export PATH="$TOOLS/zig/ziglang:$PATH"
  log "zig $(zig version) from $TOOLS/zig"
else
  log "installing zig ($ZIG_VERSION_SPEC) from PyPI's ziglang into $TOOLS/zig"
  python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location --root-user-action=ignore \
    --target "$TOOLS/zig" "ziglang==$ZIG_VERSION_SPEC"
  export PATH="$TOOLS/zig/ziglang:$PATH"
  zig_ok zig || { log "zig did not install (python3 -m pip install ziglang==$ZIG_VERSION_SPEC)"; exit 1; }
  log "zig $(zig version)"
fi

# --- cargo-zigbuild ----------------------------------------------------------------------------------
# `cargo zigbuild --version` is not an option of the subcommand; the binary answers it.
if ! cargo-zigbuild --version >/dev/null 2>&1; then
  log "installing cargo-zigbuild $CARGO_ZIGBUILD_VERSION from crates.io"
  cargo install --quiet --locked cargo-zigbuild --version "$CARGO_ZIGBUILD_VERSION"
fi
log "$(cargo-zigbuild --version | head -n 1)"

# --- mingw-w64 (Windows only) ------------------------------------------------------------------------
case " $* " in
  *" win32-x64-msvc "*)
    if ! command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1; then
      log "apt-get install gcc-mingw-w64-x86-64 (the linker and C compiler for x86_64-pc-windows-gnu)"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc-mingw-w64-x86-64 >/dev/null
    fi
    log "$(x86_64-w64-mingw32-gcc --version | head -n 1)"
    # napi-build's libnode.dll requirement (see the header): an empty DLL and an empty import library.
    LIBNODE_STUB=$CARGO_TARGET_DIR/libnode-stub
    mkdir -p "$LIBNODE_STUB"
    : > "$LIBNODE_STUB/libnode.dll"
    rm -f "$LIBNODE_STUB/libnode.a"
    x86_64-w64-mingw32-ar rcs "$LIBNODE_STUB/libnode.a"
    ;;
esac

# --- Rust std for each target ------------------------------------------------------------------------
installed_targets=$(rustup target list --installed 2>/dev/null || true)
for p in "$@"; do
  t=$(platform_triple "$p")
  if ! printf '%s\n' "$installed_targets" | grep -qx "$t"; then
    log "rustup target add $t"
    if ! rustup target add "$t"; then
      log "cannot install the Rust standard library for $t: 'rustup target add $t' failed."
      log "rustup downloads it from the Rust distribution server (not crates.io); without it, $p cannot be built here."
      exit 1
    fi
  fi
done

# --- build -------------------------------------------------------------------------------------------
summary=()
for p in "$@"; do
  t=$(platform_triple "$p")
  zt=$(zig_target "$p")
  flags=${RUSTFLAGS:-}
  # Rust's musl targets link libc statically by default, which rules out a cdylib that Node dlopen()s;
  # Alpine's Node is itself dynamically linked against musl, so the addon is too (as `napi build` does).
  case "$p" in *-musl) flags="$flags -C target-feature=-crt-static" ;; esac
  build_env=(RUSTFLAGS="$flags" CARGO_PROFILE_RELEASE_OPT_LEVEL="${PREBUILT_OPT_LEVEL:-s}")
  case "$p" in
    win32-*)
      build_cmd=(cargo build)
      build_env+=(LIBNODE_PATH="$LIBNODE_STUB" CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
        CC_x86_64_pc_windows_gnu=x86_64-w64-mingw32-gcc AR_x86_64_pc_windows_gnu=x86_64-w64-mingw32-ar)
      ;;
    darwin-*)
      build_cmd=(cargo zigbuild)
      build_env+=(MACOSX_DEPLOYMENT_TARGET="$(macos_floor "$p")")
      ;;
    *) build_cmd=(cargo zigbuild) ;;
  esac
  log "building $p: ${build_cmd[*]} --release --lib --target $zt (opt-level ${PREBUILT_OPT_LEVEL:-s})"
  start=$(date +%s)
  env "${build_env[@]}" "${build_cmd[@]}" --release --lib --target "$zt"
  secs=$(( $(date +%s) - start ))
  out="npm/$p/$BINARY_NAME.$p.node"
  mkdir -p "npm/$p"
  cp "$CARGO_TARGET_DIR/$t/release/$(cargo_output "$p")" "$out"
  size=$(stat -c %s "$out")
  log "$out: $size bytes, built in ${secs}s"
  file "$out" >&2 || true
  case "$p" in linux-*) readelf -d "$out" | grep -E 'NEEDED' >&2 || true ;; esac
  case "$p" in
    win32-*) node scripts/check-pe.js "$out" >&2 ;;
    darwin-arm64) node scripts/check-macho.js "$out" arm64 "$(macos_floor "$p")" >&2 ;;
    darwin-x64) node scripts/check-macho.js "$out" x64 "$(macos_floor "$p")" >&2 ;;
    *-gnu) scripts/check-glibc.sh "$out" "$GLIBC_FLOOR" ;;
    *-musl)
      # No glibc at all: every needed library must be one that Alpine's musl (and Node there) provides.
      if objdump -T "$out" | grep -q 'GLIBC_'; then log "$out needs glibc symbols: not a musl binary"; exit 1; fi
      bad=$(readelf -d "$out" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | grep -vE '^(libc\.so|libgcc_s\.so\.1|ld-musl-.*)$' || true)
      if [ -n "$bad" ]; then log "$out needs libraries outside musl's libc and libgcc_s: $bad"; exit 1; fi
      log "$out: links only against musl libc${bad:+ and $bad}: ok"
      ;;
  esac
  summary+=("$(printf '%-16s %9d bytes (%.2f MiB)  %4ss  %s' "$p" "$size" "$(awk "BEGIN{print $size/1048576}")" "$secs" "$out")")
done

log "summary:"
printf '  %s\n' "${summary[@]}" >&2
