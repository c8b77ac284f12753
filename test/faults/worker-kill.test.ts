import { randomBytes } from 'node:crypto';
import type { HookEvents } from '../../src/sandbox/hooks';
import { SendChecker } from '../support/send-checker';
import { rawMail } from './support/mails';
import { installReplySentSignal, onceReplyRecorded, removeReplySentSignal } from './support/reply-recorded';
import { FaultRig, FULL, type RigContact, type RigUser } from './support/rig';

/**
 * The worker process is killed with SIGKILL at each step of answering a mail, then started again
 * (as a supervisor would). Whatever the step, the mail is answered exactly once: no send lost, none
 * doubled. FULL_FAULTS=1 repeats each step with more mails in flight at the moment of the kill.
 */

interface Case {
  user: RigUser;
  contact: RigContact;
  /** A word that only the target mail carries (the LLM prompt quotes it). */
  token: string;
}

/** Sets the kill up before the mail arrives; `fired` resolves once the worker is dead. */
type Arm = (rig: FaultRig, c: Case) => Promise<{ fired: Promise<unknown> }>;

function listsAnAddedMessage(body: unknown): boolean {
  const history = (body as { history?: Array<{ messagesAdded?: unknown[] }> } | undefined)?.history ?? [];
  return history.some((h) => (h.messagesAdded?.length ?? 0) > 0);
}

const kill = (rig: FaultRig) => () => rig.worker.kill();

const STEPS: Array<{ step: string; arm: Arm }> = [
  {
    step: 'after the history fetch',
    arm: async (rig, c) => ({
      fired: rig.hooks.once('gmail.answered', {
        when: (e: HookEvents['gmail.answered']) => e.mailbox === c.user.email && e.method === 'history.list' && e.status === 200 && listsAnAddedMessage(e.body),
        run: kill(rig),
      }),
    }),
  },
  {
    step: 'after the LLM answer',
    arm: async (rig, c) => ({
      fired: rig.hooks.once('llm.answered', {
        when: (e) => e.messages.some((m) => m.content.includes(c.token)),
        run: kill(rig),
      }),
    }),
  },
  {
    step: 'just before the send (the request never reaches Gmail)',
    arm: async (rig, c) => ({
      fired: rig.hooks.once('send.received', {
        when: (e) => e.mailbox === c.user.email,
        run: async () => {
          await rig.worker.kill();
          return 'drop' as const;
        },
      }),
    }),
  },
  {
    step: 'after the send, before it is recorded (Gmail has it, the answer is lost)',
    arm: async (rig, c) => ({
      fired: rig.hooks.once('send.stored', {
        when: (e) => e.mailbox === c.user.email,
        run: kill(rig),
      }),
    }),
  },
  {
    step: 'after it is recorded as sent',
    arm: async (rig, c) => onceReplyRecorded(rig.databaseUrl, c.user.id, kill(rig)),
  },
];

describe('fault: the worker SIGKILLed at each step of a reply', function () {
  this.timeout(FULL ? 600_000 : 120_000);
  const rounds = FULL ? 3 : 1;
  const alongside = FULL ? 2 : 0; // other mails of the same user in flight at the kill
  let rig: FaultRig;

  before(async () => {
    rig = await FaultRig.start({ workers: 1 });
    await installReplySentSignal(rig.db);
  });
  after(async () => {
    await removeReplySentSignal(rig.db).catch(() => undefined);
    await rig?.close();
  });

  for (const { step, arm } of STEPS) {
    it(`killed ${step}: after the restart, 0 lost and 0 duplicate sends`, async () => {
      for (let round = 0; round < rounds; round += 1) {
        const user = await rig.newUser('killed');
        const contact = await rig.newContact(user, true);
        const c: Case = { user, contact, token: `token${randomBytes(6).toString('hex')}` };
        const checker = new SendChecker(rig.baseUrl);
        const killed = await arm(rig, c);
        await rig.deliver(checker, user, rawMail({ from: contact.email, to: user.email, subject: `Order ${c.token}`, text: `Please confirm order ${c.token}.` }), true, `the mail killed ${step}`);
        for (let i = 0; i < alongside; i += 1) {
          await rig.deliver(checker, user, rawMail({ from: contact.email, to: user.email, subject: `Other ${i}`, text: `Another question, number ${i}.` }), true, `mail ${i} in flight alongside`);
        }
        await killed.fired;
        await rig.worker.start();
        await rig.verify(checker, [user]);
      }
    });
  }
});
