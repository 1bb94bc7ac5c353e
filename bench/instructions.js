'use strict'
// User-space instructions per message at concurrency 1 over HTTP, counted by valgrind's callgrind:
// the whole process (every thread, JIT code included), the difference between a run of `large`
// and a run of `small` sequential sends, so that start-up, warm-up and JIT compilation cancel out.
// Unlike CPU time on this VM (±10% between runs at concurrency 1), the count repeats to about 1%,
// so it shows what a change to the call path does where a timed run cannot.
//   node bench/instructions.js [addon|reqwest] [small=3000] [large=9000] [top=40]
// Writes bench/results/instructions-<contender>-http-c1.txt: the count, and the functions that
// execute the most instructions per message (exclusive). Needs valgrind (apt-get install valgrind).
// For function names in the addon, point WX_BENCH_PROFILE_LIB at a build that keeps its symbols
// (see bench/profile.js).
const { spawnSync, execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const nginx = require('./lib/nginx.js')
const { addonWithSymbols } = require('./lib/symbols.js')

const [contender = 'addon', small = '3000', large = '9000', top = '40'] = process.argv.slice(2)
const ROOT = path.join(__dirname, '..')
const CEILING = path.join(__dirname, 'reqwest-ceiling/target/release/reqwest-ceiling')

// The bench's message, sent one at a time, as the addon contender of bench/lib/worker.js does.
const addonScript = (root, base) => `
const cloud = require(${JSON.stringify(root)})
const api = cloud.createNewInstance({ appid: 'wxbench0000000000', secret: 'bench-secret', apiBaseUrl: ${JSON.stringify(base)},
  maxConcurrency: 1, timeout: 600000 }).openapi.customerServiceMessage
const MESSAGE = { touser: 'OPENID', msgtype: 'text', text: { content: 'Hello World' } }
;(async () => {
  const n = Number(process.argv[2])
  for (let i = 0; i < n; i++) if ((await api.send(MESSAGE)).errCode !== 0) throw new Error('send failed')
  console.log('@@bench ' + JSON.stringify({ type: 'result', count: n }))
})()
`

// One run under callgrind: its instruction total and the messages it sent (warm-up included).
function run(cmd, out, stdin) {
  const r = spawnSync('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, '--smc-check=all-non-file', ...cmd],
    { input: stdin, encoding: 'utf8', maxBuffer: 1 << 26, timeout: 1_800_000 })
  const total = Number((/Collected : (\d+)/.exec(r.stderr) || [])[1])
  let messages = 0
  for (const line of r.stdout.split('\n')) {
    if (!line.startsWith('@@bench ')) continue
    const msg = JSON.parse(line.slice(8))
    if (msg.type === 'ready') messages += msg.warmup.count
    if (msg.type === 'result') messages += msg.count
  }
  if (!total || !messages) throw new Error(`the run under valgrind failed:\n${r.stderr.slice(-2000)}\n${r.stdout.slice(-2000)}`)
  return { total, messages }
}

// Exclusive instructions per function, from callgrind_annotate.
function byFunction(file) {
  const text = execFileSync('callgrind_annotate', ['--threshold=100', '--inclusive=no', file], { encoding: 'utf8', maxBuffer: 1 << 28 })
  const counts = new Map()
  for (const line of text.split('\n')) {
    const m = /^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*)$/.exec(line)
    if (m && !m[2].startsWith('PROGRAM TOTALS')) counts.set(m[2], (counts.get(m[2]) || 0) + Number(m[1].replace(/,/g, '')))
  }
  return counts
}

async function main() {
  if (!nginx.which('valgrind')) throw new Error('valgrind is not installed (apt-get install valgrind)')
  const server = await nginx.start()
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-bench-ir-'))
  const copy = contender === 'addon' ? addonWithSymbols() : null
  try {
    const script = path.join(tmp, 'send.js')
    fs.writeFileSync(script, addonScript(copy || ROOT, server.httpBase))
    const runs = [Number(small), Number(large)].map((n, i) => {
      const out = path.join(tmp, `callgrind.${i}`)
      const cmd = contender === 'reqwest'
        ? [CEILING, '--base', server.httpBase, '--concurrency', '1', '--n', String(n), '--warmup-seconds', '1']
        : [process.execPath, script, String(n)]
      return { ...run(cmd, out, contender === 'reqwest' ? 'go\n' : undefined), out }
    })
    const messages = runs[1].messages - runs[0].messages
    const perMessage = (runs[1].total - runs[0].total) / messages
    const a = byFunction(runs[0].out)
    const b = byFunction(runs[1].out)
    const rows = [...new Set([...a.keys(), ...b.keys()])]
      .map((name) => [((b.get(name) || 0) - (a.get(name) || 0)) / messages, name])
      .sort((x, y) => y[0] - x[0])
      .slice(0, Number(top))
    const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim()
    const build = contender !== 'addon' ? '' : copy ? `, the addon built with symbols (WX_BENCH_PROFILE_LIB)` : ', the addon in the package root'
    const text = [
      `# ${contender} http c=1: ${Math.round(perMessage).toLocaleString('en-US')} instructions per message`,
      `# (callgrind, all threads; ${runs[1].messages} minus ${runs[0].messages} messages; at ${commit}${build};`,
      `#  node bench/instructions.js ${process.argv.slice(2).join(' ')})`,
      '',
      '## functions by exclusive instructions per message',
      '',
      ...rows.map(([n, name]) => `${Math.round(n).toString().padStart(8)}  ${name.slice(0, 160)}`),
      '',
    ].join('\n')
    const file = path.join(__dirname, 'results', `instructions-${contender}-http-c1.txt`)
    fs.writeFileSync(file, text)
    console.log(text)
    console.log(`wrote ${path.relative(ROOT, file)}`)
  } finally {
    await server.stop()
    fs.rmSync(tmp, { recursive: true, force: true })
    if (copy) fs.rmSync(copy, { recursive: true, force: true })
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
