import iconv from 'iconv-lite';
import { randomBytes } from 'node:crypto';

/**
 * Small real-shaped mails that the repository's own tests build themselves (the shared corpus is
 * read from ../shared/fixtures when present; these cover the same kinds without it).
 */
export interface BuiltMail {
  kind: string;
  raw: Buffer;
  subject: string;
  /** What the readable text of the mail must start with. */
  expectedText: string;
}

const CRLF = '\r\n';

function encodedWord(text: string, charset: string): string {
  return `=?${charset}?B?${iconv.encode(text, charset).toString('base64')}?=`;
}

function quotedPrintable(bytes: Buffer): string {
  let out = '';
  let line = '';
  for (const byte of bytes) {
    let piece: string;
    if (byte === 0x0a) {
      out += `${line}${CRLF}`;
      line = '';
      continue;
    }
    if (byte === 0x0d) continue;
    piece = byte >= 33 && byte <= 126 && byte !== 61 ? String.fromCharCode(byte) : `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    if (line.length + piece.length > 73) {
      out += `${line}=${CRLF}`;
      line = '';
    }
    line += piece;
  }
  return out + line;
}

function head(from: string, to: string, subjectHeader: string, extra: string[] = []): string[] {
  return [
    `From: ${from}`,
    `To: ${to}`,
    `Subject: ${subjectHeader}`,
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${randomBytes(8).toString('hex')}@fixtures.example>`,
    'MIME-Version: 1.0',
    ...extra,
  ];
}

export function koi8rMail(from: string, to: string): BuiltMail {
  const subject = 'Вопрос о поставке';
  const text = 'Здравствуйте! Когда будет поставка?\nС уважением, Анна\n';
  const lines = [
    ...head(from, to, encodedWord(subject, 'koi8-r'), ['Content-Type: text/plain; charset=koi8-r', 'Content-Transfer-Encoding: base64']),
    '',
    iconv.encode(text, 'koi8-r').toString('base64').replace(/.{76}/g, `$&${CRLF}`),
  ];
  return { kind: 'KOI8-R', raw: Buffer.from(lines.join(CRLF), 'latin1'), subject, expectedText: 'Здравствуйте! Когда будет поставка?' };
}

export function windows1251Mail(from: string, to: string): BuiltMail {
  const subject = 'Встреча в четверг';
  const text = 'Привет! Встречаемся в четверг в 15:00, хорошо?\n';
  const lines = [
    ...head(from, to, encodedWord(subject, 'windows-1251'), ['Content-Type: text/plain; charset="windows-1251"', 'Content-Transfer-Encoding: quoted-printable']),
    '',
    quotedPrintable(iconv.encode(text, 'windows-1251')),
  ];
  return { kind: 'windows-1251', raw: Buffer.from(lines.join(CRLF), 'latin1'), subject, expectedText: 'Привет! Встречаемся в четверг в 15:00, хорошо?' };
}

export function iso2022jpMail(from: string, to: string): BuiltMail {
  const subject = 'まみむめも';
  // "すみません。お元気ですか" in ISO-2022-JP (7-bit with escape sequences), as Python's codec writes it.
  const body = Buffer.from('1b24422439245f245e243b24732123242a3835352424472439242b1b2842', 'hex');
  const headerText = head(from, to, `=?UTF-8?B?${Buffer.from(subject).toString('base64')}?=`, ['Content-Type: text/plain;', ' charset=iso-2022-jp', 'Content-Transfer-Encoding: 7bit']).join(CRLF);
  const raw = Buffer.concat([Buffer.from(`${headerText}${CRLF}${CRLF}`, 'latin1'), body, Buffer.from(CRLF)]);
  return { kind: 'ISO-2022-JP', raw, subject, expectedText: 'すみません。お元気ですか' };
}

export function htmlOnlyMail(from: string, to: string): BuiltMail {
  const subject = 'Only HTML here';
  const html =
    '<html><head><style>p { color: red }</style><title>ignored title</title></head>' +
    '<body><p>Hello &amp; welcome,&nbsp;friend!</p><p>Second&#160;paragraph &mdash; with <b>bold</b> text.</p><script>var x = 1;</script></body></html>';
  const lines = [...head(from, to, subject, ['Content-Type: text/html; charset=utf-8', 'Content-Transfer-Encoding: quoted-printable']), '', quotedPrintable(Buffer.from(html, 'utf8'))];
  return { kind: 'HTML-only', raw: Buffer.from(lines.join(CRLF), 'latin1'), subject, expectedText: 'Hello & welcome, friend!' };
}

export function alternativeMail(from: string, to: string): BuiltMail {
  const subject = 'Plain and fancy';
  const boundary = `b_${randomBytes(6).toString('hex')}`;
  const lines = [
    ...head(from, to, subject, [`Content-Type: multipart/alternative; boundary="${boundary}"`]),
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    'The plain part wins: café, naïve.',
    `--${boundary}`,
    'Content-Type: text/html; charset=utf-8',
    '',
    '<p>The <b>HTML</b> part loses.</p>',
    `--${boundary}--`,
    '',
  ];
  return { kind: 'multipart/alternative', raw: Buffer.from(lines.join(CRLF), 'utf8'), subject, expectedText: 'The plain part wins: café, naïve.' };
}

export const OWN_FIXTURES = [koi8rMail, windows1251Mail, iso2022jpMail, htmlOnlyMail, alternativeMail];
