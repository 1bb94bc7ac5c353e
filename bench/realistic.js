'use strict'
// The realistic case: a WeChat stand-in that answers every request after 20 ms, as the real one
// does over the network, and 5,000 sends at 64 in flight. Wall time against the ideal
// (5,000 / 64 × 20 ms), and CPU per message against undici's Pool at the same concurrency.
//
//   node bench/realistic.js [--runs 5] [--messages 5000] [--concurrency 64] [--delay 20]
//
// The server runs in a child process of its own; each contender runs in its own process
// (bench/lib/worker.js), the runs interleaved; figures are medians. Writes
// bench/results/realistic.json.
const { spawn } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const readline = require('node:readline')

const BENCH = __dirname
const WORKER = path.join(BENCH, 'lib', 'worker.js')

function parseArgs(argv) {
  const o = { runs: 5, messages: 5000, concurrency: 64, delay: 20, contenders: ['addon', 'undici'] }
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '')
    if (!(key in o)) throw new Error(`unknown argument ${argv[i]}`)
    o[key] = key === 'contenders' ? argv[i + 1].split(',') : Number(argv[i + 1])
  }
  return o
}

// The server: node's http, answering after `delay` ms, keep-alive, in a child process.
const SERVER = `
  const http = require('node:http')
  const delay = Number(process.argv[1])
  const server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => setTimeout(() => {
      const body = req.url.startsWith('/cgi-bin/stable_token')
        ? '{"access_token":"bench-token","expires_in":7200}' : '{"errcode":0,"errmsg":"ok"}'
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length })
      res.end(body)
    }, delay))
  })
  server.keepAliveTimeout = 60000
  server.listen(0, '127.0.0.1', () => console.log(server.address().port))
`

async function startServer(delay) {
  const child = spawn(process.execPath, ['-e', SERVER, String(delay)], { stdio: ['ignore', 'pipe', 'inherit'] })
  const { value: port } = await readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]().next()
  return { base: `http://127.0.0.1:${port}`, close: () => child.kill() }
}

function runWorker(config) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'inherit'] })
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.startsWith('@@bench ')) return
      const message = JSON.parse(line.slice(8))
      if (message.type === 'ready') child.stdin.write('go\n')
      if (message.type === 'result') resolve(message)
    })
    child.on('exit', (code) => code !== 0 && reject(new Error(`${config.contender} exited with ${code}`)))
  })
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

async function main() {
  const o = parseArgs(process.argv.slice(2))
  const server = await startServer(o.delay)
  const ideal = (o.messages / o.concurrency) * (o.delay / 1000)
  const results = Object.fromEntries(o.contenders.map((c) => [c, []]))
  try {
    for (let run = 0; run < o.runs; run++) {
      for (const contender of o.contenders) {
        const r = await runWorker({
          contender, base: server.base, concurrency: o.concurrency, n: o.messages, warmupSeconds: 0.5, targetSeconds: 1,
        })
        if (r.errors) throw new Error(`${contender}: ${r.errors} errors, first ${r.firstError}`)
        results[contender].push({ seconds: r.seconds, cpuPerMessageUs: ((r.cpuUser + r.cpuSys) / r.count) * 1e6 })
      }
    }
  } finally {
    server.close()
  }
  const summary = {}
  console.log(`${o.messages} sends, ${o.concurrency} in flight, server answers after ${o.delay} ms; ideal wall ${ideal.toFixed(3)} s; medians of ${o.runs} runs`)
  console.log('| contender | wall (s) | wall / ideal | CPU per message (µs) | CPU vs undici |')
  console.log('|---|---|---|---|---|')
  for (const contender of o.contenders) {
    const wall = median(results[contender].map((r) => r.seconds))
    const cpu = median(results[contender].map((r) => r.cpuPerMessageUs))
    summary[contender] = { wall, wallOverIdeal: wall / ideal, cpuPerMessageUs: cpu, runs: results[contender] }
  }
  for (const [contender, s] of Object.entries(summary)) {
    const vsUndici = summary.undici ? (s.cpuPerMessageUs / summary.undici.cpuPerMessageUs).toFixed(2) + 'x' : '–'
    console.log(`| ${contender} | ${s.wall.toFixed(3)} | ${s.wallOverIdeal.toFixed(3)} | ${s.cpuPerMessageUs.toFixed(1)} | ${vsUndici} |`)
  }
  fs.mkdirSync(path.join(BENCH, 'results'), { recursive: true })
  fs.writeFileSync(path.join(BENCH, 'results', 'realistic.json'), JSON.stringify({ options: o, ideal, summary }, null, 2) + '\n')
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
