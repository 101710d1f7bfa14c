/**
 * The state directory of fetch and update: the client request id, and per instance the feed last
 * downloaded (version, sha256 of the saved file, query). It is untrusted on every read: checked
 * against a schema, and the saved feed against its recorded hash. Runs that share it take its lock.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { terminalText } from '../escape.js';
import type { DirLock } from '../io/lock.js';
import { openOutputDir, writeArtifactsAtomically } from '../io/write.js';
import type { Artifact } from '../model.js';

export const INSTANCES = ['Worldwide', 'China', 'USGovDoD', 'USGovGCCHigh'] as const;
export type Instance = (typeof INSTANCES)[number];
export const STATE_FILE = 'state.json';
export const feedFileName = (instance: string) => `endpoints-${instance}.json`;
/** The web service's versions: YYYYMMDDNN. */
export const VERSION = /^[0-9]{10}$/;

export class StateError extends Error {}

export interface InstanceState {
  version: string;
  sha256: string;
  query: string;
  /** update: this version was compiled against the output whose report has this sha256, with no change */
  unchanged?: { version: string; report: string };
}
export interface FetchState {
  clientRequestId: string;
  instances: Partial<Record<Instance, InstanceState>>;
}

const hex64 = { type: 'string', pattern: '^[0-9a-f]{64}$' };
const version = { type: 'string', pattern: VERSION.source };
export const STATE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['clientRequestId', 'instances'],
  properties: {
    clientRequestId: {
      type: 'string',
      pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$',
    },
    instances: {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(
        INSTANCES.map((i) => [
          i,
          {
            type: 'object',
            additionalProperties: false,
            required: ['version', 'sha256', 'query'],
            properties: {
              version,
              sha256: hex64,
              query: { type: 'string', pattern: '^[A-Za-z0-9=&%._-]{0,600}$' },
              unchanged: {
                type: 'object',
                additionalProperties: false,
                required: ['version', 'report'],
                properties: { version, report: hex64 },
              },
            },
          },
        ]),
      ),
    },
  },
} as const;

let validate:
  | (((x: unknown) => boolean) & { errors?: { instancePath: string; message?: string }[] | null })
  | undefined;

/** An open state directory: its lock is held until release(). */
export interface StateDir {
  dir: string;
  state: FetchState;
  lock: DirLock;
  /** The saved feed of an instance when it is there and matches its recorded sha256. */
  savedFeed(instance: Instance): { path: string; text: string } | undefined;
  /** Replace state.json (and any files given with it) in one transaction. */
  save(files?: Artifact[]): void;
  release(): void;
}

export const sha256 = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

export function parseState(path: string): FetchState {
  if (!lstatSync(path).isFile()) throw new StateError(`${path} is not a regular file`);
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new StateError(
      `${path} is not valid JSON; fix or remove it (the next fetch downloads again)`,
    );
  }
  if (!validate) {
    const Ajv = createRequire(import.meta.url)('ajv') as typeof import('ajv').default;
    validate = new Ajv({ allErrors: false, strict: true }).compile(STATE_SCHEMA);
  }
  if (!validate(doc)) {
    const e = validate.errors?.[0];
    throw new StateError(
      `${path} is not an m365fw state file (${terminalText(`${e?.instancePath || '/'} ${e?.message ?? 'invalid'}`, 200)}); fix or remove it`,
    );
  }
  return doc as FetchState;
}

/** Lock and load a state directory (created with a new client request id on first use). */
export function openStateDir(dir: string): StateDir {
  const lock = openOutputDir(dir, 'state directory');
  try {
    const path = join(dir, STATE_FILE);
    const state: FetchState = existsSync(path)
      ? parseState(path)
      : { clientRequestId: randomUUID(), instances: {} };
    const sd: StateDir = {
      dir,
      state,
      lock,
      savedFeed(instance) {
        const rec = state.instances[instance];
        const p = join(dir, feedFileName(instance));
        if (!rec || !existsSync(p) || !lstatSync(p).isFile()) return undefined;
        const text = readFileSync(p, 'utf8');
        return sha256(text) === rec.sha256 ? { path: p, text } : undefined;
      },
      save(files = []) {
        const sorted = {
          clientRequestId: state.clientRequestId,
          instances: Object.fromEntries(
            Object.entries(state.instances).sort(([a], [b]) => (a < b ? -1 : 1)),
          ),
        };
        writeArtifactsAtomically(
          dir,
          [...files, { path: STATE_FILE, content: JSON.stringify(sorted, null, 2) + '\n' }],
          { locked: true },
        );
      },
      release: () => lock.release(),
    };
    if (!existsSync(path)) sd.save();
    return sd;
  } catch (e) {
    lock.release();
    throw e;
  }
}
