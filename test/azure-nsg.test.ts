import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, sharedFeeds } from './helpers/env.js';
import { AZURE, azureValidators, codeChecks } from './helpers/azure.js';
import { bucketKey, expectedFromFeed } from './helpers/oracle.js';
import { sameIntervals } from './helpers/nft.js';
import { intervalsOfCidrs } from './helpers/ipt.js';
import { NSG_LIMITS } from '../targets/azure-nsg/index.js';
import { compileHere } from './helpers/here.js';
import { tmpDir } from './helpers/tmp.js';

const haveSchemas = existsSync(AZURE);
if (!haveSchemas) console.warn(`SKIP Azure schema tests: ${AZURE} not found`);
const feeds = [join(FIXTURES, 'sample-feed.json'), ...sharedFeeds()];
const tmp = () => tmpDir('az');

function compile(feed: string, extra: string[] = []) {
  const out = tmp();
  const r = compileHere(['--input', feed, '--target', 'azure-nsg', '--out', out, ...extra]);
  return {
    ...r,
    out,
    template:
      r.code === 0 ? JSON.parse(readFileSync(join(out, 'azure-nsg.json'), 'utf8')) : undefined,
  };
}

function portsOf(p: any): number[][] {
  return (p.destinationPortRanges ?? [p.destinationPortRange])
    .map((x: string) => x.split('-').map(Number))
    .map((x: number[]) => [x[0], x[1] ?? x[0]]);
}

describe.skipIf(!haveSchemas)(
  'Azure NSG template validated by the official ARM schema and the project overlays',
  () => {
    const v = haveSchemas ? azureValidators() : undefined!;

    it('the validators themselves accept the good example and reject every bad one', () => {
      const ex = join(AZURE, 'examples');
      expect(
        v.template(JSON.parse(readFileSync(join(ex, 'nsg-good.json'), 'utf8'))),
        v.errors(v.template),
      ).toBe(true);
      expect(v.strict(JSON.parse(readFileSync(join(ex, 'nsg-good.json'), 'utf8')))).toBe(true);
      for (const bad of readdirSync(ex).filter((f) => f.endsWith('.bad.json'))) {
        const doc = JSON.parse(readFileSync(join(ex, bad), 'utf8'));
        const ok = v.template(doc) && v.strict(doc) && codeChecks(doc).length === 0;
        expect(ok, `${bad} should be rejected`).toBe(false);
      }
    });

    it.each([
      ...feeds.map((f) => [basename(f), f, []]),
      ['edge-feed.json', join(FIXTURES, 'edge-feed.json'), ['--allow-implausible', 'all']],
    ] as [string, string, string[]][])(
      '%s: valid, within budgets, and exactly the raw feed',
      (_n, feed, extra) => {
        const { template, stderr } = compile(feed, extra);
        expect(stderr).toBe('');
        expect(v.template(template), v.errors(v.template)).toBe(true);
        expect(v.strict(template), v.errors(v.strict)).toBe(true);
        expect(codeChecks(template)).toEqual([]);
        expect(Object.keys(template.parameters).sort()).toEqual(['location', 'nsgName']);
        expect(template.resources).toHaveLength(1);
        expect(template.resources[0].apiVersion >= '2024-05-01').toBe(true);
        const rules = template.resources[0].properties.securityRules;
        const expected = expectedFromFeed(feed);
        expect(rules.length).toBe(expected.size);
        for (const r of rules) {
          const p = r.properties;
          expect(p).toMatchObject({
            access: 'Allow',
            direction: 'Outbound',
            sourceAddressPrefix: 'VirtualNetwork',
          });
          const family = p.destinationAddressPrefixes[0].includes(':') ? 6 : 4;
          const e = expected.get(bucketKey(family, p.protocol.toLowerCase(), portsOf(p)));
          expect(e, `${r.name}`).toBeDefined();
          expect(sameIntervals(intervalsOfCidrs(p.destinationAddressPrefixes), e!.intervals)).toBe(
            true,
          );
          expect(p.description.length).toBeLessThanOrEqual(NSG_LIMITS.descriptionLength);
        }
        const report = JSON.parse(
          readFileSync(join(compile(feed, extra).out, 'report.json'), 'utf8'),
        );
        const urls = report.urlRules.reduce((n: number, u: any) => n + u.entries.length, 0);
        expect(
          report.findings.filter((f: any) => f.target === 'azure-nsg' && f.kind === 'unenforced')
            .length,
        ).toBe(urls);
      },
    );

    it('--nsg-name, --nsg-priority-start and --nsg-source are applied; priorities unique and deterministic', () => {
      const { template } = compile(feeds[0], [
        '--nsg-name',
        'contoso-m365',
        '--nsg-priority-start',
        '1000',
        '--nsg-source',
        '10.20.0.0/16,2001:db8:20::/48',
      ]);
      expect(template.parameters.nsgName.defaultValue).toBe('contoso-m365');
      const rules = template.resources[0].properties.securityRules;
      expect(rules.map((r: any) => r.properties.priority)).toEqual(
        rules.map((_: unknown, i: number) => 1000 + i),
      );
      // each family's rules get that family's local prefix
      for (const r of rules)
        expect(r.properties.sourceAddressPrefix).toBe(
          r.properties.destinationAddressPrefixes[0].includes(':')
            ? '2001:db8:20::/48'
            : '10.20.0.0/16',
        );
      expect(v.strict(template)).toBe(true);
    });

    it.each([
      [['--nsg-source', '10.20.0.0/16'], /--nsg-source has no IPv6 prefix for rule v6_/],
      [
        ['--nsg-source', '999.999.1.1/99'],
        /--nsg-source "999\.999\.1\.1\/99": not a strict four-part decimal IPv4 address/,
      ],
      [['--nsg-source', '10.20.0.1/16'], /host bits set/],
      [['--nsg-source', '10.20.0.0/16,10.30.0.0/16'], /two IPv4 prefixes/],
      [
        ['--nsg-priority-start', '1e3'],
        /--nsg-priority-start "1e3": a whole number from 100 to 4096/,
      ],
      [['--nsg-priority-step', '0x10'], /--nsg-priority-step "0x10": a whole number from 1 to 100/],
    ])('%j is refused: %s', (args, msg) => {
      const r = compile(feeds[0], args);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(msg);
    });

    it('--nsg-source 10.20.0.0/16 with --no-ipv6: one family, accepted', () => {
      const r = compile(feeds[0], ['--nsg-source', '10.20.0.0/16', '--no-ipv6']);
      expect(r.code).toBe(0);
    });

    it('--nsg-direction Inbound swaps the sides and still validates', () => {
      const { template } = compile(feeds[0], [
        '--nsg-direction',
        'Inbound',
        '--nsg-source',
        '10.20.0.0/16',
        '--no-ipv6',
      ]);
      expect(v.template(template), v.errors(v.template)).toBe(true);
      expect(v.strict(template), v.errors(v.strict)).toBe(true);
      expect(codeChecks(template)).toEqual([]);
      for (const r of template.resources[0].properties.securityRules) {
        expect(r.properties).toMatchObject({
          direction: 'Inbound',
          destinationAddressPrefix: '10.20.0.0/16',
        });
        expect(r.properties.sourceAddressPrefixes.length).toBeGreaterThan(0);
        expect(r.properties.destinationAddressPrefixes).toBeUndefined();
      }
    });

    describe('budgets: a synthetic feed large enough to hit each one fails with how much and what to do, writing nothing', () => {
      function synthetic(sets: number, prefixesPerSet: number, distinctPorts: boolean): string {
        const feed = [];
        let n = 0;
        for (let s = 0; s < sets; s++) {
          const ips = [];
          for (let i = 0; i < prefixesPerSet; i++, n++)
            ips.push(`${20 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}.0/25`); // never adjacent: /25 in each /24
          feed.push({
            id: s + 1,
            serviceArea: 'Common',
            category: 'Allow',
            required: true,
            ips,
            tcpPorts: distinctPorts ? String(1000 + s) : '443',
          });
        }
        const p = join(tmp(), 'big.json');
        writeFileSync(p, JSON.stringify(feed));
        return p;
      }
      it.each([
        [
          'destination prefixes',
          synthetic(1, 4001, false),
          [],
          /4001 destination prefixes exceed the 4000 an NSG holds by 1 .*--service-areas/,
        ],
        [
          'rules',
          synthetic(1001, 1, true),
          [],
          /1001 rules exceed the 1000 rules an NSG holds by 1/,
        ],
        [
          'priority range',
          synthetic(300, 1, true),
          ['--nsg-priority-start', '4000'],
          /end at 4299, past 4096 by 203/,
        ],
      ])('%s', (_n, feed, extra, msg) => {
        const r = compile(feed, extra);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(msg);
        expect(readdirSync(r.out)).toEqual([]);
      });
      it('exactly at the budget fits and validates', () => {
        const { template, code } = compile(synthetic(1, 4000, false));
        expect(code).toBe(0);
        expect(v.strict(template)).toBe(true);
        expect(codeChecks(template)).toEqual([]);
      });
    });
  },
);
