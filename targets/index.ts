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

const REGISTRY = (() => {
  const m = new Map<string, Target>();
  for (const t of ALL) {
    if (m.has(t.name)) throw new Error(`duplicate target name ${t.name}`);
    m.set(t.name, t);
  }
  return m;
})();
export const TARGETS: ReadonlyMap<string, Target> = REGISTRY;
const PLUGINS = new Map<string, string>();

/**
 * Add a plugin target (from --target-module): it must be what defineTarget returns, and its name
 * must be new. It joins the registry after the built-in ones.
 */
export function registerPlugin(t: unknown, from: string): Target {
  const x = t as Partial<Target> | undefined;
  if (
    !x ||
    typeof x.name !== 'string' ||
    typeof x.render !== 'function' ||
    typeof x.parseOptions !== 'function' ||
    !x.options ||
    !x.capabilities
  )
    throw new Error(
      `${from}: does not export a target made with defineTarget (export default defineTarget({...}))`,
    );
  if (REGISTRY.has(x.name))
    throw new Error(`${from}: target name ${JSON.stringify(x.name)} is already taken`);
  REGISTRY.set(x.name, x as Target);
  PLUGINS.set(x.name, from);
  return x as Target;
}

/** The plugin targets by name → the module they came from. */
export const pluginTargets = (): ReadonlyMap<string, string> => PLUGINS;

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
