/**
 * Ingress presets: the inbound flows Microsoft documents, each defined by endpoint-set ids (per
 * cloud instance, as the web service numbers them) and ports. The prefixes always come from the
 * feed being compiled: a preset holds no address.
 */
import type { PortRange } from '../net/ports.js';

export interface Preset {
  readonly name: string;
  readonly summary: string;
  /** the service area the sets must have (a feed whose set changed meaning is refused) */
  readonly serviceArea: string;
  /** endpoint-set ids per instance */
  readonly sets: Readonly<
    Record<'Worldwide' | 'China' | 'USGovDoD' | 'USGovGCCHigh', readonly string[]>
  >;
  /** the local ports (each set's own TCP ports must hold them) */
  readonly tcpPorts: readonly PortRange[];
  /** where Microsoft documents the flow and the set ids */
  readonly docs: readonly string[];
}

/** Built on each call (nothing at load), so every value is within reach of the tests. */
function endpointDocs(): readonly string[] {
  return [
    'Worldwide: https://learn.microsoft.com/microsoft-365/enterprise/urls-and-ip-address-ranges',
    'China (21Vianet): https://learn.microsoft.com/microsoft-365/enterprise/urls-and-ip-address-ranges-21vianet',
    'USGovDoD: https://learn.microsoft.com/microsoft-365/enterprise/microsoft-365-u-s-government-dod-endpoints',
    'USGovGCCHigh: https://learn.microsoft.com/microsoft-365/enterprise/microsoft-365-u-s-government-gcc-high-endpoints',
  ];
}

/** The presets, in name order; a fresh copy on each call. */
export function presets(): readonly Preset[] {
  return [
    {
      name: 'eop-inbound-smtp',
      summary:
        'Exchange Online Protection delivers mail to your mail hosts: TCP 25 from the prefixes of the *.mail.protection endpoint set',
      serviceArea: 'Exchange',
      sets: { Worldwide: ['10'], China: ['27'], USGovDoD: ['6'], USGovGCCHigh: ['6'] },
      tcpPorts: [{ from: 25, to: 25 }],
      docs: [
        'https://learn.microsoft.com/exchange/mail-flow-best-practices/use-connectors-to-configure-mail-flow/set-up-connectors-to-route-mail (mail from Microsoft 365 to your own email servers)',
        ...endpointDocs(),
      ],
    },
    {
      name: 'exchange-hybrid-inbound',
      summary:
        'Exchange hybrid: Exchange Online reaches your hybrid servers on TCP 443 (Autodiscover, EWS, free/busy, MRS proxy for mailbox moves)',
      serviceArea: 'Exchange',
      sets: { Worldwide: ['1'], China: ['1'], USGovDoD: ['1'], USGovGCCHigh: ['1'] },
      tcpPorts: [{ from: 443, to: 443 }],
      docs: [
        'https://learn.microsoft.com/exchange/hybrid-deployment-prerequisites#hybrid-deployment-protocols-ports-and-endpoints',
        ...endpointDocs(),
      ],
    },
  ];
}

export function presetNames(): string[] {
  return presets().map((p) => p.name);
}

export function presetNamed(name: string): Preset | undefined {
  return presets().find((p) => p.name === name);
}
