import crypto from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Request } from 'express';
import busboy from 'busboy';
import { ForbiddenError, ValidationError } from '../../platform/errors.js';

/** The largest upload accepted: well above a few million rows, well below filling a disk. */
export const MAX_UPLOAD_BYTES = 2 * 1024 ** 3;

function sameToken(expected: unknown, given: string | undefined): boolean {
  if (typeof expected !== 'string' || !given) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

/**
 * Streams a multipart form with one file to `onFile` without buffering it. The form's fields come
 * before the file in the page, so the CSRF token (checked against the session, as for every other
 * staff form) is known before a byte of the file is read; a request without it reads nothing.
 */
export function readUpload<T>(
  req: Request,
  onFile: (file: Readable, fields: Record<string, string>, filename: string) => Promise<T>,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const fields: Record<string, string> = {};
    let handled = false;
    const parser = busboy({
      headers: req.headers,
      limits: { files: 1, fields: 20, fieldSize: 10_000, fileSize: MAX_UPLOAD_BYTES },
    });
    parser.on('field', (name, value) => {
      fields[name] = value;
    });
    parser.on('file', (_name, stream, info) => {
      if (handled) {
        stream.resume();
        return;
      }
      handled = true;
      if (!sameToken(req.session.csrfToken, fields._csrf)) {
        stream.resume();
        reject(new ForbiddenError('This form has expired. Go back, reload the page and try again.'));
        return;
      }
      stream.on('limit', () => stream.destroy(new ValidationError('The file is too large.')));
      onFile(stream, fields, info.filename ?? '').then(resolve, (error: unknown) => {
        stream.resume();
        reject(error instanceof Error ? error : new Error('upload failed'));
      });
    });
    parser.on('close', () => {
      if (!handled) {
        if (!sameToken(req.session.csrfToken, fields._csrf))
          reject(new ForbiddenError('This form has expired. Go back, reload the page and try again.'));
        else reject(new ValidationError('Choose a file to upload.'));
      }
    });
    parser.on('error', (error: unknown) =>
      reject(error instanceof Error ? error : new ValidationError('The upload could not be read.')),
    );
    req.pipe(parser);
  });
}
