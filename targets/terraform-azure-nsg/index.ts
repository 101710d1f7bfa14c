/**
 * The Azure NSG rules as Terraform JSON: one azurerm_network_security_rule per rule, for an NSG
 * named by variables, so one compile can be applied to many NSGs (a module per NSG, or for_each).
 * The rules, priorities, deny rules and budgets are the ARM target's (nsgRuleSet), field for field.
 */
import type { RuleModel } from '../../src/model.js';
import {
  azureNsg,
  NSG_LIMITS,
  NSG_OPTIONS,
  nsgEnforcement,
  nsgOptions,
  nsgRuleSet,
  type NsgRule,
} from '../azure-nsg/index.js';
import { defineTarget, type OptionValues } from '../define.js';
import { TargetLimitError } from '../types.js';

export const TF_FILE = 'm365fw.nsg.tf.json';
/** The azurerm releases whose azurerm_network_security_rule takes these arguments. */
export const AZURERM_MIN_VERSION = '>= 3.0';

/** One Terraform resource: the provider's argument names, set-typed lists sorted and unique. */
export interface TfRule {
  name: string;
  resource_group_name: string;
  network_security_group_name: string;
  description: string;
  priority: number;
  direction: 'Inbound' | 'Outbound';
  access: 'Allow' | 'Deny';
  protocol: 'Tcp' | 'Udp' | '*';
  source_port_range: '*';
  source_address_prefix?: string;
  source_address_prefixes?: string[];
  destination_address_prefix?: string;
  destination_address_prefixes?: string[];
  destination_port_range?: string;
  destination_port_ranges?: string[];
}

/** An ARM security rule in the provider's words (camelCase property → snake_case argument). */
export function tfRule(r: NsgRule): TfRule {
  const p = r.properties;
  const out: TfRule = {
    name: r.name,
    resource_group_name: '${var.resource_group_name}',
    network_security_group_name: '${var.network_security_group_name}',
    description: p.description,
    priority: p.priority,
    direction: p.direction,
    access: p.access,
    protocol: p.protocol,
    source_port_range: p.sourcePortRange,
  };
  if (p.sourceAddressPrefix !== undefined) out.source_address_prefix = p.sourceAddressPrefix;
  if (p.sourceAddressPrefixes) out.source_address_prefixes = p.sourceAddressPrefixes;
  if (p.destinationAddressPrefix !== undefined)
    out.destination_address_prefix = p.destinationAddressPrefix;
  if (p.destinationAddressPrefixes) out.destination_address_prefixes = p.destinationAddressPrefixes;
  if (p.destinationPortRange !== undefined) out.destination_port_range = p.destinationPortRange;
  if (p.destinationPortRanges) out.destination_port_ranges = p.destinationPortRanges;
  return out;
}

export function renderTerraform(model: RuleModel, options: OptionValues<typeof NSG_OPTIONS>) {
  let set: ReturnType<typeof nsgRuleSet>;
  try {
    set = nsgRuleSet(model, options);
  } catch (e) {
    if (e instanceof TargetLimitError)
      throw new TargetLimitError('terraform-azure-nsg', e.message.replace(/^azure-nsg: /, ''));
    throw e;
  }
  const doc = {
    // Terraform JSON's comment property (ignored by Terraform): the writer puts the provenance here
    '//': '',
    terraform: {
      required_providers: {
        azurerm: { source: 'hashicorp/azurerm', version: AZURERM_MIN_VERSION },
      },
    },
    variable: {
      resource_group_name: {
        type: 'string',
        description: 'resource group of the network security group the rules go in',
      },
      network_security_group_name: {
        type: 'string',
        description: 'name of the existing network security group the rules go in',
        default: set.o.name,
      },
    },
    resource: {
      azurerm_network_security_rule: Object.fromEntries(set.rules.map((r) => [r.name, tfRule(r)])),
    },
    output: {
      rule_names: {
        description: 'the security rules m365fw manages in the NSG',
        value: set.rules.map((r) => r.name),
      },
    },
  };
  return JSON.stringify(doc, null, 2) + '\n';
}

export const terraformAzureNsg = defineTarget({
  name: 'terraform-azure-nsg',
  files: /^m365fw\.nsg\.tf\.json$/,
  summary:
    'Terraform JSON: the azure-nsg rules as azurerm_network_security_rule resources for an NSG named by variables',
  capabilities: azureNsg.capabilities,
  limits: NSG_LIMITS,
  // the same --nsg-* options as azure-nsg: one compile gives both the same rules
  options: NSG_OPTIONS,
  render: (model, o) => ({
    files: [
      {
        path: TF_FILE,
        body: renderTerraform(model, o),
        comment: { json: ['//'], join: ' | ' },
      },
    ],
    enforcement: nsgEnforcement(model, nsgOptions(o)),
  }),
});
