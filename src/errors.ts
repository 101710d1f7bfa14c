import { terminalText } from './escape.js';

/** A user-facing error: one line naming the file, endpoint-set id, field and value. */
export class InputError extends Error {
  constructor(
    readonly file: string,
    readonly what: string,
    readonly setId?: string,
    readonly field?: string,
    readonly value?: unknown,
  ) {
    super(formatInputError(file, what, setId, field, value));
  }
}

/** Untrusted values are shown JSON-quoted, control characters escaped, and cut short. */
export function showValue(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  // the terminal's escaper: every control, bidi and invisible character as \uXXXX
  s = terminalText(s, Infinity);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

function formatInputError(
  file: string,
  what: string,
  setId?: string,
  field?: string,
  value?: unknown,
): string {
  const parts = [file];
  if (setId !== undefined) parts.push(`endpoint set ${showValue(setId).replace(/^"|"$/g, '')}`);
  if (field !== undefined) parts.push(`field ${field}`);
  const head = parts.join(': ');
  return value === undefined ? `${head}: ${what}` : `${head}: ${what}: ${showValue(value)}`;
}

/** A refusal by a guard or a target limit: the run writes nothing. */
export class GuardError extends Error {}

/** The causes of system errors, in words (a path is always said with them). */
export const CAUSES: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only filesystem',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EIO: 'input/output error',
  ENOTDIR: 'a part of the path is not a directory',
  ENOENT: 'a part of the path does not exist',
  EISDIR: 'is a directory',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'the name is too long',
};
