import type { Rule, RuleModel } from '../../src/model.js';
import { portsText } from '../../src/net/ports.js';
import { Pieces } from '../../src/io/pieces.js';
import { provenanceText } from '../common.js';
import { defineTarget, option, type OptionValues } from '../define.js';
import { TargetLimitError } from '../types.js';

/** nftables limits we render within. */
export const NFT_LIMITS = {
  /** comment bytes kept (the kernel allows 128 including NUL) */
  commentBytes: 127,
  /** identifier length for tables, chains and sets */
  nameLength: 64,
} as const;

export const NFT_FILE = 'm365fw.nft';
const IDENT = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
/**
 * Table names m365fw refuses: nft keywords (the file would not parse, or parse as something else)
 * and the tables other managers own (m365fw's file deletes and recreates its table: with "filter"
 * it would delete the distribution's or firewalld's rules).
 */
export const RESERVED_TABLES = [
  'table',
  'chain',
  'set',
  'map',
  'element',
  'rule',
  'flowtable',
  'counter',
  'quota',
  'limit',
  'ct',
  'meta',
  'add',
  'create',
  'insert',
  'replace',
  'delete',
  'destroy',
  'list',
  'flush',
  'rename',
  'reset',
  'describe',
  'monitor',
  'export',
  'import',
  'include',
  'define',
  'redefine',
  'undefine',
  'ip',
  'ip6',
  'inet',
  'arp',
  'bridge',
  'netdev',
  'ether',
  'vlan',
  'tcp',
  'udp',
  'icmp',
  'icmpv6',
  'sctp',
  'dccp',
  'th',
  'accept',
  'drop',
  'reject',
  'return',
  'jump',
  'goto',
  'continue',
  'queue',
  'log',
  'dnat',
  'snat',
  'masquerade',
  'redirect',
  'notrack',
  'type',
  'hook',
  'priority',
  'policy',
  'device',
  'devices',
  'flags',
  'elements',
  'comment',
  'timeout',
  'auto-merge',
  'filter',
  'nat',
  'mangle',
  'raw',
  'security',
  'route',
  'firewalld',
  'docker',
  'libvirt',
  'input',
  'output',
  'forward',
  'prerouting',
  'postrouting',
] as const;

export interface NftOptions {
  table: string;
  hook?: 'output' | 'forward';
  policy: 'accept' | 'drop';
  mode: 'table' | 'include';
}

const TABLE = option.text('--nft-table <name>', 'nftables table name', 'm365fw', (t) =>
  !IDENT.test(t)
    ? `use letters, digits and "_", at most ${NFT_LIMITS.nameLength} characters`
    : (RESERVED_TABLES as readonly string[]).includes(t.toLowerCase())
      ? 'an nft keyword or a table other software owns; m365fw deletes and recreates its table on every load, so it needs one of its own (default m365fw)'
      : undefined,
);

export const NFT_OPTIONS = {
  table: TABLE,
  hook: option.optionalChoice(
    '--nft-hook <hook>',
    'add a base chain on this hook that jumps to the rules',
    ['output', 'forward'] as const,
  ),
  policy: option.choice(
    '--nft-policy <policy>',
    'policy of the --nft-hook base chain',
    ['accept', 'drop'] as const,
    'drop',
  ),
  mode: option.choice(
    '--nft-mode <mode>',
    'table: a table of its own; include: sets and chain for your table',
    ['table', 'include'] as const,
    'table',
  ),
};

/** The options as render gets them, checked together. */
export function nftOptions(o: OptionValues<typeof NFT_OPTIONS>): NftOptions {
  if (o.hook && o.mode === 'include')
    throw new TargetLimitError(
      'nftables',
      '--nft-hook needs the table mode: in include mode your own table holds the base chain',
    );
  return { table: o.table, hook: o.hook, policy: o.policy, mode: o.mode };
}

export const setName = (r: Rule): string => `m365_${r.key}`;
export const RULE_CHAIN = 'm365_allow';

function portMatch(r: Rule): string {
  if (r.bucket.protocol === 'any') return '';
  const list = portsText(r.bucket.ports);
  return ` ${r.bucket.protocol} dport ${r.bucket.ports.length === 1 ? list : `{ ${list.split(',').join(', ')} }`}`;
}

/** The rule line for one model rule. */
export function nftRuleLine(r: Rule): string {
  const comment = provenanceText(r, NFT_LIMITS.commentBytes);
  return `${r.family === 4 ? 'ip' : 'ip6'} daddr @${setName(r)}${portMatch(r)} accept comment "${comment}"`;
}

/** One interval set; its elements come from the rule's prefixes as bytes (no string per prefix). */
function setBlock(out: Pieces, r: Rule, indent: string): void {
  const i2 = indent + '\t',
    i3 = i2 + '\t';
  out.add(
    [
      `${indent}set ${setName(r)} {`,
      `${i2}type ${r.family === 4 ? 'ipv4_addr' : 'ipv6_addr'}`,
      `${i2}flags interval`,
      `${i2}elements = {`,
      i3,
    ].join('\n'),
  );
  out.add(r.prefixes.bytes(`,\n${i3}`));
  out.add(`\n${i2}}\n${indent}}`);
}

function body(out: Pieces, rules: Rule[], indent: string, o: NftOptions): void {
  for (const r of rules) {
    setBlock(out, r, indent);
    out.add('\n\n');
  }
  out.add(
    [
      `${indent}chain ${RULE_CHAIN} {`,
      ...rules.map((r) => `${indent}\t${nftRuleLine(r)}`),
      `${indent}}`,
    ].join('\n'),
  );
  if (o.hook) {
    // on output, loopback and IPv6 neighbour discovery must pass or the host loses IPv6 altogether
    const lo =
      o.hook === 'output'
        ? [
            `${indent}\toifname "lo" accept`,
            `${indent}\ticmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert } accept`,
          ]
        : [];
    out.add(
      '\n\n' +
        [
          `${indent}chain ${o.hook} {`,
          `${indent}\ttype filter hook ${o.hook} priority filter; policy ${o.policy};`,
          `${indent}\tct state established,related accept`,
          `${indent}\tct state invalid drop`,
          ...lo,
          `${indent}\tjump ${RULE_CHAIN}`,
          `${indent}}`,
        ].join('\n'),
    );
  }
  out.add('\n');
}

/** One self-contained nftables file (an inet table of its own, or its body for include), as UTF-8 pieces. */
export function renderNftPieces(model: RuleModel, o: NftOptions): Uint8Array[] {
  const out = new Pieces();
  if (o.mode === 'include') {
    out.add(
      `# include this file inside your own table: table inet filter { include "${NFT_FILE}" ... }\n`,
    );
    body(out, model.rules, '', o);
  } else {
    // declare, delete, recreate: atomic in one transaction, and the first load works too (no "destroy" in nft 1.0.6)
    out.add(`table inet ${o.table}\ndelete table inet ${o.table}\ntable inet ${o.table} {\n`);
    body(out, model.rules, '\t', o);
    out.add('}\n');
  }
  return out.done();
}

export const nftables = defineTarget({
  name: 'nftables',
  summary: 'one nft -f file: an inet table with one interval set per family and bucket',
  capabilities: { fqdn: false, wildcard: false, mixedFamilies: true, portRanges: true },
  limits: NFT_LIMITS,
  options: NFT_OPTIONS,
  render: (model, o) => ({
    files: [
      { path: NFT_FILE, body: renderNftPieces(model, nftOptions(o)), comment: { line: '#' } },
    ],
  }),
});
