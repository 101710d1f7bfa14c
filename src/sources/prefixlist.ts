import { createHash } from 'node:crypto';
import { closeSync, fstatSync, readSync } from 'node:fs';
import { openRegularFile, readFailure } from './read.js';
import { basename } from 'node:path';
import { InputError } from '../errors.js';
import type { EndpointSet } from '../model.js';
import { V4Accumulator } from '../net/merge.js';
import { addV6Text, V6Accumulator } from '../net/v6bulk.js';
import { parsePrefix, PrefixSyntaxError } from '../net/prefix.js';
import { PrefixSet } from '../net/prefixset.js';
import type { PortRange } from '../net/ports.js';

export interface PrefixListOptions {
  tcpPorts: PortRange[];
  udpPorts: PortRange[];
  onProgress?: (done: number, total: number) => void;
}

/** Prefixes read in bulk, straight into typed arrays (IPv4 bounds as 32-bit patterns, IPv6 as four words). */

const SLASH = 47,
  DOT = 46,
  HASH = 35,
  NL = 10,
  CR = 13,
  SP = 32,
  TAB = 9;

/** Bytes read at a time: the reader keeps one buffer this size (hot in cache, no fresh pages). */
export const READ_CHUNK = 256 * 1024;

/**
 * A plain prefix list: one IPv4/IPv6 prefix or address per line, "#" comments (also after an
 * entry), blank lines. Read from the bytes: a strict IPv4 fast path with no string per line;
 * anything else goes through the strict parser. Compiled as one endpoint set.
 */
export class PrefixListReader {
  readonly v4: V4Accumulator;
  readonly v6 = new V6Accumulator();
  private lineNo = 0;
  private started = false;

  /** `sizeHint`: the input's size in bytes, if known (reserves room for its lines). */
  constructor(
    private readonly name: string,
    sizeHint = 0,
  ) {
    // a canonical line takes at least 8 bytes ("0.0.0.0\n"): room for every line read fast
    this.v4 = new V4Accumulator(Math.max(1024, (sizeHint >>> 3) + 1));
  }

  /**
   * Read the lines in buf[0, n). Whole lines only, each ending in a newline, unless `last`: then
   * the final line may lack it.
   */
  feed(buf: Buffer, n: number, last: boolean): void {
    const { v4, v6, name } = this;
    // the fast reader stops at the last newline, so it never reads past the buffer
    const fastEnd = n > 0 ? buf.lastIndexOf(NL, n - 1) + 1 : 0;
    if (!last && fastEnd !== n)
      throw new Error('PrefixListReader.feed: a chunk must end with a newline');
    let i = 0;
    if (!this.started) {
      this.started = true;
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) i = 3;
    }
    // canonical "a.b.c.d[/len]" lines in a tight loop; any other line is read below, then back here
    while (i < n) {
      if (i < fastEnd) {
        const before = v4.count;
        // room for every line left: a canonical line takes at least 8 bytes ("0.0.0.0\n")
        const room = ((fastEnd - i) >>> 3) + 1;
        v4.reserve(room);
        i = fastV4Lines(buf, i, fastEnd, v4.starts, v4.ends, before, before + room);
        v4.count = fastRun.k;
        this.lineNo += fastRun.k - before;
        if (i >= n || !fastRun.stopped) continue;
      }
      const lineNo = ++this.lineNo;
      const lineStart = i;
      let addr = 0,
        part = 0,
        digits = 0,
        dots = 0,
        len = -1,
        lenDigits = 0;
      let content = false,
        slow = false,
        comment = false,
        trailing = false;
      for (; i < n; i++) {
        const c = buf[i];
        if (c === NL) break;
        if (comment) continue;
        if (c === HASH) {
          comment = true;
          continue;
        }
        if (c === SP || c === TAB || c === CR) {
          if (content) trailing = true;
          continue;
        }
        if (trailing) {
          slow = true;
          continue;
        } // text after blanks: let the strict parser name it
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
          addr = addr * 256 + part;
          part = 0;
          digits = 0;
        } else if (c === SLASH && len < 0) {
          len = 0;
        } else slow = true;
      }
      const lineEnd = i;
      i++; // past the newline
      if (!content) continue;
      if (
        !slow &&
        dots === 3 &&
        digits > 0 &&
        part <= 255 &&
        (len < 0 || (lenDigits > 0 && len <= 32))
      ) {
        addr = addr * 256 + part;
        const size = 2 ** (32 - (len < 0 ? 32 : len));
        if (addr % size === 0) {
          v4.addRange(addr, addr + size - 1);
          continue;
        }
      }
      let text = buf.toString('utf8', lineStart, lineEnd);
      const h = text.indexOf('#');
      if (h >= 0) text = text.slice(0, h);
      text = text.trim();
      if (addV6Text(v6, text)) continue;
      try {
        // not a plain IPv6 prefix: the strict parser accepts the rest (an embedded IPv4 part) or names the problem
        const p = parsePrefix(text, true);
        if (p.family === 4)
          throw new PrefixSyntaxError('not a strict four-part decimal IPv4 address');
        v6.addRange(p.addr, p.addr + (1n << BigInt(128 - p.len)) - 1n);
      } catch (err) {
        if (err instanceof PrefixSyntaxError)
          throw new InputError(`${name}:${lineNo}`, err.message, undefined, undefined, text);
        throw err;
      }
    }
  }

  /** The list as one endpoint set. */
  endpointSet(opts: PrefixListOptions): EndpointSet {
    const addressOnly = opts.tcpPorts.length === 0 && opts.udpPorts.length === 0;
    return {
      id: 'prefixes',
      serviceArea: 'PrefixList',
      category: 'Allow',
      required: true,
      expressRoute: false,
      tcpPorts: opts.tcpPorts,
      udpPorts: opts.udpPorts,
      addressOnly,
      prefixes: {
        v4: PrefixSet.ofAccumulator(4, this.v4),
        v6: PrefixSet.ofAccumulator(6, this.v6),
      },
      urls: [],
      origin: 'prefixes',
    };
  }
}

/** A prefix list held in memory. */
export function parsePrefixList(name: string, buf: Buffer, opts: PrefixListOptions): EndpointSet {
  const r = new PrefixListReader(name, buf.length);
  r.feed(buf, buf.length, true);
  opts.onProgress?.(buf.length, buf.length);
  return r.endpointSet(opts);
}

/**
 * A prefix list read from a file in chunks into one reused buffer, hashed as it is read: the
 * file is never held whole (a million lines are 16 MB of fresh pages otherwise).
 */
export function readPrefixListFile(
  path: string,
  opts: PrefixListOptions,
): { set: EndpointSet; name: string; sha256: string } {
  const name = basename(path);
  const fail = (e: unknown): never => {
    throw new InputError(name, readFailure(e));
  };
  const fd = openRegularFile(path, name);
  try {
    let size = 0;
    try {
      size = fstatSync(fd).size;
    } catch (e) {
      fail(e);
    }
    const hash = createHash('sha256');
    const reader = new PrefixListReader(name, size);
    let buf = Buffer.allocUnsafe(READ_CHUNK);
    let have = 0,
      done = 0;
    for (;;) {
      if (have === buf.length) {
        const nb = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(nb, 0, 0, have);
        buf = nb;
      } // a line longer than the buffer
      let got = 0;
      try {
        got = readSync(fd, buf, have, buf.length - have, null);
      } catch (e) {
        fail(e);
      }
      if (got > 0) hash.update(buf.subarray(have, have + got));
      have += got;
      const last = got === 0;
      const cut = last ? have : have > 0 ? buf.lastIndexOf(NL, have - 1) + 1 : 0;
      if (cut > 0) {
        reader.feed(buf, cut, last);
        buf.copy(buf, 0, cut, have);
        done += cut;
        have -= cut;
        opts.onProgress?.(done, Math.max(done, size));
      }
      if (last) break;
    }
    return { set: reader.endpointSet(opts), name, sha256: hash.digest('hex') };
  } finally {
    closeSync(fd);
  }
}

const fastRun = { k: 0, stopped: false };

/**
 * Read canonical IPv4 lines, "d.d.d.d[/len]\n", from i into starts/ends at k, strictly: no
 * leading zeros, octets <= 255, len <= 32, no host bits. Stops before the first line it cannot
 * read this way (fastRun.stopped) or after filling up to kStop. Int32 arithmetic throughout (V8
 * keeps it unboxed); end must follow a newline so that no read passes it. Returns the index of
 * the next unread line; fastRun.k is the next free slot.
 */
function fastV4Lines(
  b: Uint8Array,
  i: number,
  end: number,
  starts: Int32Array,
  ends: Int32Array,
  k: number,
  kStop: number,
): number {
  fastRun.stopped = true;
  line: while (i < end) {
    if (k === kStop) {
      fastRun.stopped = false;
      break;
    }
    // four octets, unrolled (about 10% faster than a loop): digits, no leading zero, <= 255
    let p = i,
      c = b[p];
    if (!(c >= 48 && c <= 57)) break line;
    let v = c - 48,
      addr: number;
    c = b[++p];
    if (c >= 48 && c <= 57) {
      if (v === 0) break line;
      v = v * 10 + c - 48;
      c = b[++p];
      if (c >= 48 && c <= 57) {
        v = v * 10 + c - 48;
        if (v > 255) break line;
        c = b[++p];
      }
    }
    if (c !== DOT) break line;
    addr = v;
    c = b[++p];
    if (!(c >= 48 && c <= 57)) break line;
    v = c - 48;
    c = b[++p];
    if (c >= 48 && c <= 57) {
      if (v === 0) break line;
      v = v * 10 + c - 48;
      c = b[++p];
      if (c >= 48 && c <= 57) {
        v = v * 10 + c - 48;
        if (v > 255) break line;
        c = b[++p];
      }
    }
    if (c !== DOT) break line;
    addr = (addr << 8) | v;
    c = b[++p];
    if (!(c >= 48 && c <= 57)) break line;
    v = c - 48;
    c = b[++p];
    if (c >= 48 && c <= 57) {
      if (v === 0) break line;
      v = v * 10 + c - 48;
      c = b[++p];
      if (c >= 48 && c <= 57) {
        v = v * 10 + c - 48;
        if (v > 255) break line;
        c = b[++p];
      }
    }
    if (c !== DOT) break line;
    addr = (addr << 8) | v;
    c = b[++p];
    if (!(c >= 48 && c <= 57)) break line;
    v = c - 48;
    c = b[++p];
    if (c >= 48 && c <= 57) {
      if (v === 0) break line;
      v = v * 10 + c - 48;
      c = b[++p];
      if (c >= 48 && c <= 57) {
        v = v * 10 + c - 48;
        if (v > 255) break line;
        c = b[++p];
      }
    }
    addr = (addr << 8) | v;
    let mask = 0;
    if (c === SLASH) {
      c = b[++p];
      if (!(c >= 48 && c <= 57)) break line;
      let len = c - 48;
      c = b[++p];
      if (c >= 48 && c <= 57) {
        if (len === 0) break line;
        len = len * 10 + c - 48;
        if (len > 32) break line;
        c = b[++p];
      }
      mask = len === 0 ? -1 : (1 << (32 - len)) - 1;
    }
    if (c !== NL || (addr & mask) !== 0) break line;
    starts[k] = addr;
    ends[k] = addr | mask;
    k++;
    i = p + 1;
  }
  if (i >= end) fastRun.stopped = false;
  fastRun.k = k;
  return i;
}
