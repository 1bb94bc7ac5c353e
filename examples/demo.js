#!/usr/bin/env node
'use strict'
// `npm start`. With WX_APPID, WX_APPSECRET and WX_TOUSER set, sends one real text message.
// Otherwise starts the built-in WeChat emulator and sends every message type through the addon,
// then one call each of subscribeMessage, security and wxacode, showing what WeChat received and
// what each call returned.

const cloud = require('..')
const { startEmulator } = require('../emulator')
const { gradientPng } = require('./png')

function show(title, received, returned) {
  console.log(`\n▶ ${title}`)
  if (received !== undefined) console.log(`  WeChat received: ${received}`)
  console.log(`  call returned:   ${JSON.stringify(returned)}`)
}

async function real({ WX_TOUSER: touser }) {
  cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV }) // appid and secret come from WX_APPID / WX_APPSECRET
  const result = await cloud.openapi.customerServiceMessage.send({
    touser,
    msgtype: 'text',
    text: { content: `Hello from wx-openapi-native ${cloud.version}` },
  })
  show(`send text to ${touser} (real WeChat)`, undefined, result)
}

async function emulated() {
  const emu = await startEmulator()
  console.log(`WeChat emulator at ${emu.url} (appid ${emu.appid}); set WX_APPID, WX_APPSECRET and WX_TOUSER to use real WeChat.`)
  try {
    cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV, appid: emu.appid, secret: emu.secret, apiBaseUrl: emu.url })
    const csm = cloud.openapi.customerServiceMessage
    const lastRequest = () => {
      const r = emu.requests.at(-1)
      const query = Object.entries(r.query).map(([k, v]) => `${k}=${v}`).join('&')
      const body = r.rawBody.length > 160 ? r.rawBody.slice(0, 160) + '…' : r.rawBody
      return `${r.method} ${r.path}?${query} ${body}`.trim()
    }
    const touser = 'oDEMO_OPENID'

    const typing = await csm.setTyping({ touser, command: 'Typing' })
    show('setTyping', lastRequest(), typing)

    const png = gradientPng()
    const uploaded = await csm.uploadTempMedia({ type: 'image', media: { contentType: 'image/png', value: png } })
    show(`uploadTempMedia (a generated ${png.length}-byte PNG)`, lastRequest(), uploaded)

    const messages = [
      { msgtype: 'text', text: { content: 'Hello World 你好' } },
      { msgtype: 'image', image: { mediaId: uploaded.mediaId } },
      {
        msgtype: 'link',
        link: { title: 'Happy Day', description: 'Is Really A Happy Day', url: 'https://example.com', thumbUrl: 'https://example.com/t.png' },
      },
      { msgtype: 'miniprogrampage', miniprogrampage: { title: 'title', pagepath: 'pages/index/index', thumbMediaId: uploaded.mediaId } },
    ]
    for (const message of messages) {
      const result = await csm.send({ touser, ...message })
      show(`send ${message.msgtype}`, JSON.stringify(emu.messages.at(-1)), result)
    }

    const media = await csm.getTempMedia({ mediaId: uploaded.mediaId })
    show('getTempMedia', lastRequest(), { ...media, buffer: `<${media.buffer.length} bytes, same as uploaded: ${media.buffer.equals(png)}>` })

    // Three more namespaces of cloud.openapi, each one row of the call table (API.md).
    emu.userSubscribed(touser, 'TEMPLATE_ORDER_SHIPPED') // the user tapped "allow" in wx.requestSubscribeMessage
    const subscribed = await cloud.openapi.subscribeMessage.send({
      touser,
      templateId: 'TEMPLATE_ORDER_SHIPPED',
      page: 'pages/index/index',
      data: { thing1: { value: '你的订单已发货' }, characterString2: { value: 'SF1234567890' } },
    })
    show('subscribeMessage.send', JSON.stringify(emu.subscribeMessages.at(-1)), subscribed)

    const checked = await cloud.openapi.security.msgSecCheck({ content: 'Hello World 你好', version: 2, scene: 2, openid: touser })
    show('security.msgSecCheck (version 2)', lastRequest(), { result: checked.result, errMsg: checked.errMsg, errCode: checked.errCode })

    const code = await cloud.openapi.wxacode.getUnlimited({ scene: 'id=42', page: 'pages/index/index', width: 280 })
    show('wxacode.getUnlimited', lastRequest(), { ...code, buffer: `<${code.buffer.length}-byte ${code.contentType}>` })

    try {
      await csm.send({ touser, msgtype: 'text', text: {} })
    } catch (error) {
      show('send with text.content missing (rejected before anything is sent)', undefined, { errCode: error.errCode, errMsg: error.errMsg })
    }
  } finally {
    await emu.close()
  }
}

// The message-push loop (README, "Receive messages"): the emulator pushes a user's message, in safe
// mode, to the unchanged cloud function of examples/cloud-function.js served by
// wx-openapi-native/push, and the function answers it with customerServiceMessage.send.
async function pushLoop() {
  const crypto = require('node:crypto')
  const { serve } = require('../push')
  const token = crypto.randomBytes(16).toString('hex')
  const encodingAESKey = crypto.randomBytes(32).toString('base64').slice(0, 43)
  const appid = `wx${crypto.randomBytes(8).toString('hex')}`
  // The function is loaded at the first message: its init reads the credentials set below.
  const server = await serve({ token, encodingAESKey, appid }, (event, context) => require('./cloud-function').main(event, context))
  const emu = await startEmulator({ appid, push: { url: server.url, token, encodingAESKey, mode: 'safe' } })
  try {
    // What WeChat's cloud would give the function; here the emulator's app.
    Object.assign(process.env, { WX_APPID: emu.appid, WX_APPSECRET: emu.secret, WX_API_BASE_URL: emu.url })
    const record = await emu.push({ from: 'oDEMO_OPENID', content: '你好' })
    show(`message push: the user says "你好" (safe mode, to ${server.url}); the function replies with send`, JSON.stringify(emu.messages.at(-1)), {
      status: record.status,
      reply: record.reply,
    })
  } finally {
    await emu.close()
    await server.close()
  }
}

const env = process.env
const useRealWeChat = env.WX_APPID && env.WX_APPSECRET && env.WX_TOUSER
;(useRealWeChat ? real(env) : emulated().then(pushLoop)).catch((error) => {
  console.error(`demo failed: ${error.message}`)
  process.exitCode = 1
})
