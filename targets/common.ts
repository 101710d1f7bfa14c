import type { Rule } from '../src/model.js';

/**
 * Text safe inside any quoted comment or description: printable ASCII without quotes, backslashes
 * or comment delimiters, cut to max bytes (with "..." when cut). ("*" is not kept, so neither "/*"
 * nor "*\/" can survive the first step; "--", XML's comment delimiter, is the one left to break.)
 */
export function safeText(s: string, max: number): string {
  const clean = s.replace(/[^A-Za-z0-9 ,._:+=()@/#-]/g, '_').replace(/--/g, '__');
  return clean.length <= max ? clean : `${clean.slice(0, max - 3)}...`;
}

/** "sets 1,2,3 Exchange,Skype Optimize required": a rule's provenance in one line. */
export function provenanceText(r: Pick<Rule, 'provenance'>, max: number): string {
  const p = r.provenance;
  const req =
    p.required.length === 2 ? 'required+optional' : p.required[0] ? 'required' : 'optional';
  let ids = p.setIds.join(',');
  const tail = ` ${p.serviceAreas.join(',')} ${p.categories.join(',')} ${req}`;
  const budget = max - tail.length - 'sets '.length;
  if (ids.length > budget) {
    const shown: string[] = [];
    for (const id of p.setIds) {
      const more = ` +${p.setIds.length - shown.length - 1} more`;
      if ([...shown, id].join(',').length + more.length > budget) break;
      shown.push(id);
    }
    ids = `${shown.join(',')} +${p.setIds.length - shown.length} more`;
  }
  return safeText(`sets ${ids}${tail}`, max);
}
