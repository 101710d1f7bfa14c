import { createRequire } from 'node:module';
import type { Resolver } from 'node:dns/promises';
import {
  fqdn,
  recordsFor,
  type DnsInstance,
  type DnsRecord,
  type Service,
  type TenantValues,
} from './records.js';

export type Verdict =
  | 'ok'
  | 'missing'
  | 'wrong'
  | 'unexpected'
  | 'error'
  | 'not-known'
  /** a record needed once (the MS= verification TXT) whose value was not given: not judged */
  | 'not-checked';
export interface CheckResult {
  record: string;
  service?: Service;
  name: string;
  verdict: Verdict;
  expected: string;
  found?: string[];
  note?: string;
}

/** DNS resolution limits for check: a dead resolver ends the run quickly. */
/** maxCnameHops: as far as common resolvers follow a chain (BIND and Unbound stop at 16 or so). */
export const DNS_LIMITS = { timeoutMs: 2000, tries: 2, maxCnameHops: 16 } as const;

class LookupError extends Error {
  constructor(
    readonly code: string,
    msg: string,
  ) {
    super(msg);
  }
}

/** Levenshtein distance, for "likely typo" (a near miss of the expected name). */
export function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [
    i,
    ...new Array<number>(b.length).fill(0),
  ]);
  for (let j = 1; j <= b.length; j++) dp[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      dp[i][j] = Math.min(
        dp[i - 1][j] + 1,
        dp[i][j - 1] + 1,
        dp[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
  return dp[a.length][b.length];
}
const typo = (found: string, expected: string) =>
  found !== expected &&
  editDistance(found, expected) <= Math.max(2, Math.floor(expected.length / 15));

/** Parse --resolver host:port (IPv4, [IPv6]:port or a bare address). */
export function parseResolver(spec: string): string {
  const m =
    /^(?:(\d{1,3}(?:\.\d{1,3}){3})|\[([0-9a-fA-F:]+)\])(?::(\d{1,5}))?$/.exec(spec) ??
    (/^[0-9a-fA-F:]+$/.test(spec) && spec.includes(':')
      ? [spec, undefined, spec, undefined]
      : null);
  if (!m)
    throw new Error(
      `--resolver ${JSON.stringify(spec)}: give host:port, e.g. 127.0.0.1:5353 or [::1]:53`,
    );
  const port = m[3] ? Number(m[3]) : 53;
  if (port < 1 || port > 65535) throw new Error(`--resolver: port ${port} is out of range`);
  return m[1] ? `${m[1]}:${port}` : `[${m[2]}]:${port}`;
}

export function makeResolver(spec?: string): Resolver {
  // loaded here, not at startup: every other command would pay for the resolver module
  const dns = createRequire(import.meta.url)(
    'node:dns/promises',
  ) as typeof import('node:dns/promises');
  const r = new dns.Resolver({ timeout: DNS_LIMITS.timeoutMs, tries: DNS_LIMITS.tries });
  if (spec) r.setServers([parseResolver(spec)]);
  return r;
}

async function lookup<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
    // no such name, or no record of the kind: the record is missing, not a failure
    if (code === 'ENOTFOUND' || code === 'ENODATA') return undefined;
    const why: Record<string, string> = {
      ESERVFAIL: 'SERVFAIL',
      EREFUSED: 'REFUSED',
      ETIMEOUT: 'timed out',
      ECONNREFUSED: 'connection refused',
    };
    throw new LookupError(code, `${what}: ${why[code] ?? code}`);
  }
}

/** ASCII-only lower case: a Unicode fold would turn a Kelvin sign into "k" and call it equal. */
export const asciiLower = (s: string): string => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
const norm = (s: string) => asciiLower(s).replace(/\.$/, '');

/**
 * Follow CNAMEs from name, as far as a resolver would, but never past the expected target: its
 * own zone may be served elsewhere (an authoritative-only server refuses it). A lookup failure
 * after a hop that already decides the verdict (the target, or a likely typo of it) ends the chain.
 */
async function cnameChain(
  r: DnsLookups,
  name: string,
  expected?: string,
): Promise<{ chain: string[]; error?: LookupError }> {
  const chain: string[] = [];
  let cur = name;
  for (let i = 0; i < DNS_LIMITS.maxCnameHops; i++) {
    let t: string[] | undefined;
    try {
      t = await lookup(`CNAME ${cur}`, () => r.resolveCname(cur));
    } catch (e) {
      if (e instanceof LookupError) return { chain, error: e };
      throw e;
    }
    if (!t?.length) break;
    cur = norm(t[0]);
    chain.push(cur);
    if (expected && (cur === expected || typo(cur, expected))) break;
  }
  return { chain };
}

const record = (rec: string, name: string, expected: string) => ({ record: rec, name, expected });

async function checkCname(
  r: DnsLookups,
  rec: string,
  name: string,
  expected: string,
  known: boolean,
): Promise<CheckResult> {
  const { chain, error } = await cnameChain(r, name, known ? expected : undefined);
  const base = record(rec, name, expected);
  if (!known) {
    // a tenant-specific target that was not given: present or not is all that can be judged
    if (error) return { ...base, verdict: 'error', note: error.message };
    return chain.length
      ? {
          ...base,
          verdict: 'ok',
          found: chain,
          note: 'target not compared (the tenant value was not given)',
        }
      : { ...base, verdict: 'missing' };
  }
  if (chain.includes(expected))
    return {
      ...base,
      verdict: 'ok',
      found: chain,
      ...(chain.length > 1 ? { note: `CNAME chain of ${chain.length}` } : {}),
    };
  const near = chain.find((c) => typo(c, expected));
  // a likely typo is wrong whether or not the name it points to resolves
  if (near)
    return {
      ...base,
      verdict: 'wrong',
      found: chain,
      note: `likely typo: ${near} is ${editDistance(near, expected)} character(s) from ${expected}`,
    };
  if (error)
    return {
      ...base,
      verdict: 'error',
      ...(chain.length ? { found: chain } : {}),
      note: error.message,
    };
  if (!chain.length) return { ...base, verdict: 'missing' };
  return { ...base, verdict: 'wrong', found: chain, note: `points to ${chain[chain.length - 1]}` };
}

/** One record's check, any lookup failure its own "error" verdict: the others are still judged. */
async function judged(
  rec: string,
  name: string,
  expected: string,
  f: () => Promise<CheckResult>,
): Promise<CheckResult> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof LookupError)
      return { ...record(rec, name, expected), verdict: 'error', note: e.message };
    throw e;
  }
}

/**
 * DMARC: v=DMARC1 first, a p= of none, quarantine or reject, tags as tag=value separated by ";";
 * with `want` (check --dmarc-policy), p= must be that policy.
 */
export function judgeDmarc(text: string, want?: string): { ok: boolean; note?: string } {
  const tags = text
    .split(';')
    .map((t) => t.trim())
    .filter(Boolean);
  if (tags[0] !== 'v=DMARC1') return { ok: false, note: 'the record must start with v=DMARC1' };
  const kv = new Map<string, string>();
  for (const t of tags.slice(1)) {
    const m = /^([a-z]+)\s*=\s*(.*)$/i.exec(t);
    if (!m) return { ok: false, note: `"${t}" is not a tag=value pair` };
    kv.set(m[1].toLowerCase(), m[2]);
  }
  const p = kv.get('p');
  if (p === undefined) return { ok: false, note: 'no p= policy tag (RFC 7489: required)' };
  if (!['none', 'quarantine', 'reject'].includes(p.toLowerCase()))
    return { ok: false, note: `p=${p} is not none, quarantine or reject` };
  if (want && p.toLowerCase() !== want)
    return { ok: false, note: `p=${p}, not the p=${want} --dmarc-policy asks for` };
  return { ok: true };
}

type TxtBase = ReturnType<typeof record>;

/** SPF and DMARC: one record of each, judged by its rules. */
function judgeOneTxt(
  x: DnsRecord,
  base: TxtBase,
  mine: string[],
  tenant: TenantValues,
): CheckResult {
  if (x.id === 'spf') {
    if (mine.length > 1)
      return {
        ...base,
        verdict: 'wrong',
        found: mine,
        note: 'more than one v=spf1 record (RFC 7208: permerror)',
      };
    const include = x.value.split(/\s+/).find((w) => w.startsWith('include:'))!;
    const j = judgeSpf(mine[0], include);
    return {
      ...base,
      expected: include,
      verdict: j.ok ? 'ok' : 'wrong',
      found: mine,
      ...(j.note ? { note: j.note } : {}),
    };
  }
  if (mine.length > 1)
    return {
      ...base,
      expected: 'v=DMARC1; p=…',
      verdict: 'wrong',
      found: mine,
      note: 'more than one DMARC record',
    };
  const j = judgeDmarc(mine[0], tenant.dmarcPolicy);
  return {
    ...base,
    expected: tenant.dmarcPolicy ? `v=DMARC1; p=${tenant.dmarcPolicy}` : 'v=DMARC1; p=…',
    verdict: j.ok ? 'ok' : 'wrong',
    found: mine,
    ...(j.note ? { note: j.note } : {}),
  };
}

/** The verification TXT: the tenant's exact value when given, else any MS= record. */
function judgeVerification(x: DnsRecord, base: TxtBase, mine: string[]): CheckResult {
  if (x.placeholder)
    return {
      ...base,
      verdict: 'ok',
      found: mine,
      note: 'value not compared (pass --verification)',
    };
  if (mine.includes(x.value)) return { ...base, verdict: 'ok', found: mine };
  const near = mine.find((t) => typo(t, x.value));
  return {
    ...base,
    verdict: 'wrong',
    found: mine,
    note: near ? `likely typo: ${near}` : `no ${x.value}`,
  };
}

async function checkTxt(
  r: DnsLookups,
  x: DnsRecord,
  domain: string,
  tenant: TenantValues,
): Promise<CheckResult> {
  const name = fqdn(x.name, domain);
  const expected = x.placeholder ? `${x.prefix}… (${x.placeholder} not given)` : x.value;
  return judged(x.id, name, expected, async () => {
    // sorted: a server may answer in any order, and the result (and the typo picked) must not follow it
    const txt = ((await lookup(`TXT ${name}`, () => r.resolveTxt(name))) ?? [])
      .map((chunks) => chunks.join(''))
      .sort();
    const prefix = x.prefix!;
    const mine = txt.filter((t) =>
      prefix === 'v=spf1' ? /^v=spf1(\s|$)/i.test(t) : t.startsWith(prefix),
    );
    const base = record(x.id, name, expected);
    // the MS= TXT is needed once, while the admin center verifies the domain; without
    // --verification its absence says nothing about the domain as it must be now
    if (x.id === 'verification' && x.placeholder && !mine.length)
      return {
        ...base,
        verdict: 'not-checked',
        note: 'needed once, to verify the domain in the admin center; pass --verification to check it',
      };
    if (!mine.length) {
      const near = txt.find((t) =>
        typo(t.slice(0, prefix.length + 2), x.value.slice(0, prefix.length + 2)),
      );
      return near
        ? { ...base, verdict: 'wrong', found: txt, note: `likely typo: ${near}` }
        : { ...base, verdict: 'missing' };
    }
    if (x.id === 'spf' || x.id === 'dmarc') return judgeOneTxt(x, base, mine, tenant);
    return judgeVerification(x, base, mine);
  });
}

async function checkSrv(r: DnsLookups, x: DnsRecord, domain: string): Promise<CheckResult> {
  const name = fqdn(x.name, domain);
  const expected = `${x.priority} ${x.weight} ${x.port} ${x.value}`;
  return judged(x.id, name, expected, async () => {
    const got = (await lookup(`SRV ${name}`, () => r.resolveSrv(name))) ?? [];
    const base = record(x.id, name, expected);
    if (!got.length) return { ...base, verdict: 'missing' };
    const found = got.map((g) => `${g.priority} ${g.weight} ${g.port} ${norm(g.name)}`).sort();
    if (found.includes(expected)) return { ...base, verdict: 'ok', found };
    const g = got.map((e) => ({ ...e, name: norm(e.name) }));
    const diff = g.map((e) =>
      [
        e.priority !== x.priority && `priority ${e.priority} (expected ${x.priority})`,
        e.weight !== x.weight && `weight ${e.weight} (expected ${x.weight})`,
        e.port !== x.port && `port ${e.port} (expected ${x.port})`,
        e.name !== x.value &&
          (typo(e.name, x.value) ? `likely typo: ${e.name}` : `target ${e.name}`),
      ]
        .filter(Boolean)
        .join(', '),
    );
    return { ...base, verdict: 'wrong', found, note: diff.sort((a, b) => a.length - b.length)[0] };
  });
}

async function checkMx(r: DnsLookups, x: DnsRecord, domain: string): Promise<CheckResult> {
  const name = fqdn(x.name, domain);
  const suffix = x.suffix!;
  const expected = x.placeholder ? `<token>.${suffix}` : x.value;
  return judged('mx', name, expected, async () => {
    const mx = (await lookup(`MX ${name}`, () => r.resolveMx(name))) ?? [];
    const hosts = mx.sort((a, b) => a.priority - b.priority).map((m) => norm(m.exchange));
    const base = record('mx', name, expected);
    if (!hosts.length) return { ...base, verdict: 'missing' };
    // the suffix on a label boundary: "x.xmail.protection.outlook.com" is not ours
    const ok = x.placeholder
      ? hosts.some((h) => h.endsWith(`.${suffix}`) && h.length > suffix.length + 1)
      : hosts.includes(x.value);
    const near = hosts.find((h) =>
      typo(x.placeholder ? h.split('.').slice(1).join('.') : h, x.placeholder ? suffix : x.value),
    );
    return {
      ...base,
      verdict: ok ? 'ok' : 'wrong',
      found: hosts,
      ...(!ok && near ? { note: `likely typo: ${near}` } : {}),
    };
  });
}

/** SPF: the include with a passing qualifier (none or "+"), and no "all" that lets everyone send. */
export function judgeSpf(spf: string, include: string): { ok: boolean; note?: string } {
  const terms = asciiLower(spf).split(/\s+/).filter(Boolean);
  const wide = terms.find((t) => /^[+?]?all$/.test(t));
  if (wide) return { ok: false, note: `"${wide}" lets any host send for the domain` };
  const inc = terms.find((t) => t.replace(/^[+\-~?]/, '') === include);
  if (inc && /^[-~?]/.test(inc))
    return { ok: false, note: `"${inc}": the qualifier ${inc[0]} does not let Microsoft 365 pass` };
  if (inc) return { ok: true };
  const near = terms.find(
    (t) =>
      t.replace(/^[+\-~?]/, '').startsWith('include:') && typo(t.replace(/^[+\-~?]/, ''), include),
  );
  return { ok: false, ...(near ? { note: `likely typo: ${near}` } : { note: `no ${include}` }) };
}

/**
 * The lookups check makes: node:dns/promises' Resolver has them; a caller may give its own (a
 * DNS-over-HTTPS client, a zone held in memory). Errors carry the resolver's codes (ENOTFOUND,
 * ENODATA: no record; ESERVFAIL, EREFUSED, ETIMEOUT, ECONNREFUSED: the lookup failed).
 */
export type DnsLookups = Pick<Resolver, 'resolveCname' | 'resolveTxt' | 'resolveSrv' | 'resolveMx'>;

/**
 * Check every record of the services for the instance; each is judged even when another errs.
 * Records that must not exist (msoid outside China) are "unexpected" when present; services whose
 * values Microsoft does not document for the instance are listed as "not-known", never guessed.
 */
export async function checkDomain(
  domain: string,
  instance: DnsInstance,
  resolver: string | DnsLookups | undefined,
  services: Service[],
  tenant: TenantValues = {},
): Promise<CheckResult[]> {
  const r = typeof resolver === 'object' ? resolver : makeResolver(resolver);
  const d = norm(domain);
  const { records, notes } = recordsFor(instance, services, tenant);
  const out: CheckResult[] = [];
  for (const x of records) {
    const row =
      x.type === 'CNAME'
        ? await judged(x.id, fqdn(x.name, d), x.value, () =>
            checkCname(r, x.id, fqdn(x.name, d), norm(x.value), !x.placeholder),
          )
        : x.type === 'TXT'
          ? await checkTxt(r, x, d, tenant)
          : x.type === 'SRV'
            ? await checkSrv(r, x, d)
            : await checkMx(r, x, d);
    out.push({ ...row, service: x.service });
  }
  for (const n of notes) {
    const name = fqdn(n.name, d);
    if (n.kind === 'not-known') {
      out.push({
        record: n.id,
        service: n.service,
        name,
        verdict: 'not-known',
        expected: 'not known',
        note: n.detail,
      });
      continue;
    }
    out.push({
      service: n.service,
      ...(await judged(n.id, name, 'no record', async () => {
        const { chain, error } = await cnameChain(r, name);
        if (chain.length)
          return {
            ...record(n.id, name, 'no record'),
            verdict: 'unexpected',
            found: chain,
            note: n.detail,
          };
        if (error) throw error;
        return { ...record(n.id, name, 'no record'), verdict: 'ok' };
      })),
    });
  }
  return out;
}
