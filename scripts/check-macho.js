#!/usr/bin/env node
'use strict'
// Usage: node scripts/check-macho.js FILE ARCH MIN_MACOS     e.g. ... wx-openapi-native.darwin-arm64.node arm64 11.0
//
// Checks a macOS addon built on Linux (which cannot run it) as far as reading the file allows, with no
// Apple tool: Node's standard library parses the Mach-O load commands. It fails (exit 1) unless
//   - it is a 64-bit Mach-O (not fat) for ARCH (arm64 or x64), of type MH_DYLIB or MH_BUNDLE, which
//     Node's process.dlopen() accepts;
//   - its export trie (what dyld looks names up in) holds `_napi_register_module_v1`, the symbol Node
//     calls to initialise an N-API addon;
//   - every library it links is one that every macOS has at /usr/lib (libSystem, libc++, libiconv and its
//     libcharset, libresolv, libobjc, libz): no /System/Library/Frameworks/* (Security, CoreFoundation,
//     ...), no @rpath, nothing from Homebrew;
//   - its minimum macOS version (LC_BUILD_VERSION's minos, or LC_VERSION_MIN_MACOSX) is MIN_MACOS or lower.
// The N-API functions are not linked at all: napi's `dyn-symbols` looks them up in the running process
// with dlsym when the addon loads (so `napiImports`, the undefined `_napi_*` symbols, is 0); napi-build's
// `-undefined dynamic_lookup` would cover them otherwise.
// Prints one JSON line with what it found, then "ok" or the problems.

const fs = require('fs')

const MH_MAGIC_64 = 0xfeedfacf
const FAT_MAGIC = 0xcafebabe
const CPU = { x64: 0x01000007, arm64: 0x0100000c }
const FILETYPE = { 6: 'MH_DYLIB', 8: 'MH_BUNDLE' }
const LC = {
  SYMTAB: 0x2,
  LOAD_DYLIB: 0xc,
  ID_DYLIB: 0xd,
  LAZY_LOAD_DYLIB: 0x20,
  DYLD_INFO: 0x22,
  DYLD_INFO_ONLY: 0x80000022,
  LOAD_WEAK_DYLIB: 0x80000018,
  REEXPORT_DYLIB: 0x8000001f,
  LOAD_UPWARD_DYLIB: 0x80000023,
  VERSION_MIN_MACOSX: 0x24,
  BUILD_VERSION: 0x32,
  DYLD_EXPORTS_TRIE: 0x80000033,
  RPATH: 0x8000001c,
}
const DYLIB_CMDS = new Set([LC.LOAD_DYLIB, LC.LAZY_LOAD_DYLIB, LC.LOAD_WEAK_DYLIB, LC.REEXPORT_DYLIB, LC.LOAD_UPWARD_DYLIB])
// Libraries present on every macOS since 10.x (in the dyld shared cache), none of them a framework.
// Rust's std links libiconv, which zig's SDK stubs describe with its companion libcharset.
const ALWAYS_PRESENT = /^\/usr\/lib\/(libSystem\.B|libc\+\+\.1|libc\+\+abi|libiconv\.2|libcharset\.1|libresolv\.9|libobjc\.A|libz\.1)\.dylib$/

function cstring(buf, off) {
  const end = buf.indexOf(0, off)
  return buf.toString('utf8', off, end === -1 ? buf.length : end)
}

function uleb(buf, state) {
  let result = 0n
  let shift = 0n
  for (;;) {
    const b = buf[state.off++]
    if (b === undefined) throw new Error('truncated ULEB128 in the export trie')
    result |= BigInt(b & 0x7f) << shift
    if ((b & 0x80) === 0) return Number(result)
    shift += 7n
  }
}

/** Every name in an export trie (dyld's format: terminal info, then edges to children). */
function exportTrie(buf, start, size) {
  const trie = buf.subarray(start, start + size)
  const names = []
  const seen = new Set()
  const walk = (offset, prefix) => {
    if (seen.has(offset) || offset >= trie.length) return // malformed or cyclic: stop rather than loop
    seen.add(offset)
    const s = { off: offset }
    const terminalSize = uleb(trie, s)
    if (terminalSize > 0) names.push(prefix)
    s.off += terminalSize
    const children = trie[s.off++]
    for (let i = 0; i < children; i++) {
      const edge = cstring(trie, s.off)
      s.off += Buffer.byteLength(edge) + 1
      const child = uleb(trie, s)
      walk(child, prefix + edge)
    }
  }
  if (size > 0) walk(0, '')
  return names
}

function version(v) {
  return `${v >>> 16}.${(v >> 8) & 0xff}${v & 0xff ? `.${v & 0xff}` : ''}`
}

function cmpVersion(a, b) {
  const pa = a.split('.').map(Number)
  const pb = b.split('.').map(Number)
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] || 0) - (pb[i] || 0)
    if (d) return d
  }
  return 0
}

function inspect(file) {
  const buf = fs.readFileSync(file)
  const magic = buf.readUInt32LE(0)
  if (buf.readUInt32BE(0) === FAT_MAGIC) throw new Error('a fat (universal) binary: expected one architecture per file')
  if (magic !== MH_MAGIC_64) throw new Error(`not a 64-bit Mach-O file (magic 0x${magic.toString(16)})`)
  const cputype = buf.readUInt32LE(4)
  const filetype = buf.readUInt32LE(12)
  const ncmds = buf.readUInt32LE(16)
  const flags = buf.readUInt32LE(24)
  const info = {
    file,
    bytes: buf.length,
    arch: Object.keys(CPU).find((k) => CPU[k] === cputype) || `cputype 0x${cputype.toString(16)}`,
    type: FILETYPE[filetype] || `filetype ${filetype}`,
    minos: null,
    sdk: null,
    libraries: [],
    rpaths: [],
    exports: [],
    napiImports: 0,
    // MH_NOUNDEFS: every symbol is resolved inside the file or by the libraries above.
    noUndefinedSymbols: Boolean(flags & 0x1),
  }
  let off = 32
  let trie = null
  for (let i = 0; i < ncmds; i++) {
    const cmd = buf.readUInt32LE(off)
    const size = buf.readUInt32LE(off + 4)
    if (DYLIB_CMDS.has(cmd)) info.libraries.push(cstring(buf, off + buf.readUInt32LE(off + 8)))
    else if (cmd === LC.RPATH) info.rpaths.push(cstring(buf, off + buf.readUInt32LE(off + 8)))
    else if (cmd === LC.BUILD_VERSION) {
      info.minos = version(buf.readUInt32LE(off + 12))
      info.sdk = version(buf.readUInt32LE(off + 16))
    } else if (cmd === LC.VERSION_MIN_MACOSX) {
      info.minos = version(buf.readUInt32LE(off + 8))
      info.sdk = version(buf.readUInt32LE(off + 12))
    } else if (cmd === LC.DYLD_INFO || cmd === LC.DYLD_INFO_ONLY) {
      if (!trie) trie = [buf.readUInt32LE(off + 40), buf.readUInt32LE(off + 44)]
    } else if (cmd === LC.DYLD_EXPORTS_TRIE) {
      trie = [buf.readUInt32LE(off + 8), buf.readUInt32LE(off + 12)]
    } else if (cmd === LC.SYMTAB) {
      // Undefined external symbols (N_UNDF | N_EXT) named _napi_*: resolved from node at load time.
      const symoff = buf.readUInt32LE(off + 8)
      const nsyms = buf.readUInt32LE(off + 12)
      const stroff = buf.readUInt32LE(off + 16)
      for (let k = 0; k < nsyms; k++) {
        const e = symoff + k * 16
        const type = buf[e + 4]
        if ((type & 0x0e) === 0 && type & 0x01 && cstring(buf, stroff + buf.readUInt32LE(e)).startsWith('_napi_')) info.napiImports++
      }
    }
    off += size
  }
  if (trie) info.exports = exportTrie(buf, trie[0], trie[1])
  return info
}

function check(file, arch, minMacos) {
  const info = inspect(file)
  const problems = []
  if (info.arch !== arch) problems.push(`architecture is ${info.arch}, expected ${arch}`)
  if (!['MH_DYLIB', 'MH_BUNDLE'].includes(info.type)) problems.push(`file type ${info.type}: Node loads MH_DYLIB or MH_BUNDLE`)
  if (!info.exports.includes('_napi_register_module_v1')) {
    problems.push(`does not export _napi_register_module_v1 (exports: ${info.exports.slice(0, 10).join(', ') || 'none'})`)
  }
  const foreign = info.libraries.filter((l) => !ALWAYS_PRESENT.test(l))
  if (foreign.length) problems.push(`links libraries that not every macOS has: ${foreign.join(', ')}`)
  if (!info.libraries.some((l) => l.startsWith('/usr/lib/libSystem.B.dylib'))) problems.push('does not link libSystem')
  if (info.rpaths.length) problems.push(`has rpaths (${info.rpaths.join(', ')}): the addon must not look for libraries elsewhere`)
  if (!info.minos) problems.push('no minimum macOS version recorded (LC_BUILD_VERSION / LC_VERSION_MIN_MACOSX)')
  else if (cmpVersion(info.minos, minMacos) > 0) problems.push(`minimum macOS is ${info.minos}, above ${minMacos}`)
  return { info, problems }
}

module.exports = { inspect, check }

if (require.main === module) {
  const [file, arch, minMacos] = process.argv.slice(2)
  if (!file || !CPU[arch] || !minMacos) {
    console.error('usage: node scripts/check-macho.js FILE arm64|x64 MIN_MACOS')
    process.exit(2)
  }
  const { info, problems } = check(file, arch, minMacos)
  const shown = { ...info, exports: info.exports.filter((n) => n.startsWith('_napi_')), exportCount: info.exports.length }
  console.log(JSON.stringify(shown))
  if (problems.length) {
    for (const p of problems) console.error(`${file}: ${p}`)
    process.exit(1)
  }
  console.log(`${file}: Mach-O ${info.type} ${info.arch}, macOS >= ${info.minos}, links only ${info.libraries.join(', ')}: ok`)
}
