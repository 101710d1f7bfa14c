/** What a target can express; anything else is reported, never approximated silently. */
export interface Capabilities {
  /** exact host names as destinations */
  fqdn: boolean;
  /** *.domain wildcards as destinations */
  wildcard: boolean;
  /** one rule may hold IPv4 and IPv6 together */
  mixedFamilies: boolean;
  /** port ranges a-b */
  portRanges: boolean;
  /**
   * ingress rules (source = the feed's prefixes, towards the local side). A target without it
   * never sees them: they are withheld from its model and reported as unenforced, so an egress-only
   * target (or a plugin written before direction existed) cannot render one the wrong way round.
   */
  ingress?: boolean;
}

/** The model rules (by key) a target's output matches, and the URL entries ("host proto/ports"). */
export interface Enforced {
  rules: string[];
  names: string[];
}

/** The model cannot be rendered within a target's limits (or with its options): nothing is written. */
export class TargetLimitError extends Error {
  constructor(
    readonly target: string,
    message: string,
  ) {
    super(`${target}: ${message}`);
  }
}
