import { resolve } from 'node:path';
import { terminalText } from '../../index.js';
import { runUpdate } from '../../index.js';
import {
  allowImplausibleFrom,
  compileRequestFrom,
  fetchLimitsFrom,
  instanceFrom,
  runOptionsFrom,
  UsageError,
} from './common.js';
import { finish } from './fail.js';
import { text } from '../../index.js';

/** m365fw update: exit 0 out/ current, 2 out/ rewritten (plan written), 1 error or refused (out/ untouched). */
export async function updateCommand(o: Record<string, unknown>): Promise<void> {
  const instance = instanceFrom(o.instance);
  const out = String(o.out),
    state = String(o.state);
  const planOut = o.planOut === undefined ? undefined : text(o.planOut);
  const dirs = [out, state, ...(planOut ? [planOut] : [])].map((d) => resolve(d));
  if (new Set(dirs).size !== dirs.length)
    throw new UsageError('--out, --state and --plan-out must be three different directories');
  const runOptions = runOptionsFrom(o);
  // validated before any request; the input is the feed update downloads
  const {
    input: _input,
    format: _format,
    tcpPorts: _t,
    udpPorts: _u,
    ...request
  } = compileRequestFrom({ ...o, input: '-', inputFormat: 'o365' }, false);
  const log = (l: string) => process.stderr.write(`m365fw update: ${terminalText(l)}\n`);
  const r = await runUpdate({
    instance,
    stateDir: state,
    outDir: out,
    planOut,
    baseUrl: o.baseUrl as string | undefined,
    force: !!o.force,
    limits: fetchLimitsFrom(o),
    allowImplausible: allowImplausibleFrom(o.allowImplausible),
    request,
    requireExplainedChanges: !!o.requireExplainedChanges,
    run: {
      ...runOptions,
    },
    log,
  });
  const from =
    'previousVersion' in r && r.previousVersion ? ` (it held version ${r.previousVersion})` : '';
  switch (r.status) {
    case 'current':
      process.stdout.write(`${instance}: ${terminalText(r.reason)}; nothing written\n`);
      return finish(0);
    case 'unchanged':
      process.stdout.write(
        `${instance}: unchanged: version ${r.version} compiles to what ${terminalText(out)} enforces and reports${from}; nothing written${r.plan.counts.setsRenumbered + r.plan.counts.entriesMoved ? ` (set ids moved: ${r.plan.counts.setsRenumbered} sets renumbered, ${r.plan.counts.entriesMoved} entries moved)` : ''}\n`,
      );
      return finish(0);
    case 'refused':
      process.stdout.write(
        `${instance}: version ${r.version} refused; ${terminalText(out)} untouched${from}${planOut ? `; the plan and the verdict are in ${terminalText(planOut)}` : ''}\n`,
      );
      process.stderr.write(`error: ${terminalText(r.reason)}\n`);
      return finish(1);
    case 'written': {
      const c = r.plan.counts;
      process.stdout.write(
        `${instance}: ${terminalText(out)} rewritten from version ${r.version}${from}: ${r.written.length} files; prefixes +${c.prefixesAdded} −${c.prefixesRemoved}, URL entries +${c.urlsAdded} −${c.urlsRemoved}${planOut ? `; plan in ${terminalText(planOut)}` : ''}\n`,
      );
      return finish(2);
    }
  }
}
