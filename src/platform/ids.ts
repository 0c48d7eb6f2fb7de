import { NotFoundError } from './errors.js';

/** A row id (a positive whole number) from a path, a form or a query string; null for anything else. */
export function positiveId(value: unknown): number | null {
  if (typeof value !== 'string' && typeof value !== 'number') return null;
  const id = Number(value);
  return Number.isSafeInteger(id) && id > 0 ? id : null;
}

/**
 * The id a path names. Something that is not an id names nothing we hold, so it gets the same 404
 * as an id we do not have: malformed input never reaches the database and never answers 500.
 */
export function idOr404(value: unknown, what: string): number {
  const id = positiveId(value);
  if (id === null) throw new NotFoundError(`There is no such ${what}.`);
  return id;
}
