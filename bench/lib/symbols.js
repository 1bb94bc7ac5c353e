'use strict'
// A copy of the package's JS with the addon build that WX_BENCH_PROFILE_LIB names in place of its
// .node, so that profiles name the addon's functions (a release build strips them). Used by
// bench/profile.js and bench/instructions.js; null when the variable is not set.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const ROOT = path.join(__dirname, '..', '..')

function addonWithSymbols() {
  const lib = process.env.WX_BENCH_PROFILE_LIB
  if (!lib) return null
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-bench-symbols-'))
  for (const f of fs.readdirSync(ROOT)) if (/\.(js|mjs|json)$/.test(f) && f !== 'package-lock.json') fs.copyFileSync(path.join(ROOT, f), path.join(dir, f))
  const node = fs.readdirSync(ROOT).find((f) => f.endsWith('.node'))
  fs.copyFileSync(lib, path.join(dir, node))
  return dir
}

module.exports = { addonWithSymbols }
