import type { Rule, RuleModel } from '../../src/model.js';
import { portsText } from '../../src/net/ports.js';
import { Pieces } from '../../src/io/pieces.js';
import { ALLOW_ALSO, provenanceText, type AllowAlso } from '../common.js';
import { defineTarget, option, type Enforcement, type OptionValues } from '../define.js';
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

export type NftHook = 'output' | 'input' | 'forward';
export const NFT_HOOKS: readonly NftHook[] = ['output', 'input', 'forward'];

export interface NftOptions {
  table: string;
  /** base chains, each in this order: output, input, forward */
  hooks: NftHook[];
  /** the hook chains' policy: accept unless --nft-policy drop was given */
  policy: 'accept' | 'drop';
  mode: 'table' | 'include';
  /** flows the host needs beside Microsoft 365, accepted in the egress hook chains */
  allowAlso: AllowAlso[];
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
  hook: option.optionalText(
    '--nft-hook <hooks>',
    'add base chains on these hooks (comma-separated: output and forward carry egress rules, input and forward ingress rules)',
    (v) => {
      const hs = v.split(',');
      return hs.every((h) => (NFT_HOOKS as readonly string[]).includes(h)) &&
        new Set(hs).size === hs.length
        ? undefined
        : `hooks from ${NFT_HOOKS.join(', ')}, comma-separated, each once`;
    },
  ),
  policy: option.optionalChoice(
    '--nft-policy <policy>',
    'policy of the --nft-hook base chains: accept (the default: ingress drops only the others on its ports, egress enforces nothing) or drop (an allowlist: loopback, established, NDP, MLD and --allow-also pass)',
    ['accept', 'drop'] as const,
  ),
  allowAlso: ALLOW_ALSO,
  mode: option.choice(
    '--nft-mode <mode>',
    'table: a table of its own; include: sets and chain for your table',
    ['table', 'include'] as const,
    'table',
  ),
};

/**
 * The options as render gets them, checked together and against the rules: a hook that carries
 * none of the run's rules (input with egress rules only) would drop traffic and enforce nothing;
 * a direction no hook carries would not be enforced at all.
 */
export function nftOptions(
  o: OptionValues<typeof NFT_OPTIONS>,
  rules: readonly Rule[] = [],
): NftOptions {
  const hooks = o.hook ? NFT_HOOKS.filter((h) => o.hook!.split(',').includes(h)) : [];
  const fail = (m: string): never => {
    throw new TargetLimitError('nftables', m);
  };
  if (hooks.length && o.mode === 'include')
    fail('--nft-hook needs the table mode: in include mode your own table holds the base chain');
  if (hooks.length) {
    const egress = rules.some((r) => r.direction !== 'ingress'),
      ingress = rules.some((r) => r.direction === 'ingress');
    for (const h of hooks)
      if ((h === 'output' && !egress) || (h === 'input' && !ingress))
        fail(
          `--nft-hook ${h} carries ${h === 'output' ? 'egress' : 'ingress'} rules and this run has none; drop it or compile --direction ${h === 'output' ? 'egress' : 'ingress'} (or both)`,
        );
    if (egress && !hooks.some((h) => h !== 'input'))
      fail('--nft-hook: the egress rules need output or forward');
    if (ingress && !hooks.some((h) => h !== 'output'))
      fail('--nft-hook: the ingress rules need input or forward');
  }
  if (o.allowAlso && !hooks.some((h) => h !== 'input'))
    fail('--allow-also goes in the egress hook chains: it needs --nft-hook output or forward');
  return {
    table: o.table,
    hooks,
    policy: o.policy ?? 'accept',
    mode: o.mode,
    allowAlso: o.allowAlso ?? [],
  };
}

export const setName = (r: Rule): string => `m365_${r.key}`;
export const RULE_CHAIN = 'm365_allow';
/** ingress rules (from Microsoft's prefixes to the local side) */
export const INGRESS_CHAIN = 'm365_allow_in';

function portMatch(r: Rule): string {
  if (r.bucket.protocol === 'any') return '';
  const list = portsText(r.bucket.ports);
  return ` ${r.bucket.protocol} dport ${r.bucket.ports.length === 1 ? list : `{ ${list.split(',').join(', ')} }`}`;
}

/** The rule line for one model rule: egress to the set, ingress from it (to the local side). */
export function nftRuleLine(r: Rule): string {
  const comment = provenanceText(r, NFT_LIMITS.commentBytes);
  const ip = r.family === 4 ? 'ip' : 'ip6';
  if (r.direction !== 'ingress')
    return `${ip} daddr @${setName(r)}${portMatch(r)} accept comment "${comment}"`;
  const to = r.local ? ` ${ip} daddr { ${r.local.toArray().join(', ')} }` : '';
  return `${ip} saddr @${setName(r)}${to}${portMatch(r)} accept comment "${comment}"`;
}

const ND_OUT = 'nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert';
const ND_IN = 'nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert';
/** multicast listener discovery: without it a switch with MLD snooping stops forwarding to the host */
const MLD = 'mld-listener-query, mld-listener-report, mld-listener-done, mld2-listener-report';

/** An --allow-also flow as an accept rule. */
export function allowAlsoLine(a: AllowAlso): string {
  const ip = a.family === 4 ? 'ip' : 'ip6';
  const port = a.protocol ? ` ${a.protocol} dport ${a.port}` : '';
  return `${ip} daddr ${a.prefix}${port} accept comment "allow-also"`;
}

/**
 * The drops that close the ingress ports to everyone the ingress rules did not accept: per family,
 * local side and protocol, the ports of the ingress rules (an address-only rule closes the local
 * side whole; without a local side it closes nothing, so the host stays reachable).
 */
export function serviceDrops(ingress: readonly Rule[]): string[] {
  const lines = new Set<string>();
  for (const r of ingress) {
    const ip = r.family === 4 ? 'ip' : 'ip6';
    const to = r.local
      ? `${ip} daddr { ${r.local.toArray().join(', ')} } `
      : `meta nfproto ${r.family === 4 ? 'ipv4' : 'ipv6'} `;
    if (r.bucket.protocol === 'any') {
      if (r.local) lines.add(`${to}drop comment "ingress: others to the local side"`);
      continue;
    }
    lines.add(`${to}${portMatch(r).trim()} drop comment "ingress: others on these ports"`);
  }
  return [...lines];
}

/** What the file enforces once loaded with nft -f, per direction. */
export function nftEnforcement(rules: readonly Rule[], o: NftOptions): Enforcement {
  const egress = rules.some((r) => r.direction !== 'ingress'),
    ingress = rules.some((r) => r.direction === 'ingress');
  if (!o.hooks.length)
    return {
      mode: 'integration',
      text: `integration: enforces nothing until your chain jumps to ${[...(egress ? [RULE_CHAIN] : []), ...(ingress ? [INGRESS_CHAIN] : [])].join(' and ')}`,
      inert: true,
    };
  if (o.policy === 'drop')
    return {
      mode: 'default-deny',
      text: `allowlist, default deny on the ${o.hooks.join(', ')} hook${o.hooks.length > 1 ? 's' : ''} (loopback, established, NDP, MLD${o.allowAlso.length ? ' and --allow-also' : ''} pass)`,
      inert: false,
    };
  if (ingress) {
    const inRules = rules.filter((r) => r.direction === 'ingress');
    // an address-only ingress rule without a local side closes nothing: said, not claimed
    const open = inRules.some((r) => r.bucket.protocol === 'any' && !r.local);
    const closes = serviceDrops(inRules).length > 0;
    const rest = `${open ? '; address-only ingress rules without --local close nothing' : ''}${egress ? '; egress: allow rules only, traffic outside them is decided by your ruleset' : ''}`;
    return closes
      ? {
          mode: 'service',
          text: `only the feed's sources reach the ingress ports; other ports and protocols are untouched${rest}`,
          inert: false,
        }
      : {
          mode: 'allow-only',
          text: `allow rules only${rest} (--local or --nft-policy drop restricts)`,
          inert: true,
        };
  }
  return {
    mode: 'allow-only',
    text: 'allow rules only: traffic outside them is decided by your ruleset (policy accept; --nft-policy drop makes it an allowlist)',
    inert: true,
  };
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
  const egress = rules.filter((r) => r.direction !== 'ingress'),
    ingress = rules.filter((r) => r.direction === 'ingress');
  const chain = (name: string, rs: Rule[]) =>
    [
      `${indent}chain ${name} {`,
      ...rs.map((r) => `${indent}\t${nftRuleLine(r)}`),
      `${indent}}`,
    ].join('\n');
  // the egress chain is always there (an include of an egress-only run reads as it always did)
  out.add(chain(RULE_CHAIN, egress));
  if (ingress.length) out.add('\n\n' + chain(INGRESS_CHAIN, ingress));
  for (const hook of o.hooks) {
    // loopback, IPv6 neighbour discovery and multicast listener discovery must pass or the host
    // loses IPv6 (and its own local services) altogether
    const lo =
      hook === 'output'
        ? [`${indent}\toifname "lo" accept`, `${indent}\ticmpv6 type { ${ND_OUT}, ${MLD} } accept`]
        : hook === 'input'
          ? [`${indent}\tiifname "lo" accept`, `${indent}\ticmpv6 type { ${ND_IN}, ${MLD} } accept`]
          : [];
    const jumps = [
      ...(hook !== 'input' && egress.length ? [RULE_CHAIN] : []),
      ...(hook !== 'output' && ingress.length ? [INGRESS_CHAIN] : []),
    ];
    const also = hook === 'input' ? [] : o.allowAlso.map((a) => `${indent}\t${allowAlsoLine(a)}`);
    // ingress restricts the service, not the host: the feed's sources were accepted above, everyone
    // else is dropped on the ingress ports of the local side only (with policy drop, by the policy)
    const service =
      hook !== 'output' && o.policy === 'accept'
        ? serviceDrops(ingress).map((l) => `${indent}\t${l}`)
        : [];
    out.add(
      '\n\n' +
        [
          `${indent}chain ${hook} {`,
          `${indent}\ttype filter hook ${hook} priority filter; policy ${o.policy};`,
          `${indent}\tct state established,related accept`,
          // with policy accept every other packet is untouched, invalid ones too
          ...(o.policy === 'drop' ? [`${indent}\tct state invalid drop`] : []),
          ...lo,
          ...also,
          ...jumps.map((j) => `${indent}\tjump ${j}`),
          ...service,
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
  files: /^m365fw\.nft$/,
  summary: 'one nft -f file: an inet table with one interval set per family and bucket',
  capabilities: {
    fqdn: false,
    wildcard: false,
    mixedFamilies: true,
    portRanges: true,
    ingress: true,
  },
  limits: NFT_LIMITS,
  options: NFT_OPTIONS,
  render: (model, raw) => {
    const o = nftOptions(raw, model.rules);
    return {
      files: [{ path: NFT_FILE, body: renderNftPieces(model, o), comment: { line: '#' } }],
      enforcement: nftEnforcement(model.rules, o),
    };
  },
});
