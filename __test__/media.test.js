'use strict'
// setTyping, uploadTempMedia and getTempMedia: the same machinery as send, one table row each.

const { test, describe, before, after } = require('node:test')
const assert = require('node:assert/strict')

const native = require('..')
const { startEmulator } = require('../emulator')
const { gradientPng } = require('../examples/png')
const { rejection, startServer, json } = require('./helpers')

const count = (emu, path) => emu.requests.filter((r) => r.path === path).length

describe('against the emulator', () => {
  let emu
  let csm
  before(async () => {
    emu = await startEmulator()
    csm = native.createNewInstance({ appid: emu.appid, secret: emu.secret, apiBaseUrl: emu.url }).openapi.customerServiceMessage
  })
  after(() => emu.close())

  test('round trip: upload a PNG, send it as an image and as a card thumbnail, get the same bytes back', async () => {
    const png = gradientPng(32, 16)
    const uploaded = await csm.uploadTempMedia({ type: 'image', media: { contentType: 'image/png', value: png } })
    assert.deepEqual(Object.keys(uploaded), ['type', 'mediaId', 'createdAt', 'errMsg', 'errCode'])
    assert.equal(uploaded.type, 'image')
    assert.equal(typeof uploaded.mediaId, 'string')
    assert.equal(typeof uploaded.createdAt, 'number')
    assert.equal(uploaded.errMsg, 'openapi.customerServiceMessage.uploadTempMedia:ok')
    assert.equal(uploaded.errCode, 0)

    await csm.send({ touser: 'u1', msgtype: 'image', image: { mediaId: uploaded.mediaId } })
    await csm.send({
      touser: 'u1',
      msgtype: 'miniprogrampage',
      miniprogrampage: { title: 't', pagepath: 'pages/index/index', thumbMediaId: uploaded.mediaId },
    })
    assert.equal(emu.messages.at(-2).image.media_id, uploaded.mediaId)
    assert.equal(emu.messages.at(-1).miniprogrampage.thumb_media_id, uploaded.mediaId)

    const got = await csm.getTempMedia({ mediaId: uploaded.mediaId })
    assert.ok(Buffer.isBuffer(got.buffer))
    assert.ok(got.buffer.equals(png))
    assert.equal(got.contentType, 'image/png')
    assert.equal(got.errMsg, 'openapi.customerServiceMessage.getTempMedia:ok')
    assert.equal(got.errCode, 0)
    const get = emu.requests.at(-1)
    assert.equal(get.method, 'GET')
    assert.equal(get.query.media_id, uploaded.mediaId)
  })

  test('a Uint8Array uploads too', async () => {
    const bytes = new Uint8Array(gradientPng(4, 4))
    const { mediaId } = await csm.uploadTempMedia({ type: 'image', media: { contentType: 'image/png', value: bytes } })
    const got = await csm.getTempMedia({ mediaId })
    assert.deepEqual(new Uint8Array(got.buffer), bytes)
  })

  test('convertCase: false leaves the reply keys as WeChat sent them', async () => {
    const raw = native
      .createNewInstance({ appid: emu.appid, secret: emu.secret, apiBaseUrl: emu.url })
      .openapi({ convertCase: false }).customerServiceMessage
    const uploaded = await raw.uploadTempMedia({ type: 'image', media: { contentType: 'image/png', value: gradientPng(2, 2) } })
    assert.equal(typeof uploaded.media_id, 'string')
    assert.equal(typeof uploaded.created_at, 'number')
  })

  test('getTempMedia of an unknown media id rejects with WeChat 40007', async () => {
    const error = await rejection(csm.getTempMedia({ mediaId: 'no-such-media' }), { call: 'getTempMedia', errCode: 40007 })
    assert.match(error.errMsg, /invalid media_id/)
  })

  test('setTyping: Typing then CancelTyping', async () => {
    assert.deepEqual(await csm.setTyping({ touser: 'typer', command: 'Typing' }), {
      errMsg: 'openapi.customerServiceMessage.setTyping:ok',
      errCode: 0,
    })
    await csm.setTyping({ touser: 'typer', command: 'CancelTyping' })
    assert.deepEqual(
      emu.requests.filter((r) => r.path === '/cgi-bin/message/custom/typing').map((r) => r.body),
      [{ touser: 'typer', command: 'Typing' }, { touser: 'typer', command: 'CancelTyping' }],
    )
  })

  test("setTyping: WeChat's 45081 (already typing) comes back as the rejection", async () => {
    await csm.setTyping({ touser: 'twice', command: 'Typing' })
    await rejection(csm.setTyping({ touser: 'twice', command: 'Typing' }), { call: 'setTyping', errCode: 45081 })
  })

  test('setTyping is not retried once it may have reached WeChat', async () => {
    emu.inject({ path: '/cgi-bin/message/custom/typing', reset: true })
    const before = count(emu, '/cgi-bin/message/custom/typing')
    await rejection(csm.setTyping({ touser: 'reset', command: 'Typing' }), { call: 'setTyping', errCode: -601003 })
    assert.equal(count(emu, '/cgi-bin/message/custom/typing') - before, 1)
  })
})

describe('validation: -401001, nothing sent', () => {
  let emu
  let csm
  before(async () => {
    emu = await startEmulator()
    csm = native.createNewInstance({ accessToken: 'wxemuAT_fixed-token-for-validation', apiBaseUrl: emu.url }).openapi.customerServiceMessage
  })
  after(() => {
    assert.equal(emu.requests.length, 0, 'nothing reached the network')
    return emu.close()
  })

  const png = gradientPng(2, 2)
  const CASES = [
    ['setTyping', { command: 'Typing' }, 'touser is required'],
    ['setTyping', { touser: 'o', command: 'typing' }, 'command must be "Typing" or "CancelTyping", got "typing"'],
    ['setTyping', { touser: 'o' }, 'command is required'],
    ['getTempMedia', {}, 'mediaId is required'],
    ['getTempMedia', { mediaId: 7 }, 'mediaId must be a string, got a number'],
    ['uploadTempMedia', { media: { contentType: 'image/png', value: png } }, 'type is required'],
    ['uploadTempMedia', { type: 'voice', media: { contentType: 'image/png', value: png } }, 'type must be "image", got "voice"'],
    ['uploadTempMedia', { type: 'image' }, 'media is required'],
    ['uploadTempMedia', { type: 'image', media: { value: png } }, 'media.contentType is required'],
    ['uploadTempMedia', { type: 'image', media: { contentType: 'text/plain', value: png } }, 'media.contentType must be an image type'],
    [
      'uploadTempMedia',
      { type: 'image', media: { contentType: 'image/png\r\nX-Injected: 1', value: png } },
      'media.contentType "image/png\\r\\nX-Injected: 1" is not a MIME type',
    ],
    ['uploadTempMedia', { type: 'image', media: { contentType: 'image/png' } }, 'media.value is required'],
    ['uploadTempMedia', { type: 'image', media: { contentType: 'image/png', value: 'not bytes' } }, 'media.value is required'],
    ['uploadTempMedia', { type: 'image', media: { contentType: 'image/png', value: new Float32Array(4) } }, 'media.value must be a Buffer or Uint8Array'],
    ['uploadTempMedia', { type: 'image', media: { contentType: 'image/png', value: Buffer.alloc(0) } }, 'media.value is empty'],
    [
      'uploadTempMedia',
      { type: 'image', media: { contentType: 'image/png', value: Buffer.alloc(10 * 1024 * 1024 + 1) } },
      'media.value is 10485761 bytes; at most 10485760 (10 MB) can be uploaded',
    ],
    ['uploadTempMedia', { type: 'image', media: { contentType: 'image/png', value: png, fileName: '' } }, 'media.fileName must be a non-empty string'],
  ]
  for (const [call, params, detail] of CASES) {
    test(`${call}: ${detail}`, async () => {
      const error = await rejection(csm[call](params), { call, errCode: -401001 })
      assert.ok(error.errMsg.startsWith(`openapi.customerServiceMessage.${call}:fail ${detail}`), error.errMsg)
    })
  }
})

describe('the upload on the wire', () => {
  test('multipart field "media", the file name defaulting from the content type, type in the query', async (t) => {
    const server = await startServer((req, res) => json(res, 200, { type: 'image', media_id: 'MID', created_at: 1700000000 }))
    t.after(() => server.close())
    const csm = native.createNewInstance({ accessToken: 'wxemuAT_wire-token-123456', apiBaseUrl: server.url }).openapi.customerServiceMessage
    for (const [contentType, fileName, expected] of [
      ['image/png', undefined, 'media.png'],
      ['image/jpeg', undefined, 'media.jpg'],
      ['image/gif', 'photo.gif', 'photo.gif'],
    ]) {
      const result = await csm.uploadTempMedia({ type: 'image', media: { contentType, value: Buffer.from('bytes'), fileName } })
      assert.deepEqual(result, {
        type: 'image',
        mediaId: 'MID',
        createdAt: 1700000000,
        errMsg: 'openapi.customerServiceMessage.uploadTempMedia:ok',
        errCode: 0,
      })
      const request = server.requests.at(-1)
      assert.equal(request.url, '/cgi-bin/media/upload?access_token=wxemuAT_wire-token-123456&type=image')
      assert.match(request.headers['content-type'], /^multipart\/form-data; boundary=/)
      assert.match(request.body, new RegExp(`Content-Disposition: form-data; name="media"; filename="${expected}"`))
      assert.match(request.body, new RegExp(`Content-Type: ${contentType}`))
    }
  })
})
