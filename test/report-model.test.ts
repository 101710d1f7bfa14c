/**
 * The report and the plan, in-process on small feeds: what report.json says of a run (sets,
 * rules, URL rules, targets, findings, summary), what a plan says of each kind of change alone,
 * and the Markdown a pull request shows (escaped: feed strings are untrusted).
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  compile,
  formatSummary,
  parseReport,
  plan,
  planMarkdown,
  readFeed,
  readPolicy,
  readPreviousReport,
  render,
  type CompiledRun,
  type Plan,
} from '../src/index.js';
import { checkReport } from '../src/report/previous.js';
import { staleFiles } from '../src/run/run.js';
import { buildReport, contentHash, reportPieces } from '../src/report/report.js';
import { crossCheck } from '../src/report/changes.js';
import { tmpDir } from './helpers/tmp.js';

type FeedSet = Record<string, unknown> & { id: number };
const set = (id: number, o: Record<string, unknown> = {}): FeedSet => ({
  id,
  serviceArea: 'Exchange',
  serviceAreaDisplayName: 'Exchange Online',
  category: 'Allow',
  required: true,
  expressRoute: false,
  tcpPorts: '443',
  ...o,
});
const PAC = { pacProxy: 'PROXY proxy.example:8080' };
function run(sets: FeedSet[], targets: string[] = ['nftables'], name = 'feed.json'): CompiledRun {
  return render(compile(readFeed(sets, { name }), { allowImplausible: ['documentation'] }), {
    targets,
    options: PAC,
  });
}
const A = [
  set(1, { ips: ['192.0.2.0/25', '2001:db8::/48'], urls: ['a.example.com'] }),
  set(2, {
    ips: ['198.51.100.0/24'],
    urls: ['*.b.example.com'],
    tcpPorts: '80,443',
    udpPorts: '3478',
  }),
];
/** the plan of going from sets a to sets b (nftables unless said) */
const planOf = (a: FeedSet[], b: FeedSet[], ta?: string[], tb?: string[]): Plan =>
  plan(run(a, ta).report, run(b, tb ?? ta));
const none = { ips: [], urls: [] };
const zero = {
  setsAdded: 0,
  setsRemoved: 0,
  setsModified: 0,
  rulesAdded: 0,
  rulesRemoved: 0,
  rulesModified: 0,
  prefixesAdded: 0,
  prefixesRemoved: 0,
  urlsAdded: 0,
  urlsRemoved: 0,
  setsRenumbered: 0,
  entriesMoved: 0,
};

describe('report.json of a run', () => {
  const r = run(A).report;
  it('sets, rules and URL rules as the model has them', () => {
    expect(r.tool.name).toBe('m365fw');
    expect(r.input).toEqual({
      file: 'feed.json',
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      format: 'o365-json',
    });
    expect(r.endpointSets).toEqual([
      {
        id: '1',
        serviceArea: 'Exchange',
        category: 'Allow',
        required: true,
        expressRoute: false,
        tcpPorts: '443',
        udpPorts: '',
        ips: ['192.0.2.0/25', '2001:db8::/48'],
        ipCount: 2,
        urls: ['a.example.com'],
        origin: 'feed',
      },
      {
        id: '2',
        serviceArea: 'Exchange',
        category: 'Allow',
        required: true,
        expressRoute: false,
        tcpPorts: '80,443',
        udpPorts: '3478',
        ips: ['198.51.100.0/24'],
        ipCount: 1,
        urls: ['*.b.example.com'],
        origin: 'feed',
      },
    ]);
    const prov = (id: string) => ({
      setIds: [id],
      serviceAreas: ['Exchange'],
      categories: ['Allow'],
      required: [true],
    });
    expect(JSON.parse(JSON.stringify(r.rules))).toEqual([
      {
        key: 'v4_tcp_80_443',
        family: 4,
        protocol: 'tcp',
        ports: '80,443',
        prefixes: ['198.51.100.0/24'],
        provenance: prov('2'),
      },
      {
        key: 'v4_tcp_443',
        family: 4,
        protocol: 'tcp',
        ports: '443',
        prefixes: ['192.0.2.0/25'],
        provenance: prov('1'),
      },
      {
        key: 'v4_udp_3478',
        family: 4,
        protocol: 'udp',
        ports: '3478',
        prefixes: ['198.51.100.0/24'],
        provenance: prov('2'),
      },
      {
        key: 'v6_tcp_443',
        family: 6,
        protocol: 'tcp',
        ports: '443',
        prefixes: ['2001:db8::/48'],
        provenance: prov('1'),
      },
    ]);
    expect(r.urlRules).toEqual([
      {
        key: 'url_tcp_80_443',
        protocol: 'tcp',
        ports: '80,443',
        entries: [{ host: '*.b.example.com', kind: 'wildcard', setIds: ['2'] }],
      },
      {
        key: 'url_tcp_443',
        protocol: 'tcp',
        ports: '443',
        entries: [{ host: 'a.example.com', kind: 'fqdn', setIds: ['1'] }],
      },
      {
        key: 'url_udp_3478',
        protocol: 'udp',
        ports: '3478',
        entries: [{ host: '*.b.example.com', kind: 'wildcard', setIds: ['2'] }],
      },
    ]);
  });

  it('summary: counts before and after merging, rules, URL entries, findings by kind', () => {
    expect(r.summary).toEqual({
      setsIn: 2,
      setsKept: 2,
      prefixesIn: { v4: 2, v6: 1 },
      prefixesMerged: { v4: 3, v6: 1 },
      rules: 4,
      urlEntries: 3,
      // nftables without a hook enforces nothing by itself: said as a finding
      findings: { inert: 1, unenforced: 3 },
    });
    // findings sorted by target, kind, sets, entry
    expect(
      r.findings.map((f) => `${f.target} ${f.kind} ${f.setIds?.join(',')} ${f.entry}`),
    ).toEqual([
      'nftables inert undefined undefined',
      'nftables unenforced 1 a.example.com tcp/443',
      'nftables unenforced 2 *.b.example.com tcp/80,443',
      'nftables unenforced 2 *.b.example.com udp/3478',
    ]);
    const two = run(A, ['pac', 'nftables']).report;
    expect(Object.keys(two.summary.findings)).toEqual(
      [...Object.keys(two.summary.findings)].sort(),
    );
    const targets = two.findings.map((f) => f.target ?? '');
    expect(targets).toEqual([...targets].sort());
  });

  it('targets: every artifact with its hashes and size; what each target enforces, sorted', () => {
    const cr = run(A, ['nftables', 'pac']);
    const t = cr.report.targets;
    expect(Object.keys(t)).toEqual(['nftables', 'pac']);
    for (const [name, v] of Object.entries(t)) {
      const files = cr.artifacts.filter((a) => v.artifacts.some((x) => x.path === a.path));
      expect(files.length, name).toBe(v.artifacts.length);
      for (const x of v.artifacts) {
        const a = cr.artifacts.find((y) => y.path === x.path)!;
        const bytes = Buffer.concat(
          typeof a.content === 'string' ? [Buffer.from(a.content)] : a.content,
        );
        expect(x.bytes).toBe(bytes.length);
        expect(x.sha256).toMatch(/^[0-9a-f]{64}$/);
        expect(x.contentSha256).toMatch(/^[0-9a-f]{64}$/);
        expect(x.contentSha256).not.toBe(x.sha256);
      }
    }
    expect(t.nftables.enforces!.rules).toEqual([
      'v4_tcp_443',
      'v4_tcp_80_443',
      'v4_udp_3478',
      'v6_tcp_443',
    ]);
    expect(t.nftables.enforces!.names).toEqual([]);
    // PAC type 1 sends only Optimize sets direct: these Allow sets enforce nothing there
    expect(t.pac.enforces).toEqual({ rules: [], names: [] });
  });

  it('the report written is the report built: reportPieces reads back equal, large lists too', () => {
    const text = Buffer.concat(reportPieces(r)).toString('utf8');
    expect(text.endsWith('}\n')).toBe(true);
    expect(parseReport(text)).toEqual(JSON.parse(JSON.stringify(r)));
    // a rule of more than 1000 prefixes is spliced in as bytes: the same JSON
    const ips = Array.from({ length: 1200 }, (_, i) => `2001:db8:${(i * 2).toString(16)}::/48`);
    const big = run([set(1, { ips })]).report;
    const bigText = Buffer.concat(reportPieces(big)).toString('utf8');
    expect(bigText).toBe(JSON.stringify(big, null, 2) + '\n');
    expect(parseReport(bigText).rules[0].prefixes).toHaveLength(1200);
    // two large lists (each at its own place), one of them ingress with its local side
    const ingress = render(
      compile(
        readFeed([set(1, { ips }), set(2, { ips: ips.slice(0, 1001), tcpPorts: '25' })], {
          name: 'in.json',
        }),
        {
          allowImplausible: ['documentation'],
          direction: 'ingress',
          ingress: { local: ['2001:db8:ffff::25/128'] },
        },
      ),
      { targets: ['nftables'] },
    ).report;
    const inText = Buffer.concat(reportPieces(ingress)).toString('utf8');
    expect(inText).toBe(JSON.stringify(ingress, null, 2) + '\n');
    expect(ingress.rules.filter((x) => x.direction === 'ingress').length).toBeGreaterThan(0);
  });

  it('the content hash leaves out the provenance lines, wherever they are, and nothing else', () => {
    const h = contentHash('a\nHEADER1\nb\nHEADER2\nc\n', ['HEADER2', 'HEADER1']);
    expect(h).toBe(contentHash('a\n\nb\n\nc\n', []));
    expect(h).toBe(
      contentHash(
        [Buffer.from('a\nHEAD'), Buffer.from('ER1\nb\nHEADER2\nc\n')],
        ['HEADER1', 'HEADER2'],
      ),
    );
    expect(h).not.toBe(contentHash('a\nHEADER1\nb\nHEADER2\nd\n', ['HEADER1', 'HEADER2']));
    expect(contentHash('x HEADER y', ['MISSING'])).toBe(contentHash('x HEADER y', []));
    // a header line once only: a second copy is content
    expect(contentHash('H\nH\n', ['H'])).toBe(contentHash('\nH\n', []));
    // the same run under another file name: content hashes equal, file hashes not
    const a = run(A, ['nftables'], 'one.json').report.targets.nftables.artifacts[0];
    const b = run(A, ['nftables'], 'two.json').report.targets.nftables.artifacts[0];
    expect(a.contentSha256).toBe(b.contentSha256);
    expect(a.sha256).not.toBe(b.sha256);
  });

  it('the summary printed: input, counts, targets, findings per target and kind, files written', () => {
    const cr = run(A, ['nftables', 'pac']);
    expect(formatSummary(cr, ['/o/m365fw.nft', '/o/report.json'], 12.4)).toBe(
      [
        `m365fw: feed.json (sha256 ${cr.report.input.sha256.slice(0, 12)}, instance unknown)`,
        '  endpoint sets: 2 in, 2 kept',
        '  IPv4 prefixes: 2 in the kept sets, 3 in the rules after merging per rule',
        '  IPv6 prefixes: 1 in the kept sets, 1 in the rules after merging per rule',
        '  rules: 4 (nftables, pac); URL entries: 3',
        '  nftables enforces: integration: enforces nothing until your chain jumps to m365_allow (inert)',
        '  pac enforces: proxy routing for browsers that use the file: the listed hosts go DIRECT, everything else to PROXY proxy.example:8080; it allows or blocks nothing',
        '  findings (see report.json):',
        '    nftables inert: 1',
        '    nftables unenforced: 3',
        ...Object.entries(
          cr.report.findings
            .filter((f) => f.target === 'pac')
            .reduce<Record<string, number>>(
              (m, f) => ({ ...m, [f.kind]: (m[f.kind] ?? 0) + 1 }),
              {},
            ),
        )
          .sort()
          .map(([k, n]) => `    pac ${k}: ${n}`),
        '  wrote 2 files in 12 ms: m365fw.nft, report.json',
        '',
      ].join('\n'),
    );
    const v = render(
      compile(readFeed(A, { name: 'f.json', instance: 'China' }), {
        allowImplausible: ['documentation'],
      }),
      { targets: ['nftables'] },
    );
    expect(formatSummary(v, [], 0).split('\n')[0]).toMatch(/, instance China\)$/);
  });

  it('the summary: a skipped target named, findings counted per target (or model) and kind in order, none without a header', () => {
    const cr = run(A);
    const findings = [
      { kind: 'widened', target: 'pac', detail: 'x' },
      { kind: 'dropped', target: 'pac', detail: 'not generated: --pac-proxy not given' },
      { kind: 'dropped', target: 'pac', detail: 'another reason' },
      { kind: 'dropped', detail: 'not generated (a model finding, no target)' },
      { kind: 'unenforced', target: 'nftables', detail: 'y' },
      { kind: 'dropped', target: 'azure-nsg', detail: 'the prefix is not generated' },
    ];
    const with_ = { ...cr, report: { ...cr.report, findings } } as unknown as CompiledRun;
    const lines = formatSummary(with_, ['/o/x/report.json'], 0.4).split('\n');
    expect(lines.slice(5)).toEqual([
      '  nftables enforces: integration: enforces nothing until your chain jumps to m365_allow (inert)',
      '  target pac skipped: not generated: --pac-proxy not given',
      '  findings (see report.json):',
      '    azure-nsg dropped: 1',
      '    model dropped: 1',
      '    nftables unenforced: 1',
      '    pac dropped: 2',
      '    pac widened: 1',
      '  wrote 1 files in 0 ms: report.json',
      '',
    ]);
    const none = { ...cr, report: { ...cr.report, findings: [] } } as unknown as CompiledRun;
    expect(formatSummary(none, [], 1.6).split('\n').slice(5)).toEqual([
      '  nftables enforces: integration: enforces nothing until your chain jumps to m365_allow (inert)',
      '  wrote 0 files in 2 ms: ',
      '',
    ]);
    const version = {
      ...cr,
      report: {
        ...cr.report,
        input: { ...cr.report.input, instance: 'Worldwide', version: '2026120100' },
      },
    } as unknown as CompiledRun;
    expect(formatSummary(version, [], 0).split('\n')[0]).toBe(
      `m365fw: feed.json (sha256 ${cr.report.input.sha256.slice(0, 12)}, instance Worldwide, version 2026120100)`,
    );
  });
});

describe('report.json: findings in order, a policy set with its reason', () => {
  it('findings sorted by target (the model first), kind, sets, entry and detail, whatever order they come in', () => {
    const m = compile(readFeed(A, { name: 'feed.json' }), { allowImplausible: ['documentation'] });
    const t = (o: Record<string, unknown>) => ({ kind: 'dropped', target: 't', detail: 'a', ...o });
    const want = [
      { kind: 'dropped', detail: 'a model finding' },
      t({ kind: 'split', target: 's', detail: 'z' }),
      t({ detail: 'no set' }),
      t({ setIds: ['10'], entry: 'e' }),
      t({ setIds: ['2'], detail: 'no entry' }),
      t({ setIds: ['2'], entry: 'd' }),
      t({ setIds: ['2'], entry: 'd', detail: 'b' }),
      t({ setIds: ['2'], entry: 'e' }),
      t({ setIds: ['2', '3'], entry: 'a' }),
      t({ kind: 'widened', detail: 'w' }),
    ];
    const at = (order: number[]) =>
      buildReport(
        { ...m, findings: [want[0]] } as typeof m,
        [
          {
            name: 't',
            artifacts: [],
            findings: order.map((i) => want[i]) as typeof m.findings,
            enforces: { rules: [], names: [] },
            enforcement: { mode: 'unstated', text: 'x', inert: false },
          },
        ],
        {},
      );
    for (const order of [
      [9, 8, 7, 6, 5, 4, 3, 2, 1],
      [5, 1, 8, 3, 9, 2, 7, 4, 6],
      [1, 2, 3, 4, 5, 6, 7, 8, 9],
    ]) {
      const r = at(order);
      expect(r.findings).toEqual(want);
      expect(r.summary.findings).toEqual({ dropped: 8, split: 1, widened: 1 });
      expect(Object.keys(r.summary.findings)).toEqual(['dropped', 'split', 'widened']);
    }
  });

  it("a policy's own set carries its reason; a feed set has none", () => {
    const policy = readPolicy(
      'endpointSets:\n  - id: corp-turn\n    serviceArea: Custom\n    category: Optimize\n    udpPorts: "3478"\n    ips: [198.51.100.64/26]\n    reason: "on-premises TURN relay"\n',
    );
    const m = compile(readFeed(A, { name: 'feed.json' }), {
      allowImplausible: ['documentation'],
      policy,
    });
    const sets = buildReport(m, [], {}).endpointSets;
    expect(sets.map((x) => [x.id, x.origin, x.reason])).toEqual([
      ['1', 'feed', undefined],
      ['2', 'feed', undefined],
      ['corp-turn', 'policy', 'on-premises TURN relay'],
    ]);
    expect(sets.filter((x) => 'reason' in x).map((x) => x.id)).toEqual(['corp-turn']);
  });
});

describe('report.json read back: untrusted, checked', () => {
  it('a report of another shape, bad JSON, or not a file is a refusal naming it', () => {
    const good = run(A).report;
    expect(() => checkReport({ ...good, rules: 'x' }, 'r.json')).toThrow(
      /^r\.json is not an m365fw report \(\/rules must be array\); refusing to judge the change against it/,
    );
    expect(() => checkReport(null, 'r.json')).toThrow(/^r\.json is not an m365fw report \(\/ /);
    const dir = tmpDir('rep');
    expect(readPreviousReport(dir)).toBeUndefined();
    writeFileSync(join(dir, 'report.json'), '{not json');
    expect(() => readPreviousReport(dir)).toThrow(
      `${join(dir, 'report.json')} is not valid JSON; refusing to judge the change against it: move it away or restore it`,
    );
    writeFileSync(join(dir, 'report.json'), JSON.stringify(good));
    expect(readPreviousReport(dir)).toEqual(JSON.parse(JSON.stringify(good)));
    const d2 = tmpDir('rep');
    mkdirSync(join(d2, 'report.json'));
    expect(() => readPreviousReport(d2)).toThrow(
      `${join(d2, 'report.json')} is not a regular file; refusing to use it`,
    );
    const d3 = tmpDir('rep');
    symlinkSync(join(dir, 'report.json'), join(d3, 'report.json'));
    expect(() => readPreviousReport(d3)).toThrow(/is not a regular file/);
    expect(() => parseReport('[', 'x.json')).toThrow(/^x\.json: not JSON/);
  });
  it('the stale files of a previous run: its artifacts and report this run does not write, once, sorted', () => {
    const r = run(A, ['pac', 'nftables']).report;
    expect(staleFiles(r, new Set())).toEqual(['m365fw.nft', 'm365fw.pac', 'report.json']);
    expect(staleFiles(r, new Set(['m365fw.nft', 'report.json']))).toEqual(['m365fw.pac']);
    expect(staleFiles(undefined, new Set())).toEqual([]);
  });
});

describe('plan: each kind of change alone', () => {
  it('no change: nothing to report, and the Markdown says so', () => {
    const p = planOf(A, A);
    expect(p).toMatchObject({ changed: false, counts: zero, sets: [], rules: [], urls: [] });
    expect(p.previous.found).toBe(true);
    expect(p.refused).toBeUndefined();
    expect(p.targets).toEqual({
      nftables: {
        added: false,
        removed: false,
        findingsAdded: [],
        findingsRemoved: [],
        contentChanged: false,
      },
    });
    const md = planMarkdown(p);
    expect(md).toMatch(
      /^## m365fw plan: no changes\n\nInput `feed\.json` \(sha256 `[0-9a-f]{12}`, instance unknown, version unknown\) against `feed\.json`/,
    );
    expect(md).toMatch(/\nNothing that any target enforces or reports has changed\.\n$/);
    expect(md).not.toContain('|');
  });

  it('no previous report: everything is new', () => {
    const p = plan(undefined, run(A));
    expect(p.previous).toEqual({ input: undefined, found: false });
    expect(p.counts).toEqual({
      ...zero,
      setsAdded: 2,
      rulesAdded: 4,
      // distinct: 198.51.100.0/24 in a TCP and a UDP rule is one block, *.b.example.com one host
      prefixesAdded: 3,
      urlsAdded: 2,
    });
    expect(p.sets.map((s) => [s.id, s.change])).toEqual([
      ['1', 'added'],
      ['2', 'added'],
    ]);
    expect(p.sets[0].added).toEqual({
      ips: ['192.0.2.0/25', '2001:db8::/48'],
      urls: ['a.example.com'],
    });
    expect(p.targets.nftables).toMatchObject({
      added: true,
      removed: false,
      contentChanged: false,
    });
    // three URL entries not enforced, and the output enforces nothing by itself (no hook)
    expect(p.targets.nftables.findingsAdded.map((f) => f.kind).sort()).toEqual([
      'inert',
      'unenforced',
      'unenforced',
      'unenforced',
    ]);
    expect(planMarkdown(p)).toContain('; no previous report.json: everything is new.');
  });

  it('a prefix widened in one set: the set and its rule, modified', () => {
    const b = [{ ...A[0], ips: ['192.0.2.0/24', '2001:db8::/48'] }, A[1]];
    const p = planOf(A, b);
    expect(p.changed).toBe(true);
    expect(p.sets).toEqual([
      {
        id: '1',
        change: 'modified',
        serviceArea: 'Exchange',
        category: 'Allow',
        added: { ips: ['192.0.2.0/24'], urls: [] },
        removed: { ips: ['192.0.2.0/25'], urls: [] },
      },
    ]);
    expect(p.rules).toEqual([
      {
        key: 'v4_tcp_443',
        change: 'modified',
        protocol: 'tcp',
        ports: '443',
        // the address space the /24 adds to the /25: its upper half, and nothing removed
        addedPrefixes: ['192.0.2.128/25'],
        removedPrefixes: [],
      },
    ]);
    expect(p.counts).toEqual({
      ...zero,
      setsModified: 1,
      rulesModified: 1,
      prefixesAdded: 1,
    });
    expect(p.targets.nftables.contentChanged).toBe(true);
    const md = planMarkdown(p);
    expect(md).toContain('## m365fw plan: changes\n');
    expect(md).toContain('| +0 −0 ~1 | +0 −0 ~1 | +1 −0 | +0 −0 | none |');
    expect(md).toContain('| 1 (Exchange, Allow) | ~ | `192.0.2.0/24` | `192.0.2.0/25` |  |');
    expect(md).toContain('| `v4_tcp_443` (tcp 443) | ~ | `192.0.2.128/25` |  |');
    expect(md).toContain('| nftables | changed |  |');
    expect(md).not.toContain('### URL entries');
  });

  it('a set removed: its rules and URL entries go', () => {
    const p = planOf(A, [A[0]]);
    expect(p.sets).toEqual([
      {
        id: '2',
        change: 'removed',
        serviceArea: 'Exchange',
        category: 'Allow',
        added: none,
        removed: { ips: ['198.51.100.0/24'], urls: ['*.b.example.com'] },
      },
    ]);
    expect(p.rules.map((r) => [r.key, r.change, r.removedPrefixes])).toEqual([
      ['v4_tcp_80_443', 'removed', ['198.51.100.0/24']],
      ['v4_udp_3478', 'removed', ['198.51.100.0/24']],
    ]);
    expect(p.urls).toEqual([
      { rule: 'url_tcp_80_443', host: '*.b.example.com', change: 'removed', setIds: ['2'] },
      { rule: 'url_udp_3478', host: '*.b.example.com', change: 'removed', setIds: ['2'] },
    ]);
    expect(p.counts).toEqual({
      ...zero,
      setsRemoved: 1,
      rulesRemoved: 2,
      // one block and one host, each in a TCP and a UDP rule
      prefixesRemoved: 1,
      urlsRemoved: 1,
    });
    expect(p.targets.nftables.findingsRemoved.map((f) => f.entry)).toEqual([
      '*.b.example.com tcp/80,443',
      '*.b.example.com udp/3478',
    ]);
    const md = planMarkdown(p);
    expect(md).toContain('| `*.b.example.com` | `url_udp_3478` | − | 2 |');
    expect(md).toContain('| nftables | changed | −2 unenforced |');
  });

  it('ports changed: said per protocol, old → new ("-" for none)', () => {
    const p = planOf(A, [A[0], { ...A[1], udpPorts: '', tcpPorts: '80,443,8080' }]);
    const s = p.sets.find((x) => x.id === '2')!;
    expect(s.ports).toEqual({ tcp: ['80,443', '80,443,8080'], udp: ['3478', ''] });
    expect(s.added).toEqual(none);
    expect(planMarkdown(p)).toContain('| tcp 80,443 → 80,443,8080; udp 3478 → \\- |');
    const q = planOf([A[0], { ...A[1], udpPorts: '' }], [A[0], { ...A[1] }]);
    expect(planMarkdown(q)).toContain('| udp \\- → 3478 |');
  });

  it('a flag changed alone (category, required, express route): a modified set with only flags', () => {
    const p = planOf(A, [
      { ...A[0], category: 'Optimize', required: false, expressRoute: true },
      A[1],
    ]);
    expect(p.sets).toEqual([
      {
        id: '1',
        change: 'modified',
        serviceArea: 'Exchange',
        category: 'Optimize',
        added: none,
        removed: none,
        flags: [
          'category: Allow → Optimize',
          'required: true → false',
          'expressRoute: false → true',
        ],
      },
    ]);
    expect(p.rules).toEqual([]);
    expect(planMarkdown(p)).toContain(
      '| 1 (Exchange, Optimize) | ~ |  |  | category\\: Allow → Optimize; required\\: true → false; expressRoute\\: false → true |',
    );
  });

  it('a URL moved between sets: "moved", with the sets before', () => {
    const p = planOf(A, [
      { ...A[0], urls: [] },
      { ...A[1], urls: ['*.b.example.com'], tcpPorts: '443', udpPorts: '' },
      set(3, { urls: ['a.example.com'] }),
    ]);
    const moved = p.urls.find((u) => u.host === 'a.example.com')!;
    expect(moved).toEqual({
      rule: 'url_tcp_443',
      host: 'a.example.com',
      change: 'moved',
      setIds: ['3'],
      previousSetIds: ['1'],
    });
    // a move is provenance: folded into one line of its own section, not a URL change
    const md = planMarkdown(p);
    expect(md).toContain(
      '### Moved between sets\n\nSet ids are provenance: what a move changes in the rules, if anything, is in the sections above.\n\n- sets 1 → 3: `a.example.com`\n',
    );
    expect(md).not.toContain('| `a.example.com` |');
    expect(p.moves.entries).toEqual([{ entry: 'a.example.com', from: ['1'], to: ['3'] }]);
    // *.b.example.com changed bucket (udp 3478 → tcp 443): a host allowed before and after
    expect(p.urls.filter((u) => u.change === 'added').map((u) => u.host)).toEqual([
      '*.b.example.com',
    ]);
    expect(p.counts).toMatchObject({ urlsAdded: 0, urlsRemoved: 0 });
  });

  it('a filter option (--no-ipv6): the set and its rule lose the prefix; a target added or dropped', () => {
    const prev = run(A).report;
    const next = render(
      compile(readFeed(A, { name: 'feed.json' }), {
        allowImplausible: ['documentation'],
        noIpv6: true,
      }),
      { targets: ['nftables', 'pac'], options: PAC },
    );
    const p = plan(prev, next);
    expect(p.sets.map((x) => [x.id, x.change, x.removed.ips])).toEqual([
      ['1', 'modified', ['2001:db8::/48']],
    ]);
    expect(p.rules).toEqual([
      {
        key: 'v6_tcp_443',
        change: 'removed',
        protocol: 'tcp',
        ports: '443',
        addedPrefixes: [],
        removedPrefixes: ['2001:db8::/48'],
      },
    ]);
    expect(p.targets.pac).toMatchObject({ added: true, removed: false, contentChanged: false });
    expect(planMarkdown(p)).toContain('| pac | new target |');
    const back = plan(next.report, run(A));
    expect(back.targets.pac).toMatchObject({ added: false, removed: true });
    expect(planMarkdown(back)).toContain('| pac | no longer generated |');
    expect(back.changed).toBe(true);
    // a target dropped alone is a change
    expect(planOf(A, A, ['nftables', 'pac'], ['nftables']).changed).toBe(true);
    expect(planOf(A, A, ['nftables'], ['nftables', 'pac']).changed).toBe(true);
  });

  it('a refusal is carried and shown first', () => {
    const p = plan(run(A).report, {
      ...run(A),
      refusal: Object.assign(new Error('too much | gone')),
    });
    expect(p.refused).toBe('too much | gone');
    const md = planMarkdown(p);
    // the verdict as written, in a fence: nothing escaped, nothing cut
    expect(md).toMatch(
      /^## m365fw plan: refused\n\n\*\*Refused: nothing was written\.\*\* The verdict:\n\n```text\ntoo much \| gone\n```\n/,
    );
    const long = `refusing to write: ${'every word of a long verdict '.repeat(40)}ends here`;
    const evil = 'x\n```\n# heading <b>`y`</b>';
    const q = planMarkdown(plan(run(A).report, { ...run(A), refusal: new Error(long) }));
    expect(q).toContain(`\`\`\`text\n${long}\n\`\`\`\n`);
    const r = planMarkdown(plan(run(A).report, { ...run(A), refusal: new Error(evil) }));
    expect(r).toContain("```text\nx\\u000a'''\\u000a# heading <b>'y'</b>\n```\n");
  });

  it("hostile strings from Microsoft's change records do not break the Markdown", () => {
    const evil = 'x|y <img src=x> `c` [l](http://x)\nnext';
    const p = planOf(A, [{ ...A[0], ips: ['192.0.2.0/24', '2001:db8::/48'] }, A[1]]);
    const recs = [
      {
        id: evil,
        endpointSetId: '1',
        disposition: evil,
        impact: evil,
        version: '2026020100',
        add: { effectiveDate: evil, ips: ['192.0.2.0/24'], urls: [] },
      },
    ];
    p.microsoftChanges = crossCheck(p, '2026010100', '2026020100', recs);
    const md = planMarkdown(p);
    const rows = md.split('\n').filter((l) => l.startsWith('| 1 | '));
    expect(rows).toHaveLength(1);
    // set, record, disposition, impact, version, effective, +, −: eight cells
    expect(rows[0].split(/(?<!\\)\|/).length).toBe(10);
    // every Markdown character escaped: no live tag, link or code span
    expect(rows[0]).not.toMatch(/(?<!\\)[<`[]/);
    expect(md).toContain('x\\|y \\<img src\\=x\\> \\`c\\` \\[l\\]\\(http\\://x\\)\\\\u000anext');
    p.microsoftChanges = crossCheck(p, '2026010100', '2026020100', undefined, evil);
    const un = planMarkdown(p)
      .split('\n')
      .filter((l) => l.startsWith('Not available: '));
    expect(un).toHaveLength(1);
    expect(un[0]).not.toMatch(/(?<!\\)[<`[]/);
  });

  it('more than 20 entries in a cell are cut with a count; a long unexplained list too', () => {
    const ips = Array.from({ length: 25 }, (_, i) => `203.0.113.${i * 4}/30`);
    const p = planOf(A, [A[0], { ...A[1], ips: ['198.51.100.0/24', ...ips] }]);
    expect(planMarkdown(p)).toContain(' … (+5) |');
    const c = crossCheck(p, '2026010100', '2026020100', []);
    expect(c.unexplained).toHaveLength(25);
    const many = Array.from({ length: 210 }, (_, i) => `2001:db8:${(i + 1).toString(16)}::/48`);
    const q = planOf(A, [{ ...A[0], ips: ['192.0.2.0/25', '2001:db8::/48', ...many] }, A[1]]);
    q.microsoftChanges = crossCheck(q, '2026010100', '2026020100', []);
    const md = planMarkdown(q);
    expect(md).toContain(
      '**210 changes no record explains** (a truncated or tampered feed shows this way):',
    );
    expect(md).toContain('- … and 10 more (plan.json has them all)');
    expect(md.split('\n').filter((l) => l.startsWith('- set 1 added'))).toHaveLength(200);
  });

  it("Microsoft's change records: shown per set, not yet in effect marked, unavailable said", () => {
    const p = planOf(A, [{ ...A[0], ips: ['192.0.2.0/24', '2001:db8::/48'] }, A[1]]);
    const recs = [
      {
        id: 'r2',
        endpointSetId: '1',
        disposition: 'Change',
        impact: 'AddedIp',
        version: '2026020100',
        add: { effectiveDate: '20260301', ips: ['192.0.2.0/24'], urls: [] },
      },
      {
        id: 'r1',
        endpointSetId: '1',
        disposition: 'Change',
        impact: 'RemovedIp',
        version: '2026013000',
        remove: { ips: ['192.0.2.0/25'], urls: [] },
      },
      {
        id: 'r0',
        endpointSetId: '9',
        disposition: 'Add',
        version: '2026010100',
        add: { ips: ['203.0.113.0/24'], urls: [] },
      },
    ];
    p.microsoftChanges = crossCheck(p, '2026010100', '2026020100', recs);
    expect(p.microsoftChanges.sets).toEqual([
      {
        id: '1',
        records: [
          {
            id: 'r1',
            disposition: 'Change',
            impact: 'RemovedIp',
            version: '2026013000',
            added: 0,
            removed: 1,
          },
          {
            id: 'r2',
            disposition: 'Change',
            impact: 'AddedIp',
            version: '2026020100',
            effectiveDate: '20260301',
            future: true,
            added: 1,
            removed: 0,
          },
        ],
      },
    ]);
    expect(p.microsoftChanges.unexplained).toEqual([]);
    const md = planMarkdown(p);
    expect(md).toContain("### Microsoft's change records (2026010100 → 2026020100)");
    expect(md).toContain(
      '| 1 | r2 | Change | AddedIp | 2026020100 | 20260301 **(not yet in effect)** | 1 | 0 |',
    );
    expect(md).toContain('| 1 | r1 | Change | RemovedIp | 2026013000 |  | 0 | 1 |');
    expect(md).toContain(
      'Every added and removed address and URL, and every port and flag change, is explained by a record.',
    );
    p.microsoftChanges = crossCheck(p, '2026010100', '2026020100', undefined, 'HTTP 503');
    expect(p.microsoftChanges.unexplained).toEqual([]);
    expect(planMarkdown(p)).toContain('Not available: HTTP 503; the diff was not cross-checked.');
    p.microsoftChanges = crossCheck(p, '2026010100', '2026020100', []);
    expect(planMarkdown(p)).toContain('No change records for this range.');
  });
});

describe('planMarkdown, whole', () => {
  it('every section of a plan with every kind of change (and a guard`s refusal), word for word', () => {
    const a = [
      ...A,
      set(3, { ips: ['203.0.113.0/24'], urls: ['moved.example.com'], udpPorts: '3478' }),
    ];
    const b = [
      set(1, {
        ips: ['192.0.2.0/25', '192.0.2.128/26', '2001:db8::/48'],
        urls: ['a.example.com', 'moved.example.com'],
      }),
      set(2, {
        ips: ['198.51.100.0/24'],
        urls: ['*.b.example.com'],
        tcpPorts: '80,443',
        udpPorts: '3479',
      }),
      set(4, { ips: ['203.0.113.0/25'], category: 'Optimize' }),
    ];
    const p = planOf(a, b, ['nftables', 'iptables'], ['nftables', 'pac']);
    p.microsoftChanges = crossCheck(p, '2026010100', '2026020100', [
      {
        id: '77',
        endpointSetId: '1',
        disposition: 'add',
        impact: 'AddedIp',
        version: '2026010200',
        add: { effectiveDate: '20260301', ips: ['192.0.2.128/26'], urls: [] },
      },
    ]);
    expect(planMarkdown(p).split('\n')).toEqual([
      '## m365fw plan: refused',
      '',
      '**Refused: nothing was written.** The verdict:',
      '',
      '```text',
      'refusing to write: target pac would enforce nothing (of 4 IP rules and 4 URL entries, it enforces none); pass --allow-empty if this is deliberate',
      '```',
      '',
      'Input `feed.json` (sha256 `265ff15dfea7`, instance unknown, version unknown) against `feed.json` (sha256 `b5a9347404b5`, version unknown).',
      '',
      'Legend: `+` added, `−` removed, `~` changed in place (same set id or rule; for findings, as many in as out, over other entries), `a → b` before and after. Prefixes count the address blocks allowed before or after and not both, over all rules (a prefix the merge split or joined, or one that only changed rule, is neither added nor removed); URL entries count hosts the same way. Set ids are provenance: a set that only changed id, or an entry that only moved between sets, is listed under Moved, not as an addition and a removal.',
      '',
      '| endpoint sets | rules | prefixes | URL entries | moved between sets |',
      '| --- | --- | --- | --- | --- |',
      '| +1 −1 ~2 | +1 −1 ~1 | +1 −1 | +0 −0 | 1 entry moved |',
      '',
      '### Endpoint sets',
      '',
      '| set | change | added | removed | ports / flags |',
      '| --- | --- | --- | --- | --- |',
      '| 1 (Exchange, Allow) | ~ | `192.0.2.128/26` |  |  |',
      '| 2 (Exchange, Allow) | ~ |  |  | udp 3478 → 3479 |',
      '| 3 (Exchange, Allow) | − |  | `203.0.113.0/24` |  |',
      '| 4 (Exchange, Optimize) | + | `203.0.113.0/25` |  |  |',
      '',
      '### Rules',
      '',
      '| rule | change | added prefixes | removed prefixes |',
      '| --- | --- | --- | --- |',
      '| `v4_tcp_443` (tcp 443) | ~ | `192.0.2.128/26` | `203.0.113.128/25` |',
      '| `v4_udp_3478` (udp 3478) | − |  | `198.51.100.0/24`, `203.0.113.0/24` |',
      '| `v4_udp_3479` (udp 3479) | + | `198.51.100.0/24` |  |',
      '',
      '### URL entries',
      '',
      '| entry | ports bucket | change | sets |',
      '| --- | --- | --- | --- |',
      '| `*.b.example.com` | `url_udp_3478` | − | 2 |',
      '| `moved.example.com` | `url_udp_3478` | − | 3 |',
      '| `*.b.example.com` | `url_udp_3479` | + | 2 |',
      '',
      '### Moved between sets',
      '',
      'Set ids are provenance: what a move changes in the rules, if anything, is in the sections above.',
      '',
      '- sets 3 → 1: `moved.example.com`',
      '',
      '### Targets',
      '',
      '| target | output | findings |',
      '| --- | --- | --- |',
      '| iptables | no longer generated | −1 inert, −5 unenforced |',
      '| nftables | changed | +1 −2 unenforced |',
      '| pac | new target | +4 unenforced |',
      '',
      "### Microsoft's change records (2026010100 → 2026020100)",
      '',
      '| set | record | disposition | impact | version | effective | + | − |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
      '| 1 | 77 | add | AddedIp | 2026010200 | 20260301 **(not yet in effect)** | 1 | 0 |',
      '',
      '**5 changes no record explains** (a truncated or tampered feed shows this way):',
      '',
      '- set 1 added `moved.example.com`',
      '- set 2 changed `udpPorts: 3478 → 3479`',
      '- set 3 removed `203.0.113.0/24`',
      '- set 3 removed `moved.example.com`',
      '- set 4 added `203.0.113.0/25`',
      '',
    ]);
  });
});
