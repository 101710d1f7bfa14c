import type { Category, Finding, RuleModel } from '../../src/model.js';
import type { UrlKind } from '../../src/net/hostname.js';
import { defineTarget, option, type OptionValues, type RenderResult } from '../define.js';
import { TargetLimitError } from '../types.js';

export const PAC_FILE = 'm365fw.pac';
export const PAC_LIMITS = { proxyLength: 512 } as const;
const RANK: Record<Category, number> = { Optimize: 0, Allow: 1, Default: 2 };
/** PROXY host:port (or HTTPS/SOCKS…), several separated by "; ", optionally ending in DIRECT. */
const PROXY =
  /^((PROXY|HTTPS|SOCKS|SOCKS4|SOCKS5) [A-Za-z0-9.-]+:[0-9]{1,5}|DIRECT)(; ?((PROXY|HTTPS|SOCKS|SOCKS4|SOCKS5) [A-Za-z0-9.-]+:[0-9]{1,5}|DIRECT))*$/;

export interface PacEntry {
  host: string;
  kind: UrlKind;
  category: Category;
  direct: boolean;
}

/** Most direct category per host across every set and port bucket (Optimize > Allow > Default). */
export function pacEntries(model: RuleModel, type: 1 | 2): PacEntry[] {
  const best = new Map<string, { kind: UrlKind; category: Category }>();
  for (const u of model.urlRules)
    for (const e of u.entries) {
      for (const c of e.categories) {
        const prev = best.get(e.host);
        if (!prev || RANK[c] < RANK[prev.category]) best.set(e.host, { kind: e.kind, category: c });
      }
    }
  const directCats: Category[] = type === 1 ? ['Optimize'] : ['Optimize', 'Allow'];
  return [...best.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([host, v]) => ({
      host,
      kind: v.kind,
      category: v.category,
      direct: directCats.includes(v.category),
    }));
}

/** A regular expression source matching exactly what a wildcard entry means (validated hosts only). */
export function entryRegex(host: string, kind: UrlKind): string {
  if (kind === 'fqdn') throw new Error('exact names are not patterns');
  const labels = host.split('.');
  // a label is whatever the browser passes between dots (Chromium sends foo_bar.sharepoint.com
  // as it is), as Microsoft's own PAC generator matches with shExpMatch: never [a-z0-9-] alone
  const part = (l: string) =>
    l === '*'
      ? '[^.]+' /* tenant placeholder: one label */
      : l.replace('*', '[^.]*'); /* *cdn: within a label */
  // "*.d": one or more labels, then ".d"; other kinds: label by label
  return labels[0] === '*'
    ? `^(?:[^.]+\\.)+${labels.slice(1).map(part).join('\\.')}$`
    : `^${labels.map(part).join('\\.')}$`;
}

function matches(pattern: string, host: string): boolean {
  return new RegExp(pattern).test(host);
}
/** A concrete name inside a wildcard entry, to test whether another entry covers it. */
const sample = (host: string) => host.replace('*', 'm365fw-sample');

/** The proxy string: "PROXY host:port" (several separated by "; "), ports 1-65535. */
function proxyProblem(proxy: string): string | undefined {
  if (!PROXY.test(proxy) || proxy.length > PAC_LIMITS.proxyLength)
    return 'give "PROXY host:port" (several separated by "; ")';
  for (const m of proxy.matchAll(/:([0-9]+)/g))
    if (!/^[1-9][0-9]{0,4}$/.test(m[1]) || Number(m[1]) > 65535)
      return `port ${m[1]} is not 1-65535`;
  return undefined;
}

export const PAC_OPTIONS = {
  type: option.choice(
    '--pac-type <n>',
    '1: Optimize direct; 2: Optimize and Allow direct',
    ['1', '2'] as const,
    '1',
  ),
  proxy: option.optionalText(
    '--pac-proxy <value>',
    'what non-direct traffic returns, e.g. "PROXY proxy.corp:8080"',
    proxyProblem,
  ),
};

/**
 * What the file lists: exact names, and wildcard entries most specific first, so a proxied name or
 * wildcard that a direct wildcard covers is decided before that wildcard (the exception).
 */
function pacLists(model: RuleModel, type: 1 | 2): { exact: PacEntry[]; wild: PacEntry[] } {
  const entries = pacEntries(model, type);
  const directWild = entries.filter((e) => e.direct && e.kind !== 'fqdn');
  // (asked only of entries that are not direct, so never of a wildcard in directWild itself)
  const covered = (e: PacEntry) =>
    directWild.some((d) =>
      matches(entryRegex(d.host, d.kind), e.kind === 'fqdn' ? e.host : sample(e.host)),
    );
  const exact = entries.filter((e) => e.kind === 'fqdn' && (e.direct || covered(e)));
  const wild = entries
    .filter((e) => e.kind !== 'fqdn' && (e.direct || covered(e)))
    // most specific first: more fixed characters, then name order (deterministic)
    .sort(
      (a, b) =>
        b.host.replace(/\*/g, '').length - a.host.replace(/\*/g, '').length ||
        (a.host < b.host ? -1 : a.host > b.host ? 1 : 0),
    );
  return { exact, wild };
}

/** The PAC program (ES3): the two tables and FindProxyForURL. */
function pacProgram(type: 1 | 2, proxy: string, exact: PacEntry[], wild: PacEntry[]): string {
  const lit = (s: string) => JSON.stringify(s);
  const lines = [
    `// Microsoft 365 PAC file, type ${type}: ${type === 1 ? 'Optimize' : 'Optimize and Allow'} endpoints go DIRECT, everything else to the proxy.`,
    '// Decides on the host name only (no DNS lookups). Exact names first, then wildcards, most specific first.',
    `var M365_PROXY = ${lit(proxy)};`,
    '',
    '// exact host names: 1 = DIRECT, 0 = proxy (a name a direct wildcard would otherwise cover)',
    'var M365_EXACT = {',
    exact.map((e) => `  ${lit(e.host)}: ${e.direct ? 1 : 0}`).join(',\n'),
    '};',
    '',
    '// wildcard entries, most specific first: [pattern, 1 = DIRECT / 0 = proxy]',
    'var M365_WILD = [',
    // no trailing comma: ES3 engines would read it as one more (undefined) element
    wild
      .map(
        (e, i) =>
          `  [/${entryRegex(e.host, e.kind)}/, ${e.direct ? 1 : 0}]${i < wild.length - 1 ? ',' : ''} // ${e.host} (${e.category})`,
      )
      .join('\n'),
    '];',
    '',
    'function FindProxyForURL(url, host) {',
    '  var h = host.toLowerCase();',
    '  if (h.charAt(h.length - 1) == ".") h = h.substring(0, h.length - 1);',
    '  if (M365_EXACT.hasOwnProperty(h)) return M365_EXACT[h] ? "DIRECT" : M365_PROXY;',
    '  for (var i = 0; i < M365_WILD.length; i++) {',
    '    if (M365_WILD[i][0].test(h)) return M365_WILD[i][1] ? "DIRECT" : M365_PROXY;',
    '  }',
    '  return M365_PROXY;',
    '}',
  ];
  return lines.join('\n') + '\n';
}

/** Every IP rule is unused by a PAC file; a tenant placeholder it lists matches any tenant. */
function pacFindings(model: RuleModel, listed: PacEntry[]): Finding[] {
  const findings: Finding[] = model.rules.map((r) => ({
    kind: 'unenforced',
    target: 'pac',
    setIds: r.provenance.setIds,
    entry: r.key,
    detail: `a PAC file decides on host names: ${r.prefixes.count} prefixes of this rule are not used (browsers send them to the proxy unless they are reached by name)`,
  }));
  // only what the file holds: an entry left to the proxy default is not widened by the file
  for (const e of listed)
    if (e.kind === 'tenant')
      findings.push({
        kind: 'widened',
        target: 'pac',
        setIds: model.urlRules
          .flatMap((u) => u.entries)
          .filter((x) => x.host === e.host)
          .flatMap((x) => x.setIds)
          .filter((v, i, a) => a.indexOf(v) === i),
        entry: e.host,
        detail: 'tenant placeholder matches any tenant name (pass --tenant to narrow it)',
      });
  return findings;
}

/** The PAC file of a rule model: what it sends DIRECT, and what it cannot enforce. */
export function renderPac(model: RuleModel, o: OptionValues<typeof PAC_OPTIONS>): RenderResult {
  const type = o.type === '1' ? 1 : 2;
  const proxy = o.proxy;
  if (!proxy)
    throw new TargetLimitError(
      'pac',
      '--pac-proxy is required, e.g. --pac-proxy "PROXY proxy.corp:8080"',
    );
  const { exact, wild } = pacLists(model, type);
  return {
    // what the file decides DIRECT; its proxied exceptions and every IP rule are not enforced by it
    enforces: { rules: [], names: [...exact, ...wild].filter((e) => e.direct).map((e) => e.host) },
    enforcement: {
      mode: 'routing',
      text: `proxy routing for browsers that use the file: the listed hosts go DIRECT, everything else to ${proxy}; it allows or blocks nothing`,
      inert: false,
    },
    files: [
      { path: PAC_FILE, body: pacProgram(type, proxy, exact, wild), comment: { line: '//' } },
    ],
    findings: pacFindings(model, [...exact, ...wild]),
  };
}

export const pac = defineTarget({
  name: 'pac',
  files: /^m365fw\.pac$/,
  summary: 'a proxy auto-config file (ES3) sending Microsoft 365 host names DIRECT',
  capabilities: { fqdn: true, wildcard: true, mixedFamilies: true, portRanges: false },
  limits: PAC_LIMITS,
  options: PAC_OPTIONS,
  requires: ['proxy'],
  render: (model, o) => renderPac(model, o),
});
