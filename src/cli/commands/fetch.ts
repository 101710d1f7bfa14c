import { fetchFeed } from '../../index.js';
import { isDnsLabel } from '../../index.js';
import { SERVICE_AREA } from '../../index.js';
import { terminalText } from '../../index.js';
import { allowImplausibleFrom, fetchLimitsFrom, instanceFrom, UsageError } from './common.js';
import { finish } from './fail.js';
import { text } from '../../index.js';

/** m365fw fetch: exit 0 unchanged, 2 new data saved, 1 error (last good data kept). */
export async function fetchCommand(o: Record<string, unknown>): Promise<void> {
  const instance = instanceFrom(o.instance);
  const areas = o.serviceAreas
    ? text(o.serviceAreas)
        .split(',')
        .map((s) => s.trim())
    : undefined;
  for (const a of areas ?? [])
    if (!SERVICE_AREA.test(a))
      throw new UsageError(`--service-areas: invalid name ${JSON.stringify(a)}`);
  if (o.tenant !== undefined && !isDnsLabel(text(o.tenant)))
    throw new UsageError(`--tenant: ${JSON.stringify(o.tenant)} is not a DNS label`);
  const r = await fetchFeed({
    limits: fetchLimitsFrom(o),
    instance,
    stateDir: String(o.state),
    baseUrl: o.baseUrl as string | undefined,
    force: !!o.force,
    serviceAreas: areas,
    tenant: o.tenant as string | undefined,
    noIpv6: o.ipv6 === false,
    allowImplausible: allowImplausibleFrom(o.allowImplausible),
    log: (l) => process.stderr.write(`m365fw fetch: ${terminalText(l)}\n`),
  });
  if (!r.changed) {
    process.stdout.write(
      `${instance}: version ${r.version} unchanged; ${terminalText(r.file)} kept\n`,
    );
    return finish(0);
  }
  process.stdout.write(
    `${instance}: version ${r.previousVersion ?? 'none'} → ${r.version}; ${r.sets} endpoint sets saved to ${terminalText(r.file)}\n`,
  );
  finish(2);
}
