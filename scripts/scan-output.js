#!/usr/bin/env node
'use strict'
// Runs a command, passes its stdout and stderr through, and fails if either ever shows a token or
// secret. Every token the emulator issues and every secret the tests use carry a mark (see
// emulator/index.js), so a leak is visible without knowing the values.
//   node scripts/scan-output.js -- node --test __test__/
const { spawn } = require('node:child_process')
const { TOKEN_MARK, SECRET_MARK } = require('../emulator')

const args = process.argv.slice(process.argv.indexOf('--') + 1)
const child = spawn(args[0], args.slice(1), { stdio: ['inherit', 'pipe', 'pipe'] })
const leaks = []

function scan(stream, out, name) {
  let pending = ''
  stream.on('data', (chunk) => {
    out.write(chunk)
    const lines = (pending + chunk).split('\n')
    pending = lines.pop()
    for (const line of lines) check(line, name)
  })
  stream.on('end', () => check(pending, name))
}

function check(line, name) {
  if (line.includes(TOKEN_MARK) || line.includes(SECRET_MARK)) leaks.push(`${name}: ${line.slice(0, 300)}`)
}

scan(child.stdout, process.stdout, 'stdout')
scan(child.stderr, process.stderr, 'stderr')
child.on('close', (code, signal) => {
  if (leaks.length > 0) {
    console.error(`\nscan-output: ${leaks.length} line(s) of output show a token or secret:`)
    for (const leak of leaks.slice(0, 20)) console.error(`  ${leak}`)
    process.exit(1)
  }
  console.error(`scan-output: no token or secret in the output of \`${args.join(' ')}\``)
  process.exit(signal ? 1 : code)
})
