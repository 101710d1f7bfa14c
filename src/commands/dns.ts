import { isDomainName } from '../net/hostname.js';
import { checkDomain } from '../dns/check.js';
import { DNS_INSTANCES, requiredRecords, UNSUPPORTED_DNS_INSTANCES, zoneLines, type DnsInstance } from '../dns/records.js';
import { UsageError } from './common.js';
import { finish } from './fail.js';
import { terminalText } from '../escape.js';
import { asciiLower } from '../dns/check.js';

function instanceOf(o: Record<string, unknown>): DnsInstance {
  const name = String(o.instance ?? 'Worldwide');
  const unsupported = Object.keys(UNSUPPORTED_DNS_INSTANCES).find((k) => k.toLowerCase() === name.toLowerCase());
  if (unsupported) throw new UsageError(`--instance ${unsupported} is not supported by the dns commands: ${UNSUPPORTED_DNS_INSTANCES[unsupported]}`);
  const i = DNS_INSTANCES.find((k) => k.toLowerCase() === name.toLowerCase());
  if (!i) throw new UsageError(`--instance ${JSON.stringify(name)}: one of ${DNS_INSTANCES.join(', ')}`);
  return i;
}

function domainOf(d: string): string {
  // only ASCII: a name that changes under Unicode case folding (a Kelvin sign) is not what it looks like
  if (!/^[\x21-\x7e]+$/.test(d) || !isDomainName(d)) throw new UsageError(`${JSON.stringify(d)} is not a valid domain name (letters, digits and hyphens in dot-separated labels)`);
  return asciiLower(d).replace(/\.$/, '');
}

/** m365fw dns records DOMAIN: zone-file lines or JSON. */
export async function dnsRecordsCommand(domain: string, o: Record<string, unknown>): Promise<void> {
  const d = domainOf(domain);
  const instance = instanceOf(o);
  const token = o.mxToken as string | undefined;
  if (token !== undefined && !/^[a-z0-9][a-z0-9-]{0,62}$/i.test(token)) throw new UsageError('--mx-token: one DNS label (letters, digits, hyphens)');
  const records = requiredRecords(d, instance, token);
  process.stdout.write(o.json ? JSON.stringify({ domain: d, instance, records }, null, 2) + '\n' : zoneLines(d, instance, records));
}

/** m365fw dns check DOMAIN: exit 0 all right, 2 some missing/wrong/unexpected, 1 error. */
export async function dnsCheckCommand(domain: string, o: Record<string, unknown>): Promise<void> {
  const d = domainOf(domain);
  const instance = instanceOf(o);
  const results = await checkDomain(d, instance, o.resolver as string | undefined);
  if (o.json) process.stdout.write(JSON.stringify({ domain: d, instance, results }, null, 2) + '\n');
  else {
    // answers are untrusted: every value shown escaped, on its row
    for (const r of results) {
      const found = r.found?.length ? ` found ${r.found.map((f) => terminalText(f, 300)).join(' → ')}` : '';
      process.stdout.write(`${r.verdict.padEnd(10)} ${r.record.padEnd(12)} ${r.name}: expected ${r.expected};${found}${r.note ? ` (${terminalText(r.note, 300)})` : ''}\n`);
    }
  }
  const errors = results.filter((r) => r.verdict === 'error');
  for (const e of errors) process.stderr.write(`error: ${e.record} ${e.name}: ${terminalText(e.note ?? 'lookup failed')}\n`);
  if (errors.length) return finish(1);
  finish(results.every((r) => r.verdict === 'ok') ? 0 : 2);
}
