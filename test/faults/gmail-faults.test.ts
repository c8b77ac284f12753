import { expect } from 'chai';
import { signIn, waitFor } from '../support/http-client';
import { SendChecker } from '../support/send-checker';
import { rawMail } from './support/mails';
import { FaultRig, FULL, type RigContact, type RigUser } from './support/rig';

/**
 * Gmail and Pub/Sub misbehaving the ways they do, through the sandbox's faults: expired history,
 * dropped pushes, 429 bursts, a revoked grant (invalid_grant), a send that fails after it took
 * effect. In each, every eligible mail is answered exactly once and nothing else is answered.
 */
describe('fault: Gmail and Pub/Sub misbehaving', function () {
  this.timeout(FULL ? 600_000 : 120_000);
  let rig: FaultRig;

  before(async () => {
    rig = await FaultRig.start({ workers: 1 });
  });
  after(async () => {
    await rig?.close();
  });

  interface Mailbox {
    user: RigUser;
    contact: RigContact;
    checker: SendChecker;
  }

  async function mailbox(local: string): Promise<Mailbox> {
    const user = await rig.newUser(local);
    return { user, contact: await rig.newContact(user, true), checker: new SendChecker(rig.baseUrl) };
  }

  let counter = 0;
  async function question(m: Mailbox, label: string): Promise<void> {
    counter += 1;
    const raw = rawMail({ from: m.contact.email, to: m.user.email, subject: `Question ${counter}`, text: `What about item ${counter}?` });
    await rig.deliver(m.checker, m.user, raw, true, label);
  }

  async function notForUs(m: Mailbox, label: string): Promise<void> {
    const stranger = `stranger.${Date.now().toString(36)}.${counter}@example.net`;
    await rig.deliver(m.checker, m.user, rawMail({ from: stranger, to: m.user.email, subject: 'Offer', text: 'Buy now.' }), false, label);
  }

  it('expired history (history.list 404): a bounded resync answers what is new and nothing twice', async () => {
    for (let round = 0; round < (FULL ? 3 : 1); round += 1) {
      const m = await mailbox('expired');
      await question(m, 'answered before the history expired');
      await rig.waitUntilAnswered(m.checker);
      const expired = rig.countGmailAnswers((e) => e.mailbox === m.user.email && e.method === 'history.list' && e.status === 404);
      await rig.setFaults(m.user, { expire_history: true });
      for (let i = 0; i < (FULL ? 6 : 2); i += 1) await question(m, `mail ${i} after the history expired`);
      await notForUs(m, 'stranger after the history expired');
      await rig.verify(m.checker, [m.user]);
      expired.stop();
      expect(expired.count, 'history.list answers 404').to.be.greaterThan(0);
    }
  });

  it('dropped pushes: the periodic reconcile answers mail that no push announced', async () => {
    const m = await mailbox('dropped');
    await rig.setFaults(m.user, { drop_pushes: true });
    for (let i = 0; i < (FULL ? 10 : 3); i += 1) await question(m, `mail ${i} without a push`);
    await notForUs(m, 'stranger without a push');
    await rig.verify(m.checker, [m.user]);
  });

  it('429 bursts, on the sync and on the send: answered once each after backing off', async () => {
    const burst = FULL ? 12 : 4;
    const m = await mailbox('limited');
    const limited = rig.countGmailAnswers((e) => e.mailbox === m.user.email && e.status === 429);
    const limitedSends = rig.countGmailAnswers((e) => e.mailbox === m.user.email && e.status === 429 && e.method === 'messages.send');
    await rig.setFaults(m.user, { rate_limit_next: burst });
    await question(m, 'mail arriving in a 429 burst');
    await rig.waitUntilAnswered(m.checker, 60_000);
    // Another burst that starts right after the LLM answered: it hits messages.send.
    const armed = rig.hooks.once('llm.answered', { run: () => rig.setFaults(m.user, { rate_limit_next: burst }) });
    await question(m, 'mail whose send meets a 429 burst');
    await armed;
    await rig.verify(m.checker, [m.user]);
    limited.stop();
    limitedSends.stop();
    expect(limited.count, 'answers 429').to.equal(2 * burst);
    expect(limitedSends.count, 'messages.send answered 429').to.be.greaterThan(0);
  });

  it('invalid_grant: the revoked user waits for re-consent and is answered once after it; other users go on', async () => {
    const revoked = await mailbox('revoked');
    const other = await mailbox('bystander');
    await question(revoked, 'answered before the revocation');
    await question(other, 'bystander before the revocation');
    await rig.waitUntilAnswered(revoked.checker);
    await rig.waitUntilAnswered(other.checker);

    await rig.setFaults(revoked.user, { revoke_grant: true });
    await question(revoked, 'arrived while the grant was revoked');
    await question(other, 'bystander while the other grant was revoked');
    await rig.waitUntilAnswered(other.checker);
    await waitFor('the revoked connection to need re-consent', async () => {
      const me = await revoked.user.client.get<{ gmail: { status: string } }>('/api/me');
      return me.body.gmail?.status === 'needs_reconsent';
    }, 30_000);
    expect((await revoked.checker.report()).lost.map((l) => l.mail.label)).to.deep.equal(['arrived while the grant was revoked']);

    await signIn(rig.baseUrl, revoked.user.email); // the user grants access again
    await rig.verify(revoked.checker, [revoked.user]);
    await rig.verify(other.checker, [other.user]);
  });

  for (const when of FULL ? (['after', 'before'] as const) : (['after'] as const)) {
    it(`a send that fails ${when} it took effect (500): ${when === 'after' ? 'found in Gmail, never sent again' : 'sent again, once'}`, async () => {
      const m = await mailbox(`send-${when}`);
      const failed = rig.countGmailAnswers((e) => e.mailbox === m.user.email && e.method === 'messages.send' && e.status === 500);
      await rig.setFaults(m.user, { fail_next_send: when });
      await question(m, `mail whose send fails ${when}`);
      await rig.verify(m.checker, [m.user]);
      failed.stop();
      expect(failed.count, 'messages.send answered 500').to.equal(1);
      for (let i = 0; i < (FULL ? 3 : 0); i += 1) {
        await rig.setFaults(m.user, { fail_next_send: when });
        await question(m, `follow-up ${i} whose send fails ${when}`);
        await rig.verify(m.checker, [m.user]);
      }
    });
  }
});
