import { randomInt } from 'node:crypto';
import { expect } from 'chai';
import { uniqueEmail } from '../support/http-client';
import { SendChecker } from '../support/send-checker';
import { AUTO_REPLY_HEADERS, BULK_HEADERS, rawMail } from './support/mails';
import { FaultRig, FULL, type RigContact, type RigUser } from './support/rig';
import { pushNotification } from './support/signed-push';

/**
 * 20 users × 10 mails each, every Gmail push delivered 3 times in shuffled order (so that many
 * arrive after later changes were processed, i.e. stale), plus stale pushes sent on purpose and
 * pushes for a mailbox nobody owns, with two worker processes: exactly one reply per eligible
 * mail, none for the others, and no Gmail cursor ever moves back.
 */

const USERS = 20;
const MAILS_PER_USER = 10;
const ROUNDS = 5; // the 10 mails of a user arrive over 5 rounds, 2 at a time

interface Mailbox {
  user: RigUser;
  active: [RigContact, RigContact];
  inactive: RigContact;
}

interface PlannedMail {
  raw: Buffer;
  eligible: boolean;
  label: string;
}

/** Six mails that must be answered and four that must not (automatic, bulk, inactive contact, stranger), shuffled. */
function plan(m: Mailbox, userIndex: number): PlannedMail[] {
  const to = m.user.email;
  const mails: PlannedMail[] = [];
  for (let i = 0; i < 6; i += 1) {
    const from = m.active[i % 2]!.email;
    mails.push({ raw: rawMail({ from, to, subject: `Question ${i} of user ${userIndex}`, text: `Could you tell me about item ${i}?` }), eligible: true, label: `user ${userIndex} question ${i}` });
  }
  mails.push({ raw: rawMail({ from: m.active[0].email, to, subject: 'Out of office', text: 'I am away until Monday.', headers: AUTO_REPLY_HEADERS }), eligible: false, label: `user ${userIndex} auto-reply` });
  mails.push({ raw: rawMail({ from: m.active[1].email, to, subject: 'Newsletter', text: 'This month in news.', headers: BULK_HEADERS }), eligible: false, label: `user ${userIndex} bulk mail` });
  mails.push({ raw: rawMail({ from: m.inactive.email, to, subject: 'Hello', text: 'Are you there?' }), eligible: false, label: `user ${userIndex} inactive contact` });
  mails.push({ raw: rawMail({ from: uniqueEmail('stranger'), to, subject: 'Offer', text: 'A great offer.' }), eligible: false, label: `user ${userIndex} stranger` });
  expect(mails).to.have.length(MAILS_PER_USER);
  return shuffled(mails);
}

function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = randomInt(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

async function inBatches<T>(items: T[], size: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  for (let start = 0; start < items.length; start += size) {
    await Promise.all(items.slice(start, start + size).map((item, i) => fn(item, start + i)));
  }
}

describe('fault: duplicated, shuffled and stale pushes for 20 users × 10 mails', function () {
  this.timeout(FULL ? 900_000 : 180_000);
  let rig: FaultRig;

  before(async () => {
    rig = await FaultRig.start({
      workers: 2,
      overrides: { WORKER_CONCURRENCY: '5', REPLY_CAP_PER_CONTACT_PER_DAY: '10000', REPLY_CAP_PER_THREAD_PER_HOUR: '10000' },
    });
  });
  after(async () => {
    await rig?.close();
  });

  for (let pass = 1; pass <= (FULL ? 3 : 1); pass += 1) {
    it(`answers each eligible mail exactly once and nothing else${FULL ? ` (pass ${pass})` : ''}`, async () => {
      const checker = new SendChecker(rig.baseUrl);
      const mailboxes: Mailbox[] = [];
      await inBatches(Array.from({ length: USERS }), 5, async () => {
        const user = await rig.newUser('load');
        const mailbox: Mailbox = {
          user,
          active: [await rig.newContact(user, true), await rig.newContact(user, true)],
          inactive: await rig.newContact(user, false),
        };
        await rig.setFaults(user, { duplicate_pushes: 3, shuffle_pushes: true });
        mailboxes.push(mailbox);
      });
      const plans = mailboxes.map((m, i) => plan(m, i));

      const perRound = MAILS_PER_USER / ROUNDS;
      for (let round = 0; round < ROUNDS; round += 1) {
        await inBatches(mailboxes, 10, async (m, i) => {
          for (const mail of plans[i]!.slice(round * perRound, (round + 1) * perRound)) {
            await rig.deliver(checker, m.user, mail.raw, mail.eligible, mail.label);
          }
        });
        // Stale on purpose: a historyId far below every cursor, for every other mailbox.
        const stale = await Promise.all(mailboxes.filter((_, i) => (i + round) % 2 === 0).map((m) => pushNotification(rig.system, m.user.email, '1')));
        expect(stale.every((s) => s >= 200 && s < 300), `stale pushes answered ${stale.join(',')}`).to.equal(true);
      }
      // A push for a mailbox that nobody here owns is acknowledged and does nothing.
      const unknown = await pushNotification(rig.system, uniqueEmail('nobody'), '12345');
      expect(unknown).to.be.within(200, 299);

      expect(checker.eligibleCount).to.equal(USERS * 6);
      await rig.verify(checker, mailboxes.map((m) => m.user), 150_000);
    });
  }
});
