import { z } from 'zod';
import type { OperatorRequest } from '../operator-decision.ts';
import { OperatorName } from '../../vault/review-decision.ts';

const text = (max: number) => z.string().trim().min(1, 'is required').max(max, `is longer than ${max} characters`);
const note = z.string().trim().max(2000, 'is longer than 2000 characters').optional();
/** CRLF (how browsers send textarea lines) as LF: the function stored is the one typed. */
const source = z
  .string()
  .max(20_000, 'is longer than 20000 characters')
  .transform((s) => s.replace(/\r\n?/g, '\n'))
  .refine((s) => s.trim() !== '', 'is required');

/** The decision form's fields (application/x-www-form-urlencoded), by action. */
export const DecisionFormSchema = z.discriminatedUnion('action', [
  z.object({ action: z.enum(['approve', 'choose']), operator: OperatorName, candidate: text(200), note }),
  z.object({ action: z.literal('edit'), operator: OperatorName, source, confirm: z.enum(['1']).optional(), note }),
  z.object({ action: z.literal('reject'), operator: OperatorName, reason: text(2000) }),
]);

/**
 * A posted form's fields (the first value of each, the access token left out) checked against
 * `schema`, or each problem named by its field (`reason: is required`). Every review form is read
 * through it.
 *
 * @example
 * const read = readForm(DecisionFormSchema, form); // { ok: true, data } | { ok: false, problems }
 */
export function readForm<T>(schema: z.ZodType<T>, form: URLSearchParams): { ok: true; data: T } | { ok: false; problems: string[] } {
  const fields = Object.fromEntries([...form.keys()].filter((k) => k !== 'token').map((k) => [k, form.get(k)!]));
  const parsed = schema.safeParse(fields);
  if (!parsed.success) return { ok: false, problems: parsed.error.issues.map((i) => `${i.path.join('.') || 'form'}: ${i.message}`) };
  return { ok: true, data: parsed.data };
}

/** A form's fields read as a request for the domain, or what is wrong with them (each problem named by field). */
export function parseDecisionForm(
  form: URLSearchParams,
  batch: string,
  cluster: string,
): { ok: true; request: OperatorRequest } | { ok: false; problems: string[] } {
  const read = readForm(DecisionFormSchema, form);
  if (!read.ok) return read;
  const f = read.data;
  const noted = f.action !== 'reject' && f.note ? { note: f.note } : {};
  if (f.action === 'edit')
    return {
      ok: true,
      request: { action: 'edit', batch, cluster, operator: f.operator, source: f.source, confirm: f.confirm === '1', ...noted },
    };
  if (f.action === 'reject') return { ok: true, request: { action: 'reject', batch, cluster, operator: f.operator, reason: f.reason } };
  return { ok: true, request: { action: f.action, batch, cluster, operator: f.operator, candidate: f.candidate, ...noted } };
}
