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
  s = s.replace(
    // eslint-disable-next-line no-control-regex -- these are the characters being escaped
    /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
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
