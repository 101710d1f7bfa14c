/**
 * The target contract in-process: every option builder's default, accepted values and refusal
 * word for word (what a plugin author's users read), optionKey, and each check defineTarget makes
 * of a definition, at the edges of the name and flag grammars.
 */
import { describe, expect, it } from 'vitest';
import { refusal } from './helpers/refusal.js';
import { defineTarget, option, optionKey } from '../targets/define.js';

describe('option builders', () => {
  it('text: the default when not given, the value when given, a check naming flag and value', () => {
    const t = option.text('--pf-dir <dir>', 'where', '/etc/pf', (v) =>
      v.startsWith('/') ? undefined : 'an absolute path',
    );
    expect(t).toMatchObject({ flag: '--pf-dir <dir>', description: 'where', default: '/etc/pf' });
    expect(t.parse(undefined)).toBe('/etc/pf');
    expect(t.parse('/srv')).toBe('/srv');
    expect(refusal(() => t.parse('srv'))).toBe('--pf-dir "srv": an absolute path');
    expect(refusal(() => t.parse(7))).toBe('--pf-dir 7: text');
    expect(refusal(() => t.parse(true))).toBe('--pf-dir true: text');
    // the check also sees the default... and a default it refuses is refused
    const bad = option.text('--x <v>', 'x', 'rel', (v) =>
      v.startsWith('/') ? undefined : 'absolute',
    );
    expect(refusal(() => bad.parse(undefined))).toBe('--x "rel": absolute');
    expect(option.text('--y <v>', 'y', 'd').parse('')).toBe('');
  });

  it('optionalText: undefined when not given; checked when given', () => {
    const t = option.optionalText('--pf-anchor <name>', 'anchor', (v) => (v ? undefined : 'empty'));
    expect(t.default).toBeUndefined();
    expect(t.parse(undefined)).toBeUndefined();
    expect(t.parse('a')).toBe('a');
    expect(refusal(() => t.parse(''))).toBe('--pf-anchor "": empty');
    expect(refusal(() => t.parse(['a']))).toBe('--pf-anchor ["a"]: text');
    expect(option.optionalText('--z <v>', 'z').parse('')).toBe('');
  });

  it('integer: decimal digits within [min, max], at each end and one past', () => {
    const n = option.integer('--step <n>', 'step', 5, 1, 100);
    expect(n.default).toBe('5');
    expect(n.parse(undefined)).toBe(5);
    expect(n.parse('1')).toBe(1);
    expect(n.parse('100')).toBe(100);
    for (const bad of ['0', '101', '1e2', '0x10', '', ' 5', '5.0', '-1'])
      expect(
        refusal(() => n.parse(bad)),
        bad,
      ).toMatch(/^--step /);
  });

  it('choice: the default, each choice, anything else refused listing them', () => {
    const c = option.choice('--hook <chain>', 'hook', ['OUTPUT', 'FORWARD'] as const, 'OUTPUT');
    expect(c).toMatchObject({ default: 'OUTPUT', choices: ['OUTPUT', 'FORWARD'] });
    expect(c.parse(undefined)).toBe('OUTPUT');
    expect(c.parse('FORWARD')).toBe('FORWARD');
    expect(refusal(() => c.parse('output'))).toBe('--hook "output": one of OUTPUT, FORWARD');
    expect(refusal(() => c.parse(1))).toBe('--hook 1: one of OUTPUT, FORWARD');
  });

  it('optionalChoice: undefined when not given', () => {
    const c = option.optionalChoice('--deny <scope>', 'deny', ['internet', 'all'] as const);
    expect(c.default).toBeUndefined();
    expect(c.choices).toEqual(['internet', 'all']);
    expect(c.parse(undefined)).toBeUndefined();
    expect(c.parse('all')).toBe('all');
    expect(refusal(() => c.parse('none'))).toBe('--deny "none": one of internet, all');
  });

  it('flag: false by default, true by default for --no-…, booleans only', () => {
    const on = option.flag('--pf-quick', 'quick');
    const off = option.flag('--no-ipset', 'no ipset');
    expect(on.parse(undefined)).toBe(false);
    expect(off.parse(undefined)).toBe(true);
    expect(on.parse(true)).toBe(true);
    expect(off.parse(false)).toBe(false);
    expect(refusal(() => on.parse('true'))).toBe('--pf-quick "true": true or false');
    expect(refusal(() => off.parse(0))).toBe('--no-ipset 0: true or false');
    // a flag named like "--not-…" is not negated
    expect(option.flag('--notify', 'n').parse(undefined)).toBe(false);
  });

  it('optionKey: the key commander and the library use', () => {
    expect(optionKey({ flag: '--nft-table <name>' })).toBe('nftTable');
    expect(optionKey({ flag: '--no-ipset' })).toBe('ipset');
    expect(optionKey({ flag: '--panos-ip-edl' })).toBe('panosIpEdl');
    expect(optionKey({ flag: '--pf-v6-table <t>' })).toBe('pfV6Table');
    expect(optionKey({ flag: '--x,--y' })).toBe('x');
    expect(optionKey({ flag: '--notify' })).toBe('notify');
  });
});

const caps = { fqdn: false, wildcard: false, mixedFamilies: true, portRanges: true };
const def = (o: Record<string, unknown> = {}) =>
  defineTarget({
    name: 'pf',
    summary: 'pf tables',
    capabilities: caps,
    limits: { rules: 10 },
    options: {},
    render: () => ({ files: [] }),
    ...o,
  });

describe('defineTarget', () => {
  it('names: a lower-case letter first, then letters, digits and "-", at most 40', () => {
    for (const ok of ['a', 'pf', 'pf-table', 'a1', `a${'b'.repeat(39)}`])
      expect(
        refusal(() => def({ name: ok })),
        ok,
      ).toBe('accepted');
    for (const bad of [
      '',
      '1pf',
      '-pf',
      'Pf',
      'pf_table',
      'pf table',
      `a${'b'.repeat(40)}`,
      'pf\n',
    ])
      expect(
        refusal(() => def({ name: bad })),
        bad,
      ).toBe(
        `target name ${JSON.stringify(bad)}: lower-case letters, digits and "-", starting with a letter`,
      );
  });

  it('flags: "--name" with an optional "<value>"; a parse function', () => {
    const withFlag = (flag: string) =>
      def({ options: { x: { ...option.flag('--x', 'x'), flag } } });
    for (const ok of ['--x', '--pf-dir <dir>', '--a1 <v-w>', '--x9-y'])
      expect(
        refusal(() => withFlag(ok)),
        ok,
      ).toBe('accepted');
    for (const bad of [
      '-x',
      '--X',
      '--1x',
      '--x <V>',
      '--x <v> <w>',
      '--x  <v>',
      '--x <>',
      '--x_y',
      '--x <v',
    ])
      expect(
        refusal(() => withFlag(bad)),
        bad,
      ).toBe(`target pf: option x has the flag ${JSON.stringify(bad)}`);
    expect(refusal(() => def({ options: { x: { flag: '--x', description: 'x' } } }))).toBe(
      'target pf: option x has no parse function',
    );
  });

  it('requires: only options it has', () => {
    const opts = { dir: option.optionalText('--pf-dir <d>', 'd') };
    expect(refusal(() => def({ options: opts, requires: ['dir'] }))).toBe('accepted');
    expect(refusal(() => def({ options: opts, requires: ['dir', 'table'] }))).toBe(
      'target pf: requires unknown option table',
    );
  });

  it('the shape the compiler holds: every field carried, options parsed by key, render passed through', () => {
    const opts = {
      dir: option.text('--pf-dir <d>', 'd', '/etc/pf'),
      quick: option.flag('--pf-quick', 'q'),
      table: option.optionalText('--pf-table <t>', 't'),
    };
    const seen: unknown[] = [];
    const t = def({
      options: opts,
      requires: ['dir'],
      render: (m: unknown, o: unknown, c: unknown) => {
        seen.push(m, o, c);
        return { files: [{ path: 'x', body: 'y', comment: { line: '#' } }] };
      },
    });
    expect(t).toMatchObject({
      name: 'pf',
      summary: 'pf tables',
      capabilities: caps,
      limits: { rules: 10 },
      options: opts,
      requires: ['dir'],
    });
    expect(t.parseOptions({})).toEqual({ dir: '/etc/pf', quick: false, table: undefined });
    expect(t.parseOptions({ pfDir: '/srv', pfQuick: true, pfTable: 'm', other: 1 })).toEqual({
      dir: '/srv',
      quick: true,
      table: 'm',
    });
    // by the flag's key, not the option's own key
    expect(t.parseOptions({ dir: '/nope', quick: true })).toEqual({
      dir: '/etc/pf',
      quick: false,
      table: undefined,
    });
    const ctx = { provenance: ['p'] };
    const out = t.render({ rules: [] } as never, { dir: '/srv' }, ctx);
    expect(out.files).toHaveLength(1);
    expect(seen).toEqual([{ rules: [] }, { dir: '/srv' }, ctx]);
  });
});
