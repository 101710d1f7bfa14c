import ipaddr from 'ipaddr.js';
import { fastFormatV6, fastParseV6 } from './ipv6.js';

export type Family = 4 | 6;

/** A parsed prefix: network address as a bigint (v6) or number (v4) and its length. */
export type Parsed =
  { family: 4; addr: number; len: number } | { family: 6; addr: bigint; len: number };

/** Why a prefix string was rejected; the caller adds file, set id and field. */
export class PrefixSyntaxError extends Error {}

const V6_MAPPED = { addr: 0xffffn << 32n, len: 96 };

/** Strict dotted quad (four decimal parts, no leading zeros) to uint32, or -1. */
export function parseIPv4Strict(s: string): number {
  let value = 0,
    part = 0,
    digits = 0,
    parts = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 46; // virtual trailing '.'
    if (c === 46) {
      if (digits === 0 || part > 255) return -1;
      value = value * 256 + part;
      parts++;
      part = 0;
      digits = 0;
      if (parts > 4) return -1;
    } else if (c >= 48 && c <= 57) {
      if (digits === 1 && part === 0) return -1; // leading zero: 010 is octal in some parsers
      part = part * 10 + (c - 48);
      if (++digits > 3) return -1;
    } else return -1;
  }
  return parts === 4 ? value : -1;
}

function parseLen(s: string, max: number): number {
  if (!/^(0|[1-9][0-9]{0,2})$/.test(s))
    throw new PrefixSyntaxError(`prefix length "${s}" is not a decimal number`);
  const len = Number(s);
  if (len > max) throw new PrefixSyntaxError(`prefix length /${len} is out of range (max /${max})`);
  return len;
}

/** IPv6 text to bigint, rejecting zone ids and IPv4-mapped addresses. */
export function parseIPv6Strict(s: string): bigint {
  if (s.includes('%')) throw new PrefixSyntaxError('IPv6 zone ids are not allowed');
  let v = fastParseV6(s);
  if (v === undefined) {
    if (!ipaddr.IPv6.isValid(s)) throw new PrefixSyntaxError('not a valid IPv4 or IPv6 address');
    v = 0n;
    for (const b of ipaddr.IPv6.parse(s).toByteArray()) v = (v << 8n) | BigInt(b);
  }
  if (v >> 32n === V6_MAPPED.addr >> 32n)
    throw new PrefixSyntaxError(
      'IPv4-mapped IPv6 addresses are not allowed; write the IPv4 prefix',
    );
  return v;
}

/**
 * Parse "a.b.c.d/len" or an IPv6 prefix strictly. Host bits set is an error (never masked
 * silently). With allowBare an address without /len is a host prefix.
 */
export function parsePrefix(text: string, allowBare = false): Parsed {
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  if (slash < 0 && !allowBare) throw new PrefixSyntaxError('missing /length');
  if (addrText.includes(':')) {
    const addr = parseIPv6Strict(addrText);
    const len = slash < 0 ? 128 : parseLen(text.slice(slash + 1), 128);
    const host = len === 128 ? 0n : (1n << BigInt(128 - len)) - 1n;
    if ((addr & host) !== 0n)
      throw new PrefixSyntaxError(`host bits set (network is ${formatV6(addr & ~host)}/${len})`);
    return { family: 6, addr, len };
  }
  const addr = parseIPv4Strict(addrText);
  if (addr < 0) throw new PrefixSyntaxError('not a strict four-part decimal IPv4 address');
  const len = slash < 0 ? 32 : parseLen(text.slice(slash + 1), 32);
  const size = 2 ** (32 - len);
  if (addr % size !== 0)
    throw new PrefixSyntaxError(
      `host bits set (network is ${formatV4(addr - (addr % size))}/${len})`,
    );
  return { family: 4, addr, len };
}

export function formatV4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** RFC 5952 text (the fast formatter; property tests hold it equal to ipaddr.js). */
export function formatV6(v: bigint): string {
  return fastFormatV6(v);
}

/** Canonical text of a parsed prefix (RFC 5952 for IPv6). */
export function formatPrefix(p: Parsed): string {
  return p.family === 4 ? `${formatV4(p.addr)}/${p.len}` : `${formatV6(p.addr)}/${p.len}`;
}

/** Parse then print canonically: the one way prefix strings enter the model. Exact: no trimming. */
export function canonicalPrefix(text: string, allowBare = false): { family: Family; text: string } {
  const p = parsePrefix(text, allowBare);
  return { family: p.family, text: formatPrefix(p) };
}

/** Inclusive [start, end] of a prefix as bigints (both families). */
export function prefixBounds(p: Parsed): [bigint, bigint] {
  const bits = p.family === 4 ? 32 : 128;
  const start = BigInt(p.addr);
  return [start, start + (1n << BigInt(bits - p.len)) - 1n];
}
