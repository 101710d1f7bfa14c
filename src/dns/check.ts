import { Resolver } from 'node:dns/promises';
import { INSTANCE_RECORDS, type DnsInstance } from './records.js';

export type Verdict = 'ok' | 'missing' | 'wrong' | 'unexpected' | 'error';
export interface CheckResult { record: 'msoid' | 'autodiscover' | 'mx' | 'spf'; name: string; verdict: Verdict; expected: string; found?: string[]; note?: string }

/** DNS resolution limits for check: a dead resolver ends the run quickly. */
/** maxCnameHops: as far as common resolvers follow a chain (BIND and Unbound stop at 16 or so). */
export const DNS_LIMITS = { timeoutMs: 2000, tries: 2, maxCnameHops: 16 } as const;

class LookupError extends Error { constructor(readonly code: string, msg: string) { super(msg); } }
const MISSING = new Set(['ENOTFOUND', 'ENODATA']);

/** Levenshtein distance, for "likely typo" (a near miss of the expected name). */
export function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) dp[0][j] = j;
  for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) {
    dp[i][j] = Math.min(dp[i - 1][j] + 1, dp[i][j - 1] + 1, dp[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  }
  return dp[a.length][b.length];
}
const typo = (found: string, expected: string) => found !== expected && editDistance(found, expected) <= Math.max(2, Math.floor(expected.length / 15));

/** Parse --resolver host:port (IPv4, [IPv6]:port or a bare address). */
export function parseResolver(spec: string): string {
  const m = /^(?:(\d{1,3}(?:\.\d{1,3}){3})|\[([0-9a-fA-F:]+)\])(?::(\d{1,5}))?$/.exec(spec) ?? (/^[0-9a-fA-F:]+$/.test(spec) && spec.includes(':') ? [spec, undefined, spec, undefined] : null);
  if (!m) throw new Error(`--resolver ${JSON.stringify(spec)}: give host:port, e.g. 127.0.0.1:5353 or [::1]:53`);
  const port = m[3] ? Number(m[3]) : 53;
  if (port < 1 || port > 65535) throw new Error(`--resolver: port ${port} is out of range`);
  return m[1] ? `${m[1]}:${port}` : `[${m[2]}]:${port}`;
}

export function makeResolver(spec?: string): Resolver {
  const r = new Resolver({ timeout: DNS_LIMITS.timeoutMs, tries: DNS_LIMITS.tries });
  if (spec) r.setServers([parseResolver(spec)]);
  return r;
}

async function lookup<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
  try { return await fn(); } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
    if (MISSING.has(code)) return undefined;
    const why: Record<string, string> = { ESERVFAIL: 'SERVFAIL', EREFUSED: 'REFUSED', ETIMEOUT: 'timed out', ECONNREFUSED: 'connection refused' };
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
async function cnameChain(r: Resolver, name: string, expected?: string): Promise<{ chain: string[]; error?: LookupError }> {
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

const record = (rec: CheckResult['record'], name: string, expected: string) => ({ record: rec, name, expected });

async function checkCname(r: Resolver, rec: 'msoid' | 'autodiscover', name: string, expected: string): Promise<CheckResult> {
  const { chain, error } = await cnameChain(r, name, expected);
  const base = record(rec, name, expected);
  if (chain.includes(expected)) return { ...base, verdict: 'ok', found: chain, ...(chain.length > 1 ? { note: `CNAME chain of ${chain.length}` } : {}) };
  const near = chain.find((c) => typo(c, expected));
  // a likely typo is wrong whether or not the name it points to resolves
  if (near) return { ...base, verdict: 'wrong', found: chain, note: `likely typo: ${near} is ${editDistance(near, expected)} character(s) from ${expected}` };
  if (error) return { ...base, verdict: 'error', ...(chain.length ? { found: chain } : {}), note: error.message };
  if (!chain.length) return { ...base, verdict: 'missing' };
  return { ...base, verdict: 'wrong', found: chain, note: `points to ${chain[chain.length - 1]}` };
}

/** One record's check, any lookup failure its own "error" verdict: the others are still judged. */
async function judged(rec: CheckResult['record'], name: string, expected: string, f: () => Promise<CheckResult>): Promise<CheckResult> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof LookupError) return { ...record(rec, name, expected), verdict: 'error', note: e.message };
    throw e;
  }
}

/** SPF: the include with a passing qualifier (none or "+"), and no "all" that lets everyone send. */
export function judgeSpf(spf: string, include: string): { ok: boolean; note?: string } {
  const terms = asciiLower(spf).split(/\s+/).filter(Boolean);
  const wide = terms.find((t) => /^[+?]?all$/.test(t));
  if (wide) return { ok: false, note: `"${wide}" lets any host send for the domain` };
  const inc = terms.find((t) => t.replace(/^[+\-~?]/, '') === include);
  if (inc && /^[-~?]/.test(inc)) return { ok: false, note: `"${inc}": the qualifier ${inc[0]} does not let Microsoft 365 pass` };
  if (inc) return { ok: true };
  const near = terms.find((t) => t.replace(/^[+\-~?]/, '').startsWith('include:') && typo(t.replace(/^[+\-~?]/, ''), include));
  return { ok: false, ...(near ? { note: `likely typo: ${near}` } : { note: `no ${include}` }) };
}

/** Check the four records; each is judged even when another errs. Exit: 0 all ok, 2 some not, 1 an error. */
export async function checkDomain(domain: string, instance: DnsInstance, resolver?: string): Promise<CheckResult[]> {
  const r = makeResolver(resolver);
  const want = INSTANCE_RECORDS[instance];
  const d = norm(domain);
  const out: CheckResult[] = [];
  const msoidName = `msoid.${d}`;
  if (typeof want.msoid === 'string' && want.msoid !== 'n/a') out.push(await checkCname(r, 'msoid', msoidName, want.msoid));
  else if (want.msoid === null) {
    out.push(await judged('msoid', msoidName, 'no record', async () => {
      const { chain, error } = await cnameChain(r, msoidName);
      if (chain.length) return { ...record('msoid', msoidName, 'no record'), verdict: 'unexpected', found: chain, note: 'Microsoft advises against an msoid record on this instance' };
      if (error) throw error;
      return { ...record('msoid', msoidName, 'no record'), verdict: 'ok' };
    }));
  }
  out.push(await checkCname(r, 'autodiscover', `autodiscover.${d}`, want.autodiscover));
  const mxWant = `<token>.${want.mxSuffix}`;
  out.push(await judged('mx', d, mxWant, async () => {
    const mx = (await lookup(`MX ${d}`, () => r.resolveMx(d))) ?? [];
    const hosts = mx.sort((a, b) => a.priority - b.priority).map((m) => norm(m.exchange));
    if (!hosts.length) return { ...record('mx', d, mxWant), verdict: 'missing' };
    // the suffix on a label boundary: "x.xmail.protection.outlook.com" is not ours
    const okHost = hosts.some((h) => h.endsWith(`.${want.mxSuffix}`) && h.length > want.mxSuffix.length + 1);
    const near = hosts.find((h) => typo(h.split('.').slice(1).join('.'), want.mxSuffix));
    return { ...record('mx', d, mxWant), verdict: okHost ? 'ok' : 'wrong', found: hosts, ...(!okHost && near ? { note: `likely typo: ${near}` } : {}) };
  }));
  const include = `include:${want.spfInclude}`;
  out.push(await judged('spf', d, include, async () => {
    const txt = ((await lookup(`TXT ${d}`, () => r.resolveTxt(d))) ?? []).map((chunks) => chunks.join(''));
    const spf = txt.filter((t) => /^v=spf1(\s|$)/i.test(t));
    if (!spf.length) return { ...record('spf', d, include), verdict: 'missing' };
    if (spf.length > 1) return { ...record('spf', d, include), verdict: 'wrong', found: spf, note: 'more than one v=spf1 record (RFC 7208: permerror)' };
    const j = judgeSpf(spf[0], include);
    return { ...record('spf', d, include), verdict: j.ok ? 'ok' : 'wrong', found: spf, ...(j.note ? { note: j.note } : {}) };
  }));
  return out;
}
