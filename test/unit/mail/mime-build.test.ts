import { expect } from 'chai';
import { parseMail } from '../../../src/gmail/mime-parse';
import { detectAutomatedMail } from '../../../src/gmail/automated-mail';
import { buildReplyMime, MAX_REFERENCES, REPLY_ID_HEADER, replyMessageId, replyReferences, replySubject, type ReplyMimeInput } from '../../../src/gmail/mime-build';

function input(overrides: Partial<ReplyMimeInput> = {}): ReplyMimeInput {
  return {
    from: { address: 'owner@example.com', name: 'Owner Example' },
    to: { address: 'contact@example.org', name: 'Contact Example' },
    subject: 'Contract',
    inReplyTo: '<parent@example.org>',
    references: ['<root@example.org>', '<middle@example.org>'],
    text: 'Thanks, received.\n',
    replyId: 'reply-1',
    date: new Date('2025-05-05T10:00:00Z'),
    ...overrides,
  };
}

/** The header block of built bytes, as lines (folding kept). */
function headerLines(raw: Buffer): string[] {
  const text = raw.toString('latin1');
  return text.slice(0, text.indexOf('\r\n\r\n')).split('\r\n');
}

describe('replySubject', () => {
  it('puts "Re: " in front of a subject that is not a reply yet', () => {
    expect(replySubject('Contract')).to.equal('Re: Contract');
    expect(replySubject('Fwd: Contract')).to.equal('Re: Fwd: Contract');
    expect(replySubject('Regarding the contract')).to.equal('Re: Regarding the contract');
    expect(replySubject('Réunion demain')).to.equal('Re: Réunion demain');
  });

  it('keeps an existing reply prefix exactly as written', () => {
    for (const subject of ['Re: Contract', 'RE: Contract', 're:contract', 'Re[2]: Contract', 'AW: Vertrag', 'SV: Kontrakt', 'Ответ: Договор', '回复: 合同']) {
      expect(replySubject(subject)).to.equal(subject);
    }
  });

  it('collapses line breaks and runs of whitespace; an empty subject gives "Re:"', () => {
    expect(replySubject('  Contract\r\n\tdraft  ')).to.equal('Re: Contract draft');
    expect(replySubject('')).to.equal('Re:');
    expect(replySubject(' \r\n ')).to.equal('Re:');
  });
});

describe('replyReferences', () => {
  it('is the parent References followed by the parent id', () => {
    expect(replyReferences(['<a@x>', '<b@x>'], '<p@x>')).to.deep.equal(['<a@x>', '<b@x>', '<p@x>']);
  });

  it('lists each id once and moves the parent id to the end', () => {
    expect(replyReferences(['<a@x> <p@x>', '<b@x>', '<a@x>'], '<p@x>')).to.deep.equal(['<a@x>', '<b@x>', '<p@x>']);
  });

  it('wraps bare ids and copes with no parent or no references', () => {
    expect(replyReferences(['old@x'], 'p@x')).to.deep.equal(['<old@x>', '<p@x>']);
    expect(replyReferences([], '<p@x>')).to.deep.equal(['<p@x>']);
    expect(replyReferences(['<a@x>'], null)).to.deep.equal(['<a@x>']);
    expect(replyReferences([], null)).to.deep.equal([]);
  });

  it(`caps a long chain at ${MAX_REFERENCES}, keeping the thread root and the most recent ids`, () => {
    const chain = Array.from({ length: 40 }, (_, i) => `<r${i}@x>`);
    const refs = replyReferences(chain, '<p@x>');
    expect(refs).to.have.length(MAX_REFERENCES);
    expect(refs[0]).to.equal('<r0@x>');
    expect(refs.at(-1)).to.equal('<p@x>');
    expect(refs.slice(1, -1)).to.deep.equal(chain.slice(chain.length - (MAX_REFERENCES - 2)));
  });
});

describe('buildReplyMime', () => {
  it('threads the reply: In-Reply-To is the parent, References = parent references + parent id', async () => {
    const parsed = await parseMail(await buildReplyMime(input()));
    expect(parsed.inReplyTo).to.equal('<parent@example.org>');
    expect(parsed.references).to.deep.equal(['<root@example.org>', '<middle@example.org>', '<parent@example.org>']);
    expect(parsed.subject).to.equal('Re: Contract');
    expect(parsed.from).to.deep.equal({ address: 'owner@example.com', name: 'Owner Example' });
    expect(parsed.to).to.deep.equal([{ address: 'contact@example.org', name: 'Contact Example' }]);
    expect(parsed.date?.toISOString()).to.equal('2025-05-05T10:00:00.000Z');
  });

  it('caps References in the built mail too', async () => {
    const references = Array.from({ length: 30 }, (_, i) => `<r${i}@example.org>`);
    const parsed = await parseMail(await buildReplyMime(input({ references })));
    expect(parsed.references).to.have.length(MAX_REFERENCES);
    expect(parsed.references[0]).to.equal('<r0@example.org>');
    expect(parsed.references.at(-1)).to.equal('<parent@example.org>');
  });

  it('adds "Re:" once: a subject that already has one keeps it as written', async () => {
    for (const [subject, expected] of [
      ['Re: Contract', 'Re: Contract'],
      ['RE: Contract', 'RE: Contract'],
      ['AW: Vertrag', 'AW: Vertrag'],
      ['Contract', 'Re: Contract'],
    ]) {
      expect((await parseMail(await buildReplyMime(input({ subject })))).subject).to.equal(expected);
    }
  });

  it('has no In-Reply-To or References when answering a mail without ids', async () => {
    const built = await buildReplyMime(input({ inReplyTo: null, references: [] }));
    const parsed = await parseMail(built);
    expect(parsed.inReplyTo).to.equal(null);
    expect(parsed.references).to.deep.equal([]);
    expect(headerLines(built).some((l) => /^(?:In-Reply-To|References):/i.test(l))).to.equal(false);
  });

  it('round-trips a Cyrillic subject, names and body (and other scripts) as 7-bit bytes', async () => {
    const subject = 'Очень длинная тема письма про поставку оборудования и сроки оплаты по договору номер 12345';
    const text = 'Здравствуйте, Иван!\n\nДа, всё в порядке. 日本語 too — ✓\n';
    const built = await buildReplyMime(
      input({ subject, text, from: { address: 'owner@example.com', name: 'Анна Иванова' }, to: { address: 'ivan@example.ru', name: 'Иван "Ваня" Петров' } }),
    );
    expect([...built].every((byte) => byte < 0x80), 'every byte is 7-bit').to.equal(true);
    expect(headerLines(built).every((l) => l.length <= 998), 'no header line over 998 characters').to.equal(true);
    const parsed = await parseMail(built);
    expect(parsed.subject).to.equal(`Re: ${subject}`);
    expect(parsed.from).to.deep.equal({ address: 'owner@example.com', name: 'Анна Иванова' });
    expect(parsed.to).to.deep.equal([{ address: 'ivan@example.ru', name: 'Иван "Ваня" Петров' }]);
    expect(parsed.text).to.equal(text);
    expect(parsed.header('content-type')[0]).to.match(/^text\/plain;\s*charset=utf-8$/i);
  });

  it('marks the reply as automatic so that other robots (and we) never answer it', async () => {
    const built = await buildReplyMime(input());
    const parsed = await parseMail(built);
    expect(parsed.header('auto-submitted')).to.deep.equal(['auto-replied']);
    expect(parsed.header('x-auto-response-suppress')[0]).to.match(/\bOOF\b/);
    expect(detectAutomatedMail(parsed).automated).to.equal(true);
  });

  it('carries the reply id and a Message-ID derived from it, stable across builds', async () => {
    const first = await buildReplyMime(input({ replyId: 'rep_42' }));
    const second = await buildReplyMime(input({ replyId: 'rep_42', date: new Date('2025-05-06T00:00:00Z') }));
    const parsed = await parseMail(first);
    expect(headerLines(first).some((l) => l.startsWith(`${REPLY_ID_HEADER}: rep_42`))).to.equal(true);
    expect(parsed.messageId).to.equal(replyMessageId('rep_42', 'owner@example.com'));
    expect(parsed.messageId).to.match(/^<[^<>\s]+@example\.com>$/);
    expect((await parseMail(second)).messageId).to.equal(parsed.messageId);
    expect(replyMessageId('rep_43', 'owner@example.com')).to.not.equal(parsed.messageId);
  });

  it('makes header injection through CR/LF impossible', async () => {
    const evil = input({
      from: { address: 'owner@example.com', name: 'Owner\r\nBcc: spy1@evil.example' },
      to: { address: 'contact@example.org', name: 'Contact\nBcc: spy2@evil.example' },
      subject: 'Contract\r\nBcc: spy3@evil.example',
      inReplyTo: '<parent@example.org>\r\nBcc: spy4@evil.example',
      references: ['<root@example.org>\r\nBcc: spy5@evil.example'],
      replyId: 'reply-1\r\nBcc: spy6@evil.example',
    });
    const built = await buildReplyMime(evil);
    const lines = headerLines(built);
    // every line is a "Name: value" field or the folded continuation of one
    for (const line of lines) expect(line, line).to.match(/^(?:[A-Za-z0-9-]+: |[ \t])/);
    const names = lines.filter((l) => !/^[ \t]/.test(l)).map((l) => l.slice(0, l.indexOf(':')).toLowerCase());
    expect(names).to.not.include('bcc');
    expect(names.filter((n) => n === 'to')).to.have.length(1);
    const parsed = await parseMail(built);
    expect(parsed.header('bcc')).to.deep.equal([]);
    expect(parsed.to.map((a) => a.address)).to.deep.equal(['contact@example.org']);
    expect(parsed.inReplyTo).to.equal('<parent@example.org>');
    expect(parsed.references).to.deep.equal(['<root@example.org>', '<parent@example.org>']);
  });

  it('keeps addresses that carry line breaks from adding recipients', async () => {
    const built = await buildReplyMime(input({ to: { address: 'contact@example.org\r\nBcc: spy@evil.example', name: 'Contact' } }));
    const names = headerLines(built)
      .filter((l) => !/^[ \t]/.test(l))
      .map((l) => l.slice(0, l.indexOf(':')).toLowerCase());
    expect(names).to.not.include('bcc');
    expect((await parseMail(built)).header('bcc')).to.deep.equal([]);
  });

  it('writes CRLF line endings only', async () => {
    const built = (await buildReplyMime(input({ text: 'one\ntwo\r\nthree\rfour\n' }))).toString('latin1');
    expect(built.replace(/\r\n/g, '')).to.not.match(/[\r\n]/);
    expect((await parseMail(Buffer.from(built, 'latin1'))).text).to.equal('one\ntwo\nthree\nfour\n');
  });
});
