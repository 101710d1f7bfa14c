import { InputError } from '../errors.js';
import { CATEGORIES, type Category, type EndpointSet, type UrlEntry } from '../model.js';
import { classifyUrl, HostnameSyntaxError } from '../net/hostname.js';
import { parsePortString, PortSyntaxError } from '../net/ports.js';
import { canonicalPrefix, parsePrefix, PrefixSyntaxError } from '../net/prefix.js';
import { PrefixSet } from '../net/prefixset.js';
import { INPUT_LIMITS, type InputFile } from './read.js';
import { parseExactJson } from './json.js';
import { versionProblem } from './versions.js';

/** Characters allowed in a service area name: they end up in comments and object names. */
export const SERVICE_AREA = /^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$/;
export const SET_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export interface FeedMeta {
  instance?: string;
  version?: string;
}

/** Parse a web-service /endpoints response (bare array, or wrapped under .endpoints). */
export function parseO365Feed(file: InputFile): { sets: EndpointSet[]; meta: FeedMeta } {
  let doc = parseExactJson(file.name, file.text);
  const meta: FeedMeta = {};
  if (
    doc &&
    typeof doc === 'object' &&
    !Array.isArray(doc) &&
    Array.isArray((doc as Record<string, unknown>).endpoints)
  ) {
    const w = doc as Record<string, unknown>;
    // these reach every header, the report and the plan: validated like any field, never dropped silently
    if (w.instance !== undefined) {
      if (typeof w.instance !== 'string' || !/^[A-Za-z0-9]{1,32}$/.test(w.instance))
        throw new InputError(
          file.name,
          'wrapped feed: field instance must be an instance name such as Worldwide',
          undefined,
          undefined,
          w.instance,
        );
      meta.instance = w.instance;
    }
    if (w.version !== undefined) {
      if (versionProblem(w.version, Infinity))
        throw new InputError(
          file.name,
          "wrapped feed: field version must be the service's ten digits YYYYMMDDNN, such as 2026081400",
          undefined,
          undefined,
          w.version,
        );
      meta.version = w.version as string;
    }
    doc = w.endpoints;
  }
  if (!Array.isArray(doc))
    throw new InputError(
      file.name,
      'expected a JSON array of endpoint sets (or an object with an "endpoints" array)',
    );
  if (doc.length > INPUT_LIMITS.maxSets)
    throw new InputError(
      file.name,
      `${doc.length} endpoint sets, more than the ${INPUT_LIMITS.maxSets} a feed may hold; refusing it`,
    );
  const seen = new Set<string>();
  const sets = (doc as unknown[]).map((rec, i) => {
    const set = parseRecord(file.name, rec, i);
    if (seen.has(set.id))
      throw new InputError(file.name, 'duplicate id', set.id, 'id', (rec as Rec).id);
    seen.add(set.id);
    return set;
  });
  return { sets, meta };
}

type Rec = Record<string, unknown>;

/** A record's id: a non-negative integer or a plain name. */
function recordId(fileName: string, r: Rec, index: number): string {
  if (r.id === undefined || r.id === null)
    throw new InputError(fileName, `record #${index + 1} has no id`, undefined, 'id');
  if (typeof r.id === 'number' && Number.isSafeInteger(r.id) && r.id >= 0) return String(r.id);
  if (typeof r.id === 'string' && SET_ID.test(r.id)) return r.id;
  throw new InputError(
    fileName,
    'id must be a non-negative integer or a name of letters, digits, "_", "." and "-"',
    undefined,
    'id',
    r.id,
  );
}

/** The typed fields of one record; every error names the file, the set id, the field and the value. */
class RecordFields {
  constructor(
    readonly fileName: string,
    readonly id: string,
    readonly r: Rec,
  ) {}

  fail(field: string, what: string, value?: unknown): never {
    throw new InputError(this.fileName, what, this.id, field, value);
  }

  bool(field: string): boolean {
    const v = this.r[field];
    if (v === undefined) return false;
    if (typeof v !== 'boolean') this.fail(field, 'must be true or false', v);
    return v;
  }

  str(field: string): string | undefined {
    const v = this.r[field];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') this.fail(field, 'must be a string', v);
    return v;
  }

  list(field: string): unknown[] {
    const v = this.r[field];
    if (v === undefined) return [];
    if (!Array.isArray(v)) this.fail(field, 'must be an array', v);
    return v as unknown[];
  }

  ports(field: string): ReturnType<typeof parsePortString> {
    const v = this.r[field];
    if (v === undefined) return [];
    // YAML sets may give a number, or a list of numbers or "a-b" strings
    const text: unknown = Array.isArray(v)
      ? (v as unknown[]).map((x) => (typeof x === 'number' ? String(x) : x)).join(',')
      : typeof v === 'number'
        ? String(v)
        : v;
    if (
      typeof text !== 'string' ||
      (Array.isArray(v) && v.some((x) => typeof x !== 'number' && typeof x !== 'string'))
    )
      this.fail(field, 'must be a port string such as "80,443"', v);
    try {
      return parsePortString(text);
    } catch (e) {
      if (e instanceof PortSyntaxError) this.fail(field, e.message, v);
      throw e;
    }
  }

  ips(): { v4: string[]; v6: string[] } {
    const ips = { v4: [] as string[], v6: [] as string[] };
    for (const v of this.list('ips')) {
      if (typeof v !== 'string') this.fail('ips', 'must be a prefix string', v);
      try {
        const p = canonicalPrefix(v);
        (p.family === 4 ? ips.v4 : ips.v6).push(p.text);
      } catch (e) {
        if (e instanceof PrefixSyntaxError) this.fail('ips', e.message, v);
        throw e;
      }
    }
    return ips;
  }

  urls(): UrlEntry[] {
    const urls: UrlEntry[] = [];
    for (const v of this.list('urls')) {
      if (typeof v !== 'string') this.fail('urls', 'must be a host name string', v);
      try {
        urls.push(classifyUrl(v));
      } catch (e) {
        if (e instanceof HostnameSyntaxError) this.fail('urls', e.message, v);
        throw e;
      }
    }
    return urls;
  }
}

/** Validate one record; every error names file, set id, field and value. */
export function parseRecord(
  fileName: string,
  rec: unknown,
  index: number,
  origin: EndpointSet['origin'] = 'feed',
): EndpointSet {
  if (!rec || typeof rec !== 'object' || Array.isArray(rec))
    throw new InputError(
      fileName,
      `record #${index + 1} is not an object`,
      undefined,
      undefined,
      rec,
    );
  const r = rec as Rec;
  const f = new RecordFields(fileName, recordId(fileName, r, index), r);
  const serviceArea = r.serviceArea;
  if (serviceArea === undefined) f.fail('serviceArea', 'missing required field');
  if (typeof serviceArea !== 'string' || !SERVICE_AREA.test(serviceArea))
    f.fail(
      'serviceArea',
      'must be a name of letters, digits, spaces, "_", "." or "-"',
      serviceArea,
    );
  const category = r.category;
  if (category === undefined) f.fail('category', 'missing required field');
  if (!CATEGORIES.includes(category as Category))
    f.fail('category', 'must be Optimize, Allow or Default', category);
  const ips = f.ips();
  const urls = f.urls();
  const display = f.str('serviceAreaDisplayName');
  const notes = f.str('notes');
  const set: EndpointSet = {
    id: f.id,
    serviceArea: serviceArea as string,
    category: category as Category,
    required: f.bool('required'),
    expressRoute: f.bool('expressRoute'),
    tcpPorts: f.ports('tcpPorts'),
    udpPorts: f.ports('udpPorts'),
    prefixes: { v4: PrefixSet.of(4, dedupe(ips.v4)), v6: PrefixSet.of(6, dedupe(ips.v6)) },
    urls: dedupeUrls(urls),
    origin,
  };
  if (display !== undefined) set.serviceAreaDisplayName = display;
  if (notes !== undefined && notes !== '') set.notes = notes;
  return set;
}

/** Deduplicated and in address order: the output never depends on the order the feed lists them in. */
function dedupe(a: string[]): string[] {
  const key = (p: string) => {
    const x = parsePrefix(p);
    return [BigInt(x.addr), x.len] as const;
  };
  return [...new Set(a)]
    .map((p) => [p, key(p)] as const)
    .sort(([, x], [, y]) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : x[1] - y[1]))
    .map(([p]) => p);
}
function dedupeUrls(a: UrlEntry[]): UrlEntry[] {
  const m = new Map(a.map((u) => [u.host, u]));
  return [...m.values()].sort((x, y) => (x.host < y.host ? -1 : x.host > y.host ? 1 : 0));
}

export { compareIds } from '../model.js';
