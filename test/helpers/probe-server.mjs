// Listens on the given TCP and UDP ports on every address (dual stack) and answers; runs until killed.
import net from 'node:net';
import dgram from 'node:dgram';
const [tcp, udp] = process.argv.slice(2).map((s) => (s ? s.split(',').map(Number) : []));
let pending = tcp.length + udp.length;
const ready = () => {
  if (--pending === 0) process.stdout.write('ready\n');
};
for (const port of tcp)
  net.createServer((c) => c.end('ok\n')).listen({ port, host: '::', ipv6Only: false }, ready);
for (const port of udp) {
  const s = dgram.createSocket({ type: 'udp6', ipv6Only: false });
  s.on('message', (m, r) => s.send('ok', r.port, r.address));
  s.bind(port, '::', ready);
}
setTimeout(() => process.exit(0), 120000).unref(); // never outlive the test by much
