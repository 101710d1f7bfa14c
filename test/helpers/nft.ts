/** Read back a loaded nftables ruleset (nft -j list ruleset) into comparable facts. */
import cidr from 'cidr-tools';

export interface LoadedRule {
  family: 4 | 6;
  set: string;
  protocol: 'tcp' | 'udp' | 'any';
  ports: number[][];
  verdict: string;
  comment?: string;
  chain: string;
  /** which address the set is matched against: daddr (egress) or saddr (ingress) */
  side?: 'daddr' | 'saddr';
  /** an ingress rule's local destinations (an anonymous set or one address) */
  local?: string[];
}

type J = Record<string, any>;

function elemToCidr(e: any): string[] {
  if (typeof e === 'string') return [e];
  if (e.prefix) return [`${e.prefix.addr}/${e.prefix.len}`];
  if (e.range) return [`${e.range[0]}-${e.range[1]}`];
  if (e.elem) return elemToCidr(e.elem.val);
  throw new Error(`unknown set element ${JSON.stringify(e)}`);
}

function toInterval(s: string): [bigint, bigint] {
  if (s.includes('-')) {
    const [a, b] = s.split('-');
    return [cidr.parseCidr(a).start, cidr.parseCidr(b).start];
  }
  const p = cidr.parseCidr(s);
  return [p.start, p.end];
}

export function parseNftJson(text: string) {
  const items: J[] = JSON.parse(text).nftables;
  const sets = new Map<
    string,
    { type: string; elements: string[]; intervals: [bigint, bigint][] }
  >();
  const rules: LoadedRule[] = [];
  const chains: J[] = [];
  for (const it of items) {
    if (it.set) {
      const elements = (it.set.elem ?? []).flatMap(elemToCidr);
      sets.set(it.set.name, {
        type: it.set.type,
        elements,
        intervals: elements
          .map(toInterval)
          .sort((a: [bigint, bigint], b: [bigint, bigint]) => (a[0] < b[0] ? -1 : 1)),
      });
    }
    if (it.chain) chains.push(it.chain);
    if (it.rule) {
      const expr: J[] = it.rule.expr;
      let set = '',
        family: 4 | 6 = 4,
        protocol: LoadedRule['protocol'] = 'any',
        ports: number[][] = [],
        verdict = '';
      let side: LoadedRule['side'];
      let local: string[] | undefined;
      for (const x of expr) {
        if (x.match) {
          const left = x.match.left,
            right = x.match.right;
          if (
            (left.payload?.field === 'daddr' || left.payload?.field === 'saddr') &&
            typeof right === 'string' &&
            right.startsWith('@')
          ) {
            set = right.slice(1);
            side = left.payload.field;
            family = left.payload.protocol === 'ip6' ? 6 : 4;
          } else if (left.payload?.field === 'daddr') {
            local = (right.set ?? [right]).flatMap(elemToCidr);
          } else if (left.payload?.field === 'dport') {
            protocol = left.payload.protocol;
            const vals =
              typeof right === 'number'
                ? [right]
                : right.set
                  ? right.set
                  : right.range
                    ? [right]
                    : [right];
            ports = vals.map((v: any) =>
              typeof v === 'number' ? [v, v] : v.range ? [v.range[0], v.range[1]] : [v, v],
            );
          }
        }
        if ('accept' in x) verdict = 'accept';
        if ('drop' in x) verdict = 'drop';
        if (x.jump) verdict = `jump ${x.jump.target}`;
      }
      rules.push({
        family,
        set,
        protocol,
        ports,
        verdict,
        comment: it.rule.comment,
        chain: it.rule.chain,
        ...(side ? { side } : {}),
        ...(local ? { local } : {}),
      });
    }
  }
  return { sets, rules, chains };
}

export function sameIntervals(a: [bigint, bigint][], b: [bigint, bigint][]): boolean {
  const norm = (x: [bigint, bigint][]) => {
    const s = [...x].sort((p, q) => (p[0] < q[0] ? -1 : p[0] > q[0] ? 1 : 0));
    const out: [bigint, bigint][] = [];
    for (const [lo, hi] of s) {
      const l = out[out.length - 1];
      if (l && lo <= l[1] + 1n) {
        if (hi > l[1]) l[1] = hi;
      } else out.push([lo, hi]);
    }
    return out.map(([l, h]) => `${l}-${h}`).join(',');
  };
  return norm(a) === norm(b);
}
