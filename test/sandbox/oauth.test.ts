import { expect } from 'chai';
import { createHash, createPublicKey } from 'node:crypto';
import jws from 'jws';
import { startTestSystem, type TestSystem } from '../support/system';
import { authorize, freshEmail, gmailClient, grant, oauthClient, statusOf } from './support';

/**
 * The sandbox OAuth 2.0 / OpenID Connect server, driven with google-auth-library's OAuth2Client the
 * way the product drives Google: code flow with PKCE, refresh, revocation, ID token verification.
 */
describe('sandbox OAuth server (google-auth-library)', () => {
  let system: TestSystem;

  before(async () => {
    system = await startTestSystem({ worker: false });
  });
  after(async () => {
    await system.close();
  });

  const clientId = () => system.container.config.google.clientId;

  describe('authorization code flow with PKCE (S256)', () => {
    it('redirects to the registered redirect URI with a code and the state, and exchanges the code with the right verifier', async () => {
      const email = freshEmail('pkce');
      const client = oauthClient(system);
      const { code, codeVerifier, location } = await authorize(system, client, email, { state: 'st-123' });
      expect(location.origin + location.pathname).to.equal(`${system.container.config.publicUrl}/auth/google/callback`);
      expect(location.searchParams.get('state')).to.equal('st-123');
      expect(code).to.match(/^4\/0A/);

      const { tokens } = await client.getToken({ code, codeVerifier });
      expect(tokens.access_token).to.be.a('string').and.match(/^ya29\./);
      expect(tokens.refresh_token).to.be.a('string').and.match(/^1\/\//);
      expect(tokens.id_token).to.be.a('string');
      expect(tokens.token_type).to.equal('Bearer');
      expect(tokens.expiry_date).to.be.greaterThan(Date.now() + 3000_000);
      // the short OpenID names come back as Google's userinfo URLs
      expect(tokens.scope!.split(' ')).to.include.members([
        'openid',
        'https://www.googleapis.com/auth/userinfo.email',
        'https://www.googleapis.com/auth/gmail.readonly',
        'https://www.googleapis.com/auth/gmail.send',
      ]);
    });

    it('refuses a wrong code verifier with invalid_grant', async () => {
      const client = oauthClient(system);
      const { code } = await authorize(system, client, freshEmail('pkce'));
      const wrong = (await client.generateCodeVerifierAsync()).codeVerifier;
      const res = await statusOf(client.getToken({ code, codeVerifier: wrong }));
      expect(res.status).to.equal(400);
      expect((res.data as { error: string }).error).to.equal('invalid_grant');
    });

    it('refuses the exchange without the code verifier', async () => {
      const client = oauthClient(system);
      const { code } = await authorize(system, client, freshEmail('pkce'));
      const res = await statusOf(client.getToken({ code }));
      expect(res.status).to.equal(400);
      expect((res.data as { error: string }).error).to.equal('invalid_grant');
    });

    it('accepts a code only once', async () => {
      const client = oauthClient(system);
      const { code, codeVerifier } = await authorize(system, client, freshEmail('once'));
      await client.getToken({ code, codeVerifier });
      const res = await statusOf(client.getToken({ code, codeVerifier }));
      expect(res.status).to.equal(400);
      expect((res.data as { error: string }).error).to.equal('invalid_grant');
    });

    it('refuses a client secret that is not the client\'s', async () => {
      const client = oauthClient(system);
      const { code, codeVerifier } = await authorize(system, client, freshEmail('secret'));
      (client as unknown as { _clientSecret: string })._clientSecret = 'not-the-secret';
      const res = await statusOf(client.getToken({ code, codeVerifier }));
      expect(res.status).to.equal(401);
      expect((res.data as { error: string }).error).to.equal('invalid_client');
    });

    it('prompt=none answers consent_required to a user who has not granted yet, and a code to one who has', async () => {
      const email = freshEmail('none');
      const client = oauthClient(system);
      const url = client.generateAuthUrl({ scope: ['openid', 'email'], login_hint: email, prompt: 'none', state: 's1' });
      const refused = await fetch(url, { redirect: 'manual' });
      expect(refused.status).to.equal(302);
      const location = new URL(refused.headers.get('location')!);
      expect(location.searchParams.get('error')).to.equal('consent_required');
      expect(location.searchParams.get('state')).to.equal('s1');
      expect(location.searchParams.get('code')).to.equal(null);

      await grant(system, email, { scopes: ['openid', 'email'] });
      const again = await authorize(system, client, email, { scopes: ['openid', 'email'], prompt: 'none' });
      expect(again.code).to.be.a('string');
    });

    it('shows the account chooser (no redirect) without a login_hint', async () => {
      const url = oauthClient(system).generateAuthUrl({ scope: ['openid', 'email'] });
      const res = await fetch(url, { redirect: 'manual' });
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.match(/^text\/html/);
      expect(await res.text()).to.contain('name="login_hint"');
    });

    it('refuses a redirect URI that is not registered, with an error page and no code', async () => {
      const client = oauthClient(system);
      const url = client.generateAuthUrl({ scope: ['openid', 'email'], login_hint: freshEmail('redir'), redirect_uri: 'http://127.0.0.1:1/evil' });
      const res = await fetch(url, { redirect: 'manual' });
      expect(res.status).to.equal(400);
      expect(res.headers.get('location')).to.equal(null);
      expect(await res.text()).to.contain('redirect_uri_mismatch');
    });
  });

  describe('refresh tokens', () => {
    it('refresh_token grant yields a new, working access token (and no new refresh token)', async () => {
      const email = freshEmail('refresh');
      const { tokens } = await grant(system, email);
      const fresh = oauthClient(system);
      fresh.setCredentials({ refresh_token: tokens.refresh_token });
      const seen: Array<{ refresh_token?: string | null; access_token?: string | null }> = [];
      // copied at emit time: the library adds the refresh token it already had afterwards
      fresh.on('tokens', (t) => seen.push({ ...t }));
      const { token } = await fresh.getAccessToken();
      expect(token).to.be.a('string').and.not.equal(tokens.access_token);
      expect(seen).to.have.length(1);
      expect(seen[0]!.refresh_token).to.equal(undefined);

      const profile = await gmailClient(system, fresh).users.getProfile({ userId: 'me' });
      expect(profile.data.emailAddress).to.equal(email);
    });

    it('a Gmail call refused with 401 makes the client refresh its access token and retry, as in production', async () => {
      const email = freshEmail('retry401');
      const { tokens } = await grant(system, email);
      const client = oauthClient(system);
      // a stale access token without a known expiry, plus the refresh token (google-auth-library
      // refreshes on a 401 only when it does not know the expiry or forceRefreshOnFailure is set)
      client.setCredentials({ access_token: 'ya29.stale-token', refresh_token: tokens.refresh_token });
      const refreshed: string[] = [];
      client.on('tokens', (t) => refreshed.push(t.access_token ?? ''));
      const { data } = await gmailClient(system, client).users.getProfile({ userId: 'me' });
      expect(data.emailAddress).to.equal(email);
      expect(refreshed).to.have.length(1);
      expect(client.credentials.access_token).to.equal(refreshed[0]);
    });

    it('issues a refresh token on the first consent only; a second authorization without prompt=consent gets none', async () => {
      const email = freshEmail('consent');
      const first = await grant(system, email);
      expect(first.tokens.refresh_token).to.be.a('string');

      const client = oauthClient(system);
      const again = await authorize(system, client, email);
      // the consent screen was skipped: Google reports prompt=none on the redirect
      expect(again.location.searchParams.get('prompt')).to.equal('none');
      const { tokens } = await client.getToken({ code: again.code, codeVerifier: again.codeVerifier });
      expect(tokens.access_token).to.be.a('string');
      expect(tokens.refresh_token).to.equal(undefined);
    });

    it('issues a new refresh token with prompt=consent, and the earlier one keeps working', async () => {
      const email = freshEmail('reconsent');
      const first = await grant(system, email);
      const client = oauthClient(system);
      const again = await authorize(system, client, email, { prompt: 'consent' });
      expect(again.location.searchParams.get('prompt')).to.equal('consent');
      const { tokens } = await client.getToken({ code: again.code, codeVerifier: again.codeVerifier });
      expect(tokens.refresh_token).to.be.a('string').and.not.equal(first.tokens.refresh_token);

      const old = oauthClient(system);
      old.setCredentials({ refresh_token: first.tokens.refresh_token });
      expect((await old.getAccessToken()).token).to.be.a('string');
    });

    it('issues no refresh token for access_type=online', async () => {
      const { tokens } = await grant(system, freshEmail('online'), { accessType: 'online' });
      expect(tokens.access_token).to.be.a('string');
      expect(tokens.refresh_token).to.equal(undefined);
    });

    it('refuses an unknown refresh token with invalid_grant', async () => {
      const client = oauthClient(system);
      client.setCredentials({ refresh_token: '1//0not-a-real-refresh-token' });
      const res = await statusOf(client.getAccessToken());
      expect(res.status).to.equal(400);
      expect((res.data as { error: string }).error).to.equal('invalid_grant');
    });
  });

  describe('revocation', () => {
    it('revoking the refresh token makes refreshing fail with invalid_grant and the access token stop working', async () => {
      const email = freshEmail('revoke');
      const g = await grant(system, email);
      expect((await g.gmail.users.getProfile({ userId: 'me' })).data.emailAddress).to.equal(email);

      const revoked = await g.auth.revokeToken(g.tokens.refresh_token!);
      expect(revoked.status).to.equal(200);

      const client = oauthClient(system);
      client.setCredentials({ refresh_token: g.tokens.refresh_token });
      const refresh = await statusOf(client.getAccessToken());
      expect(refresh.status).to.equal(400);
      expect((refresh.data as { error: string }).error).to.equal('invalid_grant');

      // the whole grant went: the access token of the same grant is refused too (no refresh token to fall back on)
      const onlyAccess = oauthClient(system);
      onlyAccess.setCredentials({ access_token: g.tokens.access_token, expiry_date: g.tokens.expiry_date });
      const call = await statusOf(gmailClient(system, onlyAccess).users.getProfile({ userId: 'me' }));
      expect(call.status).to.equal(401);
    });

    it('after revocation the next authorization is a first consent again (a refresh token is issued)', async () => {
      const email = freshEmail('revoke2');
      const g = await grant(system, email);
      await g.auth.revokeCredentials();
      const again = await grant(system, email);
      expect(again.tokens.refresh_token).to.be.a('string');
    });

    it('revoking an unknown token answers 400 invalid_token', async () => {
      const res = await statusOf(oauthClient(system).revokeToken('ya29.unknown'));
      expect(res.status).to.equal(400);
      expect((res.data as { error: string }).error).to.equal('invalid_token');
    });
  });

  describe('ID token', () => {
    it('verifies with verifyIdToken against the sandbox certificates, with Google\'s claims', async () => {
      const email = freshEmail('idtoken');
      const client = oauthClient(system);
      const { code, codeVerifier } = await authorize(system, client, email);
      const { tokens } = await client.getToken({ code, codeVerifier });
      const ticket = await oauthClient(system).verifyIdToken({ idToken: tokens.id_token!, audience: clientId() });
      const claims = ticket.getPayload()!;
      expect(claims.aud).to.equal(clientId());
      expect(claims.azp).to.equal(clientId());
      expect(claims.iss).to.equal('https://accounts.google.com');
      expect(claims.email).to.equal(email);
      expect(claims.email_verified).to.equal(true);
      expect(claims.sub).to.match(/^\d{21}$/);
      expect(claims.exp - claims.iat).to.equal(3600);
      // at_hash: left half of SHA-256 of the access token, base64url
      const atHash = createHash('sha256').update(tokens.access_token!).digest().subarray(0, 16).toString('base64url');
      expect(claims.at_hash).to.equal(atHash);
    });

    it('has the same subject for the same user across grants, and a different one for another user', async () => {
      const email = freshEmail('sub');
      const a = await grant(system, email, { prompt: 'consent' });
      const b = await grant(system, email, { prompt: 'consent' });
      const c = await grant(system, freshEmail('sub-other'));
      const sub = async (idToken: string) => (await oauthClient(system).verifyIdToken({ idToken, audience: clientId() })).getPayload()!.sub;
      expect(await sub(a.tokens.id_token!)).to.equal(await sub(b.tokens.id_token!));
      expect(await sub(a.tokens.id_token!)).to.not.equal(await sub(c.tokens.id_token!));
    });

    it('fails verification for another audience', async () => {
      const { tokens } = await grant(system, freshEmail('aud'));
      let error: unknown;
      try {
        await oauthClient(system).verifyIdToken({ idToken: tokens.id_token!, audience: 'someone-else.apps.googleusercontent.com' });
      } catch (err) {
        error = err;
      }
      expect(String(error)).to.match(/Wrong recipient/);
    });

    it('is signed with a key of the JWK set, which the discovery document points at', async () => {
      const discovery = (await (await fetch(`${system.baseUrl}/sandbox/.well-known/openid-configuration`)).json()) as Record<string, string>;
      expect(discovery.issuer).to.equal('https://accounts.google.com');
      expect(discovery.jwks_uri).to.equal(`${system.container.config.publicUrl}/sandbox/oauth2/v3/certs`);
      expect(discovery.token_endpoint).to.equal(`${system.container.config.publicUrl}/sandbox/oauth2/token`);
      const { tokens } = await grant(system, freshEmail('jwk'));
      const { header: jwtHeader } = jws.decode(tokens.id_token!)!;
      const jwks = (await (await fetch(discovery.jwks_uri!.replace(system.container.config.publicUrl, system.baseUrl))).json()) as { keys: Array<import('node:crypto').JsonWebKey & { kid: string }> };
      const key = jwks.keys.find((k) => k.kid === jwtHeader.kid);
      expect(key, 'the kid of the ID token is in the JWK set').to.not.equal(undefined);
      const pem = createPublicKey({ key: key!, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
      expect(jws.verify(tokens.id_token!, 'RS256', pem)).to.equal(true);
    });

    it('is not issued when no OpenID scope was asked for', async () => {
      const { tokens } = await grant(system, freshEmail('noid'), { scopes: ['https://www.googleapis.com/auth/gmail.readonly'] });
      expect(tokens.access_token).to.be.a('string');
      expect(tokens.id_token).to.equal(undefined);
    });
  });
});
