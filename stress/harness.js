'use strict'
const { fork } = require('node:child_process')
const path = require('node:path')

/** Starts stress/server.js; resolves { url, stats(), stop() }. */
async function startStandIn() {
  const child = fork(path.join(__dirname, 'server.js'), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const { port } = await new Promise((resolve) => child.once('message', resolve))
  return {
    url: `http://127.0.0.1:${port}`,
    stats: () =>
      new Promise((resolve) => {
        child.once('message', resolve)
        child.send('stats')
      }),
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', resolve)
        child.send('stop')
      }),
  }
}

const mb = (bytes) => Math.round((bytes / 1024 / 1024) * 10) / 10

module.exports = { startStandIn, mb }
