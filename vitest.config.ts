import { defineConfig } from 'vitest/config';

/**
 * Two lanes. `system`: the tests that spawn the built CLI or read dist/, drive real tools (nft,
 * iptables, ipset, namespaces, strace, dnsmasq, ansible, chromium, npm) or reach a loopback
 * service; they need `npm run build` first and root for some. `unit`: everything else, in-process
 * on the sources, no build and no root. `npm test` builds and runs both; a bare `npx vitest`
 * runs the unit lane alone (name one with --project to choose).
 */
const SYSTEM = [
  'test/ansible.test.ts',
  'test/apply.test.ts',
  'test/changes.test.ts',
  'test/cli.test.ts',
  'test/determinism.test.ts',
  'test/dns-instances.test.ts',
  'test/dns.test.ts',
  'test/docs.test.ts',
  'test/failclosed.test.ts',
  'test/fetch.test.ts',
  'test/here.test.ts',
  'test/ingress-packet.test.ts',
  'test/ingress.test.ts',
  'test/install.test.ts',
  'test/iptables.test.ts',
  'test/library.test.ts',
  'test/nftables.test.ts',
  'test/options-coverage.test.ts',
  'test/pac-chromium.test.ts',
  'test/packet.test.ts',
  'test/plugin.test.ts',
  'test/removal.test.ts',
  'test/scale.test.ts',
  'test/tester-doc.test.ts',
  'test/txn.test.ts',
  'test/update-trust.test.ts',
  'test/update.test.ts',
  'test/workflow.test.ts',
];

// .ci/run asks for a JSON record of the results beside the usual output (its closing line)
const results = process.env.M365FW_TEST_RESULTS;
// the system lane is there when asked for: by --project, or by naming one of its files
const chosen = process.argv
  .slice(2)
  .some(
    (a) =>
      a.startsWith('--project') ||
      (!a.startsWith('-') && SYSTEM.some((f) => f.includes(a.replace(/^\.\//, '')))),
  );

export const SHARED_TEST_OPTIONS = {
  globalSetup: ['test/setup/global.ts'],
  setupFiles: ['test/setup/cleanup.ts'],
  testTimeout: 60_000,
  hookTimeout: 60_000,
};

export default defineConfig({
  test: {
    ...(results ? { reporters: ['default', 'json'], outputFile: { json: results } } : {}),
    projects: [
      {
        test: {
          ...SHARED_TEST_OPTIONS,
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: SYSTEM,
        },
      },
      ...(chosen ? [{ test: { ...SHARED_TEST_OPTIONS, name: 'system', include: SYSTEM } }] : []),
    ],
  },
});
