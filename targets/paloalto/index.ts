import { Pieces, piecesArtifact } from '../../src/io/pieces.js';
import type { Target } from '../types.js';
import { buildPanos, panosOptions, PANOS_LIMITS } from './model.js';
import {
  checkInventory,
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
import { checked, parseCount } from '../../src/values.js';

export { PANOS_LIMITS };
export const PANOS_XML = 'panos-config.xml';
export const PANOS_SET = 'panos-set.txt';
/** The same change as XML API calls (deletes by xpath, then one merging set): for Ansible and scripts. */
export const PANOS_API = 'panos-api.json';

/** What an XML API client does, in order: each delete (type=config action=delete), then the set. */
function apiCalls(
  config: Parameters<typeof panosElement>[0],
  header: string[],
  deletes: PanosDelete[],
): string {
  const xpath = scopeXpath(config.scope);
  return (
    JSON.stringify(
      {
        generator: header,
        scope: config.scope,
        deletes: deletes.map(deleteXpath),
        set: { xpath, element: panosElement(config) },
      },
      null,
      2,
    ) + '\n'
  );
}

export const paloalto: Target = {
  name: 'paloalto',
  summary:
    'PAN-OS config XML and set commands for a vsys, a Panorama device group or shared (addresses, groups, services, URL categories, rules) plus EDL files',
  capabilities: { fqdn: true, wildcard: true, mixedFamilies: true, portRanges: true },
  limits: PANOS_LIMITS,
  options: [
    {
      flags: '--panos-scope <scope>',
      description:
        'where objects and rules go: vsys:NAME (a firewall, default vsys:vsys1), device-group:NAME or shared (Panorama)',
    },
    {
      flags: '--panos-rulebase <which>',
      description: 'Panorama scopes: the pre (default) or post rulebase',
      choices: ['pre', 'post'],
    },
    {
      flags: '--panos-vsys <name>',
      description: 'vsys the objects go in (the same as --panos-scope vsys:NAME)',
    },
    {
      flags: '--panos-from-zone <zones>',
      description: 'source zone(s), comma-separated',
      defaultValue: 'any',
    },
    {
      flags: '--panos-to-zone <zones>',
      description: 'destination zone(s), comma-separated',
      defaultValue: 'any',
    },
    {
      flags: '--panos-source <list>',
      description: 'source address(es) or object names',
      defaultValue: 'any',
    },
    {
      flags: '--panos-edl-url-base <url>',
      description: 'where you host the edl-*.txt files: adds external-list objects',
    },
    {
      flags: '--panos-edl-max-entries <n>',
      description: 'entries one EDL may hold on your platform',
      defaultValue: String(PANOS_LIMITS.edlEntries),
      parse: checked((v) => parseCount('--panos-edl-max-entries', v, 1, 1_000_000_000)),
    },
    {
      flags: '--panos-edl-max-lists <n>',
      description: 'EDLs your platform takes',
      defaultValue: String(PANOS_LIMITS.edlLists),
      parse: checked((v) => parseCount('--panos-edl-max-lists', v, 1, 1_000_000_000)),
    },
    {
      flags: '--panos-max-address-objects <n>',
      description: 'address objects the config may create',
      defaultValue: String(PANOS_LIMITS.addressObjects),
      parse: checked((v) => parseCount('--panos-max-address-objects', v, 1, 1_000_000_000)),
    },
    {
      flags: '--panos-move <where>',
      description:
        'add move commands placing the rules: top, or before:RULE (e.g. before your deny-all rule)',
    },
    {
      flags: '--panos-ip-edl',
      description:
        "each rule's prefixes in an EDL of its own (edl-v4-<ports>.txt) instead of address objects; for large lists, needs --panos-edl-url-base",
    },
  ],
  render(model, ctx) {
    const o = panosOptions(ctx.options);
    const { config, findings, enforces } = buildPanos(model, o);
    const inventory = panosInventory(config);
    let deletes: PanosDelete[] = [];
    if (ctx.previousInventory) {
      try {
        deletes = panosDeletes(checkInventory(ctx.previousInventory), inventory);
      } catch (e) {
        throw new TargetLimitError('paloalto', (e as Error).message);
      }
    }
    const moves = panosMoves(config, o.move);
    // EDL files hold one entry per line and nothing else: the firewall reads every line
    return {
      inventory: inventory as unknown as Record<string, unknown>,
      enforces,
      artifacts: [
        { path: PANOS_XML, content: panosXml(config, ctx.header) },
        // compared without its deletes: the same model against another previous run is no change
        {
          path: PANOS_SET,
          content: panosSet(config, ctx.header, deletes.map(deleteCommand), moves),
          stableContent: panosSet(config, ctx.header, [], moves),
        },
        {
          path: PANOS_API,
          content: apiCalls(config, ctx.header, deletes),
          stableContent: apiCalls(config, ctx.header, []),
        },
        { path: 'edl-ipv4.txt', content: config.edl.ipv4.map((x) => `${x}\n`).join('') },
        { path: 'edl-ipv6.txt', content: config.edl.ipv6.map((x) => `${x}\n`).join('') },
        { path: 'edl-urls.txt', content: config.edl.urls.map((x) => `${x}\n`).join('') },
        // a rule's own list, written from its prefixes as bytes (large lists are what this mode is for)
        ...config.ruleEdls.map((x) =>
          piecesArtifact(x.file, new Pieces().add(x.rule.prefixes.bytes('\n')).add('\n').done()),
        ),
      ],
      findings,
    };
  },
};
