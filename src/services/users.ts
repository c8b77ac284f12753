import type { Knex } from 'knex';
import { GmailConnection, User } from '../db/models';
import { newId } from '../db/ids';
import { ConflictError, NotFoundError } from '../errors';
import { normalizeEmail } from '../crypto/blind-index';
import type { ConnectionStore } from '../gmail/connections';
import type { AuditContext, AuditLog } from './audit';

export interface GoogleIdentity {
  sub: string;
  email: string;
  name: string;
}

export interface GoogleTokens {
  accessToken: string;
  refreshToken: string | null;
  expiresAt: Date | null;
  scopes: string[];
}

export interface MeView {
  id: string;
  email: string;
  name: string;
  is_subscription_active: boolean;
  gmail: {
    status: 'ok' | 'needs_reconsent' | 'not_connected';
    watch_expires_at: string | null;
    /** active: Gmail publishes new mail; failing: the last watch or renewal failed (watch_error says why); expired; none. */
    watch_status: 'active' | 'failing' | 'expired' | 'none';
    watch_error: string | null;
  };
}

function watchStatus(connection: GmailConnection | undefined): MeView['gmail']['watch_status'] {
  if (connection?.watch_error) return 'failing';
  if (!connection?.watch_expires_at) return 'none';
  return connection.watch_expires_at.getTime() > Date.now() ? 'active' : 'expired';
}

export interface UsersDeps {
  db: Knex;
  connections: ConnectionStore;
  audit: AuditLog;
  /** Subscription of users created from now on (active while the sandbox is on, so the loop can be tried at once). */
  newUsersSubscribed: boolean;
}

export function createUsersService(deps: UsersDeps) {
  const { db, connections, audit } = deps;

  async function signInOnce(identity: GoogleIdentity, tokens: GoogleTokens, at: AuditContext): Promise<{ user: User; hasRefreshToken: boolean; created: boolean }> {
    const email = normalizeEmail(identity.email);
    return db.transaction(async (trx) => {
      const existing = await User.query(trx).where('google_sub', identity.sub).forUpdate().first();
      const clash = await User.query(trx).where('email', email).whereNot('google_sub', identity.sub).first();
      if (clash) throw new ConflictError('email_taken', 'this email belongs to another Google account here');
      let user: User;
      if (existing) {
        user = await User.query(trx).patchAndFetchById(existing.id, { email, name: identity.name, updated_at: new Date() });
      } else {
        user = await User.query(trx).insertAndFetch({
          id: newId(),
          email,
          google_sub: identity.sub,
          name: identity.name,
          is_subscription_active: deps.newUsersSubscribed,
        });
      }
      await connections.saveTokens(
        user.id,
        { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, expiresAt: tokens.expiresAt, scopes: tokens.scopes },
        trx,
      );
      const grant = await connections.readGrant(user.id, trx);
      await audit({ actorType: 'user', actorUserId: user.id, action: existing ? 'auth.sign_in' : 'auth.sign_up', entityType: 'user', entityId: user.id }, at, trx);
      // A refresh token that Google revoked (needs_reconsent) counts as none: consent is asked again.
      return { user, hasRefreshToken: Boolean(grant?.refreshToken) && grant?.status === 'ok', created: !existing };
    });
  }

  return {
    /**
     * Creates or updates the user identified by Google's subject id and stores the grant. Returns
     * whether a refresh token is now stored (without one, the caller asks Google for consent again).
     */
    async signIn(identity: GoogleIdentity, tokens: GoogleTokens, at: AuditContext): Promise<{ user: User; hasRefreshToken: boolean; created: boolean }> {
      // Two first sign-ins at once (a double click, two tabs) both find no user and both insert: the
      // one that loses on a unique constraint runs again and finds the other's row.
      for (let attempt = 1; ; attempt += 1) {
        try {
          return await signInOnce(identity, tokens, at);
        } catch (err) {
          const e = err as { code?: string; nativeError?: { code?: string } };
          const code = e.nativeError?.code ?? e.code;
          if (code !== '23505' || attempt >= 3) throw err;
        }
      }
    },

    async findByEmail(email: string): Promise<User | undefined> {
      return User.query(db).where('email', normalizeEmail(email)).first();
    },

    async hasRefreshToken(userId: string): Promise<boolean> {
      const row = await GmailConnection.query(db).findById(userId).select('refresh_token', 'status');
      return Boolean(row?.refresh_token) && row?.status === 'ok';
    },

    async me(userId: string): Promise<MeView> {
      const user = await User.query(db).findById(userId);
      if (!user) throw new NotFoundError('user');
      const connection = await GmailConnection.query(db).findById(userId);
      return {
        id: user.id,
        email: user.email,
        name: user.name,
        is_subscription_active: user.is_subscription_active,
        gmail: {
          status: !connection || !connection.refresh_token ? 'not_connected' : connection.status,
          watch_expires_at: connection?.watch_expires_at ? connection.watch_expires_at.toISOString() : null,
          watch_status: watchStatus(connection),
          watch_error: connection?.watch_error ?? null,
        },
      };
    },

    /** Turns a user's subscription on or off; `via` says which tool the operator used (audited). */
    async setSubscription(email: string, active: boolean, at: AuditContext & { actorUserId?: string | null; actorType: 'admin' | 'system'; via?: 'api' | 'cli' }): Promise<User> {
      return db.transaction(async (trx) => {
        const user = await User.query(trx).where('email', normalizeEmail(email)).forUpdate().first();
        if (!user) throw new NotFoundError('user');
        const updated = await User.query(trx).patchAndFetchById(user.id, { is_subscription_active: active, updated_at: new Date() });
        await audit(
          { actorType: at.actorType, actorUserId: at.actorUserId ?? null, subjectUserId: user.id, action: 'user.subscription', entityType: 'user', entityId: user.id, metadata: { is_subscription_active: active, via: at.via ?? null } },
          at,
          trx,
        );
        return updated;
      });
    },

    /** Records that the user ended a session (the session itself lives in Redis). */
    async signOut(userId: string, at: AuditContext): Promise<void> {
      await audit({ actorType: 'user', actorUserId: userId, action: 'auth.sign_out', entityType: 'user', entityId: userId }, at);
    },
  };
}

export type UsersService = ReturnType<typeof createUsersService>;
