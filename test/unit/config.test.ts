import { expect } from 'chai';
import { loadConfig, ConfigError, VARIABLES } from '../../src/config';

const KEY_A = Buffer.alloc(32, 1).toString('base64');
const KEY_B = Buffer.alloc(32, 2).toString('base64');
const base = {
  SESSION_KEYS: 'x'.repeat(40),
  ENCRYPTION_KEYS: `v1:${KEY_A}`,
  BLIND_INDEX_KEY: KEY_B,
};

describe('config', () => {
  it('fills defaults and turns the sandbox on without Google credentials', () => {
    const c = loadConfig({ ...base });
    expect(c.port).to.equal(3000);
    expect(c.publicUrl).to.equal('http://localhost:3000');
    expect(c.sandboxEnabled).to.equal(true);
    expect(c.google.gmailRootUrl).to.equal('http://localhost:3000/');
    expect(c.encryptionCurrentKey.version).to.equal('v1');
  });

  it('names the variable that is missing', () => {
    expect(() => loadConfig({ ...base, SESSION_KEYS: undefined })).to.throw(ConfigError, /SESSION_KEYS/);
  });

  it('names the variable that is invalid', () => {
    expect(() => loadConfig({ ...base, PORT: 'abc' })).to.throw(ConfigError, /PORT/);
    expect(() => loadConfig({ ...base, ENCRYPTION_KEYS: 'v1:short' })).to.throw(ConfigError, /ENCRYPTION_KEYS/);
    expect(() => loadConfig({ ...base, LOG_LEVEL: 'loud' })).to.throw(ConfigError, /LOG_LEVEL/);
  });

  it('never shows the password of a database or Redis URL that it refuses', () => {
    for (const [name, value] of [['DATABASE_URL', 'mysql://u:S3cretPW@h/x'], ['REDIS_URL', 'http://u:RedisPW@h']] as const) {
      try {
        loadConfig({ ...base, [name]: value });
        expect.fail('should throw');
      } catch (err) {
        expect(String(err)).to.contain(name).and.not.contain('PW');
      }
    }
  });

  it('never shows a secret in its message', () => {
    try {
      loadConfig({ ...base, BLIND_INDEX_KEY: 'not-a-key-but-secret' });
      expect.fail('should throw');
    } catch (err) {
      expect(String(err)).to.contain('BLIND_INDEX_KEY').and.not.contain('not-a-key-but-secret');
    }
  });

  it('refuses the sandbox in production', () => {
    expect(() => loadConfig({ ...base, NODE_ENV: 'production' })).to.throw(ConfigError, /GOOGLE_CLIENT_ID/);
  });

  it('requires the Google settings once a client id is given', () => {
    expect(() => loadConfig({ ...base, GOOGLE_CLIENT_ID: 'abc' })).to.throw(ConfigError, /GOOGLE_CLIENT_SECRET/);
  });

  it('refuses a blind-index key equal to an encryption key', () => {
    expect(() => loadConfig({ ...base, BLIND_INDEX_KEY: KEY_A })).to.throw(ConfigError, /BLIND_INDEX_KEY/);
  });

  it('declares every variable once', () => {
    const names = VARIABLES.map((v) => v.name);
    expect(new Set(names).size).to.equal(names.length);
  });
});
