#!/usr/bin/env node
'use strict'
// Serves the unchanged cloud function of examples/cloud-function.js as a message-push endpoint:
//   WX_PUSH_TOKEN=… WX_PUSH_AES_KEY=… WX_APPID=… WX_APPSECRET=… PORT=8080 node examples/push-server.js
// then set http(s)://your-host/wechat/push as the URL on the mini-program's message-push page
// (behind your HTTPS proxy), with the same Token and EncodingAESKey, "safe mode". Without
// WX_PUSH_AES_KEY it serves plain mode. It logs nothing of the token or key.

const { serve } = require('../push') // in your project: require('wx-openapi-native/push')
const { main } = require('./cloud-function')

async function start(env) {
  if (!env.WX_PUSH_TOKEN) throw new Error('set WX_PUSH_TOKEN (the Token of the message-push page)')
  const server = await serve(
    {
      token: env.WX_PUSH_TOKEN,
      encodingAESKey: env.WX_PUSH_AES_KEY || undefined,
      appid: env.WX_APPID || undefined,
      host: env.HOST || '0.0.0.0',
      port: Number(env.PORT || 8080),
      path: '/wechat/push',
    },
    main,
  )
  console.log(`message push served at ${server.url} (${env.WX_PUSH_AES_KEY ? 'safe' : 'plain'} mode)`)
  const stop = () => server.close().then(() => process.exit(0))
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

start(process.env).catch((error) => {
  console.error(`push server failed: ${error.message}`)
  process.exitCode = 1
})
