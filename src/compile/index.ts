import type { CompileOptions, EndpointSet, InputInfo, Policy } from '../model.js';
import type { CompileState } from './passes.js';

/** What the read step gives the passes: the input's sets and what is known about it. */
export interface SourceInput {
  /** file name (for errors and provenance) */
  name: string;
  input: InputInfo;
  sets: EndpointSet[];
  policy?: Policy;
}

export function initialState(
  src: SourceInput,
  options: CompileOptions,
  onProgress?: CompileState['onProgress'],
): CompileState {
  return {
    name: src.name,
    input: src.policy
      ? { ...src.input, policy: { file: src.policy.file, sha256: src.policy.sha256 } }
      : src.input,
    sets: src.sets,
    ...(src.policy ? { policy: src.policy } : {}),
    options,
    findings: [],
    setsIn: 0,
    ...(onProgress ? { onProgress } : {}),
  };
}

export { PASSES, runPasses, type CompileState, type Pass } from './passes.js';
