import { fetchFeed, INSTANCES, type Instance } from '../sources/fetch.js';
import { isDnsLabel } from '../net/hostname.js';
import { SERVICE_AREA } from '../sources/o365json.js';
import { UsageError } from './common.js';

/** m365fw fetch: exit 0 unchanged, 2 new data saved, 1 error (last good data kept). */
export async function fetchCommand(o: Record<string, unknown>): Promise<void> {
  const instance = INSTANCES.find((i) => i.toLowerCase() === String(o.instance).toLowerCase());
  if (!instance) throw new UsageError(`--instance ${JSON.stringify(o.instance)}: one of ${INSTANCES.join(', ')}`);
  const areas = o.serviceAreas ? String(o.serviceAreas).split(',').map((s) => s.trim()) : undefined;
  for (const a of areas ?? []) if (!SERVICE_AREA.test(a)) throw new UsageError(`--service-areas: invalid name ${JSON.stringify(a)}`);
  if (o.tenant !== undefined && !isDnsLabel(String(o.tenant))) throw new UsageError(`--tenant: ${JSON.stringify(o.tenant)} is not a DNS label`);
  const allow = o.allowImplausible === true ? ['all'] : typeof o.allowImplausible === 'string' ? o.allowImplausible.split(',') : undefined;
  const timeout = Number(o.timeout ?? 8);
  if (!(timeout > 0 && timeout <= 60)) throw new UsageError('--timeout: seconds between 0 and 60');
  const r = await fetchFeed({
    limits: { requestTimeoutMs: timeout * 1000 },
    instance: instance as Instance, stateDir: String(o.state), baseUrl: o.baseUrl as string | undefined, force: !!o.force,
    serviceAreas: areas, tenant: o.tenant as string | undefined, noIpv6: o.ipv6 === false, allowImplausible: allow,
    log: (l) => process.stderr.write(`m365fw fetch: ${l}\n`),
  });
  if (!r.changed) {
    process.stdout.write(`${instance}: version ${r.version} unchanged; ${r.file} kept\n`);
    process.exit(0);
  }
  process.stdout.write(`${instance}: version ${r.previousVersion ?? 'none'} → ${r.version}; ${r.sets} endpoint sets saved to ${r.file}\n`);
  process.exit(2);
}
