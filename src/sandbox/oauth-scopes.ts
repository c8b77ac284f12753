/**
 * Google OAuth scopes the sandbox knows. Like Google, the short OpenID names `email` and
 * `profile` are granted (and reported in the token response) as their userinfo URLs.
 */

export const SCOPE = {
  openid: 'openid',
  email: 'https://www.googleapis.com/auth/userinfo.email',
  profile: 'https://www.googleapis.com/auth/userinfo.profile',
  mailFull: 'https://mail.google.com/',
  gmailReadonly: 'https://www.googleapis.com/auth/gmail.readonly',
  gmailModify: 'https://www.googleapis.com/auth/gmail.modify',
  gmailMetadata: 'https://www.googleapis.com/auth/gmail.metadata',
  gmailSend: 'https://www.googleapis.com/auth/gmail.send',
  gmailCompose: 'https://www.googleapis.com/auth/gmail.compose',
  gmailInsert: 'https://www.googleapis.com/auth/gmail.insert',
  gmailLabels: 'https://www.googleapis.com/auth/gmail.labels',
  gmailSettingsBasic: 'https://www.googleapis.com/auth/gmail.settings.basic',
} as const;

const ALIASES: Record<string, string> = {
  email: SCOPE.email,
  profile: SCOPE.profile,
};

const KNOWN = new Set<string>(Object.values(SCOPE));

export interface ParsedScopes {
  scopes: string[];
  unknown: string[];
}

/** Splits a space-separated scope parameter, maps aliases and de-duplicates (order kept). */
export function parseScopeParam(param: string): ParsedScopes {
  const scopes: string[] = [];
  const unknown: string[] = [];
  for (const raw of param.split(/\s+/).filter((s) => s.length > 0)) {
    const scope = ALIASES[raw] ?? raw;
    if (!KNOWN.has(scope)) unknown.push(raw);
    else if (!scopes.includes(scope)) scopes.push(scope);
  }
  return { scopes, unknown };
}

/** An id_token is issued when any OpenID Connect scope was granted. */
export function grantsIdToken(scopes: readonly string[]): boolean {
  return scopes.includes(SCOPE.openid) || scopes.includes(SCOPE.email) || scopes.includes(SCOPE.profile);
}
