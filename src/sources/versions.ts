/**
 * The web service's versions: exactly ten digits, YYYYMMDDNN (a date and a number within the day),
 * compared as numbers. A version is what decides whether an update is newer, so one from the
 * service or read back from the state or a report is checked before it is believed: a version
 * dated more than two days after this machine's clock cannot have been published yet, and
 * recording it would make every real later version look older.
 */
import { showValue } from '../errors.js';

export const VERSION_DIGITS = /^[0-9]{10}$/;
/** How far after this machine's clock a version's date may be (time zones, a clock behind). */
export const VERSION_FUTURE_DAYS = 2;
const DAY_MS = 86_400_000;

/** What is wrong with `v` as a version of the service, or undefined when it is one. */
export function versionProblem(v: unknown, now = Date.now()): string | undefined {
  if (typeof v !== 'string' || !VERSION_DIGITS.test(v))
    return `${showValue(v)} is not a version of the service (ten digits, YYYYMMDDNN)`;
  const y = Number(v.slice(0, 4)),
    m = Number(v.slice(4, 6)),
    d = Number(v.slice(6, 8));
  const at = Date.UTC(y, m - 1, d);
  const back = new Date(at);
  if (y < 2000 || back.getUTCMonth() !== m - 1 || back.getUTCDate() !== d)
    return `${showValue(v)} is not a version of the service (YYYYMMDD is not a date)`;
  if (at > now + VERSION_FUTURE_DAYS * DAY_MS)
    return `${showValue(v)} is dated ${v.slice(0, 4)}-${v.slice(4, 6)}-${v.slice(6, 8)}, more than ${VERSION_FUTURE_DAYS} days after this machine's clock (${new Date(now).toISOString().slice(0, 10)}); the service cannot have published it`;
  return undefined;
}

/** -1, 0 or 1 as version a is older than, the same as, or newer than b (both checked). */
export const compareVersions = (a: string, b: string): number => Math.sign(Number(a) - Number(b));
