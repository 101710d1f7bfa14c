/**
 * A run's files as one transaction. Every file is written into a fresh staging directory inside
 * the output directory (mkdtemp: unpredictable name, mode 0700; files opened O_CREAT|O_EXCL, so no
 * planted link is ever followed), fsynced, and listed in a manifest with the stale files to remove.
 * Renaming the staging directory to `.m365fw-commit` is the commit point: before it the output is
 * untouched, after it the manifest is carried out — by this run, or, if this run dies or a rename
 * fails, by the next m365fw run on the directory before it reads anything (roll forward). Readers
 * that must not see a half-applied run check for `.m365fw-commit` (the iptables apply script does).
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  statfsSync,
  statSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  unlinkSync,
  writeSync,
  writevSync,
} from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import type { Artifact } from '../model.js';
import { artifactPieces, hasBomOrCrlf } from './pieces.js';
import { terminalText } from '../escape.js';
import { CAUSES } from '../errors.js';
import { lockDir, whileInterruptible, type DirLock } from './lock.js';

export const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const COMMIT_DIR = '.m365fw-commit';
const STAGE_PREFIX = '.m365fw-stage-';
const MANIFEST = '.manifest.json';

export class WriteError extends Error {}

/**
 * Which file names in a directory are m365fw's own: a planted commit may install or remove only
 * those. The default knows the names of the state and plan directories and report.json; the
 * output directory's callers pass the names their targets write.
 */
export type OwnedName = (name: string) => boolean;
const FIXED_NAMES =
  /^(report\.json|state\.json|plan\.json|plan\.md|endpoints-[A-Za-z]+\.json|changes-[A-Za-z]+\.json)$/;
export const fixedOwnedName: OwnedName = (n) => FIXED_NAMES.test(n);

const sha256Hex = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

interface Manifest {
  install: string[];
  /** sha256 of every installed file as staged: a commit whose files differ is not carried out */
  sha256: Record<string, string>;
  remove: string[];
  /** the run's report: the old one goes first and the new one comes last, so none describes a mix */
  marker?: string;
}

/** Test seam: fail the Nth rename of a transaction (M365FW_TEST_FAIL_RENAME=N), like an EIO would. */
function testRenameFault(n: number): void {
  const at = Number(process.env.M365FW_TEST_FAIL_RENAME ?? 0);
  if (at > 0 && n === at) {
    const e = new Error('EIO: i/o error, rename (injected)') as NodeJS.ErrnoException;
    e.code = 'EIO';
    throw e;
  }
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Write pieces to a new file (O_EXCL) with writev, however the kernel splits it, then fsync. */
function writeNewFile(path: string, pieces: readonly Uint8Array[]): void {
  const fd = openSync(path, 'wx', 0o644);
  try {
    let rest = pieces.filter((p) => p.length > 0);
    while (rest.length) {
      let n = writevSync(fd, rest.slice(0, 1024));
      let i = 0;
      while (i < rest.length && n >= rest[i].length) n -= rest[i++].length;
      rest = rest.slice(i);
      if (n > 0) rest[0] = rest[0].subarray(n);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function readManifest(dir: string, owns: OwnedName): Manifest {
  let m: unknown;
  try {
    m = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8'));
  } catch {
    throw new WriteError(
      `${dir} has no readable manifest; remove it by hand after checking the output directory`,
    );
  }
  const ok = (xs: unknown): xs is string[] =>
    Array.isArray(xs) && xs.every((x) => typeof x === 'string' && SAFE_NAME.test(x));
  const mm = m as Partial<Manifest> | null;
  const where = join(dir, MANIFEST);
  if (!mm || !ok(mm.install) || !ok(mm.remove) || (mm.marker !== undefined && !ok([mm.marker])))
    throw new WriteError(
      `${where} is not an m365fw manifest; remove ${dir} by hand after checking the output directory`,
    );
  const sums = mm.sha256;
  if (!sums || typeof sums !== 'object' || Array.isArray(sums))
    throw new WriteError(
      `${where}: /sha256 is missing; refusing to complete a commit whose files cannot be checked (remove ${dir} by hand)`,
    );
  for (const [field, names] of [
    ['install', mm.install],
    ['remove', mm.remove],
  ] as const)
    names.forEach((n, i) => {
      if (!owns(n))
        throw new WriteError(
          `${where}: /${field}/${i}: ${showName(n)} is not a file m365fw writes here; refusing to complete the commit (remove ${dir} by hand)`,
        );
    });
  for (const n of mm.install)
    if (typeof (sums as Record<string, unknown>)[n] !== 'string' || !/^[0-9a-f]{64}$/.test(sums[n]))
      throw new WriteError(
        `${where}: /sha256/${n}: missing or not a sha256; refusing to complete the commit (remove ${dir} by hand)`,
      );
  return {
    install: mm.install,
    sha256: sums,
    remove: mm.remove,
    ...(mm.marker ? { marker: mm.marker } : {}),
  };
}

/** A name read back from a manifest, for a message: JSON-quoted, controls escaped. */
const showName = (n: string) => terminalText(JSON.stringify(n), Infinity);

const lstatOrUndefined = (p: string) => {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
};

/** Every staged file of a commit must be the bytes its manifest names (none swapped in or cut). */
function checkStaged(commit: string, m: Manifest): void {
  for (const name of m.install) {
    const p = join(commit, name);
    const st = lstatOrUndefined(p);
    if (!st) continue; // already put in place by the run that died
    if (!st.isFile() || sha256Hex(readFileSync(p)) !== m.sha256[name])
      throw new WriteError(
        `${join(commit, name)} does not match the sha256 its manifest records; refusing to complete the commit (remove ${commit} by hand after checking the output directory)`,
      );
  }
}

/** Carry out a committed manifest; every step can be repeated (a file already moved is skipped). */
function rollForward(outDir: string, owns: OwnedName): void {
  const commit = join(outDir, COMMIT_DIR);
  const m = readManifest(commit, owns);
  checkStaged(commit, m);
  let renames = 0;
  const order =
    m.marker && m.install.includes(m.marker)
      ? [...m.install.filter((n) => n !== m.marker), m.marker]
      : m.install;
  if (m.marker && existsSync(join(commit, m.marker)))
    rmSync(join(outDir, m.marker), { force: true });
  for (const name of order) {
    const from = join(commit, name);
    if (!existsSync(from)) continue;
    try {
      testRenameFault(++renames + 1);
      renameSync(from, join(outDir, name));
    } catch (e) {
      throw new WriteError(
        `${outDir}: could not put ${name} in place (${(e as NodeJS.ErrnoException).code ?? 'error'}); the run is committed in ${COMMIT_DIR} and the next m365fw run on this directory completes it`,
      );
    }
  }
  for (const name of m.remove) {
    const p = join(outDir, name);
    const st = lstatOrUndefined(p);
    if (!st) continue;
    if (st.isDirectory()) continue; // never ours: m365fw writes files only
    unlinkSync(p);
  }
  fsyncDir(outDir);
  // Retire the commit in one step, then delete it: a run killed while deleting leaves a
  // staging-named directory (dropped by the next run), never a commit without its manifest.
  const done = join(outDir, `${STAGE_PREFIX}done-${randomBytes(8).toString('hex')}`);
  try {
    renameSync(commit, done);
  } catch (e) {
    throw new WriteError(
      `${outDir}: could not retire ${COMMIT_DIR} (${(e as NodeJS.ErrnoException).code ?? 'error'}); the run is in place and the next m365fw run on this directory removes it`,
    );
  }
  fsyncDir(outDir);
  rmSync(done, { recursive: true, force: true });
}

/**
 * Bring a directory to a consistent state before it is read or written: finish a committed run,
 * drop uncommitted staging directories. Call it holding the directory's lock.
 */
export function recoverDir(dir: string, owns: OwnedName = fixedOwnedName): void {
  if (!existsSync(dir)) return;
  const commit = join(dir, COMMIT_DIR);
  let st;
  try {
    st = lstatSync(commit);
  } catch {
    st = undefined;
  }
  if (st) {
    if (!st.isDirectory() || st.isSymbolicLink())
      throw new WriteError(`${commit} is not a directory m365fw made; refusing to use ${dir}`);
    // Empty, it is a run carried out whose removal was cut short (earlier versions deleted the
    // commit in place): its manifest is only ever removed after every step is done.
    if (readdirSync(commit).length === 0) rmdirSync(commit);
    else rollForward(dir, owns);
  }
  for (const e of readdirSync(dir))
    if (e.startsWith(STAGE_PREFIX)) rmSync(join(dir, e), { recursive: true, force: true });
}

/** Remove a directory a failed run created, when it holds nothing (the lock is gone by then). */
export function removeIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    /* not empty, or gone: leave it */
  }
}

/** How a directory is opened: for a run that writes it, or for reading only. */
export interface OpenOptions {
  /** the names m365fw writes there (a planted commit may touch only those) */
  owns?: OwnedName;
  /** read only (plan): an unfinished commit is an error, never completed; nothing is removed */
  readOnly?: boolean;
}

/** Kernel filesystems (statfs f_type) whose files are not files: nothing is written there. */
const SPECIAL_FS: Readonly<Record<number, string>> = {
  0x9fa0: 'proc',
  0x62656572: 'sysfs',
  0x1cd1: 'devpts',
  0x64626720: 'debugfs',
  0x74726163: 'tracefs',
  0x73636673: 'securityfs',
  0x27e0eb: 'cgroup',
  0x63677270: 'cgroup2',
  0xcafe4a11: 'bpf',
  0x62656570: 'configfs',
  0x6165676c: 'pstore',
  0x42494e4d: 'binfmt_misc',
};

/** A system error as a person reads it: what failed, on which path, and why. */
export function systemErrorText(e: unknown, path: string, doing: string): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  const why: Record<string, string> = { ...CAUSES, EEXIST: 'is not a directory' };
  return `${showName(path)}: cannot ${doing}: ${(code && why[code]) ?? (code || String((e as Error)?.message ?? e))}`;
}

/**
 * Check where a directory will be before anything is created there: not on a kernel filesystem
 * (/proc, /sys: a write there is not a file, and can block), and a directory if it exists.
 */
export function checkDirPlace(dir: string, what: string): void {
  let probe = resolve(dir);
  for (;;) {
    let st;
    try {
      st = statSync(probe);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if ((code === 'ENOENT' || code === 'ENOTDIR') && dirname(probe) !== probe) {
        probe = dirname(probe);
        continue;
      }
      throw new WriteError(`${what} ${systemErrorText(e, dir, 'use it')}`);
    }
    if (probe === resolve(dir) && !st.isDirectory())
      throw new WriteError(`${what} ${showName(dir)} is not a directory`);
    let type: number | undefined;
    try {
      type = statfsSync(probe).type;
    } catch {
      type = undefined;
    }
    const fs = type === undefined ? undefined : SPECIAL_FS[type];
    if (fs)
      throw new WriteError(
        `${what} ${showName(dir)} is on a ${fs} filesystem (${showName(probe)}); m365fw writes only to a real filesystem`,
      );
    return;
  }
}

/**
 * A recursive mkdir reports ENOENT where the first missing directory could not be made (on a
 * read-only filesystem, say): making that one alone gives the real cause.
 */
function trueCause(dir: string, e: unknown): unknown {
  if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return e;
  let child = resolve(dir);
  while (dirname(child) !== child && !existsSync(dirname(child))) child = dirname(child);
  try {
    mkdirSync(child);
    rmdirSync(child);
  } catch (inner) {
    return inner;
  }
  return e;
}

/** Create `dir` if needed and take its lock (finishing whatever an earlier run left committed). */
export function openOutputDir(
  dir: string,
  what = 'output directory',
  opts: OpenOptions = {},
): DirLock {
  checkDirPlace(dir, what);
  if (!opts.readOnly)
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new WriteError(`${what} ${systemErrorText(trueCause(dir, e), dir, 'create it')}`);
    }
  const lock = lockDir(dir, what);
  try {
    if (opts.readOnly) {
      if (existsSync(join(dir, COMMIT_DIR)))
        throw new WriteError(
          `${what} ${dir} holds an unfinished m365fw write (${COMMIT_DIR}); a read-only command does not complete it: run compile or update on it first`,
        );
    } else recoverDir(dir, opts.owns);
  } catch (e) {
    lock.release();
    throw e;
  }
  return lock;
}

export interface WriteOptions {
  /** files of an earlier run that this one does not write: removed in the same transaction */
  remove?: string[];
  /** the caller already holds the directory's lock (openOutputDir) */
  locked?: boolean;
  /** the artifact that describes the run (report.json): removed first, put in place last */
  marker?: string;
  /** the names m365fw writes in outDir: `remove` is limited to them (and recovery too) */
  owns?: OwnedName;
}

/**
 * Write every artifact and remove `remove`, as one transaction (see the top of this file).
 * Returns the paths written.
 */
export function writeArtifactsAtomically(
  outDir: string,
  artifacts: Artifact[],
  opts: WriteOptions = {},
): string[] {
  for (const a of artifacts) {
    if (!SAFE_NAME.test(a.path))
      throw new WriteError(`refusing artifact path ${JSON.stringify(a.path)}`);
    if (hasBomOrCrlf(artifactPieces(a)))
      throw new WriteError(`artifact ${a.path} is not LF-only UTF-8 without BOM`);
  }
  const names = new Set(artifacts.map((a) => a.path));
  if (names.size !== artifacts.length) throw new WriteError('two artifacts share a path');
  const owns = opts.owns ?? fixedOwnedName;
  for (const a of artifacts)
    if (!owns(a.path))
      throw new WriteError(
        `refusing artifact path ${showName(a.path)}: not a name m365fw writes in ${outDir}`,
      );
  const foreign = (opts.remove ?? []).find((n) => !SAFE_NAME.test(n) || !owns(n));
  if (foreign !== undefined)
    throw new WriteError(
      `refusing to remove ${showName(foreign)} from ${outDir}: not a file m365fw writes there`,
    );
  const remove = [...new Set(opts.remove ?? [])].filter((n) => !names.has(n)).sort();
  const lock = opts.locked ? undefined : openOutputDir(outDir, 'output directory', { owns });
  try {
    const stage = mkdtempSync(join(outDir, STAGE_PREFIX));
    // interrupted before the commit point, the staging directory goes with the run
    const staged = whileInterruptible(() => rmSync(stage, { recursive: true, force: true }));
    try {
      const sums: Record<string, string> = {};
      for (const a of artifacts) {
        const pieces = artifactPieces(a);
        writeNewFile(join(stage, a.path), pieces);
        const h = createHash('sha256');
        for (const p of pieces) h.update(p);
        sums[a.path] = h.digest('hex');
      }
      const manifest: Manifest = {
        install: artifacts.map((a) => a.path),
        sha256: sums,
        remove,
        ...(opts.marker && names.has(opts.marker) ? { marker: opts.marker } : {}),
      };
      const fd = openSync(join(stage, MANIFEST), 'wx', 0o600);
      try {
        writeSync(fd, JSON.stringify(manifest) + '\n');
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      fsyncDir(stage);
      testRenameFault(1);
      renameSync(stage, join(outDir, COMMIT_DIR));
      staged();
    } catch (e) {
      staged();
      rmSync(stage, { recursive: true, force: true });
      if (e instanceof WriteError) throw e;
      const err = e as NodeJS.ErrnoException;
      throw new WriteError(
        `${outDir}: writing failed (${err.code ?? err.message}${err.code && CAUSES[err.code] ? `: ${CAUSES[err.code]}` : ''}); the previous output is unchanged`,
      );
    }
    fsyncDir(outDir);
    rollForward(outDir, owns);
  } finally {
    lock?.release();
  }
  return artifacts.map((a) => join(outDir, a.path));
}
