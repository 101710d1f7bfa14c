/**
 * The PAC file in the browser that reads it: headless Chromium (Debian's package) fetches it over
 * loopback HTTP and asks it for every page. A host the file sends to the proxy reaches the stand-in
 * proxy on loopback (which answers "via-proxy"); a host it sends DIRECT never does (every name
 * resolves to nothing, so nothing leaves the machine). Chromium passes hosts such as
 * foo_bar.sharepoint.com to FindProxyForURL as they are.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, have, skipNote } from './helpers/env.js';
import { compileHere } from './helpers/here.js';
import { tmpDir } from './helpers/tmp.js';

const CHROMIUM = ['chromium', 'chromium-browser'].find((c) => have(c));
const why = CHROMIUM ? undefined : 'needs chromium (apt-get install chromium)';
skipNote('PAC in headless Chromium', why);

const listen = (s: Server) =>
  new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)));

describe.skipIf(!!why)('the PAC file in headless Chromium', () => {
  let pacServer: Server, proxy: Server;
  let pacUrl = '';
  const seen: string[] = [];
  beforeAll(async () => {
    proxy = createServer((req, res) => {
      seen.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body>via-proxy</body></html>');
    });
    const proxyPort = await listen(proxy);
    const out = tmpDir('pac-chromium');
    const r = compileHere([
      '--input',
      join(FIXTURES, 'pac-feed.json'),
      '--target',
      'pac',
      '--pac-proxy',
      `PROXY 127.0.0.1:${proxyPort}`,
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const pac = readFileSync(join(out, 'm365fw.pac'));
    pacServer = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ns-proxy-autoconfig' });
      res.end(pac);
    });
    pacUrl = `http://127.0.0.1:${await listen(pacServer)}/m365fw.pac`;
  }, 60000);
  afterAll(() => {
    pacServer?.close();
    proxy?.close();
  });

  /**
   * The page Chromium shows for http://HOST/, and the requests for HOST the proxy saw (Chromium's
   * own background requests go through the PAC too: they are not counted). Asynchronous: the PAC
   * server and the proxy live in this process and must answer while Chromium runs.
   */
  const visit = async (host: string) => {
    const before = seen.length;
    let dom: string;
    try {
      const r = await promisify(execFile)(
        CHROMIUM!,
        [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          `--user-data-dir=${tmpDir('chromium-profile')}`,
          `--proxy-pac-url=${pacUrl}`,
          // no name resolves: a DIRECT page cannot leave the machine
          '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
          '--dump-dom',
          `http://${host}/`,
        ],
        { encoding: 'utf8', timeout: 45000, maxBuffer: 1 << 24 },
      );
      dom = r.stdout;
    } catch (e) {
      dom = String((e as { stdout?: string }).stdout ?? '');
    }
    return {
      viaProxy: dom.includes('via-proxy'),
      proxied: seen.slice(before).filter((u) => u.startsWith(`http://${host}/`)),
    };
  };

  it.each([
    ['foo_bar.sharepoint.com', false, 'an underscore in a label under *.sharepoint.com: DIRECT'],
    ['contoso.sharepoint.com', false, 'a plain label: DIRECT'],
    ['admin.sharepoint.com', true, 'the Default exception under the wildcard: proxy'],
    ['example.com', true, 'an unrelated host: proxy'],
  ])(
    '%s → proxied %s (%s)',
    async (host, proxied) => {
      const r = await visit(host);
      expect(r.viaProxy, JSON.stringify(r)).toBe(proxied);
      expect(r.proxied.length > 0).toBe(proxied);
    },
    60000,
  );
});
