// A plugin target for m365fw: OpenBSD/FreeBSD pf. One table file per rule (one prefix per line,
// what `pfctl -t NAME -T replace -f FILE` and `table <NAME> persist file "FILE"` read) and an
// anchor with the pass rules that use them.
//
//   m365fw compile --input feed.json --target-module examples/plugin-target/pf-table.mjs \
//     --target pf --pf-dir /etc/pf.m365 --out out/
//   pfctl -a m365fw -f out/m365fw-pf.conf      (with `anchor "m365fw"` in pf.conf)
//
// It is written against the public API only (import from "m365fw"), and gets what every target
// gets: typed options, the provenance header, content hashes, the guards, URL entries reported
// as not enforced (its capabilities say IP only), atomic writes.
import { defineTarget, option } from 'm365fw';

const PF_LIMITS = { tableNameLength: 31 };

/** pf's table name for a rule: "m365_v4_tcp_80_443" (the model key is at most 22 characters). */
const tableName = (rule) => `m365_${rule.key}`;

/** pf port syntax: "port { 80 443 }", a range as "3478:3481". */
function portMatch(bucket) {
  if (bucket.protocol === 'any') return '';
  const ports = bucket.ports.map((p) => (p.from === p.to ? `${p.from}` : `${p.from}:${p.to}`));
  return ` port ${ports.length === 1 ? ports[0] : `{ ${ports.join(' ')} }`}`;
}

export default defineTarget({
  name: 'pf',
  summary: 'pf table files (one per rule) and an anchor of pass rules using them',
  capabilities: { fqdn: false, wildcard: false, mixedFamilies: false, portRanges: true },
  limits: PF_LIMITS,
  options: {
    dir: option.text(
      '--pf-dir <path>',
      'where the table files will live on the firewall (the anchor names them)',
      '/etc/pf.m365',
      (d) => (/^\/[A-Za-z0-9._/-]*$/.test(d) ? undefined : 'an absolute path of letters, digits, ".", "_", "-" and "/"'),
    ),
    quick: option.flag('--pf-quick', 'pass quick: the first matching rule wins'),
  },
  render(model, o) {
    const files = [];
    const pass = [];
    for (const rule of model.rules) {
      const table = tableName(rule);
      if (table.length > PF_LIMITS.tableNameLength)
        throw new Error(`table name ${table} is longer than ${PF_LIMITS.tableNameLength}`);
      const file = `pf-${table}.txt`;
      files.push({ path: file, body: `${[...rule.prefixes].join('\n')}\n`, comment: { line: '#' } });
      const af = rule.family === 4 ? 'inet' : 'inet6';
      const proto = rule.bucket.protocol === 'any' ? '' : ` proto ${rule.bucket.protocol}`;
      pass.push(
        `table <${table}> persist file "${o.dir}/${file}"`,
        `pass out${o.quick ? ' quick' : ''} ${af}${proto} to <${table}>${portMatch(rule.bucket)} keep state`,
      );
    }
    files.push({ path: 'm365fw-pf.conf', body: `${pass.join('\n')}\n`, comment: { line: '#' } });
    return { files };
  },
});
