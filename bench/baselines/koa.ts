import type Router from '@koa/router';

/** B-koa: bare Koa + @koa/router answering a small JSON body (what GET /livez answers). */
export function koaBaseline(router: Router): void {
  router.get('/b/koa', (ctx) => {
    ctx.body = { status: 'ok' };
  });
}
