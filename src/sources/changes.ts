/**
 * Microsoft's own account of a feed change: the web service's `/changes/{instance}/{version}`
 * records (format: ../shared/o365-changes.md, from Microsoft's documentation). Parsing is tolerant
 * of fields and impact values it does not know and of the case of `disposition`, strict on the
 * types of the fields it reads: every error names the record, the field and the value.
 */
import { InputError } from '../errors.js';
import { parseExactJson } from './json.js';

import type { ChangeRecord, SetAttributes } from '../model.js';

export type { ChangeRecord, SetAttributes } from '../model.js';

export const CHANGES_LIMITS = { maxRecords: 200_000 } as const;
const VERSION = /^[0-9]{10}$/;
const TOKEN = /^[A-Za-z0-9_.-]{1,64}$/;

type Rec = Record<string, unknown>;

/** Validate the answer of /changes (a JSON array of records). */
export function parseChanges(where: string, text: string): ChangeRecord[] {
  const doc = parseExactJson(where, text);
  if (!Array.isArray(doc)) throw new InputError(where, 'expected a JSON array of change records');
  if (doc.length > CHANGES_LIMITS.maxRecords)
    throw new InputError(
      where,
      `${doc.length} change records, more than ${CHANGES_LIMITS.maxRecords}`,
    );
  return doc.map((raw, i) => parseRecord(where, raw, i));
}

type Bad = (field: string, why: string, v: unknown) => never;

/** An add or remove object: its ips and urls, lists of strings. */
function entryLists(field: string, v: unknown, bad: Bad): { ips: string[]; urls: string[] } {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return bad(field, 'must be an object', v);
  const o = v as Rec;
  const strs = (k: string): string[] => {
    if (o[k] === undefined) return [];
    if (
      !Array.isArray(o[k]) ||
      !(o[k] as unknown[]).every((x) => typeof x === 'string' && x.length <= 255)
    )
      return bad(`${field}.${k}`, 'must be a list of strings', o[k]);
    return [...(o[k] as string[])];
  };
  return { ips: strs('ips'), urls: strs('urls') };
}

/** The add object, with its effective date as YYYYMMDD (an ISO date is read the same way). */
function addition(v: unknown, bad: Bad): NonNullable<ChangeRecord['add']> {
  const add: NonNullable<ChangeRecord['add']> = entryLists('add', v, bad);
  const eff = (v as Rec).effectiveDate;
  if (eff === undefined) return add;
  const d =
    typeof eff === 'string' ? eff.replace(/^([0-9]{4})-([0-9]{2})-([0-9]{2}).*$/, '$1$2$3') : eff;
  if (typeof d !== 'string' || !/^[0-9]{8}$/.test(d))
    bad('add.effectiveDate', 'must be a date such as 20180609', eff);
  add.effectiveDate = d;
  return add;
}

/** The set's attributes after the change, as far as the record says (names, flags, port lists). */
function currentAttributes(v: unknown, bad: Bad): SetAttributes {
  if (!v || typeof v !== 'object' || Array.isArray(v)) bad('current', 'must be an object', v);
  const c = v as Rec;
  const cur: SetAttributes = {};
  for (const k of ['serviceArea', 'category'] as const)
    if (c[k] !== undefined) {
      if (typeof c[k] !== 'string' || !/^[A-Za-z0-9 _.-]{1,64}$/.test(c[k]))
        bad(`current.${k}`, 'must be a name', c[k]);
      cur[k] = c[k];
    }
  for (const k of ['required', 'expressRoute'] as const)
    if (c[k] !== undefined) {
      if (typeof c[k] !== 'boolean') bad(`current.${k}`, 'must be true or false', c[k]);
      cur[k] = c[k];
    }
  for (const k of ['tcpPorts', 'udpPorts'] as const)
    if (c[k] !== undefined && c[k] !== null) {
      if (typeof c[k] !== 'string' || !/^[0-9, -]{0,1000}$/.test(c[k]))
        bad(`current.${k}`, 'must be a port list such as 80,443', c[k]);
      cur[k] = c[k].replace(/ /g, '');
    }
  return cur;
}

function parseRecord(where: string, raw: unknown, i: number): ChangeRecord {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw new InputError(where, `change record ${i + 1} is not an object`);
  const r = raw as Rec;
  const idText = typeof r.id === 'number' || typeof r.id === 'string' ? String(r.id) : undefined;
  const at = `change record ${idText !== undefined && TOKEN.test(idText) ? idText : `#${i + 1}`}`;
  const bad: Bad = (field, why, v) => {
    throw new InputError(where, `${at}: field ${field} ${why}`, undefined, undefined, v);
  };
  const token = (field: string, v: unknown): string => {
    const t = typeof v === 'number' && Number.isInteger(v) ? String(v) : v;
    if (typeof t !== 'string' || !TOKEN.test(t))
      return bad(field, 'must be a number or a short name', v);
    return t;
  };
  const id = token('id', r.id);
  const endpointSetId = token('endpointSetId', r.endpointSetId);
  if (typeof r.disposition !== 'string' || !TOKEN.test(r.disposition))
    bad('disposition', 'must be add, change or remove', r.disposition);
  const disposition = r.disposition.toLowerCase();
  if (typeof r.version !== 'string' || !VERSION.test(r.version))
    bad('version', 'must be 10 digits (YYYYMMDDNN)', r.version);
  const out: ChangeRecord = { id, endpointSetId, disposition, version: r.version };
  if (r.impact !== undefined) {
    if (typeof r.impact !== 'string' || !TOKEN.test(r.impact))
      bad('impact', 'must be a name such as AddedIp', r.impact);
    out.impact = r.impact;
  }
  if (r.add !== undefined) out.add = addition(r.add, bad);
  if (r.remove !== undefined) out.remove = entryLists('remove', r.remove, bad);
  if (r.current !== undefined) out.current = currentAttributes(r.current, bad);
  return out;
}

/** The records published after `since` (the version the previous output was compiled from). */
export const recordsAfter = (records: readonly ChangeRecord[], since: string): ChangeRecord[] =>
  records.filter((r) => r.version > since);
