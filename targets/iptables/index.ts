import { createHash } from 'node:crypto';
import type { Finding, Rule, RuleModel } from '../../src/model.js';
import { artifactPieces, Pieces } from '../../src/io/pieces.js';
import { withProvenance } from '../../src/io/provenance.js';
import type { PortRange } from '../../src/net/ports.js';
import { ALLOW_ALSO, provenanceText, type AllowAlso } from '../common.js';
import {
  defineTarget,
  option,
  type OptionValues,
  type Enforcement,
  type RenderContext,
  type TargetFile,
} from '../define.js';
import { TargetLimitError } from '../types.js';

/** Limits of iptables, ip6tables and ipset that the renderer splits or fails against. */
export const IPT_LIMITS = {
  /** multiport matches at most 15 ports; a range counts as two */
  multiportSlots: 15,
  /** ipset set names, including the temporary suffix */
  ipsetNameLength: 31,
  /** iptables chain names */
  chainNameLength: 28,
  /** -m comment text (the kernel keeps 256 bytes with the NUL) */
  commentLength: 255,
  /**
   * maxelem of every set. Fixed, never derived from the entry count: ipset refuses `create -exist`
   * for a live set whose maxelem differs, so a list that grew or shrank past a size step could not
   * be reloaded without destroying the set (and first removing the rules that use it). The kernel
   * allocates per entry, not per maxelem: a high cap costs nothing.
   */
  maxelem: 16_777_216,
} as const;

export const IPSET_FILE = 'm365fw.ipset';
export const V4_FILE = 'm365fw.v4';
export const V6_FILE = 'm365fw.v6';
export const TMP_SUFFIX = '-tmp';
export const APPLY_FILE = 'm365fw-iptables-apply.sh';
/** Every set m365fw makes starts so: the apply script destroys those no longer in use. */
export const SET_PREFIX = 'm365_';
/** Built-in chains and targets: a chain of ours with such a name would flush or shadow the host's own. */
export const RESERVED_CHAINS = [
  'INPUT',
  'OUTPUT',
  'FORWARD',
  'PREROUTING',
  'POSTROUTING',
  'ACCEPT',
  'DROP',
  'RETURN',
  'REJECT',
  'QUEUE',
  'NFQUEUE',
  'LOG',
  'MARK',
  'CONNMARK',
  'DNAT',
  'SNAT',
  'MASQUERADE',
  'REDIRECT',
  'TCPMSS',
  'CT',
  'NOTRACK',
  'TRACE',
  'AUDIT',
  'CLASSIFY',
  'SET',
  'TEE',
] as const;

/** The chain whose sets keep their plain names (m365_<rule key>): the default output's identity. */
export const DEFAULT_CHAIN = 'M365FW';

/**
 * The identity an output's sets carry, from its --ipt-chain: none for the default chain (its sets
 * are named as before), else "c" and six hex digits of the chain's sha256. Two outputs on one host
 * (Worldwide in M365FW, China in M365CN) then never share a set, and each apply script destroys
 * only sets of its own identity.
 */
export const setIdentity = (chain: string): string =>
  chain === DEFAULT_CHAIN
    ? ''
    : `c${createHash('sha256').update(chain).digest('hex').slice(0, 6)}_`;

/** The longest set name: room for "-tmp" in ipset's 31. */
const SET_NAME_MAX = IPT_LIMITS.ipsetNameLength - TMP_SUFFIX.length;

/** A rule's set: m365_[identity]<rule key>, the key hashed when the identity leaves it no room. */
export function ipsetName(r: Pick<Rule, 'key'>, chain = DEFAULT_CHAIN): string {
  const head = `${SET_PREFIX}${setIdentity(chain)}`;
  const full = `${head}${r.key}`;
  if (full.length <= SET_NAME_MAX) return full;
  return `${head}h${createHash('sha256')
    .update(r.key)
    .digest('hex')
    .slice(0, SET_NAME_MAX - head.length - 1)}`;
}

/**
 * The sets an output owns on the host, as an extended regex for `grep -E` over `ipset list -n`:
 * its identity's names (and the -tmp sets an interrupted load leaves), nothing else named m365_.
 */
export function ownSetPattern(chain: string): string {
  const id = setIdentity(chain);
  return id
    ? `^${SET_PREFIX}${id}[a-z0-9_]+(${TMP_SUFFIX})?$`
    : `^${SET_PREFIX}(in_)?v[46]_[a-z0-9_]+(${TMP_SUFFIX})?$`;
}

/** hash:net cannot hold a /0: store it as its two /1 halves (same addresses). */
export function ipsetEntries(r: Rule): string[] {
  return r.prefixes
    .toArray()
    .flatMap((p) =>
      p === '0.0.0.0/0' ? ['0.0.0.0/1', '128.0.0.0/1'] : p === '::/0' ? ['::/1', '8000::/1'] : [p],
    );
}

/** Split a port set into multiport chunks of at most 15 slots (a range takes two). */
export function multiportChunks(ports: readonly PortRange[]): PortRange[][] {
  const out: PortRange[][] = [];
  let cur: PortRange[] = [],
    used = 0;
  for (const p of ports) {
    const w = p.from === p.to ? 1 : 2;
    if (used + w > IPT_LIMITS.multiportSlots) {
      out.push(cur);
      cur = [];
      used = 0;
    }
    cur.push(p);
    used += w;
  }
  if (cur.length) out.push(cur);
  return out;
}

function portMatches(r: Rule): string[] {
  if (r.bucket.protocol === 'any') return [''];
  return multiportChunks(r.bucket.ports).map((chunk) => {
    if (chunk.length === 1 && chunk[0].from === chunk[0].to)
      return ` -p ${r.bucket.protocol} --dport ${chunk[0].from}`;
    return ` -p ${r.bucket.protocol} -m multiport --dports ${chunk.map((p) => (p.from === p.to ? `${p.from}` : `${p.from}:${p.to}`)).join(',')}`;
  });
}

const chainName = (c: string): string | undefined =>
  !/^[A-Za-z][A-Za-z0-9_-]*$/.test(c) || c.length > IPT_LIMITS.chainNameLength
    ? `letters, digits, "_" and "-", at most ${IPT_LIMITS.chainNameLength} characters`
    : (RESERVED_CHAINS as readonly string[]).includes(c.toUpperCase())
      ? 'a built-in chain or target name; m365fw flushes its chain on every load, so it needs one of its own (defaults M365FW and M365FW_IN)'
      : undefined;

export const IPT_OPTIONS = {
  chain: option.text(
    '--ipt-chain <name>',
    'iptables chain the egress rules go in (you jump to it)',
    'M365FW',
    chainName,
  ),
  inChain: option.text(
    '--ipt-in-chain <name>',
    'iptables chain the ingress rules go in (declared and flushed on every load, so removed ingress rules go too)',
    'M365FW_IN',
    chainName,
  ),
  ipset: option.flag(
    '--no-ipset',
    'one rule per prefix instead of ipset sets (hosts without ipset)',
  ),
  hook: option.choice(
    '--ipt-hook <chain>',
    'built-in chain the apply script jumps to the egress rules from (once), or none',
    ['OUTPUT', 'FORWARD', 'none'] as const,
    'OUTPUT',
  ),
  final: option.optionalChoice(
    '--ipt-final <action>',
    'end the egress chain with drop or reject: an allowlist (loopback, established, NDP, MLD and --allow-also pass first); without it the chain only accepts and your OUTPUT policy decides',
    ['drop', 'reject'] as const,
  ),
  allowAlso: ALLOW_ALSO,
  inHook: option.choice(
    '--ipt-in-hook <chain>',
    'built-in chain the apply script jumps to the ingress rules from (once, when there are any), or none',
    ['INPUT', 'FORWARD', 'none'] as const,
    'INPUT',
  ),
};

export type IptOptions = OptionValues<typeof IPT_OPTIONS>;

const sha256Of = (pieces: readonly Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of pieces) h.update(p);
  return h.digest('hex');
};

/**
 * The way to load the files on a host (POSIX sh, no Node): check they are one run's files, load
 * the sets (atomic swap) and both restore files, hook the chain once, then destroy every m365fw set
 * the rules no longer reference, so nothing a feed removed stays in the kernel.
 */
function applyScript(
  files: { path: string; pieces: readonly Uint8Array[] }[],
  sets: string[],
  o: IptOptions,
  ingress: boolean,
  withSums = true,
): string {
  const jump = (tool: string, from: string, to: string) =>
    `${tool} -w -C ${from} -j ${to} 2>/dev/null || ${tool} -w -A ${from} -j ${to}`;
  const hook = (tool: string) => [
    ...(o.hook === 'none' ? [] : [jump(tool, o.hook, o.chain)]),
    ...(o.inHook === 'none' || !ingress ? [] : [jump(tool, o.inHook, o.inChain)]),
  ];
  return [
    '#!/bin/sh',
    `# apply (as root, again after every update): sh ${APPLY_FILE}`,
    '# needs: ipset, iptables-restore, ip6tables-restore, sha256sum',
    'set -eu',
    'cd "$(dirname "$0")"',
    'if [ -e .m365fw-commit ]; then',
    `  echo "${APPLY_FILE}: an m365fw write to this directory is unfinished; run m365fw on it again first" >&2`,
    '  exit 1',
    'fi',
    '# the files must be the ones this script was written with (one run, complete)',
    "sha256sum -c --quiet --strict <<'M365FW_SUMS'",
    ...files.map((f) => `${withSums ? sha256Of(f.pieces) : '(sha256)'}  ${f.path}`),
    'M365FW_SUMS',
    ...(o.ipset ? [`ipset restore -f ${IPSET_FILE}`] : []),
    `iptables-restore -w --noflush ${V4_FILE}`,
    `ip6tables-restore -w --noflush ${V6_FILE}`,
    ...hook('iptables'),
    ...hook('ip6tables'),
    `# destroy this output's sets (chain ${o.chain}) that this run no longer uses, and -tmp sets an`,
    '# interrupted load left; sets of other outputs and your own m365_ sets are never touched',
    `keep=' ${sets.join(' ')} '`,
    `for s in $(ipset list -n | grep -E '${ownSetPattern(o.chain)}' || true); do`,
    '  case "$keep" in',
    '    *" $s "*) ;;',
    `    *) ipset destroy "$s" 2>/dev/null || echo "${APPLY_FILE}: kept set $s: a rule outside chain ${o.chain} still uses it" >&2 ;;`,
    '  esac',
    'done',
    `echo "${APPLY_FILE}: chain ${o.chain} loaded with ${sets.length} sets${o.hook === 'none' ? '' : `, jumped to from ${o.hook}`}${ingress ? `; chain ${o.inChain}${o.inHook === 'none' ? '' : `, jumped to from ${o.inHook}`}` : ''}"`,
    '',
  ].join('\n');
}

/** Loopback, established flows, NDP and MLD, and the --allow-also flows: accepted before a final deny. */
function hostEssentials(family: 4 | 6, chain: string, also: readonly AllowAlso[]): string[] {
  const c = (s: string) => `-A ${chain} ${s}`;
  const out = [c('-o lo -j ACCEPT'), c('-m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT')];
  if (family === 6)
    for (const t of [133, 135, 136, 130, 131, 132, 143])
      out.push(c(`-p ipv6-icmp -m icmp6 --icmpv6-type ${t} -j ACCEPT`));
  for (const a of also.filter((x) => x.family === family))
    out.push(
      c(
        `-d ${a.prefix}${a.protocol ? ` -p ${a.protocol} --dport ${a.port}` : ''} -m comment --comment "allow-also" -j ACCEPT`,
      ),
    );
  return out;
}

/** The drops closing the ingress ports to all but the accepted sources (match part of each rule). */
function serviceDrops(ingress: readonly Rule[]): string[] {
  const out = new Set<string>();
  for (const r of ingress) {
    const locals = r.local ? r.local.toArray().map((l) => ` -d ${l}`) : [''];
    if (r.bucket.protocol === 'any') {
      if (r.local)
        for (const to of locals)
          out.add(`${to} -m comment --comment "ingress: others to the local side"`);
      continue;
    }
    for (const to of locals)
      for (const pm of portMatches(r))
        out.add(`${to}${pm} -m comment --comment "ingress: others on these ports"`);
  }
  return [...out];
}

/** What the files enforce once applied with the apply script. */
export function iptEnforcement(rules: readonly Rule[], o: IptOptions): Enforcement {
  const egress = rules.some((r) => r.direction !== 'ingress'),
    ingress = rules.some((r) => r.direction === 'ingress');
  const parts: string[] = [];
  let mode: Enforcement['mode'] = 'allow-only';
  let inert = true;
  if (egress) {
    if (o.hook === 'none')
      parts.push(`integration: enforces nothing until your chain jumps to ${o.chain}`);
    else if (o.final) {
      parts.push(
        `allowlist, default ${o.final} in ${o.chain} (jumped to from ${o.hook}; loopback, established, NDP, MLD${o.allowAlso?.length ? ' and --allow-also' : ''} pass)`,
      );
      mode = 'default-deny';
      inert = false;
    } else
      parts.push(
        `allow rules only: traffic outside them is decided by your ${o.hook} policy (--ipt-final drop makes it an allowlist)`,
      );
    if (o.hook === 'none') mode = 'integration';
  }
  if (ingress) {
    if (o.inHook === 'none')
      parts.push(`ingress: enforces nothing until your chain jumps to ${o.inChain}`);
    else {
      const inRules = rules.filter((r) => r.direction === 'ingress');
      // an address-only ingress rule without a local side closes nothing: said, not claimed
      const open = inRules.some((r) => r.bucket.protocol === 'any' && !r.local);
      if (serviceDrops(inRules).length) {
        parts.push(
          `ingress: only the feed's sources reach the ingress ports; other ports are untouched${open ? '; address-only ingress rules without --local close nothing' : ''}`,
        );
        if (mode !== 'default-deny') mode = 'service';
        inert = false;
      } else
        parts.push('ingress: allow rules only (address-only rules without --local close nothing)');
    }
  }
  return {
    mode,
    text: parts.length ? parts.join('; ') : 'nothing: this run has no IP rules',
    inert,
  };
}

/**
 * One restore file: both chains declared and flushed on every load (an ingress rule a later run
 * no longer has goes from the kernel too), egress rules to the sets, ingress rules from them.
 */
function restoreFile(rules: readonly Rule[], family: 4 | 6, o: IptOptions): string {
  const lines = [
    `# load with: ${family === 4 ? 'iptables' : 'ip6tables'}-restore --noflush ${family === 4 ? V4_FILE : V6_FILE}${o.ipset ? ` (after: ipset restore -f ${IPSET_FILE})` : ''}`,
    '*filter',
    `:${o.chain} - [0:0]`,
    `:${o.inChain} - [0:0]`,
    `-F ${o.chain}`,
    `-F ${o.inChain}`,
  ];
  // with --ipt-final the egress chain is an allowlist: what a host needs passes first
  if (o.final) lines.push(...hostEssentials(family, o.chain, o.allowAlso ?? []));
  for (const r of rules.filter((x) => x.family === family)) {
    const comment = ` -m comment --comment "${provenanceText(r, IPT_LIMITS.commentLength)}"`;
    const ingress = r.direction === 'ingress';
    const chain = ingress ? o.inChain : o.chain;
    // ingress: towards each local prefix (or any), from the set
    const locals = ingress && r.local ? r.local.toArray().map((l) => ` -d ${l}`) : [''];
    for (const to of locals)
      for (const pm of portMatches(r)) {
        if (o.ipset)
          lines.push(
            `-A ${chain}${to}${pm} -m set --match-set ${ipsetName(r, o.chain)} ${ingress ? 'src' : 'dst'}${comment} -j ACCEPT`,
          );
        else
          for (const p of r.prefixes)
            lines.push(`-A ${chain} ${ingress ? '-s' : '-d'} ${p}${to}${pm}${comment} -j ACCEPT`);
      }
  }
  if (o.final)
    lines.push(
      `-A ${o.chain} -m comment --comment "m365fw: default deny" -j ${o.final === 'drop' ? 'DROP' : family === 4 ? 'REJECT --reject-with icmp-port-unreachable' : 'REJECT --reject-with icmp6-port-unreachable'}`,
    );
  // ingress restricts the service, not the host: others on the ingress ports are dropped here,
  // every other port returns to your INPUT chain untouched
  for (const l of serviceDrops(
    rules.filter((x) => x.family === family && x.direction === 'ingress'),
  ))
    lines.push(`-A ${o.inChain}${l} -j DROP`);
  lines.push('COMMIT');
  return lines.join('\n') + '\n';
}

/** Whether a rule holds a /0 (then it is its only prefix: a minimal cover has nothing beside it). */
const hasSlash0 = (r: Rule): boolean =>
  r.prefixes.count === 1 && r.prefixes.toArray()[0].endsWith('/0');

/**
 * One `ipset restore` input: every set replaced atomically (create, fill a temp set, swap). The
 * `add` lines of a large set are written from the rule's prefixes as bytes (pieces).
 */
function ipsetFile(rules: readonly Rule[], chain: string): Uint8Array[] {
  const out = new Pieces().add(`# load with: ipset restore -f ${IPSET_FILE}\n`);
  for (const r of rules) {
    const name = ipsetName(r, chain),
      tmp = `${name}${TMP_SUFFIX}`;
    const count = r.prefixes.count + (hasSlash0(r) ? 1 : 0);
    if (count > IPT_LIMITS.maxelem)
      throw new TargetLimitError(
        'iptables',
        `set ${name} would hold ${count} entries, more than the ${IPT_LIMITS.maxelem} (maxelem) it is created with`,
      );
    const params = `hash:net family ${r.family === 4 ? 'inet' : 'inet6'} maxelem ${IPT_LIMITS.maxelem}`;
    out.add(`create ${name} ${params} -exist\ncreate ${tmp} ${params} -exist\nflush ${tmp}\n`);
    if (r.prefixes.count <= 1) for (const e of ipsetEntries(r)) out.add(`add ${tmp} ${e}\n`);
    else
      out
        .add(`add ${tmp} `)
        .add(r.prefixes.bytes(`\nadd ${tmp} `))
        .add('\n');
    out.add(`swap ${tmp} ${name}\ndestroy ${tmp}\n`);
  }
  return out.done();
}

export function renderIptables(
  model: RuleModel,
  o: IptOptions,
  ctx: RenderContext,
): { files: TargetFile[]; findings: Finding[]; enforcement: Enforcement } {
  if (o.inChain === o.chain)
    throw new TargetLimitError(
      'iptables',
      `--ipt-in-chain and --ipt-chain are both ${o.inChain}: each direction needs a chain of its own`,
    );
  if (o.allowAlso && !o.final)
    throw new TargetLimitError(
      'iptables',
      '--allow-also opens flows in front of the final deny: it needs --ipt-final drop or reject',
    );
  const ingress = model.rules.some((r) => r.direction === 'ingress');
  const comment = { line: '#' } as const;
  const files: TargetFile[] = [
    ...(o.ipset ? [{ path: IPSET_FILE, body: ipsetFile(model.rules, o.chain), comment }] : []),
    { path: V4_FILE, body: restoreFile(model.rules, 4, o), comment },
    { path: V6_FILE, body: restoreFile(model.rules, 6, o), comment },
  ];
  const sets = o.ipset ? model.rules.map((r) => ipsetName(r, o.chain)).sort() : [];
  // the sums are of the files as written, provenance included: the writer's own function says so
  const written = files.map((f) => ({
    path: f.path,
    pieces: artifactPieces(withProvenance(f, ctx.provenance)),
  }));
  // plan compares those files on their own: the script's stable body leaves the sums out
  files.push({
    path: APPLY_FILE,
    body: applyScript(written, sets, o, ingress),
    stableBody: applyScript(written, sets, o, ingress, false),
    comment,
  });
  const findings: Finding[] = [];
  for (const r of model.rules) {
    if (o.ipset && hasSlash0(r))
      findings.push({
        kind: 'split',
        target: 'iptables',
        setIds: r.provenance.setIds,
        entry: r.key,
        detail: 'a /0 is stored in the hash:net set as its two /1 halves (same addresses)',
      });
    if (r.bucket.protocol !== 'any' && multiportChunks(r.bucket.ports).length > 1)
      findings.push({
        kind: 'split',
        target: 'iptables',
        setIds: r.provenance.setIds,
        entry: r.key,
        detail: `port set needs ${multiportChunks(r.bucket.ports).length} rules (multiport takes 15 slots)`,
      });
  }
  return { files, findings, enforcement: iptEnforcement(model.rules, o) };
}

export const iptables = defineTarget({
  name: 'iptables',
  files: /^(?:m365fw\.(?:ipset|v4|v6)|m365fw-iptables-apply\.sh)$/,
  summary:
    'iptables-restore/ip6tables-restore files (--noflush) with a chain of their own, plus one ipset restore file',
  capabilities: {
    fqdn: false,
    wildcard: false,
    mixedFamilies: false,
    portRanges: true,
    ingress: true,
  },
  limits: IPT_LIMITS,
  options: IPT_OPTIONS,
  render: (model, o, ctx) => renderIptables(model, o, ctx),
});
