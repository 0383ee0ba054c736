/**
 * Sign-in with MSAL.js (`@azure/msal-browser`), when the gateway says the page has an app
 * registration of its own (`/app/sign-in.json`, served with `AUTH_MODE=obo` and
 * `WEB_APP_CLIENT_ID`); without it (passthrough) the page signs nobody in.
 *
 * - Sign-in and sign-out are redirects (the whole page goes to the authority and comes back
 *   through `redirect.html`, MSAL v5's redirect bridge, which hands the answer to this page in
 *   `sessionStorage`: no code or token is ever in this page's address).
 * - A token for the gateway's API is asked of MSAL for each request (`acquireTokenSilent`: its
 *   cache, or the refresh token once the access token is within 5 minutes of its expiry); when
 *   that needs the user (`InteractionRequiredAuthError`), the page goes to the authority again.
 * - A claims challenge from the gateway (Conditional Access, through its on-behalf-of exchange)
 *   is met by asking MSAL again with those claims: silently if it can, else in a popup (the page,
 *   and the request waiting, stay), else by a redirect when a popup is blocked.
 * - Tokens stay in `sessionStorage` (this tab only; MSAL's default), never `localStorage`.
 */
import { BrowserAuthError, InteractionRequiredAuthError, PublicClientApplication, type AccountInfo } from '@azure/msal-browser';

/** What `/app/sign-in.json` says. */
export interface SignInSettings {
  clientId: string;
  /** `{authority host}/{tenant id}`. */
  authority: string;
  /** The gateway's API scope, `api://{gateway client id}/access_as_user`. */
  scopes: string[];
}

export interface SignIn {
  /** The signed-in user, or `null` before sign-in. */
  account: AccountInfo | null;
  signIn(): Promise<void>;
  signOut(): Promise<void>;
  /** A token for the gateway's API, for one request. */
  getToken(): Promise<string>;
  /** A token meeting a claims challenge (`claims`, JSON), with the user if need be. */
  tokenForClaims(claims: string): Promise<string>;
}

/** MSAL set up, the answer of a redirect just come back (sign-in, or a renewal) taken in. */
export async function startSignIn(settings: SignInSettings): Promise<SignIn> {
  const msal = new PublicClientApplication({
    auth: {
      clientId: settings.clientId,
      authority: settings.authority,
      // Not a Microsoft cloud MSAL knows (the simulator, a national cloud): trusted as given, no instance discovery.
      knownAuthorities: [new URL(settings.authority).host],
      redirectUri: new URL('redirect.html', window.location.href).href,
      postLogoutRedirectUri: new URL('./', window.location.href).href,
      // The page can take claims challenges: Entra may then send tokens a policy can revoke early.
      clientCapabilities: ['CP1'],
    },
    cache: { cacheLocation: 'sessionStorage' },
  });
  await msal.initialize();
  const redirected = await msal.handleRedirectPromise();
  const account = redirected?.account ?? msal.getActiveAccount() ?? msal.getAllAccounts()[0] ?? null;
  msal.setActiveAccount(account);
  const request = { scopes: settings.scopes };

  async function getToken(): Promise<string> {
    try {
      return (await msal.acquireTokenSilent({ ...request, account: account! })).accessToken;
    } catch (error) {
      if (error instanceof InteractionRequiredAuthError) await msal.acquireTokenRedirect({ ...request, account: account! });
      throw error;
    }
  }

  async function tokenForClaims(claims: string): Promise<string> {
    const withClaims = { ...request, account: account!, claims };
    try {
      return (await msal.acquireTokenSilent(withClaims)).accessToken;
    } catch (error) {
      if (!(error instanceof InteractionRequiredAuthError)) throw error;
    }
    try {
      return (await msal.acquireTokenPopup({ ...withClaims, loginHint: account!.username })).accessToken;
    } catch (error) {
      // A blocked popup: the whole page goes instead, and comes back with the token.
      if (error instanceof BrowserAuthError && error.errorCode === 'popup_window_error') await msal.acquireTokenRedirect(withClaims);
      throw error;
    }
  }

  return {
    account,
    signIn: () => msal.loginRedirect(request),
    signOut: () => msal.logoutRedirect({ account }),
    getToken,
    tokenForClaims,
  };
}
