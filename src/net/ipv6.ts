/**
 * Whether s is IPv6 text of hex groups only (no embedded IPv4, no zone): 1-4 hex digits per group,
 * eight groups, or fewer around one "::". Other forms go to ipaddr.js (the strict path); the
 * property tests hold this equal to ipaddr.js. (node:net's isIPv6 did this, but loading node:net
 * and calling it cost a tenth of a feed's compile.)
 */
function isHexIPv6(s: string): boolean {
  let groups = 0,
    digits = 0,
    gap = false;
  const n = s.length;
  if (n < 2 || n > 39) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 58) {
      if (s.charCodeAt(i + 1) === 58) {
        if (gap) return false;
        gap = true;
        if (digits) groups++;
        digits = 0;
        i++;
        continue;
      }
      // a single ":" ends a group and another must follow
      if (!digits || i === n - 1) return false;
      groups++;
      digits = 0;
      continue;
    }
    const hex = (c >= 48 && c <= 57) || ((c | 32) >= 97 && (c | 32) <= 102);
    if (!hex || ++digits > 4) return false;
  }
  if (digits) groups++;
  return gap ? groups <= 7 : groups === 8;
}

/**
 * Fast IPv6 text <-> bigint for bulk inputs. Validation is isHexIPv6; forms with an
 * embedded IPv4 part or a zone id return undefined so callers take the strict ipaddr.js path.
 * Property tests hold both functions equal to ipaddr.js.
 */
export function fastParseV6(s: string): bigint | undefined {
  const w = fastParseV6Words(s);
  if (!w) return undefined;
  return (BigInt(w[0]) << 96n) | (BigInt(w[1]) << 64n) | (BigInt(w[2]) << 32n) | BigInt(w[3]);
}

/** The same as four unsigned 32-bit words, most significant first (no bigint on the way). */
export function fastParseV6Words(s: string): [number, number, number, number] | undefined {
  if (!isHexIPv6(s)) return undefined;
  // the text is valid (checked above): read hex groups, the ones after "::" go to the end
  const g = [0, 0, 0, 0, 0, 0, 0, 0];
  const tail: number[] = [];
  let n = 0,
    cur = 0,
    digits = 0,
    afterGap = false;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 58;
    if (c !== 58) {
      cur = cur * 16 + (c <= 57 ? c - 48 : (c | 32) - 87);
      digits++;
      continue;
    }
    if (digits) {
      if (afterGap) tail.push(cur);
      else g[n++] = cur;
    }
    cur = 0;
    digits = 0;
    if (s.charCodeAt(i + 1) === 58) {
      afterGap = true;
      i++;
    }
  }
  for (let k = 0; k < tail.length; k++) g[8 - tail.length + k] = tail[k];
  return [g[0] * 65536 + g[1], g[2] * 65536 + g[3], g[4] * 65536 + g[5], g[6] * 65536 + g[7]];
}

/** RFC 5952 text of a 128-bit value: lowercase, no leading zeros, longest zero run (≥ 2) as "::". */
export function fastFormatV6(v: bigint): string {
  const words = [
    Number(v >> 96n),
    Number((v >> 64n) & 0xffffffffn),
    Number((v >> 32n) & 0xffffffffn),
    Number(v & 0xffffffffn),
  ];
  const buf = Buffer.allocUnsafe(39);
  return buf.toString('latin1', 0, writeV6(buf, 0, words));
}

const HEX = Buffer.from('0123456789abcdef', 'latin1');
const groups = new Int32Array(8);

/**
 * Write the RFC 5952 text of an address given as four unsigned 32-bit words (most significant
 * first) into buf at p; returns the position after it (at most 39 bytes). The one IPv6 printer.
 */
export function writeV6(buf: Uint8Array, p: number, words: ArrayLike<number>): number {
  const g = groups;
  for (let j = 0; j < 4; j++) {
    g[2 * j] = Math.floor(words[j] / 65536);
    g[2 * j + 1] = words[j] % 65536;
  }
  // the longest run of at least two zero groups (the first of equal runs) becomes "::"
  let bestAt = -1,
    bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  for (let i = 0; i < 8; i++) {
    if (i === bestAt) {
      buf[p++] = 58;
      buf[p++] = 58;
      i += bestLen - 1;
      continue;
    }
    if (i > 0 && i !== bestAt + bestLen) buf[p++] = 58;
    const v = g[i];
    if (v >= 4096) buf[p++] = HEX[v >>> 12];
    if (v >= 256) buf[p++] = HEX[(v >>> 8) & 15];
    if (v >= 16) buf[p++] = HEX[(v >>> 4) & 15];
    buf[p++] = HEX[v & 15];
  }
  return p;
}
