import { gmail, type gmail_v1 } from 'googleapis/build/src/apis/gmail';
import type { Config } from '../config';
import { createOAuthClient } from './oauth-client';
import type { AccessToken, AccessTokens } from './access-tokens';
import { httpStatusOf } from './errors';
import type { GmailCaller } from './retry';

export { GmailNotConnectedError } from './errors';

export const GMAIL_TIMEOUT_MS = 60_000;

export interface RawMessage {
  id: string;
  threadId: string;
  labelIds: string[];
  internalDate: Date;
  raw: Buffer;
}

/**
 * The Gmail calls the product makes for one user, each through the Gmail caller (quota counting,
 * retries, rate limits) with the user's access token (refreshed single-flight when it expires or
 * Gmail refuses it). Services see this and never googleapis itself.
 */
export interface GmailMailbox {
  getProfile(): Promise<{ historyId: string }>;
  listHistory(startHistoryId: string, pageToken?: string): Promise<gmail_v1.Schema$ListHistoryResponse>;
  listMessages(q: string, pageToken?: string, maxResults?: number): Promise<gmail_v1.Schema$ListMessagesResponse>;
  getRawMessage(id: string): Promise<RawMessage>;
  getThreadHeaders(threadId: string, headers: string[]): Promise<gmail_v1.Schema$Thread>;
  /** Not retried after an ambiguous failure: the caller must look for the mail before sending again. */
  send(raw: Buffer, threadId: string, opts?: { timeoutMs?: number }): Promise<{ id: string; threadId: string }>;
  watch(topicName: string, labelIds: string[]): Promise<{ historyId: string; expiration: Date }>;
  stop(): Promise<void>;
}

export interface GmailClients {
  forUser(userId: string): Promise<GmailMailbox>;
}

export interface GmailClientsDeps {
  config: Config;
  tokens: AccessTokens;
  call: GmailCaller;
}

export function createGmailClients(deps: GmailClientsDeps): GmailClients {
  const { config, tokens, call } = deps;
  return {
    async forUser(userId) {
      let current: AccessToken = await tokens.get(userId);
      // Gmail's 401 is handled below with the token that was refused; google-auth-library's own
      // retry would also fire on every 403 (rate limits included).
      // The token from `tokens` is good for a minute at least: the client must not refresh it by
      // itself in the middle of a job (its default eagerly refreshes 5 minutes before expiry).
      const auth = createOAuthClient(config, { forceRefreshOnFailure: false, eagerRefreshThresholdMillis: 30_000 });
      const apply = (t: AccessToken) => {
        current = t;
        auth.setCredentials({ access_token: t.token, expiry_date: t.expiresAt?.getTime() ?? null });
      };
      apply(current);
      auth.refreshHandler = async () => {
        apply(await tokens.get(userId));
        return { access_token: current.token, expiry_date: current.expiresAt?.getTime() ?? Date.now() + 3_000_000 };
      };
      // Retries are ours (src/gmail/retry.ts): googleapis would otherwise retry 429s blindly. The
      // timeout bounds a send well inside the reply's send lease.
      const api = gmail({ version: 'v1', auth, rootUrl: config.google.gmailRootUrl, retry: false, timeout: GMAIL_TIMEOUT_MS });

      const authorized = async <T>(request: () => Promise<T>): Promise<T> => {
        try {
          return await request();
        } catch (err) {
          if (httpStatusOf(err) !== 401) throw err;
          apply(await tokens.get(userId, current.token));
          return request();
        }
      };
      const run = <T>(method: Parameters<GmailCaller>[0], request: () => Promise<T>, idempotent = true) =>
        call(method, () => authorized(request), { idempotent });

      return {
        async getProfile() {
          const { data } = await run('getProfile', () => api.users.getProfile({ userId: 'me' }));
          return { historyId: String(data.historyId) };
        },
        async listHistory(startHistoryId, pageToken) {
          const { data } = await run('history.list', () =>
            api.users.history.list({ userId: 'me', startHistoryId, historyTypes: ['messageAdded'], maxResults: 500, pageToken }),
          );
          return data;
        },
        async listMessages(q, pageToken, maxResults = 100) {
          const { data } = await run('messages.list', () => api.users.messages.list({ userId: 'me', q, pageToken, maxResults }));
          return data;
        },
        async getRawMessage(id) {
          const { data } = await run('messages.get', () => api.users.messages.get({ userId: 'me', id, format: 'raw' }));
          const internal = Number(data.internalDate);
          return {
            id: data.id ?? id,
            threadId: data.threadId ?? id,
            labelIds: data.labelIds ?? [],
            internalDate: Number.isFinite(internal) && internal > 0 ? new Date(internal) : new Date(),
            raw: Buffer.from(data.raw ?? '', 'base64url'),
          };
        },
        async getThreadHeaders(threadId, headers) {
          const { data } = await run('threads.get', () => api.users.threads.get({ userId: 'me', id: threadId, format: 'metadata', metadataHeaders: headers }));
          return data;
        },
        async send(raw, threadId, opts = {}) {
          const timeout = Math.min(GMAIL_TIMEOUT_MS, opts.timeoutMs ?? GMAIL_TIMEOUT_MS);
          const { data } = await run('messages.send', () => api.users.messages.send({ userId: 'me', requestBody: { raw: raw.toString('base64url'), threadId } }, { timeout }), false);
          if (!data.id) throw new Error('Gmail accepted the send without a message id');
          return { id: data.id, threadId: data.threadId ?? threadId };
        },
        async watch(topicName, labelIds) {
          const { data } = await run('watch', () => api.users.watch({ userId: 'me', requestBody: { topicName, labelIds, labelFilterBehavior: 'include' } }));
          return { historyId: String(data.historyId), expiration: new Date(Number(data.expiration)) };
        },
        async stop() {
          await run('stop', () => api.users.stop({ userId: 'me' }));
        },
      };
    },
  };
}
