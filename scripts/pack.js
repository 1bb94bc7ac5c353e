#!/usr/bin/env node
'use strict'
// Usage: node scripts/pack.js [--out DIR] [--allow-missing]
//
// Packs what gets published, the napi-rs way, into DIR (default: dist/):
//   wx-openapi-native-<platform>-<version>.tgz  one per npm/<platform>/ whose .node has been built
//                                               (scripts/build-prebuilt.sh); a missing one is an error
//                                               unless --allow-missing
//   wx-openapi-native-<version>.tgz             the main package: JS, types, loader, emulator, no binary,
//                                               with every platform package as an optionalDependency
//
// The optionalDependencies exist only in the packed package.json, never in the repository's: npm resolves
// every optional dependency from the registry before it checks os/cpu/libc, so listing packages that are
// not published yet would make `npm ci` / `npm install` of this checkout fail. The packed package.json is
// the repository's, plus optionalDependencies, minus the `prepare` script (it runs `napi build`, which needs
// the Rust sources the tarball does not have). The file list is npm's own (`npm pack --dry-run`).
//
// Publish: `npm publish` each platform tarball first, then the main one.

const fs = require('fs')
const os = require('os')
const path = require('path')
const { execFileSync } = require('child_process')
const { ROOT, platformPackages, syncVersions, readJson } = require('./sync-versions.js')

/** How to run npm: the npm that runs us (npm_execpath) under this node, else `npm` on PATH. */
function npmCommand() {
  const execpath = process.env.npm_execpath
  if (execpath && /npm-cli\.js$/.test(execpath) && fs.existsSync(execpath)) return [process.execPath, [execpath]]
  return ['npm', []]
}

function npm(args, options) {
  const [cmd, pre] = npmCommand()
  return execFileSync(cmd, [...pre, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options })
}

/** `npm pack` DIR into outDir; returns the tarball's absolute path. */
function npmPack(dir, outDir) {
  fs.mkdirSync(outDir, { recursive: true })
  const out = npm(['pack', '--ignore-scripts', '--json', '--pack-destination', path.resolve(outDir)], { cwd: dir })
  const [info] = JSON.parse(out)
  return path.resolve(outDir, info.filename)
}

function stagingDir(name) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `${name}-stage-`))
}

function binaryFile(platform) {
  const main = readJson(path.join(ROOT, 'package.json'))
  return `${main.napi.binaryName}.${platform}.node`
}

/**
 * Packs npm/<platform>/ with its .node (or with `nodeFile` in its place) into outDir, from a staged copy.
 * Returns the tarball path.
 */
function packPlatform(platform, outDir, { nodeFile } = {}) {
  const dir = path.join(ROOT, 'npm', platform)
  const manifest = readJson(path.join(dir, 'package.json'))
  const binary = binaryFile(platform)
  const source = nodeFile || path.join(dir, binary)
  if (!fs.existsSync(source)) {
    throw new Error(`npm/${platform}: ${binary} is not built (scripts/build-prebuilt.sh ${platform})`)
  }
  if (manifest.main !== binary || !(manifest.files || []).includes(binary)) {
    throw new Error(`npm/${platform}/package.json: main and files must name ${binary}`)
  }
  const stage = stagingDir(manifest.name)
  try {
    for (const f of fs.readdirSync(dir)) {
      if (f !== binary && !f.endsWith('.node')) fs.copyFileSync(path.join(dir, f), path.join(stage, f))
    }
    fs.copyFileSync(source, path.join(stage, binary))
    return npmPack(stage, outDir)
  } finally {
    fs.rmSync(stage, { recursive: true, force: true })
  }
}

/** The main package's publishable manifest: optionalDependencies on every platform package, no `prepare`. */
function publishManifest() {
  const main = readJson(path.join(ROOT, 'package.json'))
  const optionalDependencies = { ...(main.optionalDependencies || {}) }
  for (const { manifest } of platformPackages()) optionalDependencies[manifest.name] = main.version
  const scripts = { ...(main.scripts || {}) }
  delete scripts.prepare
  const out = { ...main, scripts, optionalDependencies }
  return out
}

/** Packs the main package (no binary) into outDir from a staged copy; returns the tarball path. */
function packMain(outDir) {
  // npm's own list of what `files`, .npmignore and its always-included files select.
  const [listing] = JSON.parse(npm(['pack', '--dry-run', '--ignore-scripts', '--json'], { cwd: ROOT }))
  const stage = stagingDir('wx-openapi-native')
  try {
    for (const { path: rel } of listing.files) {
      if (rel.endsWith('.node')) throw new Error(`the main package would ship a binary: ${rel}`)
      const to = path.join(stage, rel)
      fs.mkdirSync(path.dirname(to), { recursive: true })
      fs.copyFileSync(path.join(ROOT, rel), to)
    }
    fs.writeFileSync(path.join(stage, 'package.json'), JSON.stringify(publishManifest(), null, 2) + '\n')
    return npmPack(stage, outDir)
  } finally {
    fs.rmSync(stage, { recursive: true, force: true })
  }
}

module.exports = { npm, npmCommand, packPlatform, packMain, publishManifest, binaryFile }

if (require.main === module) {
  const args = process.argv.slice(2)
  const outIndex = args.indexOf('--out')
  const outDir = path.resolve(outIndex === -1 ? path.join(ROOT, 'dist') : args[outIndex + 1])
  const allowMissing = args.includes('--allow-missing')

  const problems = syncVersions()
  if (problems.length) {
    for (const p of problems) console.error(p)
    process.exit(1)
  }
  const tarballs = []
  for (const { platform, dir } of platformPackages()) {
    if (!fs.existsSync(path.join(dir, binaryFile(platform))) && allowMissing) {
      console.error(`skipping npm/${platform}: ${binaryFile(platform)} is not built`)
      continue
    }
    tarballs.push(packPlatform(platform, outDir))
  }
  tarballs.push(packMain(outDir))
  for (const t of tarballs) console.log(`${path.relative(process.cwd(), t)}  ${fs.statSync(t).size} bytes`)
}
