import type { Knex } from 'knex';
import { loadConfig } from '../src/config';
import { withDevSecrets } from '../src/main/dev-secrets';
import { FieldCipher } from '../src/crypto/field-cipher';
import { BlindIndex } from '../src/crypto/blind-index';
import { sealColumns } from '../src/db/encrypted-columns';
import { newId } from '../src/db/ids';
import { numericSubjectId } from '../src/sandbox/ids';

export const DEMO_USER_EMAIL = 'demo@example.com';

const DEMO_CONTACTS = [
  { email: 'anna.petrova@example.org', name: 'Anna Petrova', description_ai: 'Anna is a supplier. Be polite and brief; confirm delivery dates, never agree to price changes.', is_active: true },
  { email: 'bob@example.net', name: 'Bob Stone', description_ai: 'Old friend from university. Friendly, informal tone; suggest a call when plans are discussed.', is_active: true },
  { email: 'carol@example.com', name: 'Carol White', description_ai: 'Recruiter. Thank her and say I am not looking for a new job right now.', is_active: false },
];

/**
 * A demo user with three contacts (two active). Idempotent: re-running changes nothing. It has no
 * Gmail grant; sign in as demo@example.com through the sandbox to connect it (its Google subject id
 * is the one the sandbox gives that address, so the sign-in finds this user).
 */
export async function seed(knex: Knex): Promise<void> {
  const config = loadConfig(withDevSecrets(process.env));
  const cipher = new FieldCipher(config.encryptionKeys, config.encryptionCurrentKey);
  const blindIndex = new BlindIndex(config.blindIndexKey);

  const existing = await knex('users').where({ email: DEMO_USER_EMAIL }).first('id');
  const userId: string = existing?.id ?? newId();
  if (!existing) {
    await knex('users').insert({ id: userId, email: DEMO_USER_EMAIL, google_sub: numericSubjectId(DEMO_USER_EMAIL), name: 'Demo User', is_subscription_active: true });
  }
  for (const contact of DEMO_CONTACTS) {
    const hash = blindIndex.ofEmail(contact.email);
    const live = await knex('contacts').where({ user_id: userId, email_hash: hash }).whereNull('deleted_at').first('id');
    if (live) continue;
    const id = newId();
    await knex('contacts').insert({
      id,
      user_id: userId,
      ...sealColumns(cipher, 'contacts', id, { email: contact.email, name: contact.name, description_ai: contact.description_ai }),
      email_hash: hash,
      is_active: contact.is_active,
    });
  }
}
