import { useApolloClient, useMutation } from '@apollo/client/react';
import { useState, type DragEvent } from 'react';
import { ContactPhotoUrlDocument, UploadContactPhotoDocument, type ContactListQuery } from '../../generated/graphql.js';
import { reasonForError, sentenceFor } from './error-sentences.js';
import { INVITATION_ID } from './settings.js';

type Contact = ContactListQuery['contacts']['edges'][number]['node'];

const CIRCLE = { width: 48, height: 48, borderRadius: '50%', flex: 'none' } as const;

/**
 * One contact: its picture (or initials, or a marked placeholder with why and a Retry when it
 * could not be read), its name, and a file input (or a drop) to change the picture.
 * `readProblem` is why the list's read of its picture failed.
 */
export function ContactRow({ contact, readProblem, announce }: { contact: Contact; readProblem: string | undefined; announce: (text: string) => void }) {
  const name = contact.displayName ?? contact.id;
  const picture = usePicture(contact, readProblem);
  const upload = useUpload(contact.id, name, announce, picture.reread);
  const [dragging, setDragging] = useState(false);

  function dropped(event: DragEvent<HTMLLIElement>) {
    event.preventDefault();
    setDragging(false);
    void upload.send(event.dataTransfer.files[0]);
  }

  return (
    <li
      data-contact-id={contact.id}
      aria-busy={upload.uploading}
      onDragOver={(event) => {
        event.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={dropped}
      style={{ display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: '1rem', padding: '0.5rem', border: `2px dashed ${dragging ? '#36c' : 'transparent'}` }}
    >
      <Picture name={name} thumbnail={picture.thumbnail} unreadable={picture.problem !== undefined} expired={picture.expired} />
      <span className="contact-name" style={{ flex: 1 }}>
        {name}
      </span>
      <label>
        Change {name}'s picture
        <input
          type="file"
          accept="image/*,.heic,.heif"
          disabled={upload.uploading}
          onChange={(event) => {
            void upload.send(event.target.files?.[0]);
            event.target.value = '';
          }}
          style={{ marginLeft: '0.5rem' }}
        />
      </label>
      {picture.problem !== undefined && (
        <p style={{ color: '#b00', flexBasis: '100%', margin: 0 }}>
          The picture could not be read: {picture.problem}.{' '}
          <button type="button" disabled={picture.retrying} aria-label={`Retry reading ${name}'s picture`} onClick={() => void picture.retry()}>
            Retry
          </button>
        </p>
      )}
      {upload.problem && (
        <p role="alert" style={{ color: '#b00', flexBasis: '100%' }}>
          {upload.problem}
        </p>
      )}
    </li>
  );
}

/** The three things a picture's place can show, each with a name a screen reader says. */
function Picture({ name, thumbnail, unreadable, expired }: { name: string; thumbnail: string | null; unreadable: boolean; expired: () => void }) {
  if (unreadable) {
    const marked = { border: '2px dashed #b00', color: '#b00', fontWeight: 'bold', background: 'repeating-linear-gradient(45deg, #fee, #fee 4px, #fff 4px, #fff 8px)' };
    return (
      <span role="img" aria-label={`${name}'s picture could not be read`} data-photo="unreadable" style={{ ...CIRCLE, ...marked, display: 'grid', placeItems: 'center' }}>
        !
      </span>
    );
  }
  // A 404 for the picture's URL: the gateway no longer keeps its bytes (or the URL expired), so
  // the URL is asked for again.
  if (thumbnail) return <img src={thumbnail} alt={`${name}’s picture`} onError={expired} style={{ ...CIRCLE, objectFit: 'cover' }} />;
  return (
    <span role="img" aria-label={`${name} has no picture`} data-photo="none" style={{ ...CIRCLE, background: '#ddd', display: 'grid', placeItems: 'center' }}>
      {initials(name)}
    </span>
  );
}

/**
 * The contact's picture: the URL of its 48 px thumbnail from the list, until a Retry, an upload
 * or a URL the gateway answers 404 (its bytes no longer kept) reads it again (not from the
 * cache); from then on, what that read answered.
 */
function usePicture(contact: Contact, readProblem: string | undefined) {
  const client = useApolloClient();
  const [fresh, setFresh] = useState<{ thumbnail: string | null; problem?: string }>();
  const [retrying, setRetrying] = useState(false);

  async function reread(): Promise<void> {
    const { data, error } = await client
      .query({ query: ContactPhotoUrlDocument, variables: { invitationId: INVITATION_ID, contactId: contact.id, size: 48 }, fetchPolicy: 'network-only', errorPolicy: 'all' })
      .catch((failure: unknown) => ({ data: undefined, error: failure }));
    setFresh(error ? { thumbnail: null, problem: reasonForError(error) } : { thumbnail: data?.contactPhoto?.url ?? null });
  }

  async function retry(): Promise<void> {
    setRetrying(true);
    await reread();
    setRetrying(false);
  }

  // Once per URL: a picture whose new URL fails too shows as unreadable rather than looping.
  const [expiredUrl, setExpiredUrl] = useState<string>();
  const thumbnail = fresh ? fresh.thumbnail : (contact.photo?.thumbnail ?? null);
  function expired(): void {
    if (thumbnail === null || thumbnail === expiredUrl) {
      setFresh({ thumbnail: null, problem: 'the gateway no longer has it' });
      return;
    }
    setExpiredUrl(thumbnail);
    void reread();
  }

  return {
    thumbnail,
    expired,
    problem: fresh ? fresh.problem : readProblem,
    retrying,
    retry,
    reread,
  };
}

/** An upload of a new picture, announced in the live region while under way and once done; a refusal is the row's alert. */
function useUpload(contactId: string, name: string, announce: (text: string) => void, reread: () => Promise<void>) {
  const [upload, { loading: uploading }] = useMutation(UploadContactPhotoDocument);
  const [problem, setProblem] = useState<string>();

  async function send(file: File | undefined): Promise<void> {
    if (!file) return;
    setProblem(undefined);
    announce(`Uploading ${name}'s picture…`);
    try {
      await upload({ variables: { invitationId: INVITATION_ID, contactId, file } });
    } catch (error) {
      // The row's alert says why; the live region must not say it a second time.
      announce('');
      setProblem(sentenceFor(error));
      return;
    }
    await reread();
    announce(`${name}'s picture is changed.`);
  }

  return { send, uploading, problem };
}

function initials(name: string): string {
  return name
    .split(/\s+/)
    .filter((part) => part !== '')
    .map((part) => part[0]!.toUpperCase())
    .slice(0, 2)
    .join('');
}
