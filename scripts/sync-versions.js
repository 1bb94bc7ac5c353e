#!/usr/bin/env node
'use strict'
// Usage: node scripts/sync-versions.js [--check]
//
// Sets the version of every platform package (npm/*/package.json) to the main package's version.
// With --check it changes nothing and exits 1 when any differs. Either way it also checks that the
// generated binding.js expects that version (it is written into binding.js by `napi build`, and the
// loader compares it with the platform package's version when NAPI_RS_ENFORCE_VERSION_CHECK is set):
// after `npm version`, run `npm run build` to regenerate binding.js.

const fs = require('fs')
const path = require('path')

const ROOT = path.join(__dirname, '..')
const NPM_DIR = path.join(ROOT, 'npm')

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'))
}

/** The platform packages: [{ platform, dir, manifestPath, manifest }]. */
function platformPackages() {
  if (!fs.existsSync(NPM_DIR)) return []
  return fs
    .readdirSync(NPM_DIR)
    .filter((name) => fs.existsSync(path.join(NPM_DIR, name, 'package.json')))
    .sort()
    .map((platform) => {
      const dir = path.join(NPM_DIR, platform)
      const manifestPath = path.join(dir, 'package.json')
      return { platform, dir, manifestPath, manifest: readJson(manifestPath) }
    })
}

/** The version binding.js checks platform packages against (null when it has none). */
function bindingVersion() {
  const text = fs.readFileSync(path.join(ROOT, 'binding.js'), 'utf8')
  const match = /bindingPackageVersion !== '([^']+)'/.exec(text)
  return match ? match[1] : null
}

/** Brings npm/*\/package.json to the main version (unless check); returns the problems found. */
function syncVersions({ check = false } = {}) {
  const main = readJson(path.join(ROOT, 'package.json'))
  const problems = []
  for (const { platform, manifestPath, manifest } of platformPackages()) {
    const expectedName = `${main.napi.binaryName}-${platform}`
    if (manifest.name !== expectedName) {
      problems.push(`npm/${platform}/package.json: name is ${manifest.name}, expected ${expectedName}`)
    }
    if (manifest.version !== main.version) {
      if (check) {
        problems.push(`npm/${platform}/package.json: version ${manifest.version}, main package ${main.version}`)
      } else {
        manifest.version = main.version
        fs.writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n')
        console.log(`npm/${platform}/package.json: version -> ${main.version}`)
      }
    }
  }
  const expected = bindingVersion()
  if (expected !== main.version) {
    problems.push(`binding.js expects platform packages at version ${expected}, package.json is ${main.version}: run \`npm run build\``)
  }
  return problems
}

module.exports = { ROOT, platformPackages, bindingVersion, syncVersions, readJson }

if (require.main === module) {
  const problems = syncVersions({ check: process.argv.includes('--check') })
  for (const p of problems) console.error(p)
  process.exitCode = problems.length ? 1 : 0
}
