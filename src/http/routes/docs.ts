import Router from '@koa/router';
import { addRoute } from '../route-spec';
import { ROUTES } from '../route-table';
import { buildOpenApiDocument } from '../openapi';
import { DOCS_PAGE_CSP, DOCS_PAGE_HTML, loadDocsAssets } from '../docs-page';
import { NotFoundError } from '../../errors';

/** GET /openapi.json (the document built from the route table), GET /docs and its files. */
export function docsRoutes(deps: { publicUrl: string }): Router {
  const router = new Router();
  const document = JSON.stringify(buildOpenApiDocument({ serverUrl: deps.publicUrl }));
  const assets = loadDocsAssets();

  addRoute(router, ROUTES.openApi, (ctx) => {
    ctx.type = 'application/json';
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = document;
  });

  addRoute(router, ROUTES.docs, (ctx) => {
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('Content-Security-Policy', DOCS_PAGE_CSP);
    ctx.body = DOCS_PAGE_HTML;
  });

  addRoute(router, ROUTES.docsAsset, (ctx) => {
    const asset = assets.get(ctx.state.input.params.file as string);
    if (!asset) throw new NotFoundError('file');
    ctx.type = asset.contentType;
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = asset.body;
  });

  return router;
}
