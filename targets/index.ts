import { azureNsg } from './azure-nsg/index.js';
import { iptables } from './iptables/index.js';
import { nftables } from './nftables/index.js';
import { paloalto } from './paloalto/index.js';
import { pac } from './pac/index.js';
import { terraformAzureNsg } from './terraform-azure-nsg/index.js';
import type { Target } from './define.js';

export type { Target } from './define.js';

/** name → target. One line per target. */
const ALL: Target[] = [nftables, iptables, azureNsg, terraformAzureNsg, paloalto, pac];

export const TARGETS: ReadonlyMap<string, Target> = (() => {
  const m = new Map<string, Target>();
  for (const t of ALL) {
    if (m.has(t.name)) throw new Error(`duplicate target name ${t.name}`);
    m.set(t.name, t);
  }
  return m;
})();

/** Resolve "--target a,b" or "all" to targets, in registry order (so "b,a" gives the same output as "a,b"). */
export function resolveTargets(spec: string): Target[] {
  if (spec === 'all') return [...TARGETS.values()];
  const wanted = new Set(
    spec.split(',').map((n) => {
      const t = TARGETS.get(n);
      if (!t)
        throw new Error(
          `unknown target ${JSON.stringify(n)}; known: ${[...TARGETS.keys()].join(', ')}, all`,
        );
      return t;
    }),
  );
  return [...TARGETS.values()].filter((t) => wanted.has(t));
}
