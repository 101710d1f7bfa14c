/**
 * The report.json an earlier run left: what --max-removal, the stale-file removal and the targets'
 * device removals are computed from. It is untrusted input (anyone can edit it), so it is checked
 * against a schema; one that cannot be read is a refusal, never "no previous run".
 */
import { createRequire } from 'node:module';
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GuardError } from '../errors.js';
import { terminalText } from '../escape.js';
import { REPORT_FILE, type Report } from './report.js';

const name = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' };
const hex64 = { type: 'string', pattern: '^[0-9a-f]{64}$' };
const str = { type: 'string', maxLength: 4096 };
const strs = { type: 'array', items: str };
const prefix = { type: 'string', pattern: '^[0-9a-f.:]{2,39}/[0-9]{1,3}$' };

export const REPORT_SCHEMA = {
  type: 'object',
  required: ['tool', 'input', 'targets', 'rules', 'urlRules', 'endpointSets', 'findings'],
  properties: {
    tool: {
      type: 'object',
      required: ['name', 'version'],
      properties: {
        name: { const: 'm365fw' },
        version: { type: 'string', pattern: '^[0-9A-Za-z.+-]{1,40}$' },
      },
    },
    input: {
      type: 'object',
      required: ['file', 'sha256', 'format'],
      properties: {
        file: str,
        sha256: hex64,
        format: { enum: ['o365-json', 'prefixes'] },
        instance: { type: 'string', pattern: '^[A-Za-z0-9]{1,32}$' },
        version: { type: 'string', pattern: '^[0-9]{1,16}$' },
      },
    },
    options: { type: 'object' },
    targets: {
      type: 'object',
      propertyNames: { pattern: '^[a-z0-9][a-z0-9-]{0,39}$' },
      additionalProperties: {
        type: 'object',
        required: ['artifacts'],
        properties: {
          artifacts: {
            type: 'array',
            items: {
              type: 'object',
              required: ['path', 'sha256', 'contentSha256', 'bytes'],
              properties: {
                path: name,
                sha256: hex64,
                contentSha256: hex64,
                bytes: { type: 'integer', minimum: 0 },
              },
            },
          },
          inventory: { type: 'object' },
          enforces: {
            type: 'object',
            required: ['rules', 'names'],
            properties: {
              rules: { type: 'array', items: { type: 'string', pattern: '^[a-z0-9_]{1,64}$' } },
              names: strs,
            },
          },
        },
      },
    },
    rules: {
      type: 'array',
      items: {
        type: 'object',
        required: ['key', 'family', 'protocol', 'ports', 'prefixes'],
        properties: {
          key: { type: 'string', pattern: '^[a-z0-9_]{1,64}$' },
          family: { enum: [4, 6] },
          protocol: { enum: ['tcp', 'udp', 'any'] },
          ports: str,
          prefixes: { type: 'array', items: prefix },
          direction: { enum: ['ingress'] },
          local: { oneOf: [{ const: 'any' }, { type: 'array', items: prefix }] },
        },
      },
    },
    urlRules: {
      type: 'array',
      items: {
        type: 'object',
        required: ['key', 'protocol', 'ports', 'entries'],
        properties: {
          key: { type: 'string', pattern: '^[a-z0-9_]{1,64}$' },
          protocol: { enum: ['tcp', 'udp'] },
          ports: str,
          entries: {
            type: 'array',
            items: {
              type: 'object',
              required: ['host', 'kind', 'setIds'],
              properties: { host: str, kind: str, setIds: strs },
            },
          },
        },
      },
    },
    endpointSets: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'serviceArea', 'category', 'ips', 'urls', 'tcpPorts', 'udpPorts'],
        properties: {
          id: str,
          serviceArea: str,
          category: str,
          ips: strs,
          urls: strs,
          tcpPorts: str,
          udpPorts: str,
          required: { type: 'boolean' },
          expressRoute: { type: 'boolean' },
        },
      },
    },
    findings: {
      type: 'array',
      items: {
        type: 'object',
        required: ['kind', 'detail'],
        properties: { kind: str, detail: str },
      },
    },
  },
} as const;

let validate:
  | (((x: unknown) => boolean) & { errors?: { instancePath: string; message?: string }[] | null })
  | undefined;

/** Check a parsed report; returns it typed, or throws naming where it is wrong. */
export function checkReport(doc: unknown, where: string): Report {
  if (!validate) {
    const Ajv = createRequire(import.meta.url)('ajv') as typeof import('ajv').default;
    validate = new Ajv({ allErrors: false, strict: false }).compile(REPORT_SCHEMA);
  }
  if (!validate(doc)) {
    const e = validate.errors?.[0];
    throw new GuardError(
      `${where} is not an m365fw report (${terminalText(`${e?.instancePath || '/'} ${e?.message ?? 'invalid'}`, 200)}); refusing to judge the change against it: move it away or restore it`,
    );
  }
  return doc as Report;
}

/** Read the report.json a previous run left in a directory: undefined when there is none. */
export function readPreviousReport(dir: string): Report | undefined {
  const p = join(dir, REPORT_FILE);
  if (!existsSync(p)) return undefined;
  if (!lstatSync(p).isFile())
    throw new GuardError(`${p} is not a regular file; refusing to use it`);
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(p, 'utf8'));
  } catch {
    throw new GuardError(
      `${p} is not valid JSON; refusing to judge the change against it: move it away or restore it`,
    );
  }
  return checkReport(doc, p);
}

/** The files an earlier run wrote (every target's artifacts and the report itself). */
export function previousFiles(r: Report | undefined): string[] {
  if (!r) return [];
  return [
    ...new Set([
      REPORT_FILE,
      ...Object.values(r.targets).flatMap((t) => t.artifacts.map((a) => a.path)),
    ]),
  ].sort();
}
