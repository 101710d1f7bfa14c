import { Resolver } from 'node:dns/promises';
import { INSTANCE_RECORDS, type DnsInstance } from './records.js';

export type Verdict = 'ok' | 'missing' | 'wrong' | 'unexpected' | 'error';
export interface CheckResult { record: 'msoid' | 'autodiscover' | 'mx' | 'spf'; name: string; verdict: Verdict; expected: string; found?: string[]; note?: string }

/** DNS resolution limits for check: a dead resolver ends the run quickly. */
export const DNS_LIMITS = { timeoutMs: 2000, tries: 2, maxCnameHops: 8 } as const;

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

/** Follow CNAMEs from name; returns the chain of targets (empty when name has no CNAME). */
async function cnameChain(r: Resolver, name: string): Promise<string[]> {
  const chain: string[] = [];
  let cur = name;
  for (let i = 0; i < DNS_LIMITS.maxCnameHops; i++) {
    const t = await lookup(`CNAME ${cur}`, () => r.resolveCname(cur));
    if (!t?.length) break;
    cur = t[0].toLowerCase().replace(/\.$/, '');
    chain.push(cur);
  }
  return chain;
}

async function checkCname(r: Resolver, record: 'msoid' | 'autodiscover', name: string, expected: string): Promise<CheckResult> {
  const chain = await cnameChain(r, name);
  if (!chain.length) return { record, name, verdict: 'missing', expected };
  if (chain.includes(expected)) return { record, name, verdict: 'ok', expected, found: chain, ...(chain.length > 1 ? { note: `CNAME chain of ${chain.length}` } : {}) };
  const last = chain[chain.length - 1];
  const near = chain.find((c) => typo(c, expected));
  return { record, name, verdict: 'wrong', expected, found: chain, note: near ? `likely typo: ${near} is ${editDistance(near, expected)} character(s) from ${expected}` : `points to ${last}` };
}

/** Check the four records that decide the exit code (0 all ok, 2 some not, 1 error). */
export async function checkDomain(domain: string, instance: DnsInstance, resolver?: string): Promise<CheckResult[]> {
  const r = makeResolver(resolver);
  const want = INSTANCE_RECORDS[instance];
  const d = domain.toLowerCase().replace(/\.$/, '');
  const out: CheckResult[] = [];
  const msoidName = `msoid.${d}`;
  try {
    if (typeof want.msoid === 'string' && want.msoid !== 'n/a') out.push(await checkCname(r, 'msoid', msoidName, want.msoid));
    else if (want.msoid === null) {
      const chain = await cnameChain(r, msoidName);
      out.push(chain.length
        ? { record: 'msoid', name: msoidName, verdict: 'unexpected', expected: 'no record', found: chain, note: 'Microsoft advises against an msoid record on this instance' }
        : { record: 'msoid', name: msoidName, verdict: 'ok', expected: 'no record' });
    }
    out.push(await checkCname(r, 'autodiscover', `autodiscover.${d}`, want.autodiscover));
    const mx = (await lookup(`MX ${d}`, () => r.resolveMx(d))) ?? [];
    const hosts = mx.sort((a, b) => a.priority - b.priority).map((m) => m.exchange.toLowerCase().replace(/\.$/, ''));
    const mxOk = hosts.some((h) => h.endsWith(`.${want.mxSuffix}`));
    const mxNear = hosts.find((h) => typo(h.split('.').slice(1).join('.'), want.mxSuffix));
    out.push(!hosts.length
      ? { record: 'mx', name: d, verdict: 'missing', expected: `*.${want.mxSuffix}` }
      : { record: 'mx', name: d, verdict: mxOk ? 'ok' : 'wrong', expected: `*.${want.mxSuffix}`, found: hosts, ...(!mxOk && mxNear ? { note: `likely typo: ${mxNear}` } : {}) });
    const txt = ((await lookup(`TXT ${d}`, () => r.resolveTxt(d))) ?? []).map((chunks) => chunks.join(''));
    const spf = txt.filter((t) => /^v=spf1(\s|$)/i.test(t));
    const include = `include:${want.spfInclude}`;
    const has = (t: string) => t.toLowerCase().split(/\s+/).includes(include);
    if (!spf.length) out.push({ record: 'spf', name: d, verdict: 'missing', expected: include });
    else if (spf.length > 1) out.push({ record: 'spf', name: d, verdict: 'wrong', expected: include, found: spf, note: 'more than one v=spf1 record (RFC 7208: permerror)' });
    else {
      const near = spf[0].toLowerCase().split(/\s+/).find((w) => w.startsWith('include:') && typo(w, include));
      out.push({ record: 'spf', name: d, verdict: has(spf[0]) ? 'ok' : 'wrong', expected: include, found: spf, ...(!has(spf[0]) && near ? { note: `likely typo: ${near}` } : {}) });
    }
  } catch (e) {
    if (e instanceof LookupError) out.push({ record: (['msoid', 'autodiscover', 'mx', 'spf'] as const)[out.length] ?? 'spf', name: d, verdict: 'error', expected: '', note: e.message });
    else throw e;
  }
  return out;
}
