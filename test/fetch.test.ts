import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CLI, FIXTURES, runCli } from './helpers/env.js';
import { tmpDir } from './helpers/tmp.js';

const FEED = readFileSync(join(FIXTURES, 'sample-feed.json'), 'utf8');
type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let server: Server,
  base = '';
let handler: Handler;
let log: { path: string; query: URLSearchParams; t: number }[] = [];

const json = (res: ServerResponse, body: unknown, status = 200) => {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
};
const service =
  (version: string, feed = FEED): Handler =>
  (req, res) => {
    const u = new URL(req.url!, 'http://x');
    if (u.pathname.startsWith('/version/'))
      return json(res, { instance: u.pathname.split('/')[2], latest: version });
    if (u.pathname.startsWith('/endpoints/')) return json(res, feed);
    json(res, { error: 'not found' }, 404);
  };

beforeAll(async () => {
  server = createServer((req, res) => {
    const u = new URL(req.url!, 'http://x');
    log.push({ path: u.pathname, query: u.searchParams, t: Date.now() });
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});
beforeEach(() => {
  log = [];
});

/** Run the CLI asynchronously (the server lives in this process). */
function fetchCli(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, 'fetch', '--base-url', base, ...args]);
    let stdout = '',
      stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr, ms: Date.now() - t0 }));
  });
}
const newState = () => join(tmpDir('fetch'), 'state');
const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('fetch: version gate against a loopback web service', () => {
  it('first run: /version then /endpoints, saved, version recorded, exit 2; the same version again: exit 0, no download', async () => {
    handler = service('2026081400');
    const state = newState();
    const r = await fetchCli(['--instance', 'Worldwide', '--state', state]);
    expect(r.code).toBe(2);
    expect(log.map((l) => l.path)).toEqual(['/version/Worldwide', '/endpoints/Worldwide']);
    const st = JSON.parse(readFileSync(join(state, 'state.json'), 'utf8'));
    expect(st.clientRequestId).toMatch(UUID4);
    for (const l of log) expect(l.query.get('clientrequestid')).toBe(st.clientRequestId);
    expect(st.instances.Worldwide.version).toBe('2026081400');
    expect(readFileSync(join(state, 'endpoints-Worldwide.json'), 'utf8')).toBe(
      FEED.endsWith('\n') ? FEED : FEED + '\n',
    );

    log = [];
    const again = await fetchCli(['--instance', 'Worldwide', '--state', state]);
    expect(again.code).toBe(0);
    expect(log.map((l) => l.path)).toEqual(['/version/Worldwide']);
    expect(log[0].query.get('clientrequestid')).toBe(st.clientRequestId); // persisted, not regenerated

    handler = service('2026091500');
    log = [];
    expect((await fetchCli(['--instance', 'Worldwide', '--state', state])).code).toBe(2);
    expect(
      JSON.parse(readFileSync(join(state, 'state.json'), 'utf8')).instances.Worldwide.version,
    ).toBe('2026091500');
    log = [];
    expect((await fetchCli(['--instance', 'Worldwide', '--state', state, '--force'])).code).toBe(2);
    expect(log.map((l) => l.path)).toEqual(['/version/Worldwide', '/endpoints/Worldwide']);
  });

  it('passes service areas, tenant name and NoIPv6 to the service, for each instance', async () => {
    handler = service('2026081400');
    for (const instance of ['China', 'USGovDoD', 'USGovGCCHigh']) {
      log = [];
      const r = await fetchCli([
        '--instance',
        instance,
        '--state',
        newState(),
        '--service-areas',
        'Exchange,Skype',
        '--tenant',
        'contoso',
        '--no-ipv6',
      ]);
      expect(r.code).toBe(2);
      const ep = log.find((l) => l.path === `/endpoints/${instance}`)!;
      expect(ep.query.get('ServiceAreas')).toBe('Exchange,Skype');
      expect(ep.query.get('TenantName')).toBe('contoso');
      expect(ep.query.get('NoIPv6')).toBe('true');
    }
  });

  it('the compiled feed carries instance and version as provenance', async () => {
    handler = service('2026081400');
    const state = newState();
    await fetchCli(['--instance', 'China', '--state', state]);
    const out = tmpDir('fo');
    expect(
      runCli(['compile', '--input', join(state, 'endpoints-China.json'), '--out', out]).code,
    ).toBe(0);
    expect(readFileSync(join(out, 'm365fw.nft'), 'utf8')).toContain(
      '# instance: China feed-version: 2026081400',
    );
    expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).input).toMatchObject({
      instance: 'China',
      version: '2026081400',
    });
  });

  describe('a misbehaving service: exit 1, clear error, last good data and version kept', () => {
    let state: string, before: string, beforeState: string;
    beforeEach(async () => {
      handler = service('2026081400');
      state = newState();
      expect((await fetchCli(['--instance', 'Worldwide', '--state', state])).code).toBe(2);
      before = readFileSync(join(state, 'endpoints-Worldwide.json'), 'utf8');
      beforeState = readFileSync(join(state, 'state.json'), 'utf8');
      log = [];
    });
    const kept = () => {
      expect(readFileSync(join(state, 'endpoints-Worldwide.json'), 'utf8')).toBe(before);
      expect(readFileSync(join(state, 'state.json'), 'utf8')).toBe(beforeState);
    };
    const newVersion =
      (endpoints: Handler): Handler =>
      (req, res) =>
        req.url!.startsWith('/version/')
          ? json(res, { latest: '2026091500' })
          : endpoints(req, res);

    it('500 on every request: bounded retries, ends within 30 s', async () => {
      handler = (_q, res) => json(res, { error: 'boom' }, 500);
      const r = await fetchCli(['--instance', 'Worldwide', '--state', state]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/error: \/version\/Worldwide: giving up after retries \(HTTP 500\)/);
      expect(r.ms).toBeLessThan(30000);
      expect(log.length).toBeGreaterThan(1);
      expect(log.length).toBeLessThanOrEqual(4);
      kept();
    }, 35000);

    it('429 with Retry-After is honoured, then the download succeeds', async () => {
      let n = 0;
      handler = newVersion((req, res) => {
        if (n++ === 0) {
          res.writeHead(429, { 'retry-after': '1' });
          res.end();
        } else json(res, FEED);
      });
      const r = await fetchCli(['--instance', 'Worldwide', '--state', state]);
      expect(r.code).toBe(2);
      const eps = log.filter((l) => l.path === '/endpoints/Worldwide');
      expect(eps.length).toBe(2);
      expect(eps[1].t - eps[0].t).toBeGreaterThanOrEqual(950);
    });

    it('a slow server times out', async () => {
      handler = newVersion((_q, res) => {
        setTimeout(() => {
          if (!res.destroyed) json(res, FEED);
        }, 5000);
      });
      const r = await fetchCli(['--instance', 'Worldwide', '--state', state, '--timeout', '0.5']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/timed out/);
      kept();
    }, 30000);

    it('truncated JSON', async () => {
      handler = newVersion((_q, res) => json(res, FEED.slice(0, FEED.length / 2)));
      const r = await fetchCli(['--instance', 'Worldwide', '--state', state]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/malformed JSON/);
      kept();
    });

    it('wrong content (an HTML page)', async () => {
      handler = newVersion((_q, res) => {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html>captive portal</html>');
      });
      const r = await fetchCli(['--instance', 'Worldwide', '--state', state]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/content type "text\/html" is not application\/json/);
      kept();
    });

    it('a version answer that is not a version', async () => {
      handler = (_q, res) => json(res, { latest: '../../etc' });
      expect((await fetchCli(['--instance', 'Worldwide', '--state', state])).code).toBe(1);
      kept();
    });

    it('implausible entries in the downloaded feed (a private range) are refused before saving', async () => {
      const bad = JSON.parse(FEED);
      bad[0].ips.push('10.1.0.0/16');
      handler = newVersion((_q, res) => json(res, bad));
      const r = await fetchCli(['--instance', 'Worldwide', '--state', state]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/implausible feed entries: set 1 10\.1\.0\.0\/16 \(private\)/);
      kept();
    });
  });

  it('an unknown instance is a usage error, no request made', async () => {
    const state = newState();
    const r = await fetchCli(['--instance', 'Mars', '--state', state]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^error: option '--instance <name>' argument 'Mars' is invalid\. --instance "Mars": one of Worldwide, China, USGovDoD, USGovGCCHigh\n$/,
    );
    expect(log).toEqual([]);
    expect(existsSync(state)).toBe(false); // not even the state directory
  });
});
