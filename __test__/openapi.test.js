'use strict'
// The most used cloud.openapi calls end to end against the emulator's WeChat rules: subscribe
// messages, content security, mini-program codes, URL schemes and links, phone numbers, OCR, SMS.
// Each rule is first shown at the emulator itself over plain HTTP (so a failure there is the
// emulator's), then through the addon, whose results and rejections must be wx-server-sdk's.

const { test, describe, before, after } = require('node:test')
const assert = require('node:assert/strict')

const native = require('..')
const { startEmulator } = require('../emulator')
const { codePng, PNG_SIGNATURE } = require('../emulator/png')

const USER = 'o-openapi-test'
const TEMPLATE = 'TEMPLATE_order_shipped'
const RISKY = '特3456书yuuo莞6543李zxcz蒜7782法fgnv级'

/** Awaits a rejection and checks wx-server-sdk's error shape for `name` and the code. */
async function rejects(promise, name, errCode) {
  const error = await promise.then(
    (value) => assert.fail(`expected ${name} to reject, got ${JSON.stringify(value)}`),
    (e) => e,
  )
  assert.ok(error instanceof Error)
  assert.equal(error.errCode, errCode, error.errMsg)
  assert.ok(error.errMsg.startsWith(`openapi.${name}:fail `), error.errMsg)
  return error
}

/** The width and height in a PNG's IHDR chunk. */
function pngSize(buffer) {
  assert.ok(buffer.subarray(0, 8).equals(PNG_SIGNATURE), 'a PNG')
  return { width: buffer.readUInt32BE(16), height: buffer.readUInt32BE(20) }
}

/** Talks to the emulator directly: a token, then JSON posts, replies parsed. */
function direct(emu) {
  let token
  return async (pathname, body) => {
    token ??= (
      await (
        await fetch(`${emu.url}/cgi-bin/stable_token`, {
          method: 'POST',
          body: JSON.stringify({ grant_type: 'client_credential', appid: emu.appid, secret: emu.secret }),
        })
      ).json()
    ).access_token
    const reply = await fetch(`${emu.url}${pathname}?access_token=${token}`, { method: 'POST', body: JSON.stringify(body) })
    const type = reply.headers.get('content-type')
    return type.startsWith('application/json') ? reply.json() : { contentType: type, bytes: Buffer.from(await reply.arrayBuffer()) }
  }
}

let emu
let cloud
let post
before(async () => {
  emu = await startEmulator({ pages: ['pages/index/index', 'pages/order/detail'] })
  cloud = native.createNewInstance({ appid: emu.appid, secret: emu.secret, apiBaseUrl: emu.url })
  post = direct(emu)
})
after(() => emu.close())

describe('subscribeMessage.send', () => {
  const message = (overrides = {}) => ({
    touser: USER,
    templateId: TEMPLATE,
    page: 'pages/order/detail?id=42',
    miniprogramState: 'formal',
    lang: 'zh_CN',
    data: { thing1: { value: '已发货' }, characterString2: { value: 'SF1234567890' }, time3: { value: '2025-01-01 12:00' } },
    ...overrides,
  })

  test('the emulator: 43101 until the user accepts, one message per acceptance, 47003 on bad data, 40037 without template', async () => {
    const wire = { touser: 'o-direct', template_id: TEMPLATE, data: { thing1: { value: 'ok' } } }
    assert.equal((await post('/cgi-bin/message/subscribe/send', wire)).errcode, 43101)
    emu.userSubscribed('o-direct', TEMPLATE)
    assert.equal((await post('/cgi-bin/message/subscribe/send', { ...wire, data: { thing1: { value: 'x'.repeat(21) } } })).errcode, 47003)
    assert.equal((await post('/cgi-bin/message/subscribe/send', { ...wire, data: { bogus: { value: 'x' } } })).errcode, 47003)
    assert.equal((await post('/cgi-bin/message/subscribe/send', { ...wire, template_id: undefined })).errcode, 40037)
    assert.equal((await post('/cgi-bin/message/subscribe/send', { ...wire, touser: '' })).errcode, 40003)
    assert.equal((await post('/cgi-bin/message/subscribe/send', { ...wire, page: 'pages/missing' })).errcode, 41030)
    // The failed attempts used up nothing: the one acceptance still sends one message.
    assert.deepEqual(await post('/cgi-bin/message/subscribe/send', wire), { errcode: 0, errmsg: 'ok' })
    assert.equal((await post('/cgi-bin/message/subscribe/send', wire)).errcode, 43101)
  })

  test('sends what WeChat documents, snake_case, and resolves wx-server-sdk result', async () => {
    emu.userSubscribed(USER, TEMPLATE)
    const result = await cloud.openapi.subscribeMessage.send(message())
    assert.deepEqual(result, { errMsg: 'openapi.subscribeMessage.send:ok', errCode: 0 })
    assert.deepEqual(emu.subscribeMessages.at(-1), {
      touser: USER,
      template_id: TEMPLATE,
      page: 'pages/order/detail?id=42',
      miniprogram_state: 'formal',
      lang: 'zh_CN',
      data: { thing1: { value: '已发货' }, character_string2: { value: 'SF1234567890' }, time3: { value: '2025-01-01 12:00' } },
    })
  })

  test('rejects 43101 when the user has not accepted (again), 47003 on a value too long for its keyword', async () => {
    await rejects(cloud.openapi.subscribeMessage.send(message()), 'subscribeMessage.send', 43101)
    emu.userSubscribed(USER, TEMPLATE)
    const before = emu.subscribeMessages.length
    await rejects(cloud.openapi.subscribeMessage.send(message({ data: { thing1: { value: '一二三四五六七八九十一二三四五六七八九十一' } } })), 'subscribeMessage.send', 47003)
    assert.equal(emu.subscribeMessages.length, before)
  })
})

describe('security', () => {
  test('the emulator: msgSecCheck v1 answers 87014 on risky text, v2 needs scene and openid', async () => {
    assert.deepEqual(await post('/wxa/msg_sec_check', { content: 'hello' }), { errcode: 0, errmsg: 'ok' })
    assert.equal((await post('/wxa/msg_sec_check', { content: `x${RISKY}` })).errcode, 87014)
    assert.equal((await post('/wxa/msg_sec_check', { content: 'hello', version: 2, scene: 9, openid: USER })).errcode, 40097)
    assert.equal((await post('/wxa/msg_sec_check', { content: 'hello', version: 2, scene: 1 })).errcode, 40003)
  })

  test('msgSecCheck v2: pass for clean text, with the reply converted to camelCase', async () => {
    const result = await cloud.openapi.security.msgSecCheck({ content: '今天天气不错', version: 2, scene: 2, openid: USER })
    assert.deepEqual(result.result, { suggest: 'pass', label: 100 })
    assert.equal(typeof result.traceId, 'string')
    assert.equal(result.detail[0].strategy, 'content_model')
    assert.equal(result.errMsg, 'openapi.security.msgSecCheck:ok')
    assert.equal(result.errCode, 0)
    assert.equal('errcode' in result || 'trace_id' in result, false)
  })

  test('msgSecCheck v2: risky for a risky word (also an injected one, with its label) in any checked field', async () => {
    const risky = await cloud.openapi.security.msgSecCheck({ content: `买${RISKY}`, version: 2, scene: 2, openid: USER })
    assert.deepEqual(risky.result, { suggest: 'risky', label: 20006 })
    emu.addRiskyWord('forbidden-word', 20002)
    const injected = await cloud.openapi.security.msgSecCheck({ content: 'fine', nickname: 'a forbidden-word b', version: 2, scene: 1, openid: USER })
    assert.deepEqual(injected.result, { suggest: 'risky', label: 20002 })
    assert.equal(injected.detail.find((d) => d.strategy === 'keyword').keyword, 'forbidden-word')
  })

  test('msgSecCheck v1 rejects risky text with 87014', async () => {
    await rejects(cloud.openapi.security.msgSecCheck({ content: RISKY }), 'security.msgSecCheck', 87014)
  })

  test('mediaCheckAsync answers a traceId; a bad mediaType is WeChat 40097', async () => {
    const result = await cloud.openapi.security.mediaCheckAsync({ mediaUrl: 'https://example.com/a.png', mediaType: 2, version: 2, scene: 1, openid: USER })
    assert.equal(typeof result.traceId, 'string')
    await rejects(cloud.openapi.security.mediaCheckAsync({ mediaUrl: 'https://example.com/a.png', mediaType: 3 }), 'security.mediaCheckAsync', 40097)
  })

  test('imgSecCheck uploads the image as the multipart field media', async () => {
    const png = codePng(64, 'imgSecCheck')
    const result = await cloud.openapi.security.imgSecCheck({ media: { contentType: 'image/png', value: png } })
    assert.deepEqual(result, { errMsg: 'openapi.security.imgSecCheck:ok', errCode: 0 })
    const [part] = emu.requests.filter((r) => r.path === '/wxa/img_sec_check').at(-1).parts
    assert.equal(part.name, 'media')
    assert.ok(part.data.equals(png))
  })
})

describe('wxacode', () => {
  test('the emulator: 40169 on a bad scene, 41030 on an unknown page or a leading slash, unless check_path is false', async () => {
    assert.equal((await post('/wxa/getwxacodeunlimit', { scene: '' })).errcode, 40169)
    assert.equal((await post('/wxa/getwxacodeunlimit', { scene: 'x'.repeat(33) })).errcode, 40169)
    assert.equal((await post('/wxa/getwxacodeunlimit', { scene: 'a=1', page: 'pages/nope' })).errcode, 41030)
    assert.equal((await post('/wxa/getwxacodeunlimit', { scene: 'a=1', page: '/pages/index/index' })).errcode, 41030)
    const unchecked = await post('/wxa/getwxacodeunlimit', { scene: 'a=1', page: 'pages/new', check_path: false })
    assert.equal(unchecked.contentType, 'image/png')
  })

  test('getUnlimited resolves a real PNG of the requested width, different per scene', async () => {
    const first = await cloud.openapi.wxacode.getUnlimited({ scene: 'id=1', page: 'pages/index/index', width: 300 })
    const second = await cloud.openapi.wxacode.getUnlimited({ scene: 'id=2', page: 'pages/index/index', width: 300 })
    assert.equal(first.contentType, 'image/png')
    assert.equal(first.errMsg, 'openapi.wxacode.getUnlimited:ok')
    assert.equal(first.errCode, 0)
    assert.deepEqual(pngSize(first.buffer), { width: 300, height: 300 })
    assert.ok(!first.buffer.equals(second.buffer))
  })

  test('getUnlimited rejects 41030 for a page that is not published', async () => {
    await rejects(cloud.openapi.wxacode.getUnlimited({ scene: 'id=1', page: 'pages/unknown' }), 'wxacode.getUnlimited', 41030)
  })

  test('get and createQRCode resolve PNGs; an over-long path is 40159', async () => {
    const code = await cloud.openapi.wxacode.get({ path: 'pages/order/detail?id=42' })
    assert.deepEqual(pngSize(code.buffer), { width: 430, height: 430 })
    const qr = await cloud.openapi.wxacode.createQRCode({ path: 'pages/order/detail?id=42', width: 280 })
    assert.deepEqual(pngSize(qr.buffer), { width: 280, height: 280 })
    await rejects(cloud.openapi.wxacode.createQRCode({ path: 'p'.repeat(129) }), 'wxacode.createQRCode', 40159)
  })
})

describe('urlscheme and urllink', () => {
  test('the emulator: 40165 for an unknown page, 40212 for a bad query, 40097 beyond 30 days', async () => {
    assert.equal((await post('/wxa/generatescheme', { jump_wxa: { path: 'pages/nope' } })).errcode, 40165)
    assert.equal((await post('/wxa/generatescheme', { jump_wxa: { path: 'pages/index/index', query: 'a=<b>' } })).errcode, 40212)
    assert.equal((await post('/wxa/generatescheme', { expire_type: 1, expire_interval: 31 })).errcode, 40097)
    assert.match((await post('/wxa/generatescheme', {})).openlink, /^weixin:\/\/dl\/business\/\?t=/)
  })

  test('generate gives an openlink that query reads back', async () => {
    const { openlink, errMsg } = await cloud.openapi.urlscheme.generate({
      jumpWxa: { path: 'pages/order/detail', query: 'id=42', envVersion: 'release' },
      isExpire: true,
      expireType: 1,
      expireInterval: 7,
    })
    assert.match(openlink, /^weixin:\/\/dl\/business\/\?t=[\w-]+$/)
    assert.equal(errMsg, 'openapi.urlscheme.generate:ok')
    const { schemeInfo } = await cloud.openapi.urlscheme.query({ scheme: openlink })
    assert.equal(schemeInfo.path, 'pages/order/detail')
    assert.equal(schemeInfo.query, 'id=42')
    assert.equal(schemeInfo.appid, emu.appid)
    assert.equal(schemeInfo.expireTime - schemeInfo.createTime, 7 * 24 * 3600)
  })

  test('generate rejects 40165 for a page that does not exist', async () => {
    await rejects(cloud.openapi.urlscheme.generate({ jumpWxa: { path: 'pages/gone' } }), 'urlscheme.generate', 40165)
  })

  test('urllink.generate gives a wxaurl.cn link', async () => {
    const { urlLink } = await cloud.openapi.urllink.generate({ path: 'pages/index/index', query: 'from=sms' })
    assert.match(urlLink, /^https:\/\/wxaurl\.cn\/[\w-]+$/)
    const { urlLinkInfo } = await cloud.openapi.urllink.query({ urlLink })
    assert.equal(urlLinkInfo.query, 'from=sms')
  })
})

describe('phonenumber.getPhoneNumber', () => {
  test('the emulator: a code works once, and only for 5 minutes', async () => {
    const code = emu.phoneCode('13912345678')
    assert.equal((await post('/wxa/business/getuserphonenumber', { code })).phone_info.purePhoneNumber, '13912345678')
    assert.equal((await post('/wxa/business/getuserphonenumber', { code })).errcode, 40029)
    const late = emu.phoneCode()
    emu.advanceTime(5 * 60 * 1000)
    assert.equal((await post('/wxa/business/getuserphonenumber', { code: late })).errcode, 40029)
  })

  test("a code gives phoneInfo (WeChat's keys are camelCase already), with the app's watermark", async () => {
    const code = emu.phoneCode('5551234567', '1')
    const { phoneInfo, errMsg } = await cloud.openapi.phonenumber.getPhoneNumber({ code })
    assert.equal(errMsg, 'openapi.phonenumber.getPhoneNumber:ok')
    assert.equal(phoneInfo.phoneNumber, '+15551234567')
    assert.equal(phoneInfo.purePhoneNumber, '5551234567')
    assert.equal(phoneInfo.countryCode, '1')
    assert.equal(phoneInfo.watermark.appid, emu.appid)
  })

  test('a bad code rejects with 40029', async () => {
    await rejects(cloud.openapi.phonenumber.getPhoneNumber({ code: 'not-a-code' }), 'phonenumber.getPhoneNumber', 40029)
  })
})

describe('calls the emulator accepts generically', () => {
  test('ocr.idcard by imgUrl, with type, in the query string', async () => {
    const result = await cloud.openapi.ocr.idcard({ type: 'photo', imgUrl: 'https://example.com/id.jpg' })
    assert.deepEqual(result, { errMsg: 'openapi.ocr.idcard:ok', errCode: 0 })
    const request = emu.requests.filter((r) => r.path === '/cv/ocr/idcard').at(-1)
    assert.equal(request.query.img_url, 'https://example.com/id.jpg')
    assert.equal(request.query.type, 'photo')
  })

  test('cloudbase.sendSms and uniformMessage.send send their bodies snake_case', async () => {
    await cloud.openapi.cloudbase.sendSms({ env: 'env-1', content: '验证码 1234', phoneNumberList: ['+8613800138000'] })
    assert.deepEqual(emu.requests.filter((r) => r.path === '/tcb/sendsms').at(-1).body, {
      env: 'env-1',
      content: '验证码 1234',
      phone_number_list: ['+8613800138000'],
    })
    await cloud.openapi.uniformMessage.send({ touser: USER, mpTemplateMsg: { appid: 'wxmp', templateId: 'T', url: 'https://example.com', data: {} } })
    assert.deepEqual(emu.requests.filter((r) => r.path === '/cgi-bin/message/wxopen/template/uniform_send').at(-1).body, {
      touser: USER,
      mp_template_msg: { appid: 'wxmp', template_id: 'T', url: 'https://example.com', data: {} },
    })
  })

  test('wxa.sec.order.uploadShippingInfo, four levels deep', async () => {
    const result = await cloud.openapi.wxa.sec.order.uploadShippingInfo({ orderKey: { orderNumberType: 2, transactionId: 't1' }, logisticsType: 1 })
    assert.deepEqual(result, { errMsg: 'openapi.wxa.sec.order.uploadShippingInfo:ok', errCode: 0 })
  })
})

describe("the emulator's API for these rules", () => {
  test('checks its options and arguments', async () => {
    await assert.rejects(startEmulator({ pages: 'pages/index/index' }), TypeError)
    await assert.rejects(startEmulator({ pages: [''] }), TypeError)
    await assert.rejects(startEmulator({ riskyWords: [1] }), TypeError)
    assert.throws(() => emu.userSubscribed('', TEMPLATE), TypeError)
    assert.throws(() => emu.userSubscribed(USER, TEMPLATE, 0), RangeError)
    assert.throws(() => emu.addRiskyWord(''), TypeError)
    assert.throws(() => emu.addPage('/pages/x'), TypeError)
    assert.throws(() => emu.phoneCode('12ab'), TypeError)
  })

  test('addPage publishes a page for codes and schemes', async () => {
    assert.equal((await post('/wxa/getwxacodeunlimit', { scene: 'a', page: 'pages/later/later' })).errcode, 41030)
    emu.addPage('pages/later/later')
    assert.equal((await post('/wxa/getwxacodeunlimit', { scene: 'a', page: 'pages/later/later' })).contentType, 'image/png')
    assert.match((await post('/wxa/generatescheme', { jump_wxa: { path: 'pages/later/later' } })).openlink, /^weixin:/)
  })

  test('every other route of the table checks method, token and file, then answers ok', async () => {
    assert.equal((await fetch(`${emu.url}/wxa/sec/order/get_order`, { method: 'POST', body: '{}' }).then((r) => r.json())).errcode, 41001)
    assert.equal((await fetch(`${emu.url}/wxa/sec/order/get_order?access_token=nope`, { method: 'POST', body: '{}' }).then((r) => r.json())).errcode, 40001)
    assert.equal((await post('/wxa/sec/order/get_order', '[1]')).errcode, 47001)
    assert.deepEqual(await post('/wxa/sec/order/get_order', { transaction_id: 't' }), { errcode: 0, errmsg: 'ok' })
    // A GET route asked with POST, and an OCR call with neither a file nor img_url.
    assert.equal((await post('/wxaapi/newtmpl/getcategory', {})).errcode, 43001)
    assert.equal((await post('/cv/ocr/bankcard', {})).errcode, 41005)
  })
})
