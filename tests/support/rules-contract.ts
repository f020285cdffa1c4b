import type { Contract } from '../../lib/contract/contract.ts';
import { parseContract } from '../../lib/contract/registry.ts';

/** A contract that exercises every rule type, and rows that each break exactly the rules named. */
export const RULES_CONTRACT: Contract = parseContract({
  stream: 'rules',
  version: 1,
  format: { type: 'csv', null_tokens: ['N/A'] },
  columns: [
    { name: 'id', type: 'integer', primary_key: true, min: 1 },
    { name: 'name', type: 'string', nullable: false, max_length: 8 },
    { name: 'price', type: 'decimal', scale: 2, min: 0, max: 1000 },
    { name: 'active', type: 'boolean' },
    { name: 'born', type: 'date', min: '1900-01-01' },
    { name: 'seen', type: 'timestamp' },
    { name: 'email', type: 'email', pii: true },
    { name: 'phone', type: 'phone', pii: true },
    { name: 'tier', type: 'enum', allowed: ['gold', 'silver'] },
    { name: 'code', type: 'string', pattern: '[A-Z]{3}-[0-9]{2}' },
    { name: 'paid', type: 'date', format: '%d/%m/%Y' },
  ],
  tests: [
    { type: 'accepted_values', column: 'code', values: ['ABC-01', 'ABC-02', 'XYZ-99'] },
    { type: 'range', column: 'price', max: 500 },
    { type: 'expression', name: 'born_before_seen', expression: 'born < CAST(seen AS DATE)' },
    { type: 'unique', columns: ['email'] },
  ],
});

const header = 'id,name,price,active,born,seen,email,phone,tier,code,paid';
const good = (id: number, email = `u${id}@example.org`) =>
  `${id},Ann,12.50,true,1990-05-01,2026-01-02T10:00:00Z,${email},+14155550100,gold,ABC-01,31/12/2025`;

/** [csv line, the reasons the bouncer must give it] */
export const RULE_ROWS: Array<[string, string[]]> = [
  [good(1), []],
  [good(2).replace('12.50', 'N/A').replace(',gold,', ',,'), []],
  [good(3).replace(',Ann,', ',,'), ['name:not_null']],
  [good(4).replace(',Ann,', ',Annabelle-Lee,'), ['name:max_length']],
  ['x5' + good(5).slice(1), ['id:type']],
  [good(6).replace('12.50', '12.5.0'), ['price:type']],
  [good(7).replace('12.50', '0.052000000000000005'), ['price:type']],
  [good(8).replace('12.50', '-3'), ['price:min']],
  [good(9).replace('12.50', '2000'), ['price:max', 'price:range']],
  [good(10).replace('12.50', '700'), ['price:range']],
  [good(11).replace('true', 'yes'), ['active:type']],
  [good(12).replace('1990-05-01', '05/01/1990'), ['born:type']],
  [good(13).replace('1990-05-01', '1850-01-01'), ['born:min']],
  [good(14).replace('2026-01-02T10:00:00Z', 'yesterday'), ['seen:type']],
  [good(15, 'not-an-email'), ['email:type']],
  [good(16).replace('+14155550100', '(415) 555-0100'), ['phone:type']],
  [good(17).replace(',gold,', ',bronze,'), ['tier:allowed']],
  // Not in the accepted values either.
  [good(18).replace('ABC-01', 'abc-01'), ['code:pattern', 'code:accepted_values']],
  [good(19).replace('ABC-01', 'ABC-03'), ['code:accepted_values']],
  [good(20).replace('31/12/2025', '2025-12-31'), ['paid:type']],
  [good(21).replace('2026-01-02T10:00:00Z', '1980-01-01T00:00:00Z'), ['row:expression:born_before_seen']],
  [good(22, 'twin@example.org'), ['email:unique']],
  [good(23, 'twin@example.org'), ['email:unique']],
  ['0' + good(24).slice(2), ['id:min']],
];

export function rulesCsv(): string {
  return `${header}\n${RULE_ROWS.map(([line]) => line).join('\n')}\n`;
}
