import { describe, expect, it } from 'vitest';
import { loadRuntimeConfig } from '../../lib/config.ts';
import { ConfigError } from '../../lib/errors.ts';
import { loadStackConfig } from '../../infra/stack-config.ts';

describe('runtime configuration', () => {
  it('has defaults that suit the local stack', () => {
    const config = loadRuntimeConfig({});
    expect(config.S3_ENDPOINT).toBe('http://127.0.0.1:7480');
    expect(config.VAULT_BUCKET).toBe('vaultmend-vault');
  });

  it('treats an empty variable as unset', () => {
    expect(loadRuntimeConfig({ VAULT_BUCKET: '' }).VAULT_BUCKET).toBe('vaultmend-vault');
  });

  it('names the variable that is wrong', () => {
    expect(() => loadRuntimeConfig({ VAULT_BUCKET: 'Not_A_Bucket' })).toThrow(ConfigError);
    expect(() => loadRuntimeConfig({ VAULT_BUCKET: 'Not_A_Bucket' })).toThrow(/VAULT_BUCKET/);
    expect(() => loadRuntimeConfig({ S3_ENDPOINT: 'ftp://x' })).toThrow(/S3_ENDPOINT/);
    expect(() => loadRuntimeConfig({ LOG_LEVEL: 'LOUD' })).toThrow(/LOG_LEVEL.*LOUD/s);
  });

  it('accepts `aws` as the endpoint of real S3', () => {
    expect(loadRuntimeConfig({ S3_ENDPOINT: 'aws' }).S3_ENDPOINT).toBe('aws');
  });
});

describe('stack configuration', () => {
  it('defaults to Ceph RGW on loopback', () => {
    const config = loadStackConfig({});
    expect(config.S3_BACKEND).toBe('rgw');
    expect(config.S3_ENDPOINT).toBe('http://127.0.0.1:7480');
  });

  it('derives the backend from MINIO_BIN and S3_ENDPOINT', () => {
    expect(loadStackConfig({ MINIO_BIN: '/opt/minio' }).S3_BACKEND).toBe('minio');
    expect(loadStackConfig({ MINIO_BIN: '/opt/minio', MINIO_PORT: '9100' }).S3_ENDPOINT).toBe('http://127.0.0.1:9100');
    const external = loadStackConfig({ S3_ENDPOINT: 'http://10.0.0.5:9000' });
    expect(external.S3_BACKEND).toBe('external');
    expect(external.S3_ENDPOINT).toBe('http://10.0.0.5:9000');
  });

  it('names the variable a backend is missing', () => {
    expect(() => loadStackConfig({ S3_BACKEND: 'minio' })).toThrow(/MINIO_BIN: required when S3_BACKEND=minio/);
    expect(() => loadStackConfig({ S3_BACKEND: 'external' })).toThrow(/S3_ENDPOINT: required/);
  });

  it('names a malformed port', () => {
    expect(() => loadStackConfig({ RGW_PORT: 'seventy' })).toThrow(/RGW_PORT/);
    expect(() => loadStackConfig({ BRIDGE_PORT: '70000' })).toThrow(/BRIDGE_PORT/);
  });
});

describe('error messages for logs', () => {
  it('drop quoted values and the echoed SQL', async () => {
    const { safeErrorMessage } = await import('../../lib/errors.ts');
    const engine = new Error("Conversion Error: Could not convert string 'Jane Doe 555-0100' to INT32\n\nLINE 3: SELECT CAST(label AS INTEGER) ...");
    expect(safeErrorMessage(engine)).toBe('Error: Conversion Error: Could not convert string <value> to INT32');
    expect(safeErrorMessage('value "x@y.org" bad')).toBe('value <value> bad');
  });
});
