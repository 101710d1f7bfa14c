#!/usr/bin/env node
// Bootstrap: cache compiled code between runs (Node >= 22.1), then load the CLI. The CLI is the
// bundle the build makes (dist/lib/cli/program.js, sharing its chunks with the library's dist/lib/index.js): one module to load instead of ~45, which
// saves a quarter of a small run's time; dist/src/main.js is the same code, unbundled.
import module from 'node:module';

// node:fs through require(): an ES import of it makes Node load fs/promises, the streams and
// readline for its module facade, on every run
const { existsSync } = module.createRequire(import.meta.url)('node:fs') as typeof import('node:fs');

// Node >= 22 (npm scripts run the pinned runtime, the node devDependency; package.json has no
// engines field, so an install on Node 20 prints no warnings): an older Node started by hand is
// one line, not a stack trace later on
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  process.stderr.write(
    `m365fw: needs Node.js 22 or newer; this is ${process.version} (${process.execPath})\n`,
  );
  process.exit(1);
}

try {
  module.enableCompileCache?.();
} catch {
  /* a read-only cache dir only costs speed */
}
const bundle = new URL('../../lib/cli/program.js', import.meta.url);
if (!existsSync(bundle)) {
  process.stderr.write(`m365fw: ${bundle.pathname} is missing; run "npm run build"\n`);
  process.exit(1);
}
await import(bundle.href);
