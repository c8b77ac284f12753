import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import jws from 'jws';
import { selfSignedCertificate } from './x509';

/**
 * The sandbox's token-signing key pair, generated at start. It signs the OAuth id_tokens and the
 * Pub/Sub push tokens (RS256, `kid` in the header) and is published the two ways Google publishes
 * its keys: PEM certificates keyed by kid (oauth2/v1/certs) and a JWK set (oauth2/v3/certs).
 */

export interface Jwk {
  kty: string;
  alg: 'RS256';
  use: 'sig';
  kid: string;
  n: string;
  e: string;
}

export interface SigningKeys {
  kid: string;
  sign(claims: Record<string, unknown>): string;
  /** `{kid: PEM certificate}` as https://www.googleapis.com/oauth2/v1/certs answers. */
  pemCertificates(): Record<string, string>;
  /** `{keys: [JWK]}` as https://www.googleapis.com/oauth2/v3/certs answers. */
  jwks(): { keys: Jwk[] };
}

export function createSigningKeys(nowMs: number): SigningKeys {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const kid = createHash('sha1').update(spki).digest('hex');
  const certificate = selfSignedCertificate(publicKey, privateKey, {
    commonName: 'securetoken.system.gserviceaccount.com',
    notBefore: new Date(nowMs - 24 * 3600_000),
    notAfter: new Date(nowMs + 14 * 24 * 3600_000),
  });
  const jwk = publicKey.export({ format: 'jwk' });
  const pemPrivate = privateKeyPem(privateKey);

  return {
    kid,
    sign(claims) {
      return jws.sign({ header: { alg: 'RS256', kid, typ: 'JWT' }, payload: claims, privateKey: pemPrivate });
    },
    pemCertificates() {
      return { [kid]: certificate };
    },
    jwks() {
      return { keys: [{ kty: 'RSA', alg: 'RS256', use: 'sig', kid, n: String(jwk.n), e: String(jwk.e) }] };
    },
  };
}

function privateKeyPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}
