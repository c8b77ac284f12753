/**
 * Decides whether an incoming mail was sent by a machine (auto-reply, bounce, mailing list,
 * notification), so that the assistant never answers it and never loops with another robot.
 *
 * The rules are checked in the order of AutomationReason; the first one that holds is reported.
 * Header rules are exact and come from standards; the out-of-office rule reads the subject and
 * the top of the body and is kept conservative (ordinary human mail must not match).
 */
import { parseAddressHeader } from 'mailparser';
import type { ParsedMail } from './mime-parse';

export type AutomationReason =
  | 'auto_submitted'
  | 'x_autoreply'
  | 'precedence'
  | 'list_id'
  | 'multipart_report'
  | 'empty_return_path'
  | 'mailer_daemon'
  | 'auto_response_suppress'
  | 'out_of_office';

export interface AutomationVerdict {
  automated: boolean;
  reason: AutomationReason | null;
}

/** The first token of a header value, lower-case, without comments or parameters. */
function keyword(value: string): string {
  return value
    .replace(/\([^)]*\)/g, ' ')
    .split(/[;\s]/)
    .filter(Boolean)[0]
    ?.toLowerCase() ?? '';
}

/** A header present with any value other than "no". */
function presentAndNotNo(values: string[]): boolean {
  return values.some((value) => keyword(value) !== 'no');
}

const DAEMON_LOCAL_PART = /^(?:mailer-daemon|postmaster)$/i;

function isDaemon(address: string | undefined): boolean {
  if (!address) return false;
  const at = address.lastIndexOf('@');
  const local = (at >= 0 ? address.slice(0, at) : address).replace(/^"|"$/g, '');
  return DAEMON_LOCAL_PART.test(local);
}

function senderAddresses(values: string[]): string[] {
  try {
    return parseAddressHeader(values, { flatten: true, decodePunycode: false })
      .value.map((entry) => entry.address ?? '')
      .filter(Boolean);
  } catch {
    return [];
  }
}

/**
 * Subject prefixes that auto-responders put in front of the original subject (or use alone):
 * the localised "Automatic reply:" of Exchange/Outlook, Lotus Notes "Abwesenheitsnotiz:", the
 * "Autoreply"/"Out of Office" of vacation programs, Yandex/Mail.ru "Автоответ". Each must start
 * the subject and be followed by a colon, a dash, a bracket or nothing, so that "Re: out of office
 * party" or "Automatic reply settings do not work" (a person asking) does not match.
 */
const OOF_PREFIXES = [
  'auto(?:matic)?[ -]?(?:reply|response|responder|respons)', // Automatic reply, Autoreply, Auto-Reply, AutoResponse
  'out of (?:the )?office(?:[ -]?(?:auto[ -]?reply|reply|notice))?', // Out of Office, Out of Office AutoReply
  'automatische antwort',
  'abwesenheits?(?:notiz|meldung)', // German, Lotus Notes
  'r[ée]ponse automatique', // French
  'absen(?:t|te|ce) du bureau',
  'respuesta autom[áa]tica', // Spanish
  'fuera de (?:la )?oficina',
  'risposta automatica', // Italian
  'resposta autom[áa]tica', // Portuguese
  'automatisch antwoord', // Dutch
  'automatiskt? svar', // Swedish, Danish, Norwegian
  'automaattinen vastaus', // Finnish
  'automatyczna odpowied[źz]', // Polish
  'automatick[áa] odpov[ěe]ď', // Czech
  'otomatik (?:yan[ıi]t|cevap)', // Turkish
  'автоответ(?:чик)?', // Russian (Yandex, Mail.ru)
  'автоматический ответ', // Russian Outlook
  'автовідповідь', // Ukrainian
  'автоматична відповідь',
  '自動応答', // Japanese
  '自動返信',
  '自动回复', // Chinese
  '自動回覆',
  '자동 ?(?:회신|응답)', // Korean
];
const OOF_SUBJECT = new RegExp(`^\\[?(?:${OOF_PREFIXES.join('|')})\\]?\\s*(?:[:：\\-–—(\\[]|$)`, 'iu');

/**
 * "AUTO:" (Lotus Notes: "AUTO: Jane Doe is out of the office (returning …)") is short enough for a
 * person to use as a label, so it counts only with out-of-office wording after it, or together
 * with the body rule.
 */
const WEAK_OOF_SUBJECT = /^auto\s*:/i;
const OOF_WORDING = /\b(?:out of (?:the )?office|away|absent|on (?:leave|vacation|holiday)|returning|vacation|holiday)\b/i;

/**
 * The top of the body of an out-of-office answer: the author says they are away...
 * (JavaScript's \b only knows ASCII word characters: before a non-ASCII letter such as "я" or "à"
 * it never matches, so those patterns use a Unicode lookbehind instead.)
 */
const OOF_BODY_OPENING: RegExp[] = [
  /\bI(?:'m|’m| am| will be)\s+(?:currently\s+|presently\s+|now\s+)?(?:out of (?:the )?office|away(?: from (?:the |my )?(?:office|desk|e-?mail))?|on (?:annual |parental |maternity |paternity |sick |business )?(?:leave|vacation|holiday))\b/i,
  /\bich bin (?:derzeit |zurzeit |momentan |bis [^.\n]{1,40} )?(?:nicht im büro|abwesend|im urlaub)\b/i,
  /\bje suis (?:actuellement )?absente?\b/i,
  /\bestoy (?:actualmente )?(?:fuera de la oficina|de vacaciones|ausente)\b/i,
  /(?<![\p{L}\p{N}_])я (?:сейчас |в настоящее время |временно )?(?:нахожусь в отпуске|в отпуске|отсутствую|не в офисе)/iu,
];
/** ...and says something about mail being read later or by someone else. */
const OOF_BODY_FOLLOW_UP: RegExp[] = [
  /\blimited (?:access|e-?mail)\b/i,
  /\b(?:no|without) access to (?:my )?e-?mail\b/i,
  /\b(?:upon|on|after) my return\b/i,
  /\bwhen I (?:get back|return|am back)\b/i,
  /\breturn(?:ing)? (?:to the office )?on\b/i,
  /\bback (?:in the office )?on\b/i,
  /\bfor (?:urgent|immediate|pressing)\b/i,
  /\bin (?:case of|my absence)\b/i,
  /\b(?:e-?mails?|messages?) will (?:not )?be (?:read|forwarded|delayed)\b/i,
  /\bnach meiner rückkehr\b|\bin dringenden fällen\b/i,
  /(?<![\p{L}\p{N}_])à mon retour\b|\ben cas d'urgence\b/iu,
  /\ba mi regreso\b|\bpara asuntos urgentes\b/i,
  /по возвращении|по срочным вопросам|после возвращения/i,
];

function bodySaysOutOfOffice(text: string): boolean {
  const top = text.replace(/\r\n?/g, '\n').trimStart();
  const opening = top.slice(0, 300);
  if (!OOF_BODY_OPENING.some((re) => re.test(opening))) return false;
  const head = top.slice(0, 800);
  return OOF_BODY_FOLLOW_UP.some((re) => re.test(head));
}

function subjectSaysOutOfOffice(subject: string, bodySays: () => boolean): boolean {
  const s = subject.trim();
  if (OOF_SUBJECT.test(s)) return true;
  if (WEAK_OOF_SUBJECT.test(s)) return OOF_WORDING.test(s.replace(WEAK_OOF_SUBJECT, '')) || bodySays();
  return false;
}

export function detectAutomatedMail(mail: ParsedMail): AutomationVerdict {
  const verdict = (reason: AutomationReason): AutomationVerdict => ({ automated: true, reason });

  // RFC 3834 §5: Auto-Submitted with any value but "no" (auto-generated, auto-replied, auto-notified).
  if (presentAndNotNo(mail.header('auto-submitted'))) return verdict('auto_submitted');

  // X-Autoreply / X-Autorespond (/ X-Autoresponder): the pre-RFC 3834 markers still set by many
  // vacation programs and hosting panels (cPanel, Yandex, Mail.ru); RFC 3834 §3.1.8 lists them.
  if (presentAndNotNo([...mail.header('x-autoreply'), ...mail.header('x-autorespond'), ...mail.header('x-autoresponder')])) {
    return verdict('x_autoreply');
  }

  // Precedence: bulk / list / junk (RFC 2076 §3.9, RFC 3834 §3.1.8: do not answer these).
  if (mail.header('precedence').some((value) => ['bulk', 'list', 'junk'].includes(keyword(value)))) {
    return verdict('precedence');
  }

  // Mailing lists: List-Id (RFC 2919) or List-Unsubscribe (RFC 2369, also set by newsletters and
  // notification senders, RFC 8058); RFC 3834 §2 says not to answer list traffic.
  if (mail.header('list-id').length > 0 || mail.header('list-unsubscribe').length > 0) return verdict('list_id');

  // Delivery status and disposition notifications are multipart/report (RFC 6522, RFC 3464, RFC 8098).
  if (mail.contentType === 'multipart/report') return verdict('multipart_report');

  // A null reverse-path "<>" marks bounces and auto-replies (RFC 5321 §4.5.5, RFC 3834 §3.3).
  if (mail.header('return-path').some((value) => value.replace(/\s+/g, '') === '<>')) return verdict('empty_return_path');

  // Bounces come from MAILER-DAEMON or postmaster (RFC 5321 §4.5.1, RFC 3834 §3.1.8 lists both).
  if (
    isDaemon(mail.from?.address) ||
    senderAddresses(mail.header('sender')).some(isDaemon) ||
    mail.header('from').some((value) => /\bmailer-daemon\b/i.test(value))
  ) {
    return verdict('mailer_daemon');
  }

  // Exchange puts X-Auto-Response-Suppress on its own automatic messages (out-of-office replies,
  // delivery reports, recall notices) so that other auto-responders keep quiet; the values that
  // suppress auto-replies are All, OOF and AutoReply ([MS-OXCMAIL] §2.2.3.2.20). A value that only
  // suppresses receipts (DR, NDR, RN, NRN) is also set by some mail-merge tools and is ignored.
  if (mail.header('x-auto-response-suppress').some((value) => /\b(?:all|oof|autoreply)\b/i.test(value))) {
    return verdict('auto_response_suppress');
  }

  // Out-of-office answers that carry none of the headers above (Exchange "Automatic reply:" sent
  // to the Internet, Lotus Notes, older vacation programs): recognised by the subject prefix, or
  // by a body that opens with "I am out of the office…" and goes on about reading mail later.
  let bodyVerdict: boolean | undefined;
  const bodySays = () => (bodyVerdict ??= bodySaysOutOfOffice(mail.text));
  if (subjectSaysOutOfOffice(mail.subject, bodySays) || bodySays()) return verdict('out_of_office');

  return { automated: false, reason: null };
}
