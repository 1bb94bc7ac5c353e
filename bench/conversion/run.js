'use strict'
// ns per call for each way of bringing a send call's params into Rust and making the JSON body
// (see src/lib.rs). Build first: `../../node_modules/.bin/napi build --release` in this folder.
//   node bench/conversion/run.js [--calls 200000] [--rounds 7] [--json out.json]
const assert = require('node:assert')
const path = require('node:path')
const fs = require('node:fs')

const args = process.argv.slice(2)
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt }
const CALLS = Number(opt('--calls', 200_000))
const ROUNDS = Number(opt('--rounds', 7))
const OUT = opt('--json', null)

const file = fs.readdirSync(__dirname).find((f) => /^conversion.*\.node$/.test(f))
if (!file) {
  console.error('not built: cd bench/conversion && ../../node_modules/.bin/napi build --release')
  process.exit(1)
}
const native = require(path.join(__dirname, file))

const PAYLOADS = {
  // The bench's message (and the issue's): lowercase keys, nothing to convert.
  text: { touser: 'OPENID', msgtype: 'text', text: { content: 'Hello World' } },
  // A bigger one with camelCase keys to convert (thumbMediaId, kfAccount).
  miniprogrampage: {
    touser: 'OPENID',
    msgtype: 'miniprogrampage',
    miniprogrampage: { title: 'title', appid: 'wx0123456789abcdef', pagepath: 'pages/index/index?x=1', thumbMediaId: 'MEDIA_ID_0123456789' },
    customservice: { kfAccount: 'test1@kftest' },
  },
}

const VARIANTS = {
  'noop (crossing only)': (p) => native.noop(p),
  'JSON.stringify alone (JS)': (p) => JSON.stringify(p).length,
  '1 serde_json::Value arg': (p) => native.valueLen(p),
  '2 JSON string (stringify + parse)': (p) => native.jsonLen(JSON.stringify(p)),
  '3 #[napi(object)] struct': (p) => native.objectLen(p),
  '4 addon walk (src/params.rs)': (p) => native.walkLen(p),
  '5 lean walk (same semantics)': (p) => native.leanLen(p),
}

// Every variant makes the same body.
for (const [name, p] of Object.entries(PAYLOADS)) {
  const expected = JSON.stringify(JSON.parse(native.walkBody(p)))
  for (const body of [native.valueBody(p), native.jsonBody(JSON.stringify(p)), native.objectBody(p), native.leanBody(p)]) {
    assert.strictEqual(body, expected, `${name}: ${body} != ${expected}`)
  }
  assert.match(expected, name === 'text' ? /"content":"Hello World"/ : /"thumb_media_id":.*"kf_account"/)
}

function time(fn, p) {
  let sink = 0
  for (let i = 0; i < 20_000; i++) sink += fn(p)
  const rounds = []
  for (let r = 0; r < ROUNDS; r++) {
    const t = process.hrtime.bigint()
    for (let i = 0; i < CALLS; i++) sink += fn(p)
    rounds.push(Number(process.hrtime.bigint() - t) / CALLS)
  }
  if (sink === -1) console.log(sink)
  rounds.sort((a, b) => a - b)
  return rounds[Math.floor(rounds.length / 2)]
}

const results = {}
for (const [name, p] of Object.entries(PAYLOADS)) {
  results[name] = {}
  for (const [variant, fn] of Object.entries(VARIANTS)) results[name][variant] = time(fn, p)
}
const names = Object.keys(PAYLOADS)
const w = Math.max(...Object.keys(VARIANTS).map((v) => v.length))
console.log(`ns per call, median of ${ROUNDS} rounds of ${CALLS.toLocaleString('en-US')} calls (Node ${process.version})\n`)
console.log(`| ${'variant'.padEnd(w)} | ${names.map((n) => n.padStart(15)).join(' | ')} |`)
console.log(`|${'-'.repeat(w + 2)}|${names.map(() => '-'.repeat(16) + ':').join('|')}|`)
for (const variant of Object.keys(VARIANTS)) {
  console.log(`| ${variant.padEnd(w)} | ${names.map((n) => results[n][variant].toFixed(0).padStart(15)).join(' | ')} |`)
}
if (OUT) fs.writeFileSync(OUT, JSON.stringify({ calls: CALLS, rounds: ROUNDS, node: process.version, results }, null, 2) + '\n')
