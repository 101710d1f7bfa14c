/**
 * Every removal reaches the device: iptables' apply script in a namespace (A, then B twice: nothing
 * of A is left), PAN-OS deletes played on a simulated candidate config (it ends exactly at the new
 * run's XML), and the NSG's closing deny rule (schema-validated).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { FIXTURES, inNetns, missing, O365_DATA, sharedFeeds, skipNote } from './helpers/env.js';
import { azureValidators, codeChecks } from './helpers/azure.js';
import { compileHere } from './helpers/here.js';
import { tmpDir } from './helpers/tmp.js';
import { intervalsOfCidrs, parseIpsetList, parseIptablesSave } from './helpers/ipt.js';
import { ipsetName } from '../targets/iptables/index.js';

const SAMPLE = join(FIXTURES, 'sample-feed.json');
const haveShared = sharedFeeds().length > 0;
const CHINA_A = join(O365_DATA, 'china-endpoints-2025-11-14.json');
const CHINA_B = join(O365_DATA, 'china-endpoints-2025-12-01.json');
const WORLDWIDE = join(O365_DATA, 'worldwide-endpoints-2026-08-14.wrapped.json');

/** Whether two prefix lists cover the same addresses (ipset lists a /32 without its length). */
function sameCover(a: string[], b: string[]): boolean {
  const norm = (xs: string[]) =>
    intervalsOfCidrs(
      xs.map((x) => (x.includes('/') ? x : x.includes(':') ? `${x}/128` : `${x}/32`)),
    ).sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  const x = norm(a),
    y = norm(b);
  const merge = (l: [bigint, bigint][]) =>
    l.reduce<[bigint, bigint][]>((acc, [s, e]) => {
      const last = acc[acc.length - 1];
      if (last && s <= last[1] + 1n) last[1] = e > last[1] ? e : last[1];
      else acc.push([s, e]);
      return acc;
    }, []);
  return (
    JSON.stringify(merge(x), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)) ===
    JSON.stringify(merge(y), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))
  );
}

function compileInto(out: string, feed: string, extra: string[]) {
  const r = compileHere(['--input', feed, '--out', out, ...extra]);
  expect(r.code, r.stderr).toBe(0);
}

/** The sample feed compiled for PAN-OS with these options. */
const paloalto = (out: string, args: string[]) =>
  compileHere(['--input', SAMPLE, '--target', 'paloalto', '--out', out, ...args]);

describe('iptables: the apply script removes what a new run dropped', () => {
  const why = missing('ipset', 'iptables-restore', 'ip6tables-restore', 'sha256sum');
  if (why) skipNote('iptables apply script', why);
  it.skipIf(!!why || !haveShared)(
    'apply China 2025-11-14, then 2025-12-01 twice: no rule or set of the first is left',
    () => {
      const a = tmpDir('apply-a'),
        b = tmpDir('apply-b');
      compileInto(a, CHINA_A, ['--target', 'iptables']);
      compileInto(b, CHINA_B, ['--target', 'iptables']);
      const state = `ipset list -n | sort; echo ---; iptables-save -t filter | grep -E '^-A|^:M365' | sed 's/ -m comment --comment "[^"]*"//'; echo ---; ip6tables-save -t filter | grep -E '^-A|^:M365' | sed 's/ -m comment --comment "[^"]*"//'`;
      const out = inNetns(
        `sh ${a}/m365fw-iptables-apply.sh >/dev/null; ${state}; echo ===; sh ${b}/m365fw-iptables-apply.sh >/dev/null; sh ${b}/m365fw-iptables-apply.sh >/dev/null; ${state}`,
      );
      const [afterA, afterB] = out.split('===\n');
      const setsA = afterA.split('---\n')[0].trim().split('\n'),
        setsB = afterB.split('---\n')[0].trim().split('\n');
      expect(setsA).toContain('m365_v4_tcp_25_53_80_443');
      expect(setsB).not.toContain('m365_v4_tcp_25_53_80_443');
      // exactly B's sets and rules: what B alone gives in a fresh namespace
      const fresh = inNetns(`sh ${b}/m365fw-iptables-apply.sh >/dev/null; ${state}`);
      expect(afterB).toBe(fresh);
      const jumps = afterB.split('\n').filter((l) => l === '-A OUTPUT -j M365FW');
      expect(jumps.length).toBe(2); // once per family, however often it ran
      expect(setsB.some((s) => s.endsWith('-tmp'))).toBe(false);
    },
  );

  it.skipIf(!!why || !haveShared)(
    'two outputs on one host (Worldwide in M365FW, China in M365CN) each hold exactly their feed; a set of the user is left alone',
    () => {
      const ww = tmpDir('apply-ww'),
        cn = tmpDir('apply-cn');
      compileInto(ww, WORLDWIDE, ['--target', 'iptables']);
      compileInto(cn, CHINA_B, [
        '--target',
        'iptables',
        '--ipt-chain',
        'M365CN',
        '--ipt-in-chain',
        'M365CN_IN',
      ]);
      const read = `echo '### sets'; ipset list; echo '### v4'; iptables-save -t filter; echo '### v6'; ip6tables-save -t filter`;
      const out = inNetns(
        [
          // the user's own sets: one unused, one of m365fw's old default names in use by a rule of theirs
          'ipset create m365_custom hash:net',
          // a stale set of m365fw whose name is a prefix of a live one: it goes, the live one stays
          'ipset create m365_v4_tcp_8 hash:net',
          'ipset create m365_v4_tcp_1 hash:net',
          'iptables -A INPUT -m set --match-set m365_v4_tcp_1 src -j ACCEPT',
          `sh ${ww}/m365fw-iptables-apply.sh >/dev/null`,
          `sh ${cn}/m365fw-iptables-apply.sh >/dev/null`,
          // again in the other order: neither destroys nor swaps the other's sets
          `sh ${cn}/m365fw-iptables-apply.sh >/dev/null`,
          `sh ${ww}/m365fw-iptables-apply.sh 2>&1 >/dev/null`,
          read,
        ].join('\n'),
      );
      // the set in use by the user's rule is kept and said so, not a failed apply
      expect(out).toMatch(/kept set m365_v4_tcp_1: a rule outside chain M365FW still uses it/);
      const [, sets, v4, v6] = out.split(/### (?:sets|v4|v6)\n/);
      const ipsets = parseIpsetList(sets);
      expect(ipsets.has('m365_custom')).toBe(true);
      expect(ipsets.has('m365_v4_tcp_8')).toBe(false);
      expect(ipsets.has('m365_v4_tcp_80_443')).toBe(true);
      for (const [dir, chain] of [
        [ww, 'M365FW'],
        [cn, 'M365CN'],
      ] as const) {
        const rep = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as {
          rules: { key: string; family: number; prefixes: string[]; direction?: string }[];
        };
        const saved = [...parseIptablesSave(v4, chain), ...parseIptablesSave(v6, chain)];
        const used = new Set(saved.map((r) => r.set));
        const egress = rep.rules.filter((r) => r.direction !== 'ingress');
        expect(used.size).toBe(egress.length);
        for (const r of egress) {
          const name = ipsetName(r, chain);
          expect(used.has(name), `${chain} uses ${name}`).toBe(true);
          const members = ipsets.get(name)!.members;
          expect(sameCover(members, r.prefixes), `${chain} ${name}`).toBe(true);
        }
      }
      // no set is shared between the two outputs
      const names = (d: string) =>
        readFileSync(join(d, 'm365fw.ipset'), 'utf8')
          .split('\n')
          .filter((l) => l.startsWith('create ') && !l.includes('-tmp '))
          .map((l) => l.split(' ')[1]);
      const a = new Set(names(ww));
      expect(names(cn).filter((n) => a.has(n))).toEqual([]);
    },
  );

  it.skipIf(!!why)(
    'refuses files that are not the ones it was written with, and an unfinished write',
    () => {
      const out = tmpDir('apply-bad');
      compileInto(out, SAMPLE, ['--target', 'iptables']);
      writeFileSync(
        join(out, 'm365fw.v4'),
        readFileSync(join(out, 'm365fw.v4'), 'utf8') + '# edited\n',
      );
      expect(() => inNetns(`sh ${out}/m365fw-iptables-apply.sh`)).toThrow(/FAILED|did NOT match/);
      compileInto(out, SAMPLE, ['--target', 'iptables', '--ipt-hook', 'none']);
      inNetns(`mkdir ${out}/.m365fw-commit`);
      expect(() => inNetns(`sh ${out}/m365fw-iptables-apply.sh`)).toThrow(
        /an m365fw write to this directory is unfinished/,
      );
      inNetns(`rmdir ${out}/.m365fw-commit`);
      const s = inNetns(`sh ${out}/m365fw-iptables-apply.sh; iptables -S OUTPUT`);
      expect(s).not.toContain('-j M365FW'); // --ipt-hook none: no jump
    },
  );
});

/** A candidate config driven by `set` and `delete` lines, as PAN-OS treats them (set on a list adds). */
function playSetCommands(text: string, state = new Map<string, Map<string, Set<string>>>()) {
  const heads: Record<string, number> = {
    address: 2,
    'address-group': 2,
    service: 2,
    tag: 2,
    'external-list': 2,
    profiles: 3,
    rulebase: 4,
    'pre-rulebase': 4,
    'post-rulebase': 4,
  };
  for (const line of text.split('\n')) {
    const m = /^(set|delete) (.*)$/.exec(line);
    if (!m) continue;
    const toks: (string | string[])[] = [];
    const raw = [...m[2].matchAll(/"([^"]*)"|\[|\]|[^\s"[\]]+/g)].map((x) =>
      x[1] !== undefined ? { s: x[1], q: true } : { s: x[0], q: false },
    );
    for (let i = 0; i < raw.length; i++) {
      if (!raw[i].q && raw[i].s === '[') {
        const l: string[] = [];
        for (i++; raw[i].s !== ']'; i++) l.push(raw[i].s);
        toks.push(l);
      } else toks.push(raw[i].s);
    }
    // the scope words (vsys NAME, device-group NAME, shared) are part of the object's key
    const scope =
      toks[0] === 'vsys' || toks[0] === 'device-group' ? 2 : toks[0] === 'shared' ? 1 : 0;
    const n = scope + heads[toks[scope] as string];
    expect(heads[toks[scope] as string], line).toBeDefined();
    const key = toks.slice(0, n).join(' ');
    const rest = toks.slice(n);
    if (m[1] === 'delete') {
      if (!rest.length) {
        expect(state.has(key), `delete of ${key}, which is not there`).toBe(true);
        state.delete(key);
        continue;
      }
      const set = state.get(key)?.get(rest[0] as string);
      expect(
        set?.has(rest[1] as string),
        `delete of ${key} ${String(rest[0])} ${String(rest[1])}, which is not there`,
      ).toBe(true);
      set!.delete(rest[1] as string);
      continue;
    }
    const obj = state.get(key) ?? new Map<string, Set<string>>();
    state.set(key, obj);
    for (let i = 0; i + 1 < rest.length; i += 2) {
      const vals = Array.isArray(rest[i + 1]) ? (rest[i + 1] as string[]) : [rest[i + 1] as string];
      const s = obj.get(rest[i] as string) ?? new Set<string>();
      for (const v of vals) s.add(v);
      obj.set(rest[i] as string, s);
    }
  }
  return state;
}

/** The same view of a config XML: object key → list field → members. */
function xmlState(xml: string) {
  const arr = (x: any) => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
  const p = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    isArray: (_n: string, _p: unknown, _l: boolean, attr: boolean) => !attr,
    parseTagValue: false,
  });
  // the scope as the set commands name it: a vsys (vsys1 unnamed), a device group, or shared
  const cfg = p.parse(xml).config[0];
  const dev = cfg.devices?.[0].entry[0];
  const [vsys, pre, rulebase] = cfg.shared
    ? [cfg.shared[0], 'shared ', cfg.shared[0]['pre-rulebase'] ? 'pre-rulebase' : 'post-rulebase']
    : dev.vsys
      ? [
          dev.vsys[0].entry[0],
          dev.vsys[0].entry[0]['@name'] === 'vsys1' ? '' : `vsys ${dev.vsys[0].entry[0]['@name']} `,
          'rulebase',
        ]
      : [
          dev['device-group'][0].entry[0],
          `device-group ${dev['device-group'][0].entry[0]['@name']} `,
          dev['device-group'][0].entry[0]['pre-rulebase'] ? 'pre-rulebase' : 'post-rulebase',
        ];
  const inner = new Map<string, Map<string, Set<string>>>();
  const out = { set: (k: string, v: Map<string, Set<string>>) => inner.set(pre + k, v) };
  const mem = (x: any) =>
    new Set<string>(arr(x?.[0]?.member).map((m: any) => (typeof m === 'string' ? m : m['#text'])));
  for (const e of arr(vsys['address-group']?.[0]?.entry))
    out.set(`address-group ${e['@name']}`, new Map([['static', mem(e.static)]]));
  for (const e of arr(vsys.profiles?.[0]?.['custom-url-category']?.[0]?.entry))
    out.set(`profiles custom-url-category ${e['@name']}`, new Map([['list', mem(e.list)]]));
  for (const e of arr(vsys[rulebase][0].security[0].rules?.[0]?.entry)) {
    out.set(
      `${rulebase} security rules ${e['@name']}`,
      new Map(
        ['from', 'to', 'source', 'destination', 'service', 'category'].map((f) => [f, mem(e[f])]),
      ),
    );
  }
  for (const e of arr(vsys.address?.[0]?.entry)) out.set(`address ${e['@name']}`, new Map());
  for (const e of arr(vsys.tag?.[0]?.entry)) out.set(`tag ${e['@name']}`, new Map());
  for (const e of arr(vsys.service?.[0]?.entry)) out.set(`service ${e['@name']}`, new Map());
  for (const e of arr(vsys['external-list']?.[0]?.entry))
    out.set(`external-list ${e['@name']}`, new Map());
  return inner;
}
/** The simulated config reduced to what xmlState shows. */
function comparable(state: Map<string, Map<string, Set<string>>>) {
  const out: Record<string, Record<string, string[]>> = {};
  for (const [k, v] of [...state.entries()].sort()) {
    const kind = k.replace(/^(vsys \S+ |device-group \S+ |shared )/, '');
    if (kind.startsWith('tag ')) continue;
    const keep = kind.startsWith('address-group')
      ? ['static']
      : kind.startsWith('profiles')
        ? ['list']
        : /^(pre-|post-)?rulebase/.test(kind)
          ? ['from', 'to', 'source', 'destination', 'service', 'category']
          : [];
    out[k] = Object.fromEntries(keep.map((f) => [f, [...(v.get(f) ?? [])].sort()]));
  }
  return out;
}

/**
 * panos-api.json played on a config: each delete xpath removes what it names (and must find it),
 * then the set merges its element at the scope's xpath (PAN-OS `set`: lists gain members).
 */
function playApi(api: any, state: Map<string, Map<string, Set<string>>>) {
  const x = api.set.xpath as string;
  for (const d of api.deletes as string[]) {
    // the scope the previous run wrote to, in the words of the set commands
    const sc =
      /^\/config\/(?:shared|devices\/entry\[@name='localhost\.localdomain'\]\/(vsys|device-group)\/entry\[@name='([^']+)'\])\//.exec(
        d,
      );
    expect(sc, d).not.toBeNull();
    const words = !sc![1]
      ? 'shared '
      : sc![1] === 'vsys' && sc![2] === 'vsys1'
        ? ''
        : `${sc![1]} ${sc![2]} `;
    const m =
      /^((?:[a-z-]+\/)*[a-z-]+)\/entry\[@name='([^']+)'\](?:\/([a-z-]+)\/member\[text\(\)='([^']+)'\])?$/.exec(
        d.slice(sc![0].length),
      );
    expect(m, d).not.toBeNull();
    const key = `${words}${m![1].split('/').join(' ')} ${m![2]}`;
    if (m![3] === undefined) {
      expect(state.has(key), `delete of ${key}, which is not there`).toBe(true);
      state.delete(key);
    } else {
      const set = state.get(key)?.get(m![3]);
      expect(set?.has(m![4]), `delete of ${key} ${m![3]} ${m![4]}, which is not there`).toBe(true);
      set!.delete(m![4]);
    }
  }
  // the element at the scope's xpath, read like a config of its own
  const [, ...steps] = x.split('/');
  let wrapped = api.set.element as string;
  for (const step of steps.reverse()) {
    const m = /^([a-z-]+)(?:\[@name='([^']+)'\])?$/.exec(step)!;
    wrapped = m[2]
      ? `<${m[1]} name="${m[2]}">${wrapped}</${m[1]}>`
      : `<${m[1]}>${wrapped}</${m[1]}>`;
  }
  for (const [k, fields] of xmlState(wrapped)) {
    const obj = state.get(k) ?? new Map<string, Set<string>>();
    state.set(k, obj);
    for (const [f, members] of fields) {
      const s = obj.get(f) ?? new Set<string>();
      for (const v of members) s.add(v);
      obj.set(f, s);
    }
  }
  return state;
}

describe.skipIf(!haveShared)(
  'PAN-OS: deletes for everything the previous run had and this one drops',
  () => {
    it('China 2025-11-14 then 2025-12-01 into one --out: played on the first config, the second set file ends exactly at the second XML', () => {
      const out = tmpDir('pa-del');
      compileInto(out, CHINA_A, ['--target', 'paloalto', '--panos-from-zone', 'trust']);
      const first = readFileSync(join(out, 'panos-set.txt'), 'utf8');
      expect(first).not.toMatch(/^delete /m); // nothing before it
      const device = playSetCommands(first);
      expect(comparable(device)).toEqual(
        comparable(xmlState(readFileSync(join(out, 'panos-config.xml'), 'utf8'))),
      );
      compileInto(out, CHINA_B, ['--target', 'paloalto', '--panos-from-zone', 'untrust']);
      const second = readFileSync(join(out, 'panos-set.txt'), 'utf8');
      const deletes = second.split('\n').filter((l) => l.startsWith('delete '));
      expect(deletes).toContain('delete rulebase security rules m365-tcp_25_53_80_443');
      expect(deletes).toContain('delete address-group m365-grp-v4-tcp_25_53_80_443');
      // the zone changed: the old member of every kept rule's from goes too
      expect(deletes.some((l) => / from trust$/.test(l))).toBe(true);
      // deletes come first, before any set
      expect(second.indexOf('\ndelete ')).toBeLessThan(second.indexOf('\nset '));
      playSetCommands(second, device);
      expect(comparable(device)).toEqual(
        comparable(xmlState(readFileSync(join(out, 'panos-config.xml'), 'utf8'))),
      );
      // the same input again: no deletes, and plan sees no change
      compileInto(out, CHINA_B, ['--target', 'paloalto', '--panos-from-zone', 'untrust']);
      expect(readFileSync(join(out, 'panos-set.txt'), 'utf8')).not.toMatch(/^delete /m);
    });

    it('--panos-move places the rules before your deny-all (or on top), in order', () => {
      const out = tmpDir('pa-move');
      compileInto(out, SAMPLE, ['--target', 'paloalto', '--panos-move', 'before:deny all']);
      const text = readFileSync(join(out, 'panos-set.txt'), 'utf8');
      const rules = [...text.matchAll(/^set rulebase security rules (\S+) from/gm)].map(
        (m) => m[1],
      );
      const moves = text.split('\n').filter((l) => l.startsWith('move '));
      expect(moves).toEqual(
        rules.map((r) => `move rulebase security rules ${r} before "deny all"`),
      );
      compileInto(out, SAMPLE, ['--target', 'paloalto', '--panos-move', 'top']);
      const top = readFileSync(join(out, 'panos-set.txt'), 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('move '));
      expect(top).toEqual([...rules].reverse().map((r) => `move rulebase security rules ${r} top`));
      const bad = paloalto(tmpDir('pa-move'), ['--panos-move', 'before:"x"']);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/--panos-move/);
    });

    it('--panos-scope: a device group, its other rulebase, then shared; each run played on the last ends exactly at its XML', () => {
      const out = tmpDir('pa-scope');
      const device = new Map<string, Map<string, Set<string>>>();
      const xmlOf = () => xmlState(readFileSync(join(out, 'panos-config.xml'), 'utf8'));
      const setOf = () => readFileSync(join(out, 'panos-set.txt'), 'utf8');
      const apiOf = () => JSON.parse(readFileSync(join(out, 'panos-api.json'), 'utf8'));
      // the XML API route (panos-api.json) must end where the set commands do
      let viaApi = new Map<string, Map<string, Set<string>>>();
      const apiStep = () => {
        viaApi = playApi(apiOf(), viaApi);
        expect(comparable(viaApi)).toEqual(comparable(xmlOf()));
      };
      compileInto(out, CHINA_A, ['--target', 'paloalto', '--panos-scope', 'device-group:dg1']);
      const first = setOf();
      expect(first).toMatch(/^set device-group dg1 pre-rulebase security rules \S+ from /m);
      expect(first).not.toMatch(/^set (?!device-group dg1 )/m);
      expect(first).toMatch(/^# .*commit-all shared-policy device-group dg1$/m);
      playSetCommands(first, device);
      expect(comparable(device)).toEqual(comparable(xmlOf()));
      expect(apiOf().deletes).toEqual([]);
      apiStep();
      compileInto(out, CHINA_B, ['--target', 'paloalto', '--panos-scope', 'device-group:dg1']);
      expect(apiOf().deletes.length).toBe(
        setOf()
          .split('\n')
          .filter((l) => l.startsWith('delete ')).length,
      );
      apiStep();
      const second = setOf();
      expect(second).toContain(
        'delete device-group dg1 pre-rulebase security rules m365-tcp_25_53_80_443',
      );
      playSetCommands(second, device);
      expect(comparable(device)).toEqual(comparable(xmlOf()));
      // the post-rulebase is another place: m365fw deletes there only when told the old scope
      const moved = paloalto(out, [
        '--panos-scope',
        'device-group:dg1',
        '--panos-rulebase',
        'post',
      ]);
      expect(moved.code).toBe(1);
      expect(moved.stderr).toContain(
        `report.json: /targets/paloalto/inventory/scope: "device-group:dg1:pre-rulebase" is not this run's scope (device-group:dg1:post-rulebase); m365fw deletes only inside the scope it writes to: say --panos-previous-scope device-group:dg1:pre-rulebase`,
      );
      // told, every rule and object of the pre-rulebase run goes
      compileInto(out, CHINA_B, [
        '--target',
        'paloalto',
        '--panos-scope',
        'device-group:dg1',
        '--panos-rulebase',
        'post',
        '--panos-previous-scope',
        'device-group:dg1:pre-rulebase',
      ]);
      const third = setOf();
      expect(third).toMatch(/^delete device-group dg1 pre-rulebase security rules /m);
      expect(third).toMatch(/^set device-group dg1 post-rulebase security rules /m);
      playSetCommands(third, device);
      expect(comparable(device)).toEqual(comparable(xmlOf()));
      apiStep();
      compileInto(out, CHINA_B, [
        '--target',
        'paloalto',
        '--panos-scope',
        'shared',
        '--panos-previous-scope',
        'device-group:dg1:post-rulebase',
      ]);
      const fourth = setOf();
      expect(fourth).toMatch(/^delete device-group dg1 address /m);
      expect(fourth).toMatch(/^set shared pre-rulebase security rules /m);
      playSetCommands(fourth, device);
      expect(comparable(device)).toEqual(comparable(xmlOf()));
      apiStep();
      expect([...viaApi.keys()].every((k) => k.startsWith('shared '))).toBe(true);
      expect([...device.keys()].every((k) => k.startsWith('shared '))).toBe(true);
      // a report of 0.2.0 recorded only the vsys: its deletes still reach that vsys
      const rep = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
      delete rep.targets.paloalto.inventory.scope;
      rep.targets.paloalto.inventory.vsys = 'vsys3';
      writeFileSync(join(out, 'report.json'), JSON.stringify(rep));
      compileInto(out, CHINA_B, ['--target', 'paloalto', '--panos-previous-scope', 'vsys:vsys3']);
      expect(setOf()).toMatch(/^delete vsys vsys3 rulebase security rules m365-/m);
    });

    it('--panos-scope and --panos-rulebase values that are not a scope are refused by name', () => {
      for (const [args, msg] of [
        [['--panos-scope', 'device-group:'], /--panos-scope "device-group:"/],
        [['--panos-scope', 'vsys:a b'], /--panos-scope "vsys:a b"/],
        [['--panos-scope', 'device-group:shared'], /cannot be named "shared"/],
        [['--panos-scope', 'panorama'], /vsys:NAME, device-group:NAME or shared/],
        [['--panos-scope', 'vsys:v2', '--panos-vsys', 'v2'], /both given/],
        [['--panos-scope', 'vsys:v2', '--panos-rulebase', 'post'], /not to a vsys/],
        [['--panos-rulebase', 'middle'], /--panos-rulebase/],
      ] as [string[], RegExp][]) {
        const r = paloalto(tmpDir('pa-scope-bad'), args);
        expect(r.code, args.join(' ')).toBe(1);
        expect(r.stderr).toMatch(msg);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
      }
    });

    it('a tampered inventory in the previous report is refused, not turned into commands', () => {
      const out = tmpDir('pa-inv');
      compileInto(out, SAMPLE, ['--target', 'paloalto']);
      const rep = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
      rep.targets.paloalto.inventory.addresses.push('x\ncommit force');
      writeFileSync(join(out, 'report.json'), JSON.stringify(rep));
      const r = compileHere(['--input', SAMPLE, '--target', 'paloalto', '--out', out]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        '/targets/paloalto/inventory/addresses/' +
          (rep.targets.paloalto.inventory.addresses.length - 1) +
          ': "x\\ncommit force" is not a name m365fw writes',
      );
    });

    // an operator's object of every kind, and m365fw's own objects in another scope, planted
    // into a real previous report: never a delete line or an xpath, always a refusal
    it.each<[string, (inv: Record<string, any>) => string]>([
      [
        'a rule',
        (inv) => ((inv.rules['deny-all'] = Object.values(inv.rules)[0]), '/rules/deny-all'),
      ],
      ['an address group', (inv) => ((inv.groups['corp-servers'] = []), '/groups/corp-servers')],
      [
        "a member of m365fw's group",
        (inv) => {
          const [g, m] = Object.entries(inv.groups)[0] as [string, string[]];
          m.push('corp-dns');
          return `/groups/${g}/${m.length - 1}`;
        },
      ],
      [
        'a service',
        (inv) => (inv.services.push('service-https'), `/services/${inv.services.length - 1}`),
      ],
      [
        'an address',
        (inv) => (inv.addresses.push('corp-proxy'), `/addresses/${inv.addresses.length - 1}`),
      ],
      [
        'a URL category',
        (inv) => (
          (inv.urlCategories['allowed-sites'] = ['x.example/']),
          '/urlCategories/allowed-sites'
        ),
      ],
      [
        'an external list',
        (inv) => (
          inv.externalLists.push('panw-known-ip-list'),
          `/externalLists/${inv.externalLists.length - 1}`
        ),
      ],
      ['another vsys', (inv) => ((inv.scope = 'vsys:vsys2'), '/scope')],
      ['a device group', (inv) => ((inv.scope = 'device-group:dg1:pre-rulebase'), '/scope')],
      ['shared', (inv) => ((inv.scope = 'shared:pre-rulebase'), '/scope')],
    ])('%s m365fw never made: refused naming the JSON path, nothing written', (_what, plant) => {
      const out = tmpDir('pa-foreign');
      compileInto(out, CHINA_A, ['--target', 'paloalto']);
      const rep = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
      const path = plant(rep.targets.paloalto.inventory);
      writeFileSync(join(out, 'report.json'), JSON.stringify(rep));
      const before = readdirSync(out)
        .sort()
        .map((n) => [n, readFileSync(join(out, n), 'utf8')]);
      const r = compileHere(['--input', CHINA_B, '--target', 'paloalto', '--out', out]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(
        `paloalto: ${join(out, 'report.json')}: /targets/paloalto/inventory${path}: `,
      );
      expect(r.stderr).toMatch(/refusing to delete from it/);
      expect(
        readdirSync(out)
          .sort()
          .map((n) => [n, readFileSync(join(out, n), 'utf8')]),
      ).toEqual(before);
    });
  },
);

describe('Azure NSG: --nsg-deny closes the rule list', () => {
  const v = azureValidators();
  it.each([
    ['internet', 'Outbound', 'Internet'],
    ['all', 'Outbound', '*'],
    ['internet', 'Inbound', 'Internet'],
  ])('--nsg-deny %s (%s): a deny rule at 4096, the template still valid', (scope, dir, remote) => {
    const out = tmpDir('nsg-deny');
    compileInto(out, SAMPLE, [
      '--target',
      'azure-nsg',
      '--nsg-deny',
      scope,
      '--nsg-direction',
      dir,
    ]);
    const t = JSON.parse(readFileSync(join(out, 'azure-nsg.json'), 'utf8'));
    expect(v.template(t), v.errors(v.template)).toBe(true);
    expect(v.strict(t), v.errors(v.strict)).toBe(true);
    expect(codeChecks(t)).toEqual([]);
    const rules = t.resources[0].properties.securityRules;
    const deny = rules[rules.length - 1];
    expect(deny.name).toBe(`m365_deny_${scope}`);
    expect(deny.properties).toMatchObject({
      access: 'Deny',
      priority: 4096,
      protocol: '*',
      direction: dir,
      destinationPortRange: '*',
    });
    if (dir === 'Outbound')
      expect(deny.properties).toMatchObject({
        sourceAddressPrefix: 'VirtualNetwork',
        destinationAddressPrefix: remote,
      });
    else
      expect(deny.properties).toMatchObject({
        sourceAddressPrefix: remote,
        destinationAddressPrefix: 'VirtualNetwork',
      });
    expect(
      rules
        .slice(0, -1)
        .every((r: any) => r.properties.access === 'Allow' && r.properties.priority < 4096),
    ).toBe(true);
  });

  it("the allow rules must end before the deny rule's priority: at the limit it fits, one past it is refused", () => {
    const rules = JSON.parse(readFileSync(join(FIXTURES, 'sample-feed.json'), 'utf8')) as unknown[];
    expect(rules.length).toBeGreaterThan(0);
    const out = tmpDir('nsg-deny');
    compileInto(out, SAMPLE, ['--target', 'azure-nsg']);
    const n = JSON.parse(readFileSync(join(out, 'azure-nsg.json'), 'utf8')).resources[0].properties
      .securityRules.length;
    // the last allow rule lands on 4095 exactly
    const start = 4095 - (n - 1);
    expect(
      compileHere([
        '--input',
        SAMPLE,
        '--target',
        'azure-nsg',
        '--nsg-deny',
        'internet',
        '--nsg-priority-start',
        String(start),
        '--out',
        tmpDir('nsg-deny'),
      ]).code,
    ).toBe(0);
    const r = compileHere([
      '--input',
      SAMPLE,
      '--target',
      'azure-nsg',
      '--nsg-deny',
      'internet',
      '--nsg-priority-start',
      String(start + 1),
      '--out',
      tmpDir('nsg-deny'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/end at 4096, past 4095 \(4096-4096 are the --nsg-deny rules\) by 1/);
    // without --nsg-deny, 4096 is the allow rules' own
    expect(
      compileHere([
        '--input',
        SAMPLE,
        '--target',
        'azure-nsg',
        '--nsg-priority-start',
        String(start + 1),
        '--out',
        tmpDir('nsg-deny'),
      ]).code,
    ).toBe(0);
  });
});
