#!/usr/bin/env bash
# Usage: scripts/build-prebuilt.sh [PLATFORM...]
#   PLATFORM: linux-x64-gnu, linux-arm64-gnu, linux-x64-musl (default: all three)
#
# Builds the release `.node` that ships in the platform package npm/<PLATFORM>/, from this x86_64 Linux
# host, with cargo-zigbuild (zig is the C compiler and linker for every target, ring's C and assembly
# included):
#   linux-x64-gnu    x86_64-unknown-linux-gnu.2.17    glibc >= 2.17 (zig links against 2.17's symbols)
#   linux-arm64-gnu  aarch64-unknown-linux-gnu.2.17   glibc >= 2.17
#   linux-x64-musl   x86_64-unknown-linux-musl        musl (Alpine); dynamically linked, like Node there
# then copies it to npm/<PLATFORM>/wx-openapi-native.<PLATFORM>.node, checks the glibc floor
# (scripts/check-glibc.sh ... 2.17) and prints its size and the shared libraries it needs.
#
# What it installs when missing (nothing when it is there already):
#   zig 0.14.x     from PyPI's `ziglang` wheel, into target/tools/zig (no system-wide pip install)
#   cargo-zigbuild `cargo install cargo-zigbuild --locked` (crates.io), into ~/.cargo/bin
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
    *) echo "unknown platform '$1' (expected linux-x64-gnu, linux-arm64-gnu or linux-x64-musl)" >&2; return 1 ;;
  esac
}
# The --target given to cargo zigbuild: for glibc, the suffix pins the glibc version zig links against.
zig_target() {
  case "$1" in
    *-gnu) echo "$(platform_triple "$1").$GLIBC_FLOOR" ;;
    *) platform_triple "$1" ;;
  esac
}

if [ "$#" -eq 0 ]; then set -- linux-x64-gnu linux-arm64-gnu linux-x64-musl; fi
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
  log "building $p: cargo zigbuild --release --lib --target $zt (opt-level ${PREBUILT_OPT_LEVEL:-s})"
  start=$(date +%s)
  env RUSTFLAGS="$flags" CARGO_PROFILE_RELEASE_OPT_LEVEL="${PREBUILT_OPT_LEVEL:-s}" \
    cargo zigbuild --release --lib --target "$zt"
  secs=$(( $(date +%s) - start ))
  out="npm/$p/$BINARY_NAME.$p.node"
  mkdir -p "npm/$p"
  cp "$CARGO_TARGET_DIR/$t/release/libwx_openapi_native.so" "$out"
  size=$(stat -c %s "$out")
  log "$out: $size bytes, built in ${secs}s"
  file "$out" >&2 || true
  readelf -d "$out" | grep -E 'NEEDED' >&2 || true
  case "$p" in
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
