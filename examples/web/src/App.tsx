import { useMutation, useQuery } from '@apollo/client/react';
import { useState, type DragEvent } from 'react';
import { ContactPhotoListDocument, UploadContactPhotoDocument } from '../../generated/graphql.js';
import { sentenceFor } from './error-sentences.js';
import { CONTACTS, INVITATION_ID } from './settings.js';

/**
 * A contacts screen: each contact's 48 px thumbnail from one `ContactPhotoList` query (one
 * request, however many contacts), and a file input or drop zone per contact to change it.
 */
export function App() {
  const { data, error, loading } = useQuery(ContactPhotoListDocument, {
    variables: { invitationId: INVITATION_ID, contactIds: CONTACTS.map((contact) => contact.id) },
    // One contact's failed read leaves the others on screen.
    errorPolicy: 'all',
  });
  return (
    <main style={{ fontFamily: 'system-ui, sans-serif', maxWidth: 560, margin: '2rem auto' }}>
      <h1>Contacts</h1>
      {loading && !data && <p>Loading…</p>}
      {error && !data && <p role="alert">{sentenceFor(error)}</p>}
      <ul style={{ listStyle: 'none', padding: 0 }}>
        {CONTACTS.map((contact, index) => (
          <ContactRow key={contact.id} id={contact.id} name={contact.name} thumbnail={data?.contactPhotos[index]?.thumbnail ?? null} />
        ))}
      </ul>
    </main>
  );
}

function ContactRow({ id, name, thumbnail }: { id: string; name: string; thumbnail: string | null }) {
  const [upload, { loading: uploading }] = useMutation(UploadContactPhotoDocument, {
    // The list's 48 px thumbnail is another field of the photo: read it again once the picture changed.
    refetchQueries: [ContactPhotoListDocument],
    awaitRefetchQueries: true,
  });
  const [problem, setProblem] = useState<string>();
  const [dragging, setDragging] = useState(false);

  async function send(file: File | undefined) {
    if (!file) return;
    setProblem(undefined);
    try {
      await upload({ variables: { invitationId: INVITATION_ID, contactId: id, file } });
    } catch (error) {
      setProblem(sentenceFor(error));
    }
  }

  function dropped(event: DragEvent<HTMLLIElement>) {
    event.preventDefault();
    setDragging(false);
    void send(event.dataTransfer.files[0]);
  }

  return (
    <li
      data-contact-id={id}
      aria-busy={uploading}
      onDragOver={(event) => {
        event.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={dropped}
      style={{ display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: '1rem', padding: '0.5rem', border: `2px dashed ${dragging ? '#36c' : 'transparent'}` }}
    >
      {thumbnail ? (
        <img src={thumbnail} alt={`${name}’s picture`} style={{ width: 48, height: 48, objectFit: 'cover', borderRadius: '50%' }} />
      ) : (
        <span aria-label={`${name} has no picture`} style={{ width: 48, height: 48, borderRadius: '50%', background: '#ddd', display: 'grid', placeItems: 'center' }}>
          {name.split(' ').map((part) => part[0]).join('')}
        </span>
      )}
      <span style={{ flex: 1 }}>{name}</span>
      <label>
        {uploading ? 'Uploading…' : 'Change picture'}
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
      {problem && (
        <p role="alert" style={{ color: '#b00', flexBasis: '100%' }}>
          {problem}
        </p>
      )}
    </li>
  );
}
