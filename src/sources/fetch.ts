import { randomUUID, createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeArtifactsAtomically } from '../io/write.js';
import { parseO365Feed } from './o365json.js';
import { guardImplausible } from '../compile/guards.js';

export const INSTANCES = ['Worldwide', 'China', 'USGovDoD', 'USGovGCCHigh'] as const;
export type Instance = (typeof INSTANCES)[number];
export const DEFAULT_BASE_URL = 'https://endpoints.office.com';

/** Bounds of the client: a server that keeps failing ends the run well within 30 s. */
export interface FetchLimits { requestTimeoutMs: number; attempts: number; backoffMs: number; maxRetryAfterMs: number; deadlineMs: number; maxBodyBytes: number }
export const FETCH_LIMITS: Readonly<FetchLimits> = { requestTimeoutMs: 8000, attempts: 4, backoffMs: 500, maxRetryAfterMs: 5000, deadlineMs: 25000, maxBodyBytes: 64 << 20 };

export interface FetchOptions {
  instance: Instance;
  stateDir: string;
  baseUrl?: string;
  force?: boolean;
  serviceAreas?: string[];
  tenant?: string;
  noIpv6?: boolean;
  allowImplausible?: string[];
  limits?: Partial<FetchLimits>;
  log?: (line: string) => void;
}

export interface FetchState {
  clientRequestId: string;
  instances: Record<string, { version: string; sha256: string; query: string }>;
}

export interface FetchResult { changed: boolean; version: string; previousVersion?: string; file: string; sets?: number }

export class FetchError extends Error {}

export const STATE_FILE = 'state.json';
export const feedFileName = (instance: string) => `endpoints-${instance}.json`;

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Load the state directory, creating it and a client request id (UUID v4) on first use. */
export function loadState(dir: string): FetchState {
  mkdirSync(dir, { recursive: true });
  const p = join(dir, STATE_FILE);
  if (existsSync(p)) {
    let s: FetchState;
    try { s = JSON.parse(readFileSync(p, 'utf8')) as FetchState; } catch { throw new FetchError(`${STATE_FILE} in ${dir} is not valid JSON; fix or remove it`); }
    if (!UUID_V4.test(s.clientRequestId ?? '')) throw new FetchError(`${STATE_FILE}: clientRequestId is not a UUID v4`);
    s.instances ??= {};
    return s;
  }
  const s: FetchState = { clientRequestId: randomUUID(), instances: {} };
  saveState(dir, s);
  return s;
}

function saveState(dir: string, s: FetchState): void {
  const sorted = { clientRequestId: s.clientRequestId, instances: Object.fromEntries(Object.entries(s.instances).sort()) };
  writeArtifactsAtomically(dir, [{ path: STATE_FILE, content: JSON.stringify(sorted, null, 2) + '\n' }]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** GET with timeout, bounded retries, backoff and Retry-After; returns the body text. */
async function getText(url: string, what: string, lim: FetchLimits, deadline: number, log?: (l: string) => void): Promise<string> {
  let lastError = '';
  for (let attempt = 1; attempt <= lim.attempts; attempt++) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    let wait = lim.backoffMs * 2 ** (attempt - 1);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(Math.min(lim.requestTimeoutMs, left)), headers: { accept: 'application/json' }, redirect: 'follow' });
      if (res.status === 200) {
        const type = res.headers.get('content-type') ?? '';
        if (type && !/json/i.test(type)) throw new FetchError(`${what}: unexpected content type ${JSON.stringify(type.slice(0, 60))}`);
        const len = Number(res.headers.get('content-length') ?? 0);
        if (len > lim.maxBodyBytes) throw new FetchError(`${what}: response too large (${len} bytes)`);
        return await res.text();
      }
      lastError = `HTTP ${res.status}`;
      await res.body?.cancel();
      if (res.status === 429 || res.status === 503) {
        const ra = res.headers.get('retry-after');
        const secs = ra && /^[0-9]+$/.test(ra) ? Number(ra) * 1000 : ra ? Date.parse(ra) - Date.now() : NaN;
        if (Number.isFinite(secs)) wait = Math.max(0, Math.min(secs, lim.maxRetryAfterMs));
      } else if (res.status < 500) {
        throw new FetchError(`${what}: HTTP ${res.status}`); // 4xx other than 429: retrying will not help
      }
    } catch (e) {
      if (e instanceof FetchError) throw e;
      lastError = (e as Error).name === 'TimeoutError' ? 'timed out' : ((e as Error).cause as Error)?.message ?? (e as Error).message;
    }
    if (attempt < lim.attempts && Date.now() + wait < deadline) {
      log?.(`${what}: ${lastError}; retry ${attempt}/${lim.attempts - 1} in ${wait} ms`);
      await sleep(wait);
    } else break;
  }
  throw new FetchError(`${what}: giving up after retries (${lastError || 'deadline reached'})`);
}

/**
 * The web-service client: /version first, /endpoints only when the version (or the query) changed
 * or --force; the new version is recorded only after the feed was downloaded, parsed and saved.
 */
export async function fetchFeed(o: FetchOptions): Promise<FetchResult> {
  const lim = { ...FETCH_LIMITS, ...o.limits };
  const deadline = Date.now() + lim.deadlineMs;
  const base = (o.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
  if (!/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/.test(base)) throw new FetchError(`--base-url ${JSON.stringify(base)} is not an http(s) URL`);
  const state = loadState(o.stateDir);
  const id = encodeURIComponent(state.clientRequestId);
  const file = join(o.stateDir, feedFileName(o.instance));

  const versionText = await getText(`${base}/version/${o.instance}?clientrequestid=${id}`, `/version/${o.instance}`, lim, deadline, o.log);
  let latest: string;
  try {
    const v = JSON.parse(versionText) as { latest?: unknown };
    if (typeof v.latest !== 'string' || !/^[0-9]{10}$/.test(v.latest)) throw new Error('no "latest" version');
    latest = v.latest;
  } catch (e) { throw new FetchError(`/version/${o.instance}: unexpected answer (${(e as Error).message})`); }

  const query = [
    o.serviceAreas?.length ? `ServiceAreas=${encodeURIComponent(o.serviceAreas.join(','))}` : '',
    o.tenant ? `TenantName=${encodeURIComponent(o.tenant)}` : '',
    o.noIpv6 ? 'NoIPv6=true' : '',
  ].filter(Boolean).join('&');
  const prev = state.instances[o.instance];
  if (!o.force && prev && prev.version === latest && prev.query === query && existsSync(file)) {
    return { changed: false, version: latest, previousVersion: prev.version, file };
  }

  const body = await getText(`${base}/endpoints/${o.instance}?clientrequestid=${id}${query ? `&${query}` : ''}`, `/endpoints/${o.instance}`, lim, deadline, o.log);
  // validate fully (syntax, every record, guards) before anything is saved
  const parsed = parseO365Feed({ name: `/endpoints/${o.instance}`, path: '', text: body, sha256: '', bytes: Buffer.alloc(0) });
  if (parsed.sets.length === 0) throw new FetchError(`/endpoints/${o.instance}: the service returned no endpoint sets`);
  guardImplausible(`/endpoints/${o.instance}`, parsed.sets, o.allowImplausible);
  // JSON strings hold no raw newlines, so CRLF and a BOM are only framing: store LF, no BOM
  const lf = body.replace(/^\uFEFF/, '').replace(/\r\n/g, '\n');
  const content = lf.endsWith('\n') ? lf : lf + '\n';
  writeArtifactsAtomically(o.stateDir, [{ path: feedFileName(o.instance), content }]);
  // only now: the version is recorded after the data it names is safely on disk
  state.instances[o.instance] = { version: latest, sha256: createHash('sha256').update(content).digest('hex'), query };
  saveState(o.stateDir, state);
  return { changed: true, version: latest, previousVersion: prev?.version, file, sets: parsed.sets.length };
}
