import { ApolloProvider } from '@apollo/client/react';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createContactPhotoClient } from '../../contact-photo-client.js';
import { App } from './App.js';
import type { SignIn, SignInSettings } from './auth.js';
import { initialToken } from './settings.js';
import { AccountBar, SignInProblem, SignInScreen } from './SignInBar.js';

/**
 * The gateway serves this page at /app/ on its own origin, so the API is /graphql beside it. With
 * sign-in (the gateway serves /app/sign-in.json), MSAL gives a token for each request and meets
 * the gateway's claims challenges; without it, the page sends the demo's passthrough token.
 */
async function main(): Promise<void> {
  const root = createRoot(document.getElementById('root')!);
  let signIn: SignIn | undefined;
  try {
    signIn = await signInIfAsked();
  } catch (error) {
    // The authority unreachable or its certificate refused (the demo prints how to accept the simulator's).
    root.render(<SignInProblem error={error} />);
    return;
  }
  if (signIn && !signIn.account) {
    root.render(
      <StrictMode>
        <SignInScreen signIn={signIn} />
      </StrictMode>,
    );
    return;
  }
  const url = new URL('/graphql', window.location.origin).href;
  const client = signIn ? createContactPhotoClient({ url, token: signIn.getToken, onClaimsChallenge: signIn.tokenForClaims }) : createContactPhotoClient({ url, token: initialToken });
  root.render(
    <StrictMode>
      {signIn && <AccountBar signIn={signIn} />}
      <ApolloProvider client={client}>
        <App />
      </ApolloProvider>
    </StrictMode>,
  );
}

/**
 * MSAL set up when the gateway has sign-in settings for the page (`sign-in.json` names a client), else `undefined`.
 * MSAL is loaded only then: a page in passthrough mode does without it.
 */
async function signInIfAsked(): Promise<SignIn | undefined> {
  const answer = await fetch(new URL('sign-in.json', window.location.href));
  const settings = answer.ok ? ((await answer.json()) as Partial<SignInSettings>) : {};
  if (settings.clientId === undefined) return undefined;
  const { startSignIn } = await import('./auth.js');
  return startSignIn(settings as SignInSettings);
}

void main();
