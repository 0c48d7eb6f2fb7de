import type { z } from 'zod';

/**
 * Form validation for the error-summary pattern: a failed form re-renders with status 400, a summary
 * at the top linking to each field, and the message beside the field. Messages are locale keys.
 */
export interface FieldError {
  field: string;
  /** i18next key, e.g. `lookup:errors.referenceMissing`. */
  messageKey: string;
}

export type FormResult<T> =
  { ok: true; data: T } | { ok: false; errors: FieldError[]; values: Record<string, string> };

/** The schema's issue messages must be locale keys (`z.string().min(1, 'lookup:errors.nameMissing')`). */
export function parseForm<S extends z.ZodType>(schema: S, body: unknown): FormResult<z.infer<S>> {
  const values = formValues(body);
  const result = schema.safeParse(values);
  if (result.success) return { ok: true, data: result.data };
  const seen = new Set<string>();
  const errors: FieldError[] = [];
  for (const issue of result.error.issues) {
    const field = String(issue.path[0] ?? 'form');
    if (seen.has(field)) continue;
    seen.add(field);
    errors.push({ field, messageKey: issue.message });
  }
  return { ok: false, errors, values };
}

/** The text fields of a submitted form (never the CSRF token), to show again what was typed. */
export function formValues(body: unknown): Record<string, string> {
  return Object.fromEntries(
    Object.entries(typeof body === 'object' && body !== null ? body : {}).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string' && entry[0] !== '_csrf',
    ),
  );
}
