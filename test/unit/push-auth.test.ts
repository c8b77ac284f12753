import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OAuth2Client } from 'google-auth-library';
import { createPushVerifier, PushAuthError } from '../../src/gmail/push-auth';
import { createSigningKeys, type SigningKeys } from '../../src/sandbox/signing-keys';

const AUDIENCE = 'https://assistant.test/webhooks/gmail';
const SERVICE_ACCOUNT = 'gmail-push@sandbox-project.iam.gserviceaccount.com';

describe('push token verification', () => {
  let keys: SigningKeys;
  let server: Server;
  let certsUrl: string;
  /** Cache-Control of the certificate answer: how long the library keeps one certificate set. */
  let maxAge = 3600;
  let certFetches = 0;

  before(async () => {
    keys = createSigningKeys(Date.now());
    server = createServer((_req, res) => {
      certFetches += 1;
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': `public, max-age=${maxAge}` });
      res.end(JSON.stringify(keys.pemCertificates()));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    certsUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth2/v1/certs`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    const iat = Math.floor(Date.now() / 1000);
    return { iss: 'https://accounts.google.com', aud: AUDIENCE, email: SERVICE_ACCOUNT, email_verified: true, sub: '1', iat, exp: iat + 3600, ...overrides };
  }

  /** A verifier over a real OAuth2Client, counting the signature checks the library runs. */
  function verifier(now: () => number = Date.now) {
    const client = new OAuth2Client({ endpoints: { oauth2FederatedSignonPemCertsUrl: certsUrl } });
    let checks = 0;
    const verify = client.verifySignedJwtWithCertsAsync.bind(client);
    client.verifySignedJwtWithCertsAsync = (...args: Parameters<typeof verify>) => {
      checks += 1;
      return verify(...args);
    };
    return { verifyPush: createPushVerifier(client, { audience: AUDIENCE, serviceAccount: SERVICE_ACCOUNT }, now), checks: () => checks };
  }

  async function refusal(promise: Promise<void>): Promise<string> {
    try {
      await promise;
    } catch (err) {
      expect(err).to.be.instanceOf(PushAuthError);
      return (err as Error).message;
    }
    throw new Error('the token was accepted');
  }

  beforeEach(() => {
    maxAge = 3600;
    certFetches = 0;
  });

  it('checks a token once and accepts it again without checking its signature until it expires', async () => {
    let clock = Date.now();
    const { verifyPush, checks } = verifier(() => clock);
    const token = keys.sign(claims());
    await verifyPush(`Bearer ${token}`);
    await verifyPush(`Bearer ${token}`);
    await verifyPush(`Bearer ${token}`);
    expect(checks()).to.equal(1);
    expect(certFetches).to.equal(1);
    clock += 3601_000; // past its exp: checked in full again (the library still finds it valid on the real clock)
    await verifyPush(`Bearer ${token}`);
    expect(checks()).to.equal(2);
  });

  it('remembers nothing of a refused token, and a remembered one does not vouch for an altered copy', async () => {
    const { verifyPush, checks } = verifier();
    const good = keys.sign(claims());
    await verifyPush(`Bearer ${good}`);
    const [header, payload, signature] = good.split('.');
    const otherPayload = Buffer.from(JSON.stringify(claims({ email: 'intruder@evil-project.iam.gserviceaccount.com' }))).toString('base64url');
    expect(await refusal(verifyPush(`Bearer ${header}.${otherPayload}.${signature}`))).to.contain('bad signature');
    const flipped = `${signature!.slice(0, -2)}${signature!.endsWith('AA') ? 'BB' : 'AA'}`;
    expect(await refusal(verifyPush(`Bearer ${header}.${payload}.${flipped}`))).to.contain('token rejected');
    const stranger = keys.sign(claims({ email: 'intruder@evil-project.iam.gserviceaccount.com' }));
    expect(await refusal(verifyPush(`Bearer ${stranger}`))).to.equal('token is not from the push service account');
    expect(await refusal(verifyPush(`Bearer ${stranger}`))).to.equal('token is not from the push service account');
    const unverified = keys.sign(claims({ email_verified: false }));
    expect(await refusal(verifyPush(`Bearer ${unverified}`))).to.equal('service account email not verified');
    expect(await refusal(verifyPush(`Bearer ${unverified}`))).to.equal('service account email not verified');
    expect(checks()).to.equal(7);
  });

  it('checks a remembered token again once the library has fetched a new certificate set', async () => {
    maxAge = 0; // every verification fetches the certificates anew
    const { verifyPush, checks } = verifier();
    const token = keys.sign(claims());
    await verifyPush(`Bearer ${token}`);
    await verifyPush(`Bearer ${token}`);
    expect(certFetches).to.equal(2);
    expect(checks()).to.equal(2);
  });

  it('refuses an expired token, one for another audience, and a header that is not a bearer token', async () => {
    const { verifyPush } = verifier();
    const iat = Math.floor(Date.now() / 1000) - 7200;
    expect(await refusal(verifyPush(`Bearer ${keys.sign(claims({ iat, exp: iat + 3600 }))}`))).to.equal('token rejected: expired token');
    expect(await refusal(verifyPush(`Bearer ${keys.sign(claims({ aud: 'https://elsewhere.example/' }))}`))).to.equal('token rejected: wrong audience');
    expect(await refusal(verifyPush(undefined))).to.equal('no bearer token');
    expect(await refusal(verifyPush(`Basic ${keys.sign(claims())}`))).to.equal('no bearer token');
  });
});
