import type { Knex } from 'knex';
import { Contact } from '../db/models';
import { newId } from '../db/ids';
import { openColumn, sealColumns } from '../db/encrypted-columns';
import type { FieldCipher } from '../crypto/field-cipher';
import type { BlindIndex } from '../crypto/blind-index';
import { ConflictError, NotFoundError } from '../errors';
import { auditRow, type AuditContext, type AuditLog } from './audit';
import { decodeCursor, isUuidString, toPage, type Page } from './pagination';
import type { CreateContactInput, ListContactsInput, UpdateContactInput } from '../schemas/contacts';

export interface ContactView {
  id: string;
  email: string;
  name: string;
  description_ai: string;
  is_active: boolean;
  deleted_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface ContactsDeps {
  db: Knex;
  cipher: FieldCipher;
  blindIndex: BlindIndex;
  audit: AuditLog;
}

const UNIQUE_LIVE_EMAIL = 'contacts_one_live_per_email';

function isUniqueViolation(err: unknown, constraint: string): boolean {
  const e = err as { code?: string; constraint?: string; nativeError?: { code?: string; constraint?: string } };
  const code = e.code ?? e.nativeError?.code;
  const name = e.constraint ?? e.nativeError?.constraint;
  return code === '23505' && name === constraint;
}

/** A contacts row as stored (what the model holds, without Objection's model instance around it). */
export type ContactRow = Pick<Contact, 'id' | 'user_id' | 'email' | 'email_hash' | 'name' | 'description_ai' | 'is_active' | 'deleted_at' | 'created_at' | 'updated_at'>;

export function contactView(cipher: FieldCipher, row: ContactRow): ContactView {
  const open = (column: 'email' | 'name' | 'description_ai') => openColumn(cipher, 'contacts', column, row.id, row[column]);
  return {
    id: row.id,
    email: open('email'),
    name: open('name'),
    description_ai: open('description_ai'),
    is_active: row.is_active,
    deleted_at: row.deleted_at ? row.deleted_at.toISOString() : null,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

export function createContactsService(deps: ContactsDeps) {
  const { db, cipher, blindIndex, audit } = deps;

  async function findOwned(trx: Knex | Knex.Transaction, userId: string, id: string, forUpdate = false): Promise<Contact> {
    const query = Contact.query(trx).where({ id, user_id: userId }).first();
    const row = await (forUpdate ? query.forUpdate() : query);
    if (!row) throw new NotFoundError('contact');
    return row;
  }

  return {
    async create(userId: string, input: CreateContactInput, at: AuditContext): Promise<ContactView> {
      const id = newId();
      const email = input.email.trim();
      try {
        const isActive = input.is_active ?? false;
        const contactRow = {
          id,
          user_id: userId,
          ...sealColumns(cipher, 'contacts', id, { email, name: input.name, description_ai: input.description_ai ?? '' }),
          email_hash: blindIndex.ofEmail(email),
          is_active: isActive,
        };
        const event = { actorType: 'user', actorUserId: userId, action: 'contact.create', entityType: 'contact', entityId: id, metadata: { is_active: isActive } } as const;
        // One statement, atomic by itself: the contact and its audit record are written together (or
        // neither, on a conflict), and the row as stored comes back.
        const [stored] = (await db
          .with('inserted', db('contacts').insert(contactRow).returning('*'))
          .with('audited', db('audit_log').insert(auditRow(event, at)))
          .select('*')
          .from('inserted')) as Array<Record<string, unknown>>;
        const row = Contact.fromDatabaseJson(stored!);
        return contactView(cipher, row);
      } catch (err) {
        if (isUniqueViolation(err, UNIQUE_LIVE_EMAIL)) throw new ConflictError('contact_exists', 'a live contact with this email already exists');
        throw err;
      }
    },

    async list(userId: string, q: ListContactsInput): Promise<Page<ContactView>> {
      // The two reads of the API's hot path use knex without Objection: building model instances
      // cost more CPU than the select itself (BENCHMARKS.md); the rows are the same.
      const query = db<ContactRow>('contacts').where('user_id', userId).orderBy('id', 'desc').limit(q.limit + 1);
      if (!q.include_deleted) query.whereNull('deleted_at');
      if (q.is_active !== undefined) query.where('is_active', q.is_active);
      if (q.cursor) {
        const [lastId] = decodeCursor('contacts', q.cursor, [isUuidString]);
        query.where('id', '<', lastId as string);
      }
      const rows = await query;
      return toPage('contacts', rows, q.limit, (r) => [r.id], (r) => contactView(cipher, r));
    },

    async get(userId: string, id: string): Promise<ContactView> {
      const row = await db<ContactRow>('contacts').where({ id, user_id: userId }).first();
      if (!row) throw new NotFoundError('contact');
      return contactView(cipher, row);
    },

    async update(userId: string, id: string, patch: UpdateContactInput, at: AuditContext): Promise<ContactView> {
      try {
        const row = await db.transaction(async (trx) => {
          const current = await findOwned(trx, userId, id, true);
          // The stored id, not the one typed in the URL: it is bound into every ciphertext of the row.
          const rowId = current.id;
          if (current.deleted_at) throw new ConflictError('contact_deleted', 'a deleted contact cannot be changed');
          const email = patch.email?.trim();
          const changes: Partial<Contact> = {
            ...(sealColumns(cipher, 'contacts', rowId, { email, name: patch.name, description_ai: patch.description_ai }) as Partial<Contact>),
            updated_at: new Date(),
          };
          if (email !== undefined) changes.email_hash = blindIndex.ofEmail(email);
          if (patch.is_active !== undefined) changes.is_active = patch.is_active;
          const updated = (await Contact.query(trx).patch(changes).findById(rowId).returning('*')) as unknown as Contact;
          if (patch.is_active === false && current.is_active) {
            await trx('replies').where({ contact_id: rowId, status: 'pending' }).update({ status: 'cancelled', failure_reason: 'contact_deactivated', updated_at: new Date() });
          }
          await audit(
            { actorType: 'user', actorUserId: userId, action: 'contact.update', entityType: 'contact', entityId: rowId, metadata: { fields: Object.keys(patch).sort().join(','), is_active: updated.is_active } },
            at,
            trx,
          );
          return updated;
        });
        return contactView(cipher, row);
      } catch (err) {
        if (isUniqueViolation(err, UNIQUE_LIVE_EMAIL)) throw new ConflictError('contact_exists', 'a live contact with this email already exists');
        throw err;
      }
    },

    async softDelete(userId: string, id: string, at: AuditContext): Promise<void> {
      await db.transaction(async (trx) => {
        const current = await findOwned(trx, userId, id, true);
        // Deleting again (a retried request) answers as the first time did and changes nothing.
        if (current.deleted_at) return;
        const rowId = current.id;
        const now = new Date();
        await Contact.query(trx).patch({ deleted_at: now, is_active: false, updated_at: now }).where({ id: rowId });
        await trx('active_conversations').where({ contact_id: rowId, user_id: userId }).delete();
        await trx('replies').where({ contact_id: rowId, status: 'pending' }).update({ status: 'cancelled', failure_reason: 'contact_deleted', updated_at: now });
        await audit({ actorType: 'user', actorUserId: userId, action: 'contact.delete', entityType: 'contact', entityId: rowId }, at, trx);
      });
    },
  };
}

export type ContactsService = ReturnType<typeof createContactsService>;
