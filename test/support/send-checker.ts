import { expect } from 'chai';
import { REPLY_ID_HEADER } from '../../src/gmail/mime-build';
import { header, sentItems, type SentItem } from './mail-loop';

/**
 * Counts every send that the sandbox Gmail recorded, per source mail (the reply's In-Reply-To is
 * the Message-ID of the mail it answers), against what a test delivered: exactly one reply per
 * eligible mail, none for the rest, and no send that answers something the test never delivered.
 */

export interface ExpectedMail {
  mailbox: string;
  /** RFC 822 Message-ID of the delivered mail, with its <>. */
  messageId: string;
  eligible: boolean;
  /** What the mail is, for the report ("user 3 mail 7 from an inactive contact"). */
  label: string;
}

export interface MailSends {
  mail: ExpectedMail;
  /** Gmail ids of the sends answering it, and the reply ids they carry. */
  sends: Array<{ gmailId: string; replyId: string | undefined }>;
}

export interface StraySend {
  mailbox: string;
  gmailId: string;
  inReplyTo: string | undefined;
}

export interface SendReport {
  total: number;
  lost: MailSends[];
  duplicates: MailSends[];
  unexpected: MailSends[];
  stray: StraySend[];
}

const normaliseId = (id: string | undefined) => id?.trim().replace(/^<|>$/g, '').toLowerCase();

export class SendChecker {
  private readonly mails: ExpectedMail[] = [];

  constructor(private readonly baseUrl: string) {}

  expect(mail: ExpectedMail): void {
    this.mails.push(mail);
  }

  get expected(): readonly ExpectedMail[] {
    return this.mails;
  }

  get eligibleCount(): number {
    return this.mails.filter((m) => m.eligible).length;
  }

  /** Reads every mailbox's sent items once and counts. */
  async report(): Promise<SendReport> {
    const mailboxes = [...new Set(this.mails.map((m) => m.mailbox))];
    const sentBy = new Map<string, SentItem[]>();
    await Promise.all(mailboxes.map(async (mb) => sentBy.set(mb, await sentItems(this.baseUrl, mb))));
    const report: SendReport = { total: 0, lost: [], duplicates: [], unexpected: [], stray: [] };
    for (const mailbox of mailboxes) {
      const mine = this.mails.filter((m) => m.mailbox === mailbox);
      const byId = new Map(mine.map((m) => [normaliseId(m.messageId)!, { mail: m, sends: [] } as MailSends]));
      for (const item of sentBy.get(mailbox) ?? []) {
        report.total += 1;
        const inReplyTo = header(item, 'in-reply-to');
        const entry = byId.get(normaliseId(inReplyTo) ?? '');
        if (entry) entry.sends.push({ gmailId: item.id, replyId: header(item, REPLY_ID_HEADER) });
        else report.stray.push({ mailbox, gmailId: item.id, inReplyTo });
      }
      for (const entry of byId.values()) {
        if (entry.mail.eligible && entry.sends.length === 0) report.lost.push(entry);
        if (entry.mail.eligible && entry.sends.length > 1) report.duplicates.push(entry);
        if (!entry.mail.eligible && entry.sends.length > 0) report.unexpected.push(entry);
      }
    }
    return report;
  }
}

export function describeReport(report: SendReport, expectedEligible: number): string {
  const line = (e: MailSends) => `  ${e.mail.label} [${e.mail.mailbox} ${e.mail.messageId}]: ${e.sends.length} sends ${JSON.stringify(e.sends)}`;
  return [
    `${report.total} sends for ${expectedEligible} eligible mails`,
    `lost (${report.lost.length}):`,
    ...report.lost.map(line),
    `duplicates (${report.duplicates.length}):`,
    ...report.duplicates.map(line),
    `answered but not eligible (${report.unexpected.length}):`,
    ...report.unexpected.map(line),
    `sends answering no delivered mail (${report.stray.length}):`,
    ...report.stray.map((s) => `  [${s.mailbox}] gmail id ${s.gmailId}, In-Reply-To ${s.inReplyTo ?? '(none)'}`),
  ].join('\n');
}

/** 0 lost, 0 duplicates, nothing answered that should not be. */
export function assertExactlyOnce(report: SendReport, expectedEligible: number): void {
  const clean = report.lost.length + report.duplicates.length + report.unexpected.length + report.stray.length === 0;
  expect(clean, describeReport(report, expectedEligible)).to.equal(true);
  expect(report.total).to.equal(expectedEligible);
}
