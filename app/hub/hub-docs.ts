import path from 'node:path';
import { Router, type NextFunction, type Request, type Response } from 'express';
import { hubOpenApiDocument } from './hub-openapi';

/**
 * The API reference, served by the service itself: GET /api/v1/openapi.json and a Swagger UI page
 * at /api/v1/docs, its files read from the swagger-ui-dist package (no CDN: it works offline).
 * The page runs under a strict Content-Security-Policy: scripts and styles only from here, which
 * is why Swagger UI's start-up is a file of its own rather than an inline script.
 */

const SWAGGER_UI_DIR = path.dirname(require.resolve('swagger-ui-dist/package.json'));
const DOCS = '/api/v1/docs';

/** Only these files of the package are served (its index.html and initializer point at a petstore). */
const ASSETS = new Map([
  ['/swagger-ui.css', 'swagger-ui.css'],
  ['/swagger-ui-bundle.js', 'swagger-ui-bundle.js'],
  ['/favicon-32x32.png', 'favicon-32x32.png'],
  ['/favicon-16x16.png', 'favicon-16x16.png'],
]);

// validatorUrl null: Swagger UI would otherwise send the document to an outside validator.
const INIT_SCRIPT = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/api/v1/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
});
`;

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Payment Hub API reference</title>
    <link rel="stylesheet" href="${DOCS}/swagger-ui.css">
    <link rel="icon" type="image/png" href="${DOCS}/favicon-32x32.png" sizes="32x32">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${DOCS}/swagger-ui-bundle.js"></script>
    <script src="${DOCS}/hub-docs-init.js"></script>
  </body>
</html>
`;

/** Same-origin everything; Swagger UI's icons are data: images, and "Try it out" calls this origin only. */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const secured = (res: Response): Response =>
  res.set({ 'Content-Security-Policy': DOCS_CSP, 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer', 'X-Frame-Options': 'DENY' });

export function createHubDocsRouter(): Router {
  const router = Router();
  router.get('/api/v1/openapi.json', (_req, res) => void res.json(hubOpenApiDocument()));
  router.get(DOCS, (_req, res) => void secured(res).type('html').send(PAGE));
  // The page's own files are not API operations: a middleware, not routes of the document.
  router.use(DOCS, (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (req.path === '/hub-docs-init.js') return void secured(res).type('application/javascript').send(INIT_SCRIPT);
    const file = ASSETS.get(req.path);
    if (!file) return next();
    secured(res).sendFile(file, { root: SWAGGER_UI_DIR, maxAge: '1h' }, (err) => err && next(err));
  });
  return router;
}
