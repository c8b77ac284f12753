import type Koa from 'koa';
import { ALL_ROUTES } from './route-table';

/** Paths without parameters: a request refused before routing (a rate limit) still names its route. */
const STATIC_PATHS = new Set(ALL_ROUTES.map((r) => r.path).filter((path) => !path.includes(':')));

interface MatchedLayer {
  path: string | RegExp;
  methods: string[];
}

/**
 * The router's path pattern of the route that answered (`/api/contacts/:id`), never the raw URL:
 * a bounded set, fit for a metric label. A request refused before routing is named by its path
 * when that is a route's path without parameters; otherwise it is `unmatched`.
 */
export function routePattern(ctx: Koa.Context): string {
  const matched = (ctx as unknown as { matched?: MatchedLayer[] }).matched;
  if (!matched?.length) return STATIC_PATHS.has(ctx.path) ? ctx.path : 'unmatched';
  let candidate: MatchedLayer | undefined;
  for (let i = matched.length - 1; i >= 0; i -= 1) {
    const layer = matched[i]!;
    if (layer.methods.length === 0) continue;
    if (layer.methods.includes(ctx.method)) return String(layer.path);
    candidate ??= layer;
  }
  return candidate ? String(candidate.path) : 'unmatched';
}
