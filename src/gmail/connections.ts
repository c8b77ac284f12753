import type { Knex } from 'knex';
import { GmailConnection, type GmailConnectionStatus } from '../db/models';
import { openNullableColumn, sealColumns } from '../db/encrypted-columns';
import type { FieldCipher } from '../crypto/field-cipher';

/** The stored Gmail grant of one user, decrypted. */
export interface GmailGrant {
  userId: string;
  refreshToken: string | null;
  accessToken: string | null;
  accessTokenExpiresAt: Date | null;
  scopes: string[];
  status: GmailConnectionStatus;
}

export interface TokenUpdate {
  accessToken?: string | null;
  refreshToken?: string | null;
  expiresAt?: Date | null;
  scopes?: string[];
}

/** Reads and writes the encrypted tokens of gmail_connections (row id for the cipher: user_id). */
export function createConnectionStore(db: Knex, cipher: FieldCipher) {
  return {
    async readGrant(userId: string, trx?: Knex.Transaction): Promise<GmailGrant | null> {
      const row = await GmailConnection.query(trx ?? db).findById(userId);
      if (!row) return null;
      return {
        userId,
        refreshToken: openNullableColumn(cipher, 'gmail_connections', 'refresh_token', userId, row.refresh_token),
        accessToken: openNullableColumn(cipher, 'gmail_connections', 'access_token', userId, row.access_token),
        accessTokenExpiresAt: row.access_token_expires_at,
        scopes: row.scopes,
        status: row.status,
      };
    },

    /** Inserts or updates the tokens; a refresh token is only replaced when a new one is given. */
    async saveTokens(userId: string, update: TokenUpdate, trx?: Knex.Transaction): Promise<void> {
      const sealed = sealColumns(cipher, 'gmail_connections', userId, {
        access_token: update.accessToken,
        refresh_token: update.refreshToken ?? undefined,
      });
      const row: Record<string, unknown> = { ...sealed, updated_at: new Date() };
      if (update.expiresAt !== undefined) row.access_token_expires_at = update.expiresAt;
      if (update.scopes !== undefined) row.scopes = update.scopes;
      if (update.refreshToken) row.status = 'ok';
      await (trx ?? db)('gmail_connections')
        .insert({ user_id: userId, ...row })
        .onConflict('user_id')
        .merge(Object.keys(row));
    },

    /**
     * Stores the result of a token refresh, unless another refresh (here or in another process)
     * stored a newer token meanwhile: the stored token is replaced only if it is still the one this
     * refresh set out to replace, or if it expires before the new one. A slower refresh never
     * replaces a newer token with an older one. Returns whether it was stored.
     */
    async saveRefreshedTokens(userId: string, update: { accessToken: string; expiresAt: Date | null; refreshToken?: string | null }, replacing: string | null): Promise<boolean> {
      return db.transaction(async (trx) => {
        const row = await GmailConnection.query(trx).findById(userId).forUpdate();
        if (!row || row.status !== 'ok') return false;
        const stored = openNullableColumn(cipher, 'gmail_connections', 'access_token', userId, row.access_token);
        const storedExpiry = row.access_token_expires_at;
        const replaceable = stored === null || stored === replacing || !storedExpiry || (update.expiresAt !== null && storedExpiry < update.expiresAt);
        if (!replaceable) return false;
        const sealed = sealColumns(cipher, 'gmail_connections', userId, { access_token: update.accessToken, refresh_token: update.refreshToken ?? undefined });
        await trx('gmail_connections').where({ user_id: userId }).update({ ...sealed, access_token_expires_at: update.expiresAt, updated_at: new Date() });
        return true;
      });
    },

    /**
     * Google refused the refresh token for good: the connection needs the user's consent again.
     * Only if the stored refresh token is still the one refused (a sign-in may have stored a new one
     * meanwhile). Returns whether the state changed.
     */
    async markNeedsReconsent(userId: string, refusedRefreshToken: string): Promise<boolean> {
      return db.transaction(async (trx) => {
        const row = await GmailConnection.query(trx).findById(userId).forUpdate();
        if (!row || row.status === 'needs_reconsent') return false;
        const stored = openNullableColumn(cipher, 'gmail_connections', 'refresh_token', userId, row.refresh_token);
        if (stored !== refusedRefreshToken) return false;
        await trx('gmail_connections').where({ user_id: userId }).update({ status: 'needs_reconsent', access_token: null, access_token_expires_at: null, updated_at: new Date() });
        return true;
      });
    },
  };
}

export type ConnectionStore = ReturnType<typeof createConnectionStore>;
