'use strict'
// Where one message's time goes on the thread that sends it, at HTTP concurrency 1: runs a contender
// (as bench/run.js does) under `perf record -e raw_syscalls:sys_enter` and reports, for each pair of
// consecutive system calls on its busiest thread, the time from entering one to entering the next
// (p25, p50, p75 over the messages). The pair that holds the wait for nginx's reply is marked; the
// others, summed by their medians, are the thread's active time per message. Medians from one run
// repeat to about a microsecond where CPU time per message moves ±10%, so two builds can be compared
// step by step (run them alternately; every system call traced adds about a microsecond).
//   node bench/timeline.js [addon|reqwest] [messages=8000]
// For the addon's own steps, build it with marker system calls (src/markers.rs) and point the
// worker at that build, e.g.
//   cargo build --release --lib --features bench-markers --target-dir /tmp/wx-marker-target
//   mkdir -p /tmp/wx-markers && cp *.js *.mjs package.json /tmp/wx-markers/ && ln -sfn "$PWD/node_modules" /tmp/wx-markers/
//   cp /tmp/wx-marker-target/release/libwx_openapi_native.so /tmp/wx-markers/wx-openapi-native.linux-x64-gnu.node
//   WX_BENCH_ADDON_DIR=/tmp/wx-markers node bench/timeline.js addon
// Needs perf and x86-64 Linux (the system call numbers below). Writes bench/results/timeline-<contender>-http-c1.txt.
const { spawn, execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const readline = require('node:readline')
const nginx = require('./lib/nginx.js')

const [contender = 'addon', messages = '8000'] = process.argv.slice(2)
const ROOT = path.join(__dirname, '..')
const CEILING = path.join(__dirname, 'reqwest-ceiling/target/release/reqwest-ceiling')

// x86-64 numbers: the calls a message makes, and src/markers.rs's points.
const NAMES = {
  0: 'read', 1: 'write', 20: 'writev', 44: 'sendto', 45: 'recvfrom', 46: 'sendmsg', 202: 'futex', 232: 'epoll_wait', 281: 'epoll_pwait',
  102: '[call entered]', 104: '[request built]', 107: '[task starting]', 108: '[request handed over]',
  110: '[call driven]', 111: '[loop callback]', 124: '[reply driven]', 145: '[settled]', 146: '[reactions ran]',
}
const name = (nr) => NAMES[nr] || `syscall ${nr}`

async function main() {
  if (!nginx.which('perf')) throw new Error('perf is not installed (apt-get install linux-perf)')
  const server = await nginx.start()
  const data = path.join(os.tmpdir(), `wx-bench-timeline-${process.pid}.data`)
  try {
    const base = server.httpBase
    const cmd = contender === 'reqwest'
      ? [CEILING, '--base', base, '--concurrency', '1', '--warmup-seconds', '1', '--n', messages]
      : [process.execPath, path.join(__dirname, 'lib/worker.js'), JSON.stringify({ contender, base, concurrency: 1, n: Number(messages), targetSeconds: 1, warmupSeconds: 1 })]
    const child = spawn('perf', ['record', '-q', '-e', 'raw_syscalls:sys_enter', '-o', data, '--', ...cmd], { stdio: ['pipe', 'pipe', 'inherit'] })
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('@@bench ') && JSON.parse(line.slice(8)).type === 'ready') child.stdin.write('go\n')
    })
    const code = await new Promise((resolve) => child.on('close', resolve))
    if (code !== 0) throw new Error(`the traced run exited with ${code}`)
    const text = execFileSync('perf', ['script', '-i', data, '-F', 'tid,time,trace'], { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] })
    const byThread = new Map()
    for (const line of text.split('\n')) {
      const m = /^\s*(\d+)\s+([\d.]+):\s+NR (\d+)/.exec(line)
      if (!m) continue
      if (!byThread.has(m[1])) byThread.set(m[1], [])
      byThread.get(m[1]).push([Number(m[2]) * 1e6, Number(m[3])])
    }
    const [tid, events] = [...byThread].sort((a, b) => b[1].length - a[1].length)[0]
    // The measured phase: leave out the start (warm-up) and the end (reporting).
    const from = Math.floor(events.length * 0.3)
    const to = Math.floor(events.length * 0.9)
    const pairs = new Map()
    for (let i = from + 1; i < to; i++) {
      const key = `${name(events[i - 1][1])} → ${name(events[i][1])}`
      if (!pairs.has(key)) pairs.set(key, [])
      pairs.get(key).push(events[i][0] - events[i - 1][0])
    }
    const rows = [...pairs].map(([key, times]) => {
      times.sort((a, b) => a - b)
      const at = (q) => times[Math.floor((times.length - 1) * q)]
      return { key, count: times.length, p25: at(0.25), p50: at(0.5), p75: at(0.75) }
    })
    const wait = rows.filter((r) => r.count > 100).sort((a, b) => b.p50 - a.p50)[0]
    const perMessage = wait.count
    const shown = rows.filter((r) => r.count >= perMessage * 0.05).sort((a, b) => b.count - a.count || b.p50 - a.p50)
    const active = shown.filter((r) => r !== wait).reduce((sum, r) => sum + (r.p50 * r.count) / perMessage, 0)
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim()
    const build = contender !== 'addon' ? '' : process.env.WX_BENCH_ADDON_DIR ? `, the addon from ${process.env.WX_BENCH_ADDON_DIR}` : ', the addon in the package root'
    const out = [
      `# ${contender} http c=1: ${active.toFixed(1)} µs active per message on its busiest thread (sum of the medians below, the wait left out)`,
      `# (perf record -e raw_syscalls:sys_enter, ${perMessage} messages; at ${commit}${build}; node bench/timeline.js ${process.argv.slice(2).join(' ')})`,
      '',
      '| from → to (entering each) | per message | p25 µs | p50 µs | p75 µs |',
      '|---|---:|---:|---:|---:|',
      ...shown.map((r) => `| ${r.key}${r === wait ? ' (the wait for the reply)' : ''} | ${(r.count / perMessage).toFixed(2)} | ${r.p25.toFixed(0)} | ${r.p50.toFixed(0)} | ${r.p75.toFixed(0)} |`),
      '',
    ].join('\n')
    const file = path.join(__dirname, 'results', `timeline-${contender}-http-c1.txt`)
    fs.writeFileSync(file, out)
    console.log(out)
    console.log(`wrote ${path.relative(ROOT, file)} (thread ${tid})`)
  } finally {
    await server.stop()
    fs.rmSync(data, { force: true })
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
