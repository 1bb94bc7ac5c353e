'use strict'
// Wall time of `node -e "require('./')"` against `node -e 0`: the median of N runs each,
// interleaved so that machine noise hits both alike. Run: node bench/require-time.js [runs]
const { execFileSync } = require('node:child_process')
const path = require('node:path')

const runs = Number(process.argv[2] || 21)
const root = path.join(__dirname, '..')
const cases = { 'node -e 0': ['-e', '0'], "node -e \"require('./')\"": ['-e', "require('./')"] }
const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]))
for (let i = 0; i < runs; i++) {
  for (const [name, args] of Object.entries(cases)) {
    const start = process.hrtime.bigint()
    execFileSync(process.execPath, args, { cwd: root })
    times[name].push(Number(process.hrtime.bigint() - start) / 1e6)
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
for (const [name, xs] of Object.entries(times)) console.log(`${name.padEnd(28)} median ${median(xs).toFixed(1)} ms over ${runs} runs`)
const [base, load] = Object.values(times).map(median)
console.log(`require('./') adds ${(load - base).toFixed(1)} ms`)
