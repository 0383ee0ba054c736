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
  const pages = useContactPages();
  const [announcement, setAnnouncement] = useState('');
  const { connection } = pages;
  return (
    <main style={{ fontFamily: 'system-ui, sans-serif', maxWidth: 640, margin: '2rem auto' }}>
      <h1>Contacts</h1>
      {/* The one place uploads are announced: present from the start, so a screen reader follows it. */}
      <p aria-live="polite" style={{ minHeight: '1.5em', margin: 0 }}>
        {announcement}
      </p>
      {pages.loading && !connection && <p>Loading…</p>}
      {pages.error && !connection && !pages.loading && (
        <div role="alert" style={{ color: '#b00' }}>
          <p>The contacts could not be loaded: {reasonForError(pages.error)}.</p>
          <button type="button" onClick={pages.retry}>
            Retry
          </button>
        </div>
      )}
      {connection && (
        <>
          <ul aria-label="Contacts" style={{ listStyle: 'none', padding: 0 }}>
            {connection.edges.map(({ node }) => (
              <ContactRow key={node.id} contact={node} readProblem={pages.failures.get(node.id)} announce={setAnnouncement} />
            ))}
          </ul>
          {pages.moreProblem && (
            <p role="alert" style={{ color: '#b00' }}>
              {pages.moreProblem}
            </p>
          )}
          {connection.pageInfo.hasNextPage && (
            <button type="button" disabled={pages.loadingMore} onClick={() => void pages.showMore()}>
              {pages.loadingMore ? 'Loading more…' : 'Show more'}
            </button>
          )}
        </>
      )}
    </main>
  );
}

/**
 * The contacts, a page at a time, and which contacts' pictures could not be read (by id, with
 * why): each page's failures are read against the answer that carried them.
 */
function useContactPages() {
  const { data, error, loading, fetchMore, refetch } = useQuery(ContactListDocument, {
    variables: { invitationId: INVITATION_ID, first: PAGE_SIZE },
    // One contact's failed picture leaves the rest of the page on screen.
    errorPolicy: 'all',
    notifyOnNetworkStatusChange: true,
  });
  const [failures, setFailures] = useState<ReadonlyMap<string, string>>(new Map());
  const [moreProblem, setMoreProblem] = useState<string>();
  const [loadingMore, setLoadingMore] = useState(false);
  const connection = data?.contacts;

  // The first page's failures, on a new answer's error only (a refetch answers it anew): not
  // for each page fetchMore adds, whose failures come with its own answer, below.
  useEffect(() => {
    if (error) setFailures((held) => new Map([...held, ...photoFailures(connection, error)]));
  }, [error]);

  async function showMore(): Promise<void> {
    const after = connection?.pageInfo.endCursor;
    if (!after) return;
    setLoadingMore(true);
    setMoreProblem(undefined);
    // errorPolicy is not inherited by fetchMore: without it one failed picture would fail the page.
    const more = await fetchMore({ variables: { after }, errorPolicy: 'all' }).catch((failure: unknown) => ({ data: undefined, error: failure }));
    if (more.data?.contacts) setFailures((held) => new Map([...held, ...photoFailures(more.data?.contacts, more.error)]));
    else setMoreProblem(`The next contacts could not be loaded: ${reasonForError(more.error)}.`);
    setLoadingMore(false);
  }

  function retry(): void {
    setFailures(new Map());
    void refetch().catch(() => undefined);
  }

  return { connection, error, loading, failures, moreProblem, loadingMore, showMore, retry };
}
