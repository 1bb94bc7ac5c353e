'use strict'
// Loads the native addon through the generated loader (binding.js). When no binary can be loaded, it throws
// an Error that names this platform, the package that holds its binary, and what to do about it, instead of
// the loader's "Cannot find native binding" / "Cannot find module". The loader's own errors stay on
// `error.cause`. When the binary is there but Node's permission model refuses to load it (started with
// --permission and without --allow-addons), the first line says that and how to allow it: the loader then
// also fails to find the platform package, which would otherwise be the headline.

const fs = require('fs')

const PACKAGE = 'wx-openapi-native'
// The platforms that have a prebuilt binary (npm/<platform>/, optionalDependencies of the published package).
const PREBUILT = {
  'linux-x64-gnu': 'Linux x64, glibc >= 2.17',
  'linux-arm64-gnu': 'Linux arm64, glibc >= 2.17',
  'linux-x64-musl': 'Linux x64, musl, e.g. Alpine',
  // Built with mingw-w64 for the official (MSVC-built) node.exe, which is why binding.js asks for `-msvc`.
  'win32-x64-msvc': 'Windows 10 or later, x64',
  'darwin-arm64': 'macOS >= 11, Apple silicon',
  'darwin-x64': 'macOS >= 10.13, Intel',
}
const GLIBC_FLOOR = '2.17'

// The same test as binding.js, in the same order, so that both name the same package.
function libc() {
  if (process.platform !== 'linux') return null
  try {
    if (fs.readFileSync('/usr/bin/ldd', 'utf8').includes('musl')) return 'musl'
    return 'glibc'
  } catch {
    // no ldd: ask the process report
  }
  const report = glibcReport()
  if (report && report.header && report.header.glibcVersionRuntime) return 'glibc'
  if (report && Array.isArray(report.sharedObjects) && report.sharedObjects.some((f) => /libc\.musl-|ld-musl-/.test(f))) {
    return 'musl'
  }
  return 'glibc'
}

function glibcReport() {
  try {
    if (process.report && typeof process.report.getReport === 'function') {
      process.report.excludeNetwork = true
      return process.report.getReport()
    }
  } catch {
    // no report
  }
  return null
}

// The platform suffix binding.js uses for `wx-openapi-native.<platform>.node` and `wx-openapi-native-<platform>`.
function platformId() {
  const { platform, arch } = process
  if (platform === 'linux') {
    const musl = libc() === 'musl'
    if (arch === 'arm') return musl ? 'linux-arm-musleabihf' : 'linux-arm-gnueabihf'
    if (arch === 'ppc64' || arch === 's390x') return `linux-${arch}-gnu`
    return `linux-${arch}-${musl ? 'musl' : 'gnu'}`
  }
  if (platform === 'win32') return arch === 'ia32' ? 'win32-ia32-msvc' : `win32-${arch}-msvc`
  if (platform === 'android') return arch === 'arm' ? 'android-arm-eabi' : `android-${arch}`
  return `${platform}-${arch}`
}

// Every message in the loader's `cause` chain (it nests one Error per failed attempt).
function causes(error) {
  const lines = []
  for (let e = error && error.cause, n = 0; e && n < 20; e = e.cause, n++) {
    const first = String((e && e.message) || e).split('\n')[0]
    if (!lines.includes(first)) lines.push(first)
  }
  return lines.reverse()
}

/** Every error in the loader's `cause` chain. */
function causeErrors(error) {
  const out = []
  for (let e = error && error.cause, n = 0; e && n < 20; e = e.cause, n++) out.push(e)
  return out
}

/**
 * The permission-model refusal in the chain, if any, as { code, message }: ERR_DLOPEN_DISABLED (addons are
 * disabled) or ERR_ACCESS_DENIED (a file may not be read). The loader rebuilds each error of its chain
 * from the message alone, so the code is gone by then: Node's messages tell them apart.
 */
function permissionDenial(error) {
  for (const e of causeErrors(error)) {
    const message = String((e && e.message) || '').split('\n')[0]
    if ((e && e.code === 'ERR_DLOPEN_DISABLED') || /loading addons is disabled/.test(message)) return { code: 'ERR_DLOPEN_DISABLED', message }
    if ((e && e.code === 'ERR_ACCESS_DENIED') || /^Access to this API has been restricted/.test(message)) return { code: 'ERR_ACCESS_DENIED', message }
  }
  return null
}

/** The flag that turned the permission model on, as this Node spells it (20.x: --experimental-permission). */
function permissionFlag() {
  const args = [...process.execArgv, ...String(process.env.NODE_OPTIONS || '').split(/\s+/)]
  return args.find((a) => a === '--experimental-permission' || a === '--permission') || '--permission'
}

function isLoadFailure(error) {
  const message = String((error && error.message) || '')
  return message.startsWith('Cannot find native binding') || message.startsWith('Failed to load native binding')
}

function bindingError(original) {
  const id = platformId()
  const pkg = `${PACKAGE}-${id}`
  const c = libc()
  const where = `${process.platform}-${process.arch}${c ? ` (${c})` : ''}`
  const tried = causes(original)
  const lines = [`${PACKAGE}: could not load its native binary on ${where}, Node.js ${process.version}.`]
  const override = process.env.NAPI_RS_NATIVE_LIBRARY_PATH
  const denial = permissionDenial(original)

  if (denial && denial.code === 'ERR_DLOPEN_DISABLED') {
    const flag = permissionFlag()
    lines[0] = `${PACKAGE}: loading native addons is disabled by Node.js's permission model (${flag} without --allow-addons),`
    lines.push(`and ${PACKAGE} is a native addon (Node.js ${process.version}, ${where}). To allow it, add --allow-addons`)
    lines.push(`to node's options, e.g. \`node ${flag} --allow-addons app.js\` (or in NODE_OPTIONS).`)
    lines.push(`Node's own message: ${denial.message}`)
  } else if (denial) {
    lines[0] = `${PACKAGE}: Node.js's permission model (${permissionFlag()}) denied access while loading the native binary:`
    lines.push(`${denial.message} Allow reading the package's files, e.g. --allow-fs-read=<your app's directory>.`)
  } else if (override) {
    lines.push(`NAPI_RS_NATIVE_LIBRARY_PATH is set to ${override}, and that file did not load. Point it at a`)
    lines.push(`${PACKAGE}.${id}.node built for this platform, or unset it.`)
  } else if (PREBUILT[id]) {
    let installed = false
    try {
      require.resolve(`${pkg}/package.json`)
      installed = true
    } catch {
      // not installed
    }
    if (installed) {
      lines.push(`The package ${pkg} (${PREBUILT[id]}) is installed, but its binary failed to load (see below).`)
      const glibc = c === 'glibc' && glibcReport()
      const runtime = glibc && glibc.header && glibc.header.glibcVersionRuntime
      if (runtime) lines.push(`It needs glibc >= ${GLIBC_FLOOR}; this host has glibc ${runtime}.`)
      lines.push(`Reinstall it (rm -rf node_modules && npm install), or build from source (below).`)
    } else {
      lines.push(`Its binary for this platform (${PREBUILT[id]}) is the package ${pkg}, an optional dependency`)
      lines.push(`of ${PACKAGE}, and it is not installed. Typical causes and fixes:`)
      lines.push(`  - node_modules was installed on another OS, CPU or libc and copied here: run \`npm install\` on`)
      lines.push(`    ${where}, or install for it from anywhere with`)
      lines.push(`    \`npm install --os=${process.platform} --cpu=${process.arch}${c ? ` --libc=${c}` : ''}\`;`)
      lines.push(`  - optional dependencies were left out (--omit=optional, --no-optional): install without that flag;`)
      lines.push(`  - an old lockfile (npm bug https://github.com/npm/cli/issues/4828): remove package-lock.json and`)
      lines.push(`    node_modules and run \`npm install\` again.`)
    }
  } else {
    lines.push(`There is no prebuilt binary for ${id}: the package ${pkg} does not exist.`)
    lines.push(`Prebuilt binaries exist for: ${Object.entries(PREBUILT).map(([k, v]) => `${k} (${v})`).join(', ')}.`)
    lines.push(`Use one of those (a container or VM), or build from source.`)
  }

  if (!denial) {
    lines.push(`To build from source: install Rust (https://rustup.rs) and Node.js >= 16, clone the ${PACKAGE}`)
    lines.push(`repository and run \`npm install\` in it (its prepare script runs \`napi build --platform --release\`,`)
    lines.push(`which writes ${PACKAGE}.${id}.node next to binding.js). Then install that checkout`)
    lines.push(`(\`npm install /path/to/${PACKAGE}\`), or set NAPI_RS_NATIVE_LIBRARY_PATH to the built .node file.`)
  }
  if (tried.length) {
    lines.push(`What the loader tried:`)
    for (const t of tried) lines.push(`  - ${t}`)
  }

  const error = new Error(lines.join('\n'))
  error.code = 'ERR_WX_OPENAPI_NATIVE_BINDING'
  if (denial) error.reason = denial.code
  error.platform = id
  error.packageName = pkg
  error.cause = original
  return error
}

function loadBinding() {
  try {
    return require('./binding.js')
  } catch (error) {
    throw isLoadFailure(error) ? bindingError(error) : error
  }
}

module.exports = loadBinding()
