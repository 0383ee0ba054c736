import type { SignIn } from './auth.js';

/** Before sign-in: what the page is, and the one thing to do. */
export function SignInScreen({ signIn }: { signIn: SignIn }) {
  return (
    <main style={{ fontFamily: 'system-ui, sans-serif', maxWidth: 640, margin: '2rem auto' }}>
      <h1>Contacts</h1>
      <p>Sign in to see your contacts and change their pictures.</p>
      <button type="button" onClick={() => void signIn.signIn()}>
        Sign in
      </button>
    </main>
  );
}

/** Once signed in: who, and sign-out. */
export function AccountBar({ signIn }: { signIn: SignIn }) {
  return (
    <nav aria-label="Account" style={{ fontFamily: 'system-ui, sans-serif', maxWidth: 640, margin: '1rem auto 0', display: 'flex', gap: '1rem', alignItems: 'center', justifyContent: 'flex-end' }}>
      <span>
        Signed in as <strong>{signIn.account?.name ?? signIn.account?.username}</strong>
      </span>
      <button type="button" onClick={() => void signIn.signOut()}>
        Sign out
      </button>
    </nav>
  );
}

/** Sign-in could not start: why, for whoever reports it. */
export function SignInProblem({ error }: { error: unknown }) {
  return (
    <main style={{ fontFamily: 'system-ui, sans-serif', maxWidth: 640, margin: '2rem auto' }}>
      <h1>Contacts</h1>
      <p role="alert">Sign-in could not start: {error instanceof Error ? error.message : String(error)}. Reload the page to try again.</p>
    </main>
  );
}
