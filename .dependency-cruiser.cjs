/** The layers of ../shared/design.md, checked: each rule names an arrow the architecture forbids. */
module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', from: {}, to: { circular: true } },
    { name: 'targets-not-to-sources-cli-compile', severity: 'error', from: { path: '^targets/' }, to: { path: '^src/(sources|commands|cli|compile)/' } },
    { name: 'compile-not-to-targets', severity: 'error', from: { path: '^src/compile/' }, to: { path: '^targets/' } },
    { name: 'net-knows-nothing-above', severity: 'error', from: { path: '^src/net/' }, to: { path: '^(src/(?!net/)|targets/)' } },
    { name: 'model-only-net', severity: 'error', from: { path: '^src/model\\.ts$' }, to: { path: '^(src/(?!net/)|targets/)' } },
    { name: 'cli-only-through-the-api', severity: 'error', from: { path: '^src/cli/' }, to: { path: '^(src/(?!cli/|index\\.ts$)|targets/)' } },
    { name: 'dns-not-to-targets', severity: 'error', from: { path: '^src/dns/' }, to: { path: '^targets/' } },
    // the run stage (src/run/) is the only layer that reads, transforms, renders and writes in one
    { name: 'compile-not-to-sources', severity: 'error', from: { path: '^src/compile/' }, to: { path: '^src/(sources|run|io|report)/' } },
    { name: 'sources-only-read', severity: 'error', from: { path: '^src/sources/' }, to: { path: '^(src/(compile|run|io|report)/|targets/)' } },
    { name: 'report-knows-no-run', severity: 'error', from: { path: '^src/report/' }, to: { path: '^src/(sources|run|compile)/' } },
    { name: 'nothing-loose-in-src', severity: 'error', from: { path: '^src/[^/]+\\.ts$', pathNot: '^src/(index|model|errors|escape|values|version)\\.ts$' }, to: {} },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
