/** One BillRun shared secret; the window is `from` inclusive, `to` exclusive, either end optional. */
export interface SharedSecret {
  key: string;
  from?: Date;
  to?: Date;
}

/**
 * Parses the shared-secret setting: either comma-separated keys (always valid), or a JSON array
 * of `{"key": "...", "from": "<ISO date>", "to": "<ISO date>"}` with optional `from`/`to`.
 * @throws Error with a readable message for empty input, empty keys, bad dates or windows.
 */
export function parseSharedSecrets(raw: string): SharedSecret[] {
  const text = raw.trim();
  if (text === '') throw new Error('no shared secret given');
  if (!text.startsWith('[')) {
    const keys = text.split(',').map((k) => k.trim());
    keys.forEach((k, i) => {
      if (k === '') throw new Error(`shared secret #${i + 1} is empty`);
    });
    return keys.map((key) => ({ key }));
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`shared secrets are not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    throw new Error('shared secrets must be a non-empty JSON array of {"key","from","to"}');
  }
  return parsed.map((entry: unknown, i) => {
    const where = `shared secret #${i + 1}`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new Error(`${where} must be an object {"key","from","to"}`);
    }
    const { key, from, to, ...rest } = entry as Record<string, unknown>;
    const unknownFields = Object.keys(rest);
    if (unknownFields.length > 0) throw new Error(`${where} has unknown field(s): ${unknownFields.join(', ')}`);
    if (typeof key !== 'string' || key === '') throw new Error(`${where}: "key" must be a non-empty string`);
    const secret: SharedSecret = { key };
    if (from !== undefined) secret.from = parseIsoDate(from, `${where}: "from"`);
    if (to !== undefined) secret.to = parseIsoDate(to, `${where}: "to"`);
    if (secret.from && secret.to && secret.from.getTime() >= secret.to.getTime()) {
      throw new Error(`${where}: "from" must be before "to"`);
    }
    return secret;
  });
}

function parseIsoDate(value: unknown, what: string): Date {
  // ISO 8601 with an explicit zone only: Date reads other formats (and a time without a zone)
  // in the machine's local time zone.
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(value)) {
    throw new Error(`${what} must be an ISO 8601 date such as 2026-01-31 or 2026-01-31T00:00:00Z`);
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new Error(`${what} is not a valid date: ${value}`);
  return date;
}
