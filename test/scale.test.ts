import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import cidr from 'cidr-tools';
import { describe, expect, it } from 'vitest';
import { CLI, FIXTURES, have, inNetns, missing, SHARED, skipNote } from './helpers/env.js';
import { parseNftJson, sameIntervals } from './helpers/nft.js';
import { oracleIntervals } from './helpers/oracle.js';
import { compileHere } from './helpers/here.js';
import { tmpDir } from './helpers/tmp.js';

const GEN = join(SHARED, 'bench/gen-prefixes.mjs');
const LIST = join(FIXTURES, 'prefix-list.txt');
const tmp = () => tmpDir('scale');
const why = missing('nft');
skipNote('100k prefix nft load', why ?? (existsSync(GEN) ? undefined : `${GEN} not found`));

describe('plain prefix lists', () => {
  it('comments, blank lines and bare addresses are read; the list merges losslessly', () => {
    const out = tmp();
    const r = compileHere([
      '--input',
      LIST,
      '--input-format',
      'prefixes',
      '--tcp-ports',
      '443',
      '--out',
      out,
    ]);
    expect(r.stderr).toBe('');
    const rep = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(rep.rules.map((x: any) => [x.key, x.prefixes])).toEqual([
      ['v4_tcp_443', ['192.0.2.0/24', '198.51.100.7/32', '203.0.113.0/24']],
      ['v6_tcp_443', ['2001:db8:1::/48']],
    ]);
    expect(rep.summary.prefixesIn).toEqual({ v4: 4, v6: 2 });
  });

  it('with TCP and UDP ports the same list feeds two rules, both exactly the list', () => {
    const out = tmp();
    const r = compileHere([
      '--input',
      LIST,
      '--input-format',
      'prefixes',
      '--tcp-ports',
      '443',
      '--udp-ports',
      '3478-3481',
      '--out',
      out,
    ]);
    expect(r.code).toBe(0);
    const rules = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).rules;
    const v4 = ['192.0.2.0/24', '198.51.100.7/32', '203.0.113.0/24'];
    expect(rules.map((x: any) => [x.key, x.prefixes])).toEqual([
      ['v4_tcp_443', v4],
      ['v4_udp_3478to3481', v4],
      ['v6_tcp_443', ['2001:db8:1::/48']],
      ['v6_udp_3478to3481', ['2001:db8:1::/48']],
    ]);
  });

  it('a bad line is an error naming the file and line', () => {
    const p = join(tmp(), 'bad.txt');
    writeFileSync(p, '192.0.2.0/24\n# fine\n192.0.2.1/24\n');
    const r = compileHere(['--input', p, '--input-format', 'prefixes', '--out', tmp()]);
    expect(r.code).toBe(1);
    // the file by the path it was given, then its line
    expect(r.stderr).toBe(
      `error: ${p}:3: host bits set (network is 192.0.2.0/24): "192.0.2.1/24"\n`,
    );
  });

  it('without ports every target matches the addresses alone; any list compiles to every target', () => {
    const out = tmp();
    const r = compileHere([
      '--input',
      LIST,
      '--input-format',
      'prefixes',
      '--target',
      'all',
      '--out',
      out,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const nft = readFileSync(join(out, 'm365fw.nft'), 'utf8');
    expect(nft).toMatch(/^\t\tip daddr @m365_v4_any accept comment/m);
    expect(nft).not.toMatch(/[0-9]+\.[0-9.]+-[0-9]/); // CIDR elements, never a-b ranges
    expect(readFileSync(join(out, 'm365fw.v4'), 'utf8')).toMatch(
      /^-A M365FW -m set --match-set m365_v4_any dst -m comment --comment "[^"]*" -j ACCEPT$/m,
    );
    const nsg = JSON.parse(readFileSync(join(out, 'azure-nsg.json'), 'utf8')).resources[0]
      .properties.securityRules;
    expect(nsg.map((x: any) => [x.properties.protocol, x.properties.destinationPortRange])).toEqual(
      [
        ['*', '*'],
        ['*', '*'],
      ],
    );
    const rep = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(
      rep.findings.some((f: any) => f.target === 'paloalto' && /other IP protocols/.test(f.detail)),
    ).toBe(true);
  });

  it('the progress bar appears on a terminal only', () => {
    const out = tmp();
    const piped = compileHere(['--input', LIST, '--input-format', 'prefixes', '--out', out]);
    expect(piped.stderr).toBe('');
    if (!have('script')) {
      skipNote('terminal progress check', 'needs script(1) (bsdutils)');
      return;
    }
    const tty = spawnSync(
      'script',
      [
        '-qec',
        `${process.execPath} ${CLI} compile --input ${LIST} --input-format prefixes --out ${out}`,
        '/dev/null',
      ],
      { encoding: 'utf8' },
    );
    expect(tty.status).toBe(0);
    expect(tty.stdout).toMatch(/read +\[#+\] 100%/);
  });
});

describe.skipIf(!!why || !existsSync(GEN))('a 100k-prefix list loads into nftables', () => {
  it("generated 100k IPv4 prefixes: nft -f loads the set and it equals the input's union", () => {
    const dir = tmp();
    const input = join(dir, 'v4-100k.txt');
    writeFileSync(
      input,
      spawnSync(process.execPath, [GEN, '4', '100000', '7'], {
        encoding: 'utf8',
        maxBuffer: 1 << 28,
      }).stdout,
    );
    const out = join(dir, 'out');
    expect(compileHere(['--input', input, '--input-format', 'prefixes', '--out', out]).code).toBe(
      0,
    );
    const { sets } = parseNftJson(
      inNetns(`nft -f ${out}/m365fw.nft\nnft -j list set inet m365fw m365_v4_any`),
    );
    const lines = readFileSync(input, 'utf8').split('\n').filter(Boolean);
    const expected = oracleIntervals(lines);
    const got = sets.get('m365_v4_any')!;
    expect(sameIntervals(got.intervals, expected)).toBe(true);
    expect(got.elements.length).toBe(cidr.mergeCidr(lines).length);
  }, 120000);

  it("generated 30k IPv6 prefixes mixed with 30k IPv4, on TCP and UDP: nft loads four sets, each the input's union", () => {
    const dir = tmp();
    const input = join(dir, 'mixed.txt');
    const gen = (fam: string, n: string) =>
      spawnSync(process.execPath, [GEN, fam, n, '11'], { encoding: 'utf8', maxBuffer: 1 << 28 })
        .stdout;
    const v6 = gen('6', '30000').split('\n').filter(Boolean),
      v4 = gen('4', '30000').split('\n').filter(Boolean);
    // interleaved, so that the reader switches between its IPv4 fast path and the IPv6 path all the time
    writeFileSync(input, v6.flatMap((l, i) => [l, v4[i]]).join('\n') + '\n');
    const out = join(dir, 'out');
    expect(
      compileHere([
        '--input',
        input,
        '--input-format',
        'prefixes',
        '--tcp-ports',
        '443',
        '--udp-ports',
        '3478-3481',
        '--out',
        out,
      ]).code,
    ).toBe(0);
    const names = [
      'm365_v4_tcp_443',
      'm365_v4_udp_3478to3481',
      'm365_v6_tcp_443',
      'm365_v6_udp_3478to3481',
    ];
    const { sets } = parseNftJson(
      inNetns(`nft -f ${out}/m365fw.nft\nnft -j list table inet m365fw`),
    );
    for (const name of names) {
      const lines = name.includes('v6') ? v6 : v4;
      const got = sets.get(name)!;
      expect(sameIntervals(got.intervals, oracleIntervals(lines)), name).toBe(true);
      expect(got.elements.length, name).toBe(cidr.mergeCidr(lines).length);
    }
  }, 120000);
});
