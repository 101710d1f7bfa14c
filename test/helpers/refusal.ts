/** The message f throws, or "accepted": so a test can assert a refusal word for word, or its absence. */
export function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  return 'accepted';
}
