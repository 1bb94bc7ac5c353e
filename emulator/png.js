'use strict';

/**
 * Real PNG files made from scratch (zlib only), for the replies that are images: mini-program
 * codes and feedback pictures. Each is a pattern of dark and light modules derived from a seed,
 * so that different requests give visibly different codes and equal requests equal ones.
 */

const crypto = require('node:crypto');
const zlib = require('node:zlib');

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Modules per side, as in a small QR code. */
const MODULES = 21;

/** A `size` × `size` 8-bit grayscale PNG of MODULES × MODULES modules chosen by `seed`. */
function codePng(size, seed) {
  const bits = crypto.createHash('sha512').update(String(seed)).digest();
  const moduleSize = Math.max(1, Math.floor(size / MODULES));
  const rows = [];
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(size + 1); // leading 0: PNG filter type "none"
    const my = Math.floor(y / moduleSize);
    for (let x = 0; x < size; x++) {
      const mx = Math.floor(x / moduleSize);
      const index = (my * MODULES + mx) % (bits.length * 8);
      const dark = my < MODULES && mx < MODULES && (bits[index >> 3] >> (index & 7)) & 1;
      row[x + 1] = dark ? 0x00 : 0xff;
    }
    rows.push(row);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // grayscale
  return Buffer.concat([
    PNG_SIGNATURE,
    chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

module.exports = { codePng, PNG_SIGNATURE };
