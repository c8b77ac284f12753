import helmet from 'koa-helmet';
import type Koa from 'koa';

/**
 * Security headers on every answer (helmet): HSTS, nosniff, no referrer, no framing, and a
 * Content-Security-Policy that lets a JSON answer load nothing at all. HTML pages (Bull Board, the
 * API docs, the sandbox's consent page) set a policy of their own that allows our origin only.
 */
export function securityHeaders(): Koa.Middleware {
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] } },
    strictTransportSecurity: { maxAge: 63_072_000, includeSubDomains: true },
    referrerPolicy: { policy: 'no-referrer' },
    frameguard: { action: 'deny' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
  }) as unknown as Koa.Middleware;
}

/** The policy of an HTML page served from our origin: its scripts, styles and images from here only. */
export const HTML_PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-inline'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "object-src 'none'",
].join('; ');
