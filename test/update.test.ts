/**
 * The unattended path beyond the workflow: streams that are never cut, a state directory that is
 * checked on every read, a client that keeps to its bounds against a hostile server, and proxies.
 */
import { spawnSync } from 'node:child_process';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CLI, FIXTURES, runCli, runCliAsync } from './helpers/env.js';
import { json, startService, updateArgv, type StandIn } from './helpers/service.js';
import { tmpDir } from './helpers/tmp.js';

const SAMPLE = join(FIXTURES, 'sample-feed.json');
const FEED = readFileSync(SAMPLE, 'utf8');

/** Run the CLI without blocking this process (the stand-in lives here). */
const cli = runCliAsync;

let svc: StandIn;
beforeAll(async () => {
  svc = await startService('2026120100', FEED);
});
afterAll(() => svc.close());
beforeEach(() => {
  svc.override = undefined;
  svc.version = '2026120100';
  svc.feed = FEED;
  svc.log.length = 0;
});

const fetchArgs = (state: string, ...more: string[]) => [
  'fetch',
  '--instance',
  'Worldwide',
  '--state',
  state,
  '--base-url',
  svc.base,
  ...more,
];
const updateArgs = (state: string, out: string, ...more: string[]) =>
  updateArgv(svc.base, state, out, ...more);

describe('streams are never cut', () => {
  it("plan --json of ~250 KB through a slow reader parses whole; the exit code is the plan's", () => {
    const dir = tmpDir('big');
    const feed = join(dir, 'feed.json');
    // 6000 distinct, non-adjacent /32s (public, plausible) in one set
    const ips = Array.from(
      { length: 6000 },
      (_, i) => `20.${64 + (i >> 12)}.${(i >> 4) & 255}.${(i & 15) * 16}/32`,
    );
    writeFileSync(
      feed,
      JSON.stringify([
        { id: 1, serviceArea: 'Common', category: 'Allow', required: true, tcpPorts: '443', ips },
      ]),
    );
    const r = spawnSync(
      'bash',
      [
        '-c',
        `set -o pipefail; "${process.execPath}" "${CLI}" plan --input "${feed}" --previous "${tmpDir('none')}" --json | (sleep 1; cat) > "${dir}/plan.json"`,
      ],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(2);
    const text = readFileSync(join(dir, 'plan.json'), 'utf8');
    expect(text.length).toBeGreaterThan(250_000);
    expect(JSON.parse(text).counts.prefixesAdded).toBe(6000);
  });

  it('compile | true: exit 0, files written, no EPIPE trace', () => {
    const out = tmpDir('pipe');
    const r = spawnSync(
      'bash',
      [
        '-c',
        `set -o pipefail; "${process.execPath}" "${CLI}" compile --input "${SAMPLE}" --out "${out}" --target all --pac-proxy "PROXY p.example:8080" | true`,
      ],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(existsSync(join(out, 'report.json'))).toBe(true);
  });

  it('--help through a closed pipe: exit 0, quiet', () => {
    const r = spawnSync(
      'bash',
      [
        '-c',
        `set -o pipefail; "${process.execPath}" "${CLI}" compile --help | head -c 10 >/dev/null`,
      ],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
  });
});

describe('state you can trust', () => {
  it.each([
    ['not JSON', '{', /state\.json is not valid JSON/],
    [
      'a string where the instances are',
      '{"clientRequestId":"5b0c8e4e-1c1d-4b8a-9d2e-3f4a5b6c7d8e","instances":"x"}',
      /state\.json is not an m365fw state file \(\/instances must be object\)/,
    ],
    [
      'an unknown instance',
      '{"clientRequestId":"5b0c8e4e-1c1d-4b8a-9d2e-3f4a5b6c7d8e","instances":{"Mars":{"version":"2026120100","sha256":"' +
        'a'.repeat(64) +
        '","query":""}}}',
      /must NOT have additional properties/,
    ],
    [
      'a version with Markdown in it',
      '{"clientRequestId":"5b0c8e4e-1c1d-4b8a-9d2e-3f4a5b6c7d8e","instances":{"Worldwide":{"version":"1\\n## owned","sha256":"' +
        'a'.repeat(64) +
        '","query":""}}}',
      /\/instances\/Worldwide\/version must match pattern/,
    ],
  ])(
    'a broken state.json (%s) is a clear error naming the file; nothing is replaced',
    async (_n, text, msg) => {
      const state = tmpDir('state');
      writeFileSync(join(state, 'state.json'), text);
      for (const args of [fetchArgs(state), updateArgs(state, tmpDir('out'))]) {
        const r = await cli(args);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(msg);
        expect(r.stderr.split('\n').filter(Boolean).length).toBe(1);
        expect(readFileSync(join(state, 'state.json'), 'utf8')).toBe(text);
      }
      expect(svc.log).toEqual([]);
    },
  );

  it('an edited feed is not "unchanged": it is downloaded again', async () => {
    const state = tmpDir('state');
    expect((await cli(fetchArgs(state))).code).toBe(2);
    const feed = join(state, 'endpoints-Worldwide.json');
    writeFileSync(feed, readFileSync(feed, 'utf8').replace('13.107.6.152/31', '13.107.6.150/31'));
    const r = await cli(fetchArgs(state));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/does not match its recorded sha256; downloading again/);
    expect(readFileSync(feed, 'utf8')).toContain('13.107.6.152/31');
  });

  it('an older version than the recorded one is refused unless --force (fetch and update)', async () => {
    const state = tmpDir('state'),
      out = tmpDir('out');
    expect((await cli(updateArgs(state, out))).code).toBe(2);
    svc.version = '2026113000';
    let r = await cli(fetchArgs(state));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /version 2026113000, older than 2026120100 recorded in the state directory; refusing/,
    );
    r = await cli(updateArgs(state, out));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/older than 2026120100 that .* was compiled from/);
    expect((await cli([...fetchArgs(state), '--force'])).code).toBe(2);
  });

  it('--force on the version out/ holds, same content: "unchanged", exit 0, out/ byte-identical', async () => {
    const state = tmpDir('state'),
      out = tmpDir('out');
    expect((await cli(updateArgs(state, out))).code).toBe(2);
    const before = readdirSync(out).map((f) => [f, readFileSync(join(out, f), 'utf8')]);
    const r = await cli(updateArgs(state, out, '--force'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/unchanged/);
    expect(r.stdout).not.toMatch(/rewritten/);
    expect(readdirSync(out).map((f) => [f, readFileSync(join(out, f), 'utf8')])).toEqual(before);
  });

  it('a new version that only renumbers sets and moves a URL between sets alike: exit 0, out/ byte-identical', async () => {
    const state = tmpDir('state'),
      out = tmpDir('out');
    const sets = JSON.parse(FEED) as { id: number; urls?: string[] }[];
    const s46 = sets.find((s) => s.id === 46)!;
    svc.feed = JSON.stringify([...sets, { ...s46, id: 47, urls: ['to.example.com'] }]);
    expect((await cli(updateArgs(state, out))).code).toBe(2);
    const before = readdirSync(out).map((f) => [f, readFileSync(join(out, f), 'utf8')]);
    svc.version = '2026120200';
    svc.feed = JSON.stringify(
      [...sets, { ...s46, id: 47, urls: ['to.example.com', s46.urls![0]] }]
        .map((s) => (s.id === 46 ? { ...s, urls: s.urls!.slice(1) } : s))
        .map((s) => ({ ...s, id: s.id + 1000 })),
    );
    const plan = tmpDir('plan');
    const r = await cli(updateArgs(state, out, '--plan-out', plan));
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(out).map((f) => [f, readFileSync(join(out, f), 'utf8')])).toEqual(before);
    const md = readFileSync(join(plan, 'plan.md'), 'utf8');
    expect(md).toContain('## m365fw plan: no changes');
    expect(md).toContain(`- sets 46 → 1047: \`${s46.urls![0]}\``);
    // the next hour: one request (the check is remembered)
    svc.log.length = 0;
    expect((await cli(updateArgs(state, out))).code).toBe(0);
    expect(svc.log).toEqual(['/version/Worldwide']);
  });

  it('a write failure after the download leaves the recorded version old; the next run downloads again', async () => {
    const state = tmpDir('state');
    expect((await cli(fetchArgs(state))).code).toBe(2);
    const before = readFileSync(join(state, 'state.json'), 'utf8');
    svc.version = '2026120200';
    svc.log.length = 0;
    let r = await cli(fetchArgs(state), { M365FW_TEST_FAIL_RENAME: '1' });
    expect(r.code).toBe(1);
    expect(svc.log).toEqual(['/version/Worldwide', '/endpoints/Worldwide']);
    expect(r.stderr).toMatch(/writing failed \(EIO: input\/output error\)/);
    expect(readFileSync(join(state, 'state.json'), 'utf8')).toBe(before);
    svc.log.length = 0;
    r = await cli(fetchArgs(state));
    expect(r.code).toBe(2);
    // and Microsoft's change records since the version it had (the stand-in has none: 404, reported)
    expect(svc.log).toEqual([
      '/version/Worldwide',
      '/endpoints/Worldwide',
      '/changes/Worldwide/2026120100',
    ]);
    expect(
      JSON.parse(readFileSync(join(state, 'state.json'), 'utf8')).instances.Worldwide.version,
    ).toBe('2026120200');
  });

  it('two fetches of two instances into one state at once: both are recorded (the state is locked)', async () => {
    const state = tmpDir('state');
    const [a, b] = await Promise.all([
      cli(fetchArgs(state)),
      cli(['fetch', '--instance', 'China', '--state', state, '--base-url', svc.base]),
    ]);
    expect([a.code, b.code]).toEqual([2, 2]);
    const st = JSON.parse(readFileSync(join(state, 'state.json'), 'utf8'));
    expect(Object.keys(st.instances).sort()).toEqual(['China', 'Worldwide']);
  });

  it('a wrapped feed whose version or instance is not plain is an error, not provenance', () => {
    const dir = tmpDir('wrap');
    for (const [field, value] of [
      ['version', '2026\n## owned'],
      ['instance', 'World wide`x`'],
    ]) {
      const p = join(dir, `${field}.json`);
      writeFileSync(
        p,
        JSON.stringify({
          instance: 'Worldwide',
          version: '2026120100',
          [field]: value,
          endpoints: JSON.parse(FEED),
        }),
      );
      const r = runCli(['compile', '--input', p, '--out', join(dir, 'out')]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`wrapped feed: field ${field} must be`));
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1); // the value shown escaped, on one line
      if (field === 'version') expect(r.stderr).toContain('"2026\\n## owned"');
      expect(existsSync(join(dir, 'out'))).toBe(false);
    }
  });

  it('plan.md keeps a hostile input file name inert', () => {
    const dir = tmpDir('md');
    const name = 'feed|x`\n## heading [a](http:\u202eevil).json';
    const p = join(dir, name);
    writeFileSync(p, FEED);
    const r = runCli(['plan', '--input', p, '--previous', tmpDir('none')]);
    expect(r.code).toBe(2);
    const lines = r.stdout.split('\n');
    expect(lines.filter((l) => l.startsWith('#'))).toEqual(
      lines.filter((l) => /^#{2,3} (m365fw plan|Endpoint sets|Rules|URL entries|Targets)/.test(l)),
    );
    expect(r.stdout).not.toContain('\u202e');
    expect(r.stdout).toContain('\\u202e');
    const input = lines.find((l) => l.startsWith('Input '))!;
    expect(input).toMatch(/^Input `feed\\\|x'\\u000a## heading \[a\]\(http:\\u202eevil\)\.json`/);
  });
});

describe('update', () => {
  it('changed options on the same version rewrite out/ (exit 2); --plan-out beside --out is refused', async () => {
    const state = tmpDir('state'),
      out = tmpDir('out');
    expect((await cli(updateArgs(state, out))).code).toBe(2);
    expect((await cli(updateArgs(state, out))).code).toBe(0);
    svc.log.length = 0;
    const r = await cli(updateArgs(state, out, '--target', 'nftables,iptables'));
    expect(r.code, r.stderr).toBe(2);
    // the state is a cache, not an input: what is compiled is downloaded now
    expect(svc.log).toEqual(['/version/Worldwide', '/endpoints/Worldwide']);
    expect(existsSync(join(out, 'm365fw.ipset'))).toBe(true);
    const bad = await cli(updateArgs(state, out, '--plan-out', out));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--out, --state and --plan-out must be three different directories/);
  });

  it('a guard refusal writes plan.md with the verdict and leaves out/ as it was', async () => {
    const state = tmpDir('state'),
      out = tmpDir('out'),
      plan = tmpDir('plan');
    expect((await cli(updateArgs(state, out))).code).toBe(2);
    const before = readFileSync(join(out, 'report.json'), 'utf8');
    svc.version = '2026120200';
    svc.feed = JSON.stringify(
      JSON.parse(FEED).map((s: { id: number }) => (s.id === 1 ? { ...s, ips: [] } : s)),
    );
    const r = await cli(updateArgs(state, out, '--max-removal', '0', '--plan-out', plan));
    expect(r.code).toBe(1);
    expect(readFileSync(join(out, 'report.json'), 'utf8')).toBe(before);
    const md = readFileSync(join(plan, 'plan.md'), 'utf8');
    expect(md).toMatch(
      /^## m365fw plan: refused\n\n\*\*Refused: nothing was written\.\*\* The verdict:\n\n```text\nrefusing to write: /,
    );
    expect(JSON.parse(readFileSync(join(plan, 'plan.json'), 'utf8')).refused).toMatch(
      /more than --max-removal 0/,
    );
  });
});

describe('the client keeps its bounds', () => {
  it('a redirect to another origin is refused; one within the origin is followed', async () => {
    const state = tmpDir('state');
    svc.override = (req, res, url) => {
      if (url.pathname === '/version/Worldwide') {
        res.writeHead(302, { location: 'https://other.example/version/Worldwide' });
        return res.end();
      }
      json(res, {}, 404);
    };
    let r = await cli(fetchArgs(state));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refusing a redirect to another origin \(https:\/\/other\.example\)/);
    // the same host and port on another scheme, or the same host on another port: another origin
    const { host } = new URL(svc.base);
    for (const location of [
      `https://${host}/version/Worldwide`,
      `http://${host.split(':')[0]}:1/version/Worldwide`,
      `//other.example/version/Worldwide`,
    ]) {
      svc.override = (req, res, url) => {
        if (url.pathname === '/version/Worldwide') {
          res.writeHead(302, { location });
          return res.end();
        }
        json(res, {}, 404);
      };
      r = await cli(fetchArgs(state));
      expect(r.code, location).toBe(1);
      expect(r.stderr, location).toMatch(/refusing a redirect to another origin/);
    }
    svc.override = (req, res, url) => {
      if (url.pathname === '/version/Worldwide') {
        res.writeHead(301, { location: '/v2/version/Worldwide' });
        return res.end();
      }
      if (url.pathname === '/v2/version/Worldwide')
        return json(res, { instance: 'Worldwide', latest: '2026120100' });
      if (url.pathname.startsWith('/endpoints/')) return json(res, FEED);
      json(res, {}, 404);
    };
    r = await cli(fetchArgs(state));
    expect(r.code, r.stderr).toBe(2);
  });

  it('a gzip bomb is aborted at the bound (--max-body), quickly, in constant memory', async () => {
    const state = tmpDir('state');
    const bomb = gzipSync(Buffer.alloc(200 << 20, 0x20));
    svc.override = (req, res, url) => {
      if (url.pathname.startsWith('/version/'))
        return json(res, { instance: 'Worldwide', latest: '2026120100' });
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-encoding': 'gzip',
        'content-length': String(bomb.length),
      });
      res.end(bomb);
    };
    const r = await cli([...fetchArgs(state), '--max-body', '2']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/response body passed 2097152 bytes \(after decompression\); aborted/);
    expect(r.ms).toBeLessThan(20_000);
    expect(existsSync(join(state, 'endpoints-Worldwide.json'))).toBe(false);
  });

  it('a body cut short is retried; a 404 is final at once; 408 is retried', async () => {
    const state = tmpDir('state');
    let endpoints = 0;
    svc.override = (req, res, url) => {
      if (url.pathname.startsWith('/version/'))
        return json(res, { instance: 'Worldwide', latest: '2026120100' });
      if (++endpoints === 1) {
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-length': String(FEED.length),
        });
        res.write(FEED.slice(0, 100));
        return res.destroy();
      }
      json(res, FEED);
    };
    let r = await cli(fetchArgs(state));
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(
      /\/endpoints\/Worldwide: (body cut short|other side closed)[^;]*; retry 1\/3/,
    );
    expect(endpoints).toBe(2);
    for (const [status, calls] of [
      [404, 1],
      [408, 4],
    ] as const) {
      svc.log.length = 0;
      svc.override = (_req, res) => json(res, {}, status);
      r = await cli(fetchArgs(tmpDir('state')));
      expect(r.code).toBe(1);
      expect(svc.log.length, `HTTP ${status}`).toBe(calls);
    }
  });

  it('content type must be application/json exactly', async () => {
    svc.override = (req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; note=json' });
      res.end('{}');
    };
    const r = await cli(fetchArgs(tmpDir('state')));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/content type "text\/html; note=json" is not application\/json/);
  });

  it('credentials in --base-url are refused and never printed', async () => {
    const r = await cli([
      'fetch',
      '--instance',
      'Worldwide',
      '--state',
      tmpDir('state'),
      '--base-url',
      'http://user:s3cret@127.0.0.1:1/',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/credentials in the URL are not accepted/);
    expect(r.stderr).not.toContain('s3cret');
  });
});

describe('proxies from the environment', () => {
  let proxy: Server,
    proxyUrl = '';
  const seen: { method: string; target: string; auth?: string }[] = [];
  beforeAll(async () => {
    proxy = createServer((req, res) => {
      // plain forwarding (absolute URI), should a client use it
      seen.push({
        method: req.method!,
        target: req.url!,
        auth: req.headers['proxy-authorization'],
      });
      const up = httpRequest(req.url!, { method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode!, r.headers);
        r.pipe(res);
      });
      req.pipe(up);
    });
    proxy.on('connect', (req, client: Socket, head) => {
      seen.push({ method: 'CONNECT', target: req.url!, auth: req.headers['proxy-authorization'] });
      const [host, port] = req.url!.split(':');
      const up = connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        up.write(head);
        up.pipe(client);
        client.pipe(up);
      });
      up.on('error', () => client.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });
  afterAll(
    () =>
      new Promise<void>((r) => {
        proxy.closeAllConnections();
        proxy.close(() => r());
      }),
  );
  beforeEach(() => {
    seen.length = 0;
  });

  it('HTTP_PROXY with credentials: the requests go through the proxy, which sees them; the log shows no password', async () => {
    const withCreds = proxyUrl.replace('http://', 'http://alice:pr0xy-secret@');
    const r = await cli(fetchArgs(tmpDir('state')), {
      HTTP_PROXY: withCreds,
      HTTPS_PROXY: withCreds,
      NO_PROXY: '',
    });
    expect(r.code, r.stderr).toBe(2);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    const host = new URL(svc.base).host;
    expect(
      seen.every((s) =>
        s.method === 'CONNECT' ? s.target === host : s.target.startsWith(svc.base),
      ),
    ).toBe(true);
    expect(seen[0].auth).toBe(`Basic ${Buffer.from('alice:pr0xy-secret').toString('base64')}`);
    expect(r.stderr).toMatch(
      /proxy settings from the environment: HTTPS_PROXY=http:\/\/127\.0\.0\.1:[0-9]+ HTTP_PROXY=http:\/\/127\.0\.0\.1:[0-9]+$/m,
    );
    expect(r.stderr + r.stdout).not.toContain('pr0xy-secret');
  });

  it('a proxy that wants credentials (407 to the tunnel): one clear line, no retries', async () => {
    const tries: string[] = [];
    const strict = createServer((req, res) => {
      tries.push(req.method!);
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="corp"' });
      res.end();
    });
    strict.on('connect', (req, client: Socket) => {
      tries.push('CONNECT');
      client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="corp"\r\n\r\n',
      );
    });
    await new Promise<void>((r) => strict.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(strict.address() as AddressInfo).port}`;
    try {
      const r = await cli(fetchArgs(tmpDir('state')), {
        HTTP_PROXY: url,
        HTTPS_PROXY: url,
        NO_PROXY: '',
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /^error: \/version\/Worldwide: the proxy requires authentication \(HTTP 407\); set credentials in HTTPS_PROXY \(http:\/\/user:password@proxy:port\)$/m,
      );
      expect(r.stderr).not.toMatch(/retry/);
      expect(tries).toHaveLength(1);
    } finally {
      strict.closeAllConnections();
      await new Promise<void>((r) => strict.close(() => r()));
    }
  });

  it('NO_PROXY naming the service: direct, the proxy sees nothing', async () => {
    const r = await cli(fetchArgs(tmpDir('state')), {
      HTTP_PROXY: proxyUrl,
      HTTPS_PROXY: proxyUrl,
      NO_PROXY: '127.0.0.1',
    });
    expect(r.code, r.stderr).toBe(2);
    expect(seen).toEqual([]);
  });
});
