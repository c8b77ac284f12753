import { randomUUID } from 'node:crypto';
import { configOrExit } from './run';
import { withDevSecrets } from './dev-secrets';
import { createKnex } from '../db/knex';
import { FieldCipher } from '../crypto/field-cipher';
import { createConnectionStore } from '../gmail/connections';
import { createAuditLog } from '../services/audit';
import { createUsersService } from '../services/users';
import { NotFoundError } from '../errors';

const USAGE = 'usage: npm run subscription -- <email> on|off   (from the build: node dist/src/main/subscription.js <email> on|off)';
const SWITCH: Record<string, boolean> = { on: true, off: false, true: true, false: false };

/**
 * Turns a user's subscription on or off, through the same service (and audit record) as
 * PUT /admin/users/:email/subscription. Exit codes: 0 done, 1 no such user, 64 bad usage.
 */
async function main(args: string[]): Promise<number> {
  const [email, setting, ...extra] = args;
  const active = setting === undefined ? undefined : SWITCH[setting.toLowerCase()];
  if (!email || !email.includes('@') || active === undefined || extra.length > 0) {
    process.stderr.write(`${USAGE}\n`);
    return 64; // EX_USAGE
  }
  const config = configOrExit(withDevSecrets(process.env));
  const db = createKnex({ databaseUrl: config.databaseUrl, poolMax: 2 });
  try {
    const cipher = new FieldCipher(config.encryptionKeys, config.encryptionCurrentKey);
    const users = createUsersService({ db, connections: createConnectionStore(db, cipher), audit: createAuditLog(db), newUsersSubscribed: false });
    // Audited like a request: an id that the operator's terminal shows and the trail keeps.
    const requestId = `cli-${randomUUID()}`;
    const user = await users.setSubscription(email, active, { actorType: 'admin', via: 'cli', requestId });
    process.stdout.write(`${user.email}: subscription ${user.is_subscription_active ? 'on' : 'off'} (${requestId})\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
    process.stderr.write(`no user with the email ${email}\n`);
    return 1;
  } finally {
    await db.destroy();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`subscription change failed: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
