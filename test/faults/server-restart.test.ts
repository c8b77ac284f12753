import { SendChecker } from '../support/send-checker';
import { rawMail } from './support/mails';
import { FaultRig, FULL, type RigContact, type RigUser } from './support/rig';

/**
 * Redis, then PostgreSQL, restarted in the middle of a run: while a reply is stored in Gmail and
 * its answer not yet back, the server goes down, more mail arrives, the server comes back. Redis
 * comes back empty (no persistence: every queued job, lock and schedule is gone); PostgreSQL is
 * stopped like a crash. Nobody intervenes: web and worker must recover by themselves, with 0
 * lost and 0 duplicate sends.
 */

const USERS = FULL ? 5 : 3;
const DOWN_MS = 1500;

interface Mailbox {
  user: RigUser;
  contact: RigContact;
}

async function mailboxes(rig: FaultRig): Promise<Mailbox[]> {
  const out: Mailbox[] = [];
  for (let i = 0; i < USERS; i += 1) {
    const user = await rig.newUser('restart');
    out.push({ user, contact: await rig.newContact(user, true) });
  }
  return out;
}

async function deliverBatch(rig: FaultRig, checker: SendChecker, boxes: Mailbox[], batch: string, perUser: number): Promise<void> {
  await Promise.all(
    boxes.map(async (m, u) => {
      for (let i = 0; i < perUser; i += 1) {
        const raw = rawMail({ from: m.contact.email, to: m.user.email, subject: `${batch} ${i}`, text: `Question ${i} of ${batch}, user ${u}.` });
        await rig.deliver(checker, m.user, raw, true, `user ${u} ${batch} mail ${i}`);
      }
      const stranger = rawMail({ from: `someone.${batch.replace(/\W/g, '')}.${u}@example.net`, to: m.user.email, subject: 'Offer', text: 'Buy now.' });
      await rig.deliver(checker, m.user, stranger, false, `user ${u} ${batch} stranger`);
    }),
  );
}

/**
 * Runs the restart while the first reply sent is stored in Gmail and not yet answered, with a
 * batch of mail arriving while the server is down, and another after it is back.
 */
async function runAcrossRestart(rig: FaultRig, restart: { stop(): Promise<void>; start(): Promise<void> }): Promise<void> {
  const boxes = await mailboxes(rig);
  const checker = new SendChecker(rig.baseUrl);
  const restarted = rig.hooks.once('send.stored', {
    run: async () => {
      await restart.stop();
      await deliverBatch(rig, checker, boxes, 'while down', FULL ? 3 : 1);
      await new Promise((r) => setTimeout(r, DOWN_MS));
      await restart.start();
    },
  });
  await deliverBatch(rig, checker, boxes, 'before', FULL ? 4 : 2);
  await restarted;
  await deliverBatch(rig, checker, boxes, 'after', 1);
  await rig.verify(checker, boxes.map((b) => b.user), 180_000);
}

describe('fault: Redis and PostgreSQL restarted mid-run', function () {
  this.timeout(FULL ? 900_000 : 300_000);

  describe('Redis', () => {
    let rig: FaultRig;
    before(async () => {
      rig = await FaultRig.start({ workers: FULL ? 2 : 1, privateRedis: true });
    });
    after(async () => {
      await rig?.close();
    });

    it('restarted empty mid-run: 0 lost, 0 duplicates, web and worker recover by themselves', async () => {
      const redis = rig.redis!;
      await runAcrossRestart(rig, { stop: () => redis.stop(), start: () => redis.start() });
    });
  });

  describe('PostgreSQL', () => {
    let rig: FaultRig;
    before(async () => {
      rig = await FaultRig.start({ workers: FULL ? 2 : 1, privatePostgres: true });
    });
    after(async () => {
      await rig?.close();
    });

    it('crashed and restarted mid-run: 0 lost, 0 duplicates, web and worker recover by themselves', async () => {
      const pg = rig.postgres!;
      await runAcrossRestart(rig, { stop: () => pg.stop('immediate'), start: () => pg.start() });
    });
  });
});
