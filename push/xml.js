'use strict'
// A small, strict reader and writer for the XML WeChat's message push speaks:
//   <xml><ToUserName><![CDATA[gh_…]]></ToUserName><CreateTime>1348831860</CreateTime>…</xml>
// Elements, text, CDATA, comments and the five predefined entities plus character references;
// nested elements become objects and repeated ones arrays. No DOCTYPE, no entity declarations
// (so no XXE and no entity expansion), attributes skipped, a depth limit. A message WeChat sends
// is flat, so this is all the XML the protocol needs, and a dependency would bring more parser
// than input (see README, "Receive messages").

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/
const NAME_AT = /[A-Za-z_][A-Za-z0-9_.:-]*/y
const ATTRIBUTES_AT = /(?:\s+[A-Za-z_][A-Za-z0-9_.:-]*\s*=\s*(?:"[^"<]*"|'[^'<]*'))*\s*/y
const ENTITIES = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }
// Characters XML 1.0 does not allow anywhere, even escaped.
const ILLEGAL_CHARS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/
const DEFAULT_MAX_DEPTH = 8

function xmlError(message) {
  const error = new Error(`invalid XML: ${message}`)
  error.code = 'EBADXML'
  return error
}

function decodeEntities(text) {
  return text.replace(/&([^;&]*);?/g, (match, name) => {
    if (!match.endsWith(';')) throw xmlError('a bare "&" in text')
    if (name in ENTITIES && Object.hasOwn(ENTITIES, name)) return ENTITIES[name]
    const code = /^#x[0-9a-fA-F]{1,6}$/.test(name) ? parseInt(name.slice(2), 16) : /^#[0-9]{1,7}$/.test(name) ? parseInt(name.slice(1), 10) : NaN
    if (!(code >= 0x9 && code <= 0x10ffff) || (code >= 0xd800 && code <= 0xdfff)) throw xmlError(`unknown entity &${name.slice(0, 20)};`)
    return String.fromCodePoint(code)
  })
}

// Sets a property so that a name such as "__proto__" is an own property, never the prototype.
function setOwn(object, key, value) {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true })
}

class Reader {
  constructor(text, maxDepth) {
    this.text = text
    this.at = 0
    this.maxDepth = maxDepth
  }

  startsWith(token) {
    return this.text.startsWith(token, this.at)
  }

  skipUntil(token, what) {
    const end = this.text.indexOf(token, this.at)
    if (end === -1) throw xmlError(`unterminated ${what}`)
    const skipped = this.text.slice(this.at, end)
    this.at = end + token.length
    return skipped
  }

  skipSpaceAndComments() {
    for (;;) {
      while (this.at < this.text.length && /\s/.test(this.text[this.at])) this.at++
      if (this.startsWith('<!--')) this.skipUntil('-->', 'comment')
      else return
    }
  }

  prolog() {
    if (this.text.charCodeAt(0) === 0xfeff) this.at = 1
    this.skipSpaceAndComments()
    if (this.startsWith('<?xml')) this.skipUntil('?>', 'XML declaration')
    this.skipSpaceAndComments()
    if (this.startsWith('<!')) throw xmlError('DOCTYPE and declarations are not accepted')
    if (this.startsWith('<?')) throw xmlError('processing instructions are not accepted')
  }

  name() {
    NAME_AT.lastIndex = this.at
    const match = NAME_AT.exec(this.text)
    if (match === null) throw xmlError(`a tag name was expected at offset ${this.at}`)
    this.at = NAME_AT.lastIndex
    return match[0]
  }

  /** Reads `<Name …>…</Name>` (or `<Name/>`) at the cursor; returns [name, value]. */
  element(depth) {
    if (depth > this.maxDepth) throw xmlError(`nested deeper than ${this.maxDepth}`)
    if (!this.startsWith('<')) throw xmlError(`an element was expected at offset ${this.at}`)
    this.at++
    const name = this.name()
    ATTRIBUTES_AT.lastIndex = this.at
    ATTRIBUTES_AT.exec(this.text)
    this.at = ATTRIBUTES_AT.lastIndex
    if (this.startsWith('/>')) {
      this.at += 2
      return [name, '']
    }
    if (!this.startsWith('>')) throw xmlError(`malformed start tag <${name}>`)
    this.at++
    return [name, this.content(name, depth)]
  }

  content(name, depth) {
    let text = ''
    let hasText = false // any non-whitespace text: decided per piece, so the check stays linear
    let children = null
    for (;;) {
      if (this.at >= this.text.length) throw xmlError(`<${name}> is not closed`)
      if (this.startsWith('</')) {
        this.at += 2
        const closing = this.name()
        while (/\s/.test(this.text[this.at] ?? '')) this.at++
        if (closing !== name || !this.startsWith('>')) throw xmlError(`<${name}> is closed by </${closing}>`)
        this.at++
        return children === null ? text : children
      }
      if (this.startsWith('<![CDATA[')) {
        this.at += 9
        const piece = this.skipUntil(']]>', 'CDATA section')
        hasText ||= piece.trim() !== ''
        text += piece
      } else if (this.startsWith('<!--')) {
        this.skipUntil('-->', 'comment')
      } else if (this.startsWith('<!') || this.startsWith('<?')) {
        throw xmlError('declarations and processing instructions are not accepted')
      } else if (this.startsWith('<')) {
        const [childName, value] = this.element(depth + 1)
        children ??= {}
        if (!Object.hasOwn(children, childName)) setOwn(children, childName, value)
        else if (Array.isArray(children[childName])) children[childName].push(value)
        else setOwn(children, childName, [children[childName], value])
      } else {
        const end = this.text.indexOf('<', this.at)
        const raw = this.text.slice(this.at, end === -1 ? this.text.length : end)
        this.at += raw.length
        const piece = decodeEntities(raw)
        hasText ||= piece.trim() !== ''
        text += piece
      }
      if (children !== null && hasText) throw xmlError(`<${name}> mixes text and elements`)
    }
  }
}

/**
 * Parses one XML document; returns the children of its root element as an object (text → string,
 * nested elements → object, repeated names → array). Throws an Error with code `EBADXML`.
 * @param {string} text
 * @param {{ maxDepth?: number }} [options]
 * @returns {Record<string, unknown>}
 */
function parseXml(text, { maxDepth = DEFAULT_MAX_DEPTH } = {}) {
  if (typeof text !== 'string') throw xmlError('not a string')
  const reader = new Reader(text, maxDepth)
  reader.prolog()
  const [, root] = reader.element(0)
  reader.skipSpaceAndComments()
  if (reader.at !== text.length) throw xmlError('content after the root element')
  if (typeof root === 'string') {
    if (root.trim() !== '') throw xmlError('the root element holds text, not fields')
    return {}
  }
  return root
}

function cdata(text) {
  // "]]>" cannot appear inside CDATA: close the section between "]]" and ">".
  return `<![CDATA[${text.replaceAll(']]>', ']]]]><![CDATA[>')}]]>`
}

function writeValue(name, value, depth) {
  if (!NAME.test(name) || /^xml/i.test(name)) throw new TypeError(`"${name.slice(0, 40)}" cannot be an XML element name`)
  if (depth > DEFAULT_MAX_DEPTH) throw new TypeError(`the reply is nested deeper than ${DEFAULT_MAX_DEPTH}`)
  switch (typeof value) {
    case 'string':
      if (ILLEGAL_CHARS.test(value)) throw new TypeError(`${name} holds a character XML cannot carry`)
      return `<${name}>${cdata(value)}</${name}>`
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`${name} is not a finite number`)
      return `<${name}>${value}</${name}>`
    case 'bigint':
    case 'boolean':
      return `<${name}>${value}</${name}>`
    case 'object':
      if (Array.isArray(value)) return `<${name}>${value.map((item) => writeValue('item', item, depth + 1)).join('')}</${name}>`
      return `<${name}>${writeFields(value, depth + 1)}</${name}>`
    default:
      throw new TypeError(`${name} is a ${typeof value}, which XML cannot carry`)
  }
}

function writeFields(object, depth) {
  let out = ''
  for (const [key, value] of Object.entries(object)) {
    if (value === undefined || value === null) continue
    out += writeValue(key, value, depth)
  }
  return out
}

/**
 * Writes `fields` as WeChat's `<xml>…</xml>`: strings in CDATA, numbers and booleans as text,
 * objects nested, arrays as repeated `<item>`; undefined and null fields are left out.
 * @param {Record<string, unknown>} fields
 * @returns {string}
 */
function toXml(fields) {
  if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) throw new TypeError('an XML reply must be an object')
  return `<xml>${writeFields(fields, 1)}</xml>`
}

module.exports = { parseXml, toXml }
