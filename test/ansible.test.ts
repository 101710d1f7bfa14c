/**
 * examples/ansible/m365fw-push.yml run by the real ansible-playbook (Debian's ansible-core), with a
 * local connection inside a network namespace: the loaded ruleset equals the model (read back from
 * nft and ipset, compared with the raw feed), a second run changes nothing, and a new compile's
 * removals reach the host.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  FIXTURES,
  missing,
  O365_DATA,
  ROOT,
  runCli,
  sharedFeeds,
  skipNote,
} from './helpers/env.js';
import { bucketKey, expectedFromFeed } from './helpers/oracle.js';
import { parseNftJson, sameIntervals } from './helpers/nft.js';
import { intervalsOfCidrs, parseIpsetList } from './helpers/ipt.js';
import { tmpDir } from './helpers/tmp.js';

const PLAYBOOK = join(ROOT, 'examples/ansible/m365fw-push.yml');
const why = missing('ansible-playbook', 'nft', 'ipset', 'iptables-restore', 'ip6tables-restore');
skipNote('Ansible playbook', why);
const haveShared = sharedFeeds().length > 0;
const A = haveShared
  ? join(O365_DATA, 'china-endpoints-2025-11-14.json')
  : join(FIXTURES, 'sample-feed.json');
const B = haveShared
  ? join(O365_DATA, 'china-endpoints-2025-12-01.json')
  : join(FIXTURES, 'sample-feed.json');

function compileInto(out: string, feed: string) {
  const r = runCli(['compile', '--input', feed, '--target', 'nftables,iptables', '--out', out]);
  expect(r.code, r.stderr).toBe(0);
}

/** One namespace, several steps: each step's stdout comes back, split at the markers. */
function session(work: string, steps: string[]): string[] {
  const env = {
    ...process.env,
    HOME: work,
    ANSIBLE_LOCAL_TEMP: join(work, 'ansible-local'),
    ANSIBLE_REMOTE_TEMP: join(work, 'ansible-remote'),
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_FORCE_COLOR: '0',
    ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3',
    ANSIBLE_RETRY_FILES_ENABLED: '0',
  };
  const script = steps.map((s) => `${s}\necho '##### step'`).join('\n');
  const out = execFileSync('unshare', ['-n', 'sh', '-ec', script], {
    env,
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return out.split('##### step\n').slice(0, steps.length);
}

/** "changed=N" of the play recap for localhost. */
const changed = (log: string) => {
  const m = /^localhost\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=0\s+failed=0/m.exec(log);
  expect(m, log).not.toBeNull();
  return Number(m![2]);
};

describe.skipIf(!!why)('Ansible: examples/ansible/m365fw-push.yml', () => {
  it.each(['nftables', 'iptables'])(
    '%s: loads the model, a second run changes nothing, a new compile removes what it dropped',
    (backend) => {
      const work = tmpDir('ansible');
      const out = join(work, 'out');
      const dest = join(work, 'host-etc-m365fw');
      mkdirSync(out);
      writeFileSync(
        join(work, 'inventory.ini'),
        '[m365fw_linux]\nlocalhost ansible_connection=local\n',
      );
      const play = `ansible-playbook -i ${work}/inventory.ini ${PLAYBOOK} -e m365fw_out=${out} -e m365fw_dest=${dest} -e m365fw_backend=${backend}`;
      const read = backend === 'nftables' ? 'nft -j list table inet m365fw' : 'ipset list';
      compileInto(out, A);
      const [first, second, loadedA] = session(work, [play, play, read]);
      expect(changed(first)).toBeGreaterThanOrEqual(2);
      expect(changed(second), second).toBe(0);
      expectLoaded(backend, loadedA, A);
      // the next compile into the same out/: the host ends at B alone
      compileInto(out, B);
      const [third, fourth, loadedB] = session(work, [play, play, read]);
      expect(changed(third)).toBeGreaterThanOrEqual(1);
      expect(changed(fourth), fourth).toBe(0);
      expectLoaded(backend, loadedB, B);
    },
    180000,
  );
});

describe.skipIf(!!why)('Ansible: the inventory decides, per host', () => {
  it('two hosts of one inventory (one network namespace each): edge-01 gets nftables, edge-02 iptables, each exactly its feed', () => {
    const work = tmpDir('ansible-fleet');
    const out = join(work, 'out');
    mkdirSync(out);
    compileInto(out, A);
    const id = `${process.pid % 10000}${Math.floor(Math.random() * 1000)}`;
    const ns = [`m365a${id}`, `m365b${id}`];
    // a local connection whose Python runs inside the host's own namespace: every module and
    // command of that host (nft, iptables, ipset) acts there
    const host = (name: string, n: string, backend: string) =>
      `${name} ansible_connection=local ansible_python_interpreter="ip netns exec ${n} /usr/bin/python3" m365fw_backend=${backend} m365fw_dest=${work}/${name} m365fw_become=false`;
    writeFileSync(
      join(work, 'inventory.ini'),
      `[m365fw_linux]\n${host('edge-01', ns[0], 'nftables')}\n${host('edge-02', ns[1], 'iptables')}\n`,
    );
    try {
      execFileSync('sh', ['-ec', ns.map((n) => `ip netns add ${n}`).join('\n')]);
      const [log] = session(work, [
        `ansible-playbook -i ${work}/inventory.ini ${PLAYBOOK} -e m365fw_out=${out}`,
      ]);
      expect(log).toMatch(/^edge-01\s+: ok=\d+\s+changed=\d+\s+unreachable=0\s+failed=0/m);
      expect(log).toMatch(/^edge-02\s+: ok=\d+\s+changed=\d+\s+unreachable=0\s+failed=0/m);
      const inNs = (n: string, cmd: string) =>
        execFileSync('ip', ['netns', 'exec', n, 'sh', '-c', cmd], { encoding: 'utf8' });
      // edge-01: the nftables table, and no set of the iptables output
      expectLoaded('nftables', inNs(ns[0], 'nft -j list table inet m365fw'), A);
      expect(inNs(ns[0], 'ipset list -n').trim()).toBe('');
      // edge-02: the ipset sets and the chain, and no nftables table of m365fw
      expectLoaded('iptables', inNs(ns[1], 'ipset list'), A);
      expect(inNs(ns[1], 'iptables -S OUTPUT')).toContain('-A OUTPUT -j M365FW');
      expect(inNs(ns[1], 'nft list tables')).not.toContain('inet m365fw');
    } finally {
      for (const n of ns) spawnSync('ip', ['netns', 'del', n]);
    }
  }, 180000);

  it('a report.json naming a path outside m365fw_dest stops the play before anything is copied', () => {
    const work = tmpDir('ansible-path');
    const out = join(work, 'out');
    mkdirSync(out);
    compileInto(out, A);
    const rep = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    rep.targets.iptables.artifacts.push({
      ...rep.targets.iptables.artifacts[0],
      path: '../../etc/cron.d/x',
    });
    writeFileSync(join(out, 'report.json'), JSON.stringify(rep));
    writeFileSync(
      join(work, 'inventory.ini'),
      `[m365fw_linux]\nlocalhost ansible_connection=local m365fw_backend=iptables m365fw_dest=${work}/dest m365fw_become=false\n`,
    );
    const [log] = session(work, [
      `ansible-playbook -i ${work}/inventory.ini ${PLAYBOOK} -e m365fw_out=${out} || true`,
    ]);
    expect(log).toMatch(
      /report\.json names \\?"\.\.\/\.\.\/etc\/cron\.d\/x\\?": not a plain file name; refusing/,
    );
    expect(log).toMatch(/^localhost\s+: .*failed=1/m);
    expect(existsSync(join(work, 'dest'))).toBe(false);
  }, 120000);
});

/** Every bucket of the raw feed is loaded exactly, and nothing else is. */
function expectLoaded(backend: string, text: string, feed: string) {
  const expected = expectedFromFeed(feed);
  if (backend === 'nftables') {
    const { sets, rules } = parseNftJson(text);
    const allow = rules.filter((r) => r.chain === 'm365_allow');
    expect(allow.length).toBe(expected.size);
    for (const r of allow) {
      const e = expected.get(bucketKey(r.family, r.protocol, r.ports));
      expect(e, `${r.set}`).toBeDefined();
      expect(sameIntervals(sets.get(r.set)!.intervals, e!.intervals), r.set).toBe(true);
    }
    return;
  }
  const sets = parseIpsetList(text);
  const ours = [...sets.keys()].filter((s) => s.startsWith('m365_'));
  expect(ours.length).toBe(expected.size);
  for (const e of expected.values()) {
    const name = `m365_v${e.family}_${e.protocol}_${e.ports.map(([a, b]) => (a === b ? `${a}` : `${a}to${b}`)).join('_')}`;
    const s = sets.get(name);
    expect(s, `${name} in ${ours.join(' ')}`).toBeDefined();
    expect(sameIntervals(intervalsOfCidrs(s!.members), e.intervals), name).toBe(true);
  }
}
