/**
 * The new text of a reply: what the contact wrote this time, without the quoted earlier messages
 * and without the signature. The AI prompt is built from it.
 *
 * email-reply-parser (the crisp-oss JS port of GitHub's parser) does the work: ">" quotes,
 * "On … wrote:" headers in a dozen languages (also when split over two lines), Outlook
 * "From: … <addr>" blocks, Zoho "---- On … wrote ----", "-- " and "Sent from my …" signatures.
 * The glue below adds what it misses (each checked by a test):
 * - Outlook blocks whose labels are bold ("*From:* … *Sent:* …", as Gmail renders them) or whose
 *   From line names no address, and the separator line above them;
 * - Russian quote headers of any weekday (the library only knows Wednesday, "ср, … г. в …"),
 *   Thunderbird/Yandex "…, Name пишет:" and Mail.ru "… от Name <addr>:";
 * - a mailing-list footer under a line of underscores or dashes, and a "-Name" signature on the
 *   last line (as GitHub's Ruby parser, whose test expectations the shared corpus carries, does).
 */
import EmailReplyParser from 'email-reply-parser';

/** Longer input is cut before parsing; the prompt only uses the start of a message anyway. */
const MAX_INPUT_CHARS = 100_000;

const HEADER_LABEL = String.raw`^\s*\*?(?:From|De|Von|Van|Da|Från|Fra|Od|Lähettäjä|Feladó|От|От кого|Від)\s?:\*?\s*\S`;
/** Every Outlook header block has the sending date ("Sent:", "Date:", localised) under From. */
const DATE_LABEL = String.raw`^\s*\*?(?:Sent|Date|Envoyé|Gesendet|Datum|Enviado|Fecha|Inviato|Data|Verzonden|Skickat|Sendt|Wysłano|Lähetetty|Elküldve|Отправлено|Дата|Надіслано)\s?:\*?`;
const OUTLOOK_FROM = new RegExp(HEADER_LABEL, 'iu');
const OUTLOOK_DATE = new RegExp(DATE_LABEL, 'iu');

/** Russian (and similar) quote header lines the library does not know. */
const EXTRA_QUOTE_HEADERS: RegExp[] = [
  // Gmail in Russian, any weekday: "пт, 2 мая 2025 г. в 10:00, Имя <addr>:"
  /^.{0,40}\d{4}\s*г\.?,?\s*в\s*\d{1,2}:\d{2}.*:\s*$/u,
  // Thunderbird / Yandex / Outlook.com in Russian: "30.04.2025 15:19, Имя пишет:", "… написал(а):"
  /^(?=.*(?:\d|@)).{0,160}\s(?:пишет|написал(?:\(а\)|а)?)\s*:\s*$/u,
  // Mail.ru: "Среда, 30 апреля 2025, 15:19 +03:00 от Имя <addr>:"
  /^.{0,120}\d{1,2}:\d{2}.{0,40}\sот\s.{1,120}<[^<>\s]+@[^<>\s]+>\s*:\s*$/u,
];

const SEPARATOR = /^\s*(?:[-_=*]\s?){5,}\s*$/;
const LIST_FOOTER = /mailing list|unsubscribe|listinfo|mailman|you received this message because|to stop receiving/i;
const DASH_NAME_SIGNATURE = /^-\p{L}[\p{L}\p{M}.' ]{0,40}$/u;

/** Index of the first line that starts a quote the library left in place, or -1. */
function extraQuoteStart(lines: string[]): number {
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (OUTLOOK_FROM.test(line)) {
      const next = lines.slice(i + 1, i + 5);
      if (next.some((l) => OUTLOOK_DATE.test(l))) return i;
    }
    if (EXTRA_QUOTE_HEADERS.some((re) => re.test(line))) return i;
  }
  return -1;
}

/** Moves a cut up over blank lines and one separator line ("-----", "_____") right above it. */
function includeSeparatorAbove(lines: string[], cut: number): number {
  let i = cut - 1;
  while (i >= 0 && (lines[i] ?? '').trim() === '') i--;
  return i >= 0 && SEPARATOR.test(lines[i] ?? '') ? i : cut;
}

function stripTrailingFooterAndSignature(lines: string[]): string[] {
  let out = lines;
  // a mailing-list footer: a separator line followed by a few lines about the list
  for (let i = out.length - 1; i >= 0 && i >= out.length - 12; i--) {
    if (SEPARATOR.test(out[i] ?? '') && LIST_FOOTER.test(out.slice(i + 1).join('\n'))) {
      out = out.slice(0, i);
      break;
    }
  }
  // "-Name" alone on the last line, after a blank line
  let last = out.length - 1;
  while (last >= 0 && (out[last] ?? '').trim() === '') last--;
  if (last > 0 && DASH_NAME_SIGNATURE.test((out[last] ?? '').trim()) && (out[last - 1] ?? '').trim() === '') {
    out = out.slice(0, last);
  }
  return out;
}

function parseVisible(text: string): string {
  try {
    return new EmailReplyParser().parseReply(text);
  } catch {
    return text;
  }
}

export function stripQuotedText(text: string): string {
  const original = (text ?? '').replace(/\r\n?/g, '\n').slice(0, MAX_INPUT_CHARS);
  const fallback = original.trim();
  if (fallback === '') return '';

  let lines = parseVisible(original).split('\n');
  const cut = extraQuoteStart(lines);
  if (cut >= 0) lines = lines.slice(0, includeSeparatorAbove(lines, cut));
  lines = stripTrailingFooterAndSignature(lines);

  const result = lines.join('\n').trim();
  return result === '' ? fallback : result;
}
