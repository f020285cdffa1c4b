import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { getCACertificates } from 'node:tls';
import { ConfigError } from './errors.ts';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * The certificates of a PEM CA bundle (`S3_CA_FILE`, `OLLAMA_CA_FILE`), read once, each parsed.
 * A missing or unreadable file, or one without a valid certificate, is a ConfigError naming the
 * variable.
 */
export function readCaFile(path: string, variable: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`${variable}: cannot read the CA bundle ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  const pems = text.match(PEM_CERTIFICATE) ?? [];
  if (pems.length === 0) throw new ConfigError(`${variable}: ${path} holds no PEM certificate`);
  for (const pem of pems) {
    try {
      new X509Certificate(pem);
    } catch {
      throw new ConfigError(`${variable}: ${path} holds a certificate that does not parse`);
    }
  }
  return pems;
}

/**
 * What a TLS client built with it trusts: everything Node trusts by default (its bundled roots,
 * the system store when Node runs with --use-system-ca, NODE_EXTRA_CA_CERTS) and the bundle's
 * CAs. Passing `ca` to a TLS client replaces the defaults, so they are listed here too.
 * Certificate verification itself is never turned off.
 */
export function trustedCas(path: string, variable: string): string[] {
  return [...getCACertificates('default'), ...readCaFile(path, variable)];
}
