import { z } from 'zod';

/**
 * What the model must answer: JSON only, in this shape. The same schema is sent to Ollama as
 * `format` (structured outputs), and zod checks what comes back, since a small model may
 * still answer something else.
 */
export const ModelAnswerSchema = z.object({
  transformation: z.string().min(1).max(8_000),
  confidence_score: z.number().min(0).max(1),
  reasoning: z.string().max(4_000),
  pattern_type: z.string().max(200),
});
export type ModelAnswer = z.infer<typeof ModelAnswerSchema>;

export const MODEL_ANSWER_JSON_SCHEMA = z.toJSONSchema(ModelAnswerSchema);

export type AnswerProblem = 'answer-not-json' | 'answer-wrong-shape';

/**
 * Parses a model's message content. A fenced block (```json ... ```) around the JSON is taken
 * off — small models add one even when asked not to — but nothing else is guessed.
 */
export function parseModelAnswer(content: string): { answer: ModelAnswer } | { problem: AnswerProblem; detail: string } {
  const fenced = /^\s*```[a-zA-Z]*\s*\n([\s\S]*?)\n?```\s*$/.exec(content);
  const text = fenced ? fenced[1]! : content;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { problem: 'answer-not-json', detail: (error as Error).message.slice(0, 200) };
  }
  const parsed = ModelAnswerSchema.safeParse(json);
  if (!parsed.success)
    return {
      problem: 'answer-wrong-shape',
      detail: parsed.error.issues
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; ')
        .slice(0, 300),
    };
  return { answer: parsed.data };
}
