import { createRequire } from 'node:module';

// node:net costs milliseconds to load; only IPv6 input needs it
let isIPv6: ((s: string) => boolean) | undefined;
const nodeIsIPv6 = (s: string) => (isIPv6 ??= (createRequire(import.meta.url)('node:net') as typeof import('node:net')).isIPv6)(s);

/**
 * Fast IPv6 text <-> bigint for bulk inputs. Validation is Node's own (net.isIPv6); forms with an
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
  if (s.includes('.') || s.includes('%') || !nodeIsIPv6(s)) return undefined;
  // the text is valid (checked above): read hex groups, the ones after "::" go to the end
  const g = [0, 0, 0, 0, 0, 0, 0, 0];
  const tail: number[] = [];
  let n = 0, cur = 0, digits = 0, afterGap = false;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 58;
    if (c !== 58) { cur = cur * 16 + (c <= 57 ? c - 48 : (c | 32) - 87); digits++; continue; }
    if (digits) { if (afterGap) tail.push(cur); else g[n++] = cur; }
    cur = 0; digits = 0;
    if (s.charCodeAt(i + 1) === 58) { afterGap = true; i++; }
  }
  for (let k = 0; k < tail.length; k++) g[8 - tail.length + k] = tail[k];
  return [g[0] * 65536 + g[1], g[2] * 65536 + g[3], g[4] * 65536 + g[5], g[6] * 65536 + g[7]];
}

/** RFC 5952 text of a 128-bit value: lowercase, no leading zeros, longest zero run (≥ 2) as "::". */
export function fastFormatV6(v: bigint): string {
  const hex = v.toString(16).padStart(32, '0');
  const g: string[] = new Array(8);
  for (let i = 0; i < 8; i++) g[i] = hex.slice(i * 4, i * 4 + 4).replace(/^0{1,3}/, '');
  let bestAt = -1, bestLen = 1, runAt = -1, runLen = 0;
  for (let i = 0; i < 8; i++) {
    if (g[i] === '0') {
      if (runAt < 0) { runAt = i; runLen = 0; }
      if (++runLen > bestLen) { bestLen = runLen; bestAt = runAt; }
    } else runAt = -1;
  }
  if (bestAt < 0) return g.join(':');
  return `${g.slice(0, bestAt).join(':')}::${g.slice(bestAt + bestLen).join(':')}`;
}
