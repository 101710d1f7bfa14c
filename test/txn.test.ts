/**
 * A run's files and its report appear together or not at all: under an injected rename failure
 * (strace fault injection and the writer's seam), a full disk (a tiny tmpfs), SIGKILL at each
 * file-changing system call (strace) and at random moments, two runs racing, and links planted at
 * the writer's names.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CLI,
  FIXTURES,
  have,
  isRoot,
  O365_DATA,
  runCli,
  sharedFeeds,
  skipNote,
} from './helpers/env.js';
import { tmpDir } from './helpers/tmp.js';

const SAMPLE = join(FIXTURES, 'sample-feed.json');
/** A second feed: the sample without its first set and with one set more. */
const OTHER = (() => {
  const feed = JSON.parse(readFileSync(SAMPLE, 'utf8')) as { id: number }[];
  const p = join(tmpDir('feeds'), 'other-feed.json');
  writeFileSync(
    p,
    JSON.stringify([
      ...feed.slice(1),
      {
        id: 900,
        serviceArea: 'Common',
        category: 'Allow',
        required: true,
        tcpPorts: '8443',
        ips: ['20.190.128.0/18'],
      },
    ]),
  );
  return p;
})();
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** The files in out/ (not m365fw's own dot files) and whether they are exactly one run's, as its report says. */
function consistent(out: string): { ok: boolean; why: string; files: string[] } {
  const files = readdirSync(out)
    .filter((f) => !f.startsWith('.'))
    .sort();
  if (!files.includes('report.json'))
    return { ok: files.length === 0, why: 'no report.json', files };
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as {
    targets: Record<string, { artifacts: { path: string; sha256: string }[] }>;
  };
  const listed = Object.values(report.targets).flatMap((t) => t.artifacts);
  const want = [...listed.map((a) => a.path), 'report.json'].sort();
  if (JSON.stringify(want) !== JSON.stringify(files))
    return { ok: false, why: `files ${files.join(',')} != report ${want.join(',')}`, files };
  for (const a of listed)
    if (sha(readFileSync(join(out, a.path))) !== a.sha256)
      return { ok: false, why: `${a.path} does not match the report`, files };
  return { ok: true, why: '', files };
}
/**
 * The next writing run on a directory recovers it before it reads anything: a compile that then
 * fails on its input (a service area no set has) shows the recovered directory untouched after.
 */
function recover(out: string, at = ''): void {
  const r = runCli([
    'compile',
    '--input',
    SAMPLE,
    '--service-areas',
    'NoSuchArea',
    '--target',
    'nftables',
    '--out',
    out,
  ]);
  expect(r.code, `${at}: ${r.stderr}`).toBe(1);
  expect(r.stderr, at).toMatch(/--service-areas "NoSuchArea" matches no endpoint set/);
}

const leftovers = (out: string) =>
  readdirSync(out).filter(
    (f) => f.startsWith('.m365fw-stage-') || f === '.m365fw-commit' || f.startsWith('.m365fw.lock'),
  );

/** The built CLI's `compile --input feed --target targets [extra…] --out out`, for spawning. */
const compileArgv = (feed: string, targets: string, out: string, ...extra: string[]) => [
  CLI,
  'compile',
  '--input',
  feed,
  '--target',
  targets,
  ...extra,
  '--out',
  out,
];

/** `compile --target nftables,iptables` under strace, with `inject` (`error=EIO`, `signal=KILL`)
 * applied at the `when`th call of `calls`. */
const straced = (calls: string, inject: string, when: number, feed: string, out: string) =>
  spawnSync(
    'strace',
    [
      ...['-f', '-qq', '-o', '/dev/null', '-e', `trace=${calls}`, '-e'],
      `inject=${calls}:${inject}:when=${when}`,
      process.execPath,
      ...compileArgv(feed, 'nftables,iptables', out),
    ],
    { encoding: 'utf8' },
  );

describe('all-or-nothing writes', () => {
  it('a failed commit rename leaves the previous run in place and no staging directory', () => {
    const out = tmpDir('txn');
    expect(runCli(['compile', '--input', SAMPLE, '--target', 'nftables', '--out', out]).code).toBe(
      0,
    );
    const before = consistent(out);
    const r = runCli(
      [
        'compile',
        '--input',
        OTHER,
        '--target',
        'all',
        '--pac-proxy',
        'PROXY p.example:8080',
        '--out',
        out,
      ],
      { env: { M365FW_TEST_FAIL_RENAME: '1' } },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /writing failed \(EIO: input\/output error\); the previous output is unchanged/,
    );
    expect(consistent(out)).toEqual(before);
    expect(leftovers(out)).toEqual([]);
  });

  it('a rename failing after the commit point is completed by the next run, which then writes its own', () => {
    const out = tmpDir('txn');
    expect(runCli(['compile', '--input', SAMPLE, '--target', 'nftables', '--out', out]).code).toBe(
      0,
    );
    const r = runCli(['compile', '--input', OTHER, '--target', 'nftables,iptables', '--out', out], {
      env: { M365FW_TEST_FAIL_RENAME: '3' },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /the run is committed in \.m365fw-commit and the next m365fw run on this directory completes it/,
    );
    // mid-way: marked unfinished, and no report describes the mix
    expect(existsSync(join(out, '.m365fw-commit'))).toBe(true);
    expect(existsSync(join(out, 'report.json'))).toBe(false);
    // plan only reads: it reports the unfinished write and leaves it alone
    const listing = readdirSync(out).sort();
    const p = runCli([
      'plan',
      '--input',
      OTHER,
      '--target',
      'nftables,iptables',
      '--previous',
      out,
      '--json',
    ]);
    expect(p.code).toBe(1);
    expect(p.stderr).toMatch(
      /holds an unfinished m365fw write \(\.m365fw-commit\); a read-only command does not complete it: run compile or update on it first/,
    );
    expect(readdirSync(out).sort()).toEqual(listing);
    // the next writing run takes the lock and finishes the committed run first
    recover(out);
    const c = consistent(out);
    expect(c.ok, c.why).toBe(true);
    expect(c.files).toContain('m365fw.ipset');
    expect(leftovers(out)).toEqual([]);
  });

  it('strace: EIO injected into each rename in turn; afterwards the directory is one run, consistent with its report', (ctx) => {
    if (!have('strace')) {
      skipNote('strace fault injection', 'needs strace (apt-get install strace)');
      ctx.skip();
      return;
    }
    const out = tmpDir('txn');
    expect(runCli(['compile', '--input', SAMPLE, '--target', 'nftables', '--out', out]).code).toBe(
      0,
    );
    for (let when = 1; when <= 5; when++) {
      const r = straced(
        'rename,renameat,renameat2',
        'error=EIO',
        when,
        when % 2 ? OTHER : SAMPLE,
        out,
      );
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/EIO/);
      // recovery by the next run on the directory
      recover(out);
      const c = consistent(out);
      expect(c.ok, `when=${when}: ${c.why}`).toBe(true);
      expect(leftovers(out)).toEqual([]);
    }
  });

  it('strace: SIGKILL at each file-changing system call of a run in turn (removing the commit included); the next run completes or drops it', (ctx) => {
    if (!have('strace')) {
      skipNote('strace kill injection', 'needs strace (apt-get install strace)');
      ctx.skip();
      return;
    }
    // strace counts `when` per system call, so each kind is walked on its own
    const kinds = ['rename,renameat,renameat2', 'unlink,unlinkat', 'rmdir', 'link,linkat'];
    const out = tmpDir('txn');
    const killedAt: string[] = [];
    for (const calls of kinds)
      for (let when = 1; when < 100; when++) {
        expect(
          runCli(['compile', '--input', SAMPLE, '--target', 'nftables', '--out', out]).code,
        ).toBe(0);
        const r = straced(calls, 'signal=KILL', when, OTHER, out);
        const at = `${calls.split(',')[0]} #${when}`;
        if (r.status === 0) break; // the run made fewer such calls: none was killed
        expect(r.status === null || r.status === 137, `${at}: ${r.stderr}`).toBe(true);
        killedAt.push(at);
        // before recovery: the previous run whole, or this one committed and marked unfinished
        if (!existsSync(join(out, '.m365fw-commit'))) {
          const c = consistent(out);
          expect(c.ok, `${at}: ${c.why}`).toBe(true);
        }
        recover(out, at);
        const c = consistent(out);
        expect(c.ok, `${at}: ${c.why}`).toBe(true);
        expect(leftovers(out), at).toEqual([]);
      }
    // the lock, the commit, the six files put in place, the report removed first, the manifest,
    // the commit retired and removed
    expect(killedAt.length, killedAt.join(', ')).toBeGreaterThanOrEqual(14);
  });

  it('an empty .m365fw-commit (a run killed while an earlier version removed it) is removed by the next run', () => {
    const out = tmpDir('txn');
    expect(runCli(['compile', '--input', SAMPLE, '--target', 'nftables', '--out', out]).code).toBe(
      0,
    );
    const before = consistent(out);
    mkdirSync(join(out, '.m365fw-commit'));
    recover(out);
    expect(consistent(out)).toEqual(before);
    expect(leftovers(out)).toEqual([]);
    // one that holds anything but a manifest is not guessed at
    mkdirSync(join(out, '.m365fw-commit'));
    writeFileSync(join(out, '.m365fw-commit', 'm365fw.nft'), '');
    const q = runCli(['compile', '--input', SAMPLE, '--target', 'nftables', '--out', out]);
    expect(q.code).toBe(1);
    expect(q.stderr).toMatch(/\.m365fw-commit has no readable manifest; remove it by hand/);
  });

  it('a read-only filesystem: one line naming the directory and the cause, exit 1', (ctx) => {
    if (!isRoot || spawnSync('unshare', ['-m', 'true']).status !== 0) {
      skipNote('read-only filesystem test', 'needs root and mount namespaces');
      ctx.skip();
      return;
    }
    const mnt = tmpDir('ro');
    const run = (out: string) =>
      `"${process.execPath}" "${CLI}" compile --input "${SAMPLE}" --out "${out}"; echo "rc=$?"`;
    const script = `mount -t tmpfs -o size=1m tmpfs "${mnt}"
mkdir "${mnt}/out"
mount -o remount,ro "${mnt}"
${run(`${mnt}/out`)}
${run(`${mnt}/new/out`)}`;
    const r = spawnSync('unshare', ['-m', 'sh', '-c', script], { encoding: 'utf8' });
    expect(r.stdout).toBe('rc=1\nrc=1\n');
    expect(r.stderr.trim().split('\n')).toEqual([
      `error: output directory ${mnt}/out: cannot take its lock (read-only filesystem)`,
      `error: output directory "${mnt}/new/out": cannot create it: read-only filesystem`,
    ]);
  });

  it('a full disk (a 200 KiB tmpfs): the run fails, the previous output stays whole', (ctx) => {
    if (!isRoot || spawnSync('unshare', ['-m', 'true']).status !== 0) {
      skipNote('full-disk write test', 'needs root and mount namespaces');
      ctx.skip();
      return;
    }
    const mnt = tmpDir('full');
    const script = `mount -t tmpfs -o size=200k tmpfs "${mnt}"
"${process.execPath}" "${CLI}" compile --input "${SAMPLE}" --target nftables --out "${mnt}/out" >/dev/null
cd "${mnt}/out"; sha256sum * > "${mnt}/before"
"${process.execPath}" "${CLI}" compile --input "${O365_DATA}/worldwide-endpoints-2026-08-14.wrapped.json" --target all --pac-proxy "PROXY p.example:8080" --out "${mnt}/out" && exit 9
sha256sum -c --quiet "${mnt}/before"
ls -A "${mnt}/out"`;
    if (!sharedFeeds().length) {
      skipNote('full-disk write test', 'needs ../shared/o365-data');
      ctx.skip();
      return;
    }
    const r = spawnSync('unshare', ['-m', 'sh', '-ec', script], { encoding: 'utf8' });
    expect(r.status, r.stderr + r.stdout).toBe(0);
    expect(r.stderr).toMatch(
      /writing failed \(ENOSPC: no space left on the device\); the previous output is unchanged/,
    );
    expect(r.stdout.trim().split('\n').sort()).toEqual(['m365fw.nft', 'report.json']);
  });

  it('SIGKILL at random moments, 40 times: every moment is one complete run or a marked unfinished one, and the next run completes it', async () => {
    const out = tmpDir('kill');
    const feeds = [SAMPLE, OTHER, ...sharedFeeds().slice(0, 2)];
    let killed = 0,
      marked = 0;
    for (let i = 0; i < 40; i++) {
      const feed = feeds[i % feeds.length];
      const p = spawn(
        process.execPath,
        compileArgv(
          feed,
          i % 3 ? 'all' : 'nftables,paloalto',
          out,
          '--pac-proxy',
          'PROXY p.example:8080',
        ),
        { stdio: 'ignore' },
      );
      const closed = new Promise<number | null>((resolve) => p.on('close', (c) => resolve(c)));
      const delay = 50 + ((i * 53) % 600);
      await new Promise((r) => setTimeout(r, delay));
      p.kill('SIGKILL');
      const code = await closed;
      if (code === null) killed++;
      if (existsSync(join(out, '.m365fw-commit'))) marked++;
      else {
        const c = consistent(out);
        expect(c.ok, `after kill ${i}: ${c.why}`).toBe(true);
      }
      // the next writing run on the directory recovers it first
      recover(out, `after kill ${i}`);
      const c = consistent(out);
      expect(c.ok, `after recovery ${i}: ${c.why}`).toBe(true);
      expect(leftovers(out)).toEqual([]);
    }
    expect(killed).toBeGreaterThan(0);
    console.log(
      `SIGKILL test: ${killed} of 40 runs killed, ${marked} in the committed-but-unfinished window`,
    );
  }, 120_000);

  it('two runs racing on one --out: both succeed one after the other; the directory holds one of them whole', async () => {
    const out = tmpDir('race');
    const run = (feed: string, targets: string) =>
      new Promise<number | null>((resolve) => {
        spawn(
          process.execPath,
          compileArgv(feed, targets, out, '--pac-proxy', 'PROXY p.example:8080'),
          { stdio: 'ignore' },
        ).on('close', resolve);
      });
    for (let i = 0; i < 5; i++) {
      const codes = await Promise.all([run(SAMPLE, 'all'), run(OTHER, 'nftables')]);
      expect(codes).toEqual([0, 0]);
      const c = consistent(out);
      expect(c.ok, c.why).toBe(true);
    }
  }, 60_000);

  it("a lock held by a live run: the second waits, then fails clearly; a dead owner's lock is taken over", () => {
    const out = tmpDir('lock');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, '.m365fw.lock'), `${process.pid} ${'a'.repeat(32)}\n`);
    const r = runCli(['compile', '--input', SAMPLE, '--out', out], {
      env: { M365FW_LOCK_WAIT_MS: '300' },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `output directory .* is in use by another m365fw run \\(pid ${process.pid}, \\.m365fw\\.lock\\); waited 0 s`,
      ),
    );
    expect(readdirSync(out).filter((f) => !f.startsWith('.'))).toEqual([]);
    // a pid that is gone: the lock is stale
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    }).stdout;
    writeFileSync(join(out, '.m365fw.lock'), `${dead} ${'b'.repeat(32)}\n`);
    // helpers of runs killed while they held them (the dead pid's) go; a live run's stay
    const c = 'c'.repeat(32);
    const orphans = [`.m365fw.lock.${dead}.${c}`, `.m365fw.lock.${dead}.${c}.stale`];
    const live = [`.m365fw.lock.${process.pid}.${c}`, `.m365fw.lock.${process.pid}.${c}.stale`];
    const unlike = [`.m365fw.lock.${dead}.${c}x`, `.m365fw.lock.${dead}.${'C'.repeat(32)}`];
    for (const n of [...orphans, ...live, ...unlike]) writeFileSync(join(out, n), '');
    expect(runCli(['compile', '--input', SAMPLE, '--out', out]).code).toBe(0);
    expect(leftovers(out).sort()).toEqual([...live, ...unlike].sort());
  });

  it.each([
    ['empty', '', 'empty'],
    ['unparsable', 'not a lock\n', 'unparsable'],
    ['pid 0', `0 ${'d'.repeat(32)}\n`, 'unparsable'],
  ])('a lock file that is %s is waited for, then taken over with a message', (_w, body, said) => {
    const out = tmpDir('lock');
    writeFileSync(join(out, '.m365fw.lock'), body);
    const r = runCli(['compile', '--input', SAMPLE, '--out', out], {
      env: { M365FW_LOCK_WAIT_MS: '300' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      new RegExp(
        `\\.m365fw\\.lock names no m365fw run \\(${said}\\); taking it over after waiting 0 s`,
      ),
    );
    expect(existsSync(join(out, '.m365fw.lock'))).toBe(false);
  });

  it.skipIf(!isRoot)(
    'a lock owned by a live process the kernel answers EPERM for is a live lock',
    () => {
      const out = tmpDir('lock');
      // pid 1 lives and, for an unprivileged sender, answers EPERM; as root, a process of nobody's does
      const sleeper = spawn(
        'setpriv',
        ['--reuid=65534', '--regid=65534', '--clear-groups', 'sleep', '30'],
        {
          stdio: 'ignore',
        },
      );
      try {
        writeFileSync(join(out, '.m365fw.lock'), `${sleeper.pid} ${'e'.repeat(32)}\n`);
        const r = runCli(['compile', '--input', SAMPLE, '--out', out], {
          env: { M365FW_LOCK_WAIT_MS: '200' },
        });
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(new RegExp(`in use by another m365fw run \\(pid ${sleeper.pid}`));
        // the same check as an unprivileged user (EPERM from kill(pid, 0)): still alive
        const asNobody = spawnSync(
          'setpriv',
          [
            '--reuid=65533',
            '--regid=65533',
            '--clear-groups',
            process.execPath,
            '-e',
            `try { process.kill(${sleeper.pid}, 0); console.log('ok') } catch (e) { console.log(e.code) }`,
          ],
          { encoding: 'utf8' },
        );
        expect(asNobody.stdout.trim()).toBe('EPERM');
      } finally {
        sleeper.kill('SIGKILL');
      }
    },
  );

  it('two runs waiting on one stale lock: both complete, one after the other', async () => {
    const out = tmpDir('lock');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    }).stdout;
    expect(runCli(['compile', '--input', SAMPLE, '--out', out]).code).toBe(0);
    writeFileSync(join(out, '.m365fw.lock'), `${dead} ${'f'.repeat(32)}\n`);
    const run = (feed: string) =>
      new Promise<number | null>((resolve) =>
        spawn(
          process.execPath,
          [CLI, 'compile', '--input', feed, '--target', 'nftables', '--out', out],
          {
            stdio: 'ignore',
          },
        ).on('close', resolve),
      );
    expect(await Promise.all([run(SAMPLE), run(OTHER)])).toEqual([0, 0]);
    expect(consistent(out).ok).toBe(true);
    expect(leftovers(out)).toEqual([]);
  });

  it('strace: every file a run creates in --out is opened O_CREAT|O_EXCL (never through a planted name)', (ctx) => {
    if (!have('strace')) {
      skipNote('strace open flags', 'needs strace (apt-get install strace)');
      ctx.skip();
      return;
    }
    const out = tmpDir('flags');
    const log = join(tmpDir('flags-log'), 'strace.txt');
    const r = spawnSync(
      'strace',
      [
        '-f',
        '-e',
        'trace=open,openat,creat',
        '-o',
        log,
        process.execPath,
        ...compileArgv(SAMPLE, 'nftables,iptables', out),
      ],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    const opens = readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l.includes(`"${out}/`) && /O_WRONLY|O_RDWR|O_CREAT/.test(l));
    // the lock helper, seven staged files and the manifest
    expect(opens.length).toBeGreaterThanOrEqual(8);
    for (const l of opens) expect(l, l).toMatch(/O_CREAT\|O_EXCL/);
    expect(opens.filter((l) => l.includes('.m365fw-stage-')).length).toBeGreaterThanOrEqual(6);
    expect(readFileSync(log, 'utf8')).not.toMatch(/\bcreat\(/);
  });

  it('links planted at every name the writer uses are never followed', () => {
    const out = tmpDir('links');
    const victim = join(tmpDir('victim'), 'precious');
    writeFileSync(victim, 'keep me\n');
    mkdirSync(out, { recursive: true });
    // a report.json that is a link is not a report to trust: refused, and not followed
    symlinkSync(victim, join(out, 'report.json'));
    let r = runCli(['compile', '--input', SAMPLE, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/report\.json is not a regular file; refusing/);
    spawnSync('rm', [join(out, 'report.json')]);
    for (const n of ['m365fw.nft', 'm365fw.ipset', 'm365fw.v4']) symlinkSync(victim, join(out, n));
    expect(
      runCli(['compile', '--input', SAMPLE, '--target', 'nftables,iptables', '--out', out]).code,
    ).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('keep me\n');
    for (const n of ['report.json', 'm365fw.nft', 'm365fw.ipset', 'm365fw.v4'])
      expect(lstatSync(join(out, n)).isFile()).toBe(true);
    expect(consistent(out).ok).toBe(true);
    // the commit and lock names: refused, not followed
    const victimDir = tmpDir('victim-dir');
    symlinkSync(victimDir, join(out, '.m365fw-commit'));
    r = runCli(['compile', '--input', SAMPLE, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\.m365fw-commit is not a directory m365fw made; refusing/);
    expect(readdirSync(victimDir)).toEqual([]);
    expect(readlinkSync(join(out, '.m365fw-commit'))).toBe(victimDir);
    spawnSync('rm', [join(out, '.m365fw-commit')]);
    symlinkSync(victim, join(out, '.m365fw.lock'));
    r = runCli(['compile', '--input', SAMPLE, '--out', out], {
      env: { M365FW_LOCK_WAIT_MS: '200' },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\.m365fw\.lock is not a regular file; refusing to use it as a lock/);
    expect(readFileSync(victim, 'utf8')).toBe('keep me\n');
  });
});

describe("only this run's files", () => {
  it("--target all then --target nftables: the other targets' files go; a file m365fw never wrote stays", () => {
    const out = tmpDir('stale');
    expect(
      runCli([
        'compile',
        '--input',
        SAMPLE,
        '--target',
        'all',
        '--pac-proxy',
        'PROXY p.example:8080',
        '--out',
        out,
      ]).code,
    ).toBe(0);
    writeFileSync(join(out, 'NOTES.md'), 'mine\n');
    mkdirSync(join(out, 'keep.d'));
    expect(runCli(['compile', '--input', SAMPLE, '--target', 'nftables', '--out', out]).code).toBe(
      0,
    );
    expect(
      readdirSync(out)
        .filter((f) => !f.startsWith('.'))
        .sort(),
    ).toEqual(['NOTES.md', 'keep.d', 'm365fw.nft', 'report.json']);
    expect(readFileSync(join(out, 'NOTES.md'), 'utf8')).toBe('mine\n');
  });

  it('dropping --panos-ip-edl removes the per-rule EDL files', () => {
    const out = tmpDir('stale');
    const base = [
      'compile',
      '--input',
      SAMPLE,
      '--target',
      'paloalto',
      '--out',
      out,
      '--panos-edl-url-base',
      'https://edl.example/m365',
    ];
    expect(runCli([...base, '--panos-ip-edl']).code).toBe(0);
    const withEdl = readdirSync(out).filter((f) => /^edl-v[46]-/.test(f));
    expect(withEdl.length).toBeGreaterThan(2);
    expect(runCli(base).code).toBe(0);
    expect(readdirSync(out).filter((f) => /^edl-v[46]-/.test(f))).toEqual([]);
    expect(consistent(out).ok).toBe(true);
  });

  it('a previous report.json that cannot be read is a refusal, not "no previous run"', () => {
    for (const bad of ['{', 'null', '[]', '{}', '{"tool":{"name":"m365fw","version":"0.1.0"}}']) {
      const out = tmpDir('badrep');
      writeFileSync(join(out, 'report.json'), bad);
      const r = runCli(['compile', '--input', SAMPLE, '--out', out]);
      expect(r.code, bad).toBe(1);
      expect(r.stderr).toMatch(/report\.json is not (valid JSON|an m365fw report)/);
      expect(readdirSync(out)).toEqual(['report.json']);
    }
  });
});
