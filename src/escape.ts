/**
 * One escaping function per sink for untrusted text (feed, state, policy, DNS answers, file names).
 * Validation keeps most of it plain; these make sure whatever is left cannot act on the sink.
 */

/** C0/C1 controls, DEL, line and paragraph separators, bidi controls, BOM and other invisibles. */
const UNSAFE =
  // eslint-disable-next-line no-control-regex -- these are the characters being escaped
  /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/g;
const hex = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** The longest error or log line m365fw prints. */
export const TERMINAL_MAX = 1000;

/** Text for a terminal line: every control, bidi or separator character shown as \uXXXX, capped. */
export function terminalText(s: string, max = TERMINAL_MAX): string {
  const clean = s.replace(UNSAFE, hex);
  return clean.length > max ? `${clean.slice(0, max - 3)}...` : clean;
}

/** Text for Markdown (a pull-request comment): inert, on one line, every punctuation escaped. */
export function markdownText(s: string, max = 500): string {
  const clean = terminalText(s, max).replace(/[\\`*_{}[\]()<>#+\-.!|~&"'$@:=^]/g, (c) => `\\${c}`);
  return clean;
}

/** A Markdown code span holding untrusted text (no backtick can close it early). */
export function markdownCode(s: string, max = 200): string {
  // a backtick would close the span; a pipe would end a table cell even inside one
  const clean = terminalText(s, max).replace(/`/g, "'").replace(/\|/g, '\\|');
  return `\`${clean}\``;
}

/** A URL with any user name and password removed, for logs. */
export function redactUrl(u: string): string {
  try {
    const url = new URL(u);
    if (url.username || url.password) {
      url.username = '';
      url.password = '';
    }
    return terminalText(url.toString().replace(/\/$/, u.endsWith('/') ? '/' : ''));
  } catch {
    return terminalText(u.replace(/\/\/[^/@]*@/, '//'));
  }
}
