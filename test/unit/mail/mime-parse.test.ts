import { expect } from 'chai';
import iconv from 'iconv-lite';
import { EmptyMailError, parseMail } from '../../../src/gmail/mime-parse';
import { alternativeMail, htmlOnlyMail, iso2022jpMail, koi8rMail, windows1251Mail, type BuiltMail } from '../../support/mail-fixtures';

const CRLF = '\r\n';
const FROM = 'Anna Sample <anna@example.ru>';
const TO = 'me@example.com';

/** A message from header lines and a body, CRLF line endings, UTF-8 bytes. */
function mail(headers: string[], body = 'Hello.'): Buffer {
  return Buffer.from([...headers, '', body].join(CRLF), 'utf8');
}

/** Letters that are not of the given scripts: where a wrong charset shows up as mojibake. */
function foreignLetters(text: string, scripts: RegExp): string[] {
  return [...text.matchAll(/\p{L}/gu)].map((m) => m[0]).filter((ch) => !scripts.test(ch));
}

describe('parseMail', () => {
  it('drops NUL characters from the text and the subject', async () => {
    const raw = Buffer.from(`From: Anna <anna@example.ru>\r\nTo: ${TO}\r\nSubject: Hi\u0000there\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBefore\u0000after\r\n`, 'utf8');
    const parsed = await parseMail(raw);
    expect(parsed.text.trim()).to.equal('Beforeafter');
    expect(parsed.subject).to.equal('Hithere');
  });

  describe('charsets', () => {
    const cases: Array<[string, (from: string, to: string) => BuiltMail, RegExp]> = [
      ['KOI8-R (base64 body, B encoded-word subject)', koi8rMail, /\p{Script=Cyrillic}/u],
      ['windows-1251 (quoted-printable body)', windows1251Mail, /\p{Script=Cyrillic}/u],
      ['ISO-2022-JP (7bit escape sequences)', iso2022jpMail, /[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}]/u],
    ];
    for (const [label, build, scripts] of cases) {
      it(`decodes ${label} with no U+FFFD and no mojibake`, async () => {
        const built = build(FROM, TO);
        const parsed = await parseMail(built.raw);
        expect(parsed.subject).to.equal(built.subject);
        expect(parsed.bodyKind).to.equal('plain');
        expect(parsed.text.trim().startsWith(built.expectedText), parsed.text).to.equal(true);
        expect(parsed.text).to.not.contain('\uFFFD');
        expect(parsed.subject).to.not.contain('\uFFFD');
        expect(foreignLetters(parsed.text, scripts), 'letters outside the expected script').to.deep.equal([]);
        expect(parsed.from).to.deep.equal({ address: 'anna@example.ru', name: 'Anna Sample' });
      });
    }

    it('decodes an ISO-8859-1 quoted-printable body', async () => {
      const parsed = await parseMail(
        mail(['From: a@example.de', 'Subject: x', 'Content-Type: text/plain; charset=iso-8859-1', 'Content-Transfer-Encoding: quoted-printable'], 'Gr=FC=DFe aus K=F6ln'),
      );
      expect(parsed.text.trim()).to.equal('Grüße aus Köln');
    });

    it('decodes an 8-bit windows-1251 HTML body and its entities', async () => {
      const raw = Buffer.concat([
        Buffer.from(['From: a@example.ru', 'Subject: x', 'Content-Type: text/html; charset=windows-1251', 'Content-Transfer-Encoding: 8bit', '', ''].join(CRLF)),
        iconv.encode('<p>Привет&nbsp;&laquo;мир&raquo;</p>', 'windows-1251'),
      ]);
      const parsed = await parseMail(raw);
      expect(parsed.bodyKind).to.equal('html-only');
      expect(parsed.text.trim()).to.equal('Привет «мир»');
    });

    it('reads raw UTF-8 header bytes (RFC 6532) as UTF-8', async () => {
      const parsed = await parseMail(mail(['From: Иван Петров <ivan@example.ru>', 'Subject: Привет, мир', 'Content-Type: text/plain; charset=utf-8'], 'тело'));
      expect(parsed.from).to.deep.equal({ address: 'ivan@example.ru', name: 'Иван Петров' });
      expect(parsed.subject).to.equal('Привет, мир');
    });

    it('reads raw 8-bit header bytes that are not UTF-8 as windows-1252, never as U+FFFD', async () => {
      const raw = Buffer.from('From: J\xfcrgen M\xfcller <j@example.de>\r\nSubject: Gr\xfc\xdfe\r\n\r\nHallo\r\n', 'latin1');
      const parsed = await parseMail(raw);
      expect(parsed.from).to.deep.equal({ address: 'j@example.de', name: 'Jürgen Müller' });
      expect(parsed.subject).to.equal('Grüße');
    });
  });

  describe('encoded-word headers', () => {
    it('decodes B and Q words in several charsets and drops the whitespace between adjacent words', async () => {
      const koi = [...iconv.encode('Тест', 'koi8-r')].map((b) => `=${b.toString(16).toUpperCase()}`).join('');
      const parsed = await parseMail(mail([`From: a@example.com`, `Subject: =?koi8-r?Q?${koi}?= =?utf-8?Q?_caf=C3=A9?=  =?ISO-8859-1?B?${Buffer.from(' \xe0 la carte', 'latin1').toString('base64')}?=`]));
      expect(parsed.subject).to.equal('Тест café à la carte');
    });

    it('joins a UTF-8 character split across two encoded words', async () => {
      const bytes = Buffer.from('Привет', 'utf8');
      const w1 = bytes.subarray(0, 3).toString('base64');
      const w2 = bytes.subarray(3).toString('base64');
      const parsed = await parseMail(mail(['From: a@example.com', `Subject: =?UTF-8?B?${w1}?= =?UTF-8?B?${w2}?=`]));
      expect(parsed.subject).to.equal('Привет');
    });

    it('unfolds a subject folded over several lines and trims it', async () => {
      const words = ['まみむめも', 'かきくけこ', 'さしすせそ'].map((w) => `=?UTF-8?B?${Buffer.from(w).toString('base64')}?=`);
      const parsed = await parseMail(mail(['From: a@example.com', `Subject: ${words[0]}`, ` ${words[1]}`, `\t${words[2]}  `]));
      expect(parsed.subject).to.equal('まみむめもかきくけこさしすせそ');
    });

    it('decodes display names in From, To and Cc, keeping quoted commas inside a name', async () => {
      const name = `=?UTF-8?B?${Buffer.from('Иван Петров').toString('base64')}?=`;
      const parsed = await parseMail(
        mail([`From: ${name} <ivan@example.ru>`, 'To: plain@example.com, "Smith, Bob" <bob@example.com>', 'Cc: =?iso-8859-1?q?Ren=E9?= <rene@example.fr>', 'Reply-To: Desk <desk@example.ru>']),
      );
      expect(parsed.from).to.deep.equal({ address: 'ivan@example.ru', name: 'Иван Петров' });
      expect(parsed.to).to.deep.equal([
        { address: 'plain@example.com', name: '' },
        { address: 'bob@example.com', name: 'Smith, Bob' },
      ]);
      expect(parsed.cc).to.deep.equal([{ address: 'rene@example.fr', name: 'René' }]);
      expect(parsed.replyTo).to.deep.equal({ address: 'desk@example.ru', name: 'Desk' });
    });

    it('gives header values by case-insensitive name, unfolded and decoded, every occurrence', async () => {
      const parsed = await parseMail(mail(['From: a@example.com', 'X-Note: =?UTF-8?Q?caf=C3=A9?= first', ' continued', 'x-note: second']));
      expect(parsed.header('X-NOTE')).to.deep.equal(['café first continued', 'second']);
      expect(parsed.header('x-missing')).to.deep.equal([]);
    });
  });

  describe('threading ids', () => {
    it('collects every <id> across all References headers, in order, once each', async () => {
      const parsed = await parseMail(
        mail(['From: a@example.com', 'Message-ID: <self@example.com>', 'References: <r1@x.example>', ' <r2@x.example> <r1@x.example>', 'References: <r3@x.example>,<r4@x.example>']),
      );
      expect(parsed.messageId).to.equal('<self@example.com>');
      expect(parsed.references).to.deep.equal(['<r1@x.example>', '<r2@x.example>', '<r3@x.example>', '<r4@x.example>']);
    });

    it('takes the first id of In-Reply-To, ignoring comments and further ids', async () => {
      const parsed = await parseMail(mail(['From: a@example.com', 'In-Reply-To: <p1@x.example> (from Bob) <p2@x.example>']));
      expect(parsed.inReplyTo).to.equal('<p1@x.example>');
    });

    it('wraps a bare Message-ID in brackets and reports absent or empty ids as null', async () => {
      const bare = await parseMail(mail(['From: a@example.com', 'Message-ID: 1234.5678@old.example']));
      expect(bare.messageId).to.equal('<1234.5678@old.example>');
      const empty = await parseMail(mail(['From: a@example.com', 'Message-ID:']));
      expect(empty.messageId).to.equal(null);
      expect(empty.inReplyTo).to.equal(null);
      expect(empty.references).to.deep.equal([]);
    });

    it('ignores an unterminated id in References', async () => {
      const parsed = await parseMail(mail(['From: a@example.com', 'References: <ok@x.example> <broken.']));
      expect(parsed.references).to.deep.equal(['<ok@x.example>']);
    });
  });

  describe('date', () => {
    it('reads an RFC 5322 date with a zone comment; an unreadable one is null', async () => {
      const ok = await parseMail(mail(['From: a@example.com', 'Date: Mon, 02 Apr 2012 20:21:52 +0400 (MSK)']));
      expect(ok.date?.toISOString()).to.equal('2012-04-02T16:21:52.000Z');
      const bad = await parseMail(mail(['From: a@example.com', 'Date: sometime last week']));
      expect(bad.date).to.equal(null);
    });
  });

  describe('body', () => {
    it('turns an HTML-only body into readable text: no tags, no script or style, entities decoded', async () => {
      const built = htmlOnlyMail(FROM, TO);
      const parsed = await parseMail(built.raw);
      expect(parsed.bodyKind).to.equal('html-only');
      expect(parsed.text.startsWith(built.expectedText), parsed.text).to.equal(true);
      expect(parsed.text).to.contain('Second paragraph — with bold text.');
      expect(parsed.text).to.not.match(/[<>]/);
      expect(parsed.text).to.not.match(/&[a-z#0-9]+;/i);
      expect(parsed.text).to.not.contain('color');
      expect(parsed.text).to.not.contain('var x');
      expect(parsed.text).to.not.contain('ignored title');
      expect(parsed.text).to.not.contain('\u00a0');
    });

    it('shows link text without the URL, skips images and puts table cells apart', async () => {
      const html =
        '<table><tr><td>Cell one</td><td>Cell two</td></tr></table><p><a href="https://track.example/very/long?u=1">Open the report</a> <img src="cid:logo" alt="LOGO"></p>';
      const parsed = await parseMail(mail(['From: a@example.com', 'Content-Type: text/html; charset=utf-8'], html));
      expect(parsed.text).to.contain('Open the report');
      expect(parsed.text).to.not.contain('track.example');
      expect(parsed.text).to.not.contain('LOGO');
      expect(parsed.text).to.not.contain('Cell oneCell two');
      expect(parsed.text.replace(/\s+/g, ' ').trim()).to.equal('Cell one Cell two Open the report');
    });

    it('prefers text/plain over text/html in multipart/alternative', async () => {
      const built = alternativeMail(FROM, TO);
      const parsed = await parseMail(built.raw);
      expect(parsed.bodyKind).to.equal('plain');
      expect(parsed.contentType).to.equal('multipart/alternative');
      expect(parsed.text.trim()).to.equal(built.expectedText);
      expect(parsed.text).to.not.contain('loses');
    });

    it('uses the HTML alternative when the plain part is blank', async () => {
      const raw = mail(
        ['From: a@example.com', 'MIME-Version: 1.0', 'Content-Type: multipart/alternative; boundary="b1"'],
        ['--b1', 'Content-Type: text/plain; charset=utf-8', '', '   ', '--b1', 'Content-Type: text/html; charset=utf-8', '', '<p>Real text</p>', '--b1--', ''].join(CRLF),
      );
      const parsed = await parseMail(raw);
      expect(parsed.bodyKind).to.equal('html-only');
      expect(parsed.text.trim()).to.equal('Real text');
    });

    const inner = ['From: inner@example.com', 'Subject: inner', 'Content-Type: text/plain', '', 'INNER BODY TEXT'];
    const mixed = (parts: string[][]) =>
      mail(
        ['From: a@example.com', 'Subject: fwd', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="XYZ"'],
        [...parts.flatMap((p) => ['--XYZ', ...p]), '--XYZ--', ''].join(CRLF),
      );

    it('does not take an attached message/rfc822 as the body', async () => {
      const parsed = await parseMail(
        mixed([
          ['Content-Type: text/plain; charset=utf-8', '', 'See the attached mail.'],
          ['Content-Type: message/rfc822', 'Content-Disposition: attachment; filename="x.eml"', '', ...inner],
        ]),
      );
      expect(parsed.text.trim()).to.equal('See the attached mail.');
      expect(parsed.text).to.not.contain('INNER');
    });

    it('does not take a message/rfc822 shown inline (a forward) as the body', async () => {
      const parsed = await parseMail(
        mixed([
          ['Content-Type: text/plain; charset=utf-8', '', 'Forwarding this one.'],
          ['Content-Type: message/rfc822', 'Content-Disposition: inline', '', ...inner],
        ]),
      );
      expect(parsed.text.trim()).to.equal('Forwarding this one.');
      expect(parsed.text).to.not.contain('INNER');
    });

    it('does not take the text of an attached message over an HTML-only body', async () => {
      const parsed = await parseMail(
        mixed([
          ['Content-Type: text/html; charset=utf-8', '', '<p>Outer &lt;html&gt; only</p>'],
          ['Content-Type: message/rfc822', '', ...inner],
        ]),
      );
      expect(parsed.bodyKind).to.equal('html-only');
      expect(parsed.text.trim()).to.equal('Outer <html> only');
    });

    it('has no body when the only part is an attached message or an attached text file', async () => {
      const onlyMessage = await parseMail(mixed([['Content-Type: message/rfc822', '', ...inner]]));
      expect(onlyMessage.bodyKind).to.equal('none');
      expect(onlyMessage.text).to.equal('');
      const onlyFile = await parseMail(mixed([['Content-Type: text/plain', 'Content-Disposition: attachment; filename="notes.txt"', '', 'FILE CONTENT']]));
      expect(onlyFile.bodyKind).to.equal('none');
      expect(onlyFile.text).to.equal('');
    });

    it('keeps the machine-readable part of a delivery report out of the body', async () => {
      const raw = mail(
        ['From: MAILER-DAEMON@mx.example.com', 'Subject: Undelivered', 'MIME-Version: 1.0', 'Content-Type: multipart/report; report-type=delivery-status; boundary="R"'],
        [
          '--R',
          'Content-Type: text/plain',
          '',
          'Your message could not be delivered.',
          '--R',
          'Content-Type: message/delivery-status',
          '',
          'Reporting-MTA: dns; mx.example.com',
          '',
          'Final-Recipient: rfc822; gone@example.org',
          'Action: failed',
          'Status: 5.1.1',
          '--R--',
          '',
        ].join(CRLF),
      );
      const parsed = await parseMail(raw);
      expect(parsed.contentType).to.equal('multipart/report');
      expect(parsed.text.trim()).to.equal('Your message could not be delivered.');
      expect(parsed.text).to.not.contain('Final-Recipient');
    });

    it('gives the body with LF line endings and unwraps format=flowed', async () => {
      const crlf = await parseMail(mail(['From: a@example.com'], 'one\r\ntwo\r\n'));
      expect(crlf.text).to.equal('one\ntwo\n');
      const flowed = await parseMail(mail(['From: a@example.com', 'Content-Type: text/plain; charset=utf-8; format=flowed'], 'a long \r\nflowed line\r\n'));
      expect(flowed.text.trim()).to.equal('a long flowed line');
    });
  });

  describe('odd input', () => {
    it('throws EmptyMailError for input with nothing but whitespace', async () => {
      for (const raw of [Buffer.alloc(0), Buffer.from(' \r\n\t\r\n')]) {
        let error: unknown;
        try {
          await parseMail(raw);
        } catch (err) {
          error = err;
        }
        expect(error).to.be.instanceOf(EmptyMailError);
      }
    });

    it('reads a message with no From, no Subject and no Content-Type', async () => {
      const parsed = await parseMail(Buffer.from('X-Only: header\r\n\r\nbody\r\n'));
      expect(parsed.from).to.equal(null);
      expect(parsed.subject).to.equal('');
      expect(parsed.contentType).to.equal('text/plain');
      expect(parsed.text.trim()).to.equal('body');
    });
  });
});
