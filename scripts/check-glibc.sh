#!/usr/bin/env bash
# Usage: scripts/check-glibc.sh FILE [MAX_GLIBC]   (MAX_GLIBC defaults to 2.17)
#
# Reads the dynamic symbol table of FILE (`objdump -T`), takes the highest GLIBC_x.y version that any
# symbol needs, prints it, and fails (exit 1) when it is above MAX_GLIBC: such a binary would not load
# on a host whose glibc is MAX_GLIBC ("version `GLIBC_2.xx' not found"). A binary that needs no GLIBC
# symbol at all (a musl one, say) passes and prints "none".
set -euo pipefail

file=${1:?usage: check-glibc.sh FILE [MAX_GLIBC]}
max=${2:-2.17}
[ -f "$file" ] || { echo "check-glibc: no such file: $file" >&2; exit 2; }
command -v objdump >/dev/null || { echo "check-glibc: objdump not found (apt-get install binutils)" >&2; exit 2; }

# objdump -T prints e.g. "0000000000000000      DF *UND*  0000000000000000 (GLIBC_2.14) memcpy"; cross
# binaries (aarch64) are read by the host's objdump too: it only parses the ELF tables.
versions=$(objdump -T "$file" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/^GLIBC_//' | sort -u -V || true)
highest=$(printf '%s\n' "$versions" | sed '/^$/d' | tail -n 1)

if [ -z "$highest" ]; then
  echo "$file: needs no GLIBC symbol version (limit $max): ok"
  exit 0
fi

top=$(printf '%s\n%s\n' "$highest" "$max" | sort -V | tail -n 1)
if [ "$top" != "$max" ]; then
  echo "$file: highest GLIBC symbol is GLIBC_$highest, above the limit GLIBC_$max" >&2
  echo "symbols that need more than GLIBC_$max:" >&2
  objdump -T "$file" | sed -n 's/.*(GLIBC_\([0-9.]*\)) *\(.*\)$/\1 \2/p' | while read -r v name; do
    if [ "$(printf '%s\n%s\n' "$v" "$max" | sort -V | tail -n 1)" != "$max" ]; then echo "  GLIBC_$v $name" >&2; fi
  done
  exit 1
fi
echo "$file: highest GLIBC symbol is GLIBC_$highest (limit $max): ok"
