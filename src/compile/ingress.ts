/**
 * The ingress selection: which sets become rules from Microsoft's prefixes (the source) to the
 * local side, on which ports. Presets name set ids per instance and ports; the prefixes are the
 * feed's. A preset whose set is missing or changed meaning in the feed is refused, never guessed.
 */
import { InputError, showValue } from '../errors.js';
import type { CompileOptions, DirectionChoice, EndpointSet, Finding, InputInfo } from '../model.js';
import { intersectPorts, portsText, type PortRange } from '../net/ports.js';
import { PrefixSet } from '../net/prefixset.js';
import { canonicalPrefix, PrefixSyntaxError } from '../net/prefix.js';
import { filterSets } from './filter.js';
import { presetNamed, presetNames, type Preset } from './presets.js';

export interface DirectionSelection {
  direction: DirectionChoice;
  egress: EndpointSet[];
  /** copies of the selected sets with their ingress ports */
  ingress: EndpointSet[];
  /** the local destinations per family; undefined: any local address */
  local?: { v4: PrefixSet; v6: PrefixSet };
  findings: Finding[];
}

const samePorts = (a: readonly PortRange[], b: readonly PortRange[]) =>
  portsText(a) === portsText(b);

/** The local side's prefixes, per family (each canonical, host bits clear). */
export function localPrefixes(
  name: string,
  texts: readonly string[],
): { v4: PrefixSet; v6: PrefixSet } {
  const v4: string[] = [],
    v6: string[] = [];
  for (const t of texts) {
    try {
      const p = canonicalPrefix(t, true);
      (p.family === 4 ? v4 : v6).push(p.text);
    } catch (e) {
      if (e instanceof PrefixSyntaxError)
        throw new InputError(name, `ingress local: ${e.message}`, undefined, 'local', t);
      throw e;
    }
  }
  return { v4: PrefixSet.of(4, v4), v6: PrefixSet.of(6, v6) };
}

function presetSets(
  name: string,
  p: Preset,
  all: readonly EndpointSet[],
  input: InputInfo,
): EndpointSet[] {
  const per = Object.values(p.sets).map((ids) => ids.join(','));
  // an input whose instance is unknown: only a preset with the same ids everywhere is unambiguous
  if (!input.instance && new Set(per).size > 1)
    throw new InputError(
      name,
      `preset ${p.name}: the feed's instance is unknown and the preset's set ids differ per instance; pass --instance (Worldwide, China, USGovDoD, USGovGCCHigh)`,
    );
  const instance = (input.instance ?? 'Worldwide') as keyof Preset['sets'];
  const ids = p.sets[instance];
  if (!ids)
    throw new InputError(
      name,
      `preset ${p.name} has no endpoint sets for instance ${showValue(input.instance)}`,
    );
  return ids.map((id) => {
    const s = all.find((x) => x.id === id);
    const where = `preset ${p.name} (instance ${input.instance ?? 'unknown'})`;
    if (!s)
      throw new InputError(name, `${where} names endpoint set ${id}, which is not in the feed`);
    if (s.serviceArea !== p.serviceArea)
      throw new InputError(
        name,
        `${where}: endpoint set ${id} is in service area ${showValue(s.serviceArea)}, not ${p.serviceArea}; the feed changed meaning, check ${p.docs[0].split(' ')[0]}`,
      );
    const ports = intersectPorts(s.tcpPorts, p.tcpPorts);
    if (!samePorts(ports, p.tcpPorts))
      throw new InputError(
        name,
        `${where}: endpoint set ${id} has TCP ports ${showValue(portsText(s.tcpPorts))}, which do not hold ${portsText(p.tcpPorts)}; the feed changed meaning`,
      );
    return { ...s, tcpPorts: ports, udpPorts: [], addressOnly: false };
  });
}

/** Restrict a set's ports to the ingress ports of the local side (absent: the set's own). */
function restrictPorts(s: EndpointSet, o: CompileOptions['ingress']): EndpointSet {
  if (!o?.tcpPorts && !o?.udpPorts) return s;
  const tcp = o.tcpPorts ?? [],
    udp = o.udpPorts ?? [];
  // an address-only set (a prefix list without ports) takes the local ports as given
  if (s.addressOnly) return { ...s, addressOnly: false, tcpPorts: tcp, udpPorts: udp };
  return {
    ...s,
    tcpPorts: intersectPorts(s.tcpPorts, tcp),
    udpPorts: intersectPorts(s.udpPorts, udp),
  };
}

/**
 * Split the sets by direction. `all` are the sets after the policy (ids sorted), `filtered` what
 * the filters kept. Without presets the filtered sets make the ingress rules, with their own
 * ports (restricted by the local side's ports when given); with presets, the presets' sets do.
 */
export function selectDirections(
  name: string,
  all: readonly EndpointSet[],
  filtered: EndpointSet[],
  o: CompileOptions,
  input: InputInfo,
): DirectionSelection {
  const presets = o.ingress?.presets ?? [];
  const direction: DirectionChoice = o.direction ?? (presets.length ? 'ingress' : 'egress');
  const hasIngressOptions =
    presets.length || o.ingress?.local || o.ingress?.tcpPorts || o.ingress?.udpPorts;
  if (direction === 'egress') {
    if (hasIngressOptions)
      throw new InputError(
        name,
        'presets, local addresses and local ports make ingress rules; use --direction ingress or both',
      );
    return { direction, egress: filtered, ingress: [], findings: [] };
  }
  for (const p of presets)
    if (!presetNamed(p))
      throw new InputError(
        name,
        `unknown preset ${showValue(p)}; the presets: ${presetNames().join(', ')} (m365fw presets)`,
      );
  const findings: Finding[] = [];
  let ingress: EndpointSet[];
  if (presets.length) {
    const family = { noIpv4: o.noIpv4, noIpv6: o.noIpv6 };
    ingress = filterSets(
      [...new Set(presets)].sort().flatMap((p) => presetSets(name, presetNamed(p)!, all, input)),
      family,
    );
  } else ingress = filtered;
  ingress = ingress.map((s) => restrictPorts(s, o.ingress));
  for (const s of ingress) {
    if (s.urls.length)
      findings.push({
        kind: 'dropped',
        setIds: [s.id],
        entry: `${s.urls.length} URLs (ingress)`,
        detail:
          "ingress rules match the source address; the set's URLs name destinations and are not rendered for ingress",
      });
  }
  // an empty list is not "any local address": leaving local out says that
  if (o.ingress?.local !== undefined && o.ingress.local.length === 0)
    throw new InputError(
      name,
      'ingress local: an empty list; give the local prefixes, or leave local out for any local address',
      undefined,
      'local',
      [],
    );
  const local = o.ingress?.local?.length ? localPrefixes(name, o.ingress.local) : undefined;
  return {
    direction,
    egress: direction === 'both' ? filtered : [],
    ingress: ingress.map((s) => ({ ...s, urls: [] })),
    ...(local ? { local } : {}),
    findings,
  };
}
