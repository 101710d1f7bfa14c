/**
 * m365fw apply: load one output on this host the documented way, check the host still works,
 * and put back the exact ruleset that was there before unless the check passes (and, with a
 * confirmation window, someone confirms in time). The safety net of ferm --interactive and
 * firewalld's timeout, for nftables and iptables + ipset.
 *
 * The ruleset before is saved in memory (`nft list ruleset`; `iptables-save`, `ip6tables-save`,
 * `ipset save`) and restored whole; nothing else is touched: the load is the output's own file
 * (its table) or its own apply script (its chains and sets).
 */
import { createRequire } from 'node:module';
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { readPreviousReport } from '../report/previous.js';
import { REPORT_FILE } from '../report/report.js';
import { COMMIT_DIR } from '../io/write.js';
import { showValue } from '../errors.js';

export type ApplyTarget = 'nftables' | 'iptables';
export const APPLY_TARGETS: readonly ApplyTarget[] = ['nftables', 'iptables'];

export interface ApplyOptions {
  target: ApplyTarget;
  outDir: string;
  /** a shell command that exits 0 when the host still works (run after loading) */
  checkCmd?: string;
  /** host:port reached by TCP within the timeout */
  checkConnect?: { host: string; port: number };
  checkTimeoutMs?: number;
  /** seconds to wait for `m365fw apply --confirm-now` after the check passed */
  confirmSeconds?: number;
  /** where the confirmation is exchanged (root's own directory) */
  confirmDir?: string;
  log?: (line: string) => void;
}

export type ApplyOutcome =
  | { status: 'applied'; detail: string }
  | { status: 'rolled-back'; reason: string }
  | { status: 'nothing'; reason: string };

export class ApplyError extends Error {}

export const DEFAULT_CONFIRM_DIR = '/run/m365fw';

// loaded when apply runs (the bundle keeps node:child_process out of every other command)
const childProcess = () =>
  createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');
const run = (cmd: string, args: string[], input?: string, timeoutMs = 60_000) =>
  childProcess().spawnSync(cmd, args, {
    encoding: 'utf8',
    input,
    timeout: timeoutMs,
    maxBuffer: 1 << 30,
  });

function must(cmd: string, args: string[], what: string, input?: string): string {
  const r = run(cmd, args, input);
  if (r.error) throw new ApplyError(`${what}: ${cmd} could not run (${r.error.message})`);
  if (r.status !== 0)
    throw new ApplyError(
      `${what}: ${cmd} ${args.join(' ')} failed (exit ${r.status}): ${(r.stderr || r.stdout).trim().split('\n')[0] ?? ''}`,
    );
  return r.stdout;
}

/** The ruleset as it is now, enough to put it back exactly. */
interface Snapshot {
  /** nftables: this output's table as it was (undefined: it did not exist) */
  table?: string;
  nft?: string;
  v4?: string;
  v6?: string;
  ipset?: string;
}

function snapshot(target: ApplyTarget, table: string): Snapshot {
  // nftables: the output replaces its own table only, so that table is what is saved and put back
  // (the whole ruleset may hold iptables-nft tables that nft cannot read back in)
  if (target === 'nftables') {
    const r = run('nft', ['list', 'table', 'inet', table]);
    return { table, ...(r.status === 0 ? { nft: r.stdout } : {}) };
  }
  return {
    v4: must('iptables-save', [], 'saving the IPv4 rules'),
    v6: must('ip6tables-save', [], 'saving the IPv6 rules'),
    ipset: must('ipset', ['save'], 'saving the sets'),
  };
}

/** Put the saved ruleset back: the whole nftables ruleset, or every iptables table and set. */
function restore(target: ApplyTarget, s: Snapshot): void {
  if (target === 'nftables') {
    if (run('nft', ['list', 'table', 'inet', s.table!]).status === 0)
      must('nft', ['delete', 'table', 'inet', s.table!], `removing table inet ${s.table}`);
    if (s.nft !== undefined) must('nft', ['-f', '-'], `restoring table inet ${s.table}`, s.nft);
    return;
  }
  // the rules first (they may reference sets this run made), then the sets as they were. The
  // filter table is emptied first: a restore without it would leave this run's chains in place
  const empty =
    '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n';
  for (const [tool, saved, family] of [
    ['iptables-restore', s.v4 ?? '', 'ip'],
    ['ip6tables-restore', s.v6 ?? '', 'ip6'],
  ] as const) {
    // a restore replaces each table it names whole; the filter table only if the save has it
    if (!/^\*filter$/m.test(saved))
      must(tool, ['-w'], `emptying the ${family} filter table`, empty);
    must(tool, ['-w'], `restoring the ${family} rules`, saved);
    // with the nf_tables backend a filter table that was not there before goes again
    if (!/^\*filter$/m.test(saved) && run('nft', ['list', 'table', family, 'filter']).status === 0)
      must('nft', ['delete', 'table', family, 'filter'], `removing the ${family} filter table`);
  }
  const saved = new Set(
    (s.ipset ?? '')
      .split('\n')
      .filter((l) => l.startsWith('create '))
      .map((l) => l.split(' ')[1]),
  );
  for (const name of must('ipset', ['list', '-n'], 'listing the sets').split('\n').filter(Boolean))
    if (!saved.has(name)) must('ipset', ['destroy', name], `removing set ${name}`);
    else must('ipset', ['flush', name], `emptying set ${name}`);
  if (s.ipset) must('ipset', ['restore', '-exist'], 'restoring the sets', s.ipset);
}

/** The output's files must be the ones its report.json names (one complete run, unedited). */
function checkOutput(o: ApplyOptions): ApplyOutcome | { table: string } {
  if (existsSync(join(o.outDir, COMMIT_DIR)))
    throw new ApplyError(
      `${o.outDir} holds an unfinished m365fw write (${COMMIT_DIR}); run compile or update on it first`,
    );
  const report = readPreviousReport(o.outDir);
  if (!report)
    return { status: 'nothing', reason: `${o.outDir} has no ${REPORT_FILE}: nothing to apply` };
  const t = report.targets[o.target];
  if (!t)
    return {
      status: 'nothing',
      reason: `${join(o.outDir, REPORT_FILE)} has no ${o.target} output: nothing to apply`,
    };
  for (const a of t.artifacts) {
    const p = join(o.outDir, a.path);
    if (!existsSync(p) || !lstatSync(p).isFile())
      throw new ApplyError(`${p} is missing: the output is not complete; compile it again`);
    const sum = createHash('sha256').update(readFileSync(p)).digest('hex');
    if (sum !== a.sha256)
      throw new ApplyError(
        `${p} is not the file ${REPORT_FILE} records (sha256 differs); refusing to load an edited output`,
      );
  }
  // read back from report.json: only a table name m365fw would have written is used
  const table = report.options.nftTable ?? 'm365fw';
  if (typeof table !== 'string' || !/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(table))
    throw new ApplyError(
      `${join(o.outDir, REPORT_FILE)}: /options/nftTable ${showValue(table)} is not a table name`,
    );
  if (o.target === 'nftables' && report.options.nftMode === 'include')
    throw new ApplyError(
      `${o.outDir} was compiled with --nft-mode include: your own table includes it; load that table yourself`,
    );
  return { table };
}

function load(o: ApplyOptions): void {
  if (o.target === 'nftables') must('nft', ['-f', join(o.outDir, 'm365fw.nft')], 'loading');
  else must('sh', [join(o.outDir, 'm365fw-iptables-apply.sh')], 'loading');
}

/** The health check: the command, or a TCP connection, within the timeout. */
async function healthy(o: ApplyOptions): Promise<string | undefined> {
  const ms = o.checkTimeoutMs ?? 5000;
  if (o.checkCmd !== undefined) {
    const r = run('sh', ['-c', o.checkCmd], undefined, ms);
    if (r.error || r.status !== 0)
      return `--check-cmd ${showValue(o.checkCmd)} ${r.error ? `did not finish in ${ms} ms` : `exited ${r.status}`}`;
  }
  if (o.checkConnect) {
    const { host, port } = o.checkConnect;
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host, port, timeout: ms });
      const end = (v: boolean) => {
        s.destroy();
        resolve(v);
      };
      s.once('connect', () => end(true));
      s.once('timeout', () => end(false));
      s.once('error', () => end(false));
    });
    if (!ok) return `--check-connect ${host}:${port} got no connection in ${ms} ms`;
  }
  return undefined;
}

/** Where one output directory's confirmation is exchanged: named from its real path. */
export function confirmFiles(outDir: string, dir = DEFAULT_CONFIRM_DIR) {
  const id = createHash('sha256').update(realpathSync(outDir)).digest('hex').slice(0, 16);
  return {
    pending: join(dir, `apply-${id}.pending`),
    confirmed: join(dir, `apply-${id}.confirmed`),
  };
}

/** `m365fw apply --confirm-now`: confirm the apply waiting on this output directory. */
export function confirmNow(outDir: string, dir = DEFAULT_CONFIRM_DIR): void {
  const f = confirmFiles(outDir, dir);
  if (!existsSync(f.pending))
    throw new ApplyError(`no apply of ${outDir} is waiting for a confirmation`);
  writeFileSync(f.confirmed, readFileSync(f.pending, 'utf8'), { mode: 0o600 });
}

async function confirmed(o: ApplyOptions): Promise<boolean> {
  const dir = o.confirmDir ?? DEFAULT_CONFIRM_DIR;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const f = confirmFiles(o.outDir, dir);
  const token = randomBytes(16).toString('hex');
  rmSync(f.confirmed, { force: true });
  writeFileSync(f.pending, token, { mode: 0o600 });
  o.log?.(
    `loaded; confirm within ${o.confirmSeconds} s with: m365fw apply --confirm-now --out ${o.outDir}${o.confirmDir ? ` --confirm-dir ${o.confirmDir}` : ''}`,
  );
  try {
    const deadline = Date.now() + (o.confirmSeconds ?? 0) * 1000;
    while (Date.now() < deadline) {
      // only the token of this apply counts: an old confirmation confirms nothing
      if (existsSync(f.confirmed) && readFileSync(f.confirmed, 'utf8') === token) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  } finally {
    rmSync(f.pending, { force: true });
    rmSync(f.confirmed, { force: true });
  }
}

/** Load, check, confirm; anything short of that puts the saved ruleset back. */
export async function applyOutput(o: ApplyOptions): Promise<ApplyOutcome> {
  if (o.checkCmd === undefined && !o.checkConnect && !o.confirmSeconds)
    throw new ApplyError(
      'apply needs a health check (--check-cmd, --check-connect) or a confirmation window (--confirm SECONDS): without one a lockout would stay',
    );
  const checked = checkOutput(o);
  if ('status' in checked) return checked;
  const before = snapshot(o.target, checked.table);
  const back = (reason: string): ApplyOutcome => {
    restore(o.target, before);
    return { status: 'rolled-back', reason };
  };
  try {
    load(o);
  } catch (e) {
    return back((e as Error).message);
  }
  const sick = await healthy(o);
  if (sick) return back(`the health check failed: ${sick}`);
  if (o.confirmSeconds && !(await confirmed(o)))
    return back(`no confirmation within ${o.confirmSeconds} s`);
  return {
    status: 'applied',
    detail: `${o.target} output of ${o.outDir} loaded${o.checkCmd !== undefined || o.checkConnect ? ', health check passed' : ''}${o.confirmSeconds ? ', confirmed' : ''}`,
  };
}
