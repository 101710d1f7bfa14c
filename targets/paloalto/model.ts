import { createHash } from 'node:crypto';
import type { Finding, Provenance, Rule, RuleModel, UrlRule } from '../../src/model.js';
import { portsText, type PortRange } from '../../src/net/ports.js';
import { provenanceText, safeText } from '../common.js';
import { option, type OptionValues } from '../define.js';
import { TargetLimitError } from '../types.js';
import { looksLikeAddress, parseCidr } from '../../src/values.js';
import { compareIds, mergeProvenance, PrefixSet, type PortBucket } from '../../src/model.js';

/** PAN-OS limits (names per the PAN-OS docs, lengths per Palo Alto's structure specs). */
export const PANOS_LIMITS = {
  objectNameLength: 63,
  ruleNameLength: 63,
  urlCategoryNameLength: 31,
  edlNameLength: 32,
  objectDescriptionLength: 1023,
  ruleDescriptionLength: 1024,
  urlCategoryDescriptionLength: 255,
  fqdnLength: 255,
  servicePortLength: 1023,
  /** default capacity of one EDL (entries) and of the number of EDLs; both are options */
  edlEntries: 50000,
  edlLists: 30,
  /** address objects one config may reasonably carry before EDLs are the better tool */
  addressObjects: 20000,
} as const;

export const NAME = /^[A-Za-z0-9][A-Za-z0-9 _-]*$/;
const ZONE = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,30}$/;
const RULE_REF = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,62}$/;
const SOURCE =
  /^(any|[A-Za-z0-9][A-Za-z0-9 _-]{0,62}|[0-9.]+\/[0-9]{1,2}|[0-9A-Fa-f:]+\/[0-9]{1,3})$/;

/**
 * Where the objects and rules go (the locations of Palo Alto's specs): a firewall's vsys, a
 * Panorama device group (pre- or post-rulebase), or Panorama's shared scope.
 */
export type PanosScope =
  | { kind: 'vsys'; name: string }
  | { kind: 'device-group'; name: string; rulebase: Rulebase }
  | { kind: 'shared'; rulebase: Rulebase };
export type Rulebase = 'pre-rulebase' | 'post-rulebase';
/** The device entry of both a firewall's and Panorama's config. */
export const PANOS_DEVICE = 'localhost.localdomain';
const SCOPE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,30}$/;

/** "vsys:vsys1", "device-group:branches:pre-rulebase", "shared:post-rulebase". */
export function scopeText(s: PanosScope): string {
  return s.kind === 'vsys'
    ? `vsys:${s.name}`
    : s.kind === 'shared'
      ? `shared:${s.rulebase}`
      : `device-group:${s.name}:${s.rulebase}`;
}

/** Read back scopeText (from the previous report: untrusted), or undefined when it is not one. */
export function parseScopeText(t: string): PanosScope | undefined {
  const m =
    /^(?:vsys:([^:]+)|device-group:([^:]+):(pre-rulebase|post-rulebase)|shared:(pre-rulebase|post-rulebase))$/.exec(
      t,
    );
  if (!m) return undefined;
  const name = m[1] ?? m[2];
  if (name !== undefined && (!SCOPE_NAME.test(name) || name === 'shared')) return undefined;
  if (m[1]) return { kind: 'vsys', name: m[1] };
  if (m[2]) return { kind: 'device-group', name: m[2], rulebase: m[3] as Rulebase };
  return { kind: 'shared', rulebase: m[4] as Rulebase };
}

/** The element path of the scope's objects (Palo Alto's spec "locations"), below <config>. */
export function scopePath(s: PanosScope): [string, string?][] {
  if (s.kind === 'shared') return [['shared']];
  return [
    ['devices'],
    ['entry', PANOS_DEVICE],
    [s.kind === 'vsys' ? 'vsys' : 'device-group'],
    ['entry', s.name],
  ];
}

/** The rulebase element that holds security rules in this scope. */
export const rulebaseOf = (s: PanosScope): string => (s.kind === 'vsys' ? 'rulebase' : s.rulebase);

/** The words after set/delete/move that address this scope ("" for a single-vsys firewall's vsys1). */
export function scopeWords(s: PanosScope): string {
  if (s.kind === 'vsys') return s.name === 'vsys1' ? '' : `vsys ${s.name} `;
  return s.kind === 'shared' ? 'shared ' : `device-group ${s.name} `;
}

export interface PanosOptions {
  scope: PanosScope;
  fromZones: string[];
  toZones: string[];
  sources: string[];
  /** the zones of the ingress rules (from the Internet side to yours) */
  inFromZones: string[];
  inToZones: string[];
  edlUrlBase?: string;
  edlMaxEntries: number;
  edlMaxLists: number;
  maxAddressObjects: number;
  /** each rule's prefixes in an EDL of its own instead of address objects */
  ipEdl: boolean;
  /** a previous scope the user named: the previous run's objects may be deleted there too */
  previousScope?: PanosScope;
  /** where the rules go in the rulebase: left where `set` puts them (the bottom), the top, or before a rule */
  move?: { where: 'top' } | { where: 'before'; rule: string };
}

const EDL_URL = /^https?:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?(\/[A-Za-z0-9._~/-]*)?$/;
/** A comma-separated list of names (and, for sources, prefixes): what is wrong, or undefined. */
const nameList = (re: RegExp, flag: string) => (v: string) => {
  for (const z of v.split(',')) {
    if (!re.test(z)) return `${JSON.stringify(z)} is not a valid name`;
    if (flag === '--panos-source' && looksLikeAddress(z)) {
      try {
        parseCidr(flag, z);
      } catch (e) {
        return (e as Error).message;
      }
    }
  }
  return undefined;
};
const moveOf = (mv: string): PanosOptions['move'] | undefined => {
  if (mv === 'top') return { where: 'top' };
  const m = /^before:(.+)$/.exec(mv);
  return m && RULE_REF.test(m[1]) ? { where: 'before', rule: m[1] } : undefined;
};

export const PANOS_OPTIONS = {
  scope: option.optionalText(
    '--panos-scope <scope>',
    'where objects and rules go: vsys:NAME (a firewall, default vsys:vsys1), device-group:NAME or shared (Panorama)',
  ),
  rulebase: option.optionalChoice(
    '--panos-rulebase <which>',
    'Panorama scopes: the pre (default) or post rulebase',
    ['pre', 'post'] as const,
  ),
  vsys: option.optionalText(
    '--panos-vsys <name>',
    'vsys the objects go in (the same as --panos-scope vsys:NAME)',
  ),
  fromZone: option.text(
    '--panos-from-zone <zones>',
    'source zone(s), comma-separated',
    'any',
    nameList(ZONE, '--panos-from-zone'),
  ),
  toZone: option.text(
    '--panos-to-zone <zones>',
    'destination zone(s), comma-separated',
    'any',
    nameList(ZONE, '--panos-to-zone'),
  ),
  inFromZone: option.text(
    '--panos-in-from-zone <zones>',
    'ingress rules: source zone(s), where Microsoft connects from, comma-separated',
    'any',
    nameList(ZONE, '--panos-in-from-zone'),
  ),
  inToZone: option.text(
    '--panos-in-to-zone <zones>',
    'ingress rules: destination zone(s), where your local side is, comma-separated',
    'any',
    nameList(ZONE, '--panos-in-to-zone'),
  ),
  source: option.text(
    '--panos-source <list>',
    'source address(es) or object names',
    'any',
    nameList(SOURCE, '--panos-source'),
  ),
  edlUrlBase: option.optionalText(
    '--panos-edl-url-base <url>',
    'where you host the edl-*.txt files: adds external-list objects',
    (b) => (EDL_URL.test(b) ? undefined : 'is not a plain http(s) URL'),
  ),
  edlMaxEntries: option.integer(
    '--panos-edl-max-entries <n>',
    'entries one EDL may hold on your platform',
    PANOS_LIMITS.edlEntries,
    1,
    1_000_000_000,
  ),
  edlMaxLists: option.integer(
    '--panos-edl-max-lists <n>',
    'EDLs your platform takes',
    PANOS_LIMITS.edlLists,
    1,
    1_000_000_000,
  ),
  maxAddressObjects: option.integer(
    '--panos-max-address-objects <n>',
    'address objects the config may create',
    PANOS_LIMITS.addressObjects,
    1,
    1_000_000_000,
  ),
  move: option.optionalText(
    '--panos-move <where>',
    'add move commands placing the rules: top, or before:RULE (e.g. before your deny-all rule)',
    (mv) =>
      moveOf(mv)
        ? undefined
        : 'top, or before:RULE with the name of one of your rules (letters, digits, "_", "-", ".", space)',
  ),
  previousScope: option.optionalText(
    '--panos-previous-scope <scope>',
    'the scope the previous run wrote to, as its report.json records it (vsys:NAME, device-group:NAME:pre-rulebase, shared:post-rulebase, …): its objects are deleted there; without it a previous run in another scope is refused',
    (t) =>
      parseScopeText(t)
        ? undefined
        : 'vsys:NAME, device-group:NAME:pre-rulebase|post-rulebase or shared:pre-rulebase|post-rulebase',
  ),
  ipEdl: option.flag(
    '--panos-ip-edl',
    "each rule's prefixes in an EDL of its own (edl-v4-<ports>.txt) instead of address objects; for large lists, needs --panos-edl-url-base",
  ),
};

/** The options as the objects need them, checked together. */
export function panosOptions(o: OptionValues<typeof PANOS_OPTIONS>): PanosOptions {
  const fail = (m: string): never => {
    throw new TargetLimitError('paloalto', m);
  };
  const list = (v: string, flag: string) =>
    v
      .split(',')
      .map((z) => (flag === '--panos-source' && looksLikeAddress(z) ? parseCidr(flag, z).text : z));
  const scope = scopeOf(o, fail);
  if (o.ipEdl && o.edlUrlBase === undefined)
    fail(
      '--panos-ip-edl needs --panos-edl-url-base: the rules name the lists, the firewall fetches them from there',
    );
  const move = o.move === undefined ? undefined : moveOf(o.move);
  const previousScope = o.previousScope === undefined ? undefined : parseScopeText(o.previousScope);
  return {
    ...(move ? { move } : {}),
    ...(previousScope ? { previousScope } : {}),
    scope,
    fromZones: list(o.fromZone, '--panos-from-zone'),
    toZones: list(o.toZone, '--panos-to-zone'),
    sources: list(o.source, '--panos-source'),
    inFromZones: list(o.inFromZone, '--panos-in-from-zone'),
    inToZones: list(o.inToZone, '--panos-in-to-zone'),
    edlUrlBase: o.edlUrlBase?.replace(/\/+$/, ''),
    edlMaxEntries: o.edlMaxEntries,
    edlMaxLists: o.edlMaxLists,
    maxAddressObjects: o.maxAddressObjects,
    ipEdl: o.ipEdl,
  };
}

/** --panos-scope (or the older --panos-vsys) and --panos-rulebase, checked together. */
function scopeOf(
  o: Pick<OptionValues<typeof PANOS_OPTIONS>, 'scope' | 'vsys' | 'rulebase'>,
  fail: (m: string) => never,
): PanosScope {
  const given = o.scope;
  const vsys = o.vsys;
  const rb = o.rulebase;
  const rulebase: Rulebase = rb === 'post' ? 'post-rulebase' : 'pre-rulebase';
  if (given !== undefined && vsys !== undefined)
    fail('--panos-vsys and --panos-scope both given; use --panos-scope vsys:NAME alone');
  const spec = given ?? `vsys:${vsys ?? 'vsys1'}`;
  const m = /^(vsys|device-group):(.*)$|^(shared)$/.exec(spec);
  const name = m?.[2];
  const flag = given !== undefined ? '--panos-scope' : '--panos-vsys';
  if (!m || (name !== undefined && !SCOPE_NAME.test(name)))
    fail(
      `${flag} ${JSON.stringify(given ?? vsys)}: vsys:NAME, device-group:NAME or shared (a name is 1-31 letters, digits, "_", "." or "-")`,
    );
  if (name === 'shared')
    fail(
      `${flag} ${JSON.stringify(spec)}: a vsys or device group cannot be named "shared"; use --panos-scope shared`,
    );
  if (m[1] === 'vsys') {
    if (rb !== undefined)
      fail(
        '--panos-rulebase applies to Panorama scopes (device-group:NAME, shared), not to a vsys',
      );
    return { kind: 'vsys', name: name! };
  }
  if (m[1] === 'device-group') return { kind: 'device-group', name: name!, rulebase };
  return { kind: 'shared', rulebase };
}

export interface PAddress {
  name: string;
  kind: 'ip-netmask' | 'fqdn';
  value: string;
}
export interface PGroup {
  name: string;
  members: string[];
  description: string;
}
export interface PService {
  name: string;
  protocol: 'tcp' | 'udp';
  port: string;
}
export interface PUrlCategory {
  name: string;
  members: string[];
  description: string;
}
export interface PExternalList {
  name: string;
  type: 'ip' | 'url';
  url: string;
  description: string;
}
export interface PRule {
  name: string;
  from: string[];
  to: string[];
  source: string[];
  destination: string[];
  service: string[];
  category: string[];
  description: string;
}
export interface PanosConfig {
  scope: PanosScope;
  tag: string;
  addresses: PAddress[];
  groups: PGroup[];
  services: PService[];
  urlCategories: PUrlCategory[];
  externalLists: PExternalList[];
  rules: PRule[];
  edl: { ipv4: readonly string[]; ipv6: readonly string[]; urls: string[] };
  /** with --panos-ip-edl: the file each rule's EDL is served from, and the rule whose prefixes it holds */
  ruleEdls: { file: string; rule: Rule }[];
}

export const TAG = 'm365fw';
const hash = (s: string, n: number) => createHash('sha256').update(s).digest('hex').slice(0, n);

/** Fit a name into max characters, keeping it unique with a content hash when cut. */
export function fitName(name: string, max: number): string {
  return name.length <= max ? name : `${name.slice(0, max - 9)}-${hash(name, 8)}`;
}
export const addressName = (prefix: string) =>
  fitName(`m365-${prefix.replace(/[.:]/g, '_').replace('/', '-')}`, PANOS_LIMITS.objectNameLength);
export const fqdnName = (host: string) =>
  fitName(`m365-fqdn-${host.replace(/\./g, '_')}`, PANOS_LIMITS.objectNameLength);
/**
 * "tcp_80_443": the port bucket shared by both families and the URLs, from the protocol and the
 * ports themselves (never from a rule key, whose hashed form differs between IP and URL rules).
 */
export const bucketOf = ({ protocol, ports }: PortBucket): string =>
  protocol === 'any' ? 'any' : `${protocol}_${portsText(ports, 'to').replace(/,/g, '_')}`;

/**
 * PAN-OS URL-list form of a feed URL entry, and whether that form is wider than the entry.
 * A "*" must be a whole token; a trailing "/" keeps example.com from matching example.com.evil.
 */
export function panosUrl(
  host: string,
  kind: UrlRule['entries'][number]['kind'],
): { entry: string; widened?: string } {
  // PAN-OS URL lists: a "*" stands for whole tokens only, so a label holding one becomes "*"
  const labels = host.split('.');
  const entry = labels.map((l) => (l.includes('*') ? '*' : l)).join('.');
  const partial = labels.some((l) => l.includes('*') && l !== '*');
  if (partial)
    return {
      entry: `${entry}/`,
      widened: `a "*" inside a label is not PAN-OS syntax: ${host} widened to ${entry}`,
    };
  if (kind === 'tenant')
    return {
      entry: `${entry}/`,
      widened: `tenant placeholder matches every tenant (pass --tenant to narrow it)`,
    };
  return { entry: `${entry}/` };
}

type PBucket = { ip: Rule[]; url?: UrlRule };

/** The rule model's buckets, egress and ingress ("in:tcp_25") apart, in name order. */
function panosBuckets(model: RuleModel): [string, PBucket][] {
  // ingress buckets apart: their rules go the other way and carry no URL
  const buckets = new Map<string, PBucket>();
  for (const r of model.rules) {
    const b = (r.direction === 'ingress' ? 'in:' : '') + bucketOf(r.bucket);
    buckets.set(b, { ip: [...(buckets.get(b)?.ip ?? []), r], url: buckets.get(b)?.url });
  }
  for (const u of model.urlRules) {
    const b = bucketOf(u.bucket);
    buckets.set(b, { ip: buckets.get(b)?.ip ?? [], url: u });
  }
  return [...buckets.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

const byName = <T extends { name: string }>(xs: T[]) =>
  xs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

/** The objects of one PAN-OS configuration, built bucket by bucket from the rule model. */
class PanosBuilder {
  readonly findings: Finding[] = [];
  readonly addresses = new Map<string, PAddress>();
  readonly groups: PGroup[] = [];
  readonly services = new Map<string, PService>();
  readonly urlCategories: PUrlCategory[] = [];
  readonly rules: PRule[] = [];
  readonly ruleExternal: PExternalList[] = [];
  readonly ruleEdls: PanosConfig['ruleEdls'] = [];
  readonly edlUrls = new Set<string>();
  /** the URL entries a rule enforces: every FQDN object, and wildcards in a category on a web port */
  readonly enforcedNames: string[] = [];
  /** names rewritten wider (URL category and edl-urls.txt): reported once each */
  readonly widened = new Map<string, { entry: string; why: string; setIds: Set<string> }>();

  constructor(readonly o: PanosOptions) {}

  addAddress(a: PAddress): void {
    const prev = this.addresses.get(a.name);
    if (prev && prev.value !== a.value)
      throw new TargetLimitError('paloalto', `two objects would share the name ${a.name}`);
    this.addresses.set(a.name, a);
  }

  /** The bucket's service objects; PAN-OS rules always name one. */
  service(
    key: string,
    bucket: string,
    ip: Rule[],
    proto: string,
    ports: readonly PortRange[],
  ): string[] {
    if (proto === 'any') {
      // addresses alone become TCP and UDP on every port
      for (const p of ['tcp', 'udp'] as const)
        this.services.set(`m365-svc-${p}-all`, {
          name: `m365-svc-${p}-all`,
          protocol: p,
          port: '1-65535',
        });
      this.findings.push({
        kind: 'dropped',
        target: 'paloalto',
        setIds: ip.flatMap((r) => r.provenance.setIds),
        entry: key,
        detail:
          'an address-only rule is rendered for TCP and UDP on every port; other IP protocols (ICMP, ESP, …) are not allowed',
      });
      return ['m365-svc-tcp-all', 'm365-svc-udp-all'];
    }
    const port = portsText(ports);
    if (port.length > PANOS_LIMITS.servicePortLength)
      throw new TargetLimitError(
        'paloalto',
        `port list of ${bucket} is longer than ${PANOS_LIMITS.servicePortLength} characters`,
      );
    const name = fitName(`m365-svc-${bucket}`, PANOS_LIMITS.objectNameLength);
    this.services.set(name, { name, protocol: proto as 'tcp' | 'udp', port });
    return [name];
  }

  /** The IP rules' destinations: an address group per rule, or with --panos-ip-edl an EDL each. */
  ipDestinations(ip: Rule[], bucket: string, dir: string, out: string[], prov: Provenance[]): void {
    for (const r of ip) {
      prov.push(r.provenance);
      if (this.o.ipEdl) {
        // the rule's own prefixes, exactly: one list per family and port bucket, never the union
        const file = `edl-${dir}v${r.family}-${fitName(bucket, 40)}.txt`;
        const name = fitName(`m365-edl-${dir}v${r.family}-${bucket}`, PANOS_LIMITS.edlNameLength);
        const n = r.prefixes.count;
        if (n > this.o.edlMaxEntries)
          throw new TargetLimitError(
            'paloalto',
            `EDL ${name} holds ${n} entries, over --panos-edl-max-entries ${this.o.edlMaxEntries} by ${n - this.o.edlMaxEntries}; check your platform's EDL capacity or narrow the input`,
          );
        this.ruleExternal.push({
          name,
          type: 'ip',
          url: `${this.o.edlUrlBase}/${file}`,
          description: provenanceText(r, PANOS_LIMITS.objectDescriptionLength),
        });
        this.ruleEdls.push({ file, rule: r });
        out.push(name);
        continue;
      }
      for (const p of r.prefixes)
        this.addAddress({ name: addressName(p), kind: 'ip-netmask', value: p });
      const g = fitName(`m365-grp-${dir}v${r.family}-${bucket}`, PANOS_LIMITS.objectNameLength);
      this.groups.push({
        name: g,
        members: [...new Set(r.prefixes.toArray().map(addressName))].sort(),
        description: provenanceText(r, PANOS_LIMITS.objectDescriptionLength),
      });
      out.push(g);
    }
  }

  /** Every URL entry in edl-urls.txt (widened ones said once); the FQDNs as a group of objects. */
  urlDestinations(
    url: UrlRule | undefined,
    bucket: string,
    proto: string,
    ports: readonly PortRange[],
    out: string[],
  ): void {
    for (const e of url?.entries ?? []) {
      const u = panosUrl(e.host, e.kind);
      this.edlUrls.add(u.entry);
      if (u.widened) {
        const w = this.widened.get(e.host) ?? {
          entry: u.entry,
          why: u.widened,
          setIds: new Set<string>(),
        };
        for (const id of e.setIds) w.setIds.add(id);
        this.widened.set(e.host, w);
      }
    }
    const fqdns = url?.entries.filter((e) => e.kind === 'fqdn') ?? [];
    if (!fqdns.length) return;
    for (const e of fqdns) this.enforcedNames.push(`${e.host} ${proto}/${portsText(ports)}`);
    for (const e of fqdns) {
      if (e.host.length > PANOS_LIMITS.fqdnLength)
        throw new TargetLimitError(
          'paloalto',
          `FQDN ${e.host} is longer than ${PANOS_LIMITS.fqdnLength}`,
        );
      this.addAddress({ name: fqdnName(e.host), kind: 'fqdn', value: e.host });
    }
    const g = fitName(`m365-grp-fqdn-${bucket}`, PANOS_LIMITS.objectNameLength);
    const setIds = [...new Set(fqdns.flatMap((e) => e.setIds))];
    this.groups.push({
      name: g,
      members: [...new Set(fqdns.map((e) => fqdnName(e.host)))].sort(),
      description: safeText(
        `FQDNs of sets ${setIds.join(',')}`,
        PANOS_LIMITS.objectDescriptionLength,
      ),
    });
    out.push(g);
  }

  /** Wildcards: a URL category and its rule on the web ports; what cannot be matched, reported. */
  wildcardRule(
    url: UrlRule,
    bucket: string,
    proto: string,
    ports: readonly PortRange[],
    service: string[],
  ): void {
    const wild = url.entries.filter((e) => e.kind !== 'fqdn');
    if (!wild.length) return;
    const unenforced = (entry: (e: UrlRule['entries'][number]) => string, detail: string) => {
      for (const e of wild)
        this.findings.push({
          kind: 'unenforced',
          target: 'paloalto',
          setIds: e.setIds,
          entry: entry(e),
          detail,
        });
    };
    if (proto === 'udp')
      return unenforced(
        (e) => `${e.host} udp/${portsText(ports)}`,
        'URL categories match HTTP host and TLS SNI; a wildcard on UDP (QUIC) cannot be enforced by URL category',
      );
    // URL filtering reads the HTTP Host header and the TLS SNI: enforced on the web ports (80, 443) only
    const covers = (n: number) => ports.some((p) => p.from <= n && n <= p.to);
    const otherPorts = ports.filter((p) => !(p.from === p.to && (p.from === 80 || p.from === 443)));
    if (otherPorts.length)
      unenforced(
        (e) => `${e.host} tcp/${portsText(otherPorts)}`,
        'a URL category matches the HTTP Host header or the TLS SNI, which traffic on these ports (other than 80 and 443) does not carry; the wildcard is not enforced there',
      );
    if (!covers(80) && !covers(443)) return;
    for (const e of wild) this.enforcedNames.push(`${e.host} ${proto}/${portsText(ports)}`);
    const cat = fitName(`m365-url-${bucket}`, PANOS_LIMITS.urlCategoryNameLength);
    this.urlCategories.push({
      name: cat,
      members: [...new Set(wild.map((e) => panosUrl(e.host, e.kind).entry))].sort(),
      description: safeText(
        `wildcard URLs of sets ${[...new Set(wild.flatMap((e) => e.setIds))].join(',')} on ${proto}/${portsText(ports)}`,
        PANOS_LIMITS.urlCategoryDescriptionLength,
      ),
    });
    this.rules.push({
      name: fitName(`m365-url-${bucket}`, PANOS_LIMITS.ruleNameLength),
      from: this.o.fromZones,
      to: this.o.toZones,
      source: this.o.sources,
      destination: ['any'],
      service,
      category: [cat],
      description: safeText(`URL category ${cat}`, PANOS_LIMITS.ruleDescriptionLength),
    });
  }

  /** One bucket: its service, destinations and rules (ingress: from the feed to the local side). */
  bucket(key: string, { ip, url }: PBucket): void {
    const ingress = key.startsWith('in:');
    const bucket = ingress ? key.slice(3) : key;
    const { protocol: proto, ports } = ip[0]?.bucket ?? url!.bucket;
    const service = this.service(key, bucket, ip, proto, ports);
    const destination: string[] = [];
    const provenance: Provenance[] = [];
    // what ingress objects' names carry ("m365-grp-in-v4-tcp_25")
    this.ipDestinations(ip, bucket, ingress ? 'in-' : '', destination, provenance);
    this.urlDestinations(url, bucket, proto, ports, destination);
    const described = (fallback: string) =>
      safeText(
        ip.length
          ? provenanceText(
              { provenance: mergeProvenance(provenance) },
              PANOS_LIMITS.ruleDescriptionLength,
            )
          : fallback,
        PANOS_LIMITS.ruleDescriptionLength,
      );
    if (ingress) {
      // from Microsoft's prefixes (the groups or EDLs above) to the local side, on the local ports
      const locals = [...new Set(ip.flatMap((r) => (r.local ? r.local.toArray() : [])))].sort();
      this.rules.push({
        name: fitName(`m365-in-${bucket}`, PANOS_LIMITS.ruleNameLength),
        from: this.o.inFromZones,
        to: this.o.inToZones,
        source: destination.sort(),
        destination: locals.length ? locals : ['any'],
        service,
        category: ['any'],
        description: described(''),
      });
      return;
    }
    if (destination.length)
      this.rules.push({
        name: fitName(`m365-${bucket}`, PANOS_LIMITS.ruleNameLength),
        from: this.o.fromZones,
        to: this.o.toZones,
        source: this.o.sources,
        destination: destination.sort(),
        service,
        category: ['any'],
        description: described(`URL entries of ${bucket}`),
      });
    if (url) this.wildcardRule(url, bucket, proto, ports, service);
  }

  /** The widened URL entries, once each. */
  widenedFindings(): void {
    for (const [host, w] of this.widened)
      this.findings.push({
        kind: 'widened',
        target: 'paloalto',
        setIds: [...w.setIds].sort(compareIds),
        entry: `${host} → ${w.entry}`,
        detail: `${w.why} (the form PAN-OS URL lists take: custom URL categories and edl-urls.txt)`,
      });
  }

  /** The three EDLs (egress prefixes per family, every URL), held to the platform's limits. */
  edls(model: RuleModel): PanosConfig['edl'] {
    if (this.addresses.size > this.o.maxAddressObjects)
      throw new TargetLimitError(
        'paloalto',
        `${this.addresses.size} address objects exceed --panos-max-address-objects ${this.o.maxAddressObjects} by ${this.addresses.size - this.o.maxAddressObjects}; put the prefixes in EDLs (--panos-ip-edl with --panos-edl-url-base) or narrow the input`,
      );
    // the EDLs of every destination are the egress rules' (an ingress source is not one)
    const egress = model.rules.filter((r) => r.direction !== 'ingress');
    const family = (f: 4 | 6) =>
      PrefixSet.union(
        f,
        egress.filter((r) => r.family === f).map((r) => r.prefixes),
      ).toArray();
    const edl = { ipv4: family(4), ipv6: family(6), urls: [...this.edlUrls].sort() };
    for (const [name, list] of Object.entries(edl))
      if (list.length > this.o.edlMaxEntries)
        throw new TargetLimitError(
          'paloalto',
          `EDL ${name} holds ${list.length} entries, over --panos-edl-max-entries ${this.o.edlMaxEntries} by ${list.length - this.o.edlMaxEntries}; check your platform's EDL capacity or narrow the input`,
        );
    const lists = Object.keys(edl).length + this.ruleEdls.length;
    if (lists > this.o.edlMaxLists)
      throw new TargetLimitError(
        'paloalto',
        `${lists} EDLs exceed --panos-edl-max-lists ${this.o.edlMaxLists}`,
      );
    return edl;
  }

  /** The external dynamic list objects, when there is a URL to fetch them from. */
  externalLists(): PExternalList[] {
    const base = this.o.edlUrlBase;
    if (!base) return [];
    const list = (name: string, type: 'ip' | 'url', file: string, what: string): PExternalList => ({
      name,
      type,
      url: `${base}/${file}`,
      description: `Microsoft 365 ${what} (m365fw)`,
    });
    return [
      list('m365-edl-ipv4', 'ip', 'edl-ipv4.txt', 'IPv4 prefixes'),
      list('m365-edl-ipv6', 'ip', 'edl-ipv6.txt', 'IPv6 prefixes'),
      list('m365-edl-urls', 'url', 'edl-urls.txt', 'URLs'),
      ...this.ruleExternal,
    ];
  }
}

/** Build every PAN-OS object from the rule model; pure. */
export function buildPanos(
  model: RuleModel,
  o: PanosOptions,
): { config: PanosConfig; findings: Finding[]; enforces: { rules: string[]; names: string[] } } {
  const b = new PanosBuilder(o);
  for (const [key, bucket] of panosBuckets(model)) b.bucket(key, bucket);
  b.widenedFindings();
  const edl = b.edls(model);
  return {
    config: {
      scope: o.scope,
      tag: TAG,
      addresses: byName([...b.addresses.values()]),
      groups: byName(b.groups),
      services: byName([...b.services.values()]),
      urlCategories: byName(b.urlCategories),
      externalLists: byName(b.externalLists()),
      rules: b.rules,
      edl,
      ruleEdls: b.ruleEdls,
    },
    findings: b.findings,
    enforces: { rules: model.rules.map((r) => r.key), names: b.enforcedNames },
  };
}
