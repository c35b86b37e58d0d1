import { existsSync } from 'node:fs';
import puppeteer, { type Browser } from 'puppeteer-core';
import { startTestContext, type TestContext } from '../support/test-context';

/** The docs page in a real browser: Swagger UI renders the document and lists every operation, with nothing fetched from elsewhere. */

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = '/tmp/hub-api-docs.png';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`docs-browser test skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);

let ctx: TestContext;
let browser: Browser | undefined;
beforeAll(async () => {
  if (!haveChromium) return;
  ctx = await startTestContext();
  browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
});
afterAll(async () => {
  await browser?.close();
  await ctx?.close();
});

(haveChromium ? test : test.skip)(
  `when /api/v1/docs opens in headless Chromium, then Swagger UI lists every operation of the document, under its CSP and offline (skipped without ${CHROMIUM})`,
  async () => {
    const doc = (await (await fetch(`${ctx.baseUrl}/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();

    const page = await (browser as Browser).newPage();
    const elsewhere: string[] = [];
    const problems: string[] = [];
    const origin = new URL(ctx.baseUrl).origin;
    await page.setRequestInterception(true);
    page.on('request', (req) => {
      const url = req.url();
      if (url.startsWith('data:') || new URL(url).origin === origin) return void req.continue();
      elsewhere.push(url);
      void req.abort();
    });
    page.on('pageerror', (err) => problems.push(`page error: ${String(err)}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
    });
    // Strings, not functions: they run in the page, where this file's (Node) types do not apply.
    await page.evaluateOnNewDocument(
      "document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));",
    );

    const res = await page.goto(`${ctx.baseUrl}/api/v1/docs`, { waitUntil: 'networkidle0' });
    expect(res?.status()).toBe(200);
    await page.waitForFunction(`document.querySelectorAll('.opblock').length >= ${documented.length}`, { timeout: 20_000 });
    const listed = await page.$$eval('.opblock', (blocks) =>
      blocks.map((b) => {
        const method = b.querySelector('.opblock-summary-method')?.textContent?.trim() ?? '';
        const path = b.querySelector('.opblock-summary-path')?.getAttribute('data-path') ?? '';
        return `${method.toUpperCase()} ${path}`;
      }),
    );
    const title = await page.$eval('.info .title', (el) => el.textContent ?? '');
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    console.log(`docs page screenshot: ${SCREENSHOT}`);

    expect(title).toContain('Payment Hub API');
    expect(listed.sort()).toEqual(documented);
    expect(elsewhere).toEqual([]);
    expect(problems).toEqual([]);
  },
  60_000,
);
