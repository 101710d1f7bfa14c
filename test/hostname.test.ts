/** src/net/hostname.ts in-process, table-driven: every rule at and just past its threshold. */
import { describe, expect, it } from 'vitest';
import {
  classifyUrl,
  HostnameSyntaxError,
  isDnsLabel,
  isDomainName,
  substituteTenant,
} from '../src/net/hostname.js';

const label = (n: number, c = 'a') => c.repeat(n);
/** a name of exactly n characters: labels of 63 joined by dots, ending in ".example" */
function nameOf(n: number): string {
  const tail = '.example';
  let body = '';
  while (body.length + tail.length < n) {
    const room = n - tail.length - body.length - (body ? 1 : 0);
    body += (body ? '.' : '') + label(Math.min(63, room));
  }
  const s = body + tail;
  if (s.length !== n) throw new Error(`nameOf(${n}) gave ${s.length}`);
  return s;
}

describe('classifyUrl', () => {
  it.each([
    ['outlook.office.com', 'outlook.office.com', 'fqdn'],
    ['Outlook.Office.COM.', 'outlook.office.com', 'fqdn'],
    ['*.office.com', '*.office.com', 'wildcard'],
    ['*cdn.onenote.net', '*cdn.onenote.net', 'partial-wildcard'],
    ['cdn*.onenote.net', 'cdn*.onenote.net', 'partial-wildcard'],
    ['autodiscover.*.onmicrosoft.com', 'autodiscover.*.onmicrosoft.com', 'tenant'],
    ['*.*.onmicrosoft.com', '*.*.onmicrosoft.com', 'tenant'],
    ['a-b.example', 'a-b.example', 'fqdn'],
    ['0.example', '0.example', 'fqdn'],
    [`${label(63)}.example`, `${label(63)}.example`, 'fqdn'],
    [`*${label(62)}.example`, `*${label(62)}.example`, 'partial-wildcard'],
    [nameOf(253), nameOf(253), 'fqdn'],
    [`${nameOf(253)}.`, nameOf(253), 'fqdn'],
  ])('%s → %s (%s)', (raw, host, kind) => {
    expect(classifyUrl(raw)).toEqual({ host, kind });
  });

  it.each([
    ['', /empty URL entry/],
    [nameOf(254), /longer than 253/],
    ['localhost', /not a dotted host name/],
    ['.', /not a dotted host name/],
    [`${label(64)}.example`, /invalid label "a{64}"/],
    [`*${label(63)}.example`, /invalid label/],
    ['-a.example', /invalid label "-a"/],
    ['a-.example', /invalid label "a-"/],
    ['a..example', /invalid label ""/],
    ['a.*', /invalid label "\*"/],
    ['a.b*.example', /invalid label "b\*"/],
    ['**.example', /invalid label "\*\*"/],
    ['a*b*.example', /invalid label/],
    ['a.*.*.example', /more than one tenant placeholder/],
    ['a_b.example', /invalid label "a_b"/],
    ['exa mple.com', /invalid label/],
    [`${'x'.repeat(80)}.example`, new RegExp(`invalid label "${'x'.repeat(70)}"$`)],
  ] as [string, RegExp][])('%j is refused: %s', (raw, msg) => {
    expect(() => classifyUrl(raw)).toThrow(HostnameSyntaxError);
    expect(() => classifyUrl(raw)).toThrow(msg);
  });

  it('a value that is not a string is refused', () => {
    expect(() => classifyUrl(42 as unknown as string)).toThrow(/empty URL entry/);
  });
});

describe('isDnsLabel, isDomainName, substituteTenant', () => {
  it.each([
    ['contoso', true],
    ['Contoso', true],
    [label(63), true],
    [label(64), false],
    ['-contoso', false],
    ['contoso-', false],
    ['con.toso', false],
    ['', false],
  ])('isDnsLabel(%j) is %s', (s, ok) => expect(isDnsLabel(s)).toBe(ok));

  it.each([
    ['contoso.com', true],
    ['Contoso.COM.', true],
    [nameOf(253), true],
    [nameOf(254), false],
    ['com', false],
    ['', false],
    ['.', false],
    ['contoso.123', false],
    ['contoso.12a', true],
    ['*.contoso.com', false],
    ['a..com', false],
  ])('isDomainName(%j) is %s', (s, ok) => expect(isDomainName(s)).toBe(ok));

  it.each([
    ['autodiscover.*.onmicrosoft.com', 'Contoso', 'autodiscover.contoso.onmicrosoft.com'],
    ['*.onmicrosoft.com', 'contoso', '*.onmicrosoft.com'],
    ['*.*.onmicrosoft.com', 'contoso', '*.contoso.onmicrosoft.com'],
    ['outlook.office.com', 'contoso', 'outlook.office.com'],
  ])('substituteTenant(%s, %s) = %s', (host, tenant, out) =>
    expect(substituteTenant(host, tenant)).toBe(out),
  );
});
