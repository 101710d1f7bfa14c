/**
 * --target terraform-azure-nsg: Terraform JSON checked against a JSON Schema derived from the
 * azurerm provider's own schema definition (test/schemas/, source cited there), and equal rule for
 * rule to the ARM template of the same run (the same rules, priorities, deny rules and budgets).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import Ajv from 'ajv';
import { describe, expect, it } from 'vitest';
import { FIXTURES, ROOT, sharedFeeds } from './helpers/env.js';
import { codeChecks } from './helpers/azure.js';
import { compileHere } from './helpers/here.js';
import { tmpDir } from './helpers/tmp.js';

const SCHEMA = join(ROOT, 'test/schemas/azurerm-network-security-rule.tf.schema.json');
const validate = new (Ajv as unknown as typeof Ajv.default)({
  allErrors: true,
  strict: true,
  strictRequired: false,
}).compile(JSON.parse(readFileSync(SCHEMA, 'utf8')));
const errors = () => JSON.stringify(validate.errors)?.slice(0, 1500);
const SAMPLE = join(FIXTURES, 'sample-feed.json');

/** The provider's argument names back to ARM's property names. */
const ARM_OF: Record<string, string> = {
  description: 'description',
  priority: 'priority',
  direction: 'direction',
  access: 'access',
  protocol: 'protocol',
  source_port_range: 'sourcePortRange',
  source_address_prefix: 'sourceAddressPrefix',
  source_address_prefixes: 'sourceAddressPrefixes',
  destination_address_prefix: 'destinationAddressPrefix',
  destination_address_prefixes: 'destinationAddressPrefixes',
  destination_port_range: 'destinationPortRange',
  destination_port_ranges: 'destinationPortRanges',
};

function both(feed: string, extra: string[]) {
  const out = tmpDir('tf');
  const r = compileHere([
    '--input',
    feed,
    '--target',
    'azure-nsg,terraform-azure-nsg',
    '--out',
    out,
    ...extra,
  ]);
  expect(r.code, r.stderr).toBe(0);
  const read = (f: string) => JSON.parse(readFileSync(join(out, f), 'utf8'));
  return {
    out,
    tf: read('m365fw.nsg.tf.json'),
    arm: read('azure-nsg.json'),
    report: read('report.json'),
  };
}

const goodRule = () => ({
  name: 'm365_v4_tcp_443',
  resource_group_name: '${var.resource_group_name}',
  network_security_group_name: '${var.network_security_group_name}',
  description: 'sets 1 Exchange Optimize required',
  priority: 100,
  direction: 'Outbound',
  access: 'Allow',
  protocol: 'Tcp',
  source_port_range: '*',
  source_address_prefix: 'VirtualNetwork',
  destination_address_prefixes: ['192.0.2.0/24', '198.51.100.0/24'],
  destination_port_ranges: ['443'],
});
const docOf = (rule: Record<string, unknown>) => ({
  resource: { azurerm_network_security_rule: { r: rule } },
});

describe('the Terraform schema (derived from the provider) itself', () => {
  it('accepts a good rule and rejects each thing the provider rejects', () => {
    expect(validate(docOf(goodRule())), errors()).toBe(true);
    const bad: [string, (r: Record<string, unknown>) => void][] = [
      ['description of 141 characters', (r) => (r.description = 'x'.repeat(141))],
      ['protocol in lower case', (r) => (r.protocol = 'tcp')],
      ['priority 99', (r) => (r.priority = 99)],
      ['priority 4097', (r) => (r.priority = 4097)],
      ['priority as a string', (r) => (r.priority = '100')],
      ['direction outbound', (r) => (r.direction = 'outbound')],
      ['access Permit', (r) => (r.access = 'Permit')],
      ['name with a slash', (r) => (r.name = 'a/b')],
      ['name with a percent sign', (r) => (r.name = 'a%b')],
      ['no name', (r) => delete r.name],
      ['no priority', (r) => delete r.priority],
      ['both destination prefix forms', (r) => (r.destination_address_prefix = 'Internet')],
      ['no destination at all', (r) => delete r.destination_address_prefixes],
      ['both source prefix forms', (r) => (r.source_address_prefixes = ['192.0.2.0/24'])],
      ['both port forms', (r) => (r.destination_port_range = '443')],
      ['a duplicate in a set', (r) => (r.destination_port_ranges = ['443', '443'])],
      ['an argument the provider does not have', (r) => (r.destination_addresses = ['x'])],
      ['an invalid resource group name', (r) => (r.resource_group_name = 'rg.')],
    ];
    for (const [what, change] of bad) {
      const r = goodRule();
      change(r);
      expect(validate(docOf(r)), what).toBe(false);
    }
    expect(validate({ ...docOf(goodRule()), provider: {} }), 'an unknown top-level key').toBe(
      false,
    );
  });
});

describe('--target terraform-azure-nsg', () => {
  const feeds = [SAMPLE, ...sharedFeeds()];
  const variants: [string, string[]][] = [
    ['defaults', []],
    [
      '--nsg-deny all, priorities from 200 step 10',
      ['--nsg-deny', 'all', '--nsg-priority-start', '200', '--nsg-priority-step', '10'],
    ],
    [
      'Inbound from local prefixes, --nsg-deny internet',
      [
        '--nsg-direction',
        'Inbound',
        '--nsg-source',
        '192.0.2.0/24,2001:db8::/48',
        '--nsg-deny',
        'internet',
      ],
    ],
  ];
  it.each(feeds.flatMap((f) => variants.map(([n, extra]) => [basename(f), n, f, extra])))(
    '%s, %s: valid for the provider and the same rules as the ARM template',
    (_f, _n, feed, extra) => {
      const { tf, arm, report } = both(feed as string, extra as string[]);
      expect(validate(tf), errors()).toBe(true);
      const rules = Object.entries<Record<string, unknown>>(
        tf.resource.azurerm_network_security_rule,
      );
      // back in ARM's words, the resources are the template's rules, in the same order
      const asArm = rules.map(([key, r]) => {
        expect(key).toBe(r.name);
        expect(r.resource_group_name).toBe('${var.resource_group_name}');
        expect(r.network_security_group_name).toBe('${var.network_security_group_name}');
        const properties = Object.fromEntries(
          Object.entries(r)
            .filter(([k]) => ARM_OF[k])
            .map(([k, v]) => [ARM_OF[k], v]),
        );
        return { name: r.name, properties };
      });
      const armRules = arm.resources[0].properties.securityRules;
      expect(asArm).toEqual(armRules);
      expect(codeChecks({ resources: [{ properties: { securityRules: asArm } }] })).toEqual([]);
      expect(tf.variable.network_security_group_name.default).toBe('m365-egress');
      expect(tf.variable.resource_group_name.default).toBeUndefined();
      expect(tf.output.rule_names.value).toEqual(armRules.map((r: { name: string }) => r.name));
      expect(tf['//']).toMatch(/^generated by m365fw /);
      expect(
        report.targets['terraform-azure-nsg'].artifacts.map((a: { path: string }) => a.path),
      ).toEqual(['m365fw.nsg.tf.json']);
    },
  );

  it('the options follow: --nsg-name is the variable default, --nsg-priority-step spaces the priorities', () => {
    const { tf } = both(SAMPLE, ['--nsg-name', 'nsg-branch-01', '--nsg-priority-step', '10']);
    expect(tf.variable.network_security_group_name.default).toBe('nsg-branch-01');
    const prio = Object.values(tf.resource.azurerm_network_security_rule).map(
      (r) => (r as { priority: number }).priority,
    );
    expect(prio).toEqual(prio.map((_, i) => 100 + 10 * i));
  });

  it('a budget the NSG cannot hold fails like the ARM target, named for this target, nothing written', () => {
    for (const target of ['terraform-azure-nsg', 'azure-nsg']) {
      const out = tmpDir('tf-budget');
      // 8 rules from 4090 end at 4097: one past the last priority
      const r = compileHere([
        '--input',
        SAMPLE,
        '--target',
        target,
        '--out',
        out,
        '--nsg-priority-start',
        '4090',
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(
          `^error: ${target}: 8 rules from priority 4090 step 1 end at 4097, past 4096 by 1`,
        ),
      );
      expect(readdirSync(out)).toEqual([]);
    }
    // at the threshold: 8 rules from 4089 end at 4096 and fit
    const out = tmpDir('tf-budget');
    const ok = compileHere([
      '--input',
      SAMPLE,
      '--target',
      'terraform-azure-nsg',
      '--out',
      out,
      '--nsg-priority-start',
      '4089',
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(existsSync(join(out, 'm365fw.nsg.tf.json'))).toBe(true);
  });
});
