'use strict'
// A minimal WeChat stand-in in its own process, so that the client's memory is measured alone.
// Answers stable_token and send; tracks the peak of open sockets. Talks to its parent over IPC:
// sends { port } when listening, answers 'stats' with { requests, maxInFlight, sockets, maxSockets }.
const http = require('node:http')

let requests = 0
let inFlight = 0
let maxInFlight = 0
let sockets = 0
let maxSockets = 0
const TOKEN = JSON.stringify({ access_token: 'wxemuAT_stress-token-0123456789', expires_in: 7200 })
const OK = JSON.stringify({ errcode: 0, errmsg: 'ok' })

const server = http.createServer((req, res) => {
  inFlight++
  maxInFlight = Math.max(maxInFlight, inFlight)
  res.on('finish', () => inFlight--)
  req.resume()
  req.on('end', () => {
    requests++
    // A millisecond of "work", so that concurrent requests really overlap at the server.
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(req.url.startsWith('/cgi-bin/stable_token') ? TOKEN : OK)
    }, 1)
  })
})
server.keepAliveTimeout = 60_000
server.on('connection', (socket) => {
  sockets++
  maxSockets = Math.max(maxSockets, sockets)
  socket.on('close', () => sockets--)
})
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }))
process.on('message', (m) => {
  if (m === 'stats') process.send({ requests, maxInFlight, sockets, maxSockets })
  if (m === 'stop') server.close(() => process.exit(0)) && server.closeAllConnections()
})
process.on('disconnect', () => process.exit(0))
