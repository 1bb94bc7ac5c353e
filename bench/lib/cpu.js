'use strict'
// CPU time from /proc, to tell how much of the machine a run had to itself: the whole machine's
// busy time, less the contender's own, nginx's and the bench parent's, is someone else's.
const fs = require('node:fs')

const TICK = 100 // USER_HZ: /proc counts in 1/100 s on Linux

// Busy CPU seconds of the whole machine, all cores summed (guest time is inside user).
function machineBusy() {
  const [, ...f] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/)
  const [user, nice, system, , , irq, softirq, steal] = f.map(Number)
  return (user + nice + system + irq + softirq + steal) / TICK
}

// user + sys CPU seconds of a process, all its threads (0 if it is gone).
function processCpu(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(f[11]) + Number(f[12])) / TICK
  } catch {
    return 0
  }
}

const selfCpu = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1e6
}

// How busy the machine is without us, in cores, over `ms`.
async function foreignLoad(ms, ownPids = []) {
  const b0 = machineBusy()
  const o0 = ownPids.reduce((a, p) => a + processCpu(p), 0) + selfCpu()
  await new Promise((r) => setTimeout(r, ms))
  const b1 = machineBusy()
  const o1 = ownPids.reduce((a, p) => a + processCpu(p), 0) + selfCpu()
  return Math.max(0, (b1 - b0 - (o1 - o0)) / (ms / 1000))
}

module.exports = { machineBusy, processCpu, selfCpu, foreignLoad }
