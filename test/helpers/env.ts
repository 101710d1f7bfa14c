import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = join(ROOT, 'dist/src/cli/bin.js');
export const FIXTURES = join(ROOT, 'fixtures');
/** ../shared beside the checkout; M365FW_SHARED names it when the tests run elsewhere (npm run mutate's sandbox) */
export const SHARED = process.env.M365FW_SHARED
  ? resolve(process.env.M365FW_SHARED)
  : resolve(ROOT, '../shared');
export const O365_DATA = join(SHARED, 'o365-data');

/** The real web-service snapshots in ../shared, or [] (tests then skip and say why). */
export function sharedFeeds(): string[] {
  if (!existsSync(O365_DATA)) return [];
  return readdirSync(O365_DATA)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => join(O365_DATA, f));
}
export const NO_SHARED = `../shared/o365-data not found beside the checkout (${O365_DATA})`;

export function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}
export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Why a real-tool test cannot run here, or undefined when it can. */
export function missing(...cmds: string[]): string | undefined {
  const gone = cmds.filter((c) => !have(c));
  if (!isRoot)
    return `needs root (network namespaces)${gone.length ? ` and ${gone.join(', ')}` : ''}`;
  if (gone.length)
    return `needs ${gone.join(', ')} (apt-get install ${gone.map(debPackage).join(' ')})`;
  // namespaces may be forbidden in a container even for root
  if (spawnSync('unshare', ['-n', 'true']).status !== 0)
    return 'cannot create a network namespace (unshare -n failed)';
  return undefined;
}
function debPackage(c: string): string {
  return (
    (
      {
        nft: 'nftables',
        'iptables-restore': 'iptables',
        'ip6tables-restore': 'iptables',
        'iptables-save': 'iptables',
        ip: 'iproute2',
      } as Record<string, string>
    )[c] ?? c
  );
}

/** Report a skipped real-tool test loudly (vitest prints it). */
export function skipNote(what: string, why: string | undefined): void {
  if (!why) return;
  // CI installs every tool: there a skip would hide a missing install step, so it is a failure
  if (process.env.M365FW_REQUIRE_TOOLS)
    throw new Error(`${what} cannot run: ${why} (M365FW_REQUIRE_TOOLS is set)`);
  console.warn(`SKIP ${what}: ${why}`);
}

/** Run a shell script in a fresh network namespace; returns stdout, throws with stderr. */
export function inNetns(script: string, input?: string): string {
  return execFileSync('unshare', ['-n', 'sh', '-ec', script], {
    input,
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Run the built CLI. */
export function runCli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, ...opts.env },
    maxBuffer: 1 << 28,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Run the built CLI without blocking this process (for tests whose server lives in it); JSON stdout parsed when it is JSON. */
export function runCliAsync(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string; ms: number; json?: any }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
    let stdout = '',
      stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => {
      let json: any;
      try {
        json = JSON.parse(stdout);
      } catch {
        /* not JSON */
      }
      resolve({ code: code ?? -1, stdout, stderr, ms: Date.now() - t0, json });
    });
  });
}

/** A property test's number of cases: a tenth (at least 10) under npm run mutate, where each mutant reruns it. */
export const runs = (n: number): number =>
  process.env.M365FW_MUTATE ? Math.max(10, Math.ceil(n / 10)) : n;
