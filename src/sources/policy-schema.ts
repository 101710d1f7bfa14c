/**
 * JSON schema of the YAML policy file; unknown keys are errors everywhere. The build turns it into
 * Ajv's standalone validator (scripts/validators.mjs → src/generated/). Only data here.
 */
export const POLICY_AJV_OPTIONS = {
  allErrors: false,
  strict: true,
  strictRequired: false,
} as const;
const ports = {
  oneOf: [
    { type: 'string' },
    { type: 'integer' },
    { type: 'array', items: { oneOf: [{ type: 'integer' }, { type: 'string' }] } },
  ],
};
const reason = { type: 'string', minLength: 1, maxLength: 500 };

export const POLICY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    endpointSets: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'serviceArea', 'category', 'reason'],
        properties: {
          id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$' },
          serviceArea: { type: 'string' },
          serviceAreaDisplayName: { type: 'string' },
          category: { enum: ['Optimize', 'Allow', 'Default'] },
          required: { type: 'boolean' },
          expressRoute: { type: 'boolean' },
          tcpPorts: ports,
          udpPorts: ports,
          ips: { type: 'array', items: { type: 'string' } },
          urls: { type: 'array', items: { type: 'string' } },
          notes: { type: 'string' },
          reason,
        },
      },
    },
    ingress: {
      type: 'object',
      additionalProperties: false,
      properties: {
        local: { type: 'array', minItems: 1, items: { type: 'string' } },
        tcpPorts: ports,
        udpPorts: ports,
        presets: { type: 'array', minItems: 1, items: { type: 'string' } },
        reason,
      },
    },
    exclude: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['reason'],
        oneOf: [{ required: ['prefix'] }, { required: ['url'] }],
        properties: {
          prefix: { type: 'string' },
          url: { type: 'string' },
          ids: {
            type: 'array',
            minItems: 1,
            items: { oneOf: [{ type: 'integer', minimum: 0 }, { type: 'string' }] },
          },
          reason,
        },
      },
    },
  },
} as const;
