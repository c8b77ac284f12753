import type { Knex } from 'knex';
import { GmailConnection } from '../db/models';
import { openNullableColumn, sealColumns } from '../db/encrypted-columns';
import type { FieldCipher } from '../crypto/field-cipher';

/** The stored Gmail grant of one user, decrypted. */
export interface GmailGrant {
  userId: string;
  refreshToken: string | null;
  accessToken: string | null;
  accessTokenExpiresAt: Date | null;
  scopes: string[];
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
  };
}

export type ConnectionStore = ReturnType<typeof createConnectionStore>;
