import { useQuery } from '@apollo/client/react';
import { useEffect, useState } from 'react';
import { ContactListDocument } from '../../generated/graphql.js';
import { ContactRow } from './ContactRow.js';
import { reasonForError } from './error-sentences.js';
import { photoFailures } from './photo-failures.js';
import { INVITATION_ID, PAGE_SIZE } from './settings.js';

/**
 * A contacts screen: a page of contacts with their 48 px thumbnails from one `ContactList` query,
 * "Show more" for the next page (one request each, the kit's cache adding it to the list), and a
 * file input or drop zone per contact to change its picture. What a person must be able to tell
 * apart, by sight and by screen reader: no picture (initials), a picture that could not be read
 * (a marked placeholder, why, and a Retry), the whole list failing (one alert with a Retry), and
 * an upload under way and done (the live region).
 */
export function App() {
  const { data, error, loading, fetchMore, refetch } = useQuery(ContactListDocument, {
    variables: { invitationId: INVITATION_ID, first: PAGE_SIZE },
    // One contact's failed picture leaves the rest of the page on screen.
    errorPolicy: 'all',
    notifyOnNetworkStatusChange: true,
  });
  const [failures, setFailures] = useState<ReadonlyMap<string, string>>(new Map());
  const [moreProblem, setMoreProblem] = useState<string>();
  const [loadingMore, setLoadingMore] = useState(false);
  const [announcement, setAnnouncement] = useState('');
  const connection = data?.contacts;

  // The first page's failed pictures, read against that page as it was answered (a refetch
  // answers it anew): run for a new answer's error only, not for each page fetchMore adds,
  // whose failures come with its own answer, below.
  useEffect(() => {
    if (error) setFailures((held) => new Map([...held, ...photoFailures(connection, error)]));
  }, [error]);

  async function showMore(after: string) {
    setLoadingMore(true);
    setMoreProblem(undefined);
    try {
      const more = await fetchMore({ variables: { after }, errorPolicy: 'all' });
      if (!more.data?.contacts) setMoreProblem(`The next contacts could not be loaded: ${reasonForError(more.error)}.`);
      else setFailures((held) => new Map([...held, ...photoFailures(more.data?.contacts, more.error)]));
    } catch (failure) {
      setMoreProblem(`The next contacts could not be loaded: ${reasonForError(failure)}.`);
    } finally {
      setLoadingMore(false);
    }
  }

  function retryList() {
    setFailures(new Map());
    void refetch().catch(() => undefined);
  }

  return (
    <main style={{ fontFamily: 'system-ui, sans-serif', maxWidth: 640, margin: '2rem auto' }}>
      <h1>Contacts</h1>
      {/* The one place uploads are announced: present from the start, so a screen reader follows it. */}
      <p aria-live="polite" style={{ minHeight: '1.5em', margin: 0 }}>
        {announcement}
      </p>
      {loading && !connection && <p>Loading…</p>}
      {error && !connection && !loading && (
        <div role="alert" style={{ color: '#b00' }}>
          <p>The contacts could not be loaded: {reasonForError(error)}.</p>
          <button type="button" onClick={retryList}>
            Retry
          </button>
        </div>
      )}
      {connection && (
        <>
          <ul aria-label="Contacts" style={{ listStyle: 'none', padding: 0 }}>
            {connection.edges.map(({ node }) => (
              <ContactRow key={node.id} contact={node} readProblem={failures.get(node.id)} announce={setAnnouncement} />
            ))}
          </ul>
          {moreProblem && (
            <p role="alert" style={{ color: '#b00' }}>
              {moreProblem}
            </p>
          )}
          {connection.pageInfo.hasNextPage && connection.pageInfo.endCursor && (
            <button type="button" disabled={loadingMore} onClick={() => void showMore(connection.pageInfo.endCursor!)}>
              {loadingMore ? 'Loading more…' : 'Show more'}
            </button>
          )}
        </>
      )}
    </main>
  );
}
