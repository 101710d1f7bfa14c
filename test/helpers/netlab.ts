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
  /** the client's source address (bound before connecting); default the kernel's choice */
  from?: string;
  ok?: boolean;
}

/** Who holds which address, and the routes each side needs (the veth carries everything). */
export interface Topology {
  clientV4: string[];
  clientV6: string[];
  serverV4: string[];
  serverV6: string[];
  /** "PREFIX via ADDR" lines for `ip route add` (IPv6 ones contain ":") */
  clientRoutes: string[];
  serverRoutes: string[];
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

/** The egress lab: the client (which loads the policy) reaches the server's feed addresses. */
export const EGRESS: Topology = {
  clientV4: ['192.0.2.1/24'],
  clientV6: ['2001:db8::1/64'],
  serverV4: SERVER_V4,
  serverV6: SERVER_V6,
  clientRoutes: [
    '198.51.100.0/24 via 192.0.2.2',
    '203.0.113.0/24 via 192.0.2.2',
    '2001:db8:1::/48 via 2001:db8::2',
    '2001:db8:2::/48 via 2001:db8::2',
    '2001:db8:3::/48 via 2001:db8::2',
  ],
  serverRoutes: [],
};

export async function createLab(
  tcpPorts: number[],
  udpPorts: number[],
  topo: Topology = EGRESS,
): Promise<Lab> {
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
    const addrs = (ns: string, v4: string[], v6: string[]) =>
      [
        ...v4.map((a) => `ip -n ${ns} addr add ${a} dev ${ns === client ? 'vc' : 'vs'}${id}`),
        ...v6.map(
          (a) => `ip -n ${ns} -6 addr add ${a} dev ${ns === client ? 'vc' : 'vs'}${id} nodad`,
        ),
      ].join('\n');
    const routes = (ns: string, rs: string[]) =>
      rs.map((r) => `ip -n ${ns}${r.includes(':') ? ' -6' : ''} route add ${r}`).join('\n');
    sh(`ip netns add ${client}; ip netns add ${server}
ip link add vc${id} netns ${client} type veth peer name vs${id} netns ${server}
ip -n ${client} link set lo up; ip -n ${server} link set lo up
ip -n ${client} link set vc${id} up; ip -n ${server} link set vs${id} up
${addrs(client, topo.clientV4, topo.clientV6)}
${addrs(server, topo.serverV4, topo.serverV6)}
${routes(client, topo.clientRoutes)}
${routes(server, topo.serverRoutes)}`);
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
