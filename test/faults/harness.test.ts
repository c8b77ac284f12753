import { expect } from 'chai';
import { assertExactlyOnce, SendChecker } from '../support/send-checker';
import { startTestSystem, type TestSystem } from '../support/system';
import { deliverRaw, sentItems } from '../support/mail-loop';
import { freshEmail, grant, rfc822, setFaults, statusOf } from '../sandbox/support';
import { rawMail } from './support/mails';

/**
 * The harness itself: the sandbox hooks fire where they say and are inert otherwise, the shuffle
 * fault is accepted, and the send checker sees every kind of mistake. Without these the fault
 * scenarios could pass for the wrong reason.
 */
describe('fault harness: sandbox hooks and the send checker', () => {
  let system: TestSystem;

  before(async () => {
    system = await startTestSystem({ worker: false });
  });
  after(async () => {
    await system.close();
  });

  const hooks = () => system.sandbox!.hooks;
  const reply = (to: string, inReplyTo: string) => rfc822({ To: to, Subject: 'Re: x', 'In-Reply-To': inReplyTo }, 'answer');

  it('send.received can drop a send: nothing is stored and the client gets no answer', async () => {
    const email = freshEmail('drop');
    const { gmail } = await grant(system, email);
    const seen = hooks().once('send.received', { when: (e) => e.mailbox === email, run: () => 'drop' as const });
    const res = await statusOf(gmail.users.messages.send({ userId: 'me', requestBody: { raw: reply('bob@example.org', '<a@b>') } }, { retry: false }));
    expect(res.status, 'no HTTP answer at all').to.equal(undefined);
    expect((await seen).mailbox).to.equal(email);
    expect(await sentItems(system.baseUrl, email)).to.have.length(0);
    // inert again once the hook ran
    await gmail.users.messages.send({ userId: 'me', requestBody: { raw: reply('bob@example.org', '<a@b>') } }, { retry: false });
    expect(await sentItems(system.baseUrl, email)).to.have.length(1);
  });

  it('send.stored runs with the mail already stored and holds the answer until it finished', async () => {
    const email = freshEmail('stored');
    const { gmail } = await grant(system, email);
    let sentWhileHeld = -1;
    let answered = false;
    const held = hooks().once('send.stored', {
      when: (e) => e.mailbox === email,
      run: async () => {
        sentWhileHeld = (await sentItems(system.baseUrl, email)).length;
        await new Promise((r) => setTimeout(r, 100));
        expect(answered).to.equal(false);
      },
    });
    const { data } = await gmail.users.messages.send({ userId: 'me', requestBody: { raw: reply('bob@example.org', '<a@b>') } }, { retry: false });
    answered = true;
    const event = await held;
    expect(sentWhileHeld).to.equal(1);
    expect(event.messageId).to.equal(data.id);
  });

  it('gmail.answered reports the method and status once the answer is written, 429s included', async () => {
    const email = freshEmail('answered');
    const { gmail } = await grant(system, email);
    await setFaults(system, email, { rate_limit_next: 1 });
    const limited = hooks().once('gmail.answered', { when: (e) => e.mailbox === email });
    await statusOf(gmail.users.history.list({ userId: 'me', startHistoryId: '1' }, { retry: false }));
    expect(await limited).to.include({ method: 'history.list', status: 429 });
    const ok = hooks().once('gmail.answered', { when: (e) => e.mailbox === email });
    const { data } = await gmail.users.getProfile({ userId: 'me' });
    const event = await ok;
    expect(event).to.include({ method: 'getProfile', status: 200 });
    expect((event.body as { historyId: string }).historyId).to.equal(data.historyId);
  });

  it('llm.answered carries the prompt and the completion', async () => {
    const seen = hooks().once('llm.answered');
    const res = await fetch(`${system.baseUrl}/sandbox/openai/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${system.container.config.llm.apiKey}` },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'marker-42' }] }),
    });
    const body = (await res.json()) as { choices: Array<{ message: { content: string } }> };
    const event = await seen;
    expect(event.messages[0]!.content).to.equal('marker-42');
    expect(event.content).to.equal(body.choices[0]!.message.content);
  });

  it('accepts shuffle_pushes with the other faults, lists it, and clears it with {}', async () => {
    const email = freshEmail('shuffle');
    expect(await setFaults(system, email, { duplicate_pushes: 3, shuffle_pushes: true })).to.include({ duplicate_pushes: 3, shuffle_pushes: true });
    expect(await setFaults(system, email, {})).to.include({ shuffle_pushes: false });
  });

  it('the checker reports a duplicate, a loss, an answer to an ineligible mail and a send answering nothing', async () => {
    const email = freshEmail('checked');
    const { gmail } = await grant(system, email);
    const checker = new SendChecker(system.baseUrl);
    const mails = [];
    for (const [i, eligible] of [true, true, false].entries()) {
      const d = await deliverRaw(system.baseUrl, email, rawMail({ from: 'anna@example.org', to: email, subject: `s${i}`, text: 't' }));
      checker.expect({ mailbox: email, messageId: d.message_id, eligible, label: `mail ${i}` });
      mails.push(d);
    }
    const send = (inReplyTo: string) => gmail.users.messages.send({ userId: 'me', requestBody: { raw: reply('anna@example.org', inReplyTo) } });
    await send(mails[0]!.message_id);
    await send(mails[0]!.message_id);
    await send(mails[2]!.message_id);
    await send('<never-delivered@example.org>');

    const report = await checker.report();
    expect(report.total).to.equal(4);
    expect(report.duplicates.map((d) => d.mail.label)).to.deep.equal(['mail 0']);
    expect(report.duplicates[0]!.sends).to.have.length(2);
    expect(report.lost.map((d) => d.mail.label)).to.deep.equal(['mail 1']);
    expect(report.unexpected.map((d) => d.mail.label)).to.deep.equal(['mail 2']);
    expect(report.stray.map((s) => s.inReplyTo)).to.deep.equal(['<never-delivered@example.org>']);
    expect(() => assertExactlyOnce(report, checker.eligibleCount)).to.throw(/lost \(1\):\n {2}mail 1/);
  });
});
