/**
 * npm run bench: seeded inputs from ../shared/bench/gen-prefixes.mjs, the whole `m365fw compile`
 * process to nftables on each (node on the built CLI), against iprange (C) and cidr-tools on the
 * same file, with the merged output checked equal to iprange's. Prints a table; asserts nothing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = join(ROOT, 'dist/src/cli/bin.js');
const GEN = resolve(ROOT, '../shared/bench/gen-prefixes.mjs');
const REPEAT = Number(process.env.BENCH_REPEAT ?? 5);
const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

interface Run {
  seconds: number;
  peakKiB?: number;
  stdout: string;
}

/** One run of a whole process: wall time, and peak RSS when GNU time is there. */
function once(cmd: string[]): Run {
  const t0 = process.hrtime.bigint();
  const r = TIME
    ? spawnSync(TIME, ['-f', '%M', ...cmd], { encoding: 'utf8', maxBuffer: 1 << 30 })
    : spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8', maxBuffer: 1 << 30 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed: ${r.stderr}`);
  const peak = TIME ? Number(r.stderr.trim().split('\n').pop()) : undefined;
  return { seconds, peakKiB: peak, stdout: r.stdout };
}

/**
 * The median of REPEAT runs of each command. The commands take turns (a, b, a, b, ...) so that
 * a change in the machine's load during the benchmark weighs on all of them alike.
 */
function measure(cmds: { cmd: string[]; out?: string }[]): Run[] {
  const runs: Run[][] = cmds.map(() => []);
  for (let i = 0; i < REPEAT; i++) cmds.forEach((c, k) => runs[k].push(once(c.cmd)));
  return runs.map((list, k) => {
    list.sort((a, b) => a.seconds - b.seconds);
    const mid = list[Math.floor(list.length / 2)];
    if (cmds[k].out) writeFileSync(cmds[k].out, mid.stdout);
    return mid;
  });
}

const CIDR_TOOLS = `
import cidr from 'cidr-tools';
import { readFileSync } from 'node:fs';
const lines = readFileSync(process.argv[2], 'utf8').split('\\n').filter(Boolean);
const merged = cidr.mergeCidr(lines);
process.stdout.write(String(merged.length));
`;

/** A stand-in web service in a child process (the benchmark itself blocks in spawnSync). */
const STAND_IN = `
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
const feed = readFileSync(process.argv[2], 'utf8');
const s = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(req.url.startsWith('/version/') ? JSON.stringify({ instance: 'Worldwide', latest: '2026120100' }) : feed);
});
s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));
`;

/** update's cost when out/ is current (one /version request) and for a first run, against node -e 0. */
async function benchUpdate(dir: string): Promise<void> {
  const script = join(ROOT, 'dist/test/bench/stand-in.mjs');
  writeFileSync(script, STAND_IN);
  const feed = resolve(ROOT, '../shared/o365-data/worldwide-endpoints-2026-08-14.wrapped.json');
  const server = spawn(
    process.execPath,
    [script, existsSync(feed) ? feed : join(ROOT, 'fixtures/sample-feed.json')],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<string>((r) =>
    server.stdout.once('data', (d: Buffer) => r(d.toString().trim())),
  );
  try {
    const state = join(dir, 'u-state'),
      out = join(dir, 'u-out');
    const update = (o: string) => [
      process.execPath,
      CLI,
      'update',
      '--instance',
      'Worldwide',
      '--state',
      state,
      '--out',
      o,
      '--target',
      'all',
      '--pac-proxy',
      'PROXY p.example:8080',
      '--base-url',
      `http://127.0.0.1:${port}`,
    ];
    const first = spawnSync(update(out)[0], update(out).slice(1), { encoding: 'utf8' });
    if (first.status !== 2) throw new Error(`update: ${first.stderr}`);
    const fresh = (i: number) => {
      rmSync(join(dir, `u-out-${i}`), { recursive: true, force: true });
      return join(dir, `u-out-${i}`);
    };
    const runs: number[] = [];
    for (let i = 0; i < REPEAT; i++) {
      const o = fresh(i);
      const t0 = process.hrtime.bigint();
      spawnSync(update(o)[0], update(o).slice(1));
      runs.push(Number(process.hrtime.bigint() - t0) / 1e9);
    }
    runs.sort((a, b) => a - b);
    const [node, current] = measure([{ cmd: [process.execPath, '-e', '0'] }, { cmd: update(out) }]);
    console.log(
      `update, whole process (${existsSync(feed) ? 'Worldwide 2026-08-14' : 'sample feed'}, --target all, loopback service): ` +
        `out/ current ${current.seconds.toFixed(3)} s (${(current.seconds / node.seconds).toFixed(2)}× node -e 0 at ${node.seconds.toFixed(3)} s, one /version request); ` +
        `first run (download, compile, write) ${runs[Math.floor(runs.length / 2)].toFixed(3)} s`,
    );
  } finally {
    server.kill();
  }
}

/** The real Worldwide feed compiled to every target, and to each alone: whole process, against node -e 0. */
function benchTargets(dir: string): void {
  const feed = resolve(ROOT, '../shared/o365-data/worldwide-endpoints-2026-08-14.wrapped.json');
  if (!existsSync(feed)) return;
  const names = [
    'all',
    'nftables',
    'iptables',
    'azure-nsg',
    'terraform-azure-nsg',
    'paloalto',
    'pac',
  ];
  const cmd = (t: string) => [
    process.execPath,
    CLI,
    'compile',
    '--input',
    feed,
    '--target',
    t,
    '--pac-proxy',
    'PROXY p.example:8080',
    '--no-progress',
    '--out',
    join(dir, `t-${t}`),
  ];
  const runs = measure([
    { cmd: [process.execPath, '-e', '0'] },
    ...names.map((t) => ({ cmd: cmd(t) })),
  ]);
  const node = runs[0].seconds;
  console.log(
    `\nWorldwide 2026-08-14 compiled, whole process (node -e 0: ${node.toFixed(3)} s in the same run):`,
  );
  names.forEach((t, i) =>
    console.log(
      `  --target ${t.padEnd(20)} ${runs[i + 1].seconds.toFixed(3)} s  ${(runs[i + 1].seconds / node).toFixed(2)}× node -e 0`,
    ),
  );
}

function main(): void {
  if (!existsSync(GEN)) {
    console.error(`bench: ${GEN} not found (../shared is needed)`);
    process.exit(1);
  }
  const dir = mkdtempSync(join(tmpdir(), 'm365fw-bench-'));
  const cidrScript = join(ROOT, 'dist/test/bench/cidr-tools-merge.mjs');
  writeFileSync(cidrScript, CIDR_TOOLS);
  const cases: [string, 4 | 6, number][] = [
    ['10k IPv4', 4, 10_000],
    ['100k IPv4', 4, 100_000],
    ['1M IPv4', 4, 1_000_000],
    ['100k IPv6', 6, 100_000],
  ];
  console.log(
    `m365fw bench — ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}; median of ${REPEAT} runs, the tools taking turns`,
  );
  console.log(
    `iprange: ${have('iprange') ? 'yes' : 'not installed (apt-get install iprange)'}; peak memory: ${TIME ? 'GNU time' : 'n/a (no /usr/bin/time)'}\n`,
  );
  const rows: string[][] = [
    [
      'input',
      'entries',
      'm365fw wall',
      'peak MiB',
      'out prefixes',
      'iprange',
      'ratio',
      'cidr-tools',
      'ratio',
      'same as iprange',
    ],
  ];
  try {
    for (const [label, fam, n] of cases) {
      const input = join(dir, `v${fam}-${n}.txt`);
      writeFileSync(
        input,
        spawnSync(process.execPath, [GEN, String(fam), String(n), '1'], {
          encoding: 'utf8',
          maxBuffer: 1 << 30,
        }).stdout,
      );
      const out = join(dir, `out-${fam}-${n}`);
      const oursCmd = [
        process.execPath,
        CLI,
        'compile',
        '--input',
        input,
        '--input-format',
        'prefixes',
        '--target',
        'nftables',
        '--out',
        out,
        '--no-progress',
      ];
      const withIprange = fam === 4 && have('iprange');
      const withCidrTools = n <= 1_000_000;
      const [ours, ...others] = measure([
        { cmd: oursCmd },
        ...(withIprange ? [{ cmd: ['iprange', input], out: join(dir, 'iprange.out') }] : []),
        ...(withCidrTools ? [{ cmd: [process.execPath, cidrScript, input] }] : []),
      ]);
      const merged = readFileSync(join(out, 'm365fw.nft'), 'utf8')
        .split('\n')
        .filter((l) => /^\t\t\t[0-9a-f:.]+\/[0-9]+,?$/.test(l))
        .map((l) => l.trim().replace(/,$/, ''));
      let ipr = '-',
        iprRatio = '-',
        same = '-';
      if (withIprange) {
        const r = others.shift()!;
        ipr = `${r.seconds.toFixed(3)} s`;
        iprRatio = `${(ours.seconds / r.seconds).toFixed(2)}×`;
        const theirs = readFileSync(join(dir, 'iprange.out'), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => (l.includes('/') ? l : `${l}/32`));
        same =
          theirs.length === merged.length && theirs.every((x, i) => x === merged[i])
            ? 'yes'
            : `NO (${theirs.length} vs ${merged.length})`;
      }
      let ct = '-',
        ctRatio = '-';
      if (withCidrTools) {
        const r = others.shift()!;
        ct = `${r.seconds.toFixed(3)} s`;
        ctRatio = `${(ours.seconds / r.seconds).toFixed(2)}×`;
        if (Number(r.stdout) !== merged.length) same += ` (cidr-tools: ${r.stdout})`;
      }
      rows.push([
        label,
        String(n),
        `${ours.seconds.toFixed(3)} s`,
        ours.peakKiB ? (ours.peakKiB / 1024).toFixed(0) : 'n/a',
        String(merged.length),
        ipr,
        iprRatio,
        ct,
        ctRatio,
        same,
      ]);
      if (
        label === '1M IPv4' &&
        process.getuid?.() === 0 &&
        have('nft') &&
        spawnSync('unshare', ['-n', 'true']).status === 0
      ) {
        const t0 = process.hrtime.bigint();
        const r = spawnSync('unshare', ['-n', 'nft', '-f', join(out, 'm365fw.nft')], {
          encoding: 'utf8',
        });
        const s = Number(process.hrtime.bigint() - t0) / 1e9;
        console.log(
          `nft -f of the 1M-input ruleset (${merged.length} interval elements) in a fresh namespace: ${r.status === 0 ? `${s.toFixed(2)} s` : `FAILED: ${r.stderr.slice(0, 200)}`}`,
        );
      }
    }
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  console.log('');
  for (const [i, r] of rows.entries()) {
    console.log(r.map((x, c) => x.padEnd(widths[c])).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
  console.log(
    "\nratio = m365fw wall time / the other tool's wall time on the same file (below 1 means m365fw is faster).\n",
  );
  benchTargets(dir);
  void benchUpdate(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

main();
