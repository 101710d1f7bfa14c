/**
 * The run's inputs: the feed or prefix list and the policy read from their files (or a download
 * held in memory), with what `m365fw fetch` recorded beside a saved feed. The only step before the
 * passes that touches the file system.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CompileOptions, InputInfo, RuleModel } from '../model.js';
import type { PortRange } from '../net/ports.js';
import { parseO365Feed } from '../sources/o365json.js';
import { readPrefixListFile } from '../sources/prefixlist.js';
import { inputFromBytes, namingPath, readInput } from '../sources/read.js';
import { loadPolicy } from '../sources/policy.js';
import { initialState, runPasses, type SourceInput } from '../compile/index.js';
import { parseState, STATE_FILE } from './state.js';

export interface CompileRequest {
  input: string;
  /** the input's bytes when they are in memory (a download): `input` then only names it */
  inputBytes?: Buffer;
  /** the service's version of an input in memory (update knows it from /version) */
  version?: string;
  format?: 'o365' | 'prefixes';
  policy?: string;
  options: CompileOptions;
  tcpPorts?: PortRange[];
  udpPorts?: PortRange[];
  instance?: string;
  onProgress?: (phase: string, done?: number, total?: number) => void;
}

/** Instance and version recorded by `m365fw fetch` next to a feed it saved, if this is that feed. */
function fetchedMeta(path: string, sha256: string): { instance?: string; version?: string } {
  const state = join(dirname(path), STATE_FILE);
  if (!existsSync(state)) return {};
  // validated like every read of the state: its strings reach headers, the report and the plan
  const s = parseState(state);
  for (const [instance, v] of Object.entries(s.instances))
    if (v?.sha256 === sha256) return { instance, version: v.version };
  return {};
}

/** Read the files (input, policy, fetch metadata): the only step that touches the file system. */
export function readSources(req: CompileRequest): SourceInput {
  if (req.format === 'prefixes') {
    req.onProgress?.('read', 0, 1);
    const list = namingPath(req.input, () =>
      readPrefixListFile(req.input, {
        tcpPorts: req.tcpPorts ?? [],
        udpPorts: req.udpPorts ?? [],
        onProgress: (d, t) => req.onProgress?.('read', d, t),
      }),
    );
    return {
      name: list.name,
      input: { file: list.name, sha256: list.sha256, format: 'prefixes' },
      sets: [list.set],
      ...(req.policy ? { policy: loadPolicy(req.policy) } : {}),
    };
  }
  // a feed held in memory (update's download) is named as given; a file by its full path
  const { file, feed } = req.inputBytes
    ? (() => {
        const f = inputFromBytes(req.input, req.inputBytes);
        return { file: f, feed: parseO365Feed(f) };
      })()
    : namingPath(req.input, () => {
        const f = readInput(req.input);
        return { file: f, feed: parseO365Feed(f) };
      });
  const input: InputInfo = { file: file.name, sha256: file.sha256, format: 'o365-json' };
  const fetched = req.inputBytes ? { version: req.version } : fetchedMeta(req.input, file.sha256);
  const instance = req.instance ?? feed.meta.instance ?? fetched.instance;
  const version = feed.meta.version ?? fetched.version;
  if (instance) input.instance = instance;
  if (version) input.version = version;
  return {
    name: file.name,
    input,
    sets: feed.sets,
    ...(req.policy ? { policy: loadPolicy(req.policy) } : {}),
  };
}

/** Read, then run every pass: everything up to the rule model. */
export function compileModel(req: CompileRequest): RuleModel {
  return runPasses(initialState(readSources(req), req.options, req.onProgress));
}
