/**
 * The JSON schema of report.json as a later run reads it back (src/report/previous.ts). The build
 * turns it into Ajv's standalone validator (scripts/validators.mjs → src/generated/): no schema is
 * compiled at run time. Only data here: this module is imported before the validators exist.
 */
export const REPORT_AJV_OPTIONS = { allErrors: false, strict: false } as const;

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
        version: { type: 'string', pattern: '^[0-9]{10}$' },
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
          enforcement: {
            type: 'object',
            required: ['mode', 'text', 'inert'],
            properties: {
              mode: { type: 'string', pattern: '^[a-z-]{1,32}$' },
              text: { type: 'string', maxLength: 1000 },
              inert: { type: 'boolean' },
            },
          },
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
