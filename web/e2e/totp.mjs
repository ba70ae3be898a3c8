// RFC 6238 TOTP codes (HMAC-SHA1, 30 s steps, 6 digits; the defaults of otpauth:// URIs) for
// the console end-to-end test. `node e2e/totp.mjs 'otpauth://…'` prints the current code.
import { createHmac } from 'node:crypto';

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32(s) {
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of s.replace(/=+$/, '').toUpperCase()) {
    const i = B32.indexOf(c);
    if (i < 0) throw new Error(`not base32: ${c}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The code of an `otpauth://totp/…?secret=…` URI at `unixMs`. */
export function totpCode(uri, unixMs = Date.now()) {
  const u = new URL(uri);
  const secret = u.searchParams.get('secret');
  if (!secret) throw new Error(`no secret in ${uri}`);
  const period = Number(u.searchParams.get('period') ?? 30);
  const digits = Number(u.searchParams.get('digits') ?? 6);
  const algo = (u.searchParams.get('algorithm') ?? 'SHA1').toLowerCase();
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixMs / 1000 / period)));
  const h = createHmac(algo, base32(secret)).update(counter).digest();
  const o = h[h.length - 1] & 0xf;
  const n = (h.readUInt32BE(o) & 0x7fffffff) % 10 ** digits;
  return String(n).padStart(digits, '0');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  console.log(totpCode(process.argv[2]));
}
