'use strict'
// Where a contender's CPU goes: runs one contender (as bench/run.js does) under `perf record`
// against the bench nginx and prints the hottest symbols, by shared object and by symbol.
//   node bench/profile.js [contender=addon] [http|https] [concurrency=16] [seconds=4]
// For the addon, symbols need a build that keeps them, e.g.
//   CARGO_TARGET_DIR=/tmp/wx-prof-target CARGO_PROFILE_RELEASE_STRIP=none cargo build --release --lib
//   WX_BENCH_PROFILE_LIB=/tmp/wx-prof-target/release/libwx_openapi_native.so node bench/profile.js
// (the library is copied beside a copy of the package's JS, which the worker then loads).
// Node's JIT frames are named through --perf-basic-prof. Writes bench/results/profile-*.txt.
// WX_BENCH_STRACE=1 counts system calls per message instead (bench/results/syscalls-*.txt).
const { spawn, execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const readline = require('node:readline')
const nginx = require('./lib/nginx.js')
const { addonWithSymbols } = require('./lib/symbols.js')

const [contender = 'addon', protocol = 'http', concurrency = '16', seconds = '4'] = process.argv.slice(2)
const ROOT = path.join(__dirname, '..')

// With call graphs: each sample's thread and a category from its stack, and the inclusive share of
// the addon's own steps on the JS thread; in µs of CPU per message (share × CPU per message).
function category(frames) {
  const [top, dso] = frames[0]
  const chain = frames.map((f) => f[0]).join(' ')
  if (dso.includes('kallsyms')) {
    if (/futex/.test(chain)) return 'kernel: futex (park/wake)'
    if (/eventfd/.test(chain)) return 'kernel: eventfd (cross-thread wake)'
    if (/epoll/.test(chain)) return 'kernel: epoll'
    if (/tcp_|sock_|sendto|recvfrom|sys_write|sys_read|writev|readv/.test(chain)) return 'kernel: socket I/O'
    return 'kernel: other (scheduler, faults)'
  }
  if (/malloc|free|memalign|tcache|unlink_chunk|_int_|calloc|realloc/.test(top)) return 'libc: malloc/free'
  if (/memmove|memcpy|memset/.test(top)) return 'libc: memcpy'
  if (/wx-openapi-native|libwx_openapi|reqwest-ceiling/.test(dso)) {
    if (/hyper|h2::|http::|reqwest|tower|hyper_util/.test(top)) return 'rust: hyper/reqwest'
    if (/url::|idna::/.test(top)) return 'rust: url/idna'
    if (/serde_json|indexmap|IndexMap/.test(top)) return 'rust: serde_json'
    if (/tokio/.test(top)) return 'rust: tokio'
    if (/napi/.test(top)) return 'rust: napi glue'
    if (/rustls|ring_core|ring::/.test(top)) return 'rust: rustls/ring'
    return 'rust: other'
  }
  if (dso.startsWith('perf-') || dso.includes('JIT')) return 'JS: JIT code'
  if (dso === 'node') {
    if (/Scaveng|MarkCompact|Heap::|GC/.test(top)) return 'node: V8 GC'
    if (/compiler|Turbofan|Maglev/.test(top)) return 'node: V8 compiler'
    if (/^(napi_|v8impl|node::|uv_|uv__)/.test(top)) return 'node: N-API/libuv'
    return 'node: V8'
  }
  return `other: ${dso}`
}

function breakdown(data, result) {
  const text = execFileSync('perf', ['script', '-i', data], { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] })
  const samples = text.split('\n\n').map((block) => {
    const lines = block.split('\n').filter((l) => l.trim())
    if (lines.length < 2) return null
    const [comm, tid] = lines[0].trim().split(/\s+/)
    const frames = lines.slice(1).map((l) => /^\s*[0-9a-f]+ (.*?)(?:\+0x[0-9a-f]+)? \((.*)\)$/.exec(l)).filter(Boolean)
      .map((m) => [m[1], path.basename(m[2])])
    return frames.length ? { comm, tid, frames } : null
  }).filter(Boolean)
  const byTid = {}
  for (const x of samples) if (x.comm === 'node') byTid[x.tid] = (byTid[x.tid] || 0) + 1
  const jsTid = Object.entries(byTid).sort((a, b) => b[1] - a[1])[0]?.[0]
  const usPerMessage = result ? ((result.cpuUser + result.cpuSys) / result.count) * 1e6 : NaN
  const threadOf = (x) => (x.comm === 'node' && x.tid === jsTid ? 'JS thread' : /tokio|reqwest/.test(x.comm) ? 'runtime threads' : 'other threads')
  const groups = {}
  for (const x of samples) {
    const t = threadOf(x)
    groups[t] ??= {}
    const c = category(x.frames)
    groups[t][c] = (groups[t][c] || 0) + 1
  }
  const n = samples.length
  const line = (count, label) => `${((100 * count) / n).toFixed(1).padStart(6)}%  ${((usPerMessage * count) / n).toFixed(1).padStart(6)} µs/msg  ${label}`
  const out = ['## by thread and category (share of all samples; µs of CPU per message)', '']
  for (const [t, cats] of Object.entries(groups).sort((a, b) => sum(b[1]) - sum(a[1]))) {
    out.push(line(sum(cats), t))
    for (const [c, k] of Object.entries(cats).sort((a, b) => b[1] - a[1]).slice(0, 12)) out.push(`  ${line(k, c)}`)
  }
  // The addon's steps on the JS thread: the napi method (params read, call prepared, future
  // spawned on napi-rs's tokio runtime), then the promise settled through napi-rs's JsDeferred.
  const steps = [
    ['Client::call (the napi method)', /wx_openapi_native::Client::call$|Client_0::call_c_callback/],
    ['  reading params (wx_openapi::params)', /wx_openapi::params::/],
    ['  validating and building the request (Client::prepare)', /wx_openapi::client::Client::prepare/],
    ['  spawning on the runtime', /execute_future_impl|spawn_future_with_callback|tokio::runtime::.*spawn/],
    ['settling (JsDeferred resolve callback)', /js_values::deferred::napi_resolve_deferred/],
    ['  the reply to JS (reply::to_js)', /wx_openapi_native::reply::to_js/],
    ['  resolving or rejecting the promise (N-API)', /^napi_(resolve|reject)_deferred$/],
  ]
  const js = samples.filter((x) => threadOf(x) === 'JS thread')
  out.push('', '## JS thread: inclusive share of the addon\'s steps (share of all samples; µs per message)', '')
  for (const [label, re] of steps) out.push(line(js.filter((x) => x.frames.some((f) => re.test(f[0]))).length, label))
  return [...out, '']
}

const sum = (o) => Object.values(o).reduce((a, b) => a + b, 0)

async function main() {
  if (!nginx.which('perf')) throw new Error('perf is not installed (apt-get install linux-perf)')
  const server = await nginx.start()
  const out = path.join(__dirname, 'results')
  fs.mkdirSync(out, { recursive: true })
  const data = path.join(os.tmpdir(), `wx-bench-perf-${process.pid}.data`)
  const copy = contender === 'addon' ? addonWithSymbols() : null
  try {
    const env = { ...process.env, SSL_CERT_FILE: server.bundleFile, NODE_EXTRA_CA_CERTS: server.caFile }
    delete env.SSL_CERT_DIR
    if (copy) env.WX_BENCH_ADDON_DIR = copy
    const base = protocol === 'https' ? server.httpsBase : server.httpBase
    const cmd = contender.startsWith('reqwest')
      ? [path.join(__dirname, 'reqwest-ceiling/target/release/reqwest-ceiling'), '--base', base, '--concurrency', concurrency,
          '--warmup-seconds', '1', '--target-seconds', seconds, ...(contender === 'reqwest-h1' ? ['--http1-only'] : [])]
      : [process.execPath, '--perf-basic-prof', path.join(__dirname, 'lib/worker.js'),
          JSON.stringify({ contender, base, concurrency: Number(concurrency), targetSeconds: Number(seconds), warmupSeconds: 1 })]
    // cpu-clock: a VM often has no hardware counters. No call graphs: release Rust keeps no frame pointers.
    // WX_BENCH_CALLGRAPH=1 records DWARF call graphs (large files; callers of the hot symbols).
    const graph = process.env.WX_BENCH_CALLGRAPH ? ['--call-graph', 'dwarf,32768', '-F', '499'] : ['-F', '2999']
    // WX_BENCH_STRACE=1 counts system calls per message instead (strace -c; slows the run).
    const strace = Boolean(process.env.WX_BENCH_STRACE)
    const child = strace
      ? spawn('strace', ['-f', '-c', '-o', data, '--', ...cmd], { env, cwd: os.tmpdir(), stdio: ['pipe', 'pipe', 'inherit'] })
      : spawn('perf', ['record', '-e', 'cpu-clock', ...graph, '-o', data, '--', ...cmd], { env, cwd: os.tmpdir(), stdio: ['pipe', 'pipe', 'inherit'] })
    let result = null
    let ready = null
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.startsWith('@@bench ')) return
      const msg = JSON.parse(line.slice(8))
      if (msg.type === 'ready') {
        ready = msg
        child.stdin.write('go\n')
      }
      else result = msg
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000)
    await new Promise((r) => child.on('close', r))
    clearTimeout(timer)
    if (strace) {
      // Every message the process sent: token and first send, warm-up, measured phase.
      const messages = result.count + ready.warmup.count
      const rows = fs.readFileSync(data, 'utf8').split('\n')
        .map((l) => l.trim().split(/\s+/)).filter((f) => f.length >= 5 && /^\d/.test(f[0]) && f.at(-1) !== 'total')
        .map((f) => ({ name: f.at(-1), calls: Number(f[3]) }))
        .sort((a, b) => b.calls - a.calls)
      const total = rows.reduce((a, r) => a + r.calls, 0)
      const text = [`# ${contender} ${protocol} c=${concurrency}: system calls per message (strace -f -c, ${messages} messages)`, '',
        ...rows.filter((r) => r.calls / messages >= 0.01).map((r) => `${(r.calls / messages).toFixed(2).padStart(8)}  ${r.name}`),
        `${(total / messages).toFixed(2).padStart(8)}  all`, ''].join('\n')
      const file = path.join(out, `syscalls-${contender}-${protocol}-c${concurrency}.txt`)
      fs.writeFileSync(file, text)
      console.log(text)
      return
    }
    const report = (sort, extra = ['-g', 'none']) => execFileSync('perf', ['report', '-i', data, '--no-children', '--sort', sort, '--stdio', '--percent-limit', '0.4', ...extra],
      { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] })
    const text = [
      `# ${contender} ${protocol} c=${concurrency}: ${result ? `${Math.round(result.count / result.seconds)} msg/s, ${(((result.cpuUser + result.cpuSys) / result.count) * 1e6).toFixed(1)} us CPU per message` : 'no result'}`,
      '', '## by shared object', report('dso').split('\n').filter((l) => l && !l.startsWith('#')).join('\n'),
      '', '## by symbol', report('dso,sym').split('\n').filter((l) => l && !l.startsWith('#')).slice(0, 70).join('\n'), '',
      ...(process.env.WX_BENCH_CALLGRAPH ? breakdown(data, result) : []),
    ].join('\n')
    const file = path.join(out, `profile-${contender}-${protocol}-c${concurrency}.txt`)
    fs.writeFileSync(file, text)
    console.log(text)
    console.log(`wrote ${path.relative(ROOT, file)}`)
  } finally {
    if (process.env.WX_BENCH_KEEP_DATA) console.log(`perf data kept: ${data}`)
    else fs.rmSync(data, { force: true })
    if (copy) fs.rmSync(copy, { recursive: true, force: true })
    await server.stop()
  }
}

main().catch((e) => {
  console.error(e)
  process.exitCode = 1
})
