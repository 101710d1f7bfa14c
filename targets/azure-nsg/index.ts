import type { Rule, RuleModel } from '../../src/model.js';
import { portsText } from '../../src/net/ports.js';
import { provenanceText } from '../common.js';
import {
  defineTarget,
  option,
  type Enforcement,
  type OptionValues,
  type RenderResult,
} from '../define.js';
import { TargetLimitError } from '../types.js';
import { looksLikeAddress, parseCidr, ValueError } from '../../src/values.js';

/** Azure NSG limits (per NSG unless said otherwise). */
export const NSG_LIMITS = {
  rulesPerNsg: 1000,
  destinationPrefixesPerNsg: 4000,
  sourcePrefixesPerNsg: 4000,
  priorityMin: 100,
  priorityMax: 4096,
  nameLength: 80,
  descriptionLength: 140,
} as const;

export const NSG_FILE = 'azure-nsg.json';
export const NSG_API_VERSION = '2025-07-01';
const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,78}[A-Za-z0-9_])?$/;
/** A service tag (VirtualNetwork, Internet, AzureCloud.WestEurope) or a CIDR prefix. */
const ENDPOINT =
  /^(?:[A-Za-z][A-Za-z0-9.]{0,79}|\*|[0-9.]+\/[0-9]{1,2}|[0-9A-Fa-f:]+\/[0-9]{1,3})$/;

/**
 * The service tags an NSG rule takes as an address (Microsoft Learn, "Virtual network service
 * tags": the table of tags for network security groups). The virtual tags stand alone; the others
 * also take a region (Storage.WestEurope). Azure reads them in any case; written as listed here.
 */
export const SERVICE_TAGS = [
  'VirtualNetwork',
  'AzureLoadBalancer',
  'Internet',
  'ActionGroup',
  'ApiManagement',
  'AppConfiguration',
  'AppService',
  'AppServiceManagement',
  'AzureActiveDirectory',
  'AzureActiveDirectoryDomainServices',
  'AzureAdvancedThreatProtection',
  'AzureArcInfrastructure',
  'AzureAttestation',
  'AzureBackup',
  'AzureBotService',
  'AzureCloud',
  'AzureCognitiveSearch',
  'AzureConnectors',
  'AzureContainerAppsService',
  'AzureContainerRegistry',
  'AzureCosmosDB',
  'AzureDatabricks',
  'AzureDataExplorerManagement',
  'AzureDataLake',
  'AzureDevOps',
  'AzureDigitalTwins',
  'AzureEventGrid',
  'AzureFrontDoor.Backend',
  'AzureFrontDoor.FirstParty',
  'AzureFrontDoor.Frontend',
  'AzureHealthcareAPIs',
  'AzureInformationProtection',
  'AzureIoTHub',
  'AzureKeyVault',
  'AzureMachineLearning',
  'AzureMonitor',
  'AzureOpenDatasets',
  'AzurePlatformDNS',
  'AzurePlatformIMDS',
  'AzurePlatformLKM',
  'AzureResourceManager',
  'AzureSignalR',
  'AzureSiteRecovery',
  'AzureSphere',
  'AzureSpringCloud',
  'AzureStack',
  'AzureTrafficManager',
  'AzureUpdateDelivery',
  'BatchNodeManagement',
  'ChaosStudio',
  'CognitiveServicesFrontend',
  'CognitiveServicesManagement',
  'DataFactory',
  'DataFactoryManagement',
  'Dynamics365ForMarketingEmail',
  'Dynamics365BusinessCentral',
  'EOPExternalPublishedIPs',
  'EventHub',
  'GatewayManager',
  'GuestAndHybridManagement',
  'HDInsight',
  'LogicApps',
  'LogicAppsManagement',
  'M365ManagementActivityApi',
  'M365ManagementActivityApiWebhook',
  'MicrosoftAzureFluidRelay',
  'MicrosoftCloudAppSecurity',
  'MicrosoftContainerRegistry',
  'MicrosoftDefenderForEndpoint',
  'MicrosoftPurviewPolicyDistribution',
  'PowerBI',
  'PowerPlatformInfra',
  'PowerPlatformPlex',
  'PowerQueryOnline',
  'Scuba',
  'SerialConsole',
  'ServiceBus',
  'ServiceFabric',
  'Sql',
  'SqlManagement',
  'Storage',
  'StorageSyncService',
  'StorageMover',
  'WindowsAdminCenter',
  'WindowsVirtualDesktop',
] as const;
const VIRTUAL_TAGS = new Set(['virtualnetwork', 'azureloadbalancer', 'internet']);
const TAG_BY_LOWER = new Map(SERVICE_TAGS.map((t) => [t.toLowerCase(), t]));

/** A service tag as Azure takes it ("virtualnetwork" → VirtualNetwork, "Storage.WestEurope"), or undefined. */
export function serviceTag(text: string): string | undefined {
  if (text === '*') return '*';
  const exact = TAG_BY_LOWER.get(text.toLowerCase());
  if (exact) return exact;
  const m = /^(.+)\.([A-Za-z][A-Za-z0-9]{1,39})$/.exec(text);
  const base = m && TAG_BY_LOWER.get(m[1].toLowerCase());
  return base && !VIRTUAL_TAGS.has(m[1].toLowerCase()) ? `${base}.${m[2]}` : undefined;
}

export interface NsgOptions {
  name: string;
  priorityStart: number;
  priorityStep: number;
  source: string;
  direction: 'Outbound' | 'Inbound';
  deny?: 'internet' | 'all';
  /** --nsg-source as prefixes, per family (else `source` is a service tag) */ sources?: Partial<
    Record<4 | 6, string>
  >;
}

export const NSG_OPTIONS = {
  name: option.text(
    '--nsg-name <name>',
    'NSG name (the template parameter default)',
    'm365-egress',
    (n) =>
      NAME.test(n)
        ? undefined
        : '1-80 letters, digits, "_", "." or "-", starting with a letter or digit',
  ),
  priorityStart: option.integer(
    '--nsg-priority-start <n>',
    'priority of the first rule (100-4096)',
    100,
    NSG_LIMITS.priorityMin,
    NSG_LIMITS.priorityMax,
  ),
  priorityStep: option.integer('--nsg-priority-step <n>', 'gap between rule priorities', 1, 1, 100),
  source: option.text(
    '--nsg-source <prefix>',
    'the local side: a service tag or CIDR',
    'VirtualNetwork',
  ),
  direction: option.choice(
    '--nsg-direction <dir>',
    'Outbound (to Microsoft 365) or Inbound',
    ['Outbound', 'Inbound'] as const,
    'Outbound',
  ),
  deny: option.optionalChoice(
    '--nsg-deny <scope>',
    'end with a deny rule at priority 4096: internet (the Internet service tag) or all (*); without it AllowInternetOutBound lets everything else through',
    ['internet', 'all'] as const,
  ),
};

/** The options as the rules need them: --nsg-source read as a service tag or one prefix per family. */
export function nsgOptions(o: OptionValues<typeof NSG_OPTIONS>): NsgOptions {
  const strict = <T>(f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (e instanceof ValueError) throw new TargetLimitError('azure-nsg', e.message);
      throw e;
    }
  };
  // a service tag serves both families; prefixes: at most one per family (an NSG rule holds one family)
  const sources: Partial<Record<4 | 6, string>> = {};
  let tag: string | undefined;
  for (const item of o.source.split(',')) {
    if (looksLikeAddress(item)) {
      const p = strict(() => parseCidr('--nsg-source', item));
      if (sources[p.family])
        throw new TargetLimitError(
          'azure-nsg',
          `--nsg-source: two IPv${p.family} prefixes; give at most one per family`,
        );
      sources[p.family] = p.text;
    } else if (serviceTag(item) !== undefined && tag === undefined) tag = serviceTag(item);
    else
      throw new TargetLimitError(
        'azure-nsg',
        `--nsg-source ${JSON.stringify(item)}: ${tag === undefined && ENDPOINT.test(item) ? 'not a service tag Azure knows (VirtualNetwork, AzureLoadBalancer, Internet, AzureCloud, Storage.WestEurope, …: see Microsoft Learn, Virtual network service tags)' : 'a service tag such as VirtualNetwork or a CIDR prefix (one per family, comma-separated)'}`,
      );
  }
  if (tag && (sources[4] || sources[6]))
    throw new TargetLimitError('azure-nsg', '--nsg-source: a service tag or prefixes, not both');
  return {
    name: o.name,
    priorityStart: o.priorityStart,
    priorityStep: o.priorityStep,
    source: tag ?? '',
    direction: o.direction,
    ...(tag ? {} : { sources }),
    ...(o.deny ? { deny: o.deny } : {}),
  };
}

export interface NsgRule {
  name: string;
  properties: {
    description: string;
    protocol: 'Tcp' | 'Udp' | '*';
    access: 'Allow' | 'Deny';
    priority: number;
    direction: 'Outbound' | 'Inbound';
    sourceAddressPrefix?: string;
    sourceAddressPrefixes?: string[];
    sourcePortRange: '*';
    destinationAddressPrefix?: string;
    destinationAddressPrefixes?: string[];
    destinationPortRange?: string;
    destinationPortRanges?: string[];
  };
}

const PROTO = { tcp: 'Tcp', udp: 'Udp', any: '*' } as const;

/**
 * One NSG rule per model rule: one protocol and one family each, literal values only. Egress
 * rules go the way --nsg-direction says (Outbound: from --nsg-source to the feed's prefixes);
 * ingress rules are Inbound, from the feed's prefixes to the local prefixes (or --nsg-source).
 */
export function nsgRules(rules: Rule[], o: NsgOptions): NsgRule[] {
  return rules.map((r, i) => {
    const ports = r.bucket.protocol === 'any' ? undefined : portsText(r.bucket.ports).split(',');
    const remote = [...r.prefixes];
    const ingress = r.direction === 'ingress';
    const direction = ingress ? 'Inbound' : o.direction;
    const props: NsgRule['properties'] = {
      description: provenanceText(r, NSG_LIMITS.descriptionLength),
      protocol: PROTO[r.bucket.protocol],
      access: 'Allow',
      priority: o.priorityStart + i * o.priorityStep,
      direction,
      sourcePortRange: '*',
    };
    const local = o.sources?.[r.family] ?? o.source;
    if (direction === 'Outbound') {
      props.sourceAddressPrefix = local;
      props.destinationAddressPrefixes = remote;
    } else {
      props.sourceAddressPrefixes = remote;
      if (ingress && r.local) props.destinationAddressPrefixes = [...r.local.toArray()];
      else props.destinationAddressPrefix = local;
    }
    if (ports) props.destinationPortRanges = ports;
    else props.destinationPortRange = '*';
    return { name: `m365_${r.key}`, properties: props };
  });
}

/**
 * The closing deny rules of --nsg-deny, at the lowest priorities an NSG rule can have: without
 * them the default AllowInternetOutBound (65001) lets every other destination through. One rule
 * for a service tag; one per family for local prefixes (a rule holds one family).
 */
export function denyRules(o: NsgOptions, families: (4 | 6)[]): NsgRule[] {
  if (!o.deny) return [];
  const remote = o.deny === 'all' ? '*' : 'Internet';
  const locals: [string, string][] = o.sources
    ? families.filter((f) => o.sources![f]).map((f) => [`_v${f}`, o.sources![f]!])
    : [['', o.source]];
  return locals.map(([suffix, local], i) => {
    const props: NsgRule['properties'] = {
      description: `m365fw: deny every other ${o.direction.toLowerCase()} flow ${o.direction === 'Outbound' ? 'to' : 'from'} ${remote === '*' ? 'anywhere' : 'the Internet'}`,
      protocol: '*',
      access: 'Deny',
      priority: NSG_LIMITS.priorityMax - (locals.length - 1 - i),
      direction: o.direction,
      sourcePortRange: '*',
      destinationPortRange: '*',
    };
    if (o.direction === 'Outbound') {
      props.sourceAddressPrefix = local;
      props.destinationAddressPrefix = remote;
    } else {
      props.sourceAddressPrefix = remote;
      props.destinationAddressPrefix = local;
    }
    return { name: `m365_deny_${o.deny}${suffix}`, properties: props };
  });
}

/** Fail loudly, saying by how much and what to do, when the model exceeds an NSG budget. */
export function checkBudgets(rules: NsgRule[], o: NsgOptions): void {
  const fail = (m: string) => {
    throw new TargetLimitError(
      'azure-nsg',
      `${m}; narrow the input with --service-areas, --categories, --required-only or --no-ipv6, or split it across several NSGs`,
    );
  };
  if (rules.length > NSG_LIMITS.rulesPerNsg)
    fail(
      `${rules.length} rules exceed the ${NSG_LIMITS.rulesPerNsg} rules an NSG holds by ${rules.length - NSG_LIMITS.rulesPerNsg}`,
    );
  const count = (f: (p: NsgRule['properties']) => number) =>
    rules.reduce((n, r) => n + f(r.properties), 0);
  const dst = count((p) => p.destinationAddressPrefixes?.length ?? 1);
  const src = count((p) => p.sourceAddressPrefixes?.length ?? 1);
  if (dst > NSG_LIMITS.destinationPrefixesPerNsg)
    fail(
      `${dst} destination prefixes exceed the ${NSG_LIMITS.destinationPrefixesPerNsg} an NSG holds by ${dst - NSG_LIMITS.destinationPrefixesPerNsg} (already merged losslessly)`,
    );
  if (src > NSG_LIMITS.sourcePrefixesPerNsg)
    fail(
      `${src} source prefixes exceed the ${NSG_LIMITS.sourcePrefixesPerNsg} an NSG holds by ${src - NSG_LIMITS.sourcePrefixesPerNsg} (already merged losslessly)`,
    );
  const allows = rules.filter((r) => r.properties.access === 'Allow');
  // with --nsg-deny the deny rule takes the last priority: the allow rules must end before it
  const maxAllow = NSG_LIMITS.priorityMax - (rules.length - allows.length);
  const last = o.priorityStart + (allows.length - 1) * o.priorityStep;
  if (allows.length && last > maxAllow) {
    throw new TargetLimitError(
      'azure-nsg',
      `${allows.length} rules from priority ${o.priorityStart} step ${o.priorityStep} end at ${last}, past ${maxAllow}${maxAllow < NSG_LIMITS.priorityMax ? ` (${maxAllow + 1}-${NSG_LIMITS.priorityMax} are the --nsg-deny rules)` : ''} by ${last - maxAllow}; lower --nsg-priority-start or --nsg-priority-step, or narrow the input`,
    );
  }
  for (const r of rules)
    if (!NAME.test(r.name))
      throw new TargetLimitError('azure-nsg', `rule name ${r.name} is not a valid NSG rule name`);
}

/**
 * The NSG's rules from the model, within every budget: what the ARM template and the Terraform
 * resources both carry (one function, so the two cannot drift apart).
 */
export function nsgRuleSet(
  model: RuleModel,
  options: OptionValues<typeof NSG_OPTIONS>,
): { o: NsgOptions; rules: NsgRule[] } {
  const o = nsgOptions(options);
  // an NSG rule holds one family: each family's rules need a local prefix of that family
  const missing =
    o.sources &&
    model.rules.find((r) => !o.sources![r.family] && !(r.direction === 'ingress' && r.local));
  if (missing)
    throw new TargetLimitError(
      'azure-nsg',
      `--nsg-source has no IPv${missing.family} prefix for rule ${missing.key}; add one (comma-separated), pass --no-ipv${missing.family}, or give a service tag`,
    );
  // --nsg-deny closes the egress rules' direction (inbound, the NSG's DenyAllInBound already does)
  const egress = model.rules.filter((r) => r.direction !== 'ingress');
  if (o.deny && !egress.length)
    throw new TargetLimitError(
      'azure-nsg',
      '--nsg-deny closes the egress rules and this run has none (inbound, the default DenyAllInBound drops what the ingress rules do not allow); drop --nsg-deny',
    );
  const families = [...new Set(egress.map((r) => r.family))].sort();
  const rules = [...nsgRules(model.rules, o), ...denyRules(o, families)];
  checkBudgets(rules, o);
  return { o, rules };
}

/** What the rules enforce in the NSG: with --nsg-deny an allowlist, else nothing beside Azure's defaults. */
export function nsgEnforcement(model: RuleModel, o: NsgOptions): Enforcement {
  const egress = model.rules.some((r) => r.direction !== 'ingress');
  const ingress = model.rules.some((r) => r.direction === 'ingress');
  if (egress && !o.deny)
    return {
      mode: 'allow-only',
      text: `allow rules above AllowInternetOutBound: restricts nothing without --nsg-deny${ingress ? ' (inbound, DenyAllInBound drops what the ingress rules do not allow)' : ''}`,
      inert: true,
    };
  return {
    mode: 'default-deny',
    text: egress
      ? `allowlist, default deny: the --nsg-deny ${o.deny} rule at priority ${NSG_LIMITS.priorityMax} closes ${o.direction}`
      : "allowlist: Azure's DenyAllInBound drops what the ingress rules do not allow",
    inert: false,
  };
}

export function renderNsg(
  model: RuleModel,
  options: OptionValues<typeof NSG_OPTIONS>,
): RenderResult {
  const { o, rules } = nsgRuleSet(model, options);
  const template = {
    $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
    contentVersion: '1.0.0.0',
    // the writer puts the provenance lines here
    metadata: { generator: 'm365fw', provenance: [] as string[] },
    parameters: {
      nsgName: { type: 'string', defaultValue: o.name },
      location: { type: 'string', defaultValue: '[resourceGroup().location]' },
    },
    resources: [
      {
        type: 'Microsoft.Network/networkSecurityGroups',
        apiVersion: NSG_API_VERSION,
        name: "[parameters('nsgName')]",
        location: "[parameters('location')]",
        properties: { securityRules: rules },
      },
    ],
  };
  return {
    files: [
      {
        path: NSG_FILE,
        body: JSON.stringify(template, null, 2) + '\n',
        comment: { json: ['metadata', 'provenance'] },
      },
    ],
    enforcement: nsgEnforcement(model, o),
  };
}

export const azureNsg = defineTarget({
  name: 'azure-nsg',
  files: /^azure-nsg\.json$/,
  summary: 'an ARM template with one NSG whose augmented rules hold the merged prefixes',
  capabilities: {
    fqdn: false,
    wildcard: false,
    mixedFamilies: false,
    portRanges: true,
    ingress: true,
  },
  limits: NSG_LIMITS,
  options: NSG_OPTIONS,
  render: (model, o) => renderNsg(model, o),
});
