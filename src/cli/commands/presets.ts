import { portsText, presets } from '../../index.js';

/** `m365fw presets`: each preset's sets per instance, its ports and its documentation. */
export function presetsCommand(o: { json?: boolean }): void {
  if (o.json) {
    const out = presets().map((p) => ({
      name: p.name,
      summary: p.summary,
      serviceArea: p.serviceArea,
      tcpPorts: portsText(p.tcpPorts),
      sets: p.sets,
      docs: p.docs,
    }));
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    return;
  }
  const lines: string[] = [];
  for (const p of presets()) {
    lines.push(`${p.name}`, `  ${p.summary}`);
    lines.push(
      `  ingress: TCP ${portsText(p.tcpPorts)} from the prefixes of ${p.serviceArea} endpoint sets`,
    );
    for (const [instance, ids] of Object.entries(p.sets))
      lines.push(`    ${instance.padEnd(13)} set ${ids.join(', ')}`);
    lines.push('  documented at:', ...p.docs.map((d) => `    ${d}`), '');
  }
  lines.push(
    'use: m365fw compile --input FEED --preset NAME --local YOUR-HOST/32 [--direction both]',
    '',
  );
  process.stdout.write(lines.join('\n'));
}
