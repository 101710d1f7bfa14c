/**
 * The example GitHub Actions workflow, run as GitHub would run its shell steps: each `run:` block
 * verbatim under `bash -euo pipefail` (GitHub's `bash -e {0}` plus pipefail), one job after another
 * in one checkout, against a loopback stand-in of the web service. `uses:` steps are GitHub's own;
 * the pull-request step is judged by its condition and the plan file its body points at.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, ROOT } from './helpers/env.js';
import { packCheckout } from './helpers/install.js';
import { json, startService, type StandIn } from './helpers/service.js';
import { tmpDir } from './helpers/tmp.js';

const WORKFLOW = join(ROOT, 'examples/github-actions/m365fw-update.yml');
interface Step {
  name?: string;
  id?: string;
  run?: string;
  uses?: string;
  if?: string;
  with?: Record<string, string>;
}
const wf = YAML.parse(readFileSync(WORKFLOW, 'utf8')) as {
  env: Record<string, string>;
  jobs: { update: { steps: Step[] } };
};
const steps = wf.jobs.update.steps;
const FEED = JSON.parse(readFileSync(join(FIXTURES, 'sample-feed.json'), 'utf8')) as {
  id: number;
  ips?: string[];
}[];

let svc: StandIn;
let repo: string, prefix: string, tarball: string, tarballSha: string;
beforeAll(async () => {
  svc = await startService('2026120100', JSON.stringify(FEED));
  repo = tmpDir('wf-repo');
  // the install step for real: the tarball `npm pack` makes of this checkout, fetched by curl from a
  // file: URL, checked, installed by npm into a global prefix of the test's own (offline)
  ({ tarball, sha256: tarballSha } = packCheckout());
  prefix = tmpDir('wf-npm-prefix');
});
afterAll(() => svc.close());

interface JobResult {
  failed: boolean;
  rc?: string;
  prOpened: boolean;
  prBody?: string;
  log: string;
}

function runStep(script: string, env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const p = spawn('bash', ['-euo', 'pipefail', '-c', script], { cwd: repo, env });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
}

/** One scheduled run of the job: a fresh runner temp, the checkout and state dir kept. */
async function job(): Promise<JobResult> {
  const temp = tmpDir('wf-runner');
  const output = join(temp, 'github_output'),
    summary = join(temp, 'step_summary');
  writeFileSync(output, '');
  writeFileSync(summary, '');
  const env = {
    ...process.env,
    ...wf.env,
    M365FW_BASE_URL: svc.base,
    M365FW_TARBALL_URL: pathToFileURL(tarball).href,
    M365FW_TARBALL_SHA256: tarballSha,
    npm_config_prefix: prefix,
    RUNNER_TEMP: temp,
    GITHUB_OUTPUT: output,
    GITHUB_STEP_SUMMARY: summary,
    PATH: `${join(prefix, 'bin')}:${dirname(process.execPath)}:${process.env.PATH}`,
    M365FW_LOCK_WAIT_MS: '2000',
  };
  let log = '';
  const outputs: Record<string, string> = {};
  for (const s of steps) {
    if (s.run === undefined) continue;
    const r = await runStep(s.run, env);
    log += r.out;
    for (const line of readFileSync(output, 'utf8').split('\n')) {
      const m = /^([a-z]+)=(.*)$/.exec(line);
      if (m && s.id) outputs[`${s.id}.${m[1]}`] = m[2];
    }
    if (r.code !== 0) return { failed: true, rc: outputs['update.rc'], prOpened: false, log };
  }
  const pr = steps.find((s) => s.uses?.startsWith('peter-evans/create-pull-request'))!;
  const opened = pr.if === "steps.update.outputs.rc == '2'" && outputs['update.rc'] === '2';
  const bodyPath = pr.with!['body-path'].replace('${{ runner.temp }}', temp);
  return {
    failed: false,
    rc: outputs['update.rc'],
    prOpened: opened,
    prBody: opened ? readFileSync(bodyPath, 'utf8') : undefined,
    log,
  };
}

const snapshot = () =>
  Object.fromEntries(
    readdirSync(join(repo, 'out'))
      .sort()
      .map((f) => [f, readFileSync(join(repo, 'out', f))]),
  );
const withIps = (f: (s: { id: number; ips?: string[] }) => string[] | undefined) =>
  JSON.stringify(FEED.map((s) => ({ ...s, ips: f(s) ?? s.ips })));

describe('examples/github-actions/m365fw-update.yml, its shell steps run verbatim', () => {
  it('has a scheduled trigger, an update step and a pull request on exit 2 with plan.md as its body', () => {
    expect(
      (YAML.parse(readFileSync(WORKFLOW, 'utf8')) as { on: { schedule: unknown[] } }).on.schedule
        .length,
    ).toBe(1);
    const update = steps.find((s) => s.id === 'update')!;
    expect(update.run).toContain('m365fw update');
    expect(update.run).toContain('--plan-out "$RUNNER_TEMP/m365fw-plan"');
    const pr = steps.find((s) => s.uses?.startsWith('peter-evans/create-pull-request'))!;
    expect(pr.with!['body-path']).toBe('${{ runner.temp }}/m365fw-plan/plan.md');
  });

  it('first run 2, again 0, same content 0, a refused removal 1 twice, a good version 2, a failing service 1', async () => {
    // 1. first run: out/ written, PR opened with the plan
    let r = await job();
    expect(r.rc, r.log).toBe('2');
    expect(r.failed).toBe(false);
    expect(r.prOpened).toBe(true);
    expect(r.prBody).toMatch(/^## m365fw plan: changes/);
    // the m365fw that ran is the one the install step put in the prefix, from the tarball
    expect(r.log).toContain('m365fw.tgz: OK');
    expect(realpathSync(join(prefix, 'bin', 'm365fw'))).toBe(
      join(prefix, 'lib/node_modules/m365fw/dist/src/cli/bin.js'),
    );
    const first = snapshot();
    expect(Object.keys(first)).toEqual([
      'azure-nsg.json',
      'm365fw-iptables-apply.sh',
      'm365fw.ipset',
      'm365fw.nft',
      'm365fw.v4',
      'm365fw.v6',
      'report.json',
    ]);
    // the NSG it deploys restricts: --nsg-deny internet closes the rule list, it is not inert
    const nsg = JSON.parse(first['report.json'].toString('utf8')).targets['azure-nsg'];
    expect(nsg.enforcement).toMatchObject({ mode: 'default-deny', inert: false });

    // 2. again, same version: nothing to do, one request
    svc.log.length = 0;
    r = await job();
    expect(r.rc, r.log).toBe('0');
    expect(r.prOpened).toBe(false);
    expect(svc.log).toEqual(['/version/Worldwide']);
    expect(snapshot()).toEqual(first);

    // 3. a new version with the same content: exit 0, out/ byte-identical; the next run is one request again
    svc.version = '2026120200';
    r = await job();
    expect(r.rc, r.log).toBe('0');
    expect(snapshot()).toEqual(first);
    svc.log.length = 0;
    expect((await job()).rc).toBe('0');
    expect(svc.log).toEqual(['/version/Worldwide']);

    // 4. a new version that removes set 1's prefixes (over 10%): refused, out/ untouched, plan with the verdict
    svc.version = '2026120300';
    svc.feed = withIps((s) => (s.id === 1 ? [] : undefined));
    r = await job();
    expect(r.failed).toBe(true);
    expect(r.rc).toBe('1');
    expect(r.log).toMatch(/refusing to write: .* would disappear, more than --max-removal 10%/);
    expect(r.log).toContain('::error::m365fw update failed or was refused (exit 1)');
    expect(snapshot()).toEqual(first);

    // 5. the same again: still refused (never "unchanged")
    r = await job();
    expect(r.rc).toBe('1');
    expect(snapshot()).toEqual(first);

    // 6. a good newer version (one prefix less): written, PR with the plan
    svc.version = '2026120400';
    svc.feed = withIps((s) => (s.id === 31 ? s.ips!.slice(1) : undefined));
    r = await job();
    expect(r.rc, r.log).toBe('2');
    expect(r.prOpened).toBe(true);
    expect(r.prBody).toContain(`removed prefixes |`);
    expect(r.prBody).toContain(`\`${FEED.find((s) => s.id === 31)!.ips![0]}\``);
    const second = snapshot();
    expect(second['report.json']).not.toEqual(first['report.json']);
    expect(JSON.parse(second['report.json'].toString()).input.version).toBe('2026120400');

    // 7. the service failing (500, then 429): exit 1, out/ untouched
    for (const status of [500, 429]) {
      svc.version = '2026120500';
      svc.override = (_req, res) => json(res, { error: 'busy' }, status);
      r = await job();
      expect(r.rc, r.log).toBe('1');
      expect(r.failed).toBe(true);
      expect(snapshot()).toEqual(second);
    }
    svc.override = undefined;
    expect(existsSync(join(repo, 'out', '.m365fw-commit'))).toBe(false);
  }, 120_000);
});
