import { expect } from 'chai';
import type { gmail_v1 } from 'googleapis/build/src/apis/gmail';
import MailComposer from 'nodemailer/lib/mail-composer';
import { startTestSystem, type TestSystem } from '../support/system';
import { deliver, freshEmail, gmailClient, grant, header, oauthClient, rfc822, sentItems, setFaults, statusOf, type Grant } from './support';

/**
 * The sandbox Gmail REST API through googleapis' Gmail client, built as src/gmail/client.ts builds
 * it (rootUrl = the app's origin, Google's own paths).
 */
describe('sandbox Gmail API (googleapis)', () => {
  let system: TestSystem;

  before(async () => {
    system = await startTestSystem({ worker: false });
  });
  after(async () => {
    await system.close();
  });

  const topic = () => system.container.config.google.pubsubTopic;

  async function mailbox(local = 'gm'): Promise<Grant & { email: string }> {
    const email = freshEmail(local);
    return { email, ...(await grant(system, email)) };
  }

  describe('profile, watch and stop', () => {
    it('getProfile answers the address, counts and a numeric historyId', async () => {
      const { email, gmail } = await mailbox();
      const { data } = await gmail.users.getProfile({ userId: 'me' });
      expect(data.emailAddress).to.equal(email);
      expect(data.messagesTotal).to.equal(0);
      expect(data.threadsTotal).to.equal(0);
      expect(data.historyId).to.be.a('string').and.match(/^\d+$/);

      await deliver(system, email, { from: 'Bob <bob@example.org>', subject: 'count me', text: 'hi' });
      const after = (await gmail.users.getProfile({ userId: email })).data;
      expect(after.messagesTotal).to.equal(1);
      expect(after.threadsTotal).to.equal(1);
      expect(BigInt(after.historyId!) > BigInt(data.historyId!)).to.equal(true);
    });

    it('watch refuses a topic other than the configured one with 400', async () => {
      const { gmail } = await mailbox();
      const wrong = await statusOf(gmail.users.watch({ userId: 'me', requestBody: { topicName: 'projects/other-project/topics/elsewhere', labelIds: ['INBOX'] } }));
      expect(wrong.status).to.equal(400);
      const malformed = await statusOf(gmail.users.watch({ userId: 'me', requestBody: { topicName: 'not-a-topic' } }));
      expect(malformed.status).to.equal(400);
    });

    it('watch answers the current historyId and an expiration about 7 days ahead; stop answers 204', async () => {
      const { gmail } = await mailbox();
      const profile = (await gmail.users.getProfile({ userId: 'me' })).data;
      const before = Date.now();
      const { data } = await gmail.users.watch({ userId: 'me', requestBody: { topicName: topic(), labelIds: ['INBOX'], labelFilterBehavior: 'include' } });
      expect(data.historyId).to.equal(profile.historyId);
      const expiration = Number(data.expiration);
      expect(expiration).to.be.within(before + 7 * 86_400_000 - 60_000, Date.now() + 7 * 86_400_000 + 60_000);

      const stopped = await gmail.users.stop({ userId: 'me' });
      expect(stopped.status).to.equal(204);
    });
  });

  describe('incoming mail and history', () => {
    it('delivers {from, subject, text} and {raw} mail and answers Gmail ids', async () => {
      const { email, gmail } = await mailbox();
      const a = await deliver(system, email, { from: 'Bob <bob@example.org>', subject: 'hello', text: 'first' });
      expect(a.id).to.match(/^[0-9a-f]{16}$/);
      expect(a.thread_id).to.equal(a.id);
      expect(a.message_id).to.match(/^<.+@.+>$/);

      const raw = Buffer.from('From: Carol <carol@example.net>\r\nTo: ' + email + '\r\nSubject: raw one\r\nMessage-ID: <raw-1@example.net>\r\n\r\nraw body\r\n').toString('base64');
      const b = await deliver(system, email, { raw });
      expect(b.id).to.match(/^[0-9a-f]{16}$/);
      expect(b.id).to.not.equal(a.id);
      expect(b.message_id).to.equal('<raw-1@example.net>');

      const got = await gmail.users.messages.get({ userId: 'me', id: b.id, format: 'metadata', metadataHeaders: ['Subject'] });
      expect(header(got.data.payload, 'Subject')).to.equal('raw one');
    });

    it('refuses an incoming mail that is neither {from, subject, text} nor {raw} with a 400 JSON error', async () => {
      const { email } = await mailbox();
      for (const body of [{ subject: 'no from', text: 'x' }, { raw: '!!! not base64' }, { from: 'not an address', subject: 's', text: 't' }]) {
        const res = await fetch(`${system.baseUrl}/sandbox/gmail/mailboxes/${encodeURIComponent(email)}/incoming`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        expect(res.status, JSON.stringify(body)).to.equal(400);
        const json = (await res.json()) as { error: { code: string } };
        expect(json.error.code).to.equal('validation_failed');
      }
    });

    it('names only the problems of the form the caller used, not "is not allowed" for the other form', async () => {
      const { email } = await mailbox();
      const res = await fetch(`${system.baseUrl}/sandbox/gmail/mailboxes/${encodeURIComponent(email)}/incoming`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ from: 'x', subject: 's', text: 't' }),
      });
      expect(res.status).to.equal(400);
      const json = (await res.json()) as { error: { details: Array<{ path: string; message: string }> } };
      expect(json.error.details.map((d) => d.path)).to.deep.equal(['/from']);
      expect(json.error.details.map((d) => d.message).join(' ')).to.not.contain('is not allowed');
    });

    it('history.list from an older historyId lists messagesAdded with the INBOX label, oldest first', async () => {
      const { email, gmail } = await mailbox();
      const start = (await gmail.users.getProfile({ userId: 'me' })).data.historyId!;
      const a = await deliver(system, email, { from: 'bob@example.org', subject: 'one', text: '1' });
      const b = await deliver(system, email, { from: 'bob@example.org', subject: 'two', text: '2' });

      const { data } = await gmail.users.history.list({ userId: 'me', startHistoryId: start, historyTypes: ['messageAdded'], maxResults: 500 });
      const added = (data.history ?? []).flatMap((h) => h.messagesAdded ?? []).map((m) => m.message!);
      expect(added.map((m) => m.id)).to.deep.equal([a.id, b.id]);
      for (const m of added) expect(m.labelIds).to.include('INBOX');
      expect(added[0]!.threadId).to.equal(a.thread_id);
      const ids = (data.history ?? []).map((h) => BigInt(h.id!));
      expect(ids[0]! > BigInt(start)).to.equal(true);
      expect(ids[1]! > ids[0]!).to.equal(true);
      expect(data.historyId).to.equal(String(ids[1]));

      // from the newest id there is nothing more to report, and `history` is left out
      const none = await gmail.users.history.list({ userId: 'me', startHistoryId: data.historyId! });
      expect(none.data.history).to.equal(undefined);
      expect(none.data.historyId).to.equal(data.historyId);
    });

    it('history.list pages with nextPageToken', async () => {
      const { email, gmail } = await mailbox();
      const start = (await gmail.users.getProfile({ userId: 'me' })).data.historyId!;
      const delivered: string[] = [];
      for (let i = 0; i < 3; i += 1) delivered.push((await deliver(system, email, { from: 'bob@example.org', subject: `p${i}`, text: 'x' })).id);
      const seen: string[] = [];
      let pageToken: string | undefined;
      let pages = 0;
      do {
        const { data }: { data: gmail_v1.Schema$ListHistoryResponse } = await gmail.users.history.list({ userId: 'me', startHistoryId: start, maxResults: 2, pageToken });
        pages += 1;
        seen.push(...(data.history ?? []).flatMap((h) => h.messagesAdded ?? []).map((m) => m.message!.id!));
        pageToken = data.nextPageToken ?? undefined;
      } while (pageToken && pages < 5);
      expect(pages).to.equal(2);
      expect(seen).to.deep.equal(delivered);
    });

    it('history.list answers 404 for a historyId below the retention floor', async () => {
      const { gmail } = await mailbox();
      const start = (await gmail.users.getProfile({ userId: 'me' })).data.historyId!;
      const res = await statusOf(gmail.users.history.list({ userId: 'me', startHistoryId: String(BigInt(start) - 1n) }));
      expect(res.status).to.equal(404);
      // the floor itself is still valid
      expect((await gmail.users.history.list({ userId: 'me', startHistoryId: start })).status).to.equal(200);
    });

    it('history.list answers 400 without a startHistoryId or with a malformed one', async () => {
      const { gmail } = await mailbox();
      expect((await statusOf(gmail.users.history.list({ userId: 'me' }))).status).to.equal(400);
      expect((await statusOf(gmail.users.history.list({ userId: 'me', startHistoryId: 'abc' }))).status).to.equal(400);
    });

    it('with {"expire_history": true} history.list answers 404 for stored ids until the next watch', async () => {
      const { email, gmail } = await mailbox();
      const start = (await gmail.users.getProfile({ userId: 'me' })).data.historyId!;
      await deliver(system, email, { from: 'bob@example.org', subject: 'before expiry', text: 'x' });
      expect((await gmail.users.history.list({ userId: 'me', startHistoryId: start })).status).to.equal(200);

      await setFaults(system, email, { expire_history: true });
      expect((await statusOf(gmail.users.history.list({ userId: 'me', startHistoryId: start }))).status).to.equal(404);
      expect((await statusOf(gmail.users.history.list({ userId: 'me', startHistoryId: start }))).status).to.equal(404);

      await gmail.users.watch({ userId: 'me', requestBody: { topicName: topic(), labelIds: ['INBOX'] } });
      const { data } = await gmail.users.history.list({ userId: 'me', startHistoryId: start });
      expect(data.history).to.have.length(1);
    });

    it('with {"expire_history": true} a full messages.list (the resync) also lifts the expiry', async () => {
      const { email, gmail } = await mailbox();
      const start = (await gmail.users.getProfile({ userId: 'me' })).data.historyId!;
      await setFaults(system, email, { expire_history: true });
      expect((await statusOf(gmail.users.history.list({ userId: 'me', startHistoryId: start }))).status).to.equal(404);
      await gmail.users.messages.list({ userId: 'me' });
      expect((await gmail.users.history.list({ userId: 'me', startHistoryId: start })).status).to.equal(200);
    });
  });

  describe('messages.get formats', () => {
    let g: Grant & { email: string };
    let multipart: { id: string; thread_id: string; message_id: string };
    const text = 'Hello Alice,\nare we still on for Thursday? ???>>> ~~~\n';
    const html = '<p>Hello Alice,<br>are we still on for <b>Thursday</b>?</p>';

    before(async () => {
      g = await mailbox('formats');
      multipart = await deliver(system, g.email, { from: 'Bob Example <bob@example.org>', subject: 'Thursday — plans', text, html, headers: { 'X-Custom': 'kept' } });
    });

    it('full: a payload tree with partIds, decoded headers and base64url bodies', async () => {
      const { data } = await g.gmail.users.messages.get({ userId: 'me', id: multipart.id, format: 'full' });
      expect(data.id).to.equal(multipart.id);
      expect(data.threadId).to.equal(multipart.thread_id);
      expect(data.labelIds).to.include.members(['INBOX', 'UNREAD']);
      expect(data.snippet).to.contain('Hello Alice');
      expect(data.internalDate).to.match(/^\d{13}$/);
      expect(data.historyId).to.match(/^\d+$/);
      expect(data.raw).to.equal(undefined);
      const payload = data.payload!;
      expect(payload.partId).to.equal('');
      expect(payload.mimeType).to.equal('multipart/alternative');
      expect(header(payload, 'Subject')).to.equal('Thursday — plans');
      expect(header(payload, 'From')).to.equal('Bob Example <bob@example.org>');
      expect(header(payload, 'X-Custom')).to.equal('kept');
      expect(header(payload, 'Delivered-To')).to.equal(g.email);
      expect(payload.parts!.map((p) => [p.partId, p.mimeType])).to.deep.equal([['0', 'text/plain'], ['1', 'text/html']]);
      for (const part of payload.parts!) {
        expect(part.body!.data).to.match(/^[A-Za-z0-9_-]+$/); // base64url, no padding
        expect(part.body!.size).to.equal(Buffer.from(part.body!.data!, 'base64url').length);
      }
      const decoded = Buffer.from(payload.parts![0]!.body!.data!, 'base64url').toString('utf8');
      expect(decoded.replace(/\r\n/g, '\n').trimEnd()).to.equal(text.trimEnd());
      expect(Buffer.from(payload.parts![1]!.body!.data!, 'base64url').toString('utf8')).to.contain('<b>Thursday</b>');
    });

    it('raw: base64url of the whole RFC 822 message', async () => {
      const { data } = await g.gmail.users.messages.get({ userId: 'me', id: multipart.id, format: 'raw' });
      expect(data.payload).to.equal(undefined);
      expect(data.raw).to.match(/^[A-Za-z0-9_-]+$/);
      const raw = Buffer.from(data.raw!, 'base64url').toString('utf8');
      expect(raw).to.match(/^[\s\S]*\r\nSubject: =\?UTF-8\?/i);
      expect(raw).to.contain(`Message-ID: ${multipart.message_id}`);
      expect(raw).to.match(/Content-Type: multipart\/alternative/i);
      expect(data.sizeEstimate).to.equal(Buffer.from(data.raw!, 'base64url').length);
    });

    it('metadata: only the metadataHeaders asked for, no bodies', async () => {
      const { data } = await g.gmail.users.messages.get({ userId: 'me', id: multipart.id, format: 'metadata', metadataHeaders: ['Subject', 'message-id'] });
      const names = data.payload!.headers!.map((h) => h.name!.toLowerCase()).sort();
      expect(names).to.deep.equal(['message-id', 'subject']);
      expect(header(data.payload, 'Message-ID')).to.equal(multipart.message_id);
      expect(data.payload!.parts).to.equal(undefined);
      expect(data.payload!.body).to.equal(undefined);
      expect(data.raw).to.equal(undefined);
    });

    it('minimal: ids, labels and snippet, no payload', async () => {
      const { data } = await g.gmail.users.messages.get({ userId: 'me', id: multipart.id, format: 'minimal' });
      expect(data.id).to.equal(multipart.id);
      expect(data.labelIds).to.include('INBOX');
      expect(data.snippet).to.be.a('string');
      expect(data.payload).to.equal(undefined);
      expect(data.raw).to.equal(undefined);
    });

    it('answers 404 for an unknown id and 400 for a malformed id or format', async () => {
      expect((await statusOf(g.gmail.users.messages.get({ userId: 'me', id: '0123456789abcdef' }))).status).to.equal(404);
      expect((await statusOf(g.gmail.users.messages.get({ userId: 'me', id: 'not-an-id' }))).status).to.equal(400);
      expect((await statusOf(g.gmail.users.messages.get({ userId: 'me', id: multipart.id, format: 'fancy' }))).status).to.equal(400);
      expect((await statusOf(g.gmail.users.threads.get({ userId: 'me', id: '0123456789abcdef' }))).status).to.equal(404);
      expect((await statusOf(g.gmail.users.threads.get({ userId: 'me', id: 'zz' }))).status).to.equal(400);
    });
  });

  describe('attachments', () => {
    it('full format gives an attachment part an attachmentId instead of data; attachments.get answers its bytes base64url', async () => {
      const { email, gmail } = await mailbox('attach');
      const bytes = Buffer.from([0xfb, 0xff, 0xfe, 0x00, 0x3e, 0x3f, 0x01, 0x02]);
      const raw = [
        'From: bob@example.org',
        `To: ${email}`,
        'Subject: with attachment',
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary="b1"',
        '',
        '--b1',
        'Content-Type: text/plain; charset=utf-8',
        '',
        'see attached',
        '--b1',
        'Content-Type: application/octet-stream; name="data.bin"',
        'Content-Disposition: attachment; filename="data.bin"',
        'Content-Transfer-Encoding: base64',
        '',
        bytes.toString('base64'),
        '--b1--',
        '',
      ].join('\r\n');
      const delivered = await deliver(system, email, { raw: Buffer.from(raw).toString('base64') });
      const { data } = await gmail.users.messages.get({ userId: 'me', id: delivered.id });
      const [textPart, filePart] = data.payload!.parts!;
      expect(textPart!.filename).to.equal('');
      expect(filePart!.filename).to.equal('data.bin');
      expect(filePart!.body!.data).to.equal(undefined);
      expect(filePart!.body!.size).to.equal(bytes.length);
      const attachmentId = filePart!.body!.attachmentId!;
      expect(attachmentId).to.be.a('string');
      const got = await gmail.users.messages.attachments.get({ userId: 'me', messageId: delivered.id, id: attachmentId });
      expect(got.data.size).to.equal(bytes.length);
      expect(got.data.data).to.match(/^[A-Za-z0-9_-]+$/);
      expect(Buffer.from(got.data.data!, 'base64url')).to.deep.equal(bytes);
      const listed = await gmail.users.messages.list({ userId: 'me', q: 'has:attachment' });
      expect(listed.data.messages!.map((m) => m.id)).to.deep.equal([delivered.id]);
    });
  });

  describe('threading of incoming mail', () => {
    it('puts the contact\'s answer to our sent reply into the same thread (References to the rewritten Message-ID)', async () => {
      const { email, gmail } = await mailbox('threading');
      const first = await deliver(system, email, { from: 'Bob <bob@example.org>', subject: 'Lunch', text: 'lunch?' });
      const reply = rfc822({ To: 'bob@example.org', Subject: 'Re: Lunch', 'In-Reply-To': first.message_id, References: first.message_id }, 'sure');
      const { data: sent } = await gmail.users.messages.send({ userId: 'me', requestBody: { raw: reply, threadId: first.thread_id } });
      expect(sent.threadId).to.equal(first.thread_id);
      const sentId = (await sentItems(system, email))[0]!.headers['message-id']!;

      const answer = await deliver(system, email, { from: 'Bob <bob@example.org>', subject: 'Re: Lunch', text: 'great', in_reply_to: sentId, references: [first.message_id, sentId] });
      expect(answer.thread_id).to.equal(first.thread_id);
      // a different subject with the same references starts a new thread, as in Gmail
      const other = await deliver(system, email, { from: 'Bob <bob@example.org>', subject: 'Something new', text: 'x', in_reply_to: sentId });
      expect(other.thread_id).to.equal(other.id);

      const thread = await gmail.users.threads.get({ userId: 'me', id: first.thread_id, format: 'minimal' });
      expect(thread.data.messages!.map((m) => m.id)).to.deep.equal([first.id, sent.id, answer.id]);
    });

    it('copies mail sent to another sandbox mailbox into its INBOX', async () => {
      const alice = await mailbox('alice');
      const bob = await mailbox('bob');
      const raw = rfc822({ To: bob.email, Subject: 'between sandboxes', 'X-Probe': 'p1' }, 'hello bob');
      await alice.gmail.users.messages.send({ userId: 'me', requestBody: { raw } });
      const inbox = await bob.gmail.users.messages.list({ userId: 'me', labelIds: ['INBOX'], q: 'subject:"between sandboxes"' });
      expect(inbox.data.messages).to.have.length(1);
      const got = await bob.gmail.users.messages.get({ userId: 'me', id: inbox.data.messages![0]!.id!, format: 'metadata', metadataHeaders: ['From', 'X-Probe', 'Delivered-To'] });
      expect(header(got.data.payload, 'From')).to.equal(alice.email);
      expect(header(got.data.payload, 'X-Probe')).to.equal('p1');
      expect(header(got.data.payload, 'Delivered-To')).to.equal(bob.email);
    });
  });

  describe('messages.list', () => {
    it('filters by q and by labelIds', async () => {
      const { email, gmail } = await mailbox('list');
      const apple = await deliver(system, email, { from: 'Ann <ann@example.org>', subject: 'apples and pears', text: 'fruit' });
      const car = await deliver(system, email, { from: 'Dan <dan@example.net>', subject: 'the car', text: 'wheels' });

      const bySubject = await gmail.users.messages.list({ userId: 'me', q: 'subject:apples' });
      expect(bySubject.data.messages!.map((m) => m.id)).to.deep.equal([apple.id]);
      expect(bySubject.data.resultSizeEstimate).to.equal(1);

      const byFrom = await gmail.users.messages.list({ userId: 'me', q: 'from:dan@example.net' });
      expect(byFrom.data.messages!.map((m) => m.id)).to.deep.equal([car.id]);

      const negated = await gmail.users.messages.list({ userId: 'me', q: 'in:inbox -subject:car' });
      expect(negated.data.messages!.map((m) => m.id)).to.deep.equal([apple.id]);

      const inbox = await gmail.users.messages.list({ userId: 'me', labelIds: ['INBOX'] });
      expect(inbox.data.messages!.map((m) => m.id).sort()).to.deep.equal([apple.id, car.id].sort());
      // newest first
      expect(inbox.data.messages![0]!.id).to.equal(car.id);

      const sent = await gmail.users.messages.list({ userId: 'me', labelIds: ['SENT'] });
      expect(sent.data.messages).to.equal(undefined);
      expect(sent.data.resultSizeEstimate).to.equal(0);

      const paged = await gmail.users.messages.list({ userId: 'me', maxResults: 1 });
      expect(paged.data.messages).to.have.length(1);
      expect(paged.data.nextPageToken).to.be.a('string');
      const next = await gmail.users.messages.list({ userId: 'me', maxResults: 1, pageToken: paged.data.nextPageToken! });
      expect(next.data.messages![0]!.id).to.equal(apple.id);
      expect(next.data.nextPageToken).to.equal(undefined);
    });
  });

  describe('messages.send and threads', () => {
    it('puts a reply sent with threadId into the same thread, labels it SENT, records history and rewrites its Message-ID', async () => {
      const { email, gmail } = await mailbox('send');
      const incoming = await deliver(system, email, { from: 'Bob <bob@example.org>', subject: 'Dîner vendredi ?', text: 'Are you free?' });
      const beforeSend = (await gmail.users.getProfile({ userId: 'me' })).data.historyId!;

      const chosenId = '<client-chosen.123@assistant.local>';
      const raw = rfc822({
        From: email,
        To: 'Bob <bob@example.org>',
        Subject: `=?UTF-8?B?${Buffer.from('Re: Dîner vendredi ?').toString('base64')}?=`,
        'Message-ID': chosenId,
        'In-Reply-To': incoming.message_id,
        References: incoming.message_id,
        'X-Assistant-Reply-Id': 'reply-42',
        'MIME-Version': '1.0',
        'Content-Type': 'text/plain; charset=utf-8',
      }, 'Yes, see you at eight.\r\n');
      const { data: sent } = await gmail.users.messages.send({ userId: 'me', requestBody: { raw, threadId: incoming.thread_id } });
      expect(sent.id).to.match(/^[0-9a-f]{16}$/);
      expect(sent.threadId).to.equal(incoming.thread_id);
      expect(sent.labelIds).to.include('SENT');
      expect(sent.labelIds).to.not.include('INBOX');

      // a history record for the sent message
      const history = await gmail.users.history.list({ userId: 'me', startHistoryId: beforeSend, historyTypes: ['messageAdded'] });
      const added = (history.data.history ?? []).flatMap((h) => h.messagesAdded ?? []).map((m) => m.message!);
      expect(added.map((m) => m.id)).to.deep.equal([sent.id]);
      expect(added[0]!.labelIds).to.include('SENT');
      expect(added[0]!.threadId).to.equal(incoming.thread_id);

      // what went out: Message-ID replaced by a Gmail one, headers decoded
      const items = await sentItems(system, email);
      expect(items).to.have.length(1);
      const item = items[0]!;
      expect(item.id).to.equal(sent.id);
      expect(item.thread_id).to.equal(incoming.thread_id);
      expect(item.headers['message-id']).to.be.a('string').and.not.equal(chosenId);
      expect(item.headers['message-id']).to.match(/^<.+@mail\.gmail\.com>$/);
      expect(item.headers.subject).to.equal('Re: Dîner vendredi ?');
      expect(item.headers['in-reply-to']).to.equal(incoming.message_id);
      expect(item.headers['x-assistant-reply-id']).to.equal('reply-42');
      expect(item.headers.date).to.be.a('string');
      expect(Buffer.from(item.raw, 'base64').toString('utf8')).to.contain('Yes, see you at eight.');

      // the stored message carries the same rewritten id
      const meta = await gmail.users.messages.get({ userId: 'me', id: sent.id!, format: 'metadata', metadataHeaders: ['Message-ID'] });
      expect(header(meta.data.payload, 'Message-ID')).to.equal(item.headers['message-id']);

      // threads.get lists both, oldest first; metadata format finds our own header again
      const thread = await gmail.users.threads.get({ userId: 'me', id: incoming.thread_id, format: 'metadata', metadataHeaders: ['X-Assistant-Reply-Id'] });
      expect(thread.data.id).to.equal(incoming.thread_id);
      expect(thread.data.messages!.map((m) => m.id)).to.deep.equal([incoming.id, sent.id]);
      expect(header(thread.data.messages![1]!.payload, 'X-Assistant-Reply-Id')).to.equal('reply-42');
      expect(header(thread.data.messages![0]!.payload, 'X-Assistant-Reply-Id')).to.equal(undefined);
    });

    it('decodes long, folded, encoded headers the same way in /sent and in messages.get', async () => {
      const { email, gmail } = await mailbox('folded');
      const subject = 'Réunion très importante du comité de pilotage — ordre du jour, pièces jointes et décisions à prendre 🚀 avant vendredi';
      const raw = await new MailComposer({ from: email, to: 'Zoë Çelik <zoe@example.org>', subject, text: 'x' }).compile().build();
      expect(raw.toString('latin1')).to.match(/Subject: =\?UTF-8\?[QB]\?[^\r\n]*\r\n[ \t]+=\?UTF-8/); // really folded
      const { data } = await gmail.users.messages.send({ userId: 'me', requestBody: { raw: raw.toString('base64url') } });
      const item = (await sentItems(system, email))[0]!;
      expect(item.headers.subject).to.equal(subject);
      expect(item.headers.to).to.equal('Zoë Çelik <zoe@example.org>');
      const got = await gmail.users.messages.get({ userId: 'me', id: data.id!, format: 'metadata', metadataHeaders: ['Subject', 'To'] });
      expect(header(got.data.payload, 'Subject')).to.equal(subject);
      expect(header(got.data.payload, 'To')).to.equal('Zoë Çelik <zoe@example.org>');
      const found = await gmail.users.messages.list({ userId: 'me', q: 'subject:pilotage' });
      expect(found.data.messages!.map((m) => m.id)).to.deep.equal([data.id]);
    });

    it('starts a new thread when the subject does not match the named thread', async () => {
      const { email, gmail } = await mailbox('newthread');
      const incoming = await deliver(system, email, { from: 'bob@example.org', subject: 'Topic A', text: 'x' });
      const raw = rfc822({ To: 'bob@example.org', Subject: 'Something else', 'In-Reply-To': incoming.message_id }, 'y');
      const { data } = await gmail.users.messages.send({ userId: 'me', requestBody: { raw, threadId: incoming.thread_id } });
      expect(data.threadId).to.not.equal(incoming.thread_id);
      expect(data.threadId).to.equal(data.id);
    });

    it('accepts the media-upload form of messages.send (multipart/related) with a threadId', async () => {
      const { email, gmail } = await mailbox('upload');
      const incoming = await deliver(system, email, { from: 'bob@example.org', subject: 'Upload test', text: 'x' });
      const body = Buffer.from(rfc822({ To: 'bob@example.org', Subject: 'Re: Upload test', 'In-Reply-To': incoming.message_id, References: incoming.message_id }, 'via upload'), 'base64url').toString('utf8');
      // googleapis applies a client-level rootUrl to the JSON url only, not to the upload url: pass it per call
      const { data } = await gmail.users.messages.send(
        { userId: 'me', requestBody: { threadId: incoming.thread_id }, media: { mimeType: 'message/rfc822', body } },
        { rootUrl: system.container.config.google.gmailRootUrl },
      );
      expect(data.threadId).to.equal(incoming.thread_id);
      const items = await sentItems(system, email);
      expect(items.map((i) => i.id)).to.deep.equal([data.id]);
      expect(Buffer.from(items[0]!.raw, 'base64').toString('utf8')).to.contain('via upload');
    });

    it('accepts the simple upload form of messages.send (uploadType=media)', async () => {
      const { email, gmail } = await mailbox('media');
      const body = `To: bob@example.org\r\nSubject: plain upload\r\n\r\nbody via media\r\n`;
      const { data } = await gmail.users.messages.send({ userId: 'me', media: { mimeType: 'message/rfc822', body } }, { rootUrl: system.container.config.google.gmailRootUrl });
      expect(data.labelIds).to.deep.equal(['SENT']);
      const items = await sentItems(system, email);
      expect(items.map((i) => i.headers.subject)).to.deep.equal(['plain upload']);
    });

    it('refuses a message without recipients (400) and an unknown threadId (404), sending nothing', async () => {
      const { email, gmail } = await mailbox('badsend');
      const noRcpt = await statusOf(gmail.users.messages.send({ userId: 'me', requestBody: { raw: rfc822({ Subject: 'x' }, 'y') } }));
      expect(noRcpt.status).to.equal(400);
      const unknownThread = await statusOf(gmail.users.messages.send({ userId: 'me', requestBody: { raw: rfc822({ To: 'bob@example.org', Subject: 'x' }, 'y'), threadId: '0123456789abcdef' } }));
      expect(unknownThread.status).to.equal(404);
      expect(await sentItems(system, email)).to.deep.equal([]);
    });
  });

  describe('quota', () => {
    it('counts calls and Gmail quota units per method', async () => {
      const { email, gmail } = await mailbox('quota');
      await gmail.users.getProfile({ userId: 'me' });
      await gmail.users.messages.list({ userId: 'me' });
      await gmail.users.messages.list({ userId: 'me' });
      const quota = (await (await fetch(`${system.baseUrl}/sandbox/gmail/mailboxes/${encodeURIComponent(email)}/quota`)).json()) as {
        units_by_method: Record<string, number>;
        calls_by_method: Record<string, number>;
        total_units: number;
      };
      expect(quota.calls_by_method).to.deep.equal({ getProfile: 1, 'messages.list': 2 });
      expect(quota.units_by_method).to.deep.equal({ getProfile: 1, 'messages.list': 10 });
      expect(quota.total_units).to.equal(11);
    });
  });

  describe('authentication and authorization', () => {
    it('answers 401 without a token', async () => {
      const res = await fetch(`${system.baseUrl}/gmail/v1/users/me/profile`);
      expect(res.status).to.equal(401);
      expect(res.headers.get('www-authenticate')).to.contain('invalid_token');
      const body = (await res.json()) as { error: { code: number; status: string } };
      expect(body.error.code).to.equal(401);
      expect(body.error.status).to.equal('UNAUTHENTICATED');
    });

    it('answers 401 to the client with an unknown access token', async () => {
      const auth = oauthClient(system);
      auth.setCredentials({ access_token: 'ya29.not-a-token', expiry_date: Date.now() + 3600_000 });
      const res = await statusOf(gmailClient(system, auth).users.getProfile({ userId: 'me' }));
      expect(res.status).to.equal(401);
    });

    it("answers 403 'Delegation denied' for another user's mailbox", async () => {
      const a = await mailbox('alice');
      const b = await mailbox('bob');
      const res = await statusOf(a.gmail.users.messages.list({ userId: b.email }));
      expect(res.status).to.equal(403);
      expect((res.data as { error: { message: string } }).error.message).to.equal(`Delegation denied for ${a.email}`);
      // the own address works like 'me'
      expect((await a.gmail.users.getProfile({ userId: a.email })).data.emailAddress).to.equal(a.email);
    });

    it('answers 403 insufficient scopes to a token that may only send', async () => {
      const email = freshEmail('sendonly');
      const g = await grant(system, email, { scopes: ['https://www.googleapis.com/auth/gmail.send'] });
      const res = await statusOf(g.gmail.users.messages.list({ userId: 'me' }));
      expect(res.status).to.equal(403);
      expect((res.data as { error: { message: string } }).error.message).to.match(/insufficient authentication scopes/);
      const { data } = await g.gmail.users.messages.send({ userId: 'me', requestBody: { raw: rfc822({ To: 'bob@example.org', Subject: 'hi' }, 'x') } });
      expect(data.labelIds).to.include('SENT');
    });
  });
});
