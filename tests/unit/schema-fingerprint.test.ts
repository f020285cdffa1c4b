import { describe, expect, it } from 'vitest';
import { engineStorageClass, schemaDrift, schemaFingerprint } from '../../lib/contract/schema-fingerprint.ts';

const cols = (...spec: Array<[string, string]>) => spec.map(([name, type]) => ({ name, type }));

describe('schema fingerprint and drift', () => {
  it('does not depend on column order, and depends on names and types', () => {
    const a = cols(['id', 'integer'], ['name', 'text']);
    expect(schemaFingerprint(a)).toBe(schemaFingerprint([...a].reverse()));
    expect(schemaFingerprint(a)).not.toBe(schemaFingerprint(cols(['id', 'text'], ['name', 'text'])));
    expect(schemaFingerprint(a)).not.toBe(schemaFingerprint(cols(['id', 'integer'], ['Name', 'text'])));
    expect(schemaFingerprint(a)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('names each kind of drift', () => {
    const expected = cols(['id', 'integer'], ['name', 'text'], ['qty', 'integer']);
    expect(schemaDrift(expected, expected)).toBeUndefined();
    expect(schemaDrift(expected, cols(['id', 'integer'], ['name', 'text'], ['qty', 'integer'], ['extra', 'text']))).toEqual({
      added: ['extra'],
      missing: [],
      renamed: [],
      retyped: [],
    });
    expect(schemaDrift(expected, cols(['id', 'integer'], ['name', 'text']))).toEqual({
      added: [],
      missing: ['qty'],
      renamed: [],
      retyped: [],
    });
    expect(schemaDrift(expected, cols(['id', 'integer'], ['full_name', 'text'], ['qty', 'integer']))).toEqual({
      added: [],
      missing: [],
      renamed: [{ from: 'name', to: 'full_name' }],
      retyped: [],
    });
    expect(schemaDrift(expected, cols(['id', 'text'], ['name', 'text'], ['qty', 'integer']))).toEqual({
      added: [],
      missing: [],
      renamed: [],
      retyped: [{ column: 'id', expected: 'integer', found: 'text' }],
    });
  });

  it('maps engine types to storage classes', () => {
    expect(['BIGINT', 'INTEGER', 'UBIGINT', 'HUGEINT'].map(engineStorageClass)).toEqual(['integer', 'integer', 'integer', 'integer']);
    expect(['DOUBLE', 'DECIMAL(10,2)', 'VARCHAR', 'TIMESTAMP WITH TIME ZONE', 'DATE', 'BOOLEAN'].map(engineStorageClass)).toEqual([
      'decimal',
      'decimal',
      'text',
      'timestamp',
      'date',
      'boolean',
    ]);
  });
});
