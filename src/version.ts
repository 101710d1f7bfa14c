import { readFileSync } from 'node:fs';

/** m365fw's own version, from package.json (works from src/ under vitest and from dist/src/). */
export const TOOL_VERSION: string = (() => {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const p = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (p.name === 'm365fw' && p.version) return p.version;
    } catch {
      /* try the next */
    }
  }
  return '0.0.0';
})();
