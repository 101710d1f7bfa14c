/** The contract between sources, compile passes, targets and reports. */
import type { Family } from './net/prefix.js';
import type { PortRange } from './net/ports.js';
import type { UrlKind } from './net/hostname.js';
import type { V4Accumulator } from './net/merge.js';
import type { V6Accumulator } from './net/v6bulk.js';

export type { Family, PortRange, UrlKind };

/** A large plain prefix list, parsed into intervals per family (never a string per entry). */
export interface PrefixBulk {
  v4: V4Accumulator;
  v6: V6Accumulator;
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
  ips: { v4: string[]; v6: string[] };
  /** Large plain lists: prefixes already parsed into intervals (never strings per entry). */
  bulk?: PrefixBulk;
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

/** One rule: a family, a protocol, a port set and the merged destination prefixes. */
export interface Rule {
  key: string;
  family: Family;
  protocol: Protocol;
  ports: PortRange[];
  prefixes: string[];
  provenance: Provenance;
}

/** URL destinations sharing a protocol and port set. */
export interface UrlRule {
  key: string;
  protocol: Exclude<Protocol, 'any'>;
  ports: PortRange[];
  /** host → provenance for that host in this bucket */
  entries: { host: string; kind: UrlKind; setIds: string[]; categories: Category[] }[];
}

export type FindingKind =
  'dropped' | 'widened' | 'unenforced' | 'excluded' | 'override' | 'unmatched-exclude' | 'split';

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
}
