import { Pieces } from '../../src/io/pieces.js';
import { defineTarget } from '../define.js';
import { buildPanos, panosOptions, PANOS_LIMITS, PANOS_OPTIONS } from './model.js';
import {
  checkInventory,
  InventoryError,
  deleteCommand,
  deleteXpath,
  panosDeletes,
  panosElement,
  scopeXpath,
  type PanosDelete,
  panosInventory,
  panosMoves,
  panosSet,
  panosXml,
} from './render.js';
import { TargetLimitError } from '../types.js';

export { PANOS_LIMITS };
export const PANOS_XML = 'panos-config.xml';
export const PANOS_SET = 'panos-set.txt';
/** The same change as XML API calls (deletes by xpath, then one merging set): for Ansible and scripts. */
export const PANOS_API = 'panos-api.json';

/** What an XML API client does, in order: each delete (type=config action=delete), then the set. */
function apiCalls(config: Parameters<typeof panosElement>[0], deletes: PanosDelete[]): string {
  const xpath = scopeXpath(config.scope);
  return (
    JSON.stringify(
      {
        generator: [],
        scope: config.scope,
        deletes: deletes.map(deleteXpath),
        set: { xpath, element: panosElement(config) },
      },
      null,
      2,
    ) + '\n'
  );
}

export const paloalto = defineTarget({
  name: 'paloalto',
  files: /^(?:panos-(?:config\.xml|set\.txt|api\.json)|edl-[A-Za-z0-9._-]+\.txt)$/,
  summary:
    'PAN-OS config XML and set commands for a vsys, a Panorama device group or shared (addresses, groups, services, URL categories, rules) plus EDL files',
  capabilities: {
    fqdn: true,
    wildcard: true,
    mixedFamilies: true,
    portRanges: true,
    ingress: true,
  },
  limits: PANOS_LIMITS,
  options: PANOS_OPTIONS,
  render(model, values, ctx) {
    const o = panosOptions(values);
    const { config, findings, enforces } = buildPanos(model, o);
    const inventory = panosInventory(config);
    let deletes: PanosDelete[] = [];
    if (ctx.previousInventory) {
      try {
        const where = `${ctx.previousReport ?? 'the previous report.json'}: /targets/paloalto/inventory`;
        const prev = checkInventory(ctx.previousInventory, where, config.scope, o.previousScope);
        deletes = panosDeletes(prev, inventory);
      } catch (e) {
        if (!(e instanceof InventoryError)) throw e;
        throw new TargetLimitError('paloalto', e.message);
      }
    }
    const moves = panosMoves(config, o.move);
    const hash = { line: '#' } as const;
    // EDL files hold one entry per line and nothing else: the firewall reads every line
    const edl = { none: true } as const;
    return {
      inventory: inventory as unknown as Record<string, unknown>,
      enforces,
      enforcement: {
        mode: 'allow-only',
        text: `allow rules${o.move ? (o.move.where === 'top' ? ' at the top of the rulebase' : ` before ${o.move.rule}`) : ' at the bottom of the rulebase (set appends; see --panos-move)'}: traffic outside them is decided by your rules and the interzone default deny`,
        inert: false,
      },
      files: [
        { path: PANOS_XML, body: panosXml(config), comment: { xml: true } },
        // compared without its deletes: the same model against another previous run is no change
        {
          path: PANOS_SET,
          body: panosSet(config, deletes.map(deleteCommand), moves),
          stableBody: panosSet(config, [], moves),
          comment: hash,
        },
        {
          path: PANOS_API,
          body: apiCalls(config, deletes),
          stableBody: apiCalls(config, []),
          comment: { json: ['generator'] },
        },
        { path: 'edl-ipv4.txt', body: config.edl.ipv4.map((x) => `${x}\n`).join(''), comment: edl },
        { path: 'edl-ipv6.txt', body: config.edl.ipv6.map((x) => `${x}\n`).join(''), comment: edl },
        { path: 'edl-urls.txt', body: config.edl.urls.map((x) => `${x}\n`).join(''), comment: edl },
        // a rule's own list, written from its prefixes as bytes (large lists are what this mode is for)
        ...config.ruleEdls.map((x) => ({
          path: x.file,
          body: new Pieces().add(x.rule.prefixes.bytes('\n')).add('\n').done(),
          comment: edl,
        })),
      ],
      findings,
    };
  },
});
