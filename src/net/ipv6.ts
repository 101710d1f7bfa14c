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
  if (s.includes('.') || s.includes('%') || !nodeIsIPv6(s)) return undefined;
  const dbl = s.indexOf('::');
  let groups: string[];
  if (dbl < 0) groups = s.split(':');
  else {
    const head = dbl === 0 ? [] : s.slice(0, dbl).split(':');
    const tail = dbl + 2 === s.length ? [] : s.slice(dbl + 2).split(':');
    groups = [...head, ...new Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  }
  let hex = '';
  for (const g of groups) hex += g.padStart(4, '0');
  return BigInt(`0x${hex}`);
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
