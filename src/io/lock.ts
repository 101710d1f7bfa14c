/**
 * A lock on a directory that m365fw runs share (--out, --state). Node has no flock, so the lock is
 * a file created complete in one step (written under a random name, then link()ed into place: link
 * fails when the name exists) holding the owner's pid and a random token. A lock whose pid is gone
 * (the owner was killed) is taken over: it is renamed aside first and its token checked, so two
 * waiters that both saw it stale cannot both remove a fresh one.
 *
 * The helper names carry their maker's pid (`.m365fw.lock.<pid>.<token>` and its `.stale` aside), so
 * a run that was killed while it held one leaves a name the next lock holder can judge without
 * reading it: a helper whose pid is gone is removed; one whose pid lives is another run at work.
 */
import { CAUSES } from '../errors.js';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  linkSync,
  readdirSync,
  lstatSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

export const LOCK_FILE = '.m365fw.lock';
/** How long a run waits for another run's lock before it fails (overridable for tests). */
export const LOCK_WAIT_MS = 10_000;

export class LockError extends Error {}

const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(path: string): { pid: number; token: string } | undefined {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return undefined;
  }
  if (!st.isFile())
    throw new LockError(`${path} is not a regular file; refusing to use it as a lock (remove it)`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const m = /^([0-9]{1,10}) ([0-9a-f]{32})\n$/.exec(text);
  // a lock that is not ours in form (empty, foreign, pid 0) names no owner: see lockDir
  return m && Number(m[1]) > 0
    ? { pid: Number(m[1]), token: m[2] }
    : { pid: 0, token: text.slice(0, 64) };
}

/**
 * What a run must undo when it is interrupted (SIGINT, SIGTERM): its locks and staging
 * directories. The handlers are installed while something is registered, so a run that holds
 * nothing dies the default way.
 */
const onInterrupt = new Map<symbol, () => void>();
const SIGNALS = { SIGINT: 130, SIGTERM: 143 } as const;
const handlers = Object.fromEntries(
  Object.entries(SIGNALS).map(([sig, code]) => [
    sig,
    () => {
      for (const undo of [...onInterrupt.values()].reverse())
        try {
          undo();
        } catch {
          /* best effort: the next run recovers the rest */
        }
      process.stderr.write(`m365fw: interrupted (${sig}); locks released, staging removed\n`);
      process.exit(code);
    },
  ]),
) as unknown as Record<keyof typeof SIGNALS, () => void>;

/** Register cleanup for an interruption; the returned function unregisters it. */
export function whileInterruptible(undo: () => void): () => void {
  const key = Symbol('undo');
  if (onInterrupt.size === 0)
    for (const sig of Object.keys(SIGNALS) as (keyof typeof SIGNALS)[])
      process.on(sig, handlers[sig]);
  onInterrupt.set(key, undo);
  return () => {
    if (!onInterrupt.delete(key) || onInterrupt.size) return;
    for (const sig of Object.keys(SIGNALS) as (keyof typeof SIGNALS)[])
      process.off(sig, handlers[sig]);
  };
}

export interface DirLock {
  release(): void;
}

/** Take the lock of `dir` (which must exist), waiting up to `waitMs` for another run to finish. */
export function lockDir(
  dir: string,
  what: string,
  waitMs = Number(process.env.M365FW_LOCK_WAIT_MS ?? LOCK_WAIT_MS),
): DirLock {
  const path = join(dir, LOCK_FILE);
  const token = randomBytes(16).toString('hex');
  const tmp = join(dir, `${LOCK_FILE}.${process.pid}.${token}`);
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const cause = (code && CAUSES[code]) ?? code ?? 'error';
    throw new LockError(`${what} ${dir}: cannot take its lock (${cause})`);
  }
  try {
    writeSync(fd, `${process.pid} ${token}\n`);
  } finally {
    closeSync(fd);
  }
  const deadline = Date.now() + waitMs;
  try {
    for (;;) {
      try {
        linkSync(tmp, path);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const held = readLock(path);
      if (held && held.pid > 0 && !alive(held.pid)) {
        takeOver(path, held.token, token);
        continue;
      }
      // a lock naming no owner (empty, unparsable, pid 0) is not m365fw's own writing: it is
      // waited for like a live one, in case another tool is at work, then taken over, saying so
      if (held && held.pid === 0 && Date.now() >= deadline) {
        process.stderr.write(
          `m365fw: ${path} names no m365fw run (${held.token ? 'unparsable' : 'empty'}); taking it over after waiting ${Math.round(waitMs / 1000)} s\n`,
        );
        takeOver(path, held.token, token);
        continue;
      }
      if (Date.now() >= deadline) {
        throw new LockError(
          `${what} ${dir} is in use by another m365fw run (pid ${held?.pid ?? '?'}, ${LOCK_FILE}); waited ${Math.round(waitMs / 1000)} s`,
        );
      }
      sleepSync(50);
    }
  } finally {
    rmSync(tmp, { force: true });
  }
  removeOrphans(dir);
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    const now = readLock(path);
    if (now?.token === token) unlinkSync(path);
  };
  const done = whileInterruptible(release);
  return {
    release() {
      release();
      done();
    },
  };
}

/** Remove a stale lock, unless someone replaced it in the meantime (then put theirs back). */
function takeOver(path: string, staleToken: string, mine: string): void {
  const aside = `${path}.${process.pid}.${mine}.stale`;
  try {
    renameSync(path, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  const moved = readLock(aside);
  if (moved && moved.token !== staleToken) {
    try {
      linkSync(aside, path);
    } catch {
      /* another run took the free name: the lock is held either way */
    }
  }
  rmSync(aside, { force: true });
}

const HELPER = /^\.m365fw\.lock\.([0-9]{1,10})\.[0-9a-f]{32}(?:\.stale)?$/;

/** Remove the lock helpers of runs that died while they held them (called with the lock held). */
function removeOrphans(dir: string): void {
  for (const name of readdirSync(dir)) {
    const m = HELPER.exec(name);
    if (!m || Number(m[1]) === process.pid || alive(Number(m[1]))) continue;
    try {
      unlinkSync(join(dir, name));
    } catch {
      /* gone already, or not a file: not ours to force */
    }
  }
}
