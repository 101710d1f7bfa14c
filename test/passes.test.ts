/**
 * The compile passes in-process, through the library API: the validate pass on sets a caller
 * hands in (each field at and past its bounds), the plausibility pass per input format, the filter
 * pass's typo check, the stats, and the preset checks against the feed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, PrefixSet, readFeed, type EndpointSet, type Feed } from '../src/index.js';
import { FIXTURES } from './helpers/env.js';

const base = (o: Partial<EndpointSet> = {}): EndpointSet => ({
  id: '1',
  serviceArea: 'Exchange',
  category: 'Allow',
  required: true,
  expressRoute: false,
  tcpPorts: [{ from: 443, to: 443 }],
  udpPorts: [],
  prefixes: { v4: PrefixSet.of(4, ['13.107.6.152/31']), v6: PrefixSet.of(6, []) },
  urls: [],
  origin: 'feed',
  ...o,
});
const feedOf = (sets: EndpointSet[], format: 'o365-json' | 'prefixes' = 'o365-json'): Feed => ({
  name: 'mem.json',
  input: { file: 'mem.json', sha256: '0'.repeat(64), format },
  sets,
});

describe('validate: sets handed in by a library caller', () => {
  it.each([
    [{ id: '' }, 'mem.json: endpoint set : field id: invalid endpoint set: ""'],
    [{ category: 'Sometimes' as never }, 'field category: invalid endpoint set: "Sometimes"'],
    [
      { prefixes: { v4: ['1.2.3.0/24'] as never, v6: PrefixSet.of(6, []) } },
      'field prefixes.v4: invalid endpoint set: "not a PrefixSet of that family"',
    ],
    [{ prefixes: { v4: PrefixSet.of(6, []), v6: PrefixSet.of(6, []) } }, 'field prefixes.v4'],
    [{ prefixes: { v4: PrefixSet.of(4, []), v6: PrefixSet.of(4, []) } }, 'field prefixes.v6'],
    [{ tcpPorts: [{ from: 0, to: 443 }] }, 'field ports: invalid endpoint set: "0-443"'],
    [{ tcpPorts: [{ from: 1, to: 65536 }] }, '"1-65536"'],
    [{ udpPorts: [{ from: 500, to: 400 }] }, '"500-400"'],
    [{ udpPorts: [{ from: 1.5, to: 2 }] }, '"1.5-2"'],
    [{ tcpPorts: [{ from: 1, to: 2.5 }] }, '"1-2.5"'],
  ] as [Partial<EndpointSet>, string][])('%j is refused', (o, msg) => {
    expect(() => compile(feedOf([base(o)]))).toThrow(msg);
  });
  it('the bounds themselves pass; a duplicate id is refused', () => {
    const m = compile(
      feedOf([
        base({
          tcpPorts: [
            { from: 1, to: 1 },
            { from: 65535, to: 65535 },
          ],
        }),
      ]),
    );
    expect(m.rules.map((r) => r.key)).toEqual(['v4_tcp_1_65535']);
    expect(() => compile(feedOf([base(), base()]))).toThrow(
      'endpoint set 1: field id: invalid endpoint set: "1 (duplicate)"',
    );
  });
});

describe('plausibility: the feed is judged, a prefix list is not', () => {
  const priv = base({
    prefixes: { v4: PrefixSet.of(4, ['10.1.0.0/16']), v6: PrefixSet.of(6, []) },
  });
  it('a feed with a private range is refused, unless allowed', () => {
    expect(() => compile(feedOf([priv]))).toThrow(
      /refusing implausible feed entries: set 1 10\.1\.0\.0\/16 \(private\)/,
    );
    expect(compile(feedOf([priv]), { allowImplausible: ['private'] }).rules).toHaveLength(1);
  });
  it("a prefix list (the user's own) is not judged", () => {
    expect(compile(feedOf([{ ...priv, origin: 'prefixes' }], 'prefixes')).rules).toHaveLength(1);
  });
  it('a wildcard over a public suffix is refused in a feed', () => {
    expect(() => compile(feedOf([base({ urls: [{ host: '*.com', kind: 'wildcard' }] })]))).toThrow(
      /over the public suffix com/,
    );
  });
});

describe('filter: values that match nothing are typos', () => {
  const sets = [base(), base({ id: '2', serviceArea: 'Skype', category: 'Optimize' })];
  it.each([
    [
      { serviceAreas: ['Sharepiont'] },
      '--service-areas "Sharepiont" matches no endpoint set; the service areas in the input: Exchange, Skype',
    ],
    [
      { categories: ['Default' as const] },
      '--categories "Default" matches no endpoint set; the categories in the input: Allow, Optimize',
    ],
  ])('%j', (o, msg) => expect(() => compile(feedOf(sets), o)).toThrow(msg));
  it('a match ignores case; an empty input names none', () => {
    expect(compile(feedOf(sets), { serviceAreas: ['skype'] }).sets.map((s) => s.id)).toEqual(['2']);
    expect(() => compile(feedOf([]), { serviceAreas: ['Skype'] })).toThrow(
      /the service areas in the input: none/,
    );
  });
  it('the model is ordered by id (numbers numerically), never by the input', () => {
    const m = compile(
      feedOf([base({ id: '10' }), base({ id: '9' }), base({ id: 'b' }), base({ id: 'a' })]),
    );
    expect(m.sets.map((s) => s.id)).toEqual(['9', '10', 'a', 'b']);
  });
});

describe('stats', () => {
  it('counts sets in and kept, prefixes in and merged, per family', () => {
    const m = compile(
      feedOf([
        base({
          prefixes: {
            v4: PrefixSet.of(4, ['13.107.6.152/31', '13.107.6.154/31']),
            v6: PrefixSet.of(6, ['2603:1006::/40']),
          },
        }),
        base({
          id: '2',
          serviceArea: 'Skype',
          prefixes: { v4: PrefixSet.of(4, ['13.107.6.152/31']), v6: PrefixSet.of(6, []) },
        }),
      ]),
      { serviceAreas: ['Exchange', 'Skype'] },
    );
    expect(m.stats).toEqual({
      setsIn: 2,
      setsKept: 2,
      prefixesIn: { v4: 3, v6: 1 },
      prefixesMerged: { v4: 1, v6: 1 },
    });
    expect(
      compile(feedOf([base(), base({ id: '2', serviceArea: 'Skype' })]), {
        serviceAreas: ['Skype'],
      }).stats,
    ).toMatchObject({ setsIn: 2, setsKept: 1 });
  });
});

describe('presets against the feed', () => {
  const text = readFileSync(join(FIXTURES, 'ingress-feed.json'));
  const feed = (instance?: string) =>
    readFeed(text, { name: 'f.json', ...(instance ? { instance } : {}) });
  const opts = { allowImplausible: ['documentation'] };
  it('an unknown instance: refused where the ids differ per instance, used where they agree', () => {
    expect(() => compile(feed(), { ...opts, ingress: { presets: ['eop-inbound-smtp'] } })).toThrow(
      "f.json: preset eop-inbound-smtp: the feed's instance is unknown and the preset's set ids differ per instance; pass --instance (Worldwide, China, USGovDoD, USGovGCCHigh)",
    );
    const m = compile(feed(), { ...opts, ingress: { presets: ['exchange-hybrid-inbound'] } });
    expect(m.rules.map((r) => r.key)).toEqual(['in_v4_tcp_443', 'in_v6_tcp_443']);
  });
  it('an instance the preset has no sets for is refused; a set missing from the feed is named', () => {
    expect(() =>
      compile(feed('Mars'), { ...opts, ingress: { presets: ['exchange-hybrid-inbound'] } }),
    ).toThrow('preset exchange-hybrid-inbound has no endpoint sets for instance "Mars"');
    expect(() =>
      compile(feed('USGovDoD'), { ...opts, ingress: { presets: ['eop-inbound-smtp'] } }),
    ).toThrow(
      'f.json: preset eop-inbound-smtp (instance USGovDoD) names endpoint set 6, which is not in the feed',
    );
  });
  it('the same preset twice is one; the presets are applied in name order', () => {
    const once = compile(feed('Worldwide'), {
      ...opts,
      ingress: { presets: ['eop-inbound-smtp'] },
    });
    const twice = compile(feed('Worldwide'), {
      ...opts,
      ingress: { presets: ['eop-inbound-smtp', 'eop-inbound-smtp'] },
    });
    expect(twice.rules.map((r) => [r.key, r.provenance.setIds])).toEqual(
      once.rules.map((r) => [r.key, r.provenance.setIds]),
    );
  });
});

describe('plausibility of ingress rules, bucketed by their local ports', () => {
  // two sets that never share an egress rule (80,443 and 443) share the ingress rule on TCP 443
  const feed = readFeed(
    JSON.stringify([
      {
        id: 1,
        serviceArea: 'Exchange',
        category: 'Allow',
        required: true,
        expressRoute: false,
        tcpPorts: '80,443',
        ips: ['13.0.0.0/10'],
      },
      {
        id: 2,
        serviceArea: 'Exchange',
        category: 'Allow',
        required: true,
        expressRoute: false,
        tcpPorts: '443',
        ips: ['13.64.0.0/10'],
      },
    ]),
    { name: 'short.json', instance: 'Worldwide' },
  );
  const ingress = { tcpPorts: [{ from: 443, to: 443 }] };
  it('egress: two rules of a /10 each pass', () => {
    expect(compile(feed).rules.map((r) => r.prefixes.toArray())).toEqual([
      ['13.0.0.0/10'],
      ['13.64.0.0/10'],
    ]);
  });
  it('ingress: their merge to a /9 is refused, and let through by --allow-implausible short', () => {
    expect(() => compile(feed, { direction: 'ingress', ingress })).toThrow(
      'short.json: refusing implausible feed entries: the rule for IPv4 tcp 443 (sets 1,2) merges to 13.0.0.0/9 (short); if this is deliberate, pass --allow-implausible short',
    );
    const m = compile(feed, { direction: 'ingress', ingress, allowImplausible: ['short'] });
    expect(m.rules.map((r) => [r.key, r.prefixes.toArray()])).toEqual([
      ['in_v4_tcp_443', ['13.0.0.0/9']],
    ]);
  });
});
