import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tmpDir } from './helpers/tmp.js';
import { describe, expect, it } from 'vitest';
import { FIXTURES, ROOT, runCli, sharedFeeds } from './helpers/env.js';

const SAMPLE = join(FIXTURES, 'sample-feed.json');
const tmp = (p = 'cli') => tmpDir(p);
const good = JSON.parse(readFileSync(SAMPLE, 'utf8'));

function feedWith(mutate: (sets: any[]) => void, name = 'feed.json'): string {
  const sets = structuredClone(good);
  mutate(sets);
  const p = join(tmp(), name);
  writeFileSync(p, JSON.stringify(sets));
  return p;
}

describe('compile: bad input is one clear error, exit 1, nothing written', () => {
  it.each([
    [
      'malformed JSON',
      () => {
        const p = join(tmp(), 'feed.json');
        writeFileSync(p, '[{"id": 1,');
        return p;
      },
      /^error: \/\S*\/feed\.json: malformed JSON/,
    ],
    [
      'missing serviceArea',
      () =>
        feedWith((s) => {
          delete s[1].serviceArea;
        }),
      /^error: \/\S*\/feed\.json: endpoint set 2: field serviceArea: missing required field$/,
    ],
    [
      'missing id',
      () =>
        feedWith((s) => {
          delete s[0].id;
        }),
      /^error: \/\S*\/feed\.json: field id: record #1 has no id$/,
    ],
    [
      'bad category',
      () =>
        feedWith((s) => {
          s[0].category = 'Trusted';
        }),
      /endpoint set 1: field category: must be Optimize, Allow or Default: "Trusted"/,
    ],
    [
      'duplicate id',
      () =>
        feedWith((s) => {
          s[1].id = 1;
        }),
      /endpoint set 1: field id: duplicate id: 1/,
    ],
    [
      'host bits',
      () =>
        feedWith((s) => {
          s[3].ips.push('52.112.0.1/14');
        }),
      /endpoint set 11: field ips: host bits set \(network is 52\.112\.0\.0\/14\): "52\.112\.0\.1\/14"/,
    ],
    [
      'octal-looking IPv4',
      () =>
        feedWith((s) => {
          s[3].ips.push('052.112.0.0/14');
        }),
      /endpoint set 11: field ips: not a strict four-part decimal IPv4 address: "052\.112\.0\.0\/14"/,
    ],
    [
      'empty port element',
      () =>
        feedWith((s) => {
          s[0].tcpPorts = '80,,443';
        }),
      /endpoint set 1: field tcpPorts: empty element in port list: "80,,443"/,
    ],
    [
      'port over 65535',
      () =>
        feedWith((s) => {
          s[0].udpPorts = '70000';
        }),
      /endpoint set 1: field udpPorts: port 70000 is over 65535/,
    ],
    [
      'reversed range',
      () =>
        feedWith((s) => {
          s[3].udpPorts = '3481-3478';
        }),
      /endpoint set 11: field udpPorts: range 3481-3478 is reversed/,
    ],
    [
      'hostile URL',
      () =>
        feedWith((s) => {
          s[0].urls.push('evil.com"}\n table ip x {');
        }),
      /endpoint set 1: field urls: invalid label/,
    ],
    [
      'not an array',
      () => {
        const p = join(tmp(), 'feed.json');
        writeFileSync(p, '{"a":1}');
        return p;
      },
      /expected a JSON array/,
    ],
  ])('%s', (_name, make, msg) => {
    const out = join(tmp(), 'out');
    const r = runCli(['compile', '--input', make(), '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(msg);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });

  it('a failed run leaves the previous output untouched (no temp files either)', () => {
    const out = tmp();
    expect(runCli(['compile', '--input', SAMPLE, '--out', out]).code).toBe(0);
    const before = Object.fromEntries(
      readdirSync(out).map((f) => [f, readFileSync(join(out, f), 'utf8')]),
    );
    const r = runCli([
      'compile',
      '--input',
      feedWith((s) => {
        s[0].tcpPorts = '99999';
      }),
      '--out',
      out,
    ]);
    expect(r.code).toBe(1);
    expect(
      Object.fromEntries(readdirSync(out).map((f) => [f, readFileSync(join(out, f), 'utf8')])),
    ).toEqual(before);
  });

  it('bad options are errors too: --tenant, --categories, unknown target', () => {
    for (const args of [
      ['--tenant', 'bad tenant'],
      ['--categories', 'Trusted'],
      ['--target', 'cisco'],
    ]) {
      const r = runCli(['compile', '--input', SAMPLE, '--out', tmp(), ...args]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^error: /);
    }
  });
});

describe('compile: what the feed really looks like is accepted', () => {
  it('a UTF-8 BOM, unknown fields and unknown service areas (MEM) are accepted; every set is kept by default', () => {
    const p = join(tmp(), 'bom.json');
    writeFileSync(p, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), readFileSync(SAMPLE)]));
    const out = tmp();
    const r = runCli(['compile', '--input', p, '--out', out]);
    expect(r.code).toBe(0);
    const rep = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(rep.summary.setsKept).toBe(good.length);
    expect(rep.endpointSets.map((s: any) => s.serviceArea)).toContain('MEM');
    expect(r.stdout).toMatch(/endpoint sets: 10 in, 10 kept/);
  });

  it('every URL entry is listed as not enforced by nftables, and a set without ports is reported, not widened', () => {
    const out = tmp();
    const feed = feedWith((s) => {
      s.push({
        id: 500,
        serviceArea: 'Common',
        category: 'Allow',
        required: true,
        ips: ['20.190.128.0/18'],
      });
    });
    expect(runCli(['compile', '--input', feed, '--out', out]).code).toBe(0);
    const rep = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    const hosts = new Set(
      good.flatMap((s: any) => s.urls ?? []).map((u: string) => u.toLowerCase()),
    );
    const unenforced = rep.findings.filter(
      (f: any) => f.kind === 'unenforced' && f.target === 'nftables',
    );
    expect(new Set(unenforced.map((f: any) => f.entry.split(' ')[0]))).toEqual(hosts);
    expect(rep.findings).toContainEqual(
      expect.objectContaining({ kind: 'dropped', setIds: ['500'] }),
    );
  });

  it('--tenant fills the placeholder', () => {
    const out = tmp();
    expect(runCli(['compile', '--input', SAMPLE, '--out', out, '--tenant', 'contoso']).code).toBe(
      0,
    );
    const rep = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    const urls = rep.endpointSets.find((s: any) => s.id === '8').urls;
    expect(urls).toContain('autodiscover.contoso.onmicrosoft.com');
    expect(urls).not.toContain('autodiscover.*.onmicrosoft.com');
    expect(
      rep.urlRules
        .flatMap((u: any) => u.entries)
        .find((e: any) => e.host === 'autodiscover.contoso.onmicrosoft.com').kind,
    ).toBe('fqdn');
  });
});

describe('compile: deterministic and free of paths, hosts and times', () => {
  it.each([SAMPLE, ...sharedFeeds().slice(0, 3)])(
    '%s compiled into two directories gives byte-identical trees',
    (feed) => {
      const a = join(tmp(), 'a'),
        b = join(tmpDir('other'), 'deep', 'b');
      expect(runCli(['compile', '--input', feed, '--target', 'all', '--out', a]).code).toBe(0);
      expect(runCli(['compile', '--input', feed, '--target', 'all', '--out', b]).code).toBe(0);
      const files = readdirSync(a).sort();
      expect(readdirSync(b).sort()).toEqual(files);
      for (const f of files) {
        const text = readFileSync(join(a, f), 'utf8');
        expect(readFileSync(join(b, f), 'utf8')).toBe(text);
        expect(text).not.toContain(tmpdir());
        expect(text).not.toContain(ROOT);
        expect(text.charCodeAt(0)).not.toBe(0xfeff);
        expect(text).not.toContain('\r');
        expect(text).not.toMatch(/20[0-9]{2}-[0-9]{2}-[0-9]{2}T/);
      }
    },
  );

  it('npx m365fw runs the CLI from the checkout', () => {
    // a cache of its own: an npx cache from an older checkout would link an older bin path
    const out = execFileSync('npx', ['--no-install', 'm365fw', '--version'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, npm_config_cache: tmpDir('npx-cache') },
    });
    expect(out.trim()).toMatch(/^[0-9]+\.[0-9]+\.[0-9]+$/);
  });
});

describe('the front door: help', () => {
  it('m365fw alone prints the help and exits 1; --help and --version exit 0', () => {
    const bare = runCli([]);
    expect(bare.code).toBe(1);
    expect(bare.stderr).toMatch(/^Usage: m365fw \[options\] \[command\]/);
    expect(runCli(['--help']).code).toBe(0);
    expect(runCli(['--version']).code).toBe(0);
  });

  it('required options are marked; update --help lists what an hourly run needs first', () => {
    const help = runCli(['update', '--help']).stdout;
    const flags = [...help.matchAll(/^ {2}(--[a-z-]+)/gm)].map((m) => m[1]);
    expect(flags.slice(0, 4)).toEqual(['--instance', '--state', '--out', '--plan-out']);
    expect(help).toMatch(/--instance <name> +\(required\) /);
    expect(help).toMatch(/--out <dir> +\(required\) /);
    expect(help).not.toMatch(/--plan-out <dir> +\(required\)/);
    expect(runCli(['compile', '--help']).stdout).toMatch(/--input <file> +\(required\) /);
  });
});

describe('a prefix list given as a feed', () => {
  it('says what to pass instead of only "malformed JSON"', () => {
    const dir = tmpDir('pl-hint');
    writeFileSync(join(dir, 'list.txt'), '# corp ranges\n192.0.2.0/24\n2001:db8::/32\n');
    const r = runCli(['compile', '--input', join(dir, 'list.txt'), '--out', join(dir, 'out')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /malformed JSON .*; it looks like a prefix list: pass --input-format prefixes \(with --tcp-ports or --udp-ports\)$/m,
    );
    writeFileSync(join(dir, 'broken.json'), '[{"id": 1,]');
    expect(
      runCli(['compile', '--input', join(dir, 'broken.json'), '--out', join(dir, 'o2')]).stderr,
    ).not.toMatch(/prefix list/);
  });
});

describe('an older Node started by hand', () => {
  // the machine's own Node (20 on this project's machines), not the pinned runtime npm scripts use
  const old = ['/usr/bin/node', '/usr/local/bin/node'].find((p) => {
    if (!existsSync(p)) return false;
    const v = execFileSync(p, ['-p', 'process.versions.node'], { encoding: 'utf8' });
    return Number(v.split('.')[0]) < 22;
  });
  it.skipIf(!old)('says it needs Node 22 in one line and exits 1', () => {
    let code = 0,
      stderr = '';
    try {
      execFileSync(old!, [join(ROOT, 'dist/src/cli/bin.js'), '--version'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (e) {
      code = (e as { status: number }).status;
      stderr = String((e as { stderr: string }).stderr);
    }
    expect(code).toBe(1);
    expect(stderr).toMatch(/^m365fw: needs Node\.js 22 or newer; this is v[0-9.]+ \(.*\)\n$/);
  });
  it('the tests themselves run on the pinned runtime (>= 22)', () => {
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(22);
  });
});
