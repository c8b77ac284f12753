import type Koa from 'koa';

interface MatchedLayer {
  path: string | RegExp;
  methods: string[];
}

/**
 * The router's path pattern of the route that answered (`/api/contacts/:id`), never the raw URL:
 * a bounded set, fit for a metric label. Requests that no route took are `unmatched`.
 */
export function routePattern(ctx: Koa.Context): string {
  const matched = (ctx as unknown as { matched?: MatchedLayer[] }).matched;
  if (!matched?.length) return 'unmatched';
  let candidate: MatchedLayer | undefined;
  for (let i = matched.length - 1; i >= 0; i -= 1) {
    const layer = matched[i]!;
    if (layer.methods.length === 0) continue;
    if (layer.methods.includes(ctx.method)) return String(layer.path);
    candidate ??= layer;
  }
  return candidate ? String(candidate.path) : 'unmatched';
}
