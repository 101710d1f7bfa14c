/**
 * The web-service client: /version first, /endpoints only when needed. Bounded in every way a
 * hostile or broken server could stretch it: per-request and whole-run time, body size after
 * decompression (the download is aborted as soon as it passes the bound), redirects (same origin
 * only, so never from https to http), retries (5xx, 408, 429 and cut bodies; other 4xx are final).
 * Proxies come from HTTPS_PROXY / HTTP_PROXY / NO_PROXY through undici's EnvHttpProxyAgent.
 */
import { createRequire } from 'node:module';
import { terminalText, redactUrl } from '../escape.js';
import { InputError, showValue } from '../errors.js';
import { parseExactJson } from '../sources/json.js';
import { compareVersions, versionProblem } from '../sources/versions.js';
import { guardImplausible, guardPublicSuffix } from '../compile/guards.js';
import { parseO365Feed } from '../sources/o365json.js';
import { parseChanges, type ChangeRecord } from '../sources/changes.js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { feedFileName, openStateDir, sha256, type Instance, type StateDir } from './state.js';

export { INSTANCES, type Instance } from './state.js';
export const DEFAULT_BASE_URL = 'https://endpoints.office.com';

/** Bounds of the client: a server that keeps failing, or stalls, ends the run well within 30 s. */
export interface FetchLimits {
  requestTimeoutMs: number;
  attempts: number;
  backoffMs: number;
  maxRetryAfterMs: number;
  deadlineMs: number;
  /** bytes of one response body after decompression */
  maxBodyBytes: number;
  maxRedirects: number;
}
export const FETCH_LIMITS: Readonly<FetchLimits> = {
  requestTimeoutMs: 8000,
  attempts: 4,
  backoffMs: 500,
  maxRetryAfterMs: 5000,
  deadlineMs: 25000,
  maxBodyBytes: 64 << 20,
  maxRedirects: 3,
};

export class FetchError extends Error {}

/** One run's connection to the web service. */
export interface Client {
  base: string;
  lim: FetchLimits;
  deadline: number;
  clientRequestId: string;
  log?: (line: string) => void;
}

type UndiciModule = typeof import('undici');
let undici: UndiciModule | undefined;
let dispatcher: InstanceType<UndiciModule['EnvHttpProxyAgent']> | undefined;
// loaded on first use: compile runs never pay for the HTTP client
const http = (): {
  mod: UndiciModule;
  dispatcher: InstanceType<UndiciModule['EnvHttpProxyAgent']>;
} => {
  undici ??= createRequire(import.meta.url)('undici') as UndiciModule;
  dispatcher ??= new undici.EnvHttpProxyAgent();
  return { mod: undici, dispatcher };
};

/** The proxy settings in the environment, for the log (credentials never printed). */
export function proxyFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const pick = (k: string) => env[k] ?? env[k.toLowerCase()];
  const parts = (['HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY'] as const)
    .map((k) => [k, pick(k)] as const)
    .filter(([, v]) => v)
    .map(([k, v]) => `${k}=${k === 'NO_PROXY' ? terminalText(v!, 200) : redactUrl(v!)}`);
  return parts.length ? parts.join(' ') : undefined;
}

/** Check and normalise --base-url: http(s), no credentials, query or fragment. */
export function parseBaseUrl(raw: string): string {
  const shown = redactUrl(raw);
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new FetchError(`--base-url ${shown} is not a URL`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:')
    throw new FetchError(`--base-url ${shown} is not an http(s) URL`);
  if (u.username || u.password)
    throw new FetchError(
      `--base-url ${shown}: credentials in the URL are not accepted (use a proxy or a mirror that needs none)`,
    );
  if (u.search || u.hash) throw new FetchError(`--base-url ${shown}: no query or fragment`);
  return u.toString().replace(/\/+$/, '');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Retryable extends Error {}

/** Read a body chunk by chunk, aborting as soon as it passes the bound. */
async function boundedText(
  res: Response,
  max: number,
  abort: AbortController,
  what: string,
): Promise<string> {
  const len = Number(res.headers.get('content-length') ?? 0);
  if (len > max) {
    abort.abort();
    throw new FetchError(
      `${what}: response too large (${len} bytes; the bound is ${max}, see --max-body)`,
    );
  }
  const chunks: Uint8Array[] = [];
  let n = 0;
  const reader = res.body?.getReader();
  if (!reader) return '';
  for (;;) {
    let r;
    try {
      r = await reader.read();
    } catch (e) {
      if ((e as Error).name === 'TimeoutError') throw e;
      throw new Retryable(
        `body cut short (${terminalText(((e as Error).cause as Error)?.message ?? (e as Error).message, 80)})`,
      );
    }
    if (r.done) break;
    n += r.value.length;
    if (n > max) {
      abort.abort();
      throw new FetchError(
        `${what}: response body passed ${max} bytes (after decompression); aborted (raise it with --max-body)`,
      );
    }
    chunks.push(r.value);
  }
  const buf = Buffer.concat(chunks);
  if (len && !res.headers.get('content-encoding') && buf.length !== len)
    throw new Retryable(`body cut short (${buf.length} of ${len} bytes)`);
  return buf.toString('utf8');
}

const PROXY_407 = (what: string) =>
  `${what}: the proxy requires authentication (HTTP 407); set credentials in HTTPS_PROXY (http://user:password@proxy:port)`;

/** The status a proxy answered a tunnel with, from undici's error chain ("Proxy response (407) …"). */
function proxyStatus(e: unknown): number | undefined {
  for (let c = e as { message?: unknown; cause?: unknown } | undefined, i = 0; c && i < 8; i++) {
    const m = /^Proxy response \(([0-9]{3})\)/.exec(typeof c.message === 'string' ? c.message : '');
    if (m) return Number(m[1]);
    c = c.cause as typeof c;
  }
  return undefined;
}

/** GET with timeout, bounded retries, backoff, Retry-After and same-origin redirects; the body text. */
export async function getText(c: Client, path: string, what: string): Promise<string> {
  const { mod, dispatcher: agent } = http();
  const lim = c.lim;
  let lastError = '';
  for (let attempt = 1; attempt <= lim.attempts; attempt++) {
    const left = c.deadline - Date.now();
    if (left <= 0) break;
    let wait = lim.backoffMs * 2 ** (attempt - 1);
    const abort = new AbortController();
    const signal = AbortSignal.any([
      abort.signal,
      AbortSignal.timeout(Math.min(lim.requestTimeoutMs, left)),
    ]);
    try {
      let url = `${c.base}${path}`;
      let res: Response;
      for (let hop = 0; ; hop++) {
        res = (await mod.fetch(url, {
          signal,
          headers: { accept: 'application/json' },
          redirect: 'manual',
          dispatcher: agent,
        })) as unknown as Response;
        if (res.status < 300 || res.status > 399 || !res.headers.get('location')) break;
        await res.body?.cancel();
        const next = new URL(res.headers.get('location')!, url);
        if (next.origin !== new URL(url).origin) {
          throw new FetchError(
            `${what}: refusing a redirect to another origin (${redactUrl(next.origin)}); only same-origin redirects are followed`,
          );
        }
        if (hop + 1 > lim.maxRedirects)
          throw new FetchError(`${what}: more than ${lim.maxRedirects} redirects`);
        url = next.toString();
      }
      if (res.status === 200) {
        const type = (res.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
        if (type !== 'application/json') {
          abort.abort();
          throw new FetchError(
            `${what}: content type ${JSON.stringify(terminalText(res.headers.get('content-type') ?? 'none', 60))} is not application/json`,
          );
        }
        return await boundedText(res, lim.maxBodyBytes, abort, what);
      }
      lastError = `HTTP ${res.status}`;
      await res.body?.cancel();
      if (res.status === 407) throw new FetchError(PROXY_407(what));
      if (res.status === 429 || res.status === 503) {
        const ra = res.headers.get('retry-after');
        const ms =
          ra && /^[0-9]+$/.test(ra) ? Number(ra) * 1000 : ra ? Date.parse(ra) - Date.now() : NaN;
        if (Number.isFinite(ms)) wait = Math.max(0, Math.min(ms, lim.maxRetryAfterMs));
      } else if (res.status < 500 && res.status !== 408) {
        throw new FetchError(`${what}: HTTP ${res.status}`); // retrying will not help
      }
    } catch (e) {
      if (e instanceof FetchError) throw e;
      // a proxy that wants credentials answers the tunnel with 407: final, and said plainly
      if (proxyStatus(e) === 407) throw new FetchError(PROXY_407(what));
      const err = e as Error;
      lastError =
        err instanceof Retryable
          ? err.message
          : err.name === 'TimeoutError'
            ? 'timed out'
            : terminalText((err.cause as Error)?.message ?? err.message, 120);
    }
    if (attempt < lim.attempts && Date.now() + wait < c.deadline) {
      c.log?.(`${what}: ${lastError}; retry ${attempt}/${lim.attempts - 1} in ${wait} ms`);
      await sleep(wait);
    } else break;
  }
  throw new FetchError(`${what}: giving up after retries (${lastError || 'deadline reached'})`);
}

/** The service's latest version of an instance. */
export async function latestVersion(c: Client, instance: Instance): Promise<string> {
  const text = await getText(
    c,
    `/version/${instance}?clientrequestid=${encodeURIComponent(c.clientRequestId)}`,
    `/version/${instance}`,
  );
  let v: { latest?: unknown; instance?: unknown };
  try {
    // duplicate keys are an error: {"latest": A, "latest": B} is two answers in one
    v = parseExactJson(`/version/${instance}`, text) as typeof v;
  } catch (e) {
    throw new FetchError(
      e instanceof InputError ? e.message : `/version/${instance}: the answer is not JSON`,
    );
  }
  if (!v || typeof v !== 'object' || Array.isArray(v) || v.latest === undefined)
    throw new FetchError(`/version/${instance}: no valid "latest" version in the answer`);
  const why = versionProblem(v.latest);
  if (why) throw new FetchError(`/version/${instance}: "latest" ${why}; nothing recorded`);
  if (v.instance !== undefined && v.instance !== instance)
    throw new FetchError(
      `/version/${instance}: the answer is for another instance (${showValue(v.instance)})`,
    );
  return v.latest as string;
}

export interface FeedQuery {
  serviceAreas?: string[];
  tenant?: string;
  noIpv6?: boolean;
}

export function queryString(q: FeedQuery): string {
  return [
    q.serviceAreas?.length ? `ServiceAreas=${encodeURIComponent(q.serviceAreas.join(','))}` : '',
    q.tenant ? `TenantName=${encodeURIComponent(q.tenant)}` : '',
    q.noIpv6 ? 'NoIPv6=true' : '',
  ]
    .filter(Boolean)
    .join('&');
}

/** Download /endpoints, validate it completely, and save it with its version in one transaction. */
export async function downloadFeed(
  c: Client,
  sd: StateDir,
  instance: Instance,
  latest: string,
  query: string,
  allowImplausible?: string[],
): Promise<{ sets: number }> {
  const got = await getFeed(c, instance, latest, query, allowImplausible);
  recordFeed(sd, instance, latest, query, got.content);
  return { sets: got.sets };
}

/** The version is recorded with the data it names, in the same transaction, never before. */
export function recordFeed(
  sd: StateDir,
  instance: Instance,
  version: string,
  query: string,
  content: string,
): void {
  sd.state.instances[instance] = { version, sha256: sha256(content), query };
  sd.save([{ path: feedFileName(instance), content }]);
}

/** Download /endpoints and validate it completely; nothing is recorded. The text as it is saved. */
export async function getFeed(
  c: Client,
  instance: Instance,
  latest: string,
  query: string,
  allowImplausible?: string[],
): Promise<{ sets: number; content: string }> {
  const body = await getText(
    c,
    `/endpoints/${instance}?clientrequestid=${encodeURIComponent(c.clientRequestId)}${query ? `&${query}` : ''}`,
    `/endpoints/${instance}`,
  );
  const parsed = parseO365Feed({
    name: `/endpoints/${instance}`,
    path: '',
    text: body,
    sha256: '',
    bytes: Buffer.alloc(0),
  });
  if (parsed.sets.length === 0)
    throw new FetchError(`/endpoints/${instance}: the service returned no endpoint sets`);
  // a wrapped answer names its instance and version: both must be the ones /version said
  if (parsed.meta.instance !== undefined && parsed.meta.instance !== instance)
    throw new FetchError(
      `/endpoints/${instance}: the answer's instance ${showValue(parsed.meta.instance)} is not ${instance}; nothing recorded`,
    );
  if (parsed.meta.version !== undefined && parsed.meta.version !== latest)
    throw new FetchError(
      `/endpoints/${instance}: the answer's version ${showValue(parsed.meta.version)} is not ${latest}, the one /version/${instance} reported; nothing recorded`,
    );
  guardImplausible(`/endpoints/${instance}`, parsed.sets, allowImplausible);
  guardPublicSuffix(`/endpoints/${instance}`, parsed.sets, allowImplausible);
  // JSON strings hold no raw newlines, so CRLF and a BOM are only framing: store LF, no BOM
  const lf = body.replace(/^\uFEFF/, '').replace(/\r\n/g, '\n');
  const content = lf.endsWith('\n') ? lf : lf + '\n';
  return { sets: parsed.sets.length, content };
}

export const changesFileName = (instance: string) => `changes-${instance}.json`;

/**
 * /changes/{instance}/{since}: Microsoft's records of what changed after `since`, validated and
 * kept in the state directory (with the range they cover). Rate limited like /endpoints: the
 * client's retries honour Retry-After within its deadline; a failure is the caller's to report.
 */
export async function downloadChanges(
  c: Client,
  sd: StateDir,
  instance: Instance,
  since: string,
  latest: string,
): Promise<ChangeRecord[]> {
  const where = `/changes/${instance}/${since}`;
  const body = await getText(
    c,
    `${where}?clientrequestid=${encodeURIComponent(c.clientRequestId)}`,
    where,
  );
  const records = parseChanges(where, body);
  sd.save([
    {
      path: changesFileName(instance),
      content: JSON.stringify({ instance, since, latest, records }, null, 2) + '\n',
    },
  ]);
  return records;
}

/** The records kept for exactly this range, if the state directory has them (validated again). */
export function savedChanges(
  dir: string,
  instance: Instance,
  since: string,
  latest: string,
): ChangeRecord[] | undefined {
  const p = join(dir, changesFileName(instance));
  if (!existsSync(p)) return undefined;
  try {
    const doc = JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;
    if (doc.instance !== instance || doc.since !== since || doc.latest !== latest) return undefined;
    return parseChanges(p, JSON.stringify(doc.records));
  } catch {
    return undefined;
  }
}

/** Records for since → latest: kept ones, else downloaded; a failure becomes a note, never the run's end. */
export async function changesFor(
  c: Client,
  sd: StateDir,
  dir: string,
  instance: Instance,
  since: string,
  latest: string,
  again = false,
): Promise<{ records?: ChangeRecord[]; unavailable?: string; cached?: boolean }> {
  const kept = again ? undefined : savedChanges(dir, instance, since, latest);
  if (kept) return { records: kept, cached: true };
  try {
    return { records: await downloadChanges(c, sd, instance, since, latest) };
  } catch (e) {
    // the client's errors name the request already: the path is said once
    const m = (e as Error).message;
    return { unavailable: m.startsWith('/changes/') ? m : `/changes/${instance}/${since}: ${m}` };
  }
}

export interface FetchOptions extends FeedQuery {
  instance: Instance;
  stateDir: string;
  baseUrl?: string;
  force?: boolean;
  allowImplausible?: string[];
  limits?: Partial<FetchLimits>;
  log?: (line: string) => void;
}

export interface FetchResult {
  changed: boolean;
  version: string;
  previousVersion?: string;
  file: string;
  sets?: number;
}

export function openClient(
  sd: StateDir,
  baseUrl: string | undefined,
  limits: Partial<FetchLimits> | undefined,
  log?: (l: string) => void,
): Client {
  const lim = { ...FETCH_LIMITS, ...limits };
  const base = parseBaseUrl(baseUrl ?? DEFAULT_BASE_URL);
  const proxy = proxyFromEnv();
  if (proxy) log?.(`proxy settings from the environment: ${proxy}`);
  return {
    base,
    lim,
    deadline: Date.now() + lim.deadlineMs,
    clientRequestId: sd.state.clientRequestId,
    log,
  };
}

/** Refuse a version older than one already recorded (a stale mirror, a replay) unless forced. */
export function checkNotOlder(
  latest: string,
  recorded: string | undefined,
  what: string,
  force?: boolean,
): void {
  if (recorded === undefined) return;
  // a version read back is believed only when the service could have published it
  const why = versionProblem(recorded);
  if (why)
    throw new FetchError(
      `the version ${what} is not one to compare against: ${why}; fix or remove it (it was not written by the service)`,
    );
  if (!force && compareVersions(latest, recorded) < 0) {
    throw new FetchError(
      `the service reports version ${latest}, older than ${recorded} ${what}; refusing (a stale mirror or a replay?); pass --force if this is deliberate`,
    );
  }
}

/** m365fw fetch: download when the version (or the query) changed, the saved feed is not intact, or --force. */
export async function fetchFeed(o: FetchOptions): Promise<FetchResult> {
  const base = parseBaseUrl(o.baseUrl ?? DEFAULT_BASE_URL);
  const sd = openStateDir(o.stateDir);
  try {
    const c = openClient(sd, base, o.limits, o.log);
    const file = `${o.stateDir.replace(/\/+$/, '')}/${feedFileName(o.instance)}`;
    const latest = await latestVersion(c, o.instance);
    const query = queryString(o);
    const prev = sd.state.instances[o.instance];
    checkNotOlder(latest, prev?.version, 'recorded in the state directory', o.force);
    const intact = !!sd.savedFeed(o.instance);
    if (prev && !intact)
      o.log?.(
        `${feedFileName(o.instance)} is missing or does not match its recorded sha256; downloading again`,
      );
    if (!o.force && prev && prev.version === latest && prev.query === query && intact) {
      return { changed: false, version: latest, previousVersion: prev.version, file };
    }
    const r = await downloadFeed(c, sd, o.instance, latest, query, o.allowImplausible);
    // Microsoft's account of the change, kept beside the feed for plan (a failure is only reported)
    if (prev && prev.version !== latest) {
      const ch = await changesFor(c, sd, o.stateDir, o.instance, prev.version, latest);
      if (ch.unavailable) o.log?.(`change records not kept: ${ch.unavailable}`);
    }
    return { changed: true, version: latest, previousVersion: prev?.version, file, sets: r.sets };
  } finally {
    sd.release();
  }
}
