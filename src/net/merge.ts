import { mergeV6 } from './v6bulk.js';
import {
  type Family,
  formatPrefix,
  parseIPv4Strict,
  parsePrefix,
  prefixBounds,
  PrefixSyntaxError,
} from './prefix.js';

/**
 * Lossless prefix merge, output the minimal CIDR cover of the union sorted by address. IPv4 runs
 * on typed arrays here (sort starts and ends separately, sweep), IPv6 likewise in v6bulk.ts. The
 * bigint interval helpers below serve policy excludes and guards, which work on a few prefixes.
 */
export class V4Accumulator {
  /** bounds as raw 32-bit patterns (Int32Array: V8 keeps int32 arithmetic and stores unboxed) */
  starts: Int32Array;
  ends: Int32Array;
  /** ranges added (the input count; unchanged by merging) */
  count = 0;
  /** the merged cover, once asked for: the raw arrays are spent making it */
  private cover?: V4Cover;

  constructor(capacity = 1024) {
    this.starts = new Int32Array(capacity);
    this.ends = new Int32Array(capacity);
  }

  /** Room for at least `extra` more ranges. */
  reserve(extra: number): void {
    this.open();
    if (this.count + extra <= this.starts.length) return;
    const size = Math.max(this.count + extra, this.starts.length * 2);
    const s = new Int32Array(size);
    s.set(this.starts.subarray(0, this.count));
    this.starts = s;
    const e = new Int32Array(size);
    e.set(this.ends.subarray(0, this.count));
    this.ends = e;
  }

  /** Append every range of another accumulator (its merged cover, if it was merged). */
  addAll(o: V4Accumulator): void {
    if (o.cover) {
      const c = o.cover;
      this.reserve(c.intervals);
      for (let i = 0; i < c.intervals; i++) this.addRange(c.starts[i], c.ends[i]);
      return;
    }
    this.reserve(o.count);
    this.starts.set(o.starts.subarray(0, o.count), this.count);
    this.ends.set(o.ends.subarray(0, o.count), this.count);
    this.count += o.count;
  }

  /** Add an inclusive range of unsigned 32-bit addresses. */
  addRange(start: number, end: number): void {
    if (this.count >= this.starts.length) this.reserve(1); // also true once merged: reserve refuses
    this.starts[this.count] = start;
    this.ends[this.count] = end;
    this.count++;
  }

  /** Add a canonical "a.b.c.d/len" (already validated upstream: fast path, re-checked). */
  addText(text: string): void {
    const slash = text.indexOf('/');
    const addr = parseIPv4Strict(slash < 0 ? text : text.slice(0, slash));
    const len = slash < 0 ? 32 : Number(text.slice(slash + 1));
    if (addr < 0 || !(len >= 0 && len <= 32))
      throw new PrefixSyntaxError(`not an IPv4 prefix: ${text}`);
    this.addRange(addr, addr + 2 ** (32 - len) - 1);
  }

  private open(): void {
    if (this.cover) throw new Error('V4Accumulator: ranges added after merging');
  }

  merged(): string[] {
    return v4CoverList(this.mergedCover());
  }

  /**
   * The merged cover, kept as intervals (see prefixtext.ts). Made once: the same list in a TCP
   * and a UDP rule is merged once. Adding ranges afterwards is an error.
   */
  mergedCover(): V4Cover {
    return (this.cover ??= this.merge());
  }

  /**
   * Sort starts and ends separately and sweep: the union breaks after the i-th end wherever the
   * next start lies beyond it (+1: adjacent ranges join). Everything happens in the arrays already
   * touched (fresh pages cost a fault each): the starts' storage is the scratch for sorting the
   * ends, and the sweep writes its intervals over the sorted arrays it has read past.
   */
  private merge(): V4Cover {
    const n = this.count;
    const s = radixSort32(this.starts.subarray(0, n));
    // below the radix threshold both sort in place and the scratch is unused
    const e = radixSort32(this.ends.subarray(0, n), this.starts.subarray(0, n));
    const MIN = -0x80000000; // x ^ MIN orders 32-bit patterns unsigned under signed comparison
    let k = 0,
      runStart = 0;
    for (let i = 0; i < n; i++) {
      const end = e[i];
      if (i === n - 1 || (s[i + 1] ^ MIN) - (end ^ MIN) > 1) {
        s[k] = s[runStart];
        e[k] = end;
        k++; // k <= runStart <= i: only slots already read
        runStart = i + 1;
      }
    }
    this.starts = this.ends = new Int32Array(0);
    const starts = new Uint32Array(s.buffer, s.byteOffset, k),
      ends = new Uint32Array(e.buffer, e.byteOffset, k);
    return { starts, ends, intervals: k, count: v4CidrCount(starts, ends, k) };
  }
}

/** A minimal IPv4 CIDR cover kept as sorted disjoint inclusive intervals, and its prefix count. */
export interface V4Cover {
  starts: Uint32Array;
  ends: Uint32Array;
  intervals: number;
  count: number;
}

/** 2^0 .. 2^32 (a variable `2 ** x` is a Math.pow call) */
const POW2 = Float64Array.from({ length: 33 }, (_, i) => 2 ** i);

/** The size (log2) of the largest CIDR block starting at s that fits in s..end. */
function blockBits(s: number, end: number): number {
  const alignBits = s === 0 ? 32 : 31 - Math.clz32(s & -s);
  const left = end - s + 1; // up to 2^32
  const fitBits = left >= 4294967296 ? 32 : 31 - Math.clz32(left);
  return alignBits < fitBits ? alignBits : fitBits;
}

/** How many prefixes the minimal CIDR cover of the intervals has. */
export function v4CidrCount(starts: Uint32Array, ends: Uint32Array, count: number): number {
  let n = 0;
  for (let i = 0; i < count; i++) {
    const end = ends[i];
    for (let s = starts[i]; s <= end; s += POW2[blockBits(s, end)]) n++;
  }
  return n;
}

/** Decimal digits of 0..255, three bytes each (left-aligned), and how many are used. */
const OCTET_DIGITS = new Uint8Array(256 * 3);
const OCTET_LEN = new Uint8Array(256);
for (let v = 0; v < 256; v++) {
  const d = String(v);
  OCTET_LEN[v] = d.length;
  for (let k = 0; k < d.length; k++) OCTET_DIGITS[v * 3 + k] = d.charCodeAt(k);
}

/**
 * The cover's canonical prefixes joined by `sep` (ASCII), written as bytes into one buffer: no
 * string per prefix. Same bytes as `list.join(sep)`.
 */
export function v4CoverBytes(c: V4Cover, sep: string): Buffer {
  if (c.count === 0) return Buffer.alloc(0);
  // "/len" followed by the separator, for each len: written from a table
  const suffixes = Array.from({ length: 33 }, (_, len) => Buffer.from(`/${len}${sep}`, 'latin1'));
  const maxLine = 16 + Math.max(...suffixes.map((x) => x.length));
  const buf = Buffer.allocUnsafe(c.count * maxLine);
  const { starts, ends } = c;
  let p = 0;
  for (let i = 0; i < c.intervals; i++) {
    let s = starts[i];
    const end = ends[i];
    while (s <= end) {
      const bits = blockBits(s, end);
      for (let shift = 24; shift >= 0; shift -= 8) {
        const v = (s >>> shift) & 255,
          at = v * 3,
          len = OCTET_LEN[v];
        buf[p] = OCTET_DIGITS[at];
        if (len > 1) {
          buf[p + 1] = OCTET_DIGITS[at + 1];
          if (len > 2) buf[p + 2] = OCTET_DIGITS[at + 2];
        }
        p += len;
        if (shift) buf[p++] = 46; // "."
      }
      const suffix = suffixes[32 - bits];
      for (let k = 0; k < suffix.length; k++) buf[p++] = suffix[k];
      s += POW2[bits];
    }
  }
  return buf.subarray(0, p - sep.length);
}

/** The cover as an array of canonical prefixes. */
export function v4CoverList(c: V4Cover): string[] {
  return c.count ? v4CoverBytes(c, '\n').toString('latin1').split('\n') : [];
}

/**
 * Sort 32-bit patterns in unsigned order: three 11-bit LSD counting passes for large inputs
 * (2048 buckets stay in cache, unlike 65536), a native sort of the unsigned view below the
 * threshold. Large inputs return the sorted values in `scratch` (a new array if none is given,
 * or one of a's length that may be overwritten); `a` is left in an intermediate order.
 */
export function radixSort32(a: Int32Array, scratch?: Int32Array): Int32Array {
  const n = a.length;
  if (n < 4096) {
    new Uint32Array(a.buffer, a.byteOffset, n).sort();
    return a;
  }
  const c0 = new Int32Array(2048),
    c1 = new Int32Array(2048),
    c2 = new Int32Array(1024);
  for (let i = 0; i < n; i++) {
    const v = a[i];
    c0[v & 2047]++;
    c1[(v >>> 11) & 2047]++;
    c2[v >>> 22]++;
  }
  for (const c of [c0, c1, c2]) {
    let sum = 0;
    for (let d = 0; d < c.length; d++) {
      const x = c[d];
      c[d] = sum;
      sum += x;
    }
  }
  if (scratch && scratch.length !== n)
    throw new Error("radixSort32: scratch must have the input's length");
  const tmp = scratch ?? new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = a[i];
    tmp[c0[v & 2047]++] = v;
  }
  for (let i = 0; i < n; i++) {
    const v = tmp[i];
    a[c1[(v >>> 11) & 2047]++] = v;
  }
  for (let i = 0; i < n; i++) {
    const v = a[i];
    tmp[c2[v >>> 22]++] = v;
  }
  return tmp;
}

export type Interval = [bigint, bigint];

/** Union of inclusive bigint intervals, adjacent ones joined, sorted. */
export function unionIntervals(list: Interval[]): Interval[] {
  const sorted = list.slice().sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: Interval[] = [];
  for (const [s, e] of sorted) {
    const last = out[out.length - 1];
    if (last && s <= last[1] + 1n) {
      if (e > last[1]) last[1] = e;
    } else out.push([s, e]);
  }
  return out;
}

export function toIntervals(family: Family, prefixes: Iterable<string>): Interval[] {
  const out: Interval[] = [];
  for (const t of prefixes) {
    const p = parsePrefix(t, true);
    if (p.family !== family) throw new PrefixSyntaxError(`${t} is not IPv${family}`);
    out.push(prefixBounds(p));
  }
  return out;
}

/** Merge canonical prefix strings of one family into their minimal sorted cover. */
export function mergePrefixes(family: Family, prefixes: Iterable<string>): string[] {
  if (family === 4) {
    const acc = new V4Accumulator();
    for (const t of prefixes) acc.addText(t);
    return acc.merged();
  }
  return mergeV6(prefixes);
}

/** Whether two interval unions share any address. */
export function intersects(a: Interval[], b: Interval[]): boolean {
  const A = unionIntervals(a),
    B = unionIntervals(b);
  let i = 0,
    j = 0;
  while (i < A.length && j < B.length) {
    if (A[i][1] < B[j][0]) i++;
    else if (B[j][1] < A[i][0]) j++;
    else return true;
  }
  return false;
}

/** The CIDR blocks exactly covering the inclusive interval [s, e], in address order. */
function intervalCidrs(family: Family, s: bigint, e: bigint): string[] {
  const bits = family === 4 ? 32 : 128;
  const out: string[] = [];
  while (s <= e) {
    // the largest block aligned at s that ends within e
    let size = 0;
    while (
      size < bits &&
      (s & ((1n << BigInt(size + 1)) - 1n)) === 0n &&
      s + (1n << BigInt(size + 1)) - 1n <= e
    )
      size++;
    out.push(
      formatPrefix(
        family === 4
          ? { family: 4, addr: Number(s), len: bits - size }
          : { family: 6, addr: s, len: bits - size },
      ),
    );
    s += 1n << BigInt(size);
  }
  return out;
}

/**
 * The addresses of `a` that are not in `b`, as a minimal CIDR list (one family). A plan compares
 * address space with it: a prefix split or joined by the merge is not an addition or a removal.
 */
export function subtractPrefixes(
  family: Family,
  a: Iterable<string>,
  b: Iterable<string>,
): string[] {
  const A = unionIntervals(toIntervals(family, a)),
    B = unionIntervals(toIntervals(family, b));
  const out: string[] = [];
  let j = 0;
  for (const [s0, e] of A) {
    let s = s0;
    while (j < B.length && B[j][1] < s) j++;
    let k = j;
    while (s <= e && k < B.length && B[k][0] <= e) {
      if (B[k][0] > s) out.push(...intervalCidrs(family, s, B[k][0] - 1n));
      if (B[k][1] >= s) s = B[k][1] + 1n;
      k++;
    }
    if (s <= e) out.push(...intervalCidrs(family, s, e));
  }
  return out;
}
