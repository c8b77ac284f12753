import { expect } from 'chai';
import { createHmac } from 'node:crypto';
import { CookieSigner } from '../../src/http/cookie-signer';

/** keygrip's signature, as keygrip computes it (the format of every session cookie already issued). */
function keygripSignature(data: string, key: string): string {
  return createHmac('sha1', key)
    .update(data)
    .digest('base64')
    .replace(/\/|\+|=/g, (x) => ({ '/': '_', '+': '-', '=': '' })[x]!);
}

describe('cookie signatures', () => {
  const data = 'sid=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZg';

  it('signs as keygrip does, with the first key', () => {
    const signer = new CookieSigner(['current-key', 'older-key']);
    expect(signer.sign(data)).to.equal(keygripSignature(data, 'current-key'));
  });

  it('says which key made a signature, so a rotated-out key still verifies its cookies', () => {
    const signer = new CookieSigner(['current-key', 'older-key']);
    expect(signer.index(data, keygripSignature(data, 'current-key'))).to.equal(0);
    expect(signer.index(data, keygripSignature(data, 'older-key'))).to.equal(1);
    expect(signer.verify(data, keygripSignature(data, 'older-key'))).to.equal(true);
  });

  it('refuses a signature of other data, of an unknown key, truncated or empty', () => {
    const signer = new CookieSigner(['current-key']);
    const good = keygripSignature(data, 'current-key');
    expect(signer.index(`${data}x`, good)).to.equal(-1);
    expect(signer.index(data, keygripSignature(data, 'someone-else'))).to.equal(-1);
    expect(signer.index(data, good.slice(0, -1))).to.equal(-1);
    expect(signer.index(data, '')).to.equal(-1);
    const altered = `${good.slice(0, -1)}${good.endsWith('A') ? 'B' : 'A'}`;
    expect(signer.verify(data, altered)).to.equal(false);
  });

  it('needs a key', () => {
    expect(() => new CookieSigner([])).to.throw('at least one');
  });
});
