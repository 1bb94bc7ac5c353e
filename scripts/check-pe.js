#!/usr/bin/env node
'use strict'
// Usage: node scripts/check-pe.js FILE
//
// Checks the Windows x64 addon (a DLL built on Linux with mingw-w64) by reading its PE headers with Node's
// standard library. It fails (exit 1) unless
//   - it is a PE32+ DLL for x86-64 (machine 0x8664);
//   - it exports `napi_register_module_v1`, which Node calls to initialise an N-API addon;
//   - every DLL it imports (import and delay-import tables) is part of Windows itself: no node.exe /
//     libnode.dll (napi-rs's `dyn-symbols` looks the N-API functions up in the running process instead,
//     so one DLL serves node.exe, Electron and others), and no mingw runtime DLL (libgcc_s_seh-1.dll,
//     libwinpthread-1.dll, libstdc++-6.dll), which a Windows machine would not have.
// Prints one JSON line (machine, exports, imported DLLs with their functions' count, the OS version the
// headers ask for), then "ok" or the problems.

const fs = require('fs')

// DLLs that ship with every Windows 10 and later (Rust's std on *-windows-gnu imports from these).
const SYSTEM_DLLS = /^(kernel32|ntdll|advapi32|bcrypt|bcryptprimitives|ws2_32|userenv|msvcrt|ucrtbase|secur32|crypt32|ncrypt|shell32|ole32|oleaut32|user32|iphlpapi|synchronization|api-ms-win-[a-z0-9-]+)\.dll$/i

function inspect(file) {
  const buf = fs.readFileSync(file)
  if (buf.toString('latin1', 0, 2) !== 'MZ') throw new Error('not a PE file (no MZ header)')
  const pe = buf.readUInt32LE(0x3c)
  if (buf.toString('latin1', pe, pe + 4) !== 'PE\0\0') throw new Error('not a PE file (no PE signature)')
  const coff = pe + 4
  const machine = buf.readUInt16LE(coff)
  const nsections = buf.readUInt16LE(coff + 2)
  const optSize = buf.readUInt16LE(coff + 16)
  const characteristics = buf.readUInt16LE(coff + 18)
  const opt = coff + 20
  const magic = buf.readUInt16LE(opt)
  if (magic !== 0x20b) throw new Error(`optional header magic 0x${magic.toString(16)}: not PE32+`)
  const dirs = opt + 112
  const ndirs = buf.readUInt32LE(opt + 108)
  const dir = (i) => (i < ndirs ? { rva: buf.readUInt32LE(dirs + 8 * i), size: buf.readUInt32LE(dirs + 8 * i + 4) } : { rva: 0, size: 0 })

  const sections = []
  for (let i = 0; i < nsections; i++) {
    const s = opt + optSize + 40 * i
    sections.push({
      name: buf.toString('latin1', s, s + 8).replace(/\0+$/, ''),
      vsize: buf.readUInt32LE(s + 8),
      va: buf.readUInt32LE(s + 12),
      rawSize: buf.readUInt32LE(s + 16),
      raw: buf.readUInt32LE(s + 20),
    })
  }
  const at = (rva) => {
    const s = sections.find((x) => rva >= x.va && rva < x.va + Math.max(x.vsize, x.rawSize))
    if (!s) throw new Error(`RVA 0x${rva.toString(16)} is in no section`)
    return rva - s.va + s.raw
  }
  const cstr = (rva) => {
    const o = at(rva)
    return buf.toString('latin1', o, buf.indexOf(0, o))
  }

  const exports = []
  const ex = dir(0)
  if (ex.rva) {
    const e = at(ex.rva)
    const count = buf.readUInt32LE(e + 24)
    const names = at(buf.readUInt32LE(e + 32))
    for (let i = 0; i < count; i++) exports.push(cstr(buf.readUInt32LE(names + 4 * i)))
  }

  // Import descriptors (20 bytes each, zero-terminated); the lookup table is 64-bit thunks in PE32+.
  const imports = {}
  const im = dir(1)
  if (im.rva) {
    for (let d = at(im.rva); ; d += 20) {
      const lookup = buf.readUInt32LE(d) || buf.readUInt32LE(d + 16)
      const nameRva = buf.readUInt32LE(d + 12)
      if (!lookup && !nameRva) break
      const fns = []
      for (let t = at(lookup); ; t += 8) {
        const thunk = buf.readBigUInt64LE(t)
        if (thunk === 0n) break
        fns.push(thunk & (1n << 63n) ? `#${thunk & 0xffffn}` : cstr(Number(thunk & 0x7fffffffn) + 2))
      }
      imports[cstr(nameRva)] = fns
    }
  }
  const delayed = []
  const dl = dir(13)
  if (dl.rva) {
    for (let d = at(dl.rva); buf.readUInt32LE(d + 4); d += 32) delayed.push(cstr(buf.readUInt32LE(d + 4)))
  }
  return {
    file,
    bytes: buf.length,
    machine: machine === 0x8664 ? 'x86-64' : `0x${machine.toString(16)}`,
    dll: Boolean(characteristics & 0x2000),
    osVersion: `${buf.readUInt16LE(opt + 40)}.${buf.readUInt16LE(opt + 42)}`,
    subsystemVersion: `${buf.readUInt16LE(opt + 48)}.${buf.readUInt16LE(opt + 50)}`,
    exports,
    imports,
    delayed,
  }
}

function check(file) {
  const info = inspect(file)
  const problems = []
  if (info.machine !== 'x86-64') problems.push(`machine ${info.machine}, expected x86-64`)
  if (!info.dll) problems.push('not a DLL (IMAGE_FILE_DLL is not set)')
  if (!info.exports.includes('napi_register_module_v1')) problems.push(`does not export napi_register_module_v1 (exports: ${info.exports.slice(0, 10).join(', ') || 'none'})`)
  const foreign = [...Object.keys(info.imports), ...info.delayed].filter((d) => !SYSTEM_DLLS.test(d))
  if (foreign.length) problems.push(`imports DLLs that are not part of Windows: ${foreign.join(', ')}`)
  return { info, problems }
}

module.exports = { inspect, check }

if (require.main === module) {
  const file = process.argv[2]
  if (!file) {
    console.error('usage: node scripts/check-pe.js FILE')
    process.exit(2)
  }
  const { info, problems } = check(file)
  const summary = { ...info, imports: Object.fromEntries(Object.entries(info.imports).map(([k, v]) => [k, v.length])) }
  console.log(JSON.stringify(summary))
  if (problems.length) {
    for (const p of problems) console.error(`${file}: ${p}`)
    process.exit(1)
  }
  console.log(`${file}: PE32+ DLL x86-64, exports napi_register_module_v1, imports only ${Object.keys(info.imports).join(', ')}: ok`)
}
