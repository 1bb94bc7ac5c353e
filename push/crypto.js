'use strict'
// WeChat's message-push cryptography ("消息加解密"), on node:crypto only: the SHA-1 signatures of
// the URL check and of encrypted messages, and the AES-256-CBC envelope of safe mode:
//   base64( AES-256-CBC( key, iv = key[0..16], PKCS#7 to 32 bytes(
//     16 random bytes + 4-byte big-endian length of msg + msg + appid ) ) )
// where key = base64decode(EncodingAESKey + '='). Nothing here ever puts a key, a token or a
// plaintext into an error message.

const crypto = require('node:crypto')

const ENCODING_AES_KEY = /^[A-Za-z0-9+/]{43}$/
// WeChat pads to 32-byte blocks (not AES's 16), and its samples check the pad byte is 1..32.
const PAD_BLOCK = 32
const RANDOM_BYTES = 16
const LENGTH_BYTES = 4

/** An Error with a stable `code`, so that callers can map it to an HTTP status. */
function cryptoError(code, message) {
  const error = new Error(message)
  error.code = code
  return error
}

/**
 * SHA-1 (hex) of the parts sorted as strings and joined: `signature` is sha1(token, timestamp,
 * nonce); `msg_signature` also takes the Encrypt text.
 * @param {...string} parts
 */
function signature(...parts) {
  return crypto.createHash('sha1').update(parts.map(String).sort().join('')).digest('hex')
}

/** Compares two hex signatures in time that does not depend on where they differ. */
function signatureMatches(expected, received) {
  if (typeof received !== 'string') return false
  const want = Buffer.from(expected)
  const got = Buffer.from(received.toLowerCase())
  return want.length === got.length && crypto.timingSafeEqual(want, got)
}

/**
 * The 32-byte AES key of a 43-character EncodingAESKey.
 * @param {string} encodingAESKey
 */
function aesKey(encodingAESKey) {
  if (typeof encodingAESKey !== 'string' || !ENCODING_AES_KEY.test(encodingAESKey)) {
    throw new TypeError('encodingAESKey must be the 43 characters (A-Z, a-z, 0-9, +, /) set on the message-push page')
  }
  return Buffer.from(encodingAESKey + '=', 'base64')
}

function pad(data) {
  const amount = PAD_BLOCK - (data.length % PAD_BLOCK)
  return Buffer.concat([data, Buffer.alloc(amount, amount)])
}

function unpad(data) {
  const amount = data.length === 0 ? 0 : data[data.length - 1]
  if (amount < 1 || amount > PAD_BLOCK || amount > data.length) throw cryptoError('EBADPAD', 'the decrypted message has an invalid padding')
  for (let i = data.length - amount; i < data.length; i++) {
    if (data[i] !== amount) throw cryptoError('EBADPAD', 'the decrypted message has an invalid padding')
  }
  return data.subarray(0, data.length - amount)
}

/**
 * Encrypts `message` for `appid`. `random` (16 bytes) is for reproducing WeChat's documented
 * examples; leave it out otherwise.
 * @param {Buffer} key the 32-byte AES key (aesKey())
 * @param {string} message
 * @param {string} appid
 * @param {Buffer} [random]
 * @returns {string} base64
 */
function encrypt(key, message, appid, random = crypto.randomBytes(RANDOM_BYTES)) {
  const body = Buffer.from(message, 'utf8')
  const length = Buffer.alloc(LENGTH_BYTES)
  length.writeUInt32BE(body.length, 0)
  const plain = pad(Buffer.concat([random, length, body, Buffer.from(appid, 'utf8')]))
  const cipher = crypto.createCipheriv('aes-256-cbc', key, key.subarray(0, 16))
  cipher.setAutoPadding(false)
  return Buffer.concat([cipher.update(plain), cipher.final()]).toString('base64')
}

/**
 * Decrypts an Encrypt text; returns the message and the appid it was sealed for. Throws an Error
 * with code `EBADCIPHER` (not base64 of whole AES blocks), `EBADPAD` or `EBADLENGTH`.
 * @param {Buffer} key
 * @param {string} encrypted base64
 * @returns {{ message: string, appid: string }}
 */
function decrypt(key, encrypted) {
  if (typeof encrypted !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(encrypted)) {
    throw cryptoError('EBADCIPHER', 'Encrypt is not base64')
  }
  const data = Buffer.from(encrypted, 'base64')
  if (data.length === 0 || data.length % 16 !== 0) throw cryptoError('EBADCIPHER', 'Encrypt is not a whole number of AES blocks')
  const decipher = crypto.createDecipheriv('aes-256-cbc', key, key.subarray(0, 16))
  decipher.setAutoPadding(false)
  const plain = unpad(Buffer.concat([decipher.update(data), decipher.final()]))
  if (plain.length < RANDOM_BYTES + LENGTH_BYTES) throw cryptoError('EBADLENGTH', 'the decrypted message is too short')
  const length = plain.readUInt32BE(RANDOM_BYTES)
  const start = RANDOM_BYTES + LENGTH_BYTES
  if (length > plain.length - start) throw cryptoError('EBADLENGTH', 'the decrypted message length is out of range')
  return {
    message: plain.subarray(start, start + length).toString('utf8'),
    appid: plain.subarray(start + length).toString('utf8'),
  }
}

module.exports = { signature, signatureMatches, aesKey, encrypt, decrypt }
