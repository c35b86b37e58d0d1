import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The README's merchant-webhook verification snippet, run as a merchant would paste it. */
export function readmeVerifier(): (secret: string, headers: Record<string, unknown>, body?: string) => boolean {
  const readme = readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');
  const block = /<!-- verify-webhook-snippet -->\s*```js\n([\s\S]*?)```/.exec(readme);
  if (!block) throw new Error('the README has no verification snippet');
  return new Function('require', `${block[1]}\nreturn verifyHubWebhook;`)(require) as never;
}
