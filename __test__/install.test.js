'use strict'
// The package as a user gets it: `npm pack` the main package and the host's platform package, install both
// tarballs into a fresh directory outside this repository with npm offline and a PATH that holds no cargo or
// rustc, then `require` it, `import` it, send messages to the emulator from the installed package, and let
// tsc (strict) resolve the installed package's types.
//
// Which binary goes into the platform package: npm/<platform>/wx-openapi-native.<platform>.node, the one
// scripts/build-prebuilt.sh builds for glibc 2.17 (what is published), when it is newer than the Rust
// sources; otherwise the local `npm run build` binary, so that `npm test` never needs the cross toolchain.
// WX_REQUIRE_PREBUILT=1 (set by .ci/run) makes a missing or stale prebuilt binary a failure.
//
// When scripts/fetch-test-runtimes.sh has fetched other runtimes (target/tools/runtimes/runtimes.json:
// Node 16, 18, 22, 24 on x64 glibc, Node 22 on musl, Node 20 on arm64 under qemu, Bun, Deno, and the
// Windows node.exe under Wine), each platform package is also installed for its platform (`npm install
// --os --cpu --libc`, as when node_modules is built on another machine and uploaded) and the smoke runs
// under those runtimes: require and import, send to the emulator, a burst of 200, a media round trip, one
// invalid call, a panic that rejects, and the process exits by itself. Under Deno the package is also
// imported by path (node_modules/wx-openapi-native/index.mjs). WX_REQUIRE_RUNTIMES=1 makes them mandatory.
//
// The platform layout: an app that lists every platform package (as the published package does) installed
// with npm's --os/--cpu/--libc for each platform gets exactly that platform's package; the macOS and Windows
// binaries it gets are checked by reading their headers (scripts/check-macho.js, scripts/check-pe.js), since
// macOS cannot be run here. And under Node's permission model without --allow-addons, the load error's first
// line says so.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const ROOT = path.join(__dirname, '..')
const { packMain, packPlatform, binaryFile, npmCommand } = require('../scripts/pack.js')
const { syncVersions } = require('../scripts/sync-versions.js')

const mainManifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
const PLATFORMS = fs.readdirSync(path.join(ROOT, 'npm')).filter((p) => fs.existsSync(path.join(ROOT, 'npm', p, 'package.json')))
const requirePrebuilt = process.env.WX_REQUIRE_PREBUILT === '1'
const requireRuntimes = process.env.WX_REQUIRE_RUNTIMES === '1'
const RUNTIMES_FILE = path.join(ROOT, 'target', 'tools', 'runtimes', 'runtimes.json')

function hostPlatform() {
  if (process.platform !== 'linux') return `${process.platform}-${process.arch}`
  let musl = false
  try {
    musl = fs.readFileSync('/usr/bin/ldd', 'utf8').includes('musl')
  } catch {
    musl = !(process.report.getReport().header || {}).glibcVersionRuntime
  }
  return `linux-${process.arch}-${musl ? 'musl' : 'gnu'}`
}
const HOST = hostPlatform()

/** The newest modification time among the files the binary is built from (Cargo.lock left out: cargo may rewrite it). */
function newestSourceMtime() {
  let newest = 0
  const visit = (p) => {
    const st = fs.statSync(p)
    if (st.isDirectory()) for (const f of fs.readdirSync(p)) visit(path.join(p, f))
    else newest = Math.max(newest, st.mtimeMs)
  }
  for (const p of ['src', 'crates', 'Cargo.toml', 'build.rs']) if (fs.existsSync(path.join(ROOT, p))) visit(path.join(ROOT, p))
  return newest
}

/** Which .node to ship for `platform`: { file, kind: 'prebuilt' | 'local', note }. */
function chooseBinary(platform) {
  const prebuilt = path.join(ROOT, 'npm', platform, binaryFile(platform))
  const local = path.join(ROOT, binaryFile(platform))
  const sources = newestSourceMtime()
  if (fs.existsSync(prebuilt) && fs.statSync(prebuilt).mtimeMs >= sources) return { file: prebuilt, kind: 'prebuilt' }
  const why = fs.existsSync(prebuilt) ? 'is older than the Rust sources' : 'is not built'
  if (requirePrebuilt) return { error: `npm/${platform}/${binaryFile(platform)} ${why} (scripts/build-prebuilt.sh ${platform})` }
  if (platform === HOST && fs.existsSync(local)) {
    return { file: local, kind: 'local', note: `npm/${platform}/${binaryFile(platform)} ${why}: testing the local build instead` }
  }
  return { error: `npm/${platform}/${binaryFile(platform)} ${why}` }
}

function run(cmd, args, options = {}) {
  // The timeout only stops a hung child (a smoke that does not exit by itself); r.signal then says so.
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 180_000, maxBuffer: 64 << 20, ...options })
  const out = `$ ${cmd} ${args.join(' ')}\nstatus ${r.status} ${r.signal || ''}\n${r.stdout}\n${r.stderr}`
  return { ...r, out }
}

// --- the sandbox: a temp dir, a PATH with node, npm and sh only -----------------------------------------

let tmp
let packs
let sandboxEnv
let npmCli
const tarballs = {} // platform -> tarball; 'main' -> tarball
const binaries = {} // platform -> chooseBinary()
const hostSkip = PLATFORMS.includes(HOST) ? false : `no platform package for ${HOST}`

before(() => {
  if (hostSkip) return
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-openapi-native-install-'))
  packs = path.join(tmp, 'packs')
  fs.mkdirSync(path.join(tmp, 'home'))

  // npm, resolved now from the real PATH, and run below as `node npm-cli.js`.
  const [cmd, pre] = npmCommand()
  npmCli = pre.length ? pre[0] : fs.realpathSync(run('sh', ['-c', 'command -v npm']).stdout.trim())
  assert.ok(cmd === 'npm' || cmd === process.execPath)

  const bin = path.join(tmp, 'bin')
  fs.mkdirSync(bin)
  fs.symlinkSync(process.execPath, path.join(bin, 'node'))
  fs.symlinkSync(npmCli, path.join(bin, 'npm'))
  fs.symlinkSync('/bin/sh', path.join(bin, 'sh'))
  // A clean environment: no CARGO_HOME, RUSTUP_HOME, npm_config_* of the outer `npm test`, user .npmrc.
  sandboxEnv = {
    PATH: bin,
    HOME: path.join(tmp, 'home'),
    TMPDIR: os.tmpdir(),
    npm_config_cache: path.join(tmp, 'npm-cache'),
    npm_config_update_notifier: 'false',
  }

  assert.deepEqual(syncVersions({ check: true }), [], 'npm/*/package.json versions match package.json')
  tarballs.main = packMain(packs)
  for (const platform of PLATFORMS) {
    binaries[platform] = chooseBinary(platform)
    if (binaries[platform].file) tarballs[platform] = packPlatform(platform, packs, { nodeFile: binaries[platform].file })
  }
})

after(() => {
  if (tmp && !process.env.WX_KEEP_INSTALL_DIR) fs.rmSync(tmp, { recursive: true, force: true })
})

/**
 * A fresh app directory with the main tarball as a dependency and the tarballs of `platforms` (one or an
 * array) as optional ones (as the main package lists them), installed by npm offline for `install`
 * ({ os, cpu, libc }: npm's --os/--cpu/--libc, which choose the optional packages to install, as for
 * node_modules built elsewhere).
 */
function installApp(name, platforms, install = {}) {
  const app = path.join(tmp, name)
  fs.mkdirSync(app)
  const optionalDependencies = {}
  for (const p of [].concat(platforms)) optionalDependencies[`${mainManifest.napi.binaryName}-${p}`] = `file:${tarballs[p]}`
  const manifest = { name, version: '1.0.0', private: true, dependencies: { 'wx-openapi-native': `file:${tarballs.main}` }, optionalDependencies }
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify(manifest, null, 2) + '\n')
  const flags = Object.entries(install).map(([k, v]) => `--${k}=${v}`)
  const r = run(process.execPath, [npmCli, 'install', '--offline', '--no-audit', '--no-fund', ...flags], { cwd: app, env: sandboxEnv })
  assert.equal(r.status, 0, r.out)
  return app
}

// What the smoke prints last: one JSON line. `addons`: the .node files loaded (Node's process report; null
// where the runtime has none); on Windows they are Windows paths.
const SMOKE_CJS = `'use strict'
const assert = require('assert')
const path = require('path')
const cloud = require('wx-openapi-native')
const { startEmulator } = require('wx-openapi-native/emulator')
const runtime = typeof Bun !== 'undefined' ? 'bun' : typeof Deno !== 'undefined' ? 'deno' : 'node'
// A 1x1 PNG, for the media round trip.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64')
;(async () => {
  const wechat = await startEmulator()
  try {
    cloud.init({ appid: wechat.appid, secret: wechat.secret, apiBaseUrl: wechat.url })
    const csm = cloud.openapi.customerServiceMessage
    const text = { content: 'hello from ' + runtime + ' ' + process.version + ' ' + process.platform + '-' + process.arch }
    const result = await csm.send({ touser: 'OPENID', msgtype: 'text', text })
    assert.deepStrictEqual(result, { errMsg: 'openapi.customerServiceMessage.send:ok', errCode: 0 })
    assert.deepStrictEqual(wechat.messages, [{ touser: 'OPENID', msgtype: 'text', text }])
    const typing = await csm.setTyping({ touser: 'OPENID', command: 'Typing' })
    assert.strictEqual(typing.errCode, 0)
    // A burst of 200 at once, to 200 users (WeChat allows 5 messages per user per window): each delivered once.
    const burst = await Promise.all(Array.from({ length: 200 }, (_, i) => csm.send({ touser: 'USER' + i, msgtype: 'text', text: { content: 'burst ' + i } })))
    assert.ok(burst.every((r) => r.errCode === 0), JSON.stringify(burst.find((r) => r.errCode !== 0)))
    const delivered = wechat.messages.filter((m) => m.text && m.text.content.startsWith('burst ')).map((m) => m.text.content)
    assert.deepStrictEqual(delivered.sort(), Array.from({ length: 200 }, (_, i) => 'burst ' + i).sort())
    // Media: the bytes come back as they went up.
    const uploaded = await csm.uploadTempMedia({ type: 'image', media: { contentType: 'image/png', value: PNG } })
    assert.strictEqual(typeof uploaded.mediaId, 'string')
    const got = await csm.getTempMedia({ mediaId: uploaded.mediaId })
    assert.ok(Buffer.from(got.buffer).equals(PNG), 'getTempMedia returns the uploaded bytes')
    assert.strictEqual(got.contentType, 'image/png')
    // One invalid call: rejects with an Error carrying errCode -401001 across N-API, and sends nothing.
    const requests = wechat.requests.length
    await assert.rejects(csm.send({ touser: 'OPENID', msgtype: 'text' }), (e) => e instanceof Error && e.errCode === -401001)
    assert.strictEqual(wechat.requests.length, requests)
    // panic = "unwind" works in this binary: a Rust panic becomes a rejection, not an abort.
    const binding = require(path.join(path.dirname(require.resolve('wx-openapi-native/package.json')), 'binding.js'))
    const hook = new binding.Client(JSON.stringify({ accessToken: 'TOKEN' }))
    assert.strictEqual(typeof hook.__panicForTests, 'function', 'the binary has the __panicForTests hook')
    for (const place of ['sync', 'async']) {
      await assert.rejects(hook.__panicForTests(place), (e) => e.errCode === -601002)
    }
    const after = await csm.send({ touser: 'OPENID2', msgtype: 'text', text })
    assert.strictEqual(after.errCode, 0)
    let addons = null
    try {
      const report = process.report.getReport()
      const shared = typeof report === 'string' ? JSON.parse(report).sharedObjects : report.sharedObjects
      if (Array.isArray(shared) && shared.length) addons = shared.filter((f) => f.endsWith('.node'))
    } catch {
      // no process report in this runtime
    }
    console.log(JSON.stringify({ runtime, node: process.version, platform: process.platform, arch: process.arch, addons, version: cloud.version, sent: wechat.messages.length }))
  } finally {
    await wechat.close()
  }
})().catch((e) => { console.error(e); process.exit(1) })
`

const SMOKE_MJS = `import assert from 'node:assert'
import cloud, { init, openapi, version } from 'wx-openapi-native'
import { startEmulator } from 'wx-openapi-native/emulator'
const wechat = await startEmulator()
try {
  assert.strictEqual(typeof cloud.init, 'function')
  init({ appid: wechat.appid, secret: wechat.secret, apiBaseUrl: wechat.url })
  const result = await openapi.customerServiceMessage.send({ touser: 'OPENID', msgtype: 'text', text: { content: 'from ESM' } })
  assert.strictEqual(result.errCode, 0)
  assert.deepStrictEqual(wechat.messages, [{ touser: 'OPENID', msgtype: 'text', text: { content: 'from ESM' } }])
  console.log(JSON.stringify({ esm: true, version }))
} finally {
  await wechat.close()
}
`

// The package's ESM entry imported by its path, not its name: Deno then reads index.mjs as a local file, and
// its `import cloud from './index.js'` works only because package.json says "type": "commonjs".
const SMOKE_PATH_MJS = SMOKE_MJS.replace("from 'wx-openapi-native'", "from './node_modules/wx-openapi-native/index.mjs'")
  .replace("from 'wx-openapi-native/emulator'", "from './node_modules/wx-openapi-native/emulator/index.mjs'")
  .replace('esm: true', 'esm: true, byPath: true')

function writeSmoke(app) {
  fs.writeFileSync(path.join(app, 'smoke.cjs'), SMOKE_CJS)
  fs.writeFileSync(path.join(app, 'smoke.mjs'), SMOKE_MJS)
  fs.writeFileSync(path.join(app, 'smoke-path.mjs'), SMOKE_PATH_MJS)
}

/** The last line of a smoke's stdout, parsed. */
function lastJson(r) {
  return JSON.parse(r.stdout.trim().split('\n').pop())
}

/** A path from a Windows process under Wine (Z:\\tmp\\x) as this host sees it (/tmp/x). */
function hostPath(p) {
  return /^[A-Za-z]:\\/.test(p) ? p.slice(2).replace(/\\/g, '/') : p
}

// --- the host: install, require, import, emulator, tsc ---------------------------------------------------

test(`install on the host (${HOST}) without Rust, require, import, send, tsc`, { skip: hostSkip, timeout: 300_000 }, async (t) => {
  const chosen = binaries[HOST]
  assert.ok(!chosen.error, chosen.error)
  t.diagnostic(`binary: ${path.relative(ROOT, chosen.file)} (${chosen.kind}, ${fs.statSync(chosen.file).size} bytes)`)
  if (chosen.note) t.diagnostic(chosen.note)
  if (chosen.kind === 'prebuilt' && HOST.endsWith('-gnu')) {
    const r = run('bash', [path.join(ROOT, 'scripts', 'check-glibc.sh'), chosen.file, '2.17'])
    assert.equal(r.status, 0, r.out)
    t.diagnostic(r.stdout.trim())
  }

  // The sandbox really has no Rust toolchain.
  const which = run('sh', ['-c', 'for c in cargo rustc rustup napi; do command -v $c; done; true'], { env: sandboxEnv })
  assert.equal(which.stdout.trim(), '', `the sandbox PATH must hold no Rust toolchain:\n${which.out}`)

  // The main tarball ships no binary and lists every platform package at its own version.
  const listing = run('tar', ['-tzf', tarballs.main])
  assert.equal(listing.status, 0, listing.out)
  assert.ok(!/\.node$/m.test(listing.stdout), listing.stdout)
  assert.match(listing.stdout, /^package\/native\.js$/m)
  const packed = JSON.parse(run('tar', ['-xzOf', tarballs.main, 'package/package.json']).stdout)
  assert.deepEqual(packed.optionalDependencies, Object.fromEntries(PLATFORMS.map((p) => [`${mainManifest.napi.binaryName}-${p}`, mainManifest.version])))
  assert.equal(packed.scripts.prepare, undefined)

  const started = Date.now()
  const app = installApp('app', HOST)
  t.diagnostic(`npm install --offline of 2 tarballs: ${Date.now() - started} ms`)
  writeSmoke(app)
  const installedBinary = path.join(app, 'node_modules', `${mainManifest.napi.binaryName}-${HOST}`, binaryFile(HOST))
  assert.ok(fs.existsSync(installedBinary))
  assert.deepEqual(fs.readdirSync(path.join(app, 'node_modules', 'wx-openapi-native')).filter((f) => f.endsWith('.node')), [])

  // require
  const req = run('node', ['-e', "const c = require('wx-openapi-native'); console.log(JSON.stringify({ keys: Object.keys(c), version: c.version }))"], {
    cwd: app,
    env: sandboxEnv,
  })
  assert.equal(req.status, 0, req.out)
  const exported = JSON.parse(req.stdout)
  for (const key of ['init', 'openapi', 'createNewInstance', 'DYNAMIC_CURRENT_ENV', 'version']) assert.ok(exported.keys.includes(key), `exports ${key}`)
  assert.equal(exported.version, mainManifest.version)

  // CommonJS: send to the emulator, with the installed platform package's binary
  const cjs = run('node', ['smoke.cjs'], { cwd: app, env: sandboxEnv })
  assert.equal(cjs.status, 0, cjs.out)
  const report = lastJson(cjs)
  assert.deepEqual(report.addons, [installedBinary])
  assert.equal(report.sent, 202)

  // ESM import, by name and by path
  const esm = run('node', ['smoke.mjs'], { cwd: app, env: sandboxEnv })
  assert.equal(esm.status, 0, esm.out)
  assert.deepEqual(JSON.parse(esm.stdout), { esm: true, version: mainManifest.version })
  const byPath = run('node', ['smoke-path.mjs'], { cwd: app, env: sandboxEnv })
  assert.equal(byPath.status, 0, byPath.out)
  assert.deepEqual(JSON.parse(byPath.stdout), { esm: true, byPath: true, version: mainManifest.version })

  // tsc, strict, resolves the installed package's types (CommonJS and ESM entries, and the emulator's).
  fs.writeFileSync(
    path.join(app, 'check.ts'),
    `import cloud = require('wx-openapi-native')
import { startEmulator } from 'wx-openapi-native/emulator'
export async function main(): Promise<number> {
  const wechat = await startEmulator()
  cloud.init({ appid: wechat.appid, secret: wechat.secret, apiBaseUrl: wechat.url })
  const r = await cloud.openapi.customerServiceMessage.send({ touser: 'OPENID', msgtype: 'text', text: { content: 'hi' } })
  // @ts-expect-error a text message needs text
  await cloud.openapi.customerServiceMessage.send({ touser: 'OPENID', msgtype: 'text' })
  // @ts-expect-error there is no such call
  cloud.openapi.customerServiceMessage.nonexistent()
  await wechat.close()
  return r.errCode
}
`,
  )
  fs.writeFileSync(
    path.join(app, 'check-esm.mts'),
    `import cloud, { init, openapi } from 'wx-openapi-native'
init({ accessToken: 'TOKEN' })
const r: Promise<{ errCode: number }> = openapi.customerServiceMessage.setTyping({ touser: 'OPENID', command: 'Typing' })
// @ts-expect-error command is 'Typing' | 'CancelTyping'
openapi.customerServiceMessage.setTyping({ touser: 'OPENID', command: 'Dancing' })
export { cloud, r }
`,
  )
  fs.writeFileSync(
    path.join(app, 'tsconfig.json'),
    JSON.stringify(
      {
        compilerOptions: {
          strict: true,
          noEmit: true,
          module: 'node16',
          moduleResolution: 'node16',
          target: 'es2020',
          skipLibCheck: false,
          types: ['node'],
          // @types/node is the user's own devDependency; borrowed from this repo, as the install is offline.
          typeRoots: [path.join(ROOT, 'node_modules', '@types')],
        },
        files: ['check.ts', 'check-esm.mts'],
      },
      null,
      2,
    ),
  )
  const tsc = run(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', app, '--listFiles'], { cwd: app })
  assert.equal(tsc.status, 0, tsc.out)
  const installed = path.join(fs.realpathSync(app), 'node_modules', 'wx-openapi-native')
  for (const f of ['index.d.ts', path.join('emulator', 'index.d.ts')]) {
    assert.ok(tsc.stdout.split('\n').includes(path.join(installed, f)), `tsc used ${f} from the installed package:\n${tsc.stdout}`)
  }
  assert.ok(!tsc.stdout.includes(path.join(ROOT, 'index.d.ts')), 'tsc must not see the repository copy')
})

// --- no binary: the error says what to do ----------------------------------------------------------------

/** A copy of the installed main package alone (no platform package), for the missing-binary cases. */
function bareCopy() {
  const dir = path.join(tmp, `bare-${Math.random().toString(36).slice(2)}`, 'node_modules', 'wx-openapi-native')
  fs.cpSync(path.join(tmp, 'app', 'node_modules', 'wx-openapi-native'), dir, { recursive: true })
  return dir
}

function loadError(dir, { env = {}, preload } = {}) {
  const args = preload ? ['-r', preload] : []
  const r = run(process.execPath, [...args, '-e', `require(${JSON.stringify(path.join(dir, 'native.js'))})`], {
    cwd: path.dirname(dir),
    env: { ...sandboxEnv, ...env },
  })
  assert.notEqual(r.status, 0, r.out)
  return r.stderr
}

test('no binary installed for this platform: the error names it and says how to build from source', { skip: hostSkip }, () => {
  const dir = bareCopy()
  const message = loadError(dir)
  assert.match(message, /ERR_WX_OPENAPI_NATIVE_BINDING/)
  const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const libc = HOST.endsWith('-musl') ? 'musl' : HOST.startsWith('linux-') ? 'glibc' : null
  assert.match(message, new RegExp(escape(`could not load its native binary on ${process.platform}-${process.arch}${libc ? ` (${libc})` : ''}`)))
  assert.match(message, new RegExp(`wx-openapi-native-${HOST}`))
  assert.match(message, /is not installed/)
  assert.match(message, new RegExp(escape(`npm install --os=${process.platform} --cpu=${process.arch}${libc ? ` --libc=${libc}` : ''}\``)))
  assert.match(message, /To build from source: install Rust \(https:\/\/rustup\.rs\)/)
  assert.match(message, /NAPI_RS_NATIVE_LIBRARY_PATH/)
  assert.doesNotMatch(message.split('What the loader tried')[0], /Cannot find module/)
})

test('a platform with no prebuilt binary: the error names it and lists the supported ones', { skip: hostSkip }, () => {
  const dir = bareCopy()
  const preload = path.join(path.dirname(dir), 'pretend-freebsd.js')
  fs.writeFileSync(preload, "Object.defineProperty(process, 'platform', { value: 'freebsd' }); Object.defineProperty(process, 'arch', { value: 'x64' })\n")
  const message = loadError(dir, { preload })
  assert.match(message, /could not load its native binary on freebsd-x64/)
  assert.match(message, /There is no prebuilt binary for freebsd-x64/)
  for (const p of PLATFORMS) assert.match(message, new RegExp(p))
  assert.match(message, /To build from source/)
})

test('macOS: the error for a missing package names it and the npm flags that install it', { skip: hostSkip }, () => {
  const dir = bareCopy()
  const preload = path.join(path.dirname(dir), 'pretend-darwin.js')
  fs.writeFileSync(preload, "Object.defineProperty(process, 'platform', { value: 'darwin' }); Object.defineProperty(process, 'arch', { value: 'arm64' })\n")
  const message = loadError(dir, { preload })
  assert.match(message, /could not load its native binary on darwin-arm64/)
  assert.match(message, /is the package wx-openapi-native-darwin-arm64, an optional dependency/)
  assert.match(message, /npm install --os=darwin --cpu=arm64`/)
})

// Node 20.12+ (--experimental-permission) and 22.13+ (--permission) have --allow-addons.
const PERMISSION_FLAG = ['--permission', '--experimental-permission'].find((f) => process.allowedNodeEnvironmentFlags.has(f))
const ALLOW_ADDONS = process.allowedNodeEnvironmentFlags.has('--allow-addons')

test("Node's permission model without --allow-addons: the first line says addons are disabled and how to allow them", { skip: hostSkip || (!(PERMISSION_FLAG && ALLOW_ADDONS) && `Node ${process.version} has no --allow-addons`) }, () => {
  const app = path.join(tmp, 'app')
  const args = [PERMISSION_FLAG, '--allow-fs-read=*', '-e', "require('wx-openapi-native')"]
  const denied = run(process.execPath, args, { cwd: app, env: sandboxEnv })
  assert.notEqual(denied.status, 0, denied.out)
  const headline = denied.stderr.split('\n').find((l) => l.startsWith('Error: '))
  assert.match(headline, new RegExp(`^Error: wx-openapi-native: loading native addons is disabled by Node\\.js's permission model \\(${PERMISSION_FLAG} without --allow-addons\\)`))
  assert.match(denied.stderr, new RegExp(`node ${PERMISSION_FLAG} --allow-addons app\\.js`))
  assert.doesNotMatch(denied.stderr.split('What the loader tried')[0], /is not installed/)
  // With --allow-addons the same command loads it.
  const allowed = run(process.execPath, [PERMISSION_FLAG, '--allow-addons', ...args.slice(1)], { cwd: app, env: sandboxEnv })
  assert.equal(allowed.status, 0, allowed.out)
})

test('NAPI_RS_NATIVE_LIBRARY_PATH pointing nowhere: the error says so', { skip: hostSkip }, () => {
  const message = loadError(bareCopy(), { env: { NAPI_RS_NATIVE_LIBRARY_PATH: '/nonexistent/wx-openapi-native.node' } })
  assert.match(message, /NAPI_RS_NATIVE_LIBRARY_PATH is set to \/nonexistent\/wx-openapi-native\.node, and that file did not load/)
})

test('require("wx-openapi-native") with no binary gives the same error', { skip: hostSkip }, (t) => {
  const dir = bareCopy()
  if (!/require\('\.\/native\.js'\)/.test(fs.readFileSync(path.join(dir, 'index.js'), 'utf8'))) {
    t.skip("index.js does not load ./native.js yet (change require('./binding.js') to require('./native.js'))")
    return
  }
  const r = run(process.execPath, ['-e', "require('wx-openapi-native')"], { cwd: path.dirname(path.dirname(dir)), env: sandboxEnv })
  assert.notEqual(r.status, 0)
  assert.match(r.stderr, /ERR_WX_OPENAPI_NATIVE_BINDING/)
  assert.match(r.stderr, new RegExp(`wx-openapi-native-${HOST}`))
})

// --- other Node versions, musl and arm64 ---------------------------------------------------------------

const runtimes = fs.existsSync(RUNTIMES_FILE) ? JSON.parse(fs.readFileSync(RUNTIMES_FILE, 'utf8')) : []
// npm's flags that install each platform's package from anywhere.
const INSTALL_FOR = {
  'linux-x64-gnu': { os: 'linux', cpu: 'x64', libc: 'glibc' },
  'linux-arm64-gnu': { os: 'linux', cpu: 'arm64', libc: 'glibc' },
  'linux-x64-musl': { os: 'linux', cpu: 'x64', libc: 'musl' },
  'win32-x64-msvc': { os: 'win32', cpu: 'x64' },
  'darwin-arm64': { os: 'darwin', cpu: 'arm64' },
  'darwin-x64': { os: 'darwin', cpu: 'x64' },
}

test('every platform package has its npm install flags', () => {
  assert.deepEqual(Object.keys(INSTALL_FOR).sort(), [...PLATFORMS].sort())
  for (const p of PLATFORMS) {
    const m = JSON.parse(fs.readFileSync(path.join(ROOT, 'npm', p, 'package.json'), 'utf8'))
    const want = INSTALL_FOR[p]
    assert.deepEqual({ os: m.os, cpu: m.cpu, libc: m.libc }, { os: [want.os], cpu: [want.cpu], libc: want.libc && [want.libc] }, p)
  }
})

test('the platform layout: npm --os/--cpu/--libc installs exactly the matching package; macOS and Windows binaries checked', { skip: hostSkip, timeout: 300_000 }, async (t) => {
  const available = PLATFORMS.filter((p) => tarballs[p])
  const missing = PLATFORMS.filter((p) => !tarballs[p])
  assert.ok(!(requirePrebuilt && missing.length), `no binary for ${missing.join(', ')}`)
  if (missing.length) t.diagnostic(`not built here, left out: ${missing.join(', ')}`)
  for (const p of available) {
    await t.test(p, () => {
      const app = installApp(`layout-${p}`, available, INSTALL_FOR[p])
      const got = fs.readdirSync(path.join(app, 'node_modules')).filter((n) => n.startsWith(`${mainManifest.napi.binaryName}-`))
      assert.deepEqual(got, [`${mainManifest.napi.binaryName}-${p}`])
      const binary = path.join(app, 'node_modules', got[0], binaryFile(p))
      let check = null
      if (p.startsWith('darwin-')) check = ['check-macho.js', binary, p === 'darwin-arm64' ? 'arm64' : 'x64', p === 'darwin-arm64' ? '11.0' : '10.13']
      if (p.startsWith('win32-')) check = ['check-pe.js', binary]
      if (check) {
        const r = run(process.execPath, [path.join(ROOT, 'scripts', check[0]), ...check.slice(1)])
        assert.equal(r.status, 0, r.out)
        t.diagnostic(r.stdout.trim().split('\n').pop())
      }
    })
  }
})

test('other runtimes (scripts/fetch-test-runtimes.sh)', { skip: hostSkip, timeout: 900_000 }, async (t) => {
  if (!runtimes.length) {
    assert.ok(!requireRuntimes, `WX_REQUIRE_RUNTIMES=1 but ${RUNTIMES_FILE} is missing`)
    t.skip('no runtimes fetched: run scripts/fetch-test-runtimes.sh')
    return
  }
  const apps = {}
  for (const rt of runtimes) {
    await t.test(`${rt.name} (${rt.platform}${rt.note ? `; ${rt.note}` : ''})`, () => {
      assert.ok(rt.run, `${rt.name}: runtimes.json has no "run" (an older scripts/fetch-test-runtimes.sh: run it again)`)
      const chosen = binaries[rt.platform]
      if (!chosen || chosen.error) {
        assert.ok(!requirePrebuilt, chosen ? chosen.error : `no package for ${rt.platform}`)
        t.diagnostic(`skipped ${rt.name}: ${chosen ? chosen.error : 'no package'}`)
        return
      }
      // Installed by the host's npm for the target platform: node_modules built on one machine, run on another.
      if (!apps[rt.platform]) {
        apps[rt.platform] = installApp(`app-${rt.platform}`, rt.platform, INSTALL_FOR[rt.platform])
        writeSmoke(apps[rt.platform])
      }
      const app = apps[rt.platform]
      const installedBinary = path.join(app, 'node_modules', `${mainManifest.napi.binaryName}-${rt.platform}`, binaryFile(rt.platform))
      assert.ok(fs.existsSync(installedBinary), `npm installed ${rt.platform}'s package`)
      const env = { ...sandboxEnv }
      // binding.js tells musl from glibc by /usr/bin/ldd, which on this glibc host says glibc: point it at the
      // musl binary the way a user would on a host it misjudges.
      if (rt.platform.endsWith('-musl')) env.NAPI_RS_NATIVE_LIBRARY_PATH = installedBinary
      const scripts = ['smoke.cjs', 'smoke.mjs', ...(rt.runtime === 'deno' ? ['smoke-path.mjs'] : [])]
      for (const script of scripts) {
        const r = run(rt.run, [script], { cwd: app, env })
        assert.equal(r.signal, null, `${rt.name} ${script} did not exit by itself:\n${r.out}`)
        assert.equal(r.status, 0, r.out)
        const last = lastJson(r)
        if (script === 'smoke.cjs') {
          assert.equal(last.runtime, rt.runtime)
          assert.equal(last.sent, 202)
          if (last.addons) assert.deepEqual(last.addons.map(hostPath), [installedBinary])
        } else {
          assert.equal(last.version, mainManifest.version)
        }
        t.diagnostic(`${rt.name} ${script}: ${r.stdout.trim().split('\n').pop()}`)
      }
    })
  }
})
