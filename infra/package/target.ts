/**
 * The machine an artifact is for: Lambda's `provider.architecture` (x86_64 or arm64), as Node and
 * ELF name it. The native addons in an artifact are the ones npm installed on the machine that
 * packages it, so an artifact can only be built for that machine's architecture; see native.ts.
 */
export interface Target {
  /** serverless.yml's name. */
  architecture: 'x86_64' | 'arm64';
  /** process.arch of the target. */
  arch: 'x64' | 'arm64';
  /** ELF e_machine of its shared objects: EM_X86_64 (62) or EM_AARCH64 (183). */
  elfMachine: number;
}

const TARGETS: Record<Target['architecture'], Target> = {
  x86_64: { architecture: 'x86_64', arch: 'x64', elfMachine: 62 },
  arm64: { architecture: 'arm64', arch: 'arm64', elfMachine: 183 },
};

/** The target of serverless.yml's `provider.architecture` (Lambda's default, x86_64, when unset). */
export function targetOf(architecture: string | undefined): Target {
  const name = architecture ?? 'x86_64';
  if (name !== 'x86_64' && name !== 'arm64') throw new Error(`provider.architecture: ${name} is not x86_64 or arm64`);
  return TARGETS[name];
}

/** The target of the machine this runs on, or undefined when Lambda has none (not Linux x64/arm64). */
export function hostTarget(): Target | undefined {
  if (process.platform !== 'linux') return undefined;
  return Object.values(TARGETS).find((t) => t.arch === process.arch);
}
