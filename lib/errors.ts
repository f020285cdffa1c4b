/** Base of every error vaultmend raises on purpose: a stable `code` for logs, alerts and quarantine reasons. */
export class VaultmendError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A configuration variable is missing or malformed; the message names the variable. */
export class ConfigError extends VaultmendError {
  constructor(message: string) {
    super('config-invalid', message);
  }
}

/** The incoming event does not have the shape a handler accepts. */
export class EventShapeError extends VaultmendError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('event-invalid', message, options);
  }
}

/** An object key that vaultmend refuses to process (traversal, control characters, wrong prefix). */
export class UnsafeKeyError extends VaultmendError {
  constructor(key: string, why: string) {
    super('key-unsafe', `refused object key ${JSON.stringify(key)}: ${why}`);
  }
}

/** The object store failed or answered something unexpected. */
export class StoreError extends VaultmendError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('store-failed', message, options);
  }
}

/** Rows went missing or were counted twice between two stages: nothing of the batch may move on. */
export class DataLossError extends VaultmendError {
  constructor(message: string) {
    super('data-loss', message);
  }
}

/**
 * An error's message fit for logs, alerts and records: engine messages quote the offending
 * value (it may be PII) and echo the SQL, so quoted text becomes <value> and the echo is dropped.
 */
export function safeErrorMessage(error: unknown, max = 500): string {
  const raw = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return raw
    .split(/\n\s*LINE \d+:/)[0]!
    .replace(/'(?:[^']|'')*'/g, '<value>')
    .replace(/"(?:[^"\\]|\\.)*"/g, '<value>')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, max);
}

/** A network destination outside the perimeter (not loopback, not private, not allow-listed). */
export class EgressRefusedError extends VaultmendError {
  constructor(host: string, why: string) {
    super('egress-refused', `refused to connect to ${JSON.stringify(host)}: ${why}`);
  }
}

/** A step found no registered contract for the stream of the object it was given. */
export class ContractMissingError extends VaultmendError {
  constructor(stream: string) {
    super('contract-missing', `no contract is registered for stream ${stream}`);
  }
}

/**
 * The machine was too busy for the sandbox to tell a slow function from a long one (its limit
 * is CPU time, judged in several tries). Not a verdict on the function: the invocation fails so
 * that it is re-driven, and no decision is stored from it.
 */
export class SandboxOverloadedError extends VaultmendError {
  constructor(message: string) {
    super('sandbox-overloaded', `${message}; the cluster is re-driven, no decision was taken`);
  }
}
