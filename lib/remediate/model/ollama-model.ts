import { Ollama, type Message } from 'ollama';
import { VaultmendError } from '../../errors.ts';
import { checkEgress } from '../egress-guard.ts';
import { MODEL_ANSWER_JSON_SCHEMA } from './model-answer.ts';

/**
 * The local small language model, through the `ollama` npm client with an explicit host (the
 * client ignores OLLAMA_HOST). Every request goes through a fetch that checks the egress
 * guard first — the configured host and any URL the client builds — and carries a timeout.
 * Transport failures (timeouts, refused connections, 5xx, a stream cut before `done`) are
 * retried a bounded number of times; then ModelUnavailableError. The model is asked for
 * JSON in the answer schema (`format`), streamed, at temperature 0.
 */
export interface OllamaSettings {
  host: string;
  model: string;
  timeoutMs: number;
  retries: number;
  /** Host names (or addresses) allowed besides loopback and private ranges. */
  allowHosts: readonly string[];
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

/** Whether a failure is worth another try: transport trouble and server errors, not a refusal of the request. */
function transient(error: unknown): boolean {
  const status = (error as { status_code?: unknown }).status_code;
  if (typeof status === 'number') return status >= 500 || status === 429 || status === 408;
  return true;
}

export class OllamaModel {
  private readonly client: Ollama;

  constructor(
    readonly settings: OllamaSettings,
    fetchImpl: typeof fetch = fetch,
  ) {
    // Refused before any connection is made.
    checkEgress(settings.host, settings.allowHosts);
    const guarded: typeof fetch = (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      checkEgress(url, settings.allowHosts);
      const timeout = AbortSignal.timeout(settings.timeoutMs);
      return fetchImpl(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout });
    };
    this.client = new Ollama({ host: settings.host, fetch: guarded });
  }

  private async withRetries<T>(what: string, call: () => Promise<T>): Promise<T> {
    let last: unknown;
    for (let attempt = 0; attempt <= this.settings.retries; attempt++) {
      if (attempt > 0) await sleep(RETRY_BASE_MS * 2 ** (attempt - 1));
      try {
        return await call();
      } catch (error) {
        last = error;
        if (!transient(error)) break;
      }
    }
    const detail = last instanceof Error ? `${last.name}: ${last.message}` : String(last);
    throw new ModelUnavailableError(`${what} failed after ${this.settings.retries + 1} attempts: ${detail.slice(0, 300)}`, { cause: last });
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
