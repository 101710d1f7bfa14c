import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, constants } from 'node:fs';
import { basename, isAbsolute } from 'node:path';
import { CAUSES, InputError } from '../errors.js';

export interface InputFile {
  name: string;
  path: string;
  text: string;
  sha256: string;
  bytes: Buffer;
}

/** Bounds on every input: a FIFO, a device or an endless stream is refused or cut off with an error. */
export const INPUT_LIMITS = {
  /** bytes of a feed or policy file (a real feed is under 1 MiB) */
  maxBytes: 64 << 20,
  /** endpoint sets in one feed (a real feed has a few hundred) */
  maxSets: 10_000,
  /** nesting of JSON arrays and objects (a feed needs 3) */
  maxDepth: 32,
} as const;

const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Why a read failed, in words: "cannot read it: no such file" (the code when there are no words). */
export function readFailure(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  const why = code === 'ENOENT' ? 'no such file' : code && CAUSES[code];
  return `cannot read it: ${why || code || 'error'}`;
}

/**
 * A location in the file at `path` ("name" or "name:line:col", as parsers give it) with the full
 * path in place of the name: absolute, but not normalised ("sub/../x" is what was opened, and sub
 * may not exist). Any other text is returned as it is.
 */
export function withFullPath(path: string, where: string): string {
  const base = basename(path);
  if (path === '-' || (where !== base && !where.startsWith(`${base}:`))) return where;
  return (isAbsolute(path) ? path : `${process.cwd()}/${path}`) + where.slice(base.length);
}

/**
 * Run fn, which reads and parses the file at `path`: its errors name the file by its full path
 * (the report's provenance keeps the file name alone, so output does not depend on where it ran).
 */
export function namingPath<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof InputError) || path === '-') throw e;
    const base = basename(path);
    if (e.file !== base && !e.file.startsWith(`${base}:`)) throw e;
    // absolute, but not normalised: "sub/../x" is what was opened, and sub may not exist
    const full = isAbsolute(path) ? path : `${process.cwd()}/${path}`;
    throw new InputError(full + e.file.slice(base.length), e.what, e.setId, e.field, e.value);
  }
}

/** Read all of a file descriptor, refusing more than max bytes. */
function readBounded(fd: number, name: string, max: number): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const buf = Buffer.allocUnsafe(Math.min(1 << 20, max + 1 - total));
    let n: number;
    try {
      n = readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      // a non-blocking stdin: wait for data
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') {
        sleepSync(5);
        continue;
      }
      throw new InputError(name, readFailure(e));
    }
    if (n === 0) break;
    total += n;
    if (total > max) throw new InputError(name, `input larger than ${max} bytes; refusing it`);
    chunks.push(buf.subarray(0, n));
  }
  return Buffer.concat(chunks, total);
}

/**
 * Open an input for reading: a regular file (never a FIFO, a device or a directory, which could
 * block or never end), opened without following a FIFO's open semantics (O_NONBLOCK).
 */
export function openRegularFile(path: string, name: string): number {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw new InputError(name, readFailure(e));
  }
  const st = fstatSync(fd);
  if (!st.isFile()) {
    closeSync(fd);
    throw new InputError(
      name,
      `not a regular file (${st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isDirectory() ? 'a directory' : 'a special file'}); give a file, or - for standard input`,
    );
  }
  return fd;
}

/** Read an input as UTF-8 (a leading BOM is dropped); "-" is standard input. Named by file name only. */
export function readInput(path: string, max: number = INPUT_LIMITS.maxBytes): InputFile {
  const stdin = path === '-';
  const name = stdin ? 'stdin' : basename(path);
  const fd = stdin ? 0 : openRegularFile(path, name);
  let buf: Buffer;
  try {
    buf = readBounded(fd, name, max);
  } finally {
    if (!stdin) closeSync(fd);
  }
  return inputFromBytes(name, buf, path);
}

/** An input held in memory (the library's readFeed and readPolicy), bounded like a file. */
export function inputFromBytes(
  name: string,
  buf: Buffer,
  path = name,
  max: number = INPUT_LIMITS.maxBytes,
): InputFile {
  if (buf.length > max)
    throw new InputError(
      name,
      `larger than ${max} bytes; refusing it (a feed is a few hundred KB)`,
    );
  const sha256 = createHash('sha256').update(buf).digest('hex');
  let text = buf.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return { name, path, text, sha256, bytes: buf };
}
