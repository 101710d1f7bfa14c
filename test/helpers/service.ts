/** A loopback stand-in for the web service (/version, /endpoints, /changes), steerable by the test. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

export interface StandIn {
  base: string;
  /** what /version answers */
  version: string;
  /** what /endpoints answers (a JSON text) */
  feed: string;
  /** what /changes answers (a JSON text); absent: 404 */
  changes?: string;
  /** when set, every request is answered by this instead */
  override?: Handler;
  log: string[];
  close(): Promise<void>;
}

export function json(
  res: ServerResponse,
  body: unknown,
  status = 200,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

export async function startService(version: string, feed: string): Promise<StandIn> {
  const s: StandIn = {
    base: '',
    version,
    feed,
    log: [],
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://stand-in');
    s.log.push(url.pathname);
    if (s.override) return s.override(req, res, url);
    if (url.pathname.startsWith('/version/'))
      return json(res, { instance: url.pathname.split('/')[2], latest: s.version });
    if (url.pathname.startsWith('/endpoints/')) return json(res, s.feed);
    if (url.pathname.startsWith('/changes/') && s.changes !== undefined)
      return json(res, s.changes);
    json(res, { error: 'not found' }, 404);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  s.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return s;
}

/** `m365fw update` of Worldwide against a stand-in, with more arguments after. */
export const updateArgv = (base: string, state: string, out: string, ...more: string[]) => [
  'update',
  '--instance',
  'Worldwide',
  '--state',
  state,
  '--out',
  out,
  '--base-url',
  base,
  ...more,
];
