/**
 * Two network namespaces joined by a veth pair: a client that loads the compiled policy and a
 * server holding addresses only from the documentation ranges. Torn down even on failure.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './env.js';

const sh = (cmd: string) =>
  execFileSync('sh', ['-ec', cmd], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 20000,
  });

export interface Lab {
  client: string;
  server: string;
  exec(ns: string, cmd: string): string;
  probe(probes: Probe[]): Probe[];
  destroy(): void;
}
export interface Probe {
  proto: 'tcp' | 'udp';
  host: string;
  port: number;
  ok?: boolean;
}

export const SERVER_V4 = [
  '192.0.2.2/24',
  '198.51.100.10/32',
  '198.51.100.191/32',
  '198.51.100.192/32',
  '203.0.113.5/32',
];
export const SERVER_V6 = [
  '2001:db8::2/64',
  '2001:db8:1::10/128',
  '2001:db8:2::10/128',
  '2001:db8:3::5/128',
];

export async function createLab(tcpPorts: number[], udpPorts: number[]): Promise<Lab> {
  const id = `${process.pid % 10000}${Math.floor(Math.random() * 1000)}`;
  const client = `m365c${id}`,
    server = `m365s${id}`;
  let srv: ChildProcess | undefined;
  const destroy = () => {
    srv?.kill('SIGKILL');
    for (const ns of [client, server]) {
      try {
        sh(`ip netns del ${ns}`);
      } catch {
        /* already gone */
      }
    }
  };
  try {
    sh(`ip netns add ${client}; ip netns add ${server}
ip link add vc${id} netns ${client} type veth peer name vs${id} netns ${server}
ip -n ${client} link set lo up; ip -n ${server} link set lo up
ip -n ${client} link set vc${id} up; ip -n ${server} link set vs${id} up
ip -n ${client} addr add 192.0.2.1/24 dev vc${id}
ip -n ${client} -6 addr add 2001:db8::1/64 dev vc${id} nodad
${SERVER_V4.map((a) => `ip -n ${server} addr add ${a} dev vs${id}`).join('\n')}
${SERVER_V6.map((a) => `ip -n ${server} -6 addr add ${a} dev vs${id} nodad`).join('\n')}
ip -n ${client} route add 198.51.100.0/24 via 192.0.2.2
ip -n ${client} route add 203.0.113.0/24 via 192.0.2.2
ip -n ${client} -6 route add 2001:db8:1::/48 via 2001:db8::2
ip -n ${client} -6 route add 2001:db8:2::/48 via 2001:db8::2
ip -n ${client} -6 route add 2001:db8:3::/48 via 2001:db8::2`);
    srv = spawn(
      'ip',
      [
        'netns',
        'exec',
        server,
        process.execPath,
        join(ROOT, 'test/helpers/probe-server.mjs'),
        tcpPorts.join(','),
        udpPorts.join(','),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('probe server did not start in 10 s')), 10000);
      srv!.stdout!.on('data', (d: Buffer) => {
        if (d.toString().includes('ready')) {
          clearTimeout(t);
          resolve();
        }
      });
      srv!.on('exit', (c) => {
        clearTimeout(t);
        reject(new Error(`probe server exited ${c}`));
      });
    });
  } catch (e) {
    destroy();
    throw e;
  }
  return {
    client,
    server,
    destroy,
    exec: (ns, cmd) => sh(`ip netns exec ${ns} sh -ec '${cmd.replace(/'/g, `'\\''`)}'`),
    probe(probes) {
      const out = execFileSync(
        'ip',
        [
          'netns',
          'exec',
          client,
          process.execPath,
          join(ROOT, 'test/helpers/probe-client.mjs'),
          JSON.stringify(probes),
          '1500',
        ],
        { encoding: 'utf8', timeout: 20000 },
      );
      return JSON.parse(out) as Probe[];
    },
  };
}
