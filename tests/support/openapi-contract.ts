import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

/** The parts of the OpenAPI document these checks read. */
export interface OpenApiDocument {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>;
  components: { schemas: Record<string, unknown> };
}

export interface RecordedAnswer {
  method: string;
  /** The URL path as called (no query). */
  path: string;
  status: number;
  contentType: string;
  body: unknown;
}

/** `/api/v1/transactions/{merchantRefCode}` as a regex; literal paths before templated ones, as Express would route them. */
export function operationOf(doc: OpenApiDocument, method: string, path: string): string | undefined {
  const templates = Object.keys(doc.paths)
    .filter((p) => doc.paths[p][method.toLowerCase()])
    .sort((a, b) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0));
  return templates.find((t) => new RegExp(`^${t.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path));
}

/** Ajv (JSON Schema 2020-12, which OpenAPI 3.1 uses) over the document's own components. */
export function answerValidator(doc: OpenApiDocument) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ $id: 'https://hub.test/openapi.json', components: doc.components });
  /** What is wrong with an answer against the document ([] when it conforms). */
  return (answer: RecordedAnswer): string[] => {
    const where = `${answer.method} ${answer.path} -> ${answer.status}`;
    const template = operationOf(doc, answer.method, answer.path);
    if (!template) return [`${where}: no such operation in the document`];
    const response = doc.paths[template][answer.method.toLowerCase()].responses[String(answer.status)];
    if (!response) return [`${where}: status not documented for ${template}`];
    const media = answer.contentType.split(';')[0];
    if (!response.content) return answer.body && Object.keys(answer.body as object).length > 0 ? [`${where}: a body where none is documented`] : [];
    const content = response.content[media];
    if (!content) return [`${where}: ${media} not documented (${Object.keys(response.content).join(', ')})`];
    const validate = ajv.compile(absolute(content.schema));
    if (validate(answer.body)) return [];
    return (validate.errors ?? []).map((e) => `${where}: ${e.instancePath || '(root)'} ${e.message} ${JSON.stringify(e.params)}`);
  };
}

/** A response schema refers to `#/components/...`: resolved against the document the components came from. */
const absolute = (schema: unknown): Record<string, unknown> =>
  JSON.parse(JSON.stringify(schema).replace(/"#\/components\//g, '"https://hub.test/openapi.json#/components/')) as Record<string, unknown>;
