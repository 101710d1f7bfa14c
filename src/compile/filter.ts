import type { CompileOptions, EndpointSet } from '../model.js';
import { classifyUrl, substituteTenant } from '../net/hostname.js';
import { PrefixSet } from '../net/prefixset.js';

/** Keep the sets the filters select; with no filter option every set is kept. */
export function filterSets(sets: EndpointSet[], o: CompileOptions): EndpointSet[] {
  const areas = o.serviceAreas?.map((a) => a.toLowerCase());
  return sets
    .filter((s) => !areas || areas.includes(s.serviceArea.toLowerCase()))
    .filter((s) => !o.categories || o.categories.includes(s.category))
    .filter((s) => !o.requiredOnly || s.required)
    .filter((s) => !o.expressRouteOnly || s.expressRoute)
    .map((s) => ({
      ...s,
      prefixes: {
        v4: o.noIpv4 ? PrefixSet.empty(4) : s.prefixes.v4,
        v6: o.noIpv6 ? PrefixSet.empty(6) : s.prefixes.v6,
      },
      // the filled-in name is classified again: "*cdn.*.example.com" stays a partial wildcard
      urls: o.tenant
        ? s.urls.map((u) =>
            u.kind === 'tenant' ? classifyUrl(substituteTenant(u.host, o.tenant!)) : u,
          )
        : s.urls,
    }));
}
