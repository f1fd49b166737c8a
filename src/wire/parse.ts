// One way to turn unknown input into a typed value or a message a person can read.
// Zod's issues are flattened into a single sentence naming the field, never echoing the input.
import type { z } from 'zod';

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

export function parseWith<S extends z.ZodType>(schema: S, input: unknown): Parsed<z.output<S>> {
  const result = schema.safeParse(input);
  if (result.success) return { ok: true, value: result.data };
  const issue = result.error.issues[0];
  if (!issue) return { ok: false, message: 'Invalid input.' };
  const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  return { ok: false, message: `${where}${issue.message}` };
}

/** JSON.parse that returns undefined instead of throwing. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
