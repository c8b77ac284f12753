import cors from '@koa/cors';
import type Koa from 'koa';

/**
 * CORS for the frontend: only the configured origins (FRONTEND_URL's and our own) may call the API
 * from a browser, with credentials (the session cookie). Other origins get no CORS headers, so the
 * browser keeps the answer from them.
 */
export function corsForFrontend(allowedOrigins: string[]): Koa.Middleware {
  const allowed = new Set(allowedOrigins);
  return cors({
    origin: (ctx: Koa.Context) => {
      const origin = ctx.get('origin');
      return allowed.has(origin) ? origin : '';
    },
    credentials: true,
    allowMethods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowHeaders: ['content-type', 'x-requested-with'],
    maxAge: 600,
  });
}
