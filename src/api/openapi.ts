import { PERMISSIONS } from '../staff/permissions.js';
import { API_BASE, type ApiRoute } from './routing.js';
import { SCHEMAS, type JsonSchema } from './schemas.js';

const DESCRIPTIONS: Record<number, string> = {
  200: 'Done',
  201: 'Created',
  204: 'Done, nothing to return',
  400: 'The request is not valid',
  401: 'No live API key',
  403: "The key's role may not do this, or a rule forbids it (four eyes)",
  404: 'No such thing',
  409: 'It does not fit the current state',
  415: 'Send JSON (or CSV where offered)',
  429: 'Too many requests: wait for Retry-After seconds',
};

const problemResponse = (status: number) => ({
  description: DESCRIPTIONS[status] ?? 'Error',
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});

/** `/incidents/:id` → `/incidents/{id}` */
export function openApiPath(path: string): string {
  return `${API_BASE}${path.replace(/:(\w+)/g, '{$1}')}`;
}

/** The OpenAPI 3.1 document, built from the route table and the schemas the API itself validates with. */
export function buildOpenApiDocument(routes: readonly ApiRoute[], serverUrl: string) {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    const path = openApiPath(route.path);
    const parameters = [
      ...[...route.path.matchAll(/:(\w+)/g)].map((match) => ({
        name: match[1],
        in: 'path',
        required: true,
        schema: { type: 'integer', minimum: 1 },
      })),
      ...(route.query ?? []).map((query) => ({ ...query, in: 'query' })),
    ];
    const responses: Record<string, JsonSchema> = {};
    for (const [status, schema] of Object.entries(route.responses)) {
      responses[status] = schema
        ? {
            description: DESCRIPTIONS[Number(status)] ?? 'Done',
            content: { 'application/json': { schema: { $ref: `#/components/schemas/${schema}` } } },
          }
        : { description: DESCRIPTIONS[Number(status)] ?? 'Done' };
    }
    for (const status of [400, 401, 403, 404, 429]) responses[String(status)] ??= problemResponse(status);
    if (route.method === 'post') responses['409'] ??= problemResponse(409);
    if (route.body) responses['415'] ??= problemResponse(415);
    paths[path] = {
      ...paths[path],
      [route.method]: {
        operationId: route.operationId,
        summary: route.summary,
        description: `Needs a key whose role holds \`${route.access}\` (${PERMISSIONS[route.access].join(', ')}).${
          route.audit ? ` Recorded in the audit log as \`${route.audit}\`.` : ''
        }`,
        ...(parameters.length ? { parameters } : {}),
        ...(route.body
          ? {
              requestBody: {
                required: true,
                content: {
                  ...(route.body.schema
                    ? {
                        'application/json': { schema: { $ref: `#/components/schemas/${route.body.schema}` } },
                      }
                    : {}),
                  ...(route.body.csv
                    ? { 'text/csv': { schema: { type: 'string', description: route.body.csv } } }
                    : {}),
                },
              },
            }
          : {}),
        responses,
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Candor API',
      version: '1',
      description:
        'Everything an integration needs to run a breach notification: incidents, updates, people, campaigns with four-eyes approval, progress and deliveries. Errors are application/problem+json.',
    },
    servers: [{ url: serverUrl }],
    security: [{ apiKey: [] }],
    paths,
    components: {
      schemas: SCHEMAS,
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API key made by an admin in the console or with `npx candor create-api-key`.',
        },
      },
    },
  };
}
