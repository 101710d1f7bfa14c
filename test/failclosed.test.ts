/**
 * Fail closed: each case here exited 0 (or followed the attacker) before; each is now a one-line
 * error with exit 1 and nothing written, unless the user allows that class.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, have, isRoot, runCli, skipNote } from './helpers/env.js';
import { compileHere } from './helpers/here.js';
import { tmpDir } from './helpers/tmp.js';
import { implausibleClasses, IMPLAUSIBLE_CLASSES } from '../src/compile/guards.js';
import { RESERVED_CHAINS } from '../targets/iptables/index.js';
import { RESERVED_TABLES } from '../targets/nftables/index.js';

const SAMPLE = join(FIXTURES, 'sample-feed.json');
type Rec = {
  id: number | string;
  serviceArea: string;
  category: string;
  required?: boolean;
  tcpPorts?: string;
  udpPorts?: string;
  ips?: string[];
  urls?: string[];
};
const SETS = JSON.parse(readFileSync(SAMPLE, 'utf8')) as Rec[];

function feedFile(sets: Rec[] | string, name = 'feed.json'): string {
  const p = join(tmpDir('fc'), name);
  writeFileSync(p, typeof sets === 'string' ? sets : JSON.stringify(sets));
  return p;
}
/** compile in-process (mutants are seen there); any other command through the CLI */
const cli = (args: string[]) => (args[0] === 'compile' ? compileHere(args.slice(1)) : runCli(args));
function refused(args: string[], msg: RegExp) {
  const out = join(tmpDir('fc-out'), 'out');
  const r = cli([...args, '--out', out]);
  expect(r.code, r.stdout + r.stderr).toBe(1);
  expect(r.stderr).toMatch(msg);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(existsSync(out)).toBe(false);
  return r;
}
const ok = (args: string[]) => {
  const r = cli([...args, '--out', join(tmpDir('fc-out'), 'out')]);
  expect(r.code, r.stderr).toBe(0);
  return r;
};

describe('empty targets: judged per target, after filters and merging', () => {
  const noIps = feedFile(SETS.map((s) => ({ ...s, ips: [] })));
  it.each(['nftables', 'iptables', 'azure-nsg'])(
    '%s with a feed whose sets lost their ips',
    (t) => {
      refused(
        ['compile', '--input', noIps, '--target', t],
        new RegExp(
          `target ${t} would enforce nothing \\(of 0 IP rules and [0-9]+ URL entries, it enforces none\\)`,
        ),
      );
      ok(['compile', '--input', noIps, '--target', t, '--allow-empty']);
    },
  );
  it('an IP-only feed compiled to PAC sends nothing DIRECT: refused', () => {
    const ipOnly = feedFile(SETS.map((s) => ({ ...s, urls: [] })));
    refused(
      ['compile', '--input', ipOnly, '--target', 'pac', '--pac-proxy', 'PROXY p.example:8080'],
      /target pac would enforce nothing/,
    );
  });
  it('--categories Default to IP targets: the Default sets carry no IPs', () => {
    expect(SETS.filter((s) => s.category === 'Default').every((s) => !s.ips?.length)).toBe(true);
    refused(
      [
        'compile',
        '--input',
        SAMPLE,
        '--categories',
        'Default',
        '--target',
        'nftables,iptables,azure-nsg',
      ],
      /target nftables would enforce nothing/,
    );
    ok(['compile', '--input', SAMPLE, '--categories', 'Default', '--target', 'paloalto']);
  });
});

describe('--max-removal: per target, addresses and names, at and one past the threshold', () => {
  const prevDir = (targets = 'nftables,paloalto') => {
    const out = tmpDir('mr');
    expect(compileHere(['--input', SAMPLE, '--target', targets, '--out', out]).code).toBe(0);
    return out;
  };
  const report = (out: string) => JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));

  it('every URL entry gone counts (it passed --max-removal 0 before)', () => {
    const out = prevDir();
    const noUrls = feedFile(SETS.map((s) => ({ ...s, urls: [] })));
    const r = compileHere([
      '--input',
      noUrls,
      '--target',
      'nftables,paloalto',
      '--out',
      out,
      '--max-removal',
      '0',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /refusing to write: paloalto: [0-9]+ of [0-9]+ previous prefixes and URL entries/,
    );
    expect(r.stderr).not.toMatch(/nftables:/); // nftables never enforced the URLs
  });

  it('a count: k removals pass --max-removal k and fail k-1; a percentage likewise', () => {
    const out = prevDir('nftables');
    const total = report(out).targets.nftables.enforces.rules.reduce(
      (n: number, k: string) =>
        n + report(out).rules.find((r: { key: string }) => r.key === k).prefixes.length,
      0,
    );
    // drop set 31's three prefixes (none of them merged with another set's)
    const s31 = SETS.find((s) => s.id === 31)!;
    const k = s31.ips!.length;
    const next = feedFile(SETS.map((s) => (s.id === 31 ? { ...s, ips: [] } : s)));
    const run = (limit: string) =>
      compileHere(['--input', next, '--target', 'nftables', '--out', out, '--max-removal', limit]);
    // the URL names make paloalto's total larger; nftables alone here
    expect(run(String(k - 1)).code).toBe(1);
    const pct = (100 * k) / total;
    expect(run(`${(Math.floor(pct * 100) / 100 - 0.01).toFixed(2)}%`).code).toBe(1);
    expect(run(`${(Math.ceil(pct * 100) / 100).toFixed(2)}%`).code).toBe(0);
    const out2 = prevDir('nftables');
    expect(
      compileHere([
        '--input',
        next,
        '--target',
        'nftables',
        '--out',
        out2,
        '--max-removal',
        String(k),
      ]).code,
    ).toBe(0);
  });

  it('a previous prefix only partly covered by the new rule counts as removed', () => {
    const out = tmpDir('mr');
    const one = (ips: string[]) =>
      feedFile([
        { id: 1, serviceArea: 'Common', category: 'Allow', required: true, tcpPorts: '443', ips },
      ]);
    expect(compileHere(['--input', one(['20.190.128.0/18']), '--out', out]).code).toBe(0);
    const r = compileHere([
      '--input',
      one(['20.190.128.0/19']),
      '--out',
      out,
      '--max-removal',
      '0',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nftables: 1 of 1 previous prefixes/);
  });

  it('a target no longer generated has removed everything it enforced', () => {
    const out = prevDir();
    const r = compileHere([
      '--input',
      SAMPLE,
      '--target',
      'nftables',
      '--out',
      out,
      '--max-removal',
      '10%',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /paloalto: [0-9]+ of [0-9]+ previous prefixes and URL entries \(100\.0%\) \(no longer generated\)/,
    );
  });

  it.each(['150%', '1e3', '-1', '0x10', '10 %', ''])(
    '--max-removal %j is refused up front',
    (v) => {
      refused(
        ['compile', '--input', SAMPLE, '--max-removal', v],
        /--max-removal .*give a percentage from 0% to 100%|a percentage is at most 100%/,
      );
    },
  );
});

describe('implausible entries: one feed per class and family, each alone', () => {
  // each prefix overlaps exactly its one class, so no class hides another
  const cases: [string, 4 | 6, string][] = [
    ['private', 4, '10.1.0.0/16'],
    ['private', 6, 'fd00:1::/32'],
    ['loopback', 4, '127.0.1.0/24'],
    ['loopback', 6, '::1/128'],
    ['link-local', 4, '169.254.1.0/24'],
    ['link-local', 6, 'fe80::/64'],
    ['multicast', 4, '224.1.0.0/16'],
    ['multicast', 6, 'ff05::/64'],
    ['documentation', 4, '192.0.2.0/24'],
    ['documentation', 6, '2001:db8::/48'],
    ['reserved', 4, '198.18.0.0/15'],
    ['reserved', 6, '2002:1::/32'],
    ['reserved', 4, '192.0.0.0/24'],
    ['reserved', 4, '192.88.99.0/24'],
    ['reserved', 6, '64:ff9b::/96'],
    ['reserved', 6, '64:ff9b:1::/48'],
    ['reserved', 6, 'fec0::/32'],
    ['reserved', 6, '100::/64'],
    ['reserved', 6, '2001::/32'],
    ['short', 4, '20.0.0.0/9'],
    ['short', 6, '2a00::/27'],
  ];
  it.each(cases)(
    '%s (IPv%s %s): refused, and let through by exactly that class',
    (cls, fam, prefix) => {
      expect(implausibleClasses(fam, prefix)).toEqual([cls]);
      const feed = feedFile([
        ...SETS,
        {
          id: 500,
          serviceArea: 'Common',
          category: 'Allow',
          required: true,
          tcpPorts: '443',
          ips: [prefix],
        },
      ]);
      refused(
        ['compile', '--input', feed],
        new RegExp(
          `set 500 ${prefix.replace(/[./]/g, '\\$&')} \\(${cls}\\).*--allow-implausible ${cls}$`,
          'm',
        ),
      );
      for (const other of IMPLAUSIBLE_CLASSES.filter((c) => c !== cls))
        expect(
          compileHere(['--input', feed, '--out', tmpDir('fc-out'), '--allow-implausible', other])
            .code,
          other,
        ).toBe(1);
      ok(['compile', '--input', feed, '--allow-implausible', cls]);
    },
  );

  it('a range carries every class it overlaps: 0.0.0.0/0 needs them all', () => {
    const feed = feedFile([
      ...SETS,
      {
        id: 500,
        serviceArea: 'Common',
        category: 'Allow',
        required: true,
        tcpPorts: '443',
        ips: ['0.0.0.0/0'],
      },
    ]);
    refused(
      ['compile', '--input', feed, '--allow-implausible', 'short'],
      /0\.0\.0\.0\/0 \(documentation, link-local, loopback, multicast, private, reserved\)/,
    );
    ok([
      'compile',
      '--input',
      feed,
      '--allow-implausible',
      'documentation,link-local,loopback,multicast,private,reserved,short',
    ]);
  });

  it('every public /10 in one set merges into short prefixes: refused on the merged rule (compile)', () => {
    const ips: string[] = [];
    for (let a = 1; a < 224; a++)
      for (let b = 0; b < 256; b += 64) {
        const p = `${a}.${b}.0.0/10`;
        if (implausibleClasses(4, p).length === 0) ips.push(p);
      }
    const feed = feedFile([
      { id: 1, serviceArea: 'Common', category: 'Allow', required: true, tcpPorts: '443', ips },
    ]);
    refused(
      ['compile', '--input', feed],
      /the rule for IPv4 tcp 443 \(sets 1\) merges to [0-9.]+\/[0-9] \(short\)/,
    );
  });
});

describe('wildcards over a public suffix', () => {
  it.each(['*.com', '*.co.uk', '*.*.com', 'x*.com', '*.cn'])(
    '%s is refused; --allow-implausible public-suffix lets it through',
    (url) => {
      const feed = feedFile([
        ...SETS,
        {
          id: 500,
          serviceArea: 'Common',
          category: 'Default',
          required: false,
          tcpPorts: '443',
          urls: [url],
        },
      ]);
      refused(
        ['compile', '--input', feed, '--target', 'pac', '--pac-proxy', 'PROXY p.example:8080'],
        /refusing wildcard URL entries over a public suffix: set 500/,
      );
      ok([
        'compile',
        '--input',
        feed,
        '--target',
        'paloalto',
        '--allow-implausible',
        'public-suffix',
      ]);
    },
  );
  it('*.office.com, *.static.microsoft and the tenant placeholder pass', () => {
    const feed = feedFile([
      ...SETS,
      {
        id: 500,
        serviceArea: 'Common',
        category: 'Default',
        required: false,
        tcpPorts: '443',
        urls: ['*.office.com', '*.static.microsoft', 'autodiscover.*.onmicrosoft.com'],
      },
    ]);
    ok(['compile', '--input', feed, '--target', 'paloalto']);
  });
});

describe('findings are true', () => {
  const withUrls = (urls: string[], tcpPorts: string) =>
    feedFile([
      ...SETS,
      { id: 500, serviceArea: 'Common', category: 'Optimize', required: true, tcpPorts, urls },
    ]);
  it('a URL category on TCP 25 is unenforced, and no category is made for it', () => {
    const out = tmpDir('fc-pa');
    expect(
      compileHere([
        '--input',
        withUrls(['*.mail.example.net'], '25'),
        '--target',
        'paloalto',
        '--out',
        out,
      ]).code,
    ).toBe(0);
    const rep = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(rep.findings).toContainEqual(
      expect.objectContaining({
        kind: 'unenforced',
        target: 'paloalto',
        entry: '*.mail.example.net tcp/25',
      }),
    );
    expect(readFileSync(join(out, 'panos-set.txt'), 'utf8')).not.toContain('m365-url-tcp_25');
    expect(rep.targets.paloalto.enforces.names).not.toContain('*.mail.example.net tcp/25');
  });
  it('a URL category on 443,25: enforced on 443, unenforced on 25', () => {
    const out = tmpDir('fc-pa');
    expect(
      compileHere([
        '--input',
        withUrls(['*.mail.example.net'], '25,443'),
        '--target',
        'paloalto',
        '--out',
        out,
      ]).code,
    ).toBe(0);
    const rep = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(rep.findings).toContainEqual(
      expect.objectContaining({ kind: 'unenforced', entry: '*.mail.example.net tcp/25' }),
    );
    expect(readFileSync(join(out, 'panos-set.txt'), 'utf8')).toContain('*.mail.example.net/');
  });
  it('*cdn.*.onmicrosoft.com follows PAN-OS token rules: *.*.onmicrosoft.com/, reported widened', () => {
    const out = tmpDir('fc-pa');
    expect(
      compileHere([
        '--input',
        withUrls(['*cdn.*.onmicrosoft.com'], '443'),
        '--target',
        'paloalto',
        '--out',
        out,
      ]).code,
    ).toBe(0);
    const set = readFileSync(join(out, 'panos-set.txt'), 'utf8');
    expect(set).toContain('*.*.onmicrosoft.com/');
    expect(set).not.toMatch(/\*cdn/);
    const rep = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(rep.findings).toContainEqual(
      expect.objectContaining({
        kind: 'widened',
        target: 'paloalto',
        entry: '*cdn.*.onmicrosoft.com → *.*.onmicrosoft.com/',
      }),
    );
  });
  it('a type-1 PAC reports no widened entry that is not in the file', () => {
    const out = tmpDir('fc-pac');
    const feed = feedFile([
      ...SETS,
      {
        id: 500,
        serviceArea: 'Common',
        category: 'Default',
        required: false,
        tcpPorts: '443',
        urls: ['autodiscover.*.onmicrosoft.com'],
      },
    ]);
    expect(
      compileHere([
        '--input',
        feed,
        '--target',
        'pac',
        '--pac-type',
        '1',
        '--pac-proxy',
        'PROXY p.example:8080',
        '--out',
        out,
      ]).code,
    ).toBe(0);
    const pac = readFileSync(join(out, 'm365fw.pac'), 'utf8');
    expect(pac).not.toContain('autodiscover');
    const rep = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(
      rep.findings.filter(
        (f: { kind: string; entry?: string }) =>
          f.kind === 'widened' && f.entry?.includes('autodiscover'),
      ),
    ).toEqual([]);
  });
});

describe('names users pass can never be a built-in chain or a keyword', () => {
  it.each([...RESERVED_CHAINS.slice(0, 8), 'output', 'Input'])('--ipt-chain %s is refused', (c) => {
    refused(
      ['compile', '--input', SAMPLE, '--target', 'iptables', '--ipt-chain', c],
      /: a built-in chain or target name/,
    );
  });
  it.each([...RESERVED_TABLES.filter((_, i) => i % 7 === 0), 'filter', 'FILTER', 'nat'])(
    '--nft-table %s is refused',
    (t) => {
      refused(
        ['compile', '--input', SAMPLE, '--nft-table', t],
        /: an nft keyword or a table other software owns/,
      );
    },
  );
  it("every refused table name is one nft rejects or another manager uses, and m365fw's default loads", (ctx) => {
    if (!have('nft') || !isRoot) {
      skipNote('reserved nft table names against nft', 'needs root and nft');
      ctx.skip();
      return;
    }
    const rejected = RESERVED_TABLES.filter(
      (t) => spawnSync('nft', ['-c', '-f', '-'], { input: `table inet ${t} {\n}\n` }).status !== 0,
    );
    expect(rejected.length).toBeGreaterThan(20); // keywords the parser refuses outright
    const out = tmpDir('fc-nft');
    ok(['compile', '--input', SAMPLE, '--nft-table', 'm365fw_egress']);
    expect(
      compileHere(['--input', SAMPLE, '--nft-table', 'm365fw_egress', '--out', out]).code,
    ).toBe(0);
    execFileSync('unshare', ['-n', 'nft', '-f', join(out, 'm365fw.nft')]);
  });
});

describe('options are read strictly', () => {
  it.each([
    [
      ['--target', 'paloalto', '--panos-source', '999.1.1.1/77'],
      /--panos-source "999\.1\.1\.1\/77": not a strict four-part decimal IPv4 address/,
    ],
    [
      ['--target', 'paloalto', '--panos-edl-max-entries', '1e3'],
      /--panos-edl-max-entries "1e3": a whole number/,
    ],
    [['--target', 'pac', '--pac-proxy', 'PROXY p.example:0'], /port 0 is not 1-65535/],
    [['--target', 'pac', '--pac-proxy', 'PROXY p.example:99999'], /port 99999 is not 1-65535/],
    [['--instance', 'Mars'], /--instance "Mars": one of Worldwide, China, USGovDoD, USGovGCCHigh/],
    [
      ['--service-areas', 'Exchange,Sharepiont'],
      /--service-areas "Sharepiont" matches no endpoint set; the service areas in the input: Common, Exchange, MEM, SharePoint, Skype/,
    ],
    [['--categories', 'Optimize', '--input-format', 'o365'], /^$/],
  ])('%j', (args, msg) => {
    if (msg.source === '^$') {
      ok(['compile', '--input', SAMPLE, ...args]);
      return;
    }
    refused(['compile', '--input', SAMPLE, ...args], msg);
  });
  it('fetch --allow-implausible checks its class names', () => {
    const r = runCli([
      'fetch',
      '--instance',
      'Worldwide',
      '--state',
      tmpDir('fc-st'),
      '--base-url',
      'http://127.0.0.1:1',
      '--allow-implausible',
      'privat',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--allow-implausible: unknown class "privat"/);
  });
});

describe('inputs are bounded and read exactly', () => {
  it('a FIFO as --input is refused at once, not waited on', (ctx) => {
    if (spawnSync('mkfifo', ['--help']).status !== 0) {
      skipNote('FIFO input', 'needs mkfifo');
      ctx.skip();
      return;
    }
    const fifo = join(tmpDir('fc-fifo'), 'feed.json');
    execFileSync('mkfifo', [fifo]);
    refused(['compile', '--input', fifo], /feed\.json: not a regular file \(a FIFO\)/);
  });
  it('/dev/zero as a prefix list is refused', () => {
    refused(
      ['compile', '--input', '/dev/zero', '--input-format', 'prefixes'],
      /zero: not a regular file \(a device\)/,
    );
  });
  it('- reads the feed from standard input, under the same limits', () => {
    const out = join(tmpDir('fc-stdin'), 'out');
    const r = spawnSync(
      process.execPath,
      [join(process.cwd(), 'dist/src/cli/bin.js'), 'compile', '--input', '-', '--out', out],
      { input: readFileSync(SAMPLE), encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).input.file).toBe('stdin');
  });
  it('a feed over the size limit, or with too many sets, or nested too deep, is a clear error', () => {
    const big = feedFile(' '.repeat(64 << 20) + '[]');
    refused(['compile', '--input', big], /input larger than 67108864 bytes/);
    const many = feedFile(
      Array.from({ length: 10_001 }, (_, i) => ({
        id: i,
        serviceArea: 'Common',
        category: 'Allow',
      })),
    );
    refused(
      ['compile', '--input', many],
      /10001 endpoint sets, more than the 10000 a feed may hold/,
    );
    const deep = feedFile('['.repeat(100_000) + ']'.repeat(100_000));
    refused(['compile', '--input', deep], /JSON nested deeper than 32 levels/);
  });
  it('duplicate keys are an error, not "the last one wins"', () => {
    const text = JSON.stringify(SETS.slice(0, 2)).replace(
      '"category":"Optimize"',
      '"category":"Optimize","category":"Default"',
    );
    refused(['compile', '--input', feedFile(text)], /duplicate key "category" in \[0\]/);
  });
  it.each([
    ['NBSP', '\u00a0'],
    ['BOM', '\ufeff'],
    ['LF', '\n'],
    ['space', ' '],
  ])('a prefix with a %s around it is refused, not trimmed', (_n, ch) => {
    const feed = feedFile(
      SETS.map((s) => (s.id === 1 ? { ...s, ips: [`${ch}13.107.6.152/31`] } : s)),
    );
    refused(
      ['compile', '--input', feed],
      /endpoint set 1: field ips: not a strict four-part decimal IPv4 address/,
    );
  });
});

describe('untrusted text never reaches the terminal raw', () => {
  it('controls, bidi and separators in an error line are escaped and the line is capped', () => {
    const feed = feedFile(
      SETS.map((s) =>
        s.id === 1 ? { ...s, tcpPorts: `80,\u001b[2J\u202e\u2028\u0000${'9'.repeat(300_000)}` } : s,
      ),
    );
    const r = refused(['compile', '--input', feed], /endpoint set 1: field tcpPorts/);
    // eslint-disable-next-line no-control-regex -- no raw control character may reach the terminal
    expect(r.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u202e\u2028]/);
    expect(r.stderr.length).toBeLessThan(1100);
  });
  it('a file name with a newline and "flush ruleset" gives no live statement in the nft file', (ctx) => {
    const dir = tmpDir('fc-name');
    mkdirSync(dir, { recursive: true });
    const feed = join(dir, 'x\nflush ruleset\n.json');
    writeFileSync(feed, JSON.stringify(SETS));
    const out = tmpDir('fc-name-out');
    expect(compileHere(['--input', feed, '--out', out]).code).toBe(0);
    const nft = readFileSync(join(out, 'm365fw.nft'), 'utf8');
    expect(
      nft
        .split('\n')
        .filter((l) => /flush ruleset/.test(l))
        .every((l) => l.startsWith('#')),
    ).toBe(true);
    expect(readdirSync(out).sort()).toEqual(['m365fw.nft', 'report.json']);
    if (have('nft') && isRoot)
      execFileSync('unshare', [
        '-n',
        'sh',
        '-c',
        `nft add table inet keep && nft -f "${join(out, 'm365fw.nft')}" && nft list table inet keep`,
      ]);
    else {
      skipNote('include mode beside a table of ours', 'needs root and nft');
      ctx.skip();
    }
  });
});

describe("a hostile input and policy file name reaches every target's header, and each real consumer reads it as inert", () => {
  it('compile --target all: nft -c, iptables-restore --test, ipset, sh -n, an XML parser, ES3 and JSON all accept it, and it is never live', async (ctx) => {
    const { XMLValidator } = await import('fast-xml-parser');
    const { parse: parseJs } = await import('acorn');
    const dir = tmpDir('fc-hostile');
    // a file name cannot hold "/", so no "*/"; every other comment closer and line break is here
    const name = 'x\nflush ruleset\n-- * --> "\';$(reboot)\u2028`id`.json';
    const feed = join(dir, name);
    writeFileSync(feed, JSON.stringify(SETS));
    const policy = join(dir, 'p\n-->\n*\ndelete table inet m365fw\n.yaml');
    writeFileSync(
      policy,
      'exclude:\n  - prefix: 13.107.6.152/31\n    reason: "x -- */ --> <!-- ; $(reboot)"\n',
    );
    const out = tmpDir('fc-hostile-out');
    const r = compileHere([
      '--input',
      feed,
      '--policy',
      policy,
      '--target',
      'all',
      '--pac-proxy',
      'PROXY p.example:8080',
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const read = (f: string) => readFileSync(join(out, f), 'utf8');
    // the names reach the headers, sanitised: no newline, no comment closer
    for (const f of [
      'm365fw.nft',
      'm365fw.v4',
      'm365fw.ipset',
      'm365fw-iptables-apply.sh',
      'panos-set.txt',
      'm365fw.pac',
    ]) {
      const header = read(f)
        .split('\n')
        .filter((l) => /input: x_flush ruleset_/.test(l));
      expect(header.length, f).toBe(1);
      expect(header[0]).toMatch(/^(#|\/\/) /);
    }
    expect(read('panos-config.xml')).toContain(
      '<!-- input: x_flush ruleset___ * __ "\';$(reboot)_`id`.json sha256:',
    );
    expect(XMLValidator.validate(read('panos-config.xml'))).toBe(true);
    parseJs(read('m365fw.pac'), { ecmaVersion: 3 });
    for (const l of JSON.parse(read('azure-nsg.json')).metadata.provenance as string[])
      expect(l).not.toMatch(/[\n\u2028]|-->|\*\//);
    expect(
      read('panos-set.txt')
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
        .every((l) => /^(set|delete|move) /.test(l)),
    ).toBe(true);
    expect(spawnSync('sh', ['-n', join(out, 'm365fw-iptables-apply.sh')]).status).toBe(0);
    if (!isRoot || !have('nft') || !have('iptables-restore') || !have('ipset')) {
      skipNote(
        '--target all loaded by the real tools',
        'needs root, nft, iptables-restore and ipset',
      );
      ctx.skip();
      return;
    }
    const loaded = execFileSync(
      'unshare',
      [
        '-n',
        'sh',
        '-ec',
        `nft add table inet keep; nft -f "${join(out, 'm365fw.nft')}"; ipset restore -f "${join(out, 'm365fw.ipset')}"; iptables-restore --test "${join(out, 'm365fw.v4')}"; nft list tables`,
      ],
      { encoding: 'utf8' },
    );
    expect(loaded).toContain('table inet keep'); // no "flush ruleset" ran
    expect(loaded).toContain('table inet m365fw');
  });
});
