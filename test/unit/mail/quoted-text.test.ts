import { expect } from 'chai';
import { stripQuotedText } from '../../../src/ai/quoted-text';

const NEW_TEXT = 'Sounds good, see you on Tuesday.\nI will bring the contract.';
const NEW_TEXT_RU = 'Спасибо, документы получил.\nПодпишу завтра.';
const ORIGINAL = 'Please bring the signed contract.\nBob';

function lines(...parts: string[]): string {
  return parts.join('\n');
}

describe('stripQuotedText', () => {
  const cases: Array<[string, string, string]> = [
    ['a Gmail "On … wrote:" quote', lines(NEW_TEXT, '', 'On Mon, May 5, 2025 at 10:00 AM Bob Smith <bob@example.com> wrote:', '', `> ${ORIGINAL.replace('\n', '\n> ')}`, ''), NEW_TEXT],
    ['a Gmail quote header split over two lines', lines(NEW_TEXT, '', 'On Mon, May 5, 2025 at 10:00 AM Bob Smith <', 'bob@example.com> wrote:', '', '> Please bring it.', ''), NEW_TEXT],
    ['a bare ">" quote', lines(NEW_TEXT, '', '> Can you make Tuesday?', '> > Earlier question', ''), NEW_TEXT],
    [
      'an Outlook From/Sent/To/Subject block under a rule',
      lines(NEW_TEXT, '', '________________________________', 'From: Bob Smith <bob@example.com>', 'Sent: Monday, May 5, 2025 10:00 AM', 'To: Alice <alice@example.com>', 'Subject: Contract', '', ORIGINAL, ''),
      NEW_TEXT,
    ],
    [
      'an Outlook block with bold labels, as Gmail shows it',
      lines(NEW_TEXT, '', '*From:* Bob Smith [mailto:bob@example.com]', '*Sent:* Monday, May 5, 2025 10:00 AM', '*To:* alice@example.com', '*Subject:* Contract', '', ORIGINAL, ''),
      NEW_TEXT,
    ],
    [
      'an "-----Original Message-----" block whose From names no address',
      lines(NEW_TEXT, '', '-----Original Message-----', 'From: Bob Smith', 'Sent: Monday, May 5, 2025 10:00 AM', 'To: Alice', 'Subject: Contract', '', ORIGINAL, ''),
      NEW_TEXT,
    ],
    ['a German "Am … schrieb …:" header', lines(NEW_TEXT, '', 'Am 05.05.2025 um 10:00 schrieb Bob Smith <bob@example.com>:', '', '> Hallo', ''), NEW_TEXT],
    ['a French "Le … a écrit :" header', lines(NEW_TEXT, '', 'Le lun. 5 mai 2025 à 10:00, Bob Smith <bob@example.com> a écrit :', '', '> Bonjour', ''), NEW_TEXT],
    ['a Russian Gmail header on a Friday', lines(NEW_TEXT_RU, '', 'пт, 2 мая 2025 г. в 10:00, Иван Петров <ivan@example.ru>:', '', '> Отправляю документы.', ''), NEW_TEXT_RU],
    ['a Russian Thunderbird "… пишет:" header', lines(NEW_TEXT_RU, '', '30.04.2025 15:19, Иван Петров пишет:', '> Отправляю документы.', ''), NEW_TEXT_RU],
    ['a Mail.ru "… от Name <addr>:" header with an unquoted original', lines(NEW_TEXT_RU, '', 'Среда, 30 апреля 2025, 15:19 +03:00 от Иван Петров <ivan@example.ru>:', '', 'Отправляю документы.', ''), NEW_TEXT_RU],
    [
      'a Russian Outlook От/Отправлено block',
      lines(NEW_TEXT_RU, '', 'От: Иван Петров <ivan@example.ru>', 'Отправлено: 30 апреля 2025 г. 15:19', 'Кому: Анна', 'Тема: Документы', '', 'Отправляю документы.', ''),
      NEW_TEXT_RU,
    ],
    ['a "-- " signature', lines(NEW_TEXT, '', '-- ', 'Alice Example', 'ACME Corp, +1 555 0100', ''), NEW_TEXT],
    ['a "Sent from my iPhone" signature', lines(NEW_TEXT, '', 'Sent from my iPhone', ''), NEW_TEXT],
    ['a signature and then a quote', lines(NEW_TEXT, '', '-- ', 'Alice', '', 'On Mon, May 5, 2025 at 10:00 AM Bob <bob@example.com> wrote:', '> x', ''), NEW_TEXT],
    ['CRLF line endings', lines(NEW_TEXT, '', 'On Mon, May 5, 2025 at 10:00 AM Bob <bob@example.com> wrote:', '> x', '').replace(/\n/g, '\r\n'), NEW_TEXT],
  ];
  for (const [label, input, expected] of cases) {
    it(`removes ${label}`, () => {
      expect(stripQuotedText(input)).to.equal(expected);
    });
  }

  it('keeps a message that quotes nothing, including lines that start with "On"', () => {
    const text = 'On Monday I will send the draft.\nOn the other hand, Tuesday may be better.\n\nAlice';
    expect(stripQuotedText(`${text}\n`)).to.equal(text);
  });

  it('keeps indentation, bullets and blank lines inside the new text', () => {
    const text = 'Agenda:\n\n   - budget\n   - hiring\n\nThanks';
    expect(stripQuotedText(`${text}\n\nOn Mon, May 5, 2025 at 10:00 AM Bob <bob@example.com> wrote:\n> ok\n`)).to.equal(text);
  });

  it('keeps a line of dashes that is not followed by a quote', () => {
    const text = 'Totals:\n-----\n42';
    expect(stripQuotedText(text)).to.equal(text);
  });

  it('gives the whole text rather than nothing when all of it is quoted', () => {
    expect(stripQuotedText('> only quoted\n> text\n')).to.equal('> only quoted\n> text');
  });

  it('gives "" for empty or blank input', () => {
    expect(stripQuotedText('')).to.equal('');
    expect(stripQuotedText(' \n\t\n')).to.equal('');
  });
});
