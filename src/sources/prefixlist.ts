import { InputError } from '../errors.js';
import type { EndpointSet } from '../model.js';
import { V4Accumulator, type Interval } from '../net/merge.js';
import { parsePrefix, PrefixSyntaxError, prefixBounds } from '../net/prefix.js';
import type { PortRange } from '../net/ports.js';

export interface PrefixListOptions { tcpPorts: PortRange[]; udpPorts: PortRange[]; onProgress?: (done: number, total: number) => void }

/** Prefixes read in bulk: IPv4 straight into typed arrays, IPv6 as bigint intervals. */
export interface PrefixBulk { v4: V4Accumulator; v6: Interval[] }

const SLASH = 47, DOT = 46, HASH = 35, NL = 10, CR = 13, SP = 32, TAB = 9;

/**
 * A plain prefix list: one IPv4/IPv6 prefix or address per line, "#" comments (also after an
 * entry), blank lines. Read from the bytes: a strict IPv4 fast path with no string per line;
 * anything else goes through the strict parser. Compiled as one endpoint set.
 */
export function parsePrefixList(name: string, buf: Buffer, opts: PrefixListOptions): EndpointSet {
  const v4 = new V4Accumulator(Math.max(1024, Math.ceil(buf.length / 12)));
  const v6: Interval[] = [];
  const n = buf.length;
  let i = buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
  let lineNo = 0;
  // one pass over the bytes: a strict IPv4 state machine per line; any other line is re-read as text
  while (i < n) {
    lineNo++;
    // the common line, "a.b.c.d/len\n" (canonical), in one tight pass; anything else falls through
    const fast = fastV4Line(buf, i, n);
    if (fast >= 0) {
      v4.addRange(scratch.addr, scratch.addr + scratch.size - 1);
      i = fast + 1;
      if (opts.onProgress && (lineNo & 0xffff) === 0) opts.onProgress(i, n);
      continue;
    }
    const lineStart = i;
    let addr = 0, part = 0, digits = 0, dots = 0, len = -1, lenDigits = 0;
    let content = false, slow = false, comment = false, trailing = false;
    for (; i < n; i++) {
      const c = buf[i];
      if (c === NL) break;
      if (comment) continue;
      if (c === HASH) { comment = true; continue; }
      if (c === SP || c === TAB || c === CR) { if (content) trailing = true; continue; }
      if (trailing) { slow = true; continue; } // text after blanks: let the strict parser name it
      content = true;
      if (slow) continue;
      if (c >= 48 && c <= 57) {
        if (len >= 0) {
          if ((lenDigits === 1 && len === 0) || ++lenDigits > 2) slow = true;
          len = len * 10 + c - 48;
        } else {
          if ((digits === 1 && part === 0) || ++digits > 3) slow = true;
          part = part * 10 + c - 48;
        }
      } else if (c === DOT && len < 0) {
        if (digits === 0 || part > 255 || ++dots > 3) slow = true;
        addr = addr * 256 + part; part = 0; digits = 0;
      } else if (c === SLASH && len < 0) {
        len = 0;
      } else slow = true;
    }
    const lineEnd = i;
    i++; // past the newline
    if (!content) continue;
    if (!slow && dots === 3 && digits > 0 && part <= 255 && (len < 0 || (lenDigits > 0 && len <= 32))) {
      addr = addr * 256 + part;
      const size = 2 ** (32 - (len < 0 ? 32 : len));
      if (addr % size === 0) {
        v4.addRange(addr, addr + size - 1);
        if (opts.onProgress && (lineNo & 0xffff) === 0) opts.onProgress(i, n);
        continue;
      }
    }
    let text = buf.toString('latin1', lineStart, lineEnd);
    const h = text.indexOf('#');
    if (h >= 0) text = text.slice(0, h);
    text = text.trim();
    try {
      const p = parsePrefix(text, true);
      if (p.family === 4) throw new PrefixSyntaxError('not a strict four-part decimal IPv4 address');
      v6.push(prefixBounds(p));
    } catch (err) {
      if (err instanceof PrefixSyntaxError) throw new InputError(`${name}:${lineNo}`, err.message, undefined, undefined, text);
      throw err;
    }
  }
  opts.onProgress?.(n, n);
  const addressOnly = opts.tcpPorts.length === 0 && opts.udpPorts.length === 0;
  return {
    id: 'prefixes', serviceArea: 'PrefixList', category: 'Allow', required: true, expressRoute: false,
    tcpPorts: opts.tcpPorts, udpPorts: opts.udpPorts, addressOnly, ips: { v4: [], v6: [] }, urls: [], origin: 'prefixes',
    bulk: { v4, v6 },
  };
}

const scratch = { addr: 0, size: 0 };

/**
 * Parse "d.d.d.d[/len]" ending at a newline (or the end) starting at i, strictly: no leading
 * zeros, octets <= 255, len <= 32, no host bits. Returns the newline's index, or -1 to fall back.
 */
function fastV4Line(b: Buffer, i: number, n: number): number {
  let addr = 0;
  for (let octet = 0; octet < 4; octet++) {
    let c = b[i];
    if (c < 48 || c > 57) return -1;
    let v = c - 48;
    c = b[++i];
    if (c >= 48 && c <= 57) {
      if (v === 0) return -1;
      v = v * 10 + c - 48;
      c = b[++i];
      if (c >= 48 && c <= 57) {
        v = v * 10 + c - 48;
        if (v > 255) return -1;
        c = b[++i];
      }
    }
    addr = addr * 256 + v;
    if (octet < 3) { if (c !== DOT) return -1; i++; }
  }
  let len = 32;
  if (b[i] === SLASH) {
    let c = b[++i];
    if (c < 48 || c > 57) return -1;
    len = c - 48;
    c = b[++i];
    if (c >= 48 && c <= 57) {
      if (len === 0) return -1;
      len = len * 10 + c - 48;
      i++;
      if (len > 32) return -1;
    }
  }
  if (i < n && b[i] !== NL) return -1;
  const size = 2 ** (32 - len);
  if (addr % size !== 0) return -1;
  scratch.addr = addr;
  scratch.size = size;
  return i;
}
