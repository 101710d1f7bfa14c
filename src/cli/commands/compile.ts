import {
  compileAndRender,
  editedArtifacts,
  guardFirstRun,
  ownedOutputName,
  readPreviousReport,
} from '../../index.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openOutputDir, removeIfEmpty, writeArtifactsAtomically } from '../../index.js';
import { formatSummary } from '../../index.js';
import { REPORT_FILE, terminalText } from '../../index.js';
import { compileRequestFrom, runOptionsFrom } from './common.js';

/** m365fw compile: write the targets' files and report.json, or nothing (exit 1). */
export function compileCommand(o: Record<string, unknown>): void {
  const t0 = process.hrtime.bigint();
  const runOptions = runOptionsFrom(o);
  const req = compileRequestFrom(o, o.progress !== false);
  const out = String(o.out);
  // a directory this run creates is removed again if the run writes nothing into it
  const created = !existsSync(out);
  // the lock spans reading the previous run's report and replacing its files
  const lock = openOutputDir(out, 'output directory', { owns: ownedOutputName });
  let ok = false;
  try {
    const previousReport = readPreviousReport(out);
    guardFirstRun(out, previousReport, runOptions);
    const run = compileAndRender(req, {
      ...runOptions,
      previousReport,
      previousReportFile: join(out, REPORT_FILE),
      timestamp: o.timestamp ? new Date().toISOString() : undefined,
    });
    if (run.refusal) throw run.refusal;
    // a file of the previous run whose bytes report.json does not record was edited by hand
    const writes = new Set(run.artifacts.map((a) => a.path));
    if (previousReport)
      for (const f of editedArtifacts(out, previousReport).filter((p) => writes.has(p)))
        process.stderr.write(
          `m365fw: ${terminalText(join(out, f))} differs from the sha256 report.json records (edited or removed by hand); rewriting it\n`,
        );
    req.onProgress?.('done');
    const written = writeArtifactsAtomically(out, run.artifacts, {
      remove: run.stale,
      locked: true,
      marker: REPORT_FILE,
      owns: ownedOutputName,
    });
    process.stdout.write(formatSummary(run, written, Number(process.hrtime.bigint() - t0) / 1e6));
    ok = true;
  } finally {
    lock.release();
    if (!ok && created) removeIfEmpty(out);
  }
}
