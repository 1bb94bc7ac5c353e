#!/usr/bin/env node
'use strict'
// Usage: node scripts/check-apis.js [--surface <openapi-surface.json>]
//
// Checks the call table, crates/wx-openapi/apis.json, that the Rust engine, the emulator, the tests
// and API.md all read: one row per line, sorted by name, keys in the agreed order with valid values,
// every name and alias unique, and every name of the API surface (default: the copy of
// /work/shared/openapi-surface.json in __test__/fixtures) present exactly once as a name or alias,
// with the surface's method, path, params and reply unless the row's note says why it differs.
// Prints every problem and exits 1 if there is any. `require`d, it exports the checks for the tests.

const fs = require('fs')
const path = require('path')

const ROOT = path.join(__dirname, '..')
const TABLE_FILE = path.join(ROOT, 'crates', 'wx-openapi', 'apis.json')
const SURFACE_FILE = path.join(ROOT, '__test__', 'fixtures', 'openapi-surface.json')

/** The keys of a row, in the order every row must have them; the others are required. */
const KEYS = ['name', 'aliases', 'method', 'path', 'params', 'query', 'reply', 'retry', 'maxFileBytes', 'note']
const OPTIONAL = new Set(['aliases', 'query', 'maxFileBytes', 'note'])
const METHODS = new Set(['GET', 'POST'])
const PARAMS = new Set(['json', 'query', 'json+query', 'multipart', 'multipart+query', 'multipart|query'])
const REPLIES = new Set(['json', 'binary'])
const RETRIES = new Set(['read', 'write'])
// What wx-server-sdk sends as the API name: dotted identifiers, each starting lower-case.
const NAME = /^[a-z][A-Za-z0-9]*(\.[a-z][A-Za-z0-9]*)+$/
const WIRE_KEY = /^[a-z][a-z0-9_]*$/
// The surface's reply kinds, in the table's words.
const SURFACE_REPLY = { json: 'json', 'json-or-binary': 'binary' }

/** The table's text as rows, with a problem for every line that is not exactly one row. */
function parseTable(text) {
  const problems = []
  let rows
  try {
    rows = JSON.parse(text)
  } catch (error) {
    return { rows: [], problems: [`apis.json is not JSON: ${error.message}`] }
  }
  if (!Array.isArray(rows)) return { rows: [], problems: ['apis.json must be a JSON array'] }
  const lines = text.split('\n')
  // '[', one line per row (each but the last ending in ','), ']', and the final newline.
  const expected = ['[', ...rows.map((row, i) => JSON.stringify(row) + (i < rows.length - 1 ? ',' : '')), ']', '']
  if (lines.length !== expected.length) {
    problems.push(`apis.json must hold one row per line: ${rows.length} rows but ${lines.length - 3} row lines`)
  } else {
    lines.forEach((line, i) => {
      if (line !== expected[i]) problems.push(`line ${i + 1} is not one row in the canonical form: ${line.slice(0, 80)}`)
    })
  }
  return { rows, problems }
}

/** Problems of each row on its own: keys, their order, their values. */
function checkRow(row, index) {
  const problems = []
  const at = `row ${index + 1} (${row && row.name})`
  if (row === null || typeof row !== 'object' || Array.isArray(row)) return [`row ${index + 1} is not an object`]
  const keys = Object.keys(row)
  for (const key of keys) if (!KEYS.includes(key)) problems.push(`${at}: unknown key "${key}"`)
  for (const key of KEYS) if (!OPTIONAL.has(key) && !(key in row)) problems.push(`${at}: "${key}" is missing`)
  const ordered = KEYS.filter((key) => key in row)
  if (keys.filter((key) => KEYS.includes(key)).join() !== ordered.join()) problems.push(`${at}: keys must be in the order ${ordered.join(', ')}`)

  if (typeof row.name !== 'string' || !NAME.test(row.name)) problems.push(`${at}: name must be dotted identifiers`)
  if ('aliases' in row) {
    if (!Array.isArray(row.aliases) || row.aliases.length === 0) problems.push(`${at}: aliases must be a non-empty array (omit it when none)`)
    else for (const alias of row.aliases) if (typeof alias !== 'string' || !NAME.test(alias)) problems.push(`${at}: bad alias ${alias}`)
  }
  if (!METHODS.has(row.method)) problems.push(`${at}: method must be GET or POST`)
  if (typeof row.path !== 'string' || !/^\/[A-Za-z0-9_/-]+$/.test(row.path)) problems.push(`${at}: path must be a pathname without a query`)
  if (!PARAMS.has(row.params)) problems.push(`${at}: params must be one of ${[...PARAMS].join(', ')}`)
  // A GET has no body: its params can only go in the query string.
  if (row.method === 'GET' && row.params !== 'query') problems.push(`${at}: a GET row's params must be "query"`)
  if (row.method === 'POST' && row.params === 'query') problems.push(`${at}: a POST row with every param in the query is not a WeChat call`)
  if ('query' in row) {
    if (!Array.isArray(row.query) || row.query.length === 0) problems.push(`${at}: query must be a non-empty array (omit it when none)`)
    else for (const key of row.query) if (typeof key !== 'string' || !WIRE_KEY.test(key)) problems.push(`${at}: query names wire (snake_case) keys, got ${key}`)
  }
  if (row.params === 'json+query' && !('query' in row)) problems.push(`${at}: a json+query row must list its query params`)
  if (row.params === 'multipart|query' && !('query' in row)) problems.push(`${at}: a multipart|query row must name the URL param that replaces the file`)
  if (!REPLIES.has(row.reply)) problems.push(`${at}: reply must be json or binary`)
  if (!RETRIES.has(row.retry)) problems.push(`${at}: retry must be read or write`)
  if ('maxFileBytes' in row) {
    if (!String(row.params).startsWith('multipart')) problems.push(`${at}: maxFileBytes only belongs to multipart rows`)
    if (!Number.isSafeInteger(row.maxFileBytes) || row.maxFileBytes <= 0) problems.push(`${at}: maxFileBytes must be a positive integer`)
  }
  if ('note' in row && (typeof row.note !== 'string' || row.note.trim() === '')) problems.push(`${at}: note must be a non-empty string`)
  return problems
}

/** Problems of the table as a whole: order, uniqueness, and agreement with the surface. */
function checkTable(rows, surface) {
  const problems = rows.flatMap(checkRow)
  for (let i = 1; i < rows.length; i++) {
    if (!(rows[i - 1].name < rows[i].name)) problems.push(`rows must be sorted by name: ${rows[i - 1].name} before ${rows[i].name}`)
  }
  const rowByName = new Map()
  for (const row of rows) {
    for (const name of [row.name, ...(row.aliases || [])]) {
      if (rowByName.has(name)) problems.push(`${name} is in the table twice`)
      rowByName.set(name, row)
    }
  }
  if (surface === undefined) return problems

  const surfaceNames = new Set()
  for (const entry of surface) {
    for (const name of [entry.api, ...(entry.aliases || [])]) {
      surfaceNames.add(name)
      if (!rowByName.has(name)) problems.push(`${name} (surface) is not in the table`)
    }
    const row = rowByName.get(entry.api)
    if (row === undefined) continue
    // A row may differ from the surface only where its note gives the reason.
    const differs = (field, ours, theirs) => {
      if (ours !== theirs && !(row.note || '').length) problems.push(`${entry.api}: ${field} ${ours} differs from the surface's ${theirs} and the row has no note saying why`)
    }
    differs('method', row.method, entry.http)
    if (row.path !== entry.path && row.path !== entry.alt_path) differs('path', row.path, entry.path)
    differs('params', row.params, entry.body)
    differs('reply', row.reply, SURFACE_REPLY[entry.reply])
    const wantQuery = (entry.query_params || []).slice().sort().join()
    if (wantQuery !== '' && (row.query || []).slice().sort().join() !== wantQuery) differs('query', (row.query || []).join(), wantQuery)
  }
  for (const name of rowByName.keys()) if (!surfaceNames.has(name)) problems.push(`${name} is in the table but not in the surface`)
  return problems
}

function loadTable(file = TABLE_FILE) {
  return parseTable(fs.readFileSync(file, 'utf8'))
}

function main(argv) {
  const at = argv.indexOf('--surface')
  const surfaceFile = at === -1 ? SURFACE_FILE : argv[at + 1]
  const { rows, problems } = loadTable()
  const surface = JSON.parse(fs.readFileSync(surfaceFile, 'utf8'))
  problems.push(...checkTable(rows, surface))
  if (problems.length > 0) {
    for (const problem of problems) console.error(`check-apis: ${problem}`)
    return 1
  }
  const names = rows.reduce((n, row) => n + 1 + (row.aliases || []).length, 0)
  console.log(`check-apis: ${rows.length} rows, ${names} names, all ${surface.length} surface entries covered`)
  return 0
}

if (require.main === module) process.exitCode = main(process.argv.slice(2))

module.exports = { TABLE_FILE, SURFACE_FILE, parseTable, checkRow, checkTable, loadTable }
