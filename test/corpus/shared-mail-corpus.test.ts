/**
 * The mail modules against the shared real-world corpus, read in place from ../shared/fixtures/mail
 * (beside the repository; never copied into it). MANIFEST.json there holds the expected facts,
 * computed with Python's stdlib email package; its "conventions" section says what each field
 * means, and the comparisons below follow it. When the folder is absent the suite registers one
 * pending test that says so.
 */
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseMail, type ParsedMail } from '../../src/gmail/mime-parse';
import { detectAutomatedMail, type AutomationReason } from '../../src/gmail/automated-mail';
import { stripQuotedText } from '../../src/ai/quoted-text';
import { decodePushBody } from '../../src/gmail/push-notification';
import { CORPUS_ABSENT, CORPUS_DIR } from '../support/shared-corpus';

const MANIFEST_PATH = path.join(CORPUS_DIR, 'MANIFEST.json');

interface AutomationSignals {
  auto_submitted: boolean;
  x_autoreply: boolean;
  precedence_bulk_list_junk: boolean;
  list_id_present: boolean;
  multipart_report: boolean;
  empty_return_path: boolean;
  mailer_daemon_sender: boolean;
  automatic_by_listed_headers: boolean;
}

interface EmlExpected {
  from_address: string | null;
  from_display_name: string | null;
  subject_trimmed: string | null;
  message_id: string | null;
  in_reply_to_ids: string[];
  references_ids: string[];
  date_iso: string | null;
  top_content_type: string;
  automation_signals: AutomationSignals;
  body_kind: 'plain' | 'html-only' | 'none';
  body_text_first200?: string;
  body_text_has_replacement_char?: boolean;
  html_visible_text_first200?: string;
  lenient_reading?: { compat32_first_text_plain_first200?: string } | null;
}

interface Entry<E> {
  file: string;
  type: string;
  exercises?: string[];
  expected: E;
}

interface ReplyExpected {
  expected_new_text_trimmed: string;
  derived?: string;
}

interface PushExpected {
  emailAddress: string;
  historyId: string;
  messageId: string;
}

interface Manifest {
  conventions: { eml_expected_facts: Record<string, string>; reply_text_expected: string };
  counts: Record<string, number>;
  files: Array<Entry<unknown>>;
}

/** The manifest's automation signals and the rule of ours that each one corresponds to. */
const SIGNAL_REASONS: Array<[keyof AutomationSignals, AutomationReason]> = [
  ['auto_submitted', 'auto_submitted'],
  ['x_autoreply', 'x_autoreply'],
  ['precedence_bulk_list_junk', 'precedence'],
  ['list_id_present', 'list_id'],
  ['multipart_report', 'multipart_report'],
  ['empty_return_path', 'empty_return_path'],
  ['mailer_daemon_sender', 'mailer_daemon'],
];

/**
 * Python reports each raw 8-bit header byte as U+FFFD; we read such bytes as windows-1252 (one
 * character per byte). So: ours has no U+FFFD, and matches the expected value with each U+FFFD
 * standing for exactly one other character.
 */
function matchesExceptReplacements(actual: string, expected: string): boolean {
  if (actual.includes('\uFFFD')) return false;
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${expected.split('\uFFFD').map(escape).join('[^\\uFFFD]')}$`, 'u').test(actual);
}

const flat = (s: string) => s.replace(/\s+/g, ' ').trim();

function readFixture(file: string): Buffer {
  return readFileSync(path.join(CORPUS_DIR, file));
}

describe('shared mail corpus (../shared/fixtures/mail)', function () {
  if (!existsSync(MANIFEST_PATH)) {
    it(CORPUS_ABSENT); // pending: the run's report says plainly that these tests did not run
    return;
  }
  const manifest = JSON.parse(readFileSync(MANIFEST_PATH, 'utf8')) as Manifest;
  const ofType = <E>(type: string) => manifest.files.filter((f) => f.type === type) as Array<Entry<E>>;

  describe('the manifest', () => {
    it('still defines the facts these tests interpret', () => {
      const facts = manifest.conventions.eml_expected_facts;
      expect(facts.subject).to.contain('subject_trimmed');
      expect(facts.references).to.contain('references_ids');
      expect(facts.automation_signals).to.contain('automatic_by_listed_headers');
      expect(facts.body).to.contain('get_body');
      expect(facts.html_visible_text_first200).to.contain('collapsed');
      expect(manifest.conventions.reply_text_expected).to.contain('expected_new_text_trimmed');
    });

    it('lists as many files of each type as it counts, and each of them exists', () => {
      const types: Record<string, string> = { eml: 'eml', 'gmail-api-json': 'gmail-api-json', 'pubsub-push-json': 'pubsub-push-json', 'reply-text': 'reply-text' };
      for (const [countKey, type] of Object.entries(types)) expect(ofType(type), type).to.have.length(manifest.counts[countKey] ?? -1);
      for (const entry of manifest.files) expect(existsSync(path.join(CORPUS_DIR, entry.file)), entry.file).to.equal(true);
    });
  });

  describe('eml: parseMail and detectAutomatedMail', () => {
    for (const entry of ofType<EmlExpected>('eml')) {
      const e = entry.expected;
      describe(entry.file, () => {
        let mail: ParsedMail;
        before(async () => {
          mail = await parseMail(readFixture(entry.file));
        });

        it('has the From address and display name', () => {
          if (e.from_address === null) {
            expect(mail.from).to.equal(null);
            return;
          }
          expect(mail.from?.address).to.equal(e.from_address);
          const name = mail.from?.name ?? '';
          expect(matchesExceptReplacements(name, e.from_display_name ?? ''), `${JSON.stringify(name)} vs ${JSON.stringify(e.from_display_name)}`).to.equal(true);
        });

        it('has the subject', () => {
          expect(mail.subject).to.equal(e.subject_trimmed ?? '');
        });

        it('has the Message-ID, In-Reply-To and References ids', () => {
          expect(mail.messageId).to.equal(e.message_id);
          expect(mail.inReplyTo).to.equal(e.in_reply_to_ids[0] ?? null);
          expect(mail.references).to.deep.equal(e.references_ids);
        });

        it('has the date and the top-level content type', () => {
          if (e.date_iso === null) expect(mail.date).to.equal(null);
          else expect(mail.date?.getTime()).to.equal(new Date(e.date_iso).getTime());
          expect(mail.contentType).to.equal(e.top_content_type.toLowerCase());
        });

        it(`has the body (${e.body_kind}${e.body_kind === 'none' && e.lenient_reading ? ', lenient reading' : ''})`, () => {
          if (!e.body_text_has_replacement_char) expect(mail.text).to.not.contain('\uFFFD');
          if (e.body_kind === 'plain') {
            const expected = (e.body_text_first200 ?? '').trim();
            expect(mail.bodyKind).to.equal('plain');
            expect(mail.text.trim().startsWith(expected), mail.text.slice(0, 300)).to.equal(true);
            // under 200 characters the manifest holds the whole body
            if ((e.body_text_first200 ?? '').length < 200) expect(mail.text.trim()).to.equal(expected);
          } else if (e.body_kind === 'html-only') {
            const expected = flat(e.html_visible_text_first200 ?? '');
            expect(mail.bodyKind).to.equal('html-only');
            expect(flat(mail.text).startsWith(expected), mail.text.slice(0, 300)).to.equal(true);
            if ((e.html_visible_text_first200 ?? '').length < 200) expect(flat(mail.text)).to.equal(expected);
          } else if (e.lenient_reading?.compat32_first_text_plain_first200 !== undefined) {
            // strict parsing lost the MIME boundary; our lenient parser reads the text part as
            // Python's compat32 does (see the entry's notes)
            const expected = e.lenient_reading.compat32_first_text_plain_first200.trim();
            expect(mail.bodyKind).to.equal('plain');
            expect(mail.text.trim().startsWith(expected), mail.text.slice(0, 300)).to.equal(true);
          } else {
            expect(mail.bodyKind).to.equal('none');
            expect(mail.text).to.equal('');
          }
        });

        const signals = e.automation_signals;
        // A mail the manifest's header rules miss is still automatic for us when the fixture is an
        // out-of-office answer or list mail (our rules also read the subject, the body and more
        // headers); none of the corpus's human mails is one.
        const automaticByKind = (entry.exercises ?? []).some((x) => /out-of-office|auto-?reply|autorespon|mailing list|bounce/i.test(x));
        const shouldBeAutomatic = signals.automatic_by_listed_headers || automaticByKind;
        it(shouldBeAutomatic ? 'is recognised as automatic mail, by a rule the manifest also lists' : 'is not taken for automatic mail', () => {
          const verdict = detectAutomatedMail(mail);
          expect(verdict.automated).to.equal(shouldBeAutomatic);
          if (signals.automatic_by_listed_headers) {
            const listed = SIGNAL_REASONS.filter(([signal]) => signals[signal]).map(([, reason]) => reason);
            expect(listed).to.include(verdict.reason);
          } else if (!shouldBeAutomatic) {
            expect(verdict.reason).to.equal(null);
          }
        });
      });
    }
  });

  describe('replies: stripQuotedText', () => {
    for (const entry of ofType<ReplyExpected>('reply-text')) {
      const label = entry.expected.derived ? ' (expectation derived from the asserted fragments)' : '';
      it(`${entry.file} gives the new text${label}`, () => {
        expect(stripQuotedText(readFixture(entry.file).toString('utf8'))).to.equal(entry.expected.expected_new_text_trimmed);
      });
    }
  });

  describe('pubsub: decodePushBody', () => {
    for (const entry of ofType<PushExpected>('pubsub-push-json')) {
      it(`${entry.file} decodes to the documented notification`, () => {
        const notification = decodePushBody(JSON.parse(readFixture(entry.file).toString('utf8')));
        expect(notification).to.deep.equal({
          emailAddress: entry.expected.emailAddress,
          historyId: String(entry.expected.historyId),
          pubsubMessageId: entry.expected.messageId,
        });
      });
    }
  });
});
