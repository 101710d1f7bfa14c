// Reads probes [{proto, host, port, from?}] as JSON on argv[2]; prints [{...probe, ok}] after bounded tries.
import net from 'node:net';
import dgram from 'node:dgram';
const probes = JSON.parse(process.argv[2]);
const TIMEOUT = Number(process.argv[3] ?? 1500);
function tcp({ host, port, from }) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, ...(from ? { localAddress: from } : {}) });
    const t = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, TIMEOUT);
    s.on('data', () => {
      clearTimeout(t);
      s.destroy();
      resolve(true);
    });
    s.on('error', () => {
      clearTimeout(t);
      resolve(false);
    });
  });
}
function udp({ host, port, from }) {
  return new Promise((resolve) => {
    const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const t = setTimeout(() => {
      s.close();
      resolve(false);
    }, TIMEOUT);
    s.on('message', () => {
      clearTimeout(t);
      s.close();
      resolve(true);
    });
    s.on('error', () => {
      clearTimeout(t);
      s.close();
      resolve(false);
    });
    if (from) s.bind({ address: from }, () => s.send('hi', port, host));
    else s.send('hi', port, host);
  });
}
const results = await Promise.all(
  probes.map(async (p) => ({ ...p, ok: await (p.proto === 'tcp' ? tcp(p) : udp(p)) })),
);
process.stdout.write(JSON.stringify(results));
