import type { ObjectStore } from '../store/object-store.ts';
import type { Sandbox } from '../remediate/sandbox.ts';

/** What reviewing a cluster needs: the vault, scratch space, the engine's limits and the sandbox that measures functions. */
export interface ReviewDeps {
  store: ObjectStore;
  workDir: string;
  engine: { memoryLimit: string; threads: number };
  sandbox: Sandbox;
  now?: () => Date;
}
