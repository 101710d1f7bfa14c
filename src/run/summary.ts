import { terminalText } from '../escape.js';
import type { CompiledRun } from './run.js';

/** The short human summary compile prints (timings live here, never in artifacts). */
export function formatSummary(run: CompiledRun, written: string[], ms: number): string {
  const { report: r } = run;
  const s = r.summary;
  const lines = [
    `m365fw: ${r.input.file} (sha256 ${r.input.sha256.slice(0, 12)}, instance ${r.input.instance ?? 'unknown'}${r.input.version ? `, version ${r.input.version}` : ''})`,
    `  endpoint sets: ${s.setsIn} in, ${s.setsKept} kept`,
    `  IPv4 prefixes: ${s.prefixesIn.v4} in the kept sets, ${s.prefixesMerged.v4} in the rules after merging per rule`,
    `  IPv6 prefixes: ${s.prefixesIn.v6} in the kept sets, ${s.prefixesMerged.v6} in the rules after merging per rule`,
    `  rules: ${s.rules} (${run.runs.map((t) => t.name).join(', ')}); URL entries: ${s.urlEntries}`,
  ];
  // what each output enforces once loaded: the line a reader must not miss
  for (const t of run.runs)
    lines.push(
      `  ${t.name} enforces: ${terminalText(t.enforcement.text)}${t.enforcement.inert ? ' (inert)' : ''}`,
    );
  for (const f of r.findings)
    if (f.kind === 'dropped' && f.target && f.detail.startsWith('not generated'))
      lines.push(`  target ${f.target} skipped: ${f.detail}`);
  const byTargetKind = new Map<string, number>();
  for (const f of r.findings) {
    const k = `${f.target ?? 'model'} ${f.kind}`;
    byTargetKind.set(k, (byTargetKind.get(k) ?? 0) + 1);
  }
  if (byTargetKind.size) {
    lines.push('  findings (see report.json):');
    for (const [k, n] of [...byTargetKind.entries()].sort()) lines.push(`    ${k}: ${n}`);
  }
  lines.push(
    `  wrote ${written.length} files in ${Math.round(ms)} ms: ${written.map((w) => w.split('/').pop()).join(', ')}`,
  );
  return lines.join('\n') + '\n';
}
