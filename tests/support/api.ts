import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { Deps } from '../../src/deps.js';
import { createApiKey } from '../../src/api/keys.js';
import type { StaffRole } from '../../src/staff/store.js';
import { makeStaffAccount, type TestStaff } from './console.js';

/** A staff member of `role` and a live API key of theirs (or of a lower `keyRole`). */
export async function makeApiKey(
  deps: Pick<Deps, 'db' | 'vault' | 'clock'>,
  role: StaffRole,
  options: { owner?: TestStaff; keyRole?: StaffRole } = {},
): Promise<{ token: string; keyId: number; staff: TestStaff }> {
  const staff = options.owner ?? (await makeStaffAccount(deps, role));
  const { key, token } = await createApiKey(deps, {
    staffId: staff.id,
    name: `test ${role}`,
    role: options.keyRole ?? role,
  });
  return { token, keyId: key.id, staff };
}

interface OpenApiDocument {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }> }>
  >;
}

export interface ApiAnswer {
  status: number;
  contentType: string;
  body: unknown;
  headers: Headers;
}

/**
 * An API client for tests that checks every answer against the OpenAPI document: the status must be
 * documented for that operation, and the body must match the documented schema for its media type.
 */
export function documentedApiClient(baseUrl: string, document: unknown) {
  const doc = document as OpenApiDocument;
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats.default(ajv);
  ajv.addSchema({ ...(document as object), $id: 'openapi' });
  const templates = Object.keys(doc.paths).map((template) => ({
    template,
    pattern: new RegExp(`^${template.replace(/\{\w+\}/g, '[^/]+')}$`),
  }));

  function check(method: string, path: string, answer: ApiAnswer): void {
    const pathname = new URL(path, baseUrl).pathname;
    const match = templates.find((t) => t.pattern.test(pathname));
    if (!match) throw new Error(`${method} ${pathname} is not in the OpenAPI document`);
    const operation = doc.paths[match.template]?.[method.toLowerCase()];
    if (!operation) throw new Error(`${method} ${match.template} is not in the OpenAPI document`);
    const response = operation.responses[String(answer.status)];
    if (!response)
      throw new Error(`${method} ${match.template} answered ${answer.status}, which is not documented`);
    if (!response.content) return;
    const media = answer.contentType.split(';')[0]!.trim();
    const ref = response.content[media]?.schema.$ref;
    if (!ref)
      throw new Error(
        `${method} ${match.template} ${answer.status} answered ${media}, which is not documented`,
      );
    const validate = ajv.getSchema(`openapi${ref}`)!;
    if (!validate(answer.body))
      throw new Error(
        `${method} ${match.template} ${answer.status} does not match ${ref}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(answer.body)}`,
      );
  }

  return async function call(
    token: string | null,
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    options: { contentType?: string } = {},
  ): Promise<ApiAnswer> {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    let payload: string | undefined;
    if (body !== undefined) {
      headers['content-type'] = options.contentType ?? 'application/json';
      payload = typeof body === 'string' ? body : JSON.stringify(body);
    }
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers,
      ...(payload === undefined ? {} : { body: payload }),
    });
    const text = await response.text();
    const answer: ApiAnswer = {
      status: response.status,
      contentType: response.headers.get('content-type') ?? '',
      body: text ? (JSON.parse(text) as unknown) : null,
      headers: response.headers,
    };
    check(method, path, answer);
    return answer;
  };
}
