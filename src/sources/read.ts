import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { InputError } from '../errors.js';

export interface InputFile { name: string; path: string; text: string; sha256: string; bytes: Buffer }

/** Read an input file as UTF-8 (a leading BOM is dropped); named by file name only. */
export function readInput(path: string): InputFile {
  const name = basename(path);
  let buf: Buffer;
  try { buf = readFileSync(path); } catch (e) {
    throw new InputError(name, `cannot read input (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const sha256 = createHash('sha256').update(buf).digest('hex');
  let text = buf.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return { name, path, text, sha256, bytes: buf };
}
