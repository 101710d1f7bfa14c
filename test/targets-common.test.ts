/**
 * The pieces every target shares, in-process: safeText (what may reach a quoted comment or a
 * description), provenanceText (the one-line "sets … areas categories required" and its cut at a
 * target's limit), the registry (plugin registration and its refusals) and --target resolution.
 */
import { describe, expect, it } from 'vitest';
import { provenanceText, safeText } from '../targets/common.js';
import { pluginTargets, registerPlugin, resolveTargets, TARGETS } from '../targets/index.js';
import { defineTarget } from '../targets/define.js';
import type { Provenance } from '../src/model.js';

const BUILT_IN = ['nftables', 'iptables', 'azure-nsg', 'terraform-azure-nsg', 'paloalto', 'pac'];

describe('safeText', () => {
  it('keeps every character of its allowed set as it is', () => {
    const allowed = 'AZaz09 ,._:+=()@/#-';
    expect(safeText(allowed, 100)).toBe(allowed);
    expect(safeText('sets 1,2 Exchange Allow required', 100)).toBe(
      'sets 1,2 Exchange Allow required',
    );
  });

  it('replaces each character a comment, a string or XML could misread, one for one', () => {
    for (const c of [
      '"',
      "'",
      '\\',
      '\n',
      '\r',
      '\t',
      ';',
      '*',
      '<',
      '>',
      '&',
      '{',
      '}',
      '`',
      '$',
      '|',
      '!',
      '?',
      '[',
      ']',
      '%',
      '~',
      '^',
      '\u0000',
      '\u001b',
      'é',
      '\u2028',
    ])
      expect(safeText(`a${c}b`, 100), JSON.stringify(c)).toBe('a_b');
    expect(safeText('"; flush ruleset\n', 100)).toBe('__ flush ruleset_');
  });

  it('breaks every "--" (an XML comment delimiter) and both C comment delimiters', () => {
    expect(safeText('a--b', 100)).toBe('a__b');
    expect(safeText('a---b', 100)).toBe('a__-b');
    expect(safeText('a----b', 100)).toBe('a____b');
    expect(safeText('-->', 100)).toBe('___');
    expect(safeText('/* x */', 100)).toBe('/_ x _/');
    expect(safeText('a-b-c', 100)).toBe('a-b-c');
  });

  it('cuts at max characters exactly, with "..." inside the limit', () => {
    expect(safeText('abcdefghij', 10)).toBe('abcdefghij');
    expect(safeText('abcdefghijk', 10)).toBe('abcdefg...');
    expect(safeText('abcdefghijk', 10)).toHaveLength(10);
    // the cut counts the text after cleaning
    expect(safeText('ab"defghij', 10)).toBe('ab_defghij');
  });
});

const prov = (o: Partial<Provenance> = {}): { provenance: Provenance } => ({
  provenance: {
    setIds: ['1', '2', '3'],
    serviceAreas: ['Exchange'],
    categories: ['Allow'],
    required: [true],
    ...o,
  },
});

describe('provenanceText', () => {
  it('names the sets, areas, categories and whether they are required', () => {
    expect(provenanceText(prov(), 200)).toBe('sets 1,2,3 Exchange Allow required');
    expect(provenanceText(prov({ required: [false] }), 200)).toBe(
      'sets 1,2,3 Exchange Allow optional',
    );
    expect(provenanceText(prov({ required: [false, true] }), 200)).toBe(
      'sets 1,2,3 Exchange Allow required+optional',
    );
    expect(
      provenanceText(
        prov({ serviceAreas: ['Exchange', 'Skype'], categories: ['Allow', 'Optimize'] }),
        200,
      ),
    ).toBe('sets 1,2,3 Exchange,Skype Allow,Optimize required');
  });

  it('lists every id while they fit, and cuts to "+N more" one character past', () => {
    const ids = Array.from({ length: 12 }, (_, i) => String(i + 1));
    const full = 'sets 1,2,3,4,5,6,7,8,9,10,11,12 Exchange Allow required';
    expect(full).toHaveLength(55);
    expect(provenanceText(prov({ setIds: ids }), 55)).toBe(full);
    // budget 25 for the ids: "1,…,9 +3 more" is exactly 25, so id 9 still fits and 10 does not
    expect(provenanceText(prov({ setIds: ids }), 54)).toBe(
      'sets 1,2,3,4,5,6,7,8,9 +3 more Exchange Allow required',
    );
    expect(provenanceText(prov({ setIds: ids }), 53)).toBe(
      'sets 1,2,3,4,5,6,7,8 +4 more Exchange Allow required',
    );
    for (let max = 40; max <= 55; max++)
      expect(provenanceText(prov({ setIds: ids }), max).length, String(max)).toBeLessThanOrEqual(
        max,
      );
  });

  it('counts the "+N more" of what is left, with two digits when ten or more are left', () => {
    const ids = Array.from({ length: 30 }, (_, i) => String(i + 1));
    const t = provenanceText(prov({ setIds: ids }), 40);
    // budget 11: "1" and " +29 more" are exactly 11, "1,2" and " +28 more" are 13
    expect(t).toBe('sets 1 +29 more Exchange Allow required');
  });

  it('is cleaned like any other text (a hostile service area cannot break the comment)', () => {
    expect(provenanceText(prov({ serviceAreas: ['Ex"; drop\n--'] }), 200)).toBe(
      'sets 1,2,3 Ex__ drop___ Allow required',
    );
  });
});

const caps = { fqdn: false, wildcard: false, mixedFamilies: true, portRanges: true };
const plugin = (name: string) =>
  defineTarget({
    name,
    summary: 'a test target',
    capabilities: caps,
    limits: {},
    options: {},
    render: () => ({ files: [] }),
  });

describe('the target registry', () => {
  it('holds the built-in targets in registry order', () => {
    expect([...TARGETS.keys()]).toEqual(BUILT_IN);
    for (const [name, t] of TARGETS) expect(t.name).toBe(name);
  });

  it('resolves "all", a list in any order, and a repeated name, to registry order', () => {
    expect(resolveTargets('all').map((t) => t.name)).toEqual(BUILT_IN);
    expect(resolveTargets('pac,nftables').map((t) => t.name)).toEqual(['nftables', 'pac']);
    expect(resolveTargets('nftables,pac').map((t) => t.name)).toEqual(['nftables', 'pac']);
    expect(resolveTargets('iptables,iptables').map((t) => t.name)).toEqual(['iptables']);
    expect(resolveTargets('paloalto').map((t) => t.name)).toEqual(['paloalto']);
  });

  it('refuses an unknown name, naming it and every known one', () => {
    expect(() => resolveTargets('nftables,pf')).toThrow(
      'unknown target "pf"; known: nftables, iptables, azure-nsg, terraform-azure-nsg, paloalto, pac, all',
    );
    expect(() => resolveTargets('')).toThrow('unknown target ""');
    expect(() => resolveTargets('All')).toThrow('unknown target "All"');
  });

  it('refuses a plugin that defineTarget did not make, whatever part is missing', () => {
    const good = plugin('shape') as unknown as Record<string, unknown>;
    const bad: [string, unknown][] = [
      ['undefined', undefined],
      ['null', null],
      ['a number', 7],
      ['no name', { ...good, name: undefined }],
      ['a name that is not a string', { ...good, name: 7 }],
      ['no render', { ...good, render: undefined }],
      ['render not a function', { ...good, render: 'x' }],
      ['no parseOptions', { ...good, parseOptions: undefined }],
      ['parseOptions not a function', { ...good, parseOptions: {} }],
      ['no options', { ...good, options: undefined }],
      ['no capabilities', { ...good, capabilities: undefined }],
    ];
    for (const [what, t] of bad)
      expect(() => registerPlugin(t, '/plugins/x.mjs'), what).toThrow(
        '/plugins/x.mjs: does not export a target made with defineTarget (export default defineTarget({...}))',
      );
    expect([...TARGETS.keys()]).toEqual(BUILT_IN);
    expect(pluginTargets().size).toBe(0);
  });

  it('refuses a taken name, built-in or plugin, and keeps the first', () => {
    expect(() => registerPlugin(plugin('nftables'), '/p/a.mjs')).toThrow(
      '/p/a.mjs: target name "nftables" is already taken',
    );
    expect(TARGETS.get('nftables')?.summary).not.toBe('a test target');
    const first = registerPlugin(plugin('pf-one'), '/p/one.mjs');
    expect(() => registerPlugin(plugin('pf-one'), '/p/two.mjs')).toThrow(
      '/p/two.mjs: target name "pf-one" is already taken',
    );
    expect(TARGETS.get('pf-one')).toBe(first);
    expect(pluginTargets().get('pf-one')).toBe('/p/one.mjs');
  });

  it('adds a plugin after the built-in ones, where --target and "all" find it', () => {
    const t = registerPlugin(plugin('pf-two'), '/p/two.mjs');
    expect(t.name).toBe('pf-two');
    const names = [...TARGETS.keys()];
    expect(names.slice(0, BUILT_IN.length)).toEqual(BUILT_IN);
    expect(names.at(-1)).toBe('pf-two');
    expect(resolveTargets('pf-two,nftables').map((x) => x.name)).toEqual(['nftables', 'pf-two']);
    expect(resolveTargets('all').map((x) => x.name)).toContain('pf-two');
    expect(pluginTargets().get('pf-two')).toBe('/p/two.mjs');
    expect(pluginTargets().has('nftables')).toBe(false);
  });
});
