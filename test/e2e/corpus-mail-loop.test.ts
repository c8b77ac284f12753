import { expect } from 'chai';
import { signIn, uniqueEmail, type HttpClient } from '../support/http-client';
import { startTestSystem, type TestSystem } from '../support/system';
import { deliverRaw, header, history, rewriteFrom, sentItems, setFaults, waitForHistory, waitForIdle, type Delivered } from '../support/mail-loop';
import { CORPUS_ABSENT, corpusFile, corpusPresent, expectedBody, manifestEntries, showsBody, type ManifestEntry } from '../support/shared-corpus';

/** The kinds issue #2 names; the corpus must hold each of them. */
const REQUIRED_KINDS: Array<[string, RegExp]> = [
  ['KOI8-R', /KOI8-R/i],
  ['windows-1251', /windows-1251/i],
  ['ISO-2022-JP', /ISO-2022-JP/i],
  ['HTML-only', /HTML-only/i],
  ['multipart/alternative', /multipart\/alternative/i],
];

function replySubjectOf(subject: string): string {
  const clean = subject.replace(/\s+/g, ' ').trim();
  if (clean === '') return 'Re:';
  return /^re\s*:/i.test(clean) ? clean : `Re: ${clean}`;
}

describe('the mail loop on the shared real-world corpus (../shared/fixtures/mail/eml)', function () {
  this.timeout(120000);
  if (!corpusPresent()) {
    it(CORPUS_ABSENT);
    return;
  }
  const entries = manifestEntries('eml');
  let system: TestSystem;
  let user: string;
  let client: HttpClient;

  before(async () => {
    system = await startTestSystem();
    user = uniqueEmail('corpus-owner');
    client = await signIn(system.baseUrl, user);
  });
  after(async () => {
    await system.close();
  });

  async function newActiveContact(): Promise<{ id: string; email: string }> {
    const res = await client.post<{ id: string; email: string }>('/api/contacts', {
      email: uniqueEmail('corpus-contact'),
      name: 'Corpus Sender',
      description_ai: 'A correspondent from the corpus. Answer briefly.',
      is_active: true,
    });
    expect(res.status, res.text).to.equal(201);
    return res.body;
  }

  it('holds every kind of mail the loop must handle', () => {
    for (const [kind, pattern] of REQUIRED_KINDS) {
      expect(entries.some((e) => e.exercises.some((x) => pattern.test(x))), kind).to.equal(true);
    }
  });

  /** Delivers one corpus mail as written by a fresh active contact and checks what the product did. */
  async function runOne(entry: ManifestEntry): Promise<void> {
    const contact = await newActiveContact();
    const delivered: Delivered = await deliverRaw(system.baseUrl, user, rewriteFrom(corpusFile(entry), `"Corpus Sender" <${contact.email}>`));
    const automatic = entry.expected.automation_signals?.automatic_by_listed_headers === true;
    const items = await waitForHistory(client, contact.id, { received: 1, sent: automatic ? 0 : 1 }, 30000);
    await waitForIdle(system);

    const received = items.filter((m) => m.message_direction === 'received');
    expect(received, 'received once').to.have.length(1);
    const mail = received[0]!;
    expect(mail.message_text, 'no replacement characters').to.not.contain('\uFFFD');
    expect(mail.gmail_thread_id).to.equal(delivered.thread_id);
    expect(mail.subject).to.equal(entry.expected.subject_trimmed ?? '');
    const body = expectedBody(entry);
    if (body) expect(showsBody(mail.message_text, body), `${JSON.stringify(mail.message_text.slice(0, 200))} should show ${JSON.stringify(body.text)}`).to.equal(true);
    else expect(mail.message_text.trim()).to.equal('');

    const replies = (await sentItems(system.baseUrl, user)).filter((s) => header(s, 'to')?.includes(contact.email));
    const sent = (await history(client, contact.id)).filter((m) => m.message_direction === 'sent');
    if (automatic) {
      expect(replies, 'no reply to automatic mail').to.have.length(0);
      expect(sent).to.have.length(0);
      return;
    }
    expect(replies, 'exactly one reply').to.have.length(1);
    expect(sent).to.have.length(1);
    const reply = replies[0]!;
    expect(reply.thread_id).to.equal(delivered.thread_id);
    expect(header(reply, 'in-reply-to')).to.equal(delivered.message_id);
    const references = (header(reply, 'references') ?? '').split(/\s+/).filter(Boolean);
    expect(references.at(-1)).to.equal(delivered.message_id);
    for (const id of entry.expected.references_ids ?? []) expect(references).to.include(id);
    expect(header(reply, 'subject')).to.equal(replySubjectOf(entry.expected.subject_trimmed ?? ''));
    expect(header(reply, 'subject')).to.not.match(/^re:\s*re:/i);
  }

  for (const entry of entries) {
    it(`${entry.file}: ${entry.exercises.slice(0, 2).join('; ')}`, () => runOne(entry));
  }

  it('answers each required kind exactly once while every push arrives three times', async () => {
    await setFaults(system.baseUrl, user, { duplicate_pushes: 3 });
    try {
      for (const [kind, pattern] of REQUIRED_KINDS) {
        const entry = entries.find((e) => e.exercises.some((x) => pattern.test(x)) && e.expected.automation_signals?.automatic_by_listed_headers !== true);
        expect(entry, kind).to.not.equal(undefined);
        await runOne(entry!);
      }
      // Late duplicate pushes must not bring a second answer either.
      await new Promise((r) => setTimeout(r, 500));
      await waitForIdle(system);
      const perThread = new Map<string, number>();
      for (const s of await sentItems(system.baseUrl, user)) perThread.set(s.thread_id, (perThread.get(s.thread_id) ?? 0) + 1);
      expect([...perThread.values()].every((n) => n === 1)).to.equal(true);
    } finally {
      await setFaults(system.baseUrl, user, {});
    }
  });
});
