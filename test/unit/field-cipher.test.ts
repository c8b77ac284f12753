import { expect } from 'chai';
import { createCipheriv, randomBytes } from 'node:crypto';
import { FieldCipher, DecryptionError } from '../../src/crypto/field-cipher';
import { BlindIndex, normalizeEmail } from '../../src/crypto/blind-index';

const k1 = { version: 'k1', key: randomBytes(32) };
const k2 = { version: 'k2', key: randomBytes(32) };
const at = { table: 'contacts', column: 'email', rowId: 'row-1' };

describe('field encryption', () => {
  it('round-trips text in any language and never stores it in clear', () => {
    const cipher = new FieldCipher([k1], k1);
    const plain = 'Здравствуйте, 田中さん — ünïcödé ✉';
    const sealed = cipher.encrypt(plain, at);
    expect(sealed.startsWith('k1.')).to.equal(true);
    expect(sealed).to.not.contain('Здравствуйте');
    expect(cipher.decrypt(sealed, at)).to.equal(plain);
  });

  it('reads the stored format: AES-256-GCM, nonce|ciphertext|tag, the JSON of [version, table, column, row id] as associated data', () => {
    // Sealed here without FieldCipher, as every value in the database was: the format is a contract.
    const plain = 'Привет 👋 — a long instruction '.repeat(20);
    const rowId = 'a0b1c2d3-e4f5-4607-8809-0a1b2c3d4e5f';
    const nonce = randomBytes(12);
    const sealer = createCipheriv('aes-256-gcm', k1.key, nonce);
    sealer.setAAD(Buffer.from(JSON.stringify(['k1', 'contacts', 'description_ai', rowId]), 'utf8'));
    const body = Buffer.concat([sealer.update(plain, 'utf8'), sealer.final()]);
    const stored = `k1.${Buffer.concat([nonce, body, sealer.getAuthTag()]).toString('base64url')}`;
    const cipher = new FieldCipher([k1], k1);
    for (let i = 0; i < 2; i += 1) expect(cipher.decrypt(stored, { table: 'contacts', column: 'description_ai', rowId })).to.equal(plain);
    expect(() => cipher.decrypt(stored, { table: 'contacts', column: 'description_ai', rowId: `${rowId.slice(0, -1)}0` })).to.throw(DecryptionError);
    expect(() => cipher.decrypt(stored, { table: 'contacts', column: 'name', rowId })).to.throw(DecryptionError);
  });

  it('uses a fresh nonce for every value', () => {
    const cipher = new FieldCipher([k1], k1);
    expect(cipher.encrypt('same', at)).to.not.equal(cipher.encrypt('same', at));
  });

  it('refuses a value moved to another row, column or table', () => {
    const cipher = new FieldCipher([k1], k1);
    const sealed = cipher.encrypt('alice@example.com', at);
    expect(() => cipher.decrypt(sealed, { ...at, rowId: 'row-2' })).to.throw(DecryptionError);
    expect(() => cipher.decrypt(sealed, { ...at, column: 'name' })).to.throw(DecryptionError);
    expect(() => cipher.decrypt(sealed, { ...at, table: 'users' })).to.throw(DecryptionError);
  });

  it('refuses a tampered value and one relabelled with another key version', () => {
    const cipher = new FieldCipher([k1, k2], k1);
    const sealed = cipher.encrypt('secret', at);
    const body = Buffer.from(sealed.slice(3), 'base64url');
    body[body.length - 20]! ^= 1;
    expect(() => cipher.decrypt(`k1.${body.toString('base64url')}`, at)).to.throw(DecryptionError);
    expect(() => cipher.decrypt(`k2.${sealed.slice(3)}`, at)).to.throw(DecryptionError);
  });

  it('decrypts values of an older key while writing with the current one', () => {
    const old = new FieldCipher([k1], k1).encrypt('kept', at);
    const rotated = new FieldCipher([k1, k2], k2);
    expect(rotated.decrypt(old, at)).to.equal('kept');
    expect(FieldCipher.keyVersionOf(rotated.encrypt('new', at))).to.equal('k2');
  });

  it('names a missing key version', () => {
    const sealed = new FieldCipher([k2], k2).encrypt('x', at);
    expect(() => new FieldCipher([k1], k1).decrypt(sealed, at)).to.throw(/k2/);
  });
});

describe('blind index', () => {
  it('matches addresses case-insensitively and ignores surrounding blanks', () => {
    const index = new BlindIndex(randomBytes(32));
    expect(index.ofEmail(' Alice@Example.COM ')).to.equal(index.ofEmail('alice@example.com'));
    expect(index.ofEmail('alice@example.com')).to.not.equal(index.ofEmail('bob@example.com'));
    expect(normalizeEmail(' A@B.C ')).to.equal('a@b.c');
  });

  it('depends on its key', () => {
    expect(new BlindIndex(randomBytes(32)).ofEmail('a@b.c')).to.not.equal(new BlindIndex(randomBytes(32)).ofEmail('a@b.c'));
  });
});
