import { useApolloClient, useMutation } from '@apollo/client/react';
import { useState, type DragEvent } from 'react';
import { ContactPhotoThumbnailDocument, UploadContactPhotoDocument, type ContactListQuery } from '../../generated/graphql.js';
import { reasonForError, sentenceFor } from './error-sentences.js';
import { INVITATION_ID } from './settings.js';

type Contact = ContactListQuery['contacts']['edges'][number]['node'];

const CIRCLE = { width: 48, height: 48, borderRadius: '50%', flex: 'none' } as const;

/**
 * One contact: its thumbnail, its initials when it has no picture, or a marked placeholder with
 * why and a Retry when its picture could not be read; and a file input (or a drop) to change it.
 * `readProblem` is why the list's read of its picture failed; a Retry or an upload reads the
 * 48 px thumbnail again, and what that answers is shown from then on.
 */
export function ContactRow({ contact, readProblem, announce }: { contact: Contact; readProblem: string | undefined; announce: (text: string) => void }) {
  const client = useApolloClient();
  const name = contact.displayName ?? contact.id;
  const [upload, { loading: uploading }] = useMutation(UploadContactPhotoDocument);
  const [fresh, setFresh] = useState<{ thumbnail: string | null; problem?: string }>();
  const [retrying, setRetrying] = useState(false);
  const [uploadProblem, setUploadProblem] = useState<string>();
  const [dragging, setDragging] = useState(false);

  /** Reads this contact's 48 px thumbnail again (not from the cache), for a Retry or after an upload. */
  async function reread(): Promise<void> {
    const { data, error } = await client
      .query({ query: ContactPhotoThumbnailDocument, variables: { invitationId: INVITATION_ID, contactId: contact.id, size: 48 }, fetchPolicy: 'network-only', errorPolicy: 'all' })
      .catch((failure: unknown) => ({ data: undefined, error: failure }));
    if (error) setFresh({ thumbnail: null, problem: reasonForError(error) });
    else setFresh({ thumbnail: data?.contactPhoto?.dataUrl ?? null });
  }

  async function retry() {
    setRetrying(true);
    await reread();
    setRetrying(false);
  }

  async function send(file: File | undefined) {
    if (!file) return;
    setUploadProblem(undefined);
    announce(`Uploading ${name}'s picture…`);
    try {
      await upload({ variables: { invitationId: INVITATION_ID, contactId: contact.id, file } });
    } catch (error) {
      // The row's alert says why; the live region must not say it a second time.
      announce('');
      setUploadProblem(sentenceFor(error));
      return;
    }
    await reread();
    announce(`${name}'s picture is changed.`);
  }

  function dropped(event: DragEvent<HTMLLIElement>) {
    event.preventDefault();
    setDragging(false);
    void send(event.dataTransfer.files[0]);
  }

  const problem = fresh ? fresh.problem : readProblem;
  const thumbnail = fresh ? fresh.thumbnail : (contact.photo?.thumbnail ?? null);
  return (
    <li
      data-contact-id={contact.id}
      aria-busy={uploading}
      onDragOver={(event) => {
        event.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={dropped}
      style={{ display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: '1rem', padding: '0.5rem', border: `2px dashed ${dragging ? '#36c' : 'transparent'}` }}
    >
      {problem !== undefined ? (
        <span
          role="img"
          aria-label={`${name}'s picture could not be read`}
          data-photo="unreadable"
          style={{ ...CIRCLE, display: 'grid', placeItems: 'center', border: '2px dashed #b00', color: '#b00', fontWeight: 'bold', background: 'repeating-linear-gradient(45deg, #fee, #fee 4px, #fff 4px, #fff 8px)' }}
        >
          !
        </span>
      ) : thumbnail ? (
        <img src={thumbnail} alt={`${name}’s picture`} style={{ ...CIRCLE, objectFit: 'cover' }} />
      ) : (
        <span role="img" aria-label={`${name} has no picture`} data-photo="none" style={{ ...CIRCLE, background: '#ddd', display: 'grid', placeItems: 'center' }}>
          {initials(name)}
        </span>
      )}
      <span style={{ flex: 1 }}>{name}</span>
      <label>
        Change {name}'s picture
        <input
          type="file"
          accept="image/*,.heic,.heif"
          disabled={uploading}
          onChange={(event) => {
            void send(event.target.files?.[0]);
            event.target.value = '';
          }}
          style={{ marginLeft: '0.5rem' }}
        />
      </label>
      {problem !== undefined && (
        <p style={{ color: '#b00', flexBasis: '100%', margin: 0 }}>
          The picture could not be read: {problem}.{' '}
          <button type="button" disabled={retrying} aria-label={`Retry reading ${name}'s picture`} onClick={() => void retry()}>
            Retry
          </button>
        </p>
      )}
      {uploadProblem && (
        <p role="alert" style={{ color: '#b00', flexBasis: '100%' }}>
          {uploadProblem}
        </p>
      )}
    </li>
  );
}

function initials(name: string): string {
  return name
    .split(/\s+/)
    .filter((part) => part !== '')
    .map((part) => part[0]!.toUpperCase())
    .slice(0, 2)
    .join('');
}
