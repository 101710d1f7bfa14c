/**
 * The Terraform target in-process: the whole document of a small feed, each ARM property in the
 * provider's argument name (both directions, the deny rule), and the NSG refusals under its own
 * name. (terraform.test.ts validates whole files with terraform's own schema rules.)
 */
import { describe, expect, it } from 'vitest';
import { compile, readFeed } from '../src/index.js';
import { denyRules, nsgOptions, nsgRules } from '../targets/azure-nsg/index.js';
import {
  AZURERM_MIN_VERSION,
  renderTerraform,
  terraformAzureNsg,
  TF_FILE,
  tfRule,
} from '../targets/terraform-azure-nsg/index.js';

const FEED = [
  {
    id: 1,
    serviceArea: 'Exchange',
    category: 'Optimize',
    required: true,
    tcpPorts: '443,80',
    ips: ['198.51.100.0/24', '203.0.113.0/25'],
  },
];
const model = () =>
  compile(readFeed(FEED, { name: 'tf.json' }), { allowImplausible: ['documentation'] });
const raw = (o: Record<string, string> = {}) => terraformAzureNsg.parseOptions(o) as never;

describe('terraform-azure-nsg', () => {
  it('the whole document: provider, variables, one resource per rule, the rule names', () => {
    const doc = JSON.parse(
      renderTerraform(model(), raw({ nsgName: 'nsg-a', nsgDeny: 'internet' })),
    );
    expect(doc).toEqual({
      '//': '',
      terraform: {
        required_providers: { azurerm: { source: 'hashicorp/azurerm', version: '>= 3.0' } },
      },
      variable: {
        resource_group_name: {
          type: 'string',
          description: 'resource group of the network security group the rules go in',
        },
        network_security_group_name: {
          type: 'string',
          description: 'name of the existing network security group the rules go in',
          default: 'nsg-a',
        },
      },
      resource: {
        azurerm_network_security_rule: {
          m365_v4_tcp_80_443: {
            name: 'm365_v4_tcp_80_443',
            resource_group_name: '${var.resource_group_name}',
            network_security_group_name: '${var.network_security_group_name}',
            description: 'sets 1 Exchange Optimize required',
            priority: 100,
            direction: 'Outbound',
            access: 'Allow',
            protocol: 'Tcp',
            source_port_range: '*',
            source_address_prefix: 'VirtualNetwork',
            destination_address_prefixes: ['198.51.100.0/24', '203.0.113.0/25'],
            destination_port_ranges: ['80', '443'],
          },
          m365_deny_internet: {
            name: 'm365_deny_internet',
            resource_group_name: '${var.resource_group_name}',
            network_security_group_name: '${var.network_security_group_name}',
            description: 'm365fw: deny every other outbound flow to the Internet',
            priority: 4096,
            direction: 'Outbound',
            access: 'Deny',
            protocol: '*',
            source_port_range: '*',
            source_address_prefix: 'VirtualNetwork',
            destination_address_prefix: 'Internet',
            destination_port_range: '*',
          },
        },
      },
      output: {
        rule_names: {
          description: 'the security rules m365fw manages in the NSG',
          value: ['m365_v4_tcp_80_443', 'm365_deny_internet'],
        },
      },
    });
    expect(AZURERM_MIN_VERSION).toBe('>= 3.0');
  });

  it('Inbound: the feed as the sources, the local side as the one destination', () => {
    const o = nsgOptions(raw({ nsgDirection: 'Inbound', nsgSource: '10.1.0.0/16' }));
    const [r] = nsgRules(model().rules, o).map(tfRule);
    expect(r).toMatchObject({
      direction: 'Inbound',
      source_address_prefixes: ['198.51.100.0/24', '203.0.113.0/25'],
      destination_address_prefix: '10.1.0.0/16',
    });
    expect(r.source_address_prefix).toBeUndefined();
    expect(r.destination_address_prefixes).toBeUndefined();
    const [deny] = denyRules({ ...o, deny: 'all' }, [4]).map(tfRule);
    expect(deny).toMatchObject({
      name: 'm365_deny_all_v4',
      source_address_prefix: '*',
      destination_address_prefix: '10.1.0.0/16',
      destination_port_range: '*',
    });
    expect(deny.destination_port_ranges).toBeUndefined();
    // an empty tag still reaches the argument (absent and "" differ)
    const empty = tfRule({
      name: 'x',
      properties: {
        description: '',
        protocol: '*',
        access: 'Allow',
        priority: 100,
        direction: 'Outbound',
        sourcePortRange: '*',
        sourceAddressPrefix: '',
        destinationAddressPrefix: '',
        destinationPortRange: '',
      },
    });
    expect(empty).toMatchObject({
      source_address_prefix: '',
      destination_address_prefix: '',
      destination_port_range: '',
    });
  });

  it('refusals carry its own name, not azure-nsg`s', () => {
    const render = () => renderTerraform(model(), raw({ nsgSource: 'fd00::/8' }));
    expect(render).toThrow(
      'terraform-azure-nsg: --nsg-source has no IPv4 prefix for rule v4_tcp_80_443; add one (comma-separated), pass --no-ipv4, or give a service tag',
    );
    try {
      render();
    } catch (e) {
      expect((e as Error).message.startsWith('terraform-azure-nsg: azure-nsg')).toBe(false);
      expect((e as { target?: string }).target).toBe('terraform-azure-nsg');
    }
    // an error that is not a limit goes through as it is
    expect(() => renderTerraform({ ...model(), rules: null } as never, raw())).toThrow(TypeError);
  });

  it('the file: its name and where the provenance goes', () => {
    const out = terraformAzureNsg.render(model(), terraformAzureNsg.parseOptions({}), {
      provenance: [],
    });
    expect(out.files.map((f) => [f.path, f.comment])).toEqual([
      [TF_FILE, { json: ['//'], join: ' | ' }],
    ]);
    expect(TF_FILE).toBe('m365fw.nsg.tf.json');
    expect(out.files[0].body).toMatch(/\n$/);
    expect(out.files[0].body).toBe(renderTerraform(model(), raw()));
  });
});
