'use strict'
// `npm run bench`: wx-openapi-native against the best a Node user could write, side by side, on a
// local nginx (bench/nginx.conf.template) that answers as WeChat does, over HTTP and HTTPS.
//
//   node bench/run.js [--quick] [--runs 5] [--seconds 2.5] [--warmup 1.5]
//                     [--contenders addon,undici,fetch,reqwest,co-wechat-api]
//                     [--concurrency 1,16,256] [--protocols http,https] [--no-cold] [--cold-runs 11]
//                     [--noise 0.15] [--max-retries 2] [--wait-quiet 300] [--budget 840] [--nice -10]
//
// Each contender runs in a child process of its own (bench/lib/worker.js, or the Rust ceiling in
// bench/reqwest-ceiling), once per repetition, interleaved, and each figure is the median over the
// repetitions. Prints the table, the targets of the issue as PASS/FAIL, and writes
// bench/results/latest.json, latest.md and throughput.svg.
const { spawn, spawnSync, execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const readline = require('node:readline')

const BENCH = __dirname
const ROOT = path.join(BENCH, '..')
const RESULTS = path.join(BENCH, 'results')
const CEILING_DIR = path.join(BENCH, 'reqwest-ceiling')
const CEILING_BIN = path.join(CEILING_DIR, 'target', 'release', 'reqwest-ceiling')
const nginx = require('./lib/nginx.js')
const cpu = require('./lib/cpu.js')

// ---------------------------------------------------------------------------------- options
function parseArgs(argv) {
  const o = {
    quick: false, runs: 5, seconds: 2.5, warmup: 1.5, cold: true, coldRuns: 11,
    contenders: ['addon', 'undici', 'fetch', 'reqwest', 'co-wechat-api', 'reqwest-h1'],
    concurrency: [1, 16, 256], protocols: ['http', 'https'],
    // A run during which other processes used more than this many cores is run again (up to
    // maxRetries times), and kept but flagged if it stays noisy.
    noise: 0.15, maxRetries: 2, waitQuiet: 300, budget: 840, nice: 0,
  }
  const list = (v) => v.split(',').map((s) => s.trim()).filter(Boolean)
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const next = () => argv[++i]
    if (a === '--quick') Object.assign(o, { quick: true, runs: 1, seconds: 1.5, warmup: 1, coldRuns: 3, maxRetries: 0, waitQuiet: 0 })
    else if (a === '--runs') o.runs = Number(next())
    else if (a === '--seconds') o.seconds = Number(next())
    else if (a === '--warmup') o.warmup = Number(next())
    else if (a === '--contenders') o.contenders = list(next())
    else if (a === '--concurrency') o.concurrency = list(next()).map(Number)
    else if (a === '--protocols') o.protocols = list(next())
    else if (a === '--no-cold') o.cold = false
    else if (a === '--cold-runs') o.coldRuns = Number(next())
    else if (a === '--noise') o.noise = Number(next())
    else if (a === '--max-retries') o.maxRetries = Number(next())
    else if (a === '--wait-quiet') o.waitQuiet = Number(next())
    else if (a === '--budget') o.budget = Number(next())
    else if (a === '--nice') o.nice = Number(next())
    else if (a === '--help' || a === '-h') {
      console.log(fs.readFileSync(__filename, 'utf8').split('\n').slice(1, 13).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'))
      process.exit(0)
    } else throw new Error(`unknown argument ${a} (try --help)`)
  }
  return o
}

// What each contender is, for the table. `reqwest-h1` is a diagnostic: the ceiling held to
// HTTP/1.1 over TLS, with one connection per concurrent request like the Node clients; it is run
// over HTTPS only (over plain HTTP every reqwest client speaks HTTP/1.1 anyway).
const CONTENDERS = {
  addon: { label: 'wx-openapi-native', kind: 'node' },
  undici: { label: 'undici Pool', kind: 'node' },
  fetch: { label: 'fetch (Node)', kind: 'node' },
  reqwest: { label: 'raw reqwest', kind: 'rust' },
  'co-wechat-api': { label: 'co-wechat-api', kind: 'node' },
  'reqwest-h1': { label: 'raw reqwest, HTTP/1.1 only', kind: 'rust', args: ['--http1-only'], only: 'https', diagnostic: true },
  // Diagnostic, by --contenders only.
  'reqwest-1w': { label: 'raw reqwest, 1 tokio worker', kind: 'rust', args: ['--threads', '1'], diagnostic: true },
}
const COLORS = {
  addon: '#d62728', undici: '#1f77b4', fetch: '#2ca02c', reqwest: '#111111', 'co-wechat-api': '#9467bd', 'reqwest-h1': '#7f7f7f',
  'reqwest-1w': '#8c564b',
}

// ---------------------------------------------------------------------------------- helpers
const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (s.length === 0) return NaN
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const fmt = (x, digits = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '–')
const ratio = (x) => (Number.isFinite(x) ? `${x.toFixed(2)}x` : '–')

function sh(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()
  } catch {
    return null
  }
}

function machine(nginxVersion) {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8')
  const model = (/model name\s*:\s*(.*)/.exec(cpuinfo) || [])[1] || os.cpus()[0]?.model
  const pkg = (p) => { try { return require(p).version } catch { return null } }
  return {
    cpus: os.cpus().length,
    nproc: Number(sh('nproc', [])) || os.cpus().length,
    cpuModel: model,
    memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    kernel: `${os.type()} ${os.release()}`,
    debian: (() => { try { return fs.readFileSync('/etc/debian_version', 'utf8').trim() } catch { return null } })(),
    node: process.version,
    rustc: sh('rustc', ['-V']),
    nginx: nginxVersion,
    undici: pkg(path.join(BENCH, 'node_modules', 'undici', 'package.json')),
    fetchUndici: process.versions.undici,
    coWechatApi: pkg(path.join(BENCH, 'node_modules', 'co-wechat-api', 'package.json')),
    wxServerSdk: pkg(path.join(BENCH, 'node_modules', 'wx-server-sdk', 'package.json')),
    addon: pkg(path.join(ROOT, 'package.json')),
    addonBuild: addonIdentity(),
  }
}

// Which build of the addon was measured: its file, hash and time, and the commit it sits on.
function addonIdentity() {
  const file = fs.readdirSync(ROOT).find((f) => f.endsWith('.node'))
  if (!file) return null
  const full = path.join(ROOT, file)
  const bytes = fs.readFileSync(full)
  const git = (...a) => sh('git', ['-C', ROOT, ...a])
  return {
    file,
    bytes: bytes.length,
    sha256: require('node:crypto').createHash('sha256').update(bytes).digest('hex').slice(0, 16),
    built: fs.statSync(full).mtime.toISOString(),
    gitHead: git('rev-parse', '--short', 'HEAD'),
    srcChangedSinceHead: (git('status', '--porcelain', '--', 'src', 'Cargo.toml', 'Cargo.lock') || '') !== '',
    // A binary older than a source file may not be what the sources say (`npm run build` then).
    srcNewerThanBinary: newestMtime(path.join(ROOT, 'src')) > fs.statSync(full).mtimeMs,
  }
}

function newestMtime(dir) {
  let newest = 0
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs)
  }
  return newest
}

// ---------------------------------------------------------------------------------- preparation
// The package as it is now, copied aside: another build of the addon landing in the work tree
// during the bench must not change what the later runs load.
function snapshotAddon() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-bench-addon-'))
  for (const f of fs.readdirSync(ROOT)) {
    if (/\.(js|mjs|cjs|json|node)$/.test(f) && f !== 'package-lock.json') fs.copyFileSync(path.join(ROOT, f), path.join(dir, f))
  }
  return dir
}

function prepare(opts) {
  const nodeBinary = fs.readdirSync(ROOT).find((f) => f.endsWith('.node'))
  if (!nodeBinary) throw new Error('the addon is not built: run `npm run build` in the package root first')
  if (!fs.existsSync(path.join(BENCH, 'node_modules', 'undici', 'package.json'))) {
    console.error('# installing the bench dependencies: npm ci --prefix bench')
    execFileSync('npm', ['ci', '--prefix', BENCH, '--no-audit', '--no-fund'], { stdio: 'inherit' })
  }
  if (opts.contenders.some((c) => CONTENDERS[c]?.kind === 'rust')) {
    const sources = ['Cargo.toml', 'Cargo.lock', 'src/main.rs'].map((f) => path.join(CEILING_DIR, f))
    const stale = !fs.existsSync(CEILING_BIN) ||
      sources.some((f) => fs.statSync(f).mtimeMs > fs.statSync(CEILING_BIN).mtimeMs)
    if (stale) {
      console.error('# building the reqwest ceiling: cargo build --release (bench/reqwest-ceiling)')
      execFileSync('cargo', ['build', '--release', '--quiet', '--manifest-path', path.join(CEILING_DIR, 'Cargo.toml')], { stdio: 'inherit' })
    }
  }
  return { addonBinary: nodeBinary }
}

// ---------------------------------------------------------------------------------- one run
// Starts one contender process, reads nginx's connection counter around its measured phase and
// returns its figures. Never outlives `limitMs`.
async function runOne(server, env, contender, base, concurrency, { n, targetSeconds, warmupSeconds, limitMs }) {
  const spec = CONTENDERS[contender]
  // Read before the child exists, so that every connection it makes is counted.
  let before
  try {
    before = await server.status()
  } catch (e) {
    return { error: `stub_status: ${e.message}` }
  }
  let child
  if (spec.kind === 'rust') {
    const args = ['--base', base, '--concurrency', String(concurrency), '--warmup-seconds', String(warmupSeconds),
      ...(n ? ['--n', String(n)] : ['--target-seconds', String(targetSeconds)]), ...(spec.args || [])]
    child = spawn(CEILING_BIN, args, { env: { ...env, ...spec.env }, stdio: ['pipe', 'pipe', 'pipe'] })
  } else {
    const config = { contender: spec.worker || contender, base, concurrency, n, targetSeconds, warmupSeconds }
    child = spawn(process.execPath, [path.join(BENCH, 'lib', 'worker.js'), JSON.stringify(config)],
      { env: { ...env, ...spec.env }, cwd: BENCH, stdio: ['pipe', 'pipe', 'pipe'] })
  }
  return new Promise((resolve) => {
    let stderr = ''
    let ready = null
    let atReady = null
    let sample0 = null
    let settled = false
    const sample = () => ({
      at: Number(process.hrtime.bigint()) / 1e9,
      busy: cpu.machineBusy(),
      nginx: server.pids().reduce((a, p) => a + cpu.processCpu(p), 0),
      self: cpu.selfCpu(),
    })
    const finish = (value) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      try { child.kill('SIGKILL') } catch {}
      resolve(value)
    }
    const fail = (why) => finish({ error: `${why}${stderr ? `\n${stderr.trim().split('\n').slice(-8).join('\n')}` : ''}` })
    const timer = setTimeout(() => fail(`timed out after ${limitMs} ms`), limitMs)
    child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-8000) })
    child.on('error', (e) => fail(e.message))
    let resultSeen = false
    // 'close' comes after the child's stdout has been read to its end.
    child.on('close', (code, signal) => { if (!resultSeen) fail(`exited (${code ?? signal}) before reporting`) })
    {
      readline.createInterface({ input: child.stdout }).on('line', async (line) => {
        if (!line.startsWith('@@bench ')) return
        const msg = JSON.parse(line.slice(8))
        try {
          if (msg.type === 'ready') {
            ready = msg
            atReady = await server.status()
            sample0 = sample()
            child.stdin.write('go\n')
          } else if (msg.type === 'result') {
            resultSeen = true
            const sample1 = sample()
            const after = await server.status()
            const nginxCpu = sample1.nginx - sample0.nginx
            const wall = sample1.at - sample0.at
            const foreign = (sample1.busy - sample0.busy) - (msg.cpuUser + msg.cpuSys) - nginxCpu - (sample1.self - sample0.self)
            if (msg.errors) return fail(`${msg.errors} failed sends; first: ${msg.firstError}`)
            finish({
              n: ready.n,
              count: msg.count,
              seconds: msg.seconds,
              rate: msg.count / msg.seconds,
              cpuPer10k: ((msg.cpuUser + msg.cpuSys) / msg.count) * 10_000,
              cpuUser: msg.cpuUser,
              cpuSys: msg.cpuSys,
              p50: msg.p50,
              p99: msg.p99,
              maxRssKb: msg.maxRssKb,
              // Each stub_status read is one accepted connection of its own (see nginx.conf.template).
              connectionsMeasured: after.accepts - atReady.accepts - 1,
              connectionsTotal: after.accepts - before.accepts - 2,
              messagesTotal: ready.warmup.count + msg.count,
              requestsMeasured: after.requests - atReady.requests - 1,
              nginxCpuPer10k: (nginxCpu / msg.count) * 10_000,
              // Cores used by other processes on the machine during the measured phase.
              foreignCores: Math.max(0, foreign / wall),
            })
          }
        } catch (e) {
          fail(e.message)
        }
      })
    }
  })
}

// ---------------------------------------------------------------------------------- throughput matrix
async function matrix(server, opts, env) {
  const cells = []
  for (const protocol of opts.protocols) {
    for (const concurrency of opts.concurrency) {
      for (const contender of opts.contenders) {
        if (CONTENDERS[contender].only && CONTENDERS[contender].only !== protocol) continue
        cells.push({ protocol, concurrency, contender, runs: [], n: undefined })
      }
    }
  }
  const total = cells.length * opts.runs
  let done = 0
  const started = Date.now()
  for (let rep = 0; rep < opts.runs; rep++) {
    // Interleaved: every contender once per repetition, the order rotated from one repetition to
    // the next, so that slow drifts of the machine fall on all alike.
    const groups = new Map()
    for (const cell of cells) {
      const key = `${cell.protocol}/${cell.concurrency}`
      if (!groups.has(key)) groups.set(key, [])
      groups.get(key).push(cell)
    }
    for (const group of groups.values()) {
      const k = rep % group.length
      for (const cell of [...group.slice(k), ...group.slice(0, k)]) {
        const base = cell.protocol === 'https' ? server.httpsBase : server.httpBase
        let r
        for (let attempt = 0; ; attempt++) {
          r = await runOne(server, env, cell.contender, base, cell.concurrency, {
            n: cell.n, targetSeconds: opts.seconds, warmupSeconds: opts.warmup,
            limitMs: Math.max(60_000, opts.seconds * 20_000),
          })
          r.retries = attempt
          // A noisy run is re-run only while the whole matrix is still expected to end within
          // --budget seconds; past that it is kept, flagged.
          const elapsed = (Date.now() - started) / 1000
          const perRun = elapsed / (done + attempt + 1)
          const overBudget = elapsed + perRun * (total - done) > opts.budget
          if (r.error || r.foreignCores <= opts.noise || attempt >= opts.maxRetries || overBudget) break
          process.stderr.write(`#   noisy run (${r.foreignCores.toFixed(2)} cores used by other processes): again\n`)
          await new Promise((res) => setTimeout(res, 2000))
        }
        r.noisy = !r.error && r.foreignCores > opts.noise
        done++
        if (r.error) {
          console.error(`! ${cell.protocol} c=${cell.concurrency} ${cell.contender}: ${r.error}`)
        } else {
          cell.n ??= r.n // the first repetition picks N (≈ --seconds of sending); the others reuse it
        }
        cell.runs.push(r)
        const eta = ((Date.now() - started) / done) * (total - done) / 1000
        process.stderr.write(`# [${done}/${total}] ${cell.protocol} c=${String(cell.concurrency).padEnd(3)} ${cell.contender.padEnd(14)} ` +
          (r.error ? 'FAILED' : `${fmt(r.rate)} msg/s, ${r.cpuPer10k.toFixed(2)} CPU s/10k, p50 ${r.p50.toFixed(3)} ms, ${r.connectionsTotal} conn, other load ${r.foreignCores.toFixed(2)}`) +
          `  (~${Math.round(eta)} s left)\n`)
      }
    }
  }
  for (const cell of cells) {
    const ok = cell.runs.filter((r) => !r.error)
    cell.failures = cell.runs.length - ok.length
    cell.median = {
      rate: median(ok.map((r) => r.rate)),
      cpuPer10k: median(ok.map((r) => r.cpuPer10k)),
      p50: median(ok.map((r) => r.p50)),
      p99: median(ok.map((r) => r.p99)),
      handshakesPer10k: median(ok.map((r) => (r.connectionsMeasured / r.count) * 10_000)),
      connectionsPerProcess: median(ok.map((r) => r.connectionsTotal)),
      connectionsMax: Math.max(...ok.map((r) => r.connectionsTotal)),
      maxRssKb: median(ok.map((r) => r.maxRssKb)),
      nginxCpuPer10k: median(ok.map((r) => r.nginxCpuPer10k)),
      foreignCores: median(ok.map((r) => r.foreignCores)),
      noisyRuns: ok.filter((r) => r.noisy).length,
      n: cell.n,
      runs: ok.length,
    }
  }
  return cells
}

// ---------------------------------------------------------------------------------- cold start
function coldScripts(server, addonDir) {
  const message = JSON.stringify({ touser: 'OPENID', msgtype: 'text', text: { content: 'Hello World' } })
  const tokenBody = JSON.stringify({ grant_type: 'client_credential', appid: 'wxbench0000000000', secret: 'bench-secret', force_refresh: false })
  const base = server.httpsBase
  return {
    'node -e 0': '0',
    'wx-openapi-native: require + send 1 (HTTPS)':
      `const cloud=require(${JSON.stringify(addonDir)});` +
      `const i=cloud.createNewInstance({appid:'wxbench0000000000',secret:'bench-secret',apiBaseUrl:${JSON.stringify(base)}});` +
      `i.openapi.customerServiceMessage.send(${message}).then(r=>{if(r.errCode!==0)process.exitCode=2},e=>{console.error(e);process.exitCode=1})`,
    'undici: require + send 1 (HTTPS)':
      `const {Pool}=require('undici');const p=new Pool(${JSON.stringify(base)});const h={'content-type':'application/json'};` +
      `(async()=>{let r=await p.request({path:'/cgi-bin/stable_token',method:'POST',headers:h,body:${JSON.stringify(tokenBody)}});` +
      `const t=(await r.body.json()).access_token;` +
      `r=await p.request({path:'/cgi-bin/message/custom/send?access_token='+encodeURIComponent(t),method:'POST',headers:h,body:JSON.stringify(${message})});` +
      `const j=await r.body.json();if(j.errcode!==0)process.exitCode=2;await p.close()})().catch(e=>{console.error(e);process.exitCode=1})`,
    "require('wx-server-sdk') alone": "require('wx-server-sdk')",
  }
}

function coldStart(server, opts, env) {
  const scripts = coldScripts(server, env.WX_BENCH_ADDON_DIR)
  const samples = Object.fromEntries(Object.keys(scripts).map((k) => [k, { wallMs: [], rssKb: [] }]))
  // One untimed round first: the page cache then holds every file for all alike.
  for (let i = -1; i < opts.coldRuns; i++) {
    for (const [name, script] of Object.entries(scripts)) {
      const t0 = process.hrtime.bigint()
      const r = spawnSync('/usr/bin/time', ['-f', '@@rss %M', process.execPath, '-e', script],
        { cwd: BENCH, env, encoding: 'utf8', timeout: 30_000 })
      const wallMs = Number(process.hrtime.bigint() - t0) / 1e6
      const rss = /@@rss (\d+)/.exec(r.stderr || '')
      if (r.status !== 0 || !rss) throw new Error(`cold start "${name}" failed (${r.status}): ${r.stderr}`)
      if (i >= 0) {
        samples[name].wallMs.push(wallMs)
        samples[name].rssKb.push(Number(rss[1]))
      }
    }
  }
  return Object.entries(samples).map(([name, s]) => ({ name, wallMs: median(s.wallMs), rssKb: median(s.rssKb), samples: s }))
}

// ---------------------------------------------------------------------------------- targets
function targets(cells, cold) {
  const get = (protocol, concurrency, contender) => cells.find((c) => c.protocol === protocol && c.concurrency === concurrency && c.contender === contender)
  const out = []
  const cellsOf = (contender) => cells.filter((c) => c.contender === contender)
  for (const a of cellsOf('addon')) {
    const where = `${a.protocol} c=${a.concurrency}`
    const u = get(a.protocol, a.concurrency, 'undici')
    const q = get(a.protocol, a.concurrency, 'reqwest')
    // Issue 18's targets: at 16 and 256 in flight at least undici's throughput at no more CPU per
    // message; one at a time at least 0.9x its throughput at at most 1.2x its CPU per message.
    const single = a.concurrency === 1
    if (u) {
      const r1 = a.median.rate / u.median.rate
      const floor = single ? 0.9 : 1
      out.push({ target: `throughput >= ${floor}x undici`, where, value: r1, shown: `${ratio(r1)} of undici`, pass: r1 >= floor })
      const r2 = a.median.cpuPer10k / u.median.cpuPer10k
      const ceiling = single ? 1.2 : 1
      out.push({ target: `CPU per message <= ${ceiling}x undici`, where, value: r2, shown: `${ratio(r2)} of undici`, pass: r2 <= ceiling })
    }
    if (q) {
      // Shown for reference, not a target: the bare Rust loop is the ceiling.
      const r3 = q.median.rate / a.median.rate
      out.push({ target: 'throughput of raw reqwest (reference)', where, value: r3, shown: `reqwest is ${ratio(r3)}`, pass: true })
      const r4 = a.median.cpuPer10k / q.median.cpuPer10k
      out.push({ target: 'CPU per message against raw reqwest (reference)', where, value: r4, shown: `${ratio(r4)} of reqwest`, pass: true })
    }
    if (a.protocol === 'https') {
      const c = a.median.connectionsMax
      // Reference, not a target: reqwest's pool may open a connection while another is on its way
      // back to it, so a process can open a few more than its concurrency while it warms up.
      out.push({ target: 'TLS handshakes per process (reference)', where, value: c, shown: `${c} at ${a.concurrency} in flight (${fmt(a.median.handshakesPer10k, 1)} per 10k in the measured phase)`, pass: true })
    }
  }
  if (cold) {
    const addon = cold.find((c) => c.name.startsWith('wx-openapi-native'))
    const und = cold.find((c) => c.name.startsWith('undici'))
    const w = addon.wallMs / und.wallMs
    out.push({ target: 'cold start wall time <= 0.3x undici', where: 'HTTPS, 1 message', value: w, shown: `${ratio(w)} (${addon.wallMs.toFixed(0)} vs ${und.wallMs.toFixed(0)} ms)`, pass: w <= 0.3 })
    const m = addon.rssKb / und.rssKb
    out.push({ target: 'cold start peak RSS <= 0.5x undici', where: 'HTTPS, 1 message', value: m, shown: `${ratio(m)} (${(addon.rssKb / 1024).toFixed(1)} vs ${(und.rssKb / 1024).toFixed(1)} MiB)`, pass: m <= 0.5 })
  }
  return out
}

// ---------------------------------------------------------------------------------- output
function table(headers, rows, align) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)))
  const line = (cells) => '| ' + cells.map((c, i) => (align[i] === 'r' ? String(c).padStart(widths[i]) : String(c).padEnd(widths[i]))).join(' | ') + ' |'
  const rule = '|' + widths.map((w, i) => (align[i] === 'r' ? '-'.repeat(w + 1) + ':' : '-'.repeat(w + 2))).join('|') + '|'
  return [line(headers), rule, ...rows.map(line)].join('\n')
}

function throughputTable(cells) {
  const get = (c, contender) => cells.find((x) => x.protocol === c.protocol && x.concurrency === c.concurrency && x.contender === contender)
  const rows = cells.map((c) => {
    const u = get(c, 'undici')
    const q = get(c, 'reqwest')
    const m = c.median
    return [
      c.protocol.toUpperCase(), c.concurrency,
      CONTENDERS[c.contender].label + (c.failures ? ` (${c.failures} failed)` : '') + (m.noisyRuns ? ` (${m.noisyRuns} noisy)` : ''),
      fmt(m.rate), u ? ratio(m.rate / u.median.rate) : '–', q ? ratio(m.rate / q.median.rate) : '–',
      fmt(m.cpuPer10k, 2), u ? ratio(m.cpuPer10k / u.median.cpuPer10k) : '–', q ? ratio(m.cpuPer10k / q.median.cpuPer10k) : '–',
      fmt(m.p50, 3), fmt(m.p99, 3),
      fmt(m.handshakesPer10k, 1), fmt(m.connectionsMax),
      fmt(m.nginxCpuPer10k, 2), fmt(m.n),
    ]
  })
  return table(
    ['proto', 'conc', 'contender', 'msg/s', 'vs undici', 'vs reqwest', 'CPU s/10k msg', 'vs undici', 'vs reqwest', 'p50 ms', 'p99 ms', 'new conns/10k', 'conns/proc', 'nginx CPU s/10k', 'N/run'],
    rows, ['l', 'r', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'])
}

function coldTable(cold) {
  const und = cold.find((c) => c.name.startsWith('undici'))
  return table(['process', 'wall ms', 'vs undici', 'peak RSS MiB', 'vs undici'],
    cold.map((c) => [c.name, c.wallMs.toFixed(1), ratio(c.wallMs / und.wallMs), (c.rssKb / 1024).toFixed(1), ratio(c.rssKb / und.rssKb)]),
    ['l', 'r', 'r', 'r', 'r'])
}

function targetTable(list) {
  return table(['target', 'where', 'measured', 'verdict'], list.map((t) => [t.target, t.where, t.shown, t.pass ? 'PASS' : 'FAIL']), ['l', 'l', 'l', 'l'])
}

// A hand-written SVG: messages per second against concurrency (log scale), one panel per protocol.
function svgChart(cells, title) {
  const protocols = [...new Set(cells.map((c) => c.protocol))]
  const conc = [...new Set(cells.map((c) => c.concurrency))].sort((a, b) => a - b)
  const contenders = [...new Set(cells.map((c) => c.contender))]
  const W = 460, H = 340, M = { l: 70, r: 34, t: 40, b: 50 }
  const ymax = Math.max(...cells.map((c) => c.median.rate).filter(Number.isFinite)) * 1.08
  const nice = (v) => { const p = 10 ** Math.floor(Math.log10(v)); return [1, 2, 2.5, 5, 10].map((k) => k * p).find((x) => x >= v) }
  const top = nice(ymax)
  const xs = (c) => M.l + (conc.length === 1 ? 0.5 : Math.log(c / conc[0]) / Math.log(conc.at(-1) / conc[0])) * (W - M.l - M.r)
  const ys = (v) => H - M.b - (v / top) * (H - M.t - M.b)
  const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;')
  const legendH = 22 * Math.ceil(contenders.length / 3) + 10
  const totalW = W * protocols.length
  const totalH = H + legendH + 30
  let s = `<svg xmlns="http://www.w3.org/2000/svg" width="${totalW}" height="${totalH}" viewBox="0 0 ${totalW} ${totalH}" font-family="sans-serif" font-size="12">\n`
  s += `<rect width="100%" height="100%" fill="#fff"/>\n<text x="${totalW / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>\n`
  protocols.forEach((protocol, pi) => {
    s += `<g transform="translate(${pi * W},20)">\n<text x="${(M.l + W - M.r) / 2}" y="${M.t - 12}" text-anchor="middle" font-weight="bold">${protocol.toUpperCase()}</text>\n`
    for (let i = 0; i <= 5; i++) {
      const v = (top / 5) * i
      s += `<line x1="${M.l}" x2="${W - M.r}" y1="${ys(v)}" y2="${ys(v)}" stroke="#ddd"/><text x="${M.l - 6}" y="${ys(v) + 4}" text-anchor="end">${fmt(v)}</text>\n`
    }
    for (const c of conc) s += `<line x1="${xs(c)}" x2="${xs(c)}" y1="${M.t}" y2="${H - M.b}" stroke="#eee"/><text x="${xs(c)}" y="${H - M.b + 16}" text-anchor="middle">${c}</text>\n`
    s += `<line x1="${M.l}" x2="${M.l}" y1="${M.t}" y2="${H - M.b}" stroke="#000"/><line x1="${M.l}" x2="${W - M.r}" y1="${H - M.b}" y2="${H - M.b}" stroke="#000"/>\n`
    s += `<text x="${(M.l + W - M.r) / 2}" y="${H - 12}" text-anchor="middle">concurrency (log scale)</text>\n`
    s += `<text transform="translate(16,${(M.t + H - M.b) / 2}) rotate(-90)" text-anchor="middle">messages per second</text>\n`
    for (const contender of contenders) {
      const pts = conc.map((c) => cells.find((x) => x.protocol === protocol && x.concurrency === c && x.contender === contender))
        .filter((x) => x && Number.isFinite(x.median.rate))
      if (pts.length === 0) continue
      const dash = CONTENDERS[contender].diagnostic ? ' stroke-dasharray="5,4"' : ''
      s += `<polyline fill="none" stroke="${COLORS[contender]}" stroke-width="2.2"${dash} points="${pts.map((p) => `${xs(p.concurrency).toFixed(1)},${ys(p.median.rate).toFixed(1)}`).join(' ')}"/>\n`
      for (const p of pts) s += `<circle cx="${xs(p.concurrency).toFixed(1)}" cy="${ys(p.median.rate).toFixed(1)}" r="3.5" fill="${COLORS[contender]}"><title>${esc(CONTENDERS[contender].label)} ${protocol} c=${p.concurrency}: ${fmt(p.median.rate)} msg/s</title></circle>\n`
    }
    s += '</g>\n'
  })
  contenders.forEach((contender, i) => {
    const x = 20 + (i % 3) * (totalW / 3)
    const y = H + 30 + Math.floor(i / 3) * 22
    const dash = CONTENDERS[contender].diagnostic ? ' stroke-dasharray="5,4"' : ''
    s += `<line x1="${x}" x2="${x + 28}" y1="${y}" y2="${y}" stroke="${COLORS[contender]}" stroke-width="3"${dash}/><text x="${x + 34}" y="${y + 4}">${esc(CONTENDERS[contender].label)}</text>\n`
  })
  return s + '</svg>\n'
}

// Waits (up to --wait-quiet seconds) for the machine to be idle but for nginx and us.
async function waitQuiet(opts, server) {
  const deadline = Date.now() + opts.waitQuiet * 1000
  for (;;) {
    const load = await cpu.foreignLoad(2000, server.pids())
    if (load <= opts.noise) return load
    if (Date.now() > deadline) {
      console.error(`# WARNING: other processes use ${load.toFixed(2)} cores; the figures will be noisy`)
      return load
    }
    console.error(`# waiting for a quiet machine: other processes use ${load.toFixed(2)} cores`)
    await new Promise((r) => setTimeout(r, 8000))
  }
}

// ---------------------------------------------------------------------------------- main
async function main() {
  const opts = parseArgs(process.argv.slice(2))
  for (const c of opts.contenders) if (!CONTENDERS[c]) throw new Error(`unknown contender ${c}; known: ${Object.keys(CONTENDERS).join(', ')}`)
  const prep = prepare(opts)
  // --nice: a priority for the bench, nginx and every contender (children inherit it), for a
  // machine that other work shares; negative values need root.
  if (opts.nice) os.setPriority(0, opts.nice)
  const server = await nginx.start()
  const addonDir = snapshotAddon()
  const stop = async () => {
    await server.stop().catch(() => {})
    fs.rmSync(addonDir, { recursive: true, force: true })
  }
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => stop().then(() => process.exit(130)))
  const t0 = Date.now()
  try {
    const env = { ...process.env, SSL_CERT_FILE: server.bundleFile, NODE_EXTRA_CA_CERTS: server.caFile, WX_BENCH_ADDON_DIR: addonDir }
    // SSL_CERT_DIR would make rustls-native-certs read every file of that directory on top of
    // SSL_CERT_FILE (and this machine's environment sets it): the bundle above already holds them.
    delete env.SSL_CERT_DIR
    delete env.NODE_OPTIONS
    const info = machine(server.version)
    info.foreignLoadAtStart = await waitQuiet(opts, server)
    console.error(`# nginx ${server.version} on ${server.httpBase} and ${server.httpsBase}; ${opts.quick ? 'QUICK run: figures are indicative only' : `${opts.runs} runs per figure`}`)
    const cold = opts.cold ? coldStart(server, opts, env) : null
    const cells = await matrix(server, opts, env)
    const verdicts = targets(cells, cold)
    const seconds = (Date.now() - t0) / 1000

    const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`
    const b = info.addonBuild
    const noisyRuns = cells.reduce((a, c) => a + c.runs.filter((r) => r.noisy).length, 0)
    const allRuns = cells.reduce((a, c) => a + c.runs.length, 0)
    const md = [
      `Addon measured: ${b.file}, ${b.bytes.toLocaleString('en-US')} bytes, sha256 ${b.sha256}…, built ${b.built}, on commit ${b.gitHead}${b.srcChangedSinceHead ? ' with uncommitted changes to src/ or Cargo files' : ''}${b.srcNewerThanBinary ? ' (some file in src/ is newer than the binary)' : ''}.`,
      `Other processes' load when the bench began: ${info.foreignLoadAtStart.toFixed(2)} cores; noisy runs kept: ${noisyRuns} of ${allRuns}.`, '',
      `Throughput, CPU and latency (median of ${opts.runs} run${opts.runs > 1 ? 's' : ''} per figure; ratios are of those medians):`, '',
      throughputTable(cells), '',
      'CPU s/10k msg is the sending process (all threads, user + sys); nginx CPU is the server\'s, for the same messages. ' +
      'new conns/10k counts the connections nginx accepted during the measured phase (over HTTPS, each is a TLS handshake); conns/proc, the most any run\'s process opened in all (token and warm-up included). ' +
      `A run is "noisy" when other processes used more than ${opts.noise} cores during it (it is re-run up to ${opts.maxRetries} times first).`, '',
      ...(cold ? [`Cold start (median of ${opts.coldRuns} runs, interleaved; a process that loads the client and sends one message over HTTPS, token included):`, '', coldTable(cold), ''] : []),
      'Targets:', '', targetTable(verdicts), '',
      `${verdicts.filter((v) => v.pass).length} of ${verdicts.length} target checks pass. Bench time ${Math.round(seconds)} s.`,
    ].join('\n')
    console.log(`\n${md}\n`)

    fs.mkdirSync(RESULTS, { recursive: true })
    const result = { date: new Date().toISOString(), command, options: opts, machine: info, addonBinary: prep.addonBinary, seconds, cells, cold, targets: verdicts }
    fs.writeFileSync(path.join(RESULTS, 'latest.json'), JSON.stringify(result, null, 2) + '\n')
    fs.writeFileSync(path.join(RESULTS, 'latest.md'), `<!-- ${command}, ${result.date} -->\n\n${md}\n`)
    fs.writeFileSync(path.join(RESULTS, 'throughput.svg'), svgChart(cells, `customerServiceMessage.send on loopback nginx, ${info.nproc} cores (median of ${opts.runs})`))
    console.log(`wrote ${path.relative(ROOT, path.join(RESULTS, 'latest.json'))}, latest.md and throughput.svg`)
  } finally {
    await stop()
  }
}

module.exports = { svgChart, throughputTable, coldTable, targetTable, targets }

if (require.main === module) {
  main().catch((e) => {
    console.error(e && e.stack ? e.stack : e)
    process.exitCode = 1
  })
}
