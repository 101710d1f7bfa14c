/** Kinds of URL entry in the feed. */
export type UrlKind =
  | 'fqdn' // outlook.office.com
  | 'wildcard' // *.office.com: any name below
  | 'partial-wildcard' // *cdn.onenote.net: a * inside the leftmost label
  | 'tenant'; // autodiscover.*.onmicrosoft.com: a whole non-leftmost * label (tenant placeholder)

export class HostnameSyntaxError extends Error {}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const PARTIAL = /^(?:[a-z0-9-]*\*[a-z0-9-]*)$/;

/** Validate and classify a URL entry; returns its lowercase form. Anything else is an error. */
export function classifyUrl(raw: string): { host: string; kind: UrlKind } {
  if (typeof raw !== 'string' || raw.length === 0) throw new HostnameSyntaxError('empty URL entry');
  const host = raw.toLowerCase().replace(/\.$/, '');
  if (host.length > 253) throw new HostnameSyntaxError('name longer than 253 characters');
  const labels = host.split('.');
  if (labels.length < 2) throw new HostnameSyntaxError('not a dotted host name');
  let kind: UrlKind = 'fqdn';
  labels.forEach((l, i) => {
    if (LABEL.test(l)) return;
    if (l === '*' && i === 0) {
      kind = 'wildcard';
      return;
    }
    if (l === '*' && i > 0 && i < labels.length - 1) {
      if (kind === 'tenant') throw new HostnameSyntaxError('more than one tenant placeholder');
      kind = 'tenant';
      return;
    }
    if (i === 0 && PARTIAL.test(l) && l.length <= 63 && (l.match(/\*/g) ?? []).length === 1) {
      kind = 'partial-wildcard';
      return;
    }
    throw new HostnameSyntaxError(`invalid label "${l.slice(0, 70)}"`);
  });
  if (labels[0] === '*' && labels.slice(1).includes('*')) kind = 'tenant';
  return { host, kind };
}

/** A DNS label, for --tenant. */
export function isDnsLabel(s: string): boolean {
  return LABEL.test(s.toLowerCase());
}

/** Replace the tenant placeholder (a whole * label that is not leftmost). */
export function substituteTenant(host: string, tenant: string): string {
  const labels = host.split('.');
  return labels.map((l, i) => (i > 0 && l === '*' ? tenant.toLowerCase() : l)).join('.');
}

/** Validated domain name (for DNS commands): labels, at least two, no wildcard. */
export function isDomainName(s: string): boolean {
  const host = s.toLowerCase().replace(/\.$/, '');
  if (host.length === 0 || host.length > 253) return false;
  const labels = host.split('.');
  return (
    labels.length >= 2 &&
    labels.every((l) => LABEL.test(l)) &&
    !/^[0-9]+$/.test(labels[labels.length - 1])
  );
}
