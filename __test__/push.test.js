'use strict'
// The message-push endpoint (push/) against the emulator's pusher (emulator/push.js), over real
// HTTP on loopback: the URL check, each mode × format, refusals (signature, timestamp, nonce,
// appid, size), duplicates and WeChat's retries, per-message getWXContext() under concurrency, the
// passive transfer reply, a throwing function; the crypto against WeChat's documented examples and
// against the npm package wechat-crypto (an independent implementation, test-only); the XML
// reader and writer. Nothing is slept on: waits are on events (the pusher's attempts, gates that
// the test opens).

const { test, describe } = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const WXBizMsgCrypt = require('wechat-crypto')

const { createPushHandler, serve, createMemoryStore, signature, aesKey, encrypt, decrypt, parseXml, toXml, getWXContext } = require('../push')
const { createPusher } = require('../emulator/push.js')

// Test secrets carry the emulator's SECRET_MARK ('wxemuSK'), so scripts/scan-output.js fails the
// run if one is ever printed.
const TOKEN = 'wxemuSKpushToken01'
const AES_KEY = 'wxemuSKabcdefghijklmnopqrstuvwxyz0123456789' // 43 characters
const APPID = 'wx0123456789abcdef'

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** A logger that keeps its lines. */
function recordingLogger() {
  const lines = []
  return { lines, error: (line) => lines.push(line) }
}

/** A function that records each event and the getWXContext() it saw, then returns `reply`. */
function recordingMain(reply = 'success') {
  const calls = []
  const main = async (event, context) => {
    calls.push({ event, wxContext: getWXContext(), context })
    return typeof reply === 'function' ? reply(event) : reply
  }
  return { main, calls }
}

async function startPushServer(t, main, options = {}) {
  const server = await serve({ token: TOKEN, encodingAESKey: AES_KEY, appid: APPID, logger: recordingLogger(), ...options }, main)
  t.after(() => server.close())
  return server
}

function pusherFor(t, server, options = {}) {
  const pusher = createPusher({ url: server.url, token: TOKEN, encodingAESKey: AES_KEY, appid: APPID, ...options })
  t.after(() => pusher.close())
  return pusher
}

/** One HTTP request on loopback; resolves { status, body }. */
function request(method, url, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: { ...headers, ...(body === undefined ? {} : { 'content-length': Buffer.byteLength(body) }) } })
    req.on('error', reject)
    req.on('response', (res) => {
      const chunks = []
      res.on('data', (chunk) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }))
    })
    req.end(body)
  })
}

const nowSeconds = () => String(Math.floor(Date.now() / 1000))
let nonceCounter = 0
const freshNonce = () => `${Date.now()}${++nonceCounter}`

/** The query WeChat sends: signed for `timestamp`/`nonce`, plus msg_signature over `encrypted`. */
function signedQuery({ token = TOKEN, timestamp = nowSeconds(), nonce = freshNonce(), encrypted, extra = {} } = {}) {
  const query = new URLSearchParams({ signature: signature(token, timestamp, nonce), timestamp, nonce, ...extra })
  if (encrypted !== undefined) {
    query.set('encrypt_type', 'aes')
    query.set('msg_signature', signature(token, timestamp, nonce, encrypted))
  }
  return query
}

const textXml = ({ from = 'oUser', msgId = '6054768590064713728', content = 'hi', createTime = Math.floor(Date.now() / 1000) } = {}) =>
  `<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[${from}]]></FromUserName><CreateTime>${createTime}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${content}]]></Content><MsgId>${msgId}</MsgId></xml>`

function sealedXml(plain, appid = APPID) {
  const encrypted = encrypt(aesKey(AES_KEY), plain, appid)
  return { encrypted, body: `<xml><ToUserName><![CDATA[gh_test]]></ToUserName><Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>` }
}

/** A promise and the function that resolves it. */
function gate() {
  let open
  const opened = new Promise((resolve) => (open = resolve))
  return { opened, open }
}

// ---------------------------------------------------------------------------------------------
// Crypto: WeChat's documented examples
// ---------------------------------------------------------------------------------------------

// Tencent's WXBizMsgCrypt samples (Java WXBizMsgCryptTest, Python Sample.py, C++ Sample.cpp) and
// the message-push documentation; the values were read from public copies of those samples
// found with the code search (e.g. Wyl015/wuyiling work-test/src/main/resources/Utils/aes/
// WXBizMsgCryptTest.java) and hold for wechat-crypto too (tested below).
const DOC = {
  key: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
  appid: 'wxb11529c136998cb6',
  random: 'aaaabbbbccccdddd',
  message: '我是中文abcd123',
  encrypted: 'jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==',
  message2:
    '<xml><ToUserName><![CDATA[oia2Tj我是中文jewbmiOUlr6X-1crbLOvLw]]></ToUserName><FromUserName><![CDATA[gh_7f083739789a]]></FromUserName><CreateTime>1407743423</CreateTime><MsgType><![CDATA[video]]></MsgType><Video><MediaId><![CDATA[eYJ1MbwPRJtOvIEabaxHs7TX2D-HV71s79GUxqdUkjm6Gs2Ed1KF3ulAOA9H1xG0]]></MediaId><Title><![CDATA[testCallBackReplyVideo]]></Title><Description><![CDATA[testCallBackReplyVideo]]></Description></Video></xml>',
  encrypted2:
    'jn1L23DB+6ELqJ+6bruv23M2GmYfkv0xBh2h+XTBOKVKcgDFHle6gqcZ1cZrk3e1qjPQ1F4RsLWzQRG9udbKWesxlkupqcEcW7ZQweImX9+wLMa0GaUzpkycA8+IamDBxn5loLgZpnS7fVAbExOkK5DYHBmv5tptA9tklE/fTIILHR8HLXa5nQvFb3tYPKAlHF3rtTeayNf0QuM+UW/wM9enGIDIJHF7CLHiDNAYxr+r+OrJCmPQyTy8cVWlu9iSvOHPT/77bZqJucQHQ04sq7KZI27OcqpQNSto2OdHCoTccjggX5Z9Mma0nMJBU+jLKJ38YB1fBIz+vBzsYjrTmFQ44YfeEuZ+xRTQwr92vhA9OxchWVINGC50qE/6lmkwWTwGX9wtQpsJKhP+oS7rvTY8+VdzETdfakjkwQ5/Xka042OlUb1/slTwo4RscuQ+RdxSGvDahxAJ6+EAjLt9d8igHngxIbf6YyqqROxuxqIeIch3CssH/LqRs+iAcILvApYZckqmA7FNERspKA5f8GoJ9sv8xmGvZ9Yrf57cExWtnX8aCMMaBropU/1k+hKP5LVdzbWCG0hGwx/dQudYR/eXp3P0XxjlFiy+9DMlaFExWUZQDajPkdPrEeOwofJb',
  // The URL check of the "safe" style (msg_signature over an encrypted echostr).
  verify: {
    token: 'QDG6eK',
    key: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
    appid: 'wx5823bf96d3bd56c7',
    msgSignature: '5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3',
    timestamp: '1409659589',
    nonce: '263014780',
    echostr: 'P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==',
    plain: '1616140317555161061',
  },
  // A compatible-mode push (plain fields and Encrypt side by side), Python Sample.py.
  compatible: {
    token: 'spamtest',
    appid: 'wx2c2769f8efd9abc2',
    timestamp: '1409735669',
    nonce: '1320562132',
    msgSignature: '5d197aaffba7e9b25a30732f161a50dee96bd5fa',
    body: '<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName><CreateTime>1409735668</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[abcdteT]]></Content><MsgId>6054768590064713728</MsgId><Encrypt><![CDATA[hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE=]]></Encrypt></xml>',
    plain:
      '<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>\n<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>\n<CreateTime>1409735668</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[abcdteT]]></Content>\n<MsgId>6054768590064713728</MsgId>\n</xml>',
  },
  // A reply sealed with the all-zero key (43 × 'A'), from the message-push documentation.
  reply: {
    token: 'AAAAA',
    key: 'A'.repeat(43),
    appid: 'wx134c8103faa5a59e',
    random: '999951349e8ee746',
    message: '<xml><demo_resp>[CDATA[good luck]]</demo_resp></xml>',
    encrypted: 'hE8R6mGXHkJJjU72KxzKUd1GEkKJaEZq7vRL8XgK3o+00k8JGq6+pZJUIlTSyhsX+bxIBQ72g3GyvDdIZcr6+3HAZbSvPT9t/o11MI7d6WELwqrGd7jMnV0zv3Zc9Nq7',
    timestamp: '1713424427',
    nonce: '415670741',
    msgSignature: '03e0812039325c2712ef5f0f980fd14c70d6e307',
  },
}

describe('crypto: WeChat\'s documented examples', () => {
  test('encrypting with the documented random bytes gives the documented ciphertext, and it decrypts back', () => {
    const key = aesKey(DOC.key)
    assert.equal(encrypt(key, DOC.message, DOC.appid, Buffer.from(DOC.random)), DOC.encrypted)
    assert.equal(encrypt(key, DOC.message2, DOC.appid, Buffer.from(DOC.random)), DOC.encrypted2)
    assert.deepEqual(decrypt(key, DOC.encrypted), { message: DOC.message, appid: DOC.appid })
    assert.deepEqual(decrypt(key, DOC.encrypted2), { message: DOC.message2, appid: DOC.appid })
  })

  test('a reply sealed with the all-zero key: ciphertext and MsgSignature as documented', () => {
    const { reply } = DOC
    const encrypted = encrypt(aesKey(reply.key), reply.message, reply.appid, Buffer.from(reply.random))
    assert.equal(encrypted, reply.encrypted)
    assert.equal(signature(reply.token, reply.timestamp, reply.nonce, encrypted), reply.msgSignature)
  })

  test('the documented compatible-mode push: its msg_signature verifies and it decrypts to the documented plaintext, byte for byte', () => {
    const { compatible } = DOC
    const { Encrypt } = parseXml(compatible.body)
    assert.equal(signature(compatible.token, compatible.timestamp, compatible.nonce, Encrypt), compatible.msgSignature)
    assert.deepEqual(decrypt(aesKey(DOC.key), Encrypt), { message: compatible.plain, appid: compatible.appid })
  })

  test('the handler answers the documented encrypted URL check with the documented plaintext', async (t) => {
    const { verify } = DOC
    const main = recordingMain()
    const server = await startPushServer(t, main.main, { token: verify.token, encodingAESKey: verify.key, appid: verify.appid, now: () => Number(verify.timestamp) * 1000 })
    const query = new URLSearchParams({ msg_signature: verify.msgSignature, timestamp: verify.timestamp, nonce: verify.nonce, echostr: verify.echostr })
    const answer = await request('GET', `${server.url}?${query}`)
    assert.equal(answer.status, 200)
    assert.equal(answer.body, verify.plain)
    assert.equal(main.calls.length, 0)
  })

  test('the handler runs the function on the documented compatible-mode push, with the event WeChat\'s cloud would pass', async (t) => {
    const { compatible } = DOC
    const main = recordingMain()
    const server = await startPushServer(t, main.main, {
      token: compatible.token,
      encodingAESKey: DOC.key,
      appid: compatible.appid,
      mode: 'compatible',
      now: () => Number(compatible.timestamp) * 1000,
    })
    const query = new URLSearchParams({ timestamp: compatible.timestamp, nonce: compatible.nonce, encrypt_type: 'aes', msg_signature: compatible.msgSignature })
    const answer = await request('POST', `${server.url}?${query}`, compatible.body, { 'content-type': 'text/xml' })
    assert.equal(answer.status, 200)
    assert.equal(answer.body, 'success')
    assert.equal(main.calls.length, 1)
    assert.deepEqual(main.calls[0].event, {
      ToUserName: 'gh_10f6c3c3ac5a',
      FromUserName: 'oyORnuP8q7ou2gfYjqLzSIWZf0rs',
      CreateTime: 1409735668,
      MsgType: 'text',
      Content: 'abcdteT',
      MsgId: '6054768590064713728',
    })
    assert.deepEqual(main.calls[0].wxContext, { OPENID: 'oyORnuP8q7ou2gfYjqLzSIWZf0rs', APPID: compatible.appid, SOURCE: 'wx_unknown' })
  })

  test('an EncodingAESKey that is not 43 base64 characters is refused at start-up, without echoing it', () => {
    for (const bad of ['short', AES_KEY + 'x', AES_KEY.slice(0, 42) + '!']) {
      assert.throws(
        () => createPushHandler({ token: TOKEN, encodingAESKey: bad, appid: APPID }, () => {}),
        (error) => error instanceof TypeError && !error.message.includes(bad),
      )
    }
  })

  test('corrupt ciphertexts are refused with a code, never a crash', () => {
    const key = aesKey(AES_KEY)
    assert.throws(() => decrypt(key, '!!!not-base64!!!'), { code: 'EBADCIPHER' })
    assert.throws(() => decrypt(key, 'YWJj'), { code: 'EBADCIPHER' })
    // A whole block that decrypts to garbage: its last byte is almost never a valid pad.
    const garbage = Buffer.alloc(32, 7).toString('base64')
    assert.throws(() => decrypt(key, garbage), (error) => ['EBADPAD', 'EBADLENGTH'].includes(error.code))
  })
})

// ---------------------------------------------------------------------------------------------
// Crypto: against wechat-crypto (an independent implementation, devDependency only)
// ---------------------------------------------------------------------------------------------

describe('crypto: against the npm package wechat-crypto', () => {
  const oracle = new WXBizMsgCrypt(TOKEN, AES_KEY, APPID)
  const key = aesKey(AES_KEY)
  // Every length around the 32-byte pad block (a whole extra block of padding at 32k - 20 - appid),
  // Chinese, emoji and a long message.
  const messages = [...Array.from({ length: 70 }, (_, n) => 'x'.repeat(n)), '收到', '你好，世界 👋', '<xml>' + '长'.repeat(3000) + '</xml>']

  test('what this package encrypts, wechat-crypto decrypts; and the other way round', () => {
    for (const message of messages) {
      assert.deepEqual(oracle.decrypt(encrypt(key, message, APPID)), { message, id: APPID })
      assert.deepEqual(decrypt(key, oracle.encrypt(message)), { message, appid: APPID })
    }
  })

  test('signatures agree', () => {
    for (const message of ['a', '收到', 'x'.repeat(100)]) {
      const encrypted = oracle.encrypt(message)
      const timestamp = nowSeconds()
      const nonce = freshNonce()
      assert.equal(signature(TOKEN, timestamp, nonce, encrypted), oracle.getSignature(timestamp, nonce, encrypted))
    }
  })

  test('a push sealed by wechat-crypto runs the function; the sealed passive reply verifies and opens with wechat-crypto', async (t) => {
    const main = recordingMain((event) => ({ MsgType: 'transfer_customer_service', ToUserName: event.FromUserName, FromUserName: event.ToUserName, CreateTime: event.CreateTime }))
    const server = await startPushServer(t, main.main)
    const createTime = Math.floor(Date.now() / 1000)
    const encrypted = oracle.encrypt(textXml({ from: 'oOracle', content: '转人工', createTime }))
    const timestamp = nowSeconds()
    const nonce = freshNonce()
    const query = new URLSearchParams({ timestamp, nonce, encrypt_type: 'aes', msg_signature: oracle.getSignature(timestamp, nonce, encrypted) })
    const answer = await request('POST', `${server.url}?${query}`, `<xml><ToUserName><![CDATA[gh_test]]></ToUserName><Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>`)
    assert.equal(answer.status, 200)
    assert.equal(main.calls.length, 1)
    assert.equal(main.calls[0].event.Content, '转人工')
    const envelope = parseXml(answer.body)
    assert.deepEqual(Object.keys(envelope), ['Encrypt', 'MsgSignature', 'TimeStamp', 'Nonce'])
    assert.equal(oracle.getSignature(envelope.TimeStamp, envelope.Nonce, envelope.Encrypt), envelope.MsgSignature)
    const opened = oracle.decrypt(envelope.Encrypt)
    assert.equal(opened.id, APPID)
    assert.deepEqual(parseXml(opened.message), { MsgType: 'transfer_customer_service', ToUserName: 'oOracle', FromUserName: 'gh_test', CreateTime: String(createTime) })
  })
})

describe('the emulator\'s pushes are WeChat\'s requests (checked with wechat-crypto)', () => {
  /** A loopback server that records requests and answers "success". */
  async function startRecorder(t) {
    const requests = []
    const server = http.createServer((req, res) => {
      const chunks = []
      req.on('data', (chunk) => chunks.push(chunk))
      req.on('end', () => {
        requests.push({ method: req.method, url: new URL(req.url, 'http://x'), headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
        res.end('success')
      })
    })
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
    t.after(() => new Promise((resolve) => server.close(resolve)))
    return { url: `http://127.0.0.1:${server.address().port}/push`, requests }
  }

  const oracle = new WXBizMsgCrypt(TOKEN, AES_KEY, APPID)

  for (const [mode, format] of [['safe', 'xml'], ['safe', 'json'], ['compatible', 'xml'], ['compatible', 'json'], ['plain', 'xml']]) {
    test(`${mode} mode, ${format.toUpperCase()}`, async (t) => {
      const recorder = await startRecorder(t)
      const pusher = createPusher({ url: recorder.url, token: TOKEN, encodingAESKey: AES_KEY, appid: APPID, mode, format })
      const record = await pusher.push({ from: 'oWire', content: '线上', msgId: '6054768590064713728' })
      assert.equal(record.ok, true)
      const [{ method, url, headers, body }] = recorder.requests
      assert.equal(method, 'POST')
      assert.match(headers['content-type'], format === 'xml' ? /xml/ : /json/)
      const q = Object.fromEntries(url.searchParams)
      assert.equal(q.signature, signature(TOKEN, q.timestamp, q.nonce))
      assert.equal(q.openid, 'oWire')
      const envelope = format === 'xml' ? parseXml(body) : JSON.parse(body)
      if (mode === 'plain') {
        assert.equal(q.encrypt_type, undefined)
        assert.equal(envelope.Content, '线上')
        return
      }
      assert.equal(q.encrypt_type, 'aes')
      assert.equal(q.msg_signature, oracle.getSignature(q.timestamp, q.nonce, envelope.Encrypt))
      const opened = oracle.decrypt(envelope.Encrypt)
      assert.equal(opened.id, APPID)
      const inner = format === 'xml' ? parseXml(opened.message) : JSON.parse(opened.message)
      assert.equal(inner.Content, '线上')
      assert.equal(inner.FromUserName, 'oWire')
      // MsgId is written as WeChat writes it: a bare number, every digit.
      assert.match(opened.message, format === 'xml' ? /<MsgId>6054768590064713728<\/MsgId>/ : /"MsgId":6054768590064713728\}/)
      if (mode === 'safe') assert.deepEqual(Object.keys(envelope), ['ToUserName', 'Encrypt'])
      else assert.deepEqual(Object.keys(envelope), ['ToUserName', 'FromUserName', 'CreateTime', 'MsgType', 'Content', 'MsgId', 'Encrypt'])
    })
  }
})

// ---------------------------------------------------------------------------------------------
// XML
// ---------------------------------------------------------------------------------------------

describe('XML reader and writer', () => {
  test('reads WeChat\'s documented text message', () => {
    const xml =
      '<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[fromUser]]></FromUserName><CreateTime>1482048670</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[this is a test]]></Content><MsgId>1234567890123456</MsgId></xml>'
    assert.deepEqual(parseXml(xml), { ToUserName: 'toUser', FromUserName: 'fromUser', CreateTime: '1482048670', MsgType: 'text', Content: 'this is a test', MsgId: '1234567890123456' })
  })

  test('prolog, BOM, comments, whitespace, entities, character references, CDATA with markup, nesting and repetition', () => {
    const xml =
      '\ufeff<?xml version="1.0" encoding="utf-8"?>\n<!-- a comment -->\n<xml>\n  <A>a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; &#20320;&#x597D;</A>\n  <B><![CDATA[<not a tag> & ]] ]]></B>\n  <C/>\n  <D attr="1"><E>1</E><E>2</E><F><G>deep</G></F></D>\n</xml>\n'
    assert.deepEqual(parseXml(xml), { A: 'a <b> & "c" \'d\' 你好', B: '<not a tag> & ]] ', C: '', D: { E: ['1', '2'], F: { G: 'deep' } } })
  })

  test('refuses DOCTYPE and entity declarations, bad nesting, unknown entities and too much depth', () => {
    const bad = [
      '<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><A>&x;</A></xml>',
      '<xml><A>&x;</A></xml>',
      '<xml><A>a & b</A></xml>',
      '<xml><A>1</B></xml>',
      '<xml><A>1</A>',
      '<xml><A>1</A></xml><xml/>',
      '<xml>text<A>1</A></xml>',
      '<xml><?php x ?></xml>',
      '<xml>' + '<A>'.repeat(20) + '</A>'.repeat(20) + '</xml>',
      'not xml',
    ]
    for (const text of bad) assert.throws(() => parseXml(text), { code: 'EBADXML' }, text)
  })

  test('an element named __proto__ is a plain field; no prototype changes', () => {
    const fields = parseXml('<xml><__proto__><polluted>yes</polluted></__proto__><constructor>c</constructor></xml>')
    assert.deepEqual(Object.keys(fields), ['__proto__', 'constructor'])
    assert.equal(Object.getPrototypeOf(fields), Object.prototype)
    assert.equal({}.polluted, undefined)
  })

  test('writes strings in CDATA (splitting "]]>"), numbers bare, objects nested, arrays as <item>; reads back the same', () => {
    const reply = { ToUserName: 'o]]>u', CreateTime: 1700000000, MsgType: 'transfer_customer_service', TransInfo: { KfAccount: 'kf@x' }, List: ['a', 'b'], Skipped: undefined }
    const xml = toXml(reply)
    assert.equal(
      xml,
      '<xml><ToUserName><![CDATA[o]]]]><![CDATA[>u]]></ToUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[transfer_customer_service]]></MsgType><TransInfo><KfAccount><![CDATA[kf@x]]></KfAccount></TransInfo><List><item><![CDATA[a]]></item><item><![CDATA[b]]></item></List></xml>',
    )
    assert.deepEqual(parseXml(xml), { ToUserName: 'o]]>u', CreateTime: '1700000000', MsgType: 'transfer_customer_service', TransInfo: { KfAccount: 'kf@x' }, List: { item: ['a', 'b'] } })
  })

  test('refuses names and values XML cannot carry', () => {
    assert.throws(() => toXml({ 'a b': 'x' }), TypeError)
    assert.throws(() => toXml({ A: 'bell\u0007' }), TypeError)
    assert.throws(() => toXml({ A: NaN }), TypeError)
    assert.throws(() => toXml({ A: () => 1 }), TypeError)
  })
})

// ---------------------------------------------------------------------------------------------
// The URL check
// ---------------------------------------------------------------------------------------------

describe('GET: the URL check', () => {
  test('a signed check gets echostr back; a bad signature, a stale timestamp or no echostr do not', async (t) => {
    const server = await startPushServer(t, recordingMain().main)
    assert.equal((await pusherFor(t, server).verify({ echostr: '4075181314397890557' })).ok, true)

    const good = signedQuery({ extra: { echostr: 'e1' } })
    assert.deepEqual(await request('GET', `${server.url}?${good}`).then(({ status, body }) => ({ status, body })), { status: 200, body: 'e1' })

    const forged = signedQuery({ token: 'not-the-token', extra: { echostr: 'e2' } })
    const refusedForged = await request('GET', `${server.url}?${forged}`)
    assert.equal(refusedForged.status, 401)
    assert.ok(!refusedForged.body.includes('e2'))

    const stale = signedQuery({ timestamp: String(Math.floor(Date.now() / 1000) - 3600), extra: { echostr: 'e3' } })
    assert.equal((await request('GET', `${server.url}?${stale}`)).status, 403)

    assert.equal((await request('GET', `${server.url}?${signedQuery()}`)).status, 400)
  })
})

// ---------------------------------------------------------------------------------------------
// Each mode × format
// ---------------------------------------------------------------------------------------------

describe('each mode × format runs the function with the event and context WeChat\'s cloud gives', () => {
  for (const mode of ['plain', 'compatible', 'safe']) {
    for (const format of ['xml', 'json']) {
      test(`${mode} mode, ${format.toUpperCase()}`, async (t) => {
        const main = recordingMain()
        const server = await startPushServer(t, main.main, { mode })
        const pusher = pusherFor(t, server, { mode, format })
        const record = await pusher.push({ from: 'oUserA', content: '你好 <b>&amp;</b> ]]> 👋' })

        assert.equal(record.status, 200)
        assert.equal(record.reply, 'success')
        assert.equal(record.ok, true)
        assert.equal(main.calls.length, 1)
        const { event, wxContext } = main.calls[0]
        assert.deepEqual(event, record.message)
        assert.equal(event.Content, '你好 <b>&amp;</b> ]]> 👋')
        assert.equal(typeof event.CreateTime, 'number')
        assert.match(event.MsgId, /^\d+$/)
        assert.deepEqual(Object.keys(event), ['ToUserName', 'FromUserName', 'CreateTime', 'MsgType', 'Content', 'MsgId'])
        assert.deepEqual(wxContext, { OPENID: 'oUserA', APPID: APPID, SOURCE: 'wx_unknown' })
      })
    }
  }

  test('image, mini-program card and the enter-session event arrive with all their fields (safe mode, JSON)', async (t) => {
    const main = recordingMain()
    const server = await startPushServer(t, main.main)
    const pusher = pusherFor(t, server, { format: 'json' })
    const image = await pusher.push({ from: 'oU', type: 'image', fields: { PicUrl: 'https://example.com/p.jpg', MediaId: 'MEDIA_ID' } })
    const card = await pusher.push({
      from: 'oU',
      type: 'miniprogrampage',
      fields: { Title: '标题', AppId: 'wxCard', PagePath: 'pages/index/index', ThumbUrl: 'https://example.com/t.jpg', ThumbMediaId: 'THUMB_ID' },
    })
    const enter = await pusher.push({ from: 'oU', type: 'event', fields: { Event: 'user_enter_tempsession', SessionFrom: 'weapp' } })
    for (const record of [image, card, enter]) assert.equal(record.ok, true)
    assert.deepEqual(main.calls.map((call) => call.event), [image.message, card.message, enter.message])
    assert.equal(main.calls[0].event.PicUrl, 'https://example.com/p.jpg')
    assert.equal(main.calls[1].event.ThumbMediaId, 'THUMB_ID')
    assert.equal(main.calls[2].event.Event, 'user_enter_tempsession')
    assert.equal(main.calls[2].event.SessionFrom, 'weapp')
    assert.equal(main.calls[2].event.MsgId, undefined)
  })

  test('a JSON MsgId beyond 2^53 keeps every digit', async (t) => {
    const main = recordingMain()
    const server = await startPushServer(t, main.main)
    const record = await pusherFor(t, server, { format: 'json' }).push({ from: 'oU', content: 'x', msgId: '9223372036854775807' })
    assert.equal(record.ok, true)
    assert.equal(main.calls[0].event.MsgId, '9223372036854775807')
  })

  test('UNIONID and ENV are in the context when known', async (t) => {
    const main = recordingMain()
    const server = await startPushServer(t, main.main, { env: 'prod-env', source: 'wx_msgpush_test' })
    const timestamp = nowSeconds()
    const { body, encrypted } = sealedXml(textXml({ from: 'oU', msgId: '42' }))
    const answer = await request('POST', `${server.url}?${signedQuery({ timestamp, encrypted, extra: { unionid: 'uUnion' } })}`, body)
    assert.equal(answer.status, 200)
    assert.deepEqual(main.calls[0].wxContext, { OPENID: 'oU', APPID: APPID, UNIONID: 'uUnion', ENV: 'prod-env', SOURCE: 'wx_msgpush_test' })
  })
})

// ---------------------------------------------------------------------------------------------
// Refusals: the function never runs
// ---------------------------------------------------------------------------------------------

describe('refusals: the function does not run', () => {
  test('plain mode: a wrong or missing signature → 401', async (t) => {
    const main = recordingMain()
    const server = await startPushServer(t, main.main, { encodingAESKey: undefined, appid: undefined })
    const forged = await request('POST', `${server.url}?${signedQuery({ token: 'guess' })}`, textXml())
    const unsigned = await request('POST', `${server.url}?timestamp=${nowSeconds()}&nonce=1`, textXml())
    assert.equal(forged.status, 401)
    assert.equal(unsigned.status, 401)
    assert.equal(main.calls.length, 0)
  })

  test('safe mode: a msg_signature that does not cover this Encrypt → 401, before anything is decrypted', async (t) => {
    const main = recordingMain()
    const server = await startPushServer(t, main.main)
    const { body } = sealedXml(textXml())
    const other = sealedXml(textXml({ content: 'other' }))
    const answer = await request('POST', `${server.url}?${signedQuery({ encrypted: other.encrypted })}`, body)
    assert.equal(answer.status, 401)
    // A valid msg_signature over a ciphertext that is not one: refused as undecryptable (400), not run.
    const junk = Buffer.alloc(48, 1).toString('base64')
    const junkAnswer = await request('POST', `${server.url}?${signedQuery({ encrypted: junk })}`, `<xml><Encrypt><![CDATA[${junk}]]></Encrypt></xml>`)
    assert.equal(junkAnswer.status, 400)
    assert.equal(main.calls.length, 0)
  })

  test('safe mode refuses an unencrypted message even when its signature is right → 401', async (t) => {
    const main = recordingMain()
    const server = await startPushServer(t, main.main)
    const record = await pusherFor(t, server, { mode: 'plain' }).push({ from: 'oU', content: 'plain' })
    assert.equal(record.status, 401)
    assert.equal(record.ok, false)
    assert.equal(main.calls.length, 0)
  })

  test('a message sealed for another appid → 403', async (t) => {
    const main = recordingMain()
    const server = await startPushServer(t, main.main)
    const { body, encrypted } = sealedXml(textXml(), 'wxSomeoneElse00000')
    const answer = await request('POST', `${server.url}?${signedQuery({ encrypted })}`, body)
    assert.equal(answer.status, 403)
    assert.equal(main.calls.length, 0)
  })

  test('a timestamp outside the window (past or future) → 403; inside it → runs', async (t) => {
    const main = recordingMain()
    const fixedNow = 1_800_000_000_000
    const server = await startPushServer(t, main.main, { now: () => fixedNow, timestampToleranceSec: 300 })
    const at = (offsetS) => {
      const { body, encrypted } = sealedXml(textXml({ msgId: String(1000 + offsetS + 10000) }))
      return request('POST', `${server.url}?${signedQuery({ timestamp: String(fixedNow / 1000 + offsetS), encrypted })}`, body)
    }
    assert.equal((await at(-301)).status, 403)
    assert.equal((await at(301)).status, 403)
    assert.equal(main.calls.length, 0)
    assert.equal((await at(-300)).status, 200)
    assert.equal((await at(300)).status, 200)
    assert.equal(main.calls.length, 2)
  })

  test('a nonce seen before on another body → 403 (the same request again is a retry, not a replay)', async (t) => {
    const main = recordingMain()
    const server = await startPushServer(t, main.main, { encodingAESKey: undefined, appid: undefined })
    const query = signedQuery()
    const first = await request('POST', `${server.url}?${query}`, textXml({ msgId: '1' }))
    const replayed = await request('POST', `${server.url}?${query}`, textXml({ msgId: '2', content: 'injected' }))
    const retried = await request('POST', `${server.url}?${query}`, textXml({ msgId: '1' }))
    assert.equal(first.status, 200)
    assert.equal(replayed.status, 403)
    assert.equal(retried.status, 200)
    assert.equal(main.calls.length, 1)
    assert.equal(main.calls[0].event.Content, 'hi')
  })

  test('a body over maxBodyBytes → 413; a body neither XML nor JSON → 400; PUT → 405', async (t) => {
    const main = recordingMain()
    const server = await startPushServer(t, main.main, { encodingAESKey: undefined, appid: undefined, maxBodyBytes: 1024 })
    const big = await request('POST', `${server.url}?${signedQuery()}`, textXml({ content: 'x'.repeat(4096) }))
    const garbage = await request('POST', `${server.url}?${signedQuery()}`, 'hello')
    const put = await request('PUT', `${server.url}?${signedQuery()}`, textXml())
    assert.equal(big.status, 413)
    assert.equal(garbage.status, 400)
    assert.equal(put.status, 405)
    assert.equal(main.calls.length, 0)
  })

  test('no refusal answer or log line shows the token or the EncodingAESKey', async (t) => {
    const logger = recordingLogger()
    const server = await startPushServer(t, recordingMain().main, { logger })
    const answers = await Promise.all([
      request('POST', `${server.url}?${signedQuery({ token: 'x' })}`, textXml()),
      request('POST', `${server.url}?${signedQuery({ encrypted: 'AAAA' })}`, '<xml><Encrypt><![CDATA[AAAA]]></Encrypt></xml>'),
      request('GET', `${server.url}?${signedQuery({ token: 'x', extra: { echostr: 'e' } })}`),
    ])
    for (const text of [...answers.map((answer) => answer.body), ...logger.lines]) {
      assert.ok(!text.includes(TOKEN) && !text.includes(AES_KEY), text)
    }
  })
})

// ---------------------------------------------------------------------------------------------
// Duplicates and retries
// ---------------------------------------------------------------------------------------------

describe('one run per message', () => {
  test('the same MsgId pushed twice (signed afresh) runs once; both get the same passive reply', async (t) => {
    const main = recordingMain((event) => ({ MsgType: 'transfer_customer_service', ToUserName: event.FromUserName, FromUserName: event.ToUserName, CreateTime: 1 }))
    const server = await startPushServer(t, main.main)
    const pusher = pusherFor(t, server)
    const first = await pusher.push({ from: 'oU', content: 'again', msgId: '77' })
    const second = await pusher.push({ from: 'oU', content: 'again', msgId: '77' })
    assert.equal(main.calls.length, 1)
    assert.deepEqual(first.reply, second.reply)
    assert.equal(second.reply.MsgType, 'transfer_customer_service')
  })

  test('WeChat\'s retry of a slow answer (the same request again) runs the function once and gets its reply', async (t) => {
    const retried = gate()
    let runs = 0
    const server = await startPushServer(t, async (event) => {
      runs++
      await retried.opened // answer only once the pusher has given up on the first attempt
      return { MsgType: 'transfer_customer_service', ToUserName: event.FromUserName, FromUserName: event.ToUserName, CreateTime: 2 }
    })
    const pusher = pusherFor(t, server, {
      retryWaitMs: 1000,
      onAttempt: (attempt) => {
        if (attempt.outcome === 'timeout') retried.open()
      },
    })
    const record = await pusher.push({ from: 'oSlow', content: 'slow' })
    assert.equal(runs, 1)
    assert.equal(record.attempts[0].outcome, 'timeout')
    assert.equal(record.attempts.at(-1).outcome, 'answered')
    assert.ok(record.attempts.length >= 2 && record.attempts.length <= 4)
    assert.equal(record.ok, true)
    assert.deepEqual(record.reply, { MsgType: 'transfer_customer_service', ToUserName: 'oSlow', FromUserName: record.message.ToUserName, CreateTime: '2' })
  })

  test('the pusher stops after 1 + retries attempts when no answer ever comes', async (t) => {
    const never = gate()
    t.after(() => never.open())
    const server = await startPushServer(t, () => never.opened)
    const record = await pusherFor(t, server, { retryWaitMs: 200, retries: 3 }).push({ from: 'oU', content: 'x' })
    assert.deepEqual(record.attempts.map((attempt) => attempt.outcome), ['timeout', 'timeout', 'timeout', 'timeout'])
    assert.equal(record.ok, false)
  })

  test('events (no MsgId) are deduplicated by FromUserName + CreateTime', async (t) => {
    const main = recordingMain()
    const server = await startPushServer(t, main.main)
    const pusher = pusherFor(t, server)
    const enter = { from: 'oU', type: 'event', fields: { Event: 'user_enter_tempsession', SessionFrom: 's' } }
    await pusher.push({ ...enter, createTime: 1_800_000_000 })
    await pusher.push({ ...enter, createTime: 1_800_000_000 })
    await pusher.push({ ...enter, createTime: 1_800_000_001 })
    assert.deepEqual(main.calls.map((call) => call.event.CreateTime), [1_800_000_000, 1_800_000_001])
  })

  test('two handlers (two processes) sharing an asynchronous store that answers null, as Redis does, run a message once', async (t) => {
    const memory = createMemoryStore()
    const shared = { putIfAbsent: async (key, value, ttlMs) => memory.putIfAbsent(key, value, ttlMs) ?? null }
    const main = recordingMain()
    const one = await startPushServer(t, main.main, { store: shared })
    const two = await startPushServer(t, main.main, { store: shared })
    const a = await pusherFor(t, one).push({ from: 'oU', content: 'x', msgId: '555' })
    const b = await pusherFor(t, two).push({ from: 'oU', content: 'x', msgId: '555' })
    assert.equal(a.reply, 'success')
    assert.equal(b.reply, 'success')
    assert.equal(main.calls.length, 1)
  })

  test('the memory store forgets after its ttl and holds at most maxEntries', () => {
    let now = 0
    const store = createMemoryStore({ maxEntries: 3, now: () => now })
    assert.equal(store.putIfAbsent('a', '1', 100), undefined)
    assert.equal(store.putIfAbsent('a', '2', 100), '1')
    now = 100
    assert.equal(store.putIfAbsent('a', '3', 100), undefined)
    for (const key of ['b', 'c', 'd']) store.putIfAbsent(key, key, 1000)
    assert.equal(store.size(), 3)
    assert.equal(store.putIfAbsent('b', 'again', 1000), 'b')
  })
})

// ---------------------------------------------------------------------------------------------
// Concurrency, replies, failures
// ---------------------------------------------------------------------------------------------

describe('the function\'s view and its answer', () => {
  test('concurrent messages each see their own getWXContext(), however their awaits interleave', async (t) => {
    const users = Array.from({ length: 30 }, (_, i) => `oUser${i}`)
    const gates = new Map(users.map((user) => [user, gate()]))
    const arrived = []
    const allArrived = gate()
    const seen = []
    const server = await startPushServer(t, async (event) => {
      const before = getWXContext().OPENID
      arrived.push(event.FromUserName)
      if (arrived.length === users.length) allArrived.open()
      await gates.get(event.FromUserName).opened
      await new Promise((resolve) => setImmediate(resolve))
      seen.push({ from: event.FromUserName, before, after: getWXContext().OPENID })
      return 'success'
    })
    const pusher = pusherFor(t, server, { format: 'json' })
    const pushes = users.map((user) => pusher.push({ from: user, content: user }))
    await allArrived.opened // every function is in flight at once
    for (const user of [...users].reverse()) gates.get(user).open()
    const records = await Promise.all(pushes)
    assert.ok(records.every((record) => record.ok))
    assert.equal(seen.length, users.length)
    for (const { from, before, after } of seen) {
      assert.equal(before, from)
      assert.equal(after, from)
    }
  })

  for (const [mode, format] of [['safe', 'xml'], ['safe', 'json'], ['plain', 'xml'], ['compatible', 'json']]) {
    test(`the passive transfer_customer_service reply (${mode}, ${format.toUpperCase()})`, async (t) => {
      const server = await startPushServer(t, async (event) => ({
        MsgType: 'transfer_customer_service',
        FromUserName: event.ToUserName,
        ToUserName: event.FromUserName,
        CreateTime: event.CreateTime,
      }), { mode })
      const record = await pusherFor(t, server, { mode, format }).push({ from: 'oHuman', content: '转人工' })
      assert.equal(record.ok, true, record.replyError)
      assert.equal(record.sealed === true, mode !== 'plain')
      const createTime = format === 'xml' ? String(record.message.CreateTime) : record.message.CreateTime
      assert.deepEqual(record.reply, { MsgType: 'transfer_customer_service', FromUserName: record.message.ToUserName, ToUserName: 'oHuman', CreateTime: createTime })
    })
  }

  test('a reply missing ToUserName, FromUserName and CreateTime gets them from the message', async (t) => {
    const server = await startPushServer(t, () => ({ MsgType: 'transfer_customer_service' }), { mode: 'plain', encodingAESKey: undefined, appid: undefined })
    const record = await pusherFor(t, server, { mode: 'plain', format: 'json', encodingAESKey: undefined, appid: undefined }).push({ from: 'oU', content: 'x' })
    assert.equal(record.reply.ToUserName, 'oU')
    assert.equal(record.reply.FromUserName, record.message.ToUserName)
    assert.equal(typeof record.reply.CreateTime, 'number')
  })

  test('a throwing function: WeChat gets "success" (no retry loop), one log line without secrets, no rerun on the retry', async (t) => {
    const logger = recordingLogger()
    let runs = 0
    const server = await startPushServer(t, async () => {
      runs++
      throw new Error(`database down (connecting with ${TOKEN} and ${AES_KEY})`)
    }, { logger })
    const pusher = pusherFor(t, server)
    const record = await pusher.push({ from: 'oU', content: 'x', msgId: '909' })
    const again = await pusher.push({ from: 'oU', content: 'x', msgId: '909' })
    assert.equal(record.reply, 'success')
    assert.equal(again.reply, 'success')
    assert.equal(runs, 1)
    assert.equal(logger.lines.length, 1)
    assert.match(logger.lines[0], /database down/)
    assert.match(logger.lines[0], /\[redacted\]/)
    assert.ok(!logger.lines[0].includes(TOKEN) && !logger.lines[0].includes(AES_KEY))
  })

  test('a return value that is neither "success" nor a reply object: "success", and it is logged', async (t) => {
    const logger = recordingLogger()
    const server = await startPushServer(t, () => 42, { logger })
    const record = await pusherFor(t, server).push({ from: 'oU', content: 'x' })
    assert.equal(record.reply, 'success')
    assert.equal(logger.lines.length, 1)
  })
})

describe('serve', () => {
  test('serves only its path; other paths get 404 and run nothing', async (t) => {
    const main = recordingMain()
    const server = await startPushServer(t, main.main, { path: '/wechat/push' })
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/wechat\/push$/)
    const elsewhere = await request('POST', `${server.url.replace('/wechat/push', '/other')}?${signedQuery()}`, textXml())
    assert.equal(elsewhere.status, 404)
    const record = await pusherFor(t, server).push({ from: 'oPath', content: 'x' })
    assert.equal(record.ok, true)
    assert.deepEqual(main.calls.map((call) => call.event.FromUserName), ['oPath'])
  })

  test('bad options are refused at start-up, naming the option', () => {
    const main = () => 'success'
    assert.throws(() => createPushHandler({}, main), /token/)
    assert.throws(() => createPushHandler({ token: TOKEN, encodingAESKey: AES_KEY }, main), /appid/)
    assert.throws(() => createPushHandler({ token: TOKEN, mode: 'safe' }, main), /encodingAESKey/)
    assert.throws(() => createPushHandler({ token: TOKEN, mode: 'secret' }, main), /mode/)
    assert.throws(() => createPushHandler({ token: TOKEN, store: {} }, main), /store/)
    assert.throws(() => createPushHandler({ token: TOKEN }, 'main'), /main/)
  })
})

// ---------------------------------------------------------------------------------------------
// Frameworks
// ---------------------------------------------------------------------------------------------

describe('mounted behind a body parser', () => {
  // What Express's body-parser does: reads the stream, sets req.body and req._body.
  async function startParsingServer(t, handler, parse) {
    const server = http.createServer((req, res) => {
      const chunks = []
      req.on('data', (chunk) => chunks.push(chunk))
      req.on('end', () => {
        req.body = parse(Buffer.concat(chunks).toString('utf8'))
        req._body = true
        handler(req, res)
      })
    })
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
    t.after(() => new Promise((resolve) => server.close(resolve)))
    return `http://127.0.0.1:${server.address().port}/`
  }

  test('a text body (express.text) and a parsed JSON body (express.json) both work', async (t) => {
    const main = recordingMain()
    const handler = createPushHandler({ token: TOKEN, encodingAESKey: AES_KEY, appid: APPID }, main.main)
    const textUrl = await startParsingServer(t, handler, (text) => text)
    const jsonUrl = await startParsingServer(t, handler, (text) => JSON.parse(text))
    const xmlRecord = await createPusher({ url: textUrl, token: TOKEN, encodingAESKey: AES_KEY, appid: APPID }).push({ from: 'oText', content: 'a' })
    const jsonRecord = await createPusher({ url: jsonUrl, token: TOKEN, encodingAESKey: AES_KEY, appid: APPID, format: 'json' }).push({ from: 'oJson', content: 'b' })
    assert.equal(xmlRecord.ok, true)
    assert.equal(jsonRecord.ok, true)
    assert.deepEqual(main.calls.map((call) => call.wxContext.OPENID), ['oText', 'oJson'])
  })
})

// ---------------------------------------------------------------------------------------------
// End to end
// ---------------------------------------------------------------------------------------------

describe('end to end: the unchanged sample function, safe mode, over HTTP', () => {
  test('the emulator pushes a user\'s message; the function answers it with send; the emulator records the answer', async (t) => {
    const { startEmulator } = require('../emulator')
    const appid = 'wxe2e0000000000001'
    // Loaded at the first message: the function's init reads WX_APPID, WX_APPSECRET and
    // WX_API_BASE_URL, known once the emulator runs (as WeChat's cloud sets them before it runs).
    const server = await startPushServer(t, (event, context) => require('../examples/cloud-function.js').main(event, context), { appid })
    const wechat = await startEmulator({ appid, push: { url: server.url, token: TOKEN, encodingAESKey: AES_KEY, mode: 'safe' } })
    t.after(() => wechat.close())
    const saved = { WX_APPID: process.env.WX_APPID, WX_APPSECRET: process.env.WX_APPSECRET, WX_API_BASE_URL: process.env.WX_API_BASE_URL }
    Object.assign(process.env, { WX_APPID: wechat.appid, WX_APPSECRET: wechat.secret, WX_API_BASE_URL: wechat.url })
    t.after(() => {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name]
        else process.env[name] = value
      }
    })

    assert.equal((await wechat.verifyPush()).ok, true)
    const record = await wechat.push({ from: 'oCustomer', content: '你好' })

    assert.equal(record.ok, true, record.replyError)
    assert.equal(record.reply, 'success')
    assert.equal(record.attempts.length, 1)
    assert.deepEqual(wechat.pushes, [record])
    assert.deepEqual(wechat.messages, [{ touser: 'oCustomer', msgtype: 'text', text: { content: '收到' } }])
  })
})
