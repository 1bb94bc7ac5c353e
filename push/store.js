'use strict'
// The default store of the push handler: what it has seen (nonces, message ids), each for a
// limited time, in this process's memory. Several processes behind one URL need a shared store
// with the same one-method interface (README, "Receive messages", has a Redis one).

const DEFAULT_MAX_ENTRIES = 100_000

/**
 * @typedef {object} PushStore
 * @property {(key: string, value: string, ttlMs: number) => (string | undefined | Promise<string | undefined>)} putIfAbsent
 *   Stores `value` under `key` for `ttlMs` unless the key is already there; returns `undefined`
 *   (or null) when it stored, else the value stored earlier. Must be atomic across the processes sharing it
 *   (Redis: `SET key value NX PX ttl GET`).
 */

/**
 * A PushStore in memory. Entries expire after their ttl; when `maxEntries` are held the oldest is
 * dropped first, so a flood of messages costs bounded memory (WeChat's retries come within
 * seconds, long before such an entry would be the oldest).
 * @param {{ maxEntries?: number, now?: () => number }} [options]
 * @returns {PushStore & { size(): number }}
 */
function createMemoryStore({ maxEntries = DEFAULT_MAX_ENTRIES, now = Date.now } = {}) {
  /** @type {Map<string, { value: string, expiresAt: number }>} key → entry, oldest first */
  const entries = new Map()

  function dropExpired(at) {
    for (const [key, entry] of entries) {
      if (entry.expiresAt > at) break
      entries.delete(key)
    }
  }

  return {
    putIfAbsent(key, value, ttlMs) {
      const at = now()
      dropExpired(at)
      const existing = entries.get(key)
      if (existing !== undefined && existing.expiresAt > at) return existing.value
      entries.delete(key)
      while (entries.size >= maxEntries) entries.delete(entries.keys().next().value)
      entries.set(key, { value, expiresAt: at + ttlMs })
      return undefined
    },
    size: () => entries.size,
  }
}

module.exports = { createMemoryStore }
