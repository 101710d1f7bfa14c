/** src/run/inputs.ts in-process: the read step (feed, prefix list, policy, fetch metadata). */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileModel, readSources } from '../src/run/inputs.js';
import { FIXTURES } from './helpers/env.js';
import { tmpDir } from './helpers/tmp.js';

const SAMPLE = join(FIXTURES, 'sample-feed.json');

describe('readSources and compileModel', () => {
  it('a feed: name, hash, format; instance and version unknown unless given', () => {
    const s = readSources({ input: SAMPLE, options: {} });
    const sha = createHash('sha256').update(readFileSync(SAMPLE)).digest('hex');
    expect(s.name).toBe('sample-feed.json');
    expect(s.input).toEqual({ file: 'sample-feed.json', sha256: sha, format: 'o365-json' });
    expect(s.policy).toBeUndefined();
    expect(readSources({ input: SAMPLE, options: {}, instance: 'China' }).input.instance).toBe(
      'China',
    );
  });

  it('a feed saved by fetch: instance and version from the state file beside it, when the hash matches', () => {
    const dir = tmpDir('read-state');
    const feed = join(dir, 'endpoints-Worldwide.json');
    copyFileSync(SAMPLE, feed);
    const sha = createHash('sha256').update(readFileSync(SAMPLE)).digest('hex');
    const state = (h: string) =>
      writeFileSync(
        join(dir, 'state.json'),
        JSON.stringify({
          clientRequestId: '12345678-1234-4234-8234-123456789abc',
          instances: { Worldwide: { version: '2026120100', sha256: h, query: '' } },
        }),
      );
    state(sha);
    expect(readSources({ input: feed, options: {} }).input).toMatchObject({
      instance: 'Worldwide',
      version: '2026120100',
    });
    // --instance wins over the state
    expect(readSources({ input: feed, options: {}, instance: 'China' }).input.instance).toBe(
      'China',
    );
    state('0'.repeat(64));
    const other = readSources({ input: feed, options: {} }).input;
    expect(other.instance).toBeUndefined();
    expect(other.version).toBeUndefined();
    writeFileSync(join(dir, 'state.json'), '{"clientRequestId": 1}');
    expect(() => readSources({ input: feed, options: {} })).toThrow(/not an m365fw state file/);
  });

  it('a prefix list: its ports, one set, the format; a policy is read with it', () => {
    const s = readSources({
      input: join(FIXTURES, 'prefix-list.txt'),
      format: 'prefixes',
      options: {},
      tcpPorts: [{ from: 443, to: 443 }],
      policy: join(FIXTURES, 'corp-policy.yaml'),
    });
    expect(s.input.format).toBe('prefixes');
    expect(s.sets).toHaveLength(1);
    expect(s.sets[0].tcpPorts).toEqual([{ from: 443, to: 443 }]);
    expect(s.sets[0].udpPorts).toEqual([]);
    expect(s.policy?.file).toBe('corp-policy.yaml');
    const m = compileModel({
      input: join(FIXTURES, 'prefix-list.txt'),
      format: 'prefixes',
      options: {},
      udpPorts: [{ from: 3478, to: 3478 }],
    });
    expect(m.rules.every((r) => r.bucket.protocol === 'udp')).toBe(true);
    expect(m.input.format).toBe('prefixes');
  });

  it('compileModel: the policy recorded in the input, progress reported', () => {
    const phases: string[] = [];
    const m = compileModel({
      input: SAMPLE,
      options: {},
      policy: join(FIXTURES, 'corp-policy.yaml'),
      onProgress: (phase) => phases.push(phase),
    });
    expect(m.input.policy?.file).toBe('corp-policy.yaml');
    expect(m.input.policy?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(m.sets.some((s) => s.id === 'corp-proxy')).toBe(true);
    expect(phases).toContain('merge');
  });
});
