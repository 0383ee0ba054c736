import { ApolloProvider } from '@apollo/client/react';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createContactPhotoClient } from '../../contact-photo-client.js';
import { App } from './App.js';
import { initialToken } from './settings.js';

/**
 * The gateway serves this page at /app/ on its own origin, so the API is /graphql beside it. The
 * token is asked for before each request, as a page renewing it with MSAL.js would.
 */
const client = createContactPhotoClient({ url: new URL('/graphql', window.location.origin).href, token: initialToken });

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ApolloProvider client={client}>
      <App />
    </ApolloProvider>
  </StrictMode>,
);
