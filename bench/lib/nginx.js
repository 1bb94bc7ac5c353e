'use strict'
// Starts and stops the bench's nginx (Debian's, installed on first use) on 127.0.0.1 with three
// random ports: HTTP, HTTPS (HTTP/2 offered by ALPN) and a stub_status page that counts accepted
// connections. The TLS certificate is made now, by openssl, in a temporary directory: a
// throwaway CA (trusted through SSL_CERT_FILE / NODE_EXTRA_CA_CERTS) and a leaf for 127.0.0.1
// signed by it. `node bench/lib/nginx.js` starts it alone, for poking at by hand, until Ctrl-C.
const { execFileSync, spawn } = require('node:child_process')
const fs = require('node:fs')
const http = require('node:http')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')

const TEMPLATE = path.join(__dirname, '..', 'nginx.conf.template')
// A bound on nginx's life even if the bench is killed with SIGKILL and cannot stop it.
const MAX_LIFETIME_SECONDS = 3600

function which(name) {
  for (const dir of (process.env.PATH || '').split(':').concat(['/usr/sbin', '/sbin'])) {
    const file = path.join(dir || '.', name)
    try {
      fs.accessSync(file, fs.constants.X_OK)
      return file
    } catch {}
  }
  return null
}

// Installs the Debian packages the bench needs (nginx, openssl, GNU time) when missing.
function ensureTools() {
  const wanted = { nginx: 'nginx', openssl: 'openssl', time: 'time' }
  const missing = Object.entries(wanted)
    .filter(([bin]) => (bin === 'time' ? !fs.existsSync('/usr/bin/time') : !which(bin)))
    .map(([, pkg]) => pkg)
  if (missing.length === 0) return
  if (process.getuid && process.getuid() !== 0) {
    throw new Error(`the bench needs ${missing.join(', ')}: apt-get install -y ${missing.join(' ')} (as root)`)
  }
  console.error(`# installing ${missing.join(', ')} from Debian (apt-get)`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  const opts = { stdio: ['ignore', 'ignore', 'inherit'], env, timeout: 600_000 }
  execFileSync('apt-get', ['update'], opts)
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], opts)
}

function nginxVersion() {
  // nginx -v writes to stderr.
  const r = require('node:child_process').spawnSync(which('nginx'), ['-v'], { encoding: 'utf8' })
  return `${r.stdout}${r.stderr}`.trim().replace(/^nginx version: /, '')
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

function makeCertificates(dir) {
  const openssl = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=wx-openapi-native bench CA')
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', 'key.pem', '-out', 'leaf.csr', '-subj', '/CN=127.0.0.1')
  fs.writeFileSync(path.join(dir, 'leaf.ext'), [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=serverAuth',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ].join('\n') + '\n')
  openssl('x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial',
    '-out', 'cert.pem', '-days', '2', '-extfile', 'leaf.ext')
  // rustls-native-certs reads SSL_CERT_FILE *instead of* the system store, so the file handed to
  // the Rust contenders is the system bundle plus the bench CA: their TLS set-up then costs what
  // it costs in production (parsing every system root), not less.
  const system = '/etc/ssl/certs/ca-certificates.crt'
  const bundle = path.join(dir, 'bundle.pem')
  const ca = fs.readFileSync(path.join(dir, 'ca.pem'))
  fs.writeFileSync(bundle, Buffer.concat([fs.existsSync(system) ? fs.readFileSync(system) : Buffer.alloc(0), ca]))
  return { caFile: path.join(dir, 'ca.pem'), bundleFile: bundle }
}

function getStatus(port) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/status', agent: false, timeout: 2000 }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d) => (text += d))
      res.on('end', () => {
        const m = /server accepts handled requests\s+(\d+)\s+(\d+)\s+(\d+)/.exec(text)
        if (!m) return reject(new Error(`unexpected stub_status page: ${text}`))
        resolve({ accepts: Number(m[1]), handled: Number(m[2]), requests: Number(m[3]) })
      })
    })
    req.on('timeout', () => req.destroy(new Error('stub_status timed out')))
    req.on('error', reject)
  })
}

function descendants(pid) {
  let kids = []
  try {
    kids = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
  } catch {}
  return kids.flatMap((k) => [k, ...descendants(k)])
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

async function start() {
  ensureTools()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-bench-nginx-'))
  const certs = makeCertificates(dir)
  const [httpPort, httpsPort, statusPort] = [await freePort(), await freePort(), await freePort()]
  for (const sub of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) fs.mkdirSync(path.join(dir, sub))
  const conf = fs.readFileSync(TEMPLATE, 'utf8')
    .replaceAll('__DIR__', dir)
    .replaceAll('__HTTP_PORT__', String(httpPort))
    .replaceAll('__HTTPS_PORT__', String(httpsPort))
    .replaceAll('__STATUS_PORT__', String(statusPort))
  const confFile = path.join(dir, 'nginx.conf')
  fs.writeFileSync(confFile, conf)

  // `timeout` bounds nginx's life and passes our SIGTERM on to it; nginx stays in the foreground
  // (daemon off) so that it is our child and its master's exit takes its worker along.
  const child = spawn('timeout', ['-k', '5', String(MAX_LIFETIME_SECONDS), which('nginx'),
    '-p', dir, '-c', confFile, '-e', path.join(dir, 'error.log'), '-g', 'daemon off;'],
  { stdio: ['ignore', 'inherit', 'inherit'] })
  let exited = null
  child.on('exit', (code, signal) => (exited = { code, signal }))

  const stopSync = () => {
    if (exited === null) {
      try { process.kill(child.pid, 'SIGTERM') } catch {}
    }
  }
  process.on('exit', stopSync)

  const deadline = Date.now() + 10_000
  for (;;) {
    if (exited) {
      const log = fs.existsSync(path.join(dir, 'error.log')) ? fs.readFileSync(path.join(dir, 'error.log'), 'utf8') : ''
      throw new Error(`nginx exited at start (${JSON.stringify(exited)}):\n${log}`)
    }
    try {
      await getStatus(statusPort)
      break
    } catch (e) {
      if (Date.now() > deadline) {
        stopSync()
        throw new Error(`nginx did not answer on 127.0.0.1:${statusPort} within 10 s: ${e.message}`)
      }
      await sleep(50)
    }
  }

  return {
    dir,
    version: nginxVersion(),
    httpBase: `http://127.0.0.1:${httpPort}`,
    httpsBase: `https://127.0.0.1:${httpsPort}`,
    caFile: certs.caFile,
    bundleFile: certs.bundleFile,
    status: () => getStatus(statusPort),
    // nginx's processes (master and worker), for charging its CPU time.
    pids: () => descendants(child.pid),
    async stop() {
      process.removeListener('exit', stopSync)
      if (exited === null) {
        const gone = new Promise((r) => child.once('exit', r))
        stopSync()
        const timer = setTimeout(() => { try { process.kill(child.pid, 'SIGKILL') } catch {} }, 5000)
        await gone
        clearTimeout(timer)
      }
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}

module.exports = { start, ensureTools, nginxVersion, which }

if (require.main === module) {
  start().then((server) => {
    console.log(JSON.stringify({ ...server, status: undefined, stop: undefined }, null, 2))
    console.log('nginx is up; Ctrl-C stops it')
    const quit = () => server.stop().then(() => process.exit(0))
    process.on('SIGINT', quit)
    process.on('SIGTERM', quit)
  }, (e) => {
    console.error(e)
    process.exit(1)
  })
}
