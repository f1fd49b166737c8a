// Request bodies are checked against the shared wire schemas before any handler reads them.
import type { z } from 'zod';
import { WireError, parseWith } from '../../wire/index.ts';

export function validBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new WireError('bad_request', 'The request body must be a JSON object.');
  }
  const parsed = parseWith(schema, body);
  if (!parsed.ok) throw new WireError('bad_request', parsed.message);
  return parsed.value;
}
