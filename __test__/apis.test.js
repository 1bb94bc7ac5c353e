'use strict'
// The call table (crates/wx-openapi/apis.json) end to end through the generic engine: for every row,
// the request that `cloud.openapi.<name>(params)` makes is checked against the row at the emulator
// (method, path, query string, JSON body or multipart parts); then aliases, unknown names, user
// routes from the `apis` option, binary replies, local file-size limits and retries per row. The
// table's own consistency (and its agreement with the API surface and API.md) is checked first.

const { test, describe, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const native = require('..')
const { startEmulator } = require('../emulator')
const { loadTable, checkTable, SURFACE_FILE } = require('../scripts/check-apis')
const { render, namespaceList, API_MD } = require('../scripts/gen-api-docs')
const { codePng, PNG_SIGNATURE } = require('../emulator/png')

const ROOT = path.join(__dirname, '..')
const { rows: ROWS, problems: TABLE_PROBLEMS } = loadTable()
const ROW_BY_NAME = new Map(ROWS.flatMap((row) => [row.name, ...(row.aliases || [])].map((name) => [name, row])))

// ---------------------------------------------------------------------------
// The wire rules the engine follows (CONTRACT.md section 4 and the call table's kinds)
// ---------------------------------------------------------------------------

/** wx-server-sdk's key rule: each ASCII capital X becomes _x. */
const snake = (key) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)
const camel = (key) => key.replace(/_([a-z])/g, (_, c) => c.toUpperCase())

/** A part's file name when the param gives none: `media.<extension of the content type>`. */
const defaultFileName = (contentType) => `media.${{ jpeg: 'jpg' }[contentType.split('/')[1]] ?? contentType.split('/')[1]}`

const isFile = (value) =>
  value !== null && typeof value === 'object' && typeof value.contentType === 'string' && value.value instanceof Uint8Array

/** The params as WeChat must receive them: keys snake_case, recursively; undefined dropped; values unchanged. */
function toWire(value) {
  if (Array.isArray(value)) return value.map(toWire)
  if (value === null || typeof value !== 'object' || isFile(value)) return value
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [snake(k), toWire(v)]))
}

/** A query value as the engine writes it (and the emulator decodes it). */
function queryText(value) {
  if (typeof value === 'string') return value
  if (Array.isArray(value)) return value.join(',')
  return JSON.stringify(value)
}

/** What must reach WeChat for `params` under `row`: `{ query, body, files }` (body undefined: none). */
function expectedRequest(row, params) {
  const wire = toWire(params)
  const query = { access_token: '[redacted]' }
  let body
  const files = []
  const toQuery = (key) => {
    query[key] = queryText(wire[key])
  }
  if (row.params === 'json') {
    body = wire
  } else if (row.params === 'query') {
    Object.keys(wire).forEach(toQuery)
  } else if (row.params === 'json+query') {
    body = {}
    for (const [key, value] of Object.entries(wire)) {
      if (row.query.includes(key)) toQuery(key)
      else body[key] = value
    }
  } else {
    // multipart kinds: files as parts, every other param in the query string
    for (const [key, value] of Object.entries(wire)) {
      if (isFile(value)) files.push({ name: key, file: value })
      else toQuery(key)
    }
  }
  return { query, body, files }
}

/** Asserts that `request` (as the emulator recorded it) is what `row` says `params` must become. */
function assertRequestMatches(row, params, request, name = row.name) {
  const { query, body, files } = expectedRequest(row, params)
  const at = `${name}: ${request.method} ${request.path}`
  assert.equal(request.method, row.method, at)
  assert.equal(request.path, row.path, at)
  assert.deepEqual(request.query, query, at)
  assert.equal(Object.keys(request.query)[0], 'access_token', `${at}: the token is the first query param`)
  if (body !== undefined) {
    assert.match(request.contentType, /^application\/json/, at)
    assert.deepEqual(request.body, body, at)
    // Byte for byte: key order kept, non-ASCII text not \u-escaped.
    assert.equal(request.rawBody, JSON.stringify(body), at)
  } else if (files.length > 0) {
    assert.match(request.contentType, /^multipart\/form-data; boundary=/, at)
    assert.equal(request.parts.length, files.length, at)
    for (const { name: field, file } of files) {
      const part = request.parts.find((p) => p.name === field)
      assert.ok(part, `${at}: a part named ${field}`)
      assert.equal(part.contentType, file.contentType, at)
      assert.equal(part.filename, file.fileName ?? defaultFileName(file.contentType), at)
      assert.ok(part.data.equals(Buffer.from(file.value)), `${at}: the file's bytes`)
    }
  } else {
    // A GET, or a multipart|query call with the URL param instead of a file: nothing in the body.
    assert.ok(request.parts === undefined || request.parts.length === 0, at)
    assert.equal(request.body, undefined, at)
  }
}

// ---------------------------------------------------------------------------
// Params for every row
// ---------------------------------------------------------------------------

const PNG = codePng(32, 'apis.test')
const file = (extra = {}) => ({ contentType: 'image/png', value: PNG, ...extra })
const TEST_USER = 'o-apis-test'
const TEMPLATE = 'TEMPLATE_apis_test'

/** A token for talking to the emulator directly (to set up state the table test then reads). */
async function directToken(emu) {
  const reply = await fetch(`${emu.url}/cgi-bin/stable_token`, {
    method: 'POST',
    body: JSON.stringify({ grant_type: 'client_credential', appid: emu.appid, secret: emu.secret }),
  })
  return (await reply.json()).access_token
}

async function directPost(emu, pathname, body) {
  const reply = await fetch(`${emu.url}${pathname}?access_token=${await directToken(emu)}`, { method: 'POST', body: JSON.stringify(body) })
  return reply.json()
}

/**
 * Rows whose emulator routes have WeChat's rules: params those rules accept. Functions, because
 * some use something up (a phone code) or need state (a stored media, an existing scheme).
 */
const VALID_PARAMS = {
  'customerServiceMessage.send': () => ({ touser: TEST_USER, msgtype: 'text', text: { content: '你好 table' } }),
  'customerServiceMessage.setTyping': () => ({ touser: TEST_USER, command: 'CancelTyping' }),
  'customerServiceMessage.uploadTempMedia': () => ({ type: 'image', media: file() }),
  'customerServiceMessage.getTempMedia': (emu) => ({ mediaId: emu.addMedia(PNG, 'image/png', 'a.png') }),
  'subscribeMessage.send': () => ({ touser: TEST_USER, templateId: TEMPLATE, page: 'pages/index/index', data: { thing1: { value: '已发货' } } }),
  'security.msgSecCheck': () => ({ content: 'hello', version: 2, scene: 2, openid: TEST_USER }),
  'security.mediaCheckAsync': () => ({ mediaUrl: 'https://example.com/a.png', mediaType: 2, version: 2, scene: 1, openid: TEST_USER }),
  'security.imgSecCheck': () => ({ media: file() }),
  'wxacode.getUnlimited': () => ({ scene: 'id=42', page: 'pages/index/index', width: 300, checkPath: true }),
  'wxacode.get': () => ({ path: 'pages/index/index?id=42', width: 300 }),
  'wxacode.createQRCode': () => ({ path: 'pages/index/index?id=42', width: 300 }),
  'urlscheme.generate': () => ({ jumpWxa: { path: 'pages/index/index', query: 'id=42' }, isExpire: true, expireType: 1, expireInterval: 1 }),
  'urlscheme.query': async (emu) => ({ scheme: (await directPost(emu, '/wxa/generatescheme', {})).openlink }),
  'urllink.generate': () => ({ path: 'pages/index/index', query: 'id=42' }),
  'urllink.query': async (emu) => ({ urlLink: (await directPost(emu, '/wxa/generate_urllink', {})).url_link }),
  'phonenumber.getPhoneNumber': (emu) => ({ code: emu.phoneCode() }),
}

/** Params for a row: its valid ones, or generic ones that exercise every wire rule of its kind. */
async function paramsFor(row, emu) {
  if (VALID_PARAMS[row.name]) return VALID_PARAMS[row.name](emu)
  switch (row.params) {
    case 'json':
      return { sampleKey: 'v', nestedObject: { innerKey: 1, listOfThings: [{ deepKey: true }, 2] }, note: '你好', skipped: undefined }
    case 'query':
      return { sampleKey: 'v 你好&=', pageSize: 10, flag: true, ids: ['a', 'b'], filter: { innerKey: 1 } }
    case 'json+query':
      return { ...Object.fromEntries(row.query.map((key) => [camel(key), `${key}-value`])), bodyKey: 'b', kvList: [{ key: 'k', value: 'v' }] }
    default: {
      // The file param's name as WeChat documents it: media for content security, img for ocr/img/search.
      const field = row.name.startsWith('security.') ? 'media' : 'img'
      return { [field]: file(), type: 'photo' }
    }
  }
}

const resolveName = (openapi, name) => name.split('.').reduce((node, key) => node[key], openapi)
const call = (cloud, name, params) => resolveName(cloud.openapi, name)(params)

/** The requests to `pathname` since `from`. */
const requestsTo = (emu, pathname, from = 0) => emu.requests.slice(from).filter((r) => r.path === pathname)

async function settle(promise) {
  try {
    return { value: await promise }
  } catch (error) {
    return { error }
  }
}

function assertOk(name, row, outcome) {
  assert.equal(outcome.error, undefined, `${name}: ${outcome.error && outcome.error.errMsg}`)
  const result = outcome.value
  assert.equal(result.errMsg, `openapi.${name}:ok`)
  assert.equal(result.errCode, 0)
  if (row.reply === 'binary') {
    assert.equal(result.contentType, 'image/png', name)
    assert.ok(Buffer.isBuffer(result.buffer), name)
    assert.ok(result.buffer.subarray(0, 8).equals(PNG_SIGNATURE), `${name}: a PNG`)
  }
}

function assertFail(name, error, errCode) {
  assert.ok(error instanceof Error, `${name}: rejects with an Error`)
  assert.equal(error.errCode, errCode, `${name}: ${error.errMsg}`)
  assert.ok(error.errMsg.startsWith(`openapi.${name}:fail `), error.errMsg)
  assert.ok(error.message.includes(error.errMsg), error.message)
}

// ---------------------------------------------------------------------------
// The table itself
// ---------------------------------------------------------------------------

describe('the call table', () => {
  test('is well formed, sorted, one row per line, and covers every name of the API surface once', () => {
    assert.deepEqual(TABLE_PROBLEMS, [])
    assert.deepEqual(checkTable(ROWS, JSON.parse(fs.readFileSync(SURFACE_FILE, 'utf8'))), [])
    assert.equal(ROW_BY_NAME.size, 169)
    assert.equal(ROWS.length, 160)
  })

  test('scripts/check-apis.js passes standalone', () => {
    const output = execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'check-apis.js')], { encoding: 'utf8' })
    assert.match(output, /160 rows, 169 names/)
  })

  test('check-apis catches a missing name, a bad value, a duplicate and a wrong order', () => {
    const surface = JSON.parse(fs.readFileSync(SURFACE_FILE, 'utf8'))
    const broken = ROWS.filter((row) => row.name !== 'urlscheme.query').map((row) => ({ ...row }))
    broken.find((row) => row.name === 'wxacode.get').retry = 'sometimes'
    broken.push({ ...broken[0] })
    const problems = checkTable(broken, surface)
    assert.ok(problems.some((p) => p.includes('urlscheme.query (surface) is not in the table')), problems.join('\n'))
    assert.ok(problems.some((p) => p.includes('retry must be read or write')))
    assert.ok(problems.some((p) => p.includes('is in the table twice')))
    assert.ok(problems.some((p) => p.includes('sorted by name')))
  })

  test('API.md is generated from the table and current', () => {
    assert.equal(fs.readFileSync(API_MD, 'utf8'), render(ROWS))
    for (const row of ROWS) assert.ok(fs.readFileSync(API_MD, 'utf8').includes(`\`${row.name}\``), row.name)
  })

  test("the README's namespace list is the table's", () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')
    const section = readme.slice(readme.indexOf('## Every cloud.openapi call'))
    assert.ok(section.includes(namespaceList(ROWS)), 'run node scripts/gen-api-docs.js and copy namespaceList into the README')
    assert.match(section, /\[API\.md\]\(API\.md\)/)
  })

  test('the type test lists every name of the table, so tsc proves each is typed on cloud.openapi', () => {
    const typeTest = fs.readFileSync(path.join(__dirname, 'types.test-d.ts'), 'utf8')
    const list = typeTest.slice(typeTest.indexOf('const everyName = ['), typeTest.indexOf('];', typeTest.indexOf('const everyName = [')))
    const listed = [...list.matchAll(/cloud\.openapi\.([\w.]+),/g)].map((m) => m[1])
    assert.deepEqual(listed, [...ROW_BY_NAME.keys()].sort())
  })

  test('every multipart row has a documented size limit except search.imageSearch (WeChat documents none)', () => {
    const unbounded = ROWS.filter((row) => row.params.startsWith('multipart') && row.maxFileBytes === undefined).map((row) => row.name)
    assert.deepEqual(unbounded, ['search.imageSearch'])
  })
})

/** An emulator where the test user has subscribed to the template, and an instance on it. */
async function subscribedEmulator(options = {}) {
  const emu = await startEmulator({ messageLimit: Infinity })
  emu.userSubscribed(TEST_USER, TEMPLATE, Infinity)
  const cloud = native.createNewInstance({ appid: emu.appid, secret: emu.secret, apiBaseUrl: emu.url, ...options })
  return { emu, cloud }
}

// ---------------------------------------------------------------------------
// Every row through the engine
// ---------------------------------------------------------------------------

describe('every row of the table, through cloud.openapi', () => {
  let emu
  let cloud
  before(async () => ({ emu, cloud } = await subscribedEmulator()))
  after(() => emu.close())

  for (const row of ROWS) {
    test(`${row.name}: ${row.method} ${row.path} (${row.params})`, async () => {
      const params = await paramsFor(row, emu)
      const from = emu.requests.length
      const outcome = await settle(call(cloud, row.name, params))
      assertOk(row.name, row, outcome)
      const sent = requestsTo(emu, row.path, from)
      assert.equal(sent.length, 1, `${row.name}: one request`)
      assertRequestMatches(row, params, sent[0])
      if (!VALID_PARAMS[row.name] && row.reply === 'json') {
        // The generic route answers { errcode: 0, errmsg: 'ok' }: nothing else in the result.
        assert.deepEqual(outcome.value, { errMsg: `openapi.${row.name}:ok`, errCode: 0 })
      }
    })
  }

  for (const row of ROWS.filter((r) => r.params === 'multipart|query')) {
    test(`${row.name}: ${row.query.map(camel).join(', ')} instead of a file goes in the query string`, async () => {
      const params = { imgUrl: 'https://example.com/a.png?x=1&y=你', type: 'photo' }
      const from = emu.requests.length
      assertOk(row.name, row, await settle(call(cloud, row.name, params)))
      const sent = requestsTo(emu, row.path, from)
      assert.equal(sent.length, 1)
      assertRequestMatches(row, params, sent[0])
    })
  }

  test('params may be left out, as with wx-server-sdk: a POST sends {}, a GET only the token', async () => {
    for (const name of ['analysis.getDailySummary', 'logistics.getAllDelivery', 'urlscheme.generate']) {
      const row = ROW_BY_NAME.get(name)
      const from = emu.requests.length
      assertOk(name, row, await settle(call(cloud, name)))
      const [request] = requestsTo(emu, row.path, from)
      assert.deepEqual(request.query, { access_token: '[redacted]' }, name)
      if (row.method === 'POST') assert.equal(request.rawBody, '{}', name)
      else assert.equal(request.rawBody, '', name)
    }
  })

  test('a file keeps its fileName, and a Uint8Array is sent like a Buffer', async () => {
    const row = ROW_BY_NAME.get('ocr.idcard')
    const params = { img: { contentType: 'image/jpeg', value: new Uint8Array(PNG), fileName: '身份证 front.jpg' } }
    const from = emu.requests.length
    assertOk('ocr.idcard', row, await settle(cloud.openapi.ocr.idcard(params)))
    assertRequestMatches(row, params, requestsTo(emu, row.path, from)[0])
  })

  test('convertCase: false sends and returns keys exactly as written', async () => {
    const row = ROW_BY_NAME.get('urlscheme.generate')
    const params = { jump_wxa: { path: 'pages/index/index' }, isExpire: false }
    const from = emu.requests.length
    const result = await cloud.openapi({ convertCase: false }).urlscheme.generate(params)
    assert.match(result.openlink, /^weixin:\/\/dl\/business\/\?t=/)
    assert.equal(result.errMsg, 'openapi.urlscheme.generate:ok')
    assert.deepEqual(requestsTo(emu, row.path, from)[0].body, params)
  })
})

// ---------------------------------------------------------------------------
// Names: aliases, unknown names, user routes
// ---------------------------------------------------------------------------

describe('names', () => {
  let emu
  let cloud
  before(async () => ({ emu, cloud } = await subscribedEmulator()))
  after(() => emu.close())

  for (const row of ROWS.filter((r) => r.aliases)) {
    for (const alias of row.aliases) {
      test(`${alias} is ${row.name}: same route, errMsg names ${alias}`, async () => {
        const params = await paramsFor(row, emu)
        const from = emu.requests.length
        assertOk(alias, row, await settle(call(cloud, alias, params)))
        const sent = requestsTo(emu, row.path, from)
        assert.equal(sent.length, 1)
        assertRequestMatches(row, params, sent[0], alias)
      })
    }
  }

  test("an alias's failure names the alias too", async () => {
    const error = await cloud.openapi.officialAccount.media.get({ mediaId: 'no-such-media' }).then(assert.fail, (e) => e)
    assertFail('officialAccount.media.get', error, 40007)
  })

  test('unknown names reject with -604100 and send nothing, not even a token request', async () => {
    const fresh = await startEmulator()
    try {
      const other = native.createNewInstance({ appid: fresh.appid, secret: fresh.secret, apiBaseUrl: fresh.url })
      const cases = [
        ['customerServiceMessage.sendd', () => other.openapi.customerServiceMessage.sendd({ touser: 'o' })],
        ['foo.bar', () => other.openapi.foo.bar({})],
        ['wxa.sec.order.nope', () => other.openapi.wxa.sec.order.nope()],
      ]
      for (const [name, attempt] of cases) {
        const error = await attempt().then(() => assert.fail(`${name} resolved`), (e) => e)
        assertFail(name, error, -604100)
        assert.ok(error.errMsg.includes(name), error.errMsg)
      }
      assert.deepEqual(fresh.requests, [])
    } finally {
      await fresh.close()
    }
  })

  test('user routes from init({ apis }): POST sends JSON, GET sends the query string, errMsg names them', async () => {
    const routed = native.createNewInstance({
      appid: emu.appid,
      secret: emu.secret,
      apiBaseUrl: emu.url,
      apis: {
        'myShop.ship': { method: 'POST', path: '/wxa/sec/order/upload_shipping_info' },
        'myShop.feedback.list': { method: 'GET', path: '/wxaapi/feedback/list' },
        'foo.bar': { method: 'POST', path: '/wxa/foo' },
      },
    })
    let from = emu.requests.length
    const shipped = await routed.openapi.myShop.ship({ orderKey: { orderNumberType: 1 }, logisticsType: 4 })
    assert.deepEqual(shipped, { errMsg: 'openapi.myShop.ship:ok', errCode: 0 })
    const post = requestsTo(emu, '/wxa/sec/order/upload_shipping_info', from)[0]
    assert.equal(post.method, 'POST')
    assert.deepEqual(post.body, { order_key: { order_number_type: 1 }, logistics_type: 4 })

    from = emu.requests.length
    const listed = await routed.openapi.myShop.feedback.list({ page: 1, num: 10 })
    assert.equal(listed.errMsg, 'openapi.myShop.feedback.list:ok')
    const get = requestsTo(emu, '/wxaapi/feedback/list', from)[0]
    assert.equal(get.method, 'GET')
    assert.deepEqual(get.query, { access_token: '[redacted]', page: '1', num: '10' })

    // A path the emulator does not know still reaches it, as the route says; the 404 is a failure.
    from = emu.requests.length
    const error = await routed.openapi.foo.bar({ someKey: 1 }).then(assert.fail, (e) => e)
    assert.ok(error.errMsg.startsWith('openapi.foo.bar:fail '), error.errMsg)
    const unknown = requestsTo(emu, '/wxa/foo', from)
    assert.equal(unknown.length, 1)
    assert.deepEqual(unknown[0].body, { some_key: 1 })

    // The table's own names still work on that instance.
    assert.equal((await routed.openapi.security.msgSecCheck(VALID_PARAMS['security.msgSecCheck']())).result.suggest, 'pass')
  })

  test('a bad user route throws from createNewInstance and init, naming it', () => {
    const base = { appid: emu.appid, secret: emu.secret, apiBaseUrl: emu.url }
    const bad = [
      { 'foo.bar': { method: 'PUT', path: '/wxa/foo' } },
      { 'foo.bar': { method: 'POST', path: 'wxa/foo' } },
      { 'foo.bar': { method: 'POST' } },
      { 'foo.bar': 'POST /wxa/foo' },
    ]
    for (const apis of bad) {
      assert.throws(() => native.createNewInstance({ ...base, apis }), /foo\.bar|apis/, JSON.stringify(apis))
      assert.throws(() => native.createNewInstance().init({ ...base, apis }), /foo\.bar|apis/, JSON.stringify(apis))
    }
  })
})

// ---------------------------------------------------------------------------
// Binary replies and file limits
// ---------------------------------------------------------------------------

describe('binary replies and file limits', () => {
  let emu
  let cloud
  before(async () => {
    emu = await startEmulator()
    cloud = native.createNewInstance({ appid: emu.appid, secret: emu.secret, apiBaseUrl: emu.url })
  })
  after(() => emu.close())

  test('a binary reply resolves { contentType, buffer, errMsg, errCode: 0 } with the bytes as sent', async () => {
    const result = await cloud.openapi.wxacode.getUnlimited({ scene: 'a=1', page: 'pages/index/index' })
    assert.deepEqual(Object.keys(result).sort(), ['buffer', 'contentType', 'errCode', 'errMsg'])
    assert.equal(result.contentType, 'image/png')
    assert.equal(result.errMsg, 'openapi.wxacode.getUnlimited:ok')
    assert.ok(result.buffer.subarray(0, 8).equals(PNG_SIGNATURE))
    const direct = await fetch(`${emu.url}/wxa/getwxacodeunlimit?access_token=${await directToken(emu)}`, {
      method: 'POST',
      body: JSON.stringify({ scene: 'a=1', page: 'pages/index/index' }),
    })
    assert.ok(result.buffer.equals(Buffer.from(await direct.arrayBuffer())))
  })

  test('a JSON error reply to a binary call rejects with WeChat code', async () => {
    assertFail('wxacode.getUnlimited', await cloud.openapi.wxacode.getUnlimited({ scene: 'a=1', page: 'pages/missing' }).then(assert.fail, (e) => e), 41030)
    assertFail('wxacode.get', await cloud.openapi.wxacode.get({ path: 'x'.repeat(1025) }).then(assert.fail, (e) => e), 40159)
  })

  for (const row of ROWS.filter((r) => r.maxFileBytes !== undefined)) {
    test(`${row.name}: a file over ${row.maxFileBytes} bytes is refused with -401001 and nothing is sent`, async () => {
      const field = row.name.startsWith('ocr.') || row.name.startsWith('img.') ? 'img' : 'media'
      const params = { [field]: { contentType: 'image/png', value: Buffer.alloc(row.maxFileBytes + 1) } }
      if (row.query && row.query.includes('type')) params.type = 'image'
      const from = emu.requests.length
      const error = await call(cloud, row.name, params).then(assert.fail, (e) => e)
      assertFail(row.name, error, -401001)
      assert.deepEqual(requestsTo(emu, row.path, from), [])
    })
  }

  test('a file of exactly the limit is sent', async () => {
    const row = ROW_BY_NAME.get('security.imgSecCheck')
    const from = emu.requests.length
    await cloud.openapi.security.imgSecCheck({ media: { contentType: 'image/png', value: Buffer.alloc(row.maxFileBytes, 1) } })
    assert.equal(requestsTo(emu, row.path, from)[0].parts[0].size, row.maxFileBytes)
  })
})

// ---------------------------------------------------------------------------
// Retries, per row
// ---------------------------------------------------------------------------

describe('retries follow each row', () => {
  let emu
  let cloud
  before(async () => ({ emu, cloud } = await subscribedEmulator({ retries: 2 })))
  after(() => emu.close())

  // Rows sharing a path take turns (the emulator's fault rules are per path); distinct paths run together.
  const byPath = new Map()
  for (const row of ROWS) byPath.set(row.path, [...(byPath.get(row.path) || []), row])
  // Params are made before any fault is injected: making some talks to the emulator (a scheme to query).
  const forEachRow = async (check) => {
    const params = new Map()
    for (const row of ROWS) params.set(row, await paramsFor(row, emu))
    // allSettled: every group finishes before the next test injects anything, even when one fails.
    const outcomes = await Promise.allSettled([...byPath.values()].map(async (rows) => {
      for (const row of rows) await check(row, params.get(row))
    }))
    const failures = outcomes.filter((outcome) => outcome.status === 'rejected').map((outcome) => outcome.reason)
    if (failures.length > 0) throw failures[0]
  }

  test('a reset after the request was written: read rows retry and succeed, write rows are sent once and fail', async () => {
    await cloud.openapi.security.msgSecCheck(VALID_PARAMS['security.msgSecCheck']()) // the token, fetched once up front
    await forEachRow(async (row, params) => {
      const from = emu.requests.length
      emu.inject({ path: row.path, reset: true })
      const outcome = await settle(call(cloud, row.name, params))
      const sent = requestsTo(emu, row.path, from)
      if (row.retry === 'read') {
        assertOk(row.name, row, outcome)
        assert.equal(sent.length, 2, `${row.name} (read) is retried once`)
      } else {
        assert.ok(outcome.error, `${row.name} (write) must not be retried`)
        assertFail(row.name, outcome.error, -601003)
        assert.equal(sent.length, 1, `${row.name} (write) is sent once`)
      }
    })
  })

  test('errcode -1 (system busy) is retried for every row', async () => {
    await forEachRow(async (row, params) => {
      const from = emu.requests.length
      emu.inject({ path: row.path, errcode: -1 })
      assertOk(row.name, row, await settle(call(cloud, row.name, params)))
      assert.equal(requestsTo(emu, row.path, from).length, 2, row.name)
    })
  })

  test('any other WeChat error is returned at once, for reads too', async () => {
    const from = emu.requests.length
    emu.inject({ path: '/wxa/sec/order/get_order', errcode: 10060001, errmsg: 'order not exist' })
    assertFail('wxa.sec.order.getOrder', await cloud.openapi.wxa.sec.order.getOrder({ transactionId: 't' }).then(assert.fail, (e) => e), 10060001)
    assert.equal(requestsTo(emu, '/wxa/sec/order/get_order', from).length, 1)
  })
})
