/**
 * DNS records a custom domain needs, per Microsoft 365 cloud instance, each value with its source
 * (the short names are those of ../shared/dns-records.md):
 *  - EXT: MicrosoftDocs/microsoft-365-docs enterprise/external-domain-name-system-records.md
 *    (2024-10-24, ba01cbe5; 2022-10-14, 032d5538)
 *  - ANY: admin/get-help-with-domains/create-dns-records-at-any-dns-hosting-provider.md (00000d12)
 *  - CNAME-CN: admin/services-in-china/purpose-of-cname.md (41df1c6e), the msoid page
 *  - EASTNET: MicrosoftDocs/OfficeDocs-O365ITPro services-in-china/create-dns-records-at-east-net.md (1c695c5d)
 *  - GCCH: enterprise/dns-records-for-office-365-gcc-high.md (940c6ea9)
 *  - DOD: enterprise/dns-records-for-office-365-dod.md (4cf59095)
 *  - INTUNE: MicrosoftDocs/memdocs intune/enrollment/windows-enroll.md (01995b6e)
 *  - DKIM: security/office-365-security/email-authentication-dkim-configure.md (094d4fdc)
 *  - DMARC: security/office-365-security/email-authentication-dmarc-configure.md (06793647)
 * A value no Microsoft source gives for an instance is never invented: it is listed as not known.
 */
export type DnsInstance = 'Worldwide' | 'China' | 'USGovGCCHigh' | 'USGovDoD';
export const DNS_INSTANCES: DnsInstance[] = ['Worldwide', 'China', 'USGovGCCHigh', 'USGovDoD'];
export const SERVICES = [
  'verification',
  'mail',
  'auth',
  'sfb',
  'teams-federation',
  'mdm',
  'dkim',
  'dmarc',
] as const;
export type Service = (typeof SERVICES)[number];

export type RecordType = 'CNAME' | 'MX' | 'TXT' | 'SRV';

/** One record the domain needs (name relative to the domain: "@" is the domain itself). */
export interface DnsRecord {
  service: Service;
  /** a short id, unique per instance: msoid, autodiscover, mx, spf, sip-srv, … */
  id: string;
  name: string;
  type: RecordType;
  /** CNAME/MX target or TXT text; SRV target */
  value: string;
  priority?: number;
  weight?: number;
  port?: number;
  purpose: string;
  source: string;
  /** the value is the tenant's own; without the input it is a placeholder no zone tool accepts */
  placeholder?: string;
  /** for MX: the part after the tenant's token (mail.protection.outlook.com) */
  suffix?: string;
  /** for TXT: the record is recognised by this prefix (v=spf1, MS=, v=DMARC1) */
  prefix?: string;
}

/** A record that must not exist, or a service whose values Microsoft does not document for the instance. */
export interface DnsNote {
  service: Service;
  id: string;
  name: string;
  kind: 'must-not-exist' | 'not-known';
  detail: string;
  source: string;
}

export interface InstanceTable {
  label: string;
  records: Omit<DnsRecord, 'placeholder'>[];
  notes: DnsNote[];
  /** the services `records` and `check` use when --services is not given: what the table calls required */
  defaults: Service[];
  /** tenant values the MX target is built from */
  mxHelp: string;
}

const cname = (
  service: Service,
  id: string,
  name: string,
  value: string,
  purpose: string,
  source: string,
) => ({ service, id, name, type: 'CNAME' as const, value, purpose, source });
const srv = (
  service: Service,
  id: string,
  name: string,
  port: number,
  target: string,
  purpose: string,
  source: string,
) => ({
  service,
  id,
  name,
  type: 'SRV' as const,
  value: target,
  priority: 100,
  weight: 1,
  port,
  purpose,
  source,
});
const mx = (suffix: string, source: string) => ({
  service: 'mail' as const,
  id: 'mx',
  name: '@',
  type: 'MX' as const,
  value: `{mx-token}.${suffix}`,
  suffix,
  priority: 0,
  purpose: 'inbound mail (Exchange Online)',
  source,
});
const spf = (include: string, source: string) => ({
  service: 'mail' as const,
  id: 'spf',
  name: '@',
  type: 'TXT' as const,
  value: `v=spf1 include:${include} -all`,
  prefix: 'v=spf1',
  purpose: 'SPF: Microsoft 365 may send for the domain (one SPF record only)',
  source,
});
const verification = (source: string) => ({
  service: 'verification' as const,
  id: 'verification',
  name: '@',
  type: 'TXT' as const,
  value: 'MS={verification}',
  prefix: 'MS=',
  purpose: 'domain verification (the value from the admin center)',
  source,
});
const dmarc = () => ({
  service: 'dmarc' as const,
  id: 'dmarc',
  name: '_dmarc',
  type: 'TXT' as const,
  value: 'v=DMARC1; p={dmarc-policy}',
  prefix: 'v=DMARC1',
  purpose: 'DMARC policy (rua/ruf optional)',
  source: 'DMARC',
});
const dkim = (n: 1 | 2) => ({
  service: 'dkim' as const,
  id: `dkim${n}`,
  name: `selector${n}._domainkey`,
  type: 'CNAME' as const,
  value: `{dkim-selector${n}}`,
  purpose: `DKIM selector ${n} (the tenant's Selector${n}CNAME)`,
  source: 'DKIM',
});
const noMsoid = (detail: string, source: string): DnsNote => ({
  service: 'auth',
  id: 'msoid',
  name: 'msoid',
  kind: 'must-not-exist',
  detail,
  source,
});
const unknown = (service: Service, id: string, name: string, detail: string): DnsNote => ({
  service,
  id,
  name,
  kind: 'not-known',
  detail,
  source: '',
});

const GOV = (sfb: 'gov' | 'dod', autodiscover: string, autoSource: string): InstanceTable => ({
  label: sfb === 'gov' ? 'Microsoft 365 GCC High' : 'Microsoft 365 DoD',
  records: [
    mx('mail.protection.office365.us', 'GCCH'),
    spf('spf.protection.office365.us', 'GCCH'),
    cname(
      'mail',
      'autodiscover',
      'autodiscover',
      autodiscover,
      'Outlook finds its mailbox settings',
      autoSource,
    ),
    cname(
      'sfb',
      'sip',
      'sip',
      `sipdir.online.${sfb}.skypeforbusiness.us`,
      'Skype for Business',
      sfb === 'gov' ? 'GCCH' : 'DOD',
    ),
    cname(
      'sfb',
      'lyncdiscover',
      'lyncdiscover',
      `webdir.online.${sfb}.skypeforbusiness.us`,
      'Skype for Business',
      sfb === 'gov' ? 'GCCH' : 'DOD',
    ),
    srv(
      'sfb',
      'sip-srv',
      '_sip._tls',
      443,
      `sipdir.online.${sfb}.skypeforbusiness.us`,
      'Skype for Business',
      sfb === 'gov' ? 'GCCH' : 'DOD',
    ),
    srv(
      'teams-federation',
      'sipfed-srv',
      '_sipfederationtls._tcp',
      5061,
      `sipfed.online.${sfb}.skypeforbusiness.us`,
      'federation',
      sfb === 'gov' ? 'GCCH' : 'DOD',
    ),
    cname(
      'mdm',
      'enterpriseenrollment',
      'enterpriseenrollment',
      'enterpriseenrollment-s.manage.microsoft.us',
      'Intune enrollment (US government cloud)',
      'INTUNE',
    ),
    cname(
      'mdm',
      'enterpriseregistration',
      'enterpriseregistration',
      'enterpriseregistration.windows.net',
      'device registration',
      'INTUNE',
    ),
    dmarc(),
  ],
  notes: [
    noMsoid(
      'an msoid CNAME must be removed: it is incompatible with Microsoft 365 Enterprise Apps on this cloud',
      'GCCH',
    ),
    unknown(
      'verification',
      'verification',
      '@',
      'no Microsoft source gives the verification record for this cloud',
    ),
    unknown(
      'dkim',
      'dkim',
      'selector1._domainkey',
      'no Microsoft source gives the DKIM selector records for this cloud',
    ),
  ],
  defaults: ['mail', 'auth'],
  mxHelp: 'the first part of your default tenant name (contoso for contoso.onmicrosoft.us)',
});

/**
 * The tables, built afresh on each call (a few dozen small objects): recordsFor and zoneLines read
 * them so, and every value they compare or write is made by code a test runs (a table built once
 * at load would be out of reach of npm run mutate). INSTANCE_TABLES reads them the same way.
 */
function instanceTables(): Record<DnsInstance, InstanceTable> {
  return {
    Worldwide: {
      label: 'Microsoft 365 worldwide (commercial, GCC)',
      records: [
        verification('EXT, ANY'),
        mx('mail.protection.outlook.com', 'EXT, ANY'),
        cname(
          'mail',
          'autodiscover',
          'autodiscover',
          'autodiscover.outlook.com',
          'Outlook finds its mailbox settings',
          'EXT',
        ),
        spf('spf.protection.outlook.com', 'EXT'),
        srv(
          'teams-federation',
          'sipfed-srv',
          '_sipfederationtls._tcp',
          5061,
          'sipfed.online.lync.com',
          'Teams federation (Teams-only tenants)',
          'EXT',
        ),
        srv(
          'sfb',
          'sip-srv',
          '_sip._tls',
          443,
          'sipdir.online.lync.com',
          'Skype for Business (legacy)',
          'EXT (2022), ANY',
        ),
        cname('sfb', 'sip', 'sip', 'sipdir.online.lync.com', 'Skype for Business (legacy)', 'ANY'),
        cname(
          'sfb',
          'lyncdiscover',
          'lyncdiscover',
          'webdir.online.lync.com',
          'Skype for Business / Teams PowerShell',
          'EXT (2022), ANY',
        ),
        cname(
          'mdm',
          'enterpriseregistration',
          'enterpriseregistration',
          'enterpriseregistration.windows.net',
          'Entra device registration',
          'ANY, INTUNE',
        ),
        cname(
          'mdm',
          'enterpriseenrollment',
          'enterpriseenrollment',
          'enterpriseenrollment-s.manage.microsoft.com',
          'Intune enrollment',
          'INTUNE',
        ),
        dkim(1),
        dkim(2),
        dmarc(),
      ],
      notes: [
        noMsoid(
          'no msoid record outside China: one pointing at the 21Vianet target makes sign-in fail ("custom domain isn\'t in our system")',
          'EXT',
        ),
      ],
      defaults: ['verification', 'mail', 'auth'],
      mxHelp: 'your domain with dashes (contoso-com for contoso.com), shown in the admin center',
    },
    China: {
      label: 'Office 365 operated by 21Vianet',
      records: [
        verification('EASTNET'),
        mx('mail.protection.partner.outlook.cn', 'EASTNET'),
        cname(
          'mail',
          'autodiscover',
          'autodiscover',
          'autodiscover.partner.outlook.cn',
          'Outlook finds its mailbox settings',
          'ANY, EASTNET',
        ),
        spf('spf.protection.partner.outlook.cn', 'ANY, EASTNET'),
        cname(
          'auth',
          'msoid',
          'msoid',
          'clientconfig.partner.microsoftonline-p.net.cn',
          'clients authenticate against the in-country endpoint (without it: a default endpoint in the US; with a typo: no sign-in)',
          'CNAME-CN, EASTNET',
        ),
        cname(
          'sfb',
          'lyncdiscover',
          'lyncdiscover',
          'webdir.online.partner.lync.cn',
          'Skype for Business',
          'ANY, EASTNET',
        ),
        cname(
          'sfb',
          'sip',
          'sip',
          'sipdir.online.partner.lync.cn',
          'Skype for Business',
          'ANY, EASTNET',
        ),
        srv(
          'sfb',
          'sip-srv',
          '_sip._tls',
          443,
          'sipdir.online.partner.lync.cn',
          'Skype for Business',
          'ANY',
        ),
        srv(
          'teams-federation',
          'sipfed-srv',
          '_sipfederationtls._tcp',
          5061,
          'sipfed.online.partner.lync.cn',
          'federation',
          'ANY',
        ),
        dmarc(),
      ],
      notes: [
        unknown(
          'mdm',
          'enterpriseregistration',
          'enterpriseregistration',
          'no Microsoft source gives the MDM CNAMEs for 21Vianet',
        ),
        unknown(
          'dkim',
          'dkim',
          'selector1._domainkey',
          "no Microsoft source gives 21Vianet's DKIM selector records",
        ),
      ],
      defaults: ['verification', 'mail', 'auth'],
      mxHelp: 'the domain key shown in the 21Vianet admin center',
    },
    USGovGCCHigh: GOV('gov', 'autodiscover.office365.us', 'GCCH'),
    USGovDoD: GOV('dod', 'autodiscover-dod.office365.us', 'DOD'),
  };
}
/** The same tables, each built when it is read (nothing is built at load: see instanceTables). */
export const INSTANCE_TABLES: Readonly<Record<DnsInstance, InstanceTable>> = Object.freeze(
  Object.defineProperties(
    {} as Record<DnsInstance, InstanceTable>,
    Object.fromEntries(
      DNS_INSTANCES.map((i) => [i, { enumerable: true, get: () => instanceTables()[i] }]),
    ),
  ),
);

/** Tenant values: given, or placeholders. */
export interface TenantValues {
  mxToken?: string;
  verification?: string;
  dkimSelector1?: string;
  dkimSelector2?: string;
  dmarcPolicy?: 'none' | 'quarantine' | 'reject';
}

/**
 * A placeholder no zone tool accepts: in a BIND zone the ";" starts a comment and leaves "((" open
 * (named-checkzone: unbalanced parentheses); in octoDNS an unescaped ";" in a TXT value and a CNAME
 * or MX value that is not a name are validation errors. Nobody deploys one by mistake.
 */
export const placeholder = (what: string) => `((REPLACE-ME;${what}))`;

/** The records of the given services for an instance, tenant values filled in or left as placeholders. */
export function recordsFor(
  instance: DnsInstance,
  services: Service[],
  t: TenantValues = {},
): { records: DnsRecord[]; notes: DnsNote[] } {
  const table = instanceTables()[instance];
  const fill: Record<string, [string | undefined, string]> = {
    '{mx-token}': [t.mxToken, '--mx-token'],
    '{verification}': [t.verification, '--verification'],
    '{dkim-selector1}': [t.dkimSelector1, '--dkim-selector1'],
    '{dkim-selector2}': [t.dkimSelector2, '--dkim-selector2'],
    '{dmarc-policy}': [t.dmarcPolicy ?? 'none', '--dmarc-policy'],
  };
  const records = table.records
    .filter((r) => services.includes(r.service))
    .map((r) => {
      const m = /\{[a-z0-9-]+\}/.exec(r.value);
      if (!m) return { ...r };
      const [given, flag] = fill[m[0]];
      if (given !== undefined) return { ...r, value: r.value.replace(m[0], given) };
      return { ...r, value: r.value.replace(m[0], placeholder(flag)), placeholder: flag };
    });
  const notes = table.notes.filter((n) => services.includes(n.service));
  return { records, notes };
}

/** An absolute name for a record name relative to the domain. */
export const fqdn = (name: string, domain: string) => (name === '@' ? domain : `${name}.${domain}`);

/** BIND zone-file lines (absolute names, one-hour TTL), with every note as a comment. */
export function zoneLines(
  domain: string,
  instance: DnsInstance,
  r: { records: DnsRecord[]; notes: DnsNote[] },
): string {
  const lines = [`; ${instanceTables()[instance].label}: DNS records for ${domain}`, '$TTL 3600'];
  for (const n of r.notes)
    lines.push(
      `; ${n.kind === 'must-not-exist' ? `no ${n.name} record` : `${n.service}: not known for ${instance}`}: ${n.detail}${n.source ? ` (${n.source})` : ''}`,
    );
  const width = Math.max(0, ...r.records.map((x) => fqdn(x.name, domain).length + 1));
  for (const x of r.records) {
    const txt = (s: string) => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;
    const target = (s: string) => (x.placeholder ? s : `${s}.`);
    const value =
      x.type === 'TXT'
        ? x.placeholder
          ? x.value
          : txt(x.value)
        : x.type === 'MX'
          ? `${x.priority} ${target(x.value)}`
          : x.type === 'SRV'
            ? `${x.priority} ${x.weight} ${x.port} ${target(x.value)}`
            : target(x.value);
    lines.push(
      `${`${fqdn(x.name, domain)}.`.padEnd(width)} 3600 IN ${x.type.padEnd(5)} ${value}${x.placeholder ? '' : `    ; ${x.service}: ${x.purpose} [${x.source}]`}`,
    );
    if (x.placeholder)
      lines.push(
        `; ^ replace the placeholder: pass ${x.placeholder} (the line is made so that no zone tool loads it)`,
      );
  }
  return lines.join('\n') + '\n';
}

/** octoDNS zone YAML: the records keyed by name relative to the zone ("" for the apex). */
export function octodnsZone(r: { records: DnsRecord[] }): Record<string, unknown> {
  const byName = new Map<string, DnsRecord[]>();
  for (const x of r.records) {
    const k = x.name === '@' ? '' : x.name;
    byName.set(k, [...(byName.get(k) ?? []), x]);
  }
  const out: Record<string, unknown> = {};
  for (const [name, recs] of [...byName.entries()].sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  )) {
    const byType = new Map<RecordType, DnsRecord[]>();
    for (const x of recs) byType.set(x.type, [...(byType.get(x.type) ?? []), x]);
    const entries = [...byType.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([type, xs]) => {
        const dot = (s: string, ph?: string) => (ph ? s : `${s}.`);
        if (type === 'CNAME')
          return { type, ttl: 3600, value: dot(xs[0].value, xs[0].placeholder) };
        if (type === 'MX')
          return {
            type,
            ttl: 3600,
            values: xs.map((x) => ({
              exchange: dot(x.value, x.placeholder),
              preference: x.priority,
            })),
          };
        if (type === 'SRV')
          return {
            type,
            ttl: 3600,
            values: xs.map((x) => ({
              port: x.port,
              priority: x.priority,
              target: dot(x.value, x.placeholder),
              weight: x.weight,
            })),
          };
        // octoDNS wants semicolons in TXT escaped; a placeholder keeps its bare one on purpose
        return {
          type,
          ttl: 3600,
          values: xs.map((x) => (x.placeholder ? x.value : x.value.replace(/;/g, '\\;'))),
        };
      });
    out[name] = entries.length === 1 ? entries[0] : entries;
  }
  return out;
}
