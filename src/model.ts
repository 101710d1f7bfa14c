/** The contract between sources, compile passes, targets and reports. */
import type { Family } from './net/prefix.js';
import { portsText, type PortRange } from './net/ports.js';
import type { UrlKind } from './net/hostname.js';
import { PrefixSet } from './net/prefixset.js';

export type { Family, PortRange, UrlKind };
export { PrefixSet };

/** A set's prefixes per family. */
export interface FamilyPrefixes {
  v4: PrefixSet;
  v6: PrefixSet;
}

/** Compare endpoint-set ids: numbers numerically, then names. */
export function compareIds(a: string, b: string): number {
  const na = /^[0-9]+$/.test(a),
    nb = /^[0-9]+$/.test(b);
  if (na && nb) return Number(a) - Number(b);
  if (na !== nb) return na ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
export type Category = 'Optimize' | 'Allow' | 'Default';
export const CATEGORIES: readonly Category[] = ['Optimize', 'Allow', 'Default'];
export type Protocol = 'tcp' | 'udp' | 'any';

/**
 * A protocol and a port set: the value IP rules and URL rules are grouped by. Identity by value:
 * `portBucket` returns the same frozen object for the same protocol and ports, so `===` compares
 * them, and `bucketId` names them ("tcp/80,443", "udp/3478-3481", "any").
 */
export interface PortBucket {
  readonly protocol: Protocol;
  readonly ports: readonly PortRange[];
}
const BUCKETS = new Map<string, PortBucket>();
export const bucketId = (protocol: Protocol, ports: readonly PortRange[]): string =>
  protocol === 'any' ? 'any' : `${protocol}/${portsText(ports)}`;
/** The bucket of (protocol, ports): ports sorted and merged already (as the sources give them). */
export function portBucket(protocol: Protocol, ports: readonly PortRange[]): PortBucket {
  const id = bucketId(protocol, ports);
  let b = BUCKETS.get(id);
  if (!b) {
    b = Object.freeze({
      protocol,
      ports: Object.freeze(
        protocol === 'any' ? [] : ports.map((p) => Object.freeze({ from: p.from, to: p.to })),
      ),
    });
    BUCKETS.set(id, b);
  }
  return b;
}

export interface UrlEntry {
  host: string;
  kind: UrlKind;
}

/** One endpoint set, validated and normalised (canonical prefixes, sorted merged ports). */
export interface EndpointSet {
  id: string;
  serviceArea: string;
  serviceAreaDisplayName?: string;
  category: Category;
  required: boolean;
  expressRoute: boolean;
  tcpPorts: PortRange[];
  udpPorts: PortRange[];
  /** Prefix lists without ports: match the addresses alone, any protocol. */
  addressOnly?: boolean;
  prefixes: FamilyPrefixes;
  urls: UrlEntry[];
  notes?: string;
  origin: 'feed' | 'policy' | 'prefixes';
  /** Mandatory for the user's own sets. */
  reason?: string;
}

export interface Provenance {
  setIds: string[];
  serviceAreas: string[];
  categories: Category[];
  required: boolean[];
}

const uniqSorted = <T extends string | boolean>(xs: T[]): T[] => [...new Set(xs)].sort();

/** Provenance of a group of sets, sorted and deduplicated. */
export function provenanceOf(sets: readonly EndpointSet[]): Provenance {
  return {
    setIds: [...new Set(sets.map((s) => s.id))].sort(compareIds),
    serviceAreas: uniqSorted(sets.map((s) => s.serviceArea)),
    categories: uniqSorted<Category>(sets.map((s) => s.category)),
    required: uniqSorted(sets.map((s) => s.required)),
  };
}

/** The provenance of several rules together (a PAN-OS rule over both families, say). */
export function mergeProvenance(ps: readonly Provenance[]): Provenance {
  return {
    setIds: [...new Set(ps.flatMap((p) => p.setIds))].sort(compareIds),
    serviceAreas: uniqSorted(ps.flatMap((p) => p.serviceAreas)),
    categories: uniqSorted<Category>(ps.flatMap((p) => p.categories)),
    required: uniqSorted(ps.flatMap((p) => p.required)),
  };
}

/**
 * One rule: a family, a port bucket and the merged prefixes, with where they came from. `key` is
 * the model's name for it, derived from family and bucket ("v4_tcp_80_443"): the report and the
 * guards compare runs by it; targets derive their own names from the bucket.
 */
export interface Rule {
  readonly key: string;
  /**
   * egress: to the prefixes (they are the destination); ingress: from the prefixes (the source),
   * to `local` (absent: any local address) on the bucket's ports
   */
  readonly direction: Direction;
  readonly family: Family;
  readonly bucket: PortBucket;
  readonly prefixes: PrefixSet;
  /** ingress only: the local destinations of that family (the policy's or --local), else any */
  readonly local?: PrefixSet;
  readonly provenance: Provenance;
}

/** Which side of a rule the feed's prefixes are on: destination (egress) or source (ingress). */
export type Direction = 'egress' | 'ingress';
/** What the selected sets compile to: egress rules, ingress rules, or both. */
export type DirectionChoice = Direction | 'both';
export const DIRECTIONS: readonly DirectionChoice[] = ['egress', 'ingress', 'both'];

/** The local side of ingress rules: where Microsoft's connections are allowed to, and on which ports. */
export interface IngressOptions {
  /** local destination prefixes (canonical text); none: any local address */
  local?: string[];
  /** the ingress ports restricted to these (a set's own ports are intersected with them) */
  tcpPorts?: PortRange[];
  udpPorts?: PortRange[];
  /** presets (m365fw presets) whose sets and ports make the ingress rules */
  presets?: string[];
}

/** URL destinations sharing a port bucket (TCP or UDP). */
export interface UrlRule {
  readonly key: string;
  readonly bucket: PortBucket & { readonly protocol: Exclude<Protocol, 'any'> };
  /** host → provenance for that host in this bucket */
  entries: { host: string; kind: UrlKind; setIds: string[]; categories: Category[] }[];
}

export type FindingKind =
  | 'dropped'
  | 'widened'
  | 'unenforced'
  | 'excluded'
  | 'override'
  | 'unmatched-exclude'
  | 'split'
  /** the output enforces nothing by itself (no default deny, no hook): said, never silent */
  | 'inert';

/**
 * What a target's output enforces once loaded as documented: its mode and one sentence. "inert"
 * says it restricts nothing by itself (allow rules under an accept policy, a chain nothing jumps to).
 */
export interface Enforcement {
  mode: 'default-deny' | 'service' | 'allow-only' | 'integration' | 'routing' | 'unstated';
  text: string;
  inert: boolean;
}

/** Something the user must know: nothing is dropped, widened or left unenforced silently. */
export interface Finding {
  kind: FindingKind;
  target?: string;
  setIds?: string[];
  entry?: string;
  detail: string;
}

export interface InputInfo {
  file: string;
  sha256: string;
  format: 'o365-json' | 'prefixes';
  instance?: string;
  version?: string;
  policy?: { file: string; sha256: string };
}

export interface CompileOptions {
  serviceAreas?: string[];
  categories?: Category[];
  requiredOnly?: boolean;
  noIpv6?: boolean;
  noIpv4?: boolean;
  expressRouteOnly?: boolean;
  tenant?: string;
  /** Implausible-entry classes allowed through the feed guard ("all" for every class). */
  allowImplausible?: string[];
  /** default egress; with presets, ingress */
  direction?: DirectionChoice;
  ingress?: IngressOptions;
}

/** The compiled rule model every target renders from. */
export interface RuleModel {
  input: InputInfo;
  options: CompileOptions;
  sets: EndpointSet[];
  rules: Rule[];
  urlRules: UrlRule[];
  findings: Finding[];
  stats: {
    setsIn: number;
    setsKept: number;
    prefixesIn: { v4: number; v6: number };
    prefixesMerged: { v4: number; v6: number };
  };
}

/**
 * How a file carries its provenance lines: line comments at the top ("#" after a "#!" line if
 * there is one), XML comments after the declaration, a JSON value at a path of the top-level
 * object (replacing what is there; `join` makes one string of the lines), or nowhere (files read
 * line by line as data, such as EDLs).
 */
export type CommentStyle =
  | { readonly line: '#' | '//' }
  | { readonly xml: true }
  | { readonly json: readonly string[]; readonly join?: string }
  | { readonly none: true };

export interface Artifact {
  path: string;
  content: string;
  /** `content` as UTF-8 pieces, in order (hashed and written from these; see src/io/pieces.ts) */
  pieces?: Uint8Array[];
  /**
   * What the artifact says about this run alone, when its content also holds the steps from the
   * previous run (PAN-OS deletes): plan compares this, so the same model is "no change".
   */
  stableContent?: string;
  /** sha256 of the body without its provenance (what plan compares), when the writer knows it */
  bodySha256?: string;
}

/** A parsed policy: your own endpoint sets, the excludes, the local side of ingress rules. */
export interface PolicyExclude {
  prefix?: { family: 4 | 6; text: string };
  url?: string;
  ids?: string[];
  reason: string;
  where: string;
}
export interface Policy {
  file: string;
  sha256: string;
  endpointSets: EndpointSet[];
  exclude: PolicyExclude[];
  /** the local side of ingress rules (addresses canonical, ports parsed) */
  ingress?: IngressOptions;
  /** why (reported with the ingress section) */
  ingressReason?: string;
  /** where each own endpoint set's id is written (file:line:column), for errors about it */
  idAt?: Record<string, string>;
}

/** One of Microsoft's /changes records, as read (src/sources/changes.ts). */
export interface ChangeRecord {
  id: string;
  endpointSetId: string;
  /** "add", "change", "remove" (lower case), or what the service sent when it is none of those */
  disposition: string;
  /** AddedIp, RemovedIpOrUrl, … (an unknown value is kept as it is) */
  impact?: string;
  version: string;
  add?: { effectiveDate?: string; ips: string[]; urls: string[] };
  remove?: { ips: string[]; urls: string[] };
  /** the set's attributes after the change, as far as the record says (what explains a port or flag change) */
  current?: SetAttributes;
}

/** The attributes of an endpoint set a record's `current` may carry (what enforcement depends on). */
export interface SetAttributes {
  serviceArea?: string;
  category?: string;
  required?: boolean;
  expressRoute?: boolean;
  tcpPorts?: string;
  udpPorts?: string;
}
