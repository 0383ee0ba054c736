/**
 * The redirect URI registered for the page: MSAL v5's redirect bridge. It hands the authority's
 * answer to the window that asked (the page after a redirect, through `sessionStorage`; the
 * opener of a popup, or the page around a silent frame, through a `BroadcastChannel`), and takes
 * the code out of this address at once. It calls no API itself.
 */
import { broadcastResponseToMainFrame } from '@azure/msal-browser/redirect-bridge';

broadcastResponseToMainFrame().catch((error: unknown) => {
  document.body.textContent = `Signing in failed: ${error instanceof Error ? error.message : String(error)}`;
});
