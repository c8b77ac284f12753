import { expect } from 'chai';
import { decodePushBody, UnreadablePushError } from '../../../src/gmail/push-notification';

/** A Pub/Sub push body as Google sends it, with `data` = base64(JSON of the given value). */
function envelope(data: unknown, extra: Record<string, unknown> = {}): unknown {
  return {
    message: { data: Buffer.from(JSON.stringify(data)).toString('base64'), messageId: '2070443601311540', publishTime: '2025-05-05T10:00:00.000Z', ...extra },
    subscription: 'projects/p/subscriptions/s',
  };
}

function rejects(body: unknown): void {
  expect(() => decodePushBody(body), JSON.stringify(body)).to.throw(UnreadablePushError);
}

describe('decodePushBody', () => {
  it('reads a numeric historyId (as Gmail sends it) as a string', () => {
    expect(decodePushBody(envelope({ emailAddress: 'user@example.com', historyId: 9876543 }))).to.deep.equal({
      emailAddress: 'user@example.com',
      historyId: '9876543',
      pubsubMessageId: '2070443601311540',
    });
  });

  it('reads a string historyId (as some relays send it) unchanged', () => {
    expect(decodePushBody(envelope({ emailAddress: 'user@example.com', historyId: '123456789012' })).historyId).to.equal('123456789012');
  });

  it('accepts the largest uint64 as a string', () => {
    expect(decodePushBody(envelope({ emailAddress: 'user@example.com', historyId: '18446744073709551615' })).historyId).to.equal('18446744073709551615');
  });

  it('accepts base64url data and the snake_case message_id', () => {
    const data = Buffer.from(JSON.stringify({ emailAddress: 'a.b~c@example.com', historyId: 1 })).toString('base64url');
    expect(data, 'the data uses the URL-safe alphabet, without padding').to.match(/-/).and.not.match(/=/);
    const body = { message: { data, message_id: 'm-1' } };
    expect(decodePushBody(body)).to.deep.equal({ emailAddress: 'a.b~c@example.com', historyId: '1', pubsubMessageId: 'm-1' });
  });

  it('gives a null Pub/Sub message id when there is none', () => {
    const body = { message: { data: Buffer.from(JSON.stringify({ emailAddress: 'user@example.com', historyId: 1 })).toString('base64') } };
    expect(decodePushBody(body).pubsubMessageId).to.equal(null);
  });

  it('rejects a body that is not an envelope', () => {
    for (const body of [null, undefined, 'text', 42, [], {}, { message: null }, { message: 'x' }, { message: {} }, { message: { data: '' } }, { message: { data: 42 } }]) {
      rejects(body);
    }
  });

  it('rejects data that is not base64 JSON', () => {
    rejects({ message: { data: 'not base64 json!' } });
    rejects({ message: { data: Buffer.from('{"emailAddress": "user@example.com", "historyId": 1').toString('base64') } });
    rejects({ message: { data: Buffer.from('null').toString('base64') } });
    rejects({ message: { data: Buffer.from('[1, 2]').toString('base64') } });
  });

  it('rejects a missing or unusable emailAddress', () => {
    rejects(envelope({ historyId: 5 }));
    rejects(envelope({ emailAddress: 'not-an-address', historyId: 5 }));
    rejects(envelope({ emailAddress: ['user@example.com'], historyId: 5 }));
  });

  it('rejects a missing, negative, fractional, non-numeric or huge historyId', () => {
    const bad: unknown[] = [
      undefined,
      null,
      '',
      -4,
      '-4',
      1.5,
      '1.5',
      '1e9',
      ' 12',
      '0x1F',
      true,
      { id: 1 },
      Number.MAX_SAFE_INTEGER + 2, // a number past 2^53 has already lost digits
      1e21,
      '18446744073709551616', // 2^64: more than Gmail's uint64 can hold
      '99999999999999999999',
      '123456789012345678901', // 21 digits
    ];
    for (const historyId of bad) rejects(envelope({ emailAddress: 'user@example.com', historyId }));
  });
});
