import type { Rule } from '../src/model.js';
import { option } from './define.js';
import { canonicalPrefix } from '../src/net/prefix.js';

/**
 * Text safe inside any quoted comment or description: printable ASCII without quotes, backslashes
 * or comment delimiters, cut to max bytes (with "..." when cut). ("*" is not kept, so neither "/*"
 * nor "*\/" can survive the first step; "--", XML's comment delimiter, is the one left to break.)
 */
export function safeText(s: string, max: number): string {
  const clean = s.replace(/[^A-Za-z0-9 ,._:+=()@/#-]/g, '_').replace(/--/g, '__');
  return clean.length <= max ? clean : `${clean.slice(0, max - 3)}...`;
}

/** "sets 1,2,3 Exchange,Skype Optimize required": a rule's provenance in one line. */
export function provenanceText(r: Pick<Rule, 'provenance'>, max: number): string {
  const p = r.provenance;
  const req =
    p.required.length === 2 ? 'required+optional' : p.required[0] ? 'required' : 'optional';
  let ids = p.setIds.join(',');
  const tail = ` ${p.serviceAreas.join(',')} ${p.categories.join(',')} ${req}`;
  const budget = max - tail.length - 'sets '.length;
  if (ids.length > budget) {
    const shown: string[] = [];
    for (const id of p.setIds) {
      const more = ` +${p.setIds.length - shown.length - 1} more`;
      if ([...shown, id].join(',').length + more.length > budget) break;
      shown.push(id);
    }
    ids = `${shown.join(',')} +${p.setIds.length - shown.length} more`;
  }
  return safeText(`sets ${ids}${tail}`, max);
}

/** One flow a host needs beside Microsoft 365 (DNS, a proxy, NTP): a prefix, and a port on one protocol. */
export interface AllowAlso {
  family: 4 | 6;
  prefix: string;
  protocol?: 'tcp' | 'udp';
  port?: number;
}

const V4_ITEM = /^([0-9.]+(?:\/[0-9]{1,2})?)(?::([0-9]{1,5})\/(tcp|udp))?$/;
const V6_ITEM =
  /^\[([0-9A-Fa-f:.]+(?:\/[0-9]{1,3})?)\](?::([0-9]{1,5})\/(tcp|udp))?$|^([0-9A-Fa-f:.]+(?:\/[0-9]{1,3})?)$/;

/**
 * --allow-also: "192.0.2.53:53/udp,192.0.2.53:53/tcp,[2001:db8::53]:53/udp,198.51.100.0/24".
 * `canonical` turns an address or prefix into its canonical CIDR (or throws with the reason).
 */
export function parseAllowAlso(
  text: string,
  canonical: (t: string) => { text: string; family: 4 | 6 },
): AllowAlso[] {
  return text.split(',').map((item) => {
    const m4 = V4_ITEM.exec(item);
    // an IPv4 address with a port and no protocol must not read as an IPv6 address
    const m6 = m4 || (item.includes('.') && !item.startsWith('[')) ? undefined : V6_ITEM.exec(item);
    if (!m4 && !m6)
      throw new Error(
        `${JSON.stringify(item)}: ADDRESS[/LEN][:PORT/tcp|udp], an IPv6 one in brackets when it has a port ([2001:db8::53]:53/udp)`,
      );
    const addr = m4 ? m4[1] : (m6![1] ?? m6![4]);
    const port = m4 ? m4[2] : m6![2];
    const protocol = (m4 ? m4[3] : m6![3]) as 'tcp' | 'udp' | undefined;
    const p = canonical(addr.includes('/') ? addr : `${addr}/${addr.includes(':') ? 128 : 32}`);
    if (p.text === '0.0.0.0/0' || p.text === '::/0')
      throw new Error(
        `${JSON.stringify(item)}: every address is not a flow a host needs; name the hosts`,
      );
    if (port !== undefined && (Number(port) < 1 || Number(port) > 65535 || /^0/.test(port)))
      throw new Error(`${JSON.stringify(item)}: port ${port} is not 1-65535`);
    return {
      family: p.family,
      prefix: p.text,
      ...(protocol ? { protocol, port: Number(port) } : {}),
    };
  });
}

/** --allow-also, shared by nftables and iptables: checked as given, typed for render. */
export const ALLOW_ALSO = (() => {
  const base = option.optionalText(
    '--allow-also <flows>',
    'with a default deny (--nft-policy drop, --ipt-final): flows the host needs beside Microsoft 365, comma-separated ADDRESS[/LEN][:PORT/tcp|udp] (DNS resolvers, a proxy, NTP; IPv6 with a port in brackets)',
    (v) => {
      try {
        parseAllowAlso(v, (t) => canonicalPrefix(t, true));
        return undefined;
      } catch (e) {
        return (e as Error).message;
      }
    },
  );
  return {
    ...base,
    parse: (raw: unknown): AllowAlso[] | undefined => {
      const v = base.parse(raw);
      return v === undefined ? undefined : parseAllowAlso(v, (t) => canonicalPrefix(t, true));
    },
  };
})();
