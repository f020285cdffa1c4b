/** A structured log line of the bridge: one JSON object per line on stdout (its log file in the stack). */
export type BridgeLog = (message: string, fields?: Record<string, unknown>) => void;

/** Writes the bridge's JSON lines (`time`, `service: 'event-bridge'`, `message`, fields) to stdout. */
export const stdoutLog: BridgeLog = (message, fields = {}) => {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), service: 'event-bridge', message, ...fields })}\n`);
};
