/**
 * The JSON schema of the state directory's state.json. The build turns it into Ajv's standalone
 * validator (scripts/validators.mjs → src/generated/). Only data here.
 */
export const INSTANCES = ['Worldwide', 'China', 'USGovDoD', 'USGovGCCHigh'] as const;
/** The web service's versions: YYYYMMDDNN. */
export const VERSION = /^[0-9]{10}$/;
export const STATE_AJV_OPTIONS = { allErrors: false, strict: true } as const;

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
                // `at` is absent in the markers of 0.3.0: such a marker is read, and not believed
                required: ['version', 'report'],
                properties: {
                  version,
                  report: hex64,
                  at: { type: 'integer', minimum: 0, maximum: 8_640_000_000_000_000 },
                },
              },
            },
          },
        ]),
      ),
    },
  },
} as const;
