/** An inclusive port range; a single port has from === to. */
export interface PortRange {
  readonly from: number;
  readonly to: number;
}

export class PortSyntaxError extends Error {}

function parsePort(s: string): number {
  if (!/^[1-9][0-9]{0,4}$/.test(s)) throw new PortSyntaxError(`"${s}" is not a port number`);
  const n = Number(s);
  if (n > 65535) throw new PortSyntaxError(`port ${n} is over 65535`);
  return n;
}

/**
 * Parse the web service's port string ("80,443", "143, 587", "3478-3481"); "" means no ports.
 * An empty element ("80,,443"), a port over 65535 or a reversed range is an error.
 */
export function parsePortString(text: string): PortRange[] {
  if (text.trim() === '') return [];
  return normalizePorts(text.split(',').map((el) => parsePortElement(el.trim())));
}

export function parsePortElement(el: string): PortRange {
  if (el === '') throw new PortSyntaxError('empty element in port list');
  const dash = el.indexOf('-');
  if (dash < 0) {
    const p = parsePort(el);
    return { from: p, to: p };
  }
  const from = parsePort(el.slice(0, dash).trim()),
    to = parsePort(el.slice(dash + 1).trim());
  if (from > to) throw new PortSyntaxError(`range ${from}-${to} is reversed`);
  return { from, to };
}

/** Sort and join overlapping or adjacent ranges (the set of ports is unchanged). */
export function normalizePorts(list: readonly PortRange[]): PortRange[] {
  const sorted = [...list].sort((a, b) => a.from - b.from || a.to - b.to);
  const out: { from: number; to: number }[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.from <= last.to + 1) last.to = Math.max(last.to, r.to);
    else out.push({ from: r.from, to: r.to });
  }
  return out;
}

/** "80,443,3478-3481": the canonical text of a port set. */
export function portsText(list: readonly PortRange[], dash = '-'): string {
  return list.map((r) => (r.from === r.to ? `${r.from}` : `${r.from}${dash}${r.to}`)).join(',');
}

/** The ports both lists hold (each sorted and merged, as the sources give them). */
export function intersectPorts(a: readonly PortRange[], b: readonly PortRange[]): PortRange[] {
  const out: PortRange[] = [];
  let i = 0,
    j = 0;
  while (i < a.length && j < b.length) {
    const from = Math.max(a[i].from, b[j].from),
      to = Math.min(a[i].to, b[j].to);
    if (from <= to) out.push({ from, to });
    if (a[i].to < b[j].to) i++;
    else j++;
  }
  return out;
}
