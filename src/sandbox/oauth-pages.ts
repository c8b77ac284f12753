/**
 * The two HTML pages of the sandbox sign-in: the account chooser (asks for an email address and
 * resubmits the authorization request with login_hint) and Google's style of error page.
 */

/** The pages' own policy: their inline style, and a form that submits to this origin only. */
export const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const STYLE = 'body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem;color:#202124}' +
  'input[type=email]{width:100%;padding:.6rem;margin:.5rem 0 1rem;font-size:1rem}button{padding:.5rem 1.2rem;font-size:1rem;margin-right:.5rem}' +
  '.note{color:#5f6368;font-size:.9rem}.error{color:#d93025}';

export function accountChooserPage(action: string, params: Record<string, string>, error?: string): string {
  const hidden = Object.entries(params)
    .filter(([name]) => name !== 'login_hint' && name !== 'deny')
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('\n      ');
  return `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8"><title>Sign in - Sandbox Google Accounts</title><style>${STYLE}</style></head>
  <body>
    <h1>Sign in</h1>
    <p class="note">Sandbox stand-in for Google sign-in. Any address works; no password is asked.</p>
    ${error ? `<p class="error">${escapeHtml(error)}</p>` : ''}
    <form method="get" action="${escapeHtml(action)}">
      ${hidden}
      <label for="login_hint">Email</label>
      <input id="login_hint" type="email" name="login_hint" required autofocus placeholder="alice@example.com">
      <button type="submit">Continue</button>
      <button type="submit" name="deny" value="1" formnovalidate>Cancel</button>
    </form>
  </body>
</html>
`;
}

export function oauthErrorPage(status: number, error: string, description: string): string {
  return `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8"><title>Error ${status} (${escapeHtml(error)})</title><style>${STYLE}</style></head>
  <body>
    <h1>Access blocked: Authorization Error</h1>
    <p>${escapeHtml(description)}</p>
    <p class="error">Error ${status}: ${escapeHtml(error)}</p>
  </body>
</html>
`;
}

/** A small initial-letter avatar, served as the userinfo `picture`. */
export function avatarSvg(letter: string, hue: number): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" viewBox="0 0 96 96"><rect width="96" height="96" fill="hsl(${hue},45%,45%)"/><text x="48" y="62" font-size="44" text-anchor="middle" fill="#fff" font-family="sans-serif">${escapeHtml(letter)}</text></svg>`;
}
