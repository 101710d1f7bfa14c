/**
 * m365fw apply in a network namespace of its own (root): an output that passes its health check
 * stays; one whose check fails, or that nobody confirms in time, is rolled back to a ruleset
 * byte-identical to the one before (`nft list ruleset`; `iptables-save` without its comment lines,
 * and `ipset save`); the user's own rules and sets are there before and after.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, FIXTURES, isRoot, missing, ROOT, skipNote } from './helpers/env.js';
import { compileHere } from './helpers/here.js';
import { tmpDir } from './helpers/tmp.js';

const why = !isRoot
  ? 'needs root (network namespaces)'
  : missing('unshare', 'nft', 'iptables-save', 'ip6tables-save', 'ipset', 'sha256sum');
skipNote('m365fw apply', why);
const FEED = join(FIXTURES, 'doc-ranges-feed.json');

function output(extra: string[] = []): string {
  const out = tmpDir('apply-out');
  const r = compileHere([
    '--input',
    FEED,
    '--allow-implausible',
    'documentation',
    '--target',
    'nftables,iptables',
    '--nft-hook',
    'output',
    '--nft-policy',
    'drop',
    '--ipt-final',
    'drop',
    '--out',
    out,
    ...extra,
  ]);
  expect(r.code, r.stderr).toBe(0);
  return out;
}

/** Run a shell script in a fresh network namespace; `apply ARGS` runs the CLI there. */
function inNs(script: string): string {
  const dir = tmpDir('apply-ns');
  const file = join(dir, 'run.sh');
  writeFileSync(
    file,
    `set -u
apply() { "${process.execPath}" "${CLI}" apply --confirm-dir "${dir}/confirm" "$@"; }
ip link set lo up
${script}
`,
  );
  return execFileSync('unshare', ['-n', 'sh', file], { encoding: 'utf8', timeout: 60000 });
}

/** The user's own ruleset and sets before m365fw loads anything. */
const USER = `cat > /tmp/m365fw-apply-user.nft <<'E'
table inet user {
  chain c {
    type filter hook input priority 0; policy accept;
    tcp dport 22 accept
  }
}
E
nft -f /tmp/m365fw-apply-user.nft
ipset create user_admins hash:net
ipset add user_admins 192.0.2.7
iptables -A INPUT -p tcp --dport 22 -m set --match-set user_admins src -j ACCEPT
ip6tables -A INPUT -p tcp --dport 22 -j ACCEPT`;
/** What each backend's own tools say the ruleset is (iptables-save's comment lines hold a date). */
const NFT_STATE = 'nft list ruleset';
const IPT_STATE = `{ iptables-save | grep -v '^#'; echo '### v6'; ip6tables-save | grep -v '^#'; echo '### sets'; ipset save; }`;

describe.skipIf(!!why)('m365fw apply: one checked, reversible step', () => {
  it('nftables: a failing check rolls back to the identical ruleset; a passing one stays', () => {
    const out = output();
    const r = inNs(`${USER}
${NFT_STATE} > before.txt
apply --target nftables --out ${out} --check-cmd false; echo "rc=$?"
${NFT_STATE} > after.txt
cmp -s before.txt after.txt && echo identical
apply --target nftables --out ${out} --check-cmd 'nft list table inet m365fw >/dev/null'; echo "rc=$?"
nft list tables`);
    expect(r).toMatch(
      /rolled back to the ruleset before: the health check failed: --check-cmd "false" exited 1\nrc=1\nidentical\n/,
    );
    expect(r).toMatch(/health check passed\nrc=0\n/);
    expect(r).toMatch(/^table inet user$/m);
    expect(r).toMatch(/^table inet m365fw$/m);
  });

  it('nftables: no confirmation in time rolls back; one in time keeps the output', () => {
    const out = output();
    const r = inNs(`${USER}
nft list ruleset > before.txt
apply --target nftables --out ${out} --check-cmd true --confirm 1; echo "rc=$?"
nft list ruleset > after.txt
cmp -s before.txt after.txt && echo identical
apply --target nftables --out ${out} --check-cmd true --confirm 20 & pid=$!
sleep 1.5
apply --confirm-now --out ${out}
wait $pid; echo "rc=$?"
nft list tables`);
    expect(r).toMatch(/no confirmation within 1 s\nrc=1\nidentical\n/);
    expect(r).toMatch(/confirmed the apply waiting on .*\n.*confirmed\nrc=0\n/);
    expect(r).toMatch(/table inet m365fw/);
  });

  it('iptables: a failing --check-connect restores iptables-save and ipset save exactly; a passing one stays', () => {
    const out = output();
    const r = inNs(`${USER}
${IPT_STATE} > before.txt
apply --target iptables --out ${out} --check-connect 127.0.0.1:9 --check-timeout 1; echo "rc=$?"
${IPT_STATE} > after.txt
cmp -s before.txt after.txt && echo identical
nc_pid=""
"${process.execPath}" -e "require('net').createServer().listen(8022, '127.0.0.1')" & nc_pid=$!
sleep 0.5
apply --target iptables --out ${out} --check-connect 127.0.0.1:8022; echo "rc=$?"
kill $nc_pid
iptables -S OUTPUT; ipset list -n | sort`);
    expect(r).toMatch(/got no connection in 1000 ms\nrc=1\nidentical\n/);
    expect(r).toMatch(/health check passed\nrc=0\n/);
    expect(r).toContain('-A OUTPUT -j M365FW');
    // the user's set is there before, after the rollback and after the apply
    expect(r).toContain('user_admins');
  });

  it('nothing to apply is exit 2; an edited file is refused before anything is loaded', () => {
    const out = output();
    const nftOnly = tmpDir('apply-out');
    expect(
      compileHere(['--input', FEED, '--allow-implausible', 'documentation', '--out', nftOnly]).code,
    ).toBe(0);
    writeFileSync(
      join(out, 'm365fw.nft'),
      readFileSync(join(out, 'm365fw.nft'), 'utf8').replace('policy drop', 'policy accept'),
    );
    const r = inNs(`nft list ruleset > before.txt
apply --target iptables --out ${nftOnly} --check-cmd true; echo "rc=$?"
apply --target nftables --out ${out} --check-cmd true; echo "rc=$?"
nft list ruleset > after.txt; cmp -s before.txt after.txt && echo untouched
apply --target nftables --out ${nftOnly}; echo "rc=$?"`);
    expect(r).toMatch(/has no iptables output: nothing to apply\nrc=2\n/);
    expect(r).toMatch(/rc=1\nuntouched\n/);
    expect(r).toMatch(/rc=1\n$/);
  });
});

describe.skipIf(!!why)('docs/deploying.md: the rollback commands, run verbatim', () => {
  const doc = readFileSync(join(ROOT, 'docs/deploying.md'), 'utf8');
  /** The sh block right after the paragraph that starts with `lead`. */
  const blockAfter = (lead: string) => {
    const at = doc.indexOf(lead);
    expect(at, lead).toBeGreaterThan(-1);
    const m = /```sh\n([\s\S]*?)```/.exec(doc.slice(at));
    return m![1];
  };

  it('iptables: both chains, both families, every hook and the sets go; a set of the user stays', () => {
    const out = tmpDir('apply-out');
    const r = compileHere([
      '--input',
      join(FIXTURES, 'ingress-feed.json'),
      '--instance',
      'Worldwide',
      '--preset',
      'eop-inbound-smtp',
      '--direction',
      'both',
      '--local',
      '192.0.2.25,2001:db8::25',
      '--allow-implausible',
      'documentation',
      '--target',
      'iptables',
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const state = `{ iptables-save | grep -v '^#'; ip6tables-save | grep -v '^#'; ipset list -n | sort; }`;
    // a host with rules of its own in both families (an empty table iptables-nft creates on the
    // way stays as an empty table: the same rules, not the same listing)
    const text = inNs(`ipset create m365_custom hash:net
iptables -A INPUT -p tcp --dport 22 -j ACCEPT
ip6tables -A INPUT -p tcp --dport 22 -j ACCEPT
${state} > before.txt
sh ${out}/m365fw-iptables-apply.sh >/dev/null
iptables -A FORWARD -j M365FW
iptables-save | grep -c M365FW_IN
${blockAfter('Roll back completely (both chains')}
${state} > after.txt
diff before.txt after.txt && echo identical`);
    expect(text).toMatch(/identical\n$/);
  });

  it('nftables: the table goes, nothing else', () => {
    const out = output();
    const block = doc.slice(doc.indexOf('## nftables'));
    const rollback = /# roll back completely\n(.*)\n/.exec(block)![1];
    expect(rollback).toBe('nft delete table inet m365fw');
    const text = inNs(`${USER}
nft list ruleset > before.txt
nft -f ${out}/m365fw.nft
${rollback}
nft list ruleset > after.txt
cmp -s before.txt after.txt && echo identical`);
    expect(text).toMatch(/identical\n$/);
  });
});
