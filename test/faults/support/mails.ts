import { randomBytes } from 'node:crypto';

/** Plain RFC 822 mails for the fault tests, each with a Message-ID of its own. */

export interface MailSpec {
  from: string;
  to: string;
  subject: string;
  text: string;
  headers?: Record<string, string>;
}

export function rawMail(spec: MailSpec): Buffer {
  const lines = [
    `From: ${spec.from}`,
    `To: ${spec.to}`,
    `Subject: ${spec.subject}`,
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${randomBytes(10).toString('hex')}@faults.example>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    ...Object.entries(spec.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
    '',
    spec.text,
    '',
  ];
  return Buffer.from(lines.join('\r\n'), 'utf8');
}

/** Headers that make a mail automatic: the product must never answer it. */
export const AUTO_REPLY_HEADERS = { 'Auto-Submitted': 'auto-replied', 'X-Autoreply': 'yes' };
export const BULK_HEADERS = { Precedence: 'bulk', 'List-Id': '<news.faults.example>' };
