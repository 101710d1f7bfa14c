/** Read back iptables-save and ipset list output into comparable facts. */
import cidr from 'cidr-tools';

export interface SavedRule {
  chain: string;
  protocol: string;
  ports: number[][];
  set?: string;
  dest?: string;
  target: string;
  comment?: string;
}

export function parseIptablesSave(text: string, chain: string): SavedRule[] {
  const out: SavedRule[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(`-A ${chain} `)) continue;
    const p = /-p (\w+)/.exec(line)?.[1] ?? 'any';
    const dports = /--dports ([0-9:,]+)/.exec(line)?.[1] ?? /--dport ([0-9:]+)/.exec(line)?.[1];
    const ports = dports
      ? dports
          .split(',')
          .map((x) => x.split(':').map(Number))
          .map((x) => [x[0], x[1] ?? x[0]])
      : [];
    out.push({
      chain,
      protocol: p,
      ports,
      set: /--match-set (\S+) dst/.exec(line)?.[1],
      dest: /-d (\S+)/.exec(line)?.[1],
      target: /-j (\S+)/.exec(line)?.[1] ?? '',
      comment: /--comment "([^"]*)"/.exec(line)?.[1] ?? /--comment (\S+)/.exec(line)?.[1],
    });
  }
  return out;
}

export function parseIpsetList(
  text: string,
): Map<string, { family: string; maxelem: number; members: string[] }> {
  const sets = new Map<string, { family: string; maxelem: number; members: string[] }>();
  for (const block of text.split(/\n(?=Name: )/)) {
    const name = /^Name: (\S+)/m.exec(block)?.[1];
    if (!name) continue;
    const header = /^Header: (.*)$/m.exec(block)?.[1] ?? '';
    const members = (block.split(/^Members:\n?/m)[1] ?? '')
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    sets.set(name, {
      family: /family (\S+)/.exec(header)?.[1] ?? '',
      maxelem: Number(/maxelem (\d+)/.exec(header)?.[1]),
      members,
    });
  }
  return sets;
}

export function intervalsOfCidrs(list: string[]): [bigint, bigint][] {
  return list.map((n) => {
    const p = cidr.parseCidr(n);
    return [p.start, p.end] as [bigint, bigint];
  });
}
