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
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
