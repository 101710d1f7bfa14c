/**
 * DNS records a custom domain needs, per Microsoft 365 instance.
 * Sources:
 *  - China (21Vianet): msoid CNAME per the task's brief and Microsoft's "What's the purpose of the
 *    additional Office 365 CNAME record?" (21Vianet edition); Exchange values per 21Vianet's DNS guide.
 *  - Worldwide: docs.microsoft.com "Add DNS records to connect your domain" (no msoid: Microsoft now
 *    advises against it).
 *  - USGovDoD: docs.microsoft.com/microsoft-365/enterprise/dns-records-for-office-365-dod
 *    (MX tenant.mail.protection.office365.us, SPF include:spf.protection.office365.us,
 *    CNAME autodiscover → autodiscover-dod.office365.us).
 *  - USGovGCCHigh: not supported: no source we could verify gave its autodiscover target.
 */
export type DnsInstance = 'China' | 'Worldwide' | 'USGovDoD';
export const DNS_INSTANCES: DnsInstance[] = ['China', 'Worldwide', 'USGovDoD'];
export const UNSUPPORTED_DNS_INSTANCES: Record<string, string> = {
  USGovGCCHigh: 'the GCC High values (autodiscover target in particular) could not be verified against a Microsoft source, so m365fw does not guess them',
};

export interface InstanceRecords {
  label: string;
  /** msoid CNAME target; null = Microsoft advises against the record (its presence is reported) */
  msoid: string | null | 'n/a';
  autodiscover: string;
  mxSuffix: string;
  spfInclude: string;
}

export const INSTANCE_RECORDS: Record<DnsInstance, InstanceRecords> = {
  China: {
    label: 'Office 365 operated by 21Vianet',
    msoid: 'clientconfig.partner.microsoftonline-p.net.cn',
    autodiscover: 'autodiscover.partner.outlook.cn',
    mxSuffix: 'mail.protection.partner.outlook.cn',
    spfInclude: 'spf.protection.partner.outlook.cn',
  },
  Worldwide: {
    label: 'Microsoft 365 worldwide',
    msoid: null,
    autodiscover: 'autodiscover.outlook.com',
    mxSuffix: 'mail.protection.outlook.com',
    spfInclude: 'spf.protection.outlook.com',
  },
  USGovDoD: {
    label: 'Microsoft 365 DoD',
    msoid: 'n/a',
    autodiscover: 'autodiscover-dod.office365.us',
    mxSuffix: 'mail.protection.office365.us',
    spfInclude: 'spf.protection.office365.us',
  },
};

export interface DnsRecord { name: string; type: 'CNAME' | 'MX' | 'TXT'; value: string; priority?: number; purpose: string }

export const MX_TOKEN_PLACEHOLDER = '<mx-token>';

/** The records the instance requires for the domain (MX token from the admin center, or a placeholder). */
export function requiredRecords(domain: string, instance: DnsInstance, mxToken?: string): DnsRecord[] {
  const r = INSTANCE_RECORDS[instance];
  const d = domain.toLowerCase().replace(/\.$/, '');
  const out: DnsRecord[] = [];
  if (typeof r.msoid === 'string' && r.msoid !== 'n/a') out.push({ name: `msoid.${d}`, type: 'CNAME', value: r.msoid, purpose: 'clients authenticate against the in-country endpoint' });
  out.push({ name: `autodiscover.${d}`, type: 'CNAME', value: r.autodiscover, purpose: 'Outlook finds its mailbox settings' });
  out.push({ name: d, type: 'MX', priority: 0, value: `${mxToken ?? MX_TOKEN_PLACEHOLDER}.${r.mxSuffix}`, purpose: 'inbound mail (the token is shown in the admin center)' });
  out.push({ name: d, type: 'TXT', value: `v=spf1 include:${r.spfInclude} -all`, purpose: 'SPF: Microsoft 365 may send for the domain' });
  return out;
}

/** BIND zone-file lines (absolute names, one-hour TTL). */
export function zoneLines(domain: string, instance: DnsInstance, records: DnsRecord[]): string {
  const r = INSTANCE_RECORDS[instance];
  const lines = [`; ${r.label}: DNS records for ${domain}`];
  if (r.msoid === null) lines.push(`; no msoid record: Microsoft advises against it for this instance (remove one if present)`);
  const width = Math.max(...records.map((x) => x.name.length + 1));
  for (const x of records) {
    const value = x.type === 'TXT' ? `"${x.value}"` : x.type === 'MX' ? `${x.priority} ${x.value}.` : `${x.value}.`;
    lines.push(`${`${x.name}.`.padEnd(width)} 3600 IN ${x.type.padEnd(5)} ${value}    ; ${x.purpose}`);
  }
  if (records.some((x) => x.value.includes(MX_TOKEN_PLACEHOLDER))) lines.push(`; replace ${MX_TOKEN_PLACEHOLDER} with your domain's MX token (admin center), or pass --mx-token`);
  return lines.join('\n') + '\n';
}
