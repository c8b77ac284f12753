import { expect } from 'chai';
import { parseMail } from '../../../src/gmail/mime-parse';
import { detectAutomatedMail, type AutomationReason } from '../../../src/gmail/automated-mail';

const CRLF = '\r\n';

interface MailSpec {
  from?: string;
  subject?: string;
  headers?: string[];
  body?: string;
}

function raw({ from = 'Alice Example <alice@example.com>', subject = 'Lunch tomorrow?', headers = [], body = 'Hi Bob,\n\nShall we have lunch tomorrow at noon?\n\nAlice\n' }: MailSpec): Buffer {
  return Buffer.from(
    [`From: ${from}`, 'To: Bob <bob@example.com>', `Subject: ${subject}`, 'Message-ID: <m1@example.com>', 'Date: Mon, 05 May 2025 10:00:00 +0000', ...headers, '', body.replace(/\n/g, CRLF)].join(CRLF),
    'utf8',
  );
}

async function verdict(spec: MailSpec) {
  return detectAutomatedMail(await parseMail(raw(spec)));
}

const REPORT_BODY = ['--R', 'Content-Type: text/plain', '', 'Delivery failed.', '--R', 'Content-Type: message/delivery-status', '', 'Action: failed', '--R--', ''].join('\n');

describe('detectAutomatedMail', () => {
  describe('machine mail is recognised by each rule', () => {
    const cases: Array<[string, MailSpec, AutomationReason]> = [
      ['Auto-Submitted: auto-replied', { headers: ['Auto-Submitted: auto-replied'] }, 'auto_submitted'],
      ['Auto-Submitted: auto-generated with a comment', { headers: ['Auto-Submitted: auto-generated (warning-timeout)'] }, 'auto_submitted'],
      ['Auto-Submitted: auto-notified', { headers: ['Auto-Submitted: auto-notified'] }, 'auto_submitted'],
      ['X-Autoreply: yes', { headers: ['X-Autoreply: yes'] }, 'x_autoreply'],
      ['X-Autorespond', { headers: ['X-Autorespond: vacation'] }, 'x_autoreply'],
      ['Precedence: bulk', { headers: ['Precedence: bulk'] }, 'precedence'],
      ['Precedence: List (any case)', { headers: ['Precedence: List'] }, 'precedence'],
      ['Precedence: junk', { headers: ['Precedence: junk'] }, 'precedence'],
      ['List-Id', { headers: ['List-Id: Developers <dev.lists.example.org>'] }, 'list_id'],
      ['List-Unsubscribe', { headers: ['List-Unsubscribe: <mailto:leave@lists.example.org>'] }, 'list_id'],
      [
        'multipart/report',
        { subject: 'Undelivered Mail', headers: ['MIME-Version: 1.0', 'Content-Type: multipart/report; report-type=delivery-status; boundary="R"'], body: REPORT_BODY },
        'multipart_report',
      ],
      ['Return-Path: <>', { headers: ['Return-Path: <>'] }, 'empty_return_path'],
      ['From MAILER-DAEMON', { from: 'Mail Delivery System <MAILER-DAEMON@mx.example.com>', subject: 'Undelivered Mail Returned to Sender' }, 'mailer_daemon'],
      ['From postmaster', { from: 'postmaster@example.com', subject: 'Delivery failure' }, 'mailer_daemon'],
      ['From "MAILER-DAEMON" without a domain', { from: 'MAILER-DAEMON (Mail Delivery System)', subject: 'failure notice' }, 'mailer_daemon'],
      ['Sender postmaster', { headers: ['Sender: postmaster@lists.example.org'] }, 'mailer_daemon'],
      ['X-Auto-Response-Suppress: All (Exchange)', { headers: ['X-Auto-Response-Suppress: All'] }, 'auto_response_suppress'],
    ];
    for (const [label, spec, reason] of cases) {
      it(label, async () => {
        expect(await verdict(spec)).to.deep.equal({ automated: true, reason });
      });
    }

    it('reports the first rule that holds when several do', async () => {
      expect(await verdict({ headers: ['Precedence: bulk', 'Auto-Submitted: auto-replied', 'Return-Path: <>'] })).to.deep.equal({ automated: true, reason: 'auto_submitted' });
    });
  });

  describe('out-of-office answers without any of those headers', () => {
    const subjects = [
      'Automatic reply: Lunch tomorrow?',
      'Autoreply: Lunch tomorrow?',
      'Out of Office: Lunch tomorrow?',
      'Out of Office AutoReply: Lunch tomorrow?',
      'Abwesenheitsnotiz: Mittagessen',
      'Réponse automatique : Déjeuner',
      'Автоответ: Обед завтра',
      'Автоматический ответ: Обед завтра',
      '自動返信: ランチ',
      'AUTO: Jane Doe is out of the office (returning 05/12/2025)',
    ];
    for (const subject of subjects) {
      it(`by the subject "${subject}"`, async () => {
        expect(await verdict({ subject, body: 'Thank you for your message.\n' })).to.deep.equal({ automated: true, reason: 'out_of_office' });
      });
    }

    const bodies: Array<[string, string]> = [
      ['English', 'Thank you for your email. I am currently out of the office with limited access to email. I will respond upon my return.\n'],
      ['English, "I\'m away"', "Hello,\nI'm away from my desk until Monday. For urgent matters please call the front desk.\n"],
      ['German', 'Guten Tag,\nich bin derzeit nicht im Büro. In dringenden Fällen wenden Sie sich bitte an Frau Example.\n'],
      ['French (follow-up starts with "à")', "Bonjour,\nje suis absente jusqu'au 12 mai. À mon retour, je vous répondrai.\n"],
      ['Spanish', 'Hola,\nestoy de vacaciones hasta el lunes. Para asuntos urgentes escriba a Ana.\n'],
      ['Russian (opening starts with "я")', 'Здравствуйте!\nЯ в отпуске до 12 мая. По срочным вопросам пишите Ивану.\n'],
    ];
    for (const [label, body] of bodies) {
      it(`by the body (${label}) under an ordinary "Re:" subject`, async () => {
        expect(await verdict({ subject: 'Re: Lunch tomorrow?', body })).to.deep.equal({ automated: true, reason: 'out_of_office' });
      });
    }
  });

  describe('human mail is not flagged', () => {
    const cases: Array<[string, MailSpec]> = [
      ['an ordinary mail', {}],
      ['an ordinary reply with a quote', { subject: 'Re: Lunch tomorrow?', body: 'Yes, noon works.\n\nOn Mon, May 5, 2025 at 10:00 AM Bob <bob@example.com> wrote:\n> Lunch?\n' }],
      ['Auto-Submitted: no', { headers: ['Auto-Submitted: no'] }],
      ['Auto-Submitted: No (with a comment)', { headers: ['Auto-Submitted: No (sent by a person)'] }],
      ['X-Autoreply: no', { headers: ['X-Autoreply: no'] }],
      ['Precedence: first-class', { headers: ['Precedence: first-class'] }],
      ['an ordinary Return-Path', { headers: ['Return-Path: <alice@example.com>'] }],
      ['X-Auto-Response-Suppress that only suppresses receipts', { headers: ['X-Auto-Response-Suppress: DR, RN, NRN'] }],
      ['a person writing "Re: out of office party"', { subject: 'Re: out of office party', body: 'Count me in for the out of office party on Friday!\n' }],
      ['"Out of office party" as a subject', { subject: 'Out of office party on Friday', body: 'Who is coming?\n' }],
      ['a person asking about automatic replies', { subject: 'Automatic reply settings do not work', body: 'Hi IT, my automatic reply settings do not work. Can you help?\n' }],
      ['"AUTO:" as a plain label', { subject: 'AUTO: build 1234 passed', body: 'The nightly build is green.\n' }],
      ['a person who was away', { subject: 'Re: meeting', body: 'Sorry for the late answer, I was away last week. Let us meet on Monday.\n' }],
      ['a person whose display name says postmaster', { from: '"Jane Doe, Postmaster" <jane@example.com>' }],
    ];
    for (const [label, spec] of cases) {
      it(label, async () => {
        expect(await verdict(spec)).to.deep.equal({ automated: false, reason: null });
      });
    }
  });
});
