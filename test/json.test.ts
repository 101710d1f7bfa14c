/**
 * Exact JSON: JSON.parse does the parsing, a key count decides whether momoa must look for a
 * duplicate; every way two keys can be equal is caught, and nothing else is refused.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runs } from './helpers/env.js';
import { parseExactJson } from '../src/sources/json.js';

const refuses = (text: string, msg: RegExp) => {
  let err: Error | undefined;
  try {
    parseExactJson('f.json', text);
  } catch (e) {
    err = e as Error;
  }
  expect(err?.message).toMatch(msg);
};

describe('parseExactJson', () => {
  it.each([
    ['top level', '{"a":1,"a":2}', /duplicate key "a" in the top-level object at line 1 column 8/],
    ['nested in an array', '[{"x":1},{"y":1, "y" :2}]', /duplicate key "y" in \[1\]/],
    ['deep', '{"a":{"b":[0,{"c":1,\n"c":2}]}}', /duplicate key "c" in \.a\.b\[1\] at line 2/],
    ['spelled differently', '{"a":1,"\\u0061":2}', /duplicate key "a"/],
    ['__proto__ twice', '{"__proto__":1,"__proto__":2}', /duplicate key "__proto__"/],
    ['a key with an escaped quote', '{"a\\"":1,"a\\"":2}', /duplicate key "a\\""/],
  ])('a duplicate key %s is refused, with its place', (_, text, msg) => refuses(text, msg));

  it.each([
    ['colons in strings', '{"a":"x:y","b":"\\":"}'],
    ['a string value then a key', '[":", {"k": ":"}]'],
    ['whitespace before the colon', '{ "a"\t:\r\n1 , "b" : 2 }'],
    ['equal keys in different objects', '[{"a":1},{"a":2},{"b":{"a":3}}]'],
    ['no object at all', '[1,"a",null]'],
  ])('%s is not a duplicate', (_, text) =>
    expect(parseExactJson('f.json', text)).toEqual(JSON.parse(text)),
  );

  it('malformed JSON is refused with the file name', () => {
    refuses('{"a":1,}', /^f\.json: malformed JSON/);
    refuses('{"a" 1}', /malformed JSON/);
    refuses('', /malformed JSON/);
  });

  it('nesting is bounded at the limit: at it parses, one past it is refused', () => {
    expect(parseExactJson('f.json', '[[[]]]', 3)).toEqual([[[]]]);
    refuses(`${'['.repeat(33)}${']'.repeat(33)}`, /nested deeper than 32 levels/);
    expect(parseExactJson('f.json', `${'['.repeat(32)}${']'.repeat(32)}`)).toHaveLength(1);
    expect(() => parseExactJson('f.json', '[[[[]]]]', 3)).toThrow(/nested deeper than 3 levels/);
    expect(parseExactJson('f.json', '"[[[[["', 3)).toBe('[[[[[');
  });

  it('property: any document reads back as the value it was written from; one key repeated is always caught', () => {
    const key = fc.oneof(fc.constantFrom('a', 'b', ':', '"', '\\', '__proto__'), fc.string());
    fc.assert(
      fc.property(fc.dictionary(key, fc.jsonValue({ maxDepth: 3 })), fc.nat(), (obj, pick) => {
        const text = JSON.stringify(obj, null, pick % 3);
        // the oracle is the value itself, not JSON.parse (which misreads escaped keys: below)
        expect(JSON.stringify(parseExactJson('f.json', text), null, pick % 3)).toBe(text);
        const keys = Object.keys(obj);
        if (!keys.length) return;
        const k = keys[pick % keys.length];
        const dup = `${text.slice(0, -1)},${JSON.stringify(k)}:0}`;
        expect(() => parseExactJson('f.json', dup)).toThrow(/duplicate key/);
      }),
      { numRuns: runs(300) },
    );
  });
});

describe('keys spelled with escapes', () => {
  // V8 in Node 24.21: after JSON.parse has read some escaped keys it returns others undecoded
  // (the raw source characters); parseExactJson must give the decoded key every time
  const spelled: [string, string][] = [
    ['{"\\\\":1}', '\\'],
    ['{"\\"":1}', '"'],
    ['{"\\/":1}', '/'],
    ['{"\\u0041":1}', 'A'],
    ['{"\\n":1}', '\n'],
    ['{"\\/a":1}', '/a'],
    ['{"\\u0069ps":1}', 'ips'],
    ['{"\\u005f_proto__":1}', '__proto__'], // an own key, not the prototype
  ];
  it('each is read decoded, however often JSON.parse has seen the others', () => {
    for (let round = 0; round < 20; round++)
      for (const [text, key] of spelled)
        for (const [before] of spelled) {
          JSON.parse(before); // the engine has read another escaped key just before
          expect(Object.keys(parseExactJson('f.json', text) as object)).toEqual([key]);
        }
  });
  it('property: documents of escaped keys read back decoded (3,000 of them in a row)', () => {
    // the misreading depends on what the engine read before: many documents, one after another
    const piece = fc.constantFrom(
      ['\\"', '"'],
      ['\\\\', '\\'],
      ['\\/', '/'],
      ['\\n', '\n'],
      ['\\t', '\t'],
      ['\\u0041', 'A'],
      ['a', 'a'],
      ['b', 'b'],
    );
    const spelledKey = fc
      .array(piece, { minLength: 1, maxLength: 3 })
      .map((ps) => [ps.map((p) => p[0]).join(''), ps.map((p) => p[1]).join('')] as const);
    fc.assert(
      fc.property(fc.uniqueArray(spelledKey, { selector: (k) => k[1], maxLength: 4 }), (keys) => {
        const text = `{${keys.map(([raw], i) => `"${raw}":${i}`).join(',')}}`;
        const want = Object.fromEntries(keys.map(([, key], i) => [key, i]));
        expect(parseExactJson('f.json', text)).toEqual(want);
      }),
      { numRuns: runs(3000) },
    );
  });
  it('a feed field spelled with an escape keeps its value', () => {
    const text = '[{"id":1,"\\u0069ps":["192.0.2.0/24"],"a\\u0062":{"c":"\\u0041"}}]';
    for (let round = 0; round < 20; round++)
      expect(parseExactJson('f.json', text)).toEqual([
        { id: 1, ips: ['192.0.2.0/24'], ab: { c: 'A' } },
      ]);
  });
  it('two keys equal only after decoding are a duplicate', () =>
    refuses('{"ab":1,"a\\u0062":2}', /duplicate key "ab"/));
});

describe('a feed whose field names are spelled with escapes', () => {
  it('compiles to the same rules as the plain spelling', async () => {
    const { compile, readFeed, render } = await import('../src/index.js');
    const plain =
      '[{"id":1,"serviceArea":"Exchange","category":"Allow","required":true,"tcpPorts":"443","ips":["192.0.2.0/24","2001:db8::/48"]}]';
    const spelled = plain.replace('"ips"', '"\\u0069ps"').replace('"tcpPorts"', '"tcp\\u0050orts"');
    const nft = (text: string) => {
      JSON.parse('{"\\u0041":1,"\\"":2,"\\/":3}'); // the engine has seen escaped keys before
      const run = render(
        compile(readFeed(text, { name: 'f.json' }), { allowImplausible: ['documentation'] }),
        { targets: ['nftables'] },
      );
      return run.artifacts[0].content.replace(/^#.*\n/gm, '');
    };
    const want = nft(plain);
    expect(want).toContain('192.0.2.0/24');
    for (let round = 0; round < 5; round++) expect(nft(spelled)).toBe(want);
  });
});
