import Router from '@koa/router';
import { addRoute } from '../route-spec';
import { PUSH_BODY_LIMIT, ROUTES } from '../route-table';
import { AppError } from '../../errors';
import { readPushBody } from '../middleware/push-body';
import { decodePushBody, UnreadablePushError } from '../../gmail/push-notification';
import { PushAuthError } from '../../gmail/push-auth';
import type { PushService } from '../../services/gmail-push';
import type { Metrics } from '../../observability/metrics';

export interface WebhookDeps {
  verifyPush(authorization: string | undefined): Promise<void>;
  push: PushService;
  metrics: Metrics;
}

/**
 * POST /webhooks/gmail, the Pub/Sub push endpoint. Authenticated by the push OIDC token; answers
 * 204 once the sync job is durably queued. An authentic but unreadable body is acknowledged (and
 * logged) so Pub/Sub does not redeliver it forever.
 */
export function webhookRoutes(deps: WebhookDeps): Router {
  const router = new Router();
  const counted = (outcome: string) => deps.metrics.pushes.inc({ source: 'push', outcome });

  addRoute(router, ROUTES.pushWebhook, async (ctx, next) => {
    try {
      await deps.verifyPush(ctx.get('authorization') || undefined);
    } catch (err) {
      if (err instanceof PushAuthError) {
        counted('unauthenticated');
        ctx.state.log.warn({ requestId: ctx.state.requestId, reason: err.message }, 'push refused');
        throw new AppError(401, 'push_unauthenticated', 'push token missing or not accepted');
      }
      throw err;
    }
    await next();
  }, async (ctx) => {
    let notification;
    try {
      notification = decodePushBody(await readPushBody(ctx, PUSH_BODY_LIMIT));
    } catch (err) {
      if (!(err instanceof UnreadablePushError)) throw err;
      counted('unreadable');
      ctx.state.log.warn({ requestId: ctx.state.requestId, reason: err.message }, 'push acknowledged without processing');
      ctx.status = 204;
      return;
    }
    const outcome = await deps.push.accept(notification, ctx.state.requestId);
    counted(outcome);
    // On the request's log line: one line per push, the busiest route of all.
    ctx.state.logFields = { outcome, historyId: notification.historyId, pubsubMessageId: notification.pubsubMessageId };
    ctx.status = 204;
  });

  return router;
}
