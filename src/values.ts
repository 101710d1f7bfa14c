/**
 * One strict parser per kind of value a user passes (CLI flags, library options): the CLI binds
 * them to commander's argParser, targets call them on the options they receive. A bad value is
 * an error naming the flag, the value (escaped) and what is valid. No Number(): it takes "1e3",
 * "0x64", " 7" and "" (as 0).
 */
import { showValue } from './errors.js';
import { canonicalPrefix, PrefixSyntaxError, type Family } from './net/prefix.js';

export class ValueError extends Error {}

/** A whole number in [min, max], decimal digits only. */
export function parseCount(flag: string, v: unknown, min: number, max: number): number {
  const s = typeof v === 'number' ? String(v) : v;
  if (
    typeof s !== 'string' ||
    !/^(0|[1-9][0-9]{0,9})$/.test(s) ||
    Number(s) < min ||
    Number(s) > max
  ) {
    throw new ValueError(`${flag} ${showValue(v)}: a whole number from ${min} to ${max}`);
  }
  return Number(s);
}

/** A decimal number in [min, max] (digits, an optional fraction of up to three digits). */
export function parseDecimal(flag: string, v: unknown, min: number, max: number): number {
  const s = typeof v === 'number' ? String(v) : v;
  if (
    typeof s !== 'string' ||
    !/^(0|[1-9][0-9]{0,8})(\.[0-9]{1,3})?$/.test(s) ||
    Number(s) < min ||
    Number(s) > max
  ) {
    throw new ValueError(`${flag} ${showValue(v)}: a number from ${min} to ${max}`);
  }
  return Number(s);
}

/** A CIDR prefix (host bits clear) or a bare address; returns its canonical text and family. */
export function parseCidr(flag: string, v: unknown): { family: Family; text: string } {
  if (typeof v !== 'string')
    throw new ValueError(`${flag} ${showValue(v)}: a CIDR prefix such as 192.0.2.0/24`);
  try {
    return canonicalPrefix(v, true);
  } catch (e) {
    if (e instanceof PrefixSyntaxError)
      throw new ValueError(`${flag} ${showValue(v)}: ${e.message}`);
    throw e;
  }
}

/** Whether a value looks like an address (so it must parse as one), rather than a name or tag. */
export const looksLikeAddress = (s: string): boolean => /^[0-9]/.test(s) || s.includes(':');

/** A host:port's port: 1-65535. */
export function parsePort(flag: string, v: string): number {
  return parseCount(flag, v, 1, 65535);
}

/** One of a closed set of names (case-insensitive), returned in its canonical spelling. */
export function parseChoice<T extends string>(flag: string, v: unknown, choices: readonly T[]): T {
  const hit = choices.find((c) => c.toLowerCase() === String(v).toLowerCase());
  if (!hit) throw new ValueError(`${flag} ${showValue(v)}: one of ${choices.join(', ')}`);
  return hit;
}

/** A check that returns the value unchanged when valid: for argParser, where the text travels on. */
export const checked =
  (f: (v: string) => unknown) =>
  (v: string): string => {
    f(v);
    return v;
  };

/** An option value as text: strings as they are, numbers and booleans printed; anything else is an error. */
export function text(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  throw new ValueError(`expected a text value, got ${showValue(v)}`);
}
