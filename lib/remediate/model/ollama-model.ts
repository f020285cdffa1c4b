import { Ollama, type Message } from 'ollama';
import { VaultmendError } from '../../errors.ts';
import { checkEgress } from '../egress-guard.ts';
import { fetchTrusting } from './https-fetch.ts';
import { MODEL_ANSWER_JSON_SCHEMA } from './model-answer.ts';

/**
 * The local small language model, through the `ollama` npm client with an explicit host (the
 * client ignores OLLAMA_HOST). Every request goes through a fetch that checks the egress
 * guard first — the configured host and any URL the client builds — and carries a timeout.
 * Transport failures (timeouts, refused connections, 5xx, a stream cut before `done`) are
 * retried a bounded number of times; then ModelUnavailableError. The model is asked for
 * JSON in the answer schema (`format`), streamed, at temperature 0. With `ca` and an https
 * host, requests go over node:https trusting those CAs (https-fetch.ts); a certificate that does
 * not verify is not retried, and the error names it.
 */
export interface OllamaSettings {
  host: string;
  model: string;
  timeoutMs: number;
  retries: number;
  /** Host names (or addresses) allowed besides loopback and private ranges. */
  allowHosts: readonly string[];
  /** CAs an https host's certificate must chain to (lib/tls.ts trustedCas of OLLAMA_CA_FILE); unset: the default roots. */
  ca?: string[];
}

export interface ModelIdentity {
  name: string;
  /** The model's digest as the server reports it: the version recorded in every audit entry. */
  digest: string;
  server_version: string;
}

/** The model cannot be reached or keeps failing (replayable: the cluster waits in quarantine). */
export class ModelUnavailableError extends VaultmendError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('model-unavailable', message, options);
  }
}

const RETRY_BASE_MS = 200;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** OpenSSL's and Node's codes for a certificate that does not verify (untrusted, expired, wrong host). */
const TLS_VERIFY_CODE = /^(UNABLE_TO_|SELF_SIGNED_CERT|DEPTH_ZERO_SELF_SIGNED|CERT_|ERR_TLS_CERT_ALTNAME|HOSTNAME_MISMATCH)/;

/** The error and its causes (fetch wraps the socket's error as `TypeError: fetch failed`). */
function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e = error; e !== undefined && chain.length < 5; e = (e as { cause?: unknown } | null)?.cause) chain.push(e);
  return chain;
}

/** A failed certificate verification somewhere in the chain: a configuration fault, never retried. */
function tlsVerifyFailure(error: unknown): boolean {
  return causes(error).some((e) => TLS_VERIFY_CODE.test(String((e as { code?: unknown } | null)?.code ?? '')));
}

/** The error with its causes, `name [code]: message` each, so a TLS failure is named in the message. */
function describeFailure(error: unknown): string {
  return causes(error)
    .map((e) => {
      if (!(e instanceof Error)) return String(e);
      const code = (e as { code?: unknown }).code;
      return `${e.name}${typeof code === 'string' ? ` [${code}]` : ''}: ${e.message}`;
    })
    .join(' <- ');
}

/** Whether a failure is worth another try: transport trouble and server errors, not a refusal of the request. */
function transient(error: unknown): boolean {
  const status = (error as { status_code?: unknown }).status_code;
  if (typeof status === 'number') return status >= 500 || status === 429 || status === 408;
  return !tlsVerifyFailure(error);
}

/** The transport for the host: over node:https trusting `ca` for an https host with a CA bundle, else the global fetch. */
function transportFor(settings: OllamaSettings): typeof fetch {
  return settings.ca && new URL(settings.host).protocol === 'https:' ? fetchTrusting(settings.ca) : fetch;
}

export class OllamaModel {
  private readonly client: Ollama;

  constructor(
    readonly settings: OllamaSettings,
    fetchImpl?: typeof fetch,
  ) {
    // Refused before any connection is made.
    checkEgress(settings.host, settings.allowHosts);
    const transport = fetchImpl ?? transportFor(settings);
    const guarded: typeof fetch = (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      checkEgress(url, settings.allowHosts);
      const timeout = AbortSignal.timeout(settings.timeoutMs);
      return transport(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout });
    };
    this.client = new Ollama({ host: settings.host, fetch: guarded });
  }

  private async withRetries<T>(what: string, call: () => Promise<T>): Promise<T> {
    let last: unknown;
    let attempts = 0;
    while (attempts <= this.settings.retries) {
      if (attempts > 0) await sleep(RETRY_BASE_MS * 2 ** (attempts - 1));
      attempts += 1;
      try {
        return await call();
      } catch (error) {
        last = error;
        if (!transient(error)) break;
      }
    }
    const tries = attempts === 1 ? '1 attempt' : `${attempts} attempts`;
    throw new ModelUnavailableError(`${what} failed after ${tries}: ${describeFailure(last).slice(0, 400)}`, { cause: last });
  }

  /** The server's version and the configured model's digest; the model must be pulled. */
  async identify(): Promise<ModelIdentity> {
    const { version } = await this.withRetries('ollama version', () => this.client.version());
    const { models } = await this.withRetries('ollama model list', () => this.client.list());
    const wanted = this.settings.model.includes(':') ? this.settings.model : `${this.settings.model}:latest`;
    const found = models.find((m) => m.name === wanted || m.model === wanted);
    if (!found)
      throw new ModelUnavailableError(`model ${wanted} is not on the Ollama server at ${this.settings.host} (ollama pull it there)`);
    return { name: found.name, digest: found.digest, server_version: version };
  }

  /** One chat turn: the assistant's message content (expected to be JSON in the answer schema). */
  async ask(messages: Message[]): Promise<string> {
    return this.withRetries('ollama chat', async () => {
      const stream = await this.client.chat({
        model: this.settings.model,
        messages,
        format: MODEL_ANSWER_JSON_SCHEMA as object,
        options: { temperature: 0 },
        stream: true,
      });
      let content = '';
      for await (const part of stream) content += part.message?.content ?? '';
      return content;
    });
  }
}
