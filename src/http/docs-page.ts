import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The docs page: Swagger UI (swagger-ui-dist), every file served from our own origin, started by a
 * script file of ours rather than an inline one, so the page's CSP can allow this origin only.
 */
export const DOCS_PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const DOCS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Gmail assistant API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

// validatorUrl null: Swagger UI would otherwise send the document to an outside validator.
const INIT_SCRIPT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  withCredentials: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
});
`;

export interface DocsAsset {
  contentType: string;
  body: Buffer;
}

const FROM_PACKAGE: Record<string, string> = {
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'swagger-ui.css': 'text/css; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};

const EXTENSION: Record<string, string> = { 'image/svg+xml': 'svg', 'image/png': 'png', 'image/jpeg': 'jpg', 'image/gif': 'gif' };

/** The bytes and type of a `data:` URL, or null when it is not an image we can serve. */
function decodeDataUrl(url: string): DocsAsset | null {
  const match = /^data:([a-z]+\/[a-z0-9.+-]+)((?:;[a-z-]+=[^;,]*)*)(;base64)?,(.*)$/is.exec(url);
  if (!match || !EXTENSION[match[1]!.toLowerCase()]) return null;
  const [, type, , base64, payload] = match;
  try {
    return { contentType: type!.toLowerCase(), body: base64 ? Buffer.from(payload!, 'base64') : Buffer.from(decodeURIComponent(payload!), 'utf8') };
  } catch {
    return null;
  }
}

/**
 * Swagger UI's stylesheet draws its icons with `data:` images, which a CSP of our origin only
 * blocks. Each becomes a file of its own (`inline-<n>.<ext>`) served from here, and the stylesheet
 * points at it.
 */
export function externaliseDataImages(css: string): { css: string; images: Map<string, DocsAsset> } {
  const images = new Map<string, DocsAsset>();
  const out = css.replace(/url\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|(data:[^)]*))\s*\)/g, (whole, dq?: string, sq?: string, bare?: string) => {
    const url = (dq ?? sq ?? bare ?? '').replace(/\\(.)/g, '$1');
    if (!url.startsWith('data:')) return whole;
    const image = decodeDataUrl(url);
    if (!image) return whole;
    const name = `inline-${images.size + 1}.${EXTENSION[image.contentType]}`;
    images.set(name, image);
    return `url("/docs/${name}")`;
  });
  return { css: out, images };
}

/** The files of the docs page by name, read once from the installed swagger-ui-dist. */
export function loadDocsAssets(): Map<string, DocsAsset> {
  const dir = path.dirname(require.resolve('swagger-ui-dist/package.json'));
  const assets = new Map<string, DocsAsset>();
  for (const [file, contentType] of Object.entries(FROM_PACKAGE)) assets.set(file, { contentType, body: readFileSync(path.join(dir, file)) });
  const { css, images } = externaliseDataImages(assets.get('swagger-ui.css')!.body.toString('utf8'));
  assets.set('swagger-ui.css', { contentType: FROM_PACKAGE['swagger-ui.css']!, body: Buffer.from(css, 'utf8') });
  for (const [name, image] of images) assets.set(name, image);
  assets.set('init.js', { contentType: 'application/javascript; charset=utf-8', body: Buffer.from(INIT_SCRIPT, 'utf8') });
  return assets;
}
