import { InputError } from '../errors.js';
import type { EndpointSet } from '../model.js';
import { formatV6, parseIPv4Strict, parsePrefix, PrefixSyntaxError } from '../net/prefix.js';
import type { PortRange } from '../net/ports.js';
import type { InputFile } from './read.js';

export interface PrefixListOptions { tcpPorts: PortRange[]; udpPorts: PortRange[]; onProgress?: (done: number, total: number) => void }

/**
 * A plain prefix list: one IPv4/IPv6 prefix or address per line, "#" comments (also after an
 * entry), blank lines. Compiled as one endpoint set; without ports it matches addresses alone.
 */
export function parsePrefixList(file: InputFile, opts: PrefixListOptions): EndpointSet {
  const v4: string[] = [], v6: string[] = [];
  const text = file.text;
  const total = text.length;
  let lineNo = 0, pos = 0;
  while (pos < total) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = total;
    lineNo++;
    let line = text.slice(pos, nl);
    pos = nl + 1;
    const hash = line.indexOf('#');
    if (hash >= 0) line = line.slice(0, hash);
    line = line.trim();
    if (line === '') continue;
    // fast path: canonical IPv4 "a.b.c.d/len" is kept as written after a strict check
    const slash = line.indexOf('/');
    if (!line.includes(':')) {
      const addr = parseIPv4Strict(slash < 0 ? line : line.slice(0, slash));
      const lenText = slash < 0 ? '32' : line.slice(slash + 1);
      const len = /^(0|[1-9][0-9]?)$/.test(lenText) ? Number(lenText) : -1;
      if (addr >= 0 && len >= 0 && len <= 32 && addr % 2 ** (32 - len) === 0) {
        v4.push(slash < 0 ? `${line}/32` : line);
        if (opts.onProgress && (lineNo & 0xffff) === 0) opts.onProgress(pos, total);
        continue;
      }
    }
    try {
      const p = parsePrefix(line, true);
      if (p.family === 4) throw new PrefixSyntaxError('invalid IPv4 prefix');
      v6.push(`${formatV6(p.addr)}/${p.len}`);
    } catch (e) {
      if (e instanceof PrefixSyntaxError) throw new InputError(`${file.name}:${lineNo}`, e.message, undefined, undefined, line);
      throw e;
    }
  }
  opts.onProgress?.(total, total);
  const addressOnly = opts.tcpPorts.length === 0 && opts.udpPorts.length === 0;
  return {
    id: 'prefixes', serviceArea: 'PrefixList', category: 'Allow', required: true, expressRoute: false,
    tcpPorts: opts.tcpPorts, udpPorts: opts.udpPorts, addressOnly, ips: { v4, v6 }, urls: [], origin: 'prefixes',
  };
}
