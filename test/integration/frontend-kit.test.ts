import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { ApolloClient, CombinedGraphQLErrors, HttpLink, InMemoryCache, ServerError } from '@apollo/client';
import sharp from 'sharp';
import {
  contactList,
  contactPhoto,
  contactPhotoList,
  contactPhotoThumbnail,
  createContactPhotoClient,
  isUnauthenticated,
  updateContactPhoto,
  uploadContactPhoto,
} from '../../examples/contact-photo-client.js';
import { ContactListDocument, ContactPhotoDocument, type UploadContactPhotoMutationVariables } from '../../examples/generated/graphql.js';
import { twoColourImage } from '../support/images.js';
import { startSignInStack } from '../support/sign-in.js';
import { startStack, type Stack } from '../support/stack.js';

/** `true` when A and B are the same type, `false` otherwise (assigning the wrong one fails to compile). */
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

// The frontend kit against the demo setup: the simulator with the gateway in front of it.
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { GRAPH_MAX_RETRIES: '0' } });
});
afterAll(() => stack.close());
beforeEach(() => stack.simulator.reset());

describe('the typed Apollo Client example', () => {
  it('updates a photo and gets the typed ProfilePhoto back', async () => {
    const client = createContactPhotoClient({ url: stack.url, token: 'kit-token' });

    const photo = await updateContactPhoto(client, 'kit-invitation', 'kit-contact', { height: 96, width: 120 });

    expect(photo).toEqual({
      __typename: 'ProfilePhoto',
      invitationId: 'kit-invitation',
      contactId: 'kit-contact',
      id: '120X96',
      height: 96,
      width: 120,
    });
  });

  it('types the answer with exactly the fields the document selects (checked by tsc in npm test and CI)', () => {
    type Photo = NonNullable<Awaited<ReturnType<typeof updateContactPhoto>>>;
    // Fails to compile if the generated type gains, loses or misspells a field.
    const exact: Equals<keyof Photo, 'invitationId' | 'contactId' | 'id' | 'height' | 'width'> = true;
    const sizes: Equals<Photo['height'], number | null> = true;
    // @ts-expect-error `heigth` is not a field of ProfilePhoto: the typed document makes this a tsc error.
    const misspelt: Photo['heigth'] = undefined;

    expect([exact, sizes, misspelt]).toEqual([true, true, undefined]);
  });

  it("reads NOT_FOUND from the error's extensions.code", async () => {
    const client = createContactPhotoClient({ url: stack.url, token: 'kit-token' });
    stack.simulator.fail({ status: 404, code: 'ErrorItemNotFound', message: 'The specified object was not found in the store.' });

    const failure = await updateContactPhoto(client, 'kit-invitation', 'missing-contact', { height: 1 }).catch((error: unknown) => error);

    expect(CombinedGraphQLErrors.is(failure)).toBe(true);
    const [error] = (failure as CombinedGraphQLErrors).errors;
    expect(error?.extensions?.['code']).toBe('NOT_FOUND');
    expect(error?.message).toBe('The specified object was not found in the store.');
  });
});

describe('uploading a picture with the kit (apollo-upload-client)', () => {
  it('sends a real File as a GraphQL multipart request and gets the photo and its thumbnail back', async () => {
    const client = createContactPhotoClient({ url: stack.url, token: 'kit-token' });
    const png = await (await twoColourImage(800, 600)).png().toBuffer();
    const file = new File([png], 'portrait.png', { type: 'image/png' });

    const photo = await uploadContactPhoto(client, 'kit-invitation', 'kit-contact', file);

    expect(photo).toMatchObject({ __typename: 'ProfilePhoto', contactId: 'kit-contact', id: '648X486', height: 486, width: 648 });
    const [put] = stack.simulator.requests;
    expect(put).toMatchObject({ method: 'PUT', url: expect.stringMatching(/\/photo\/\$value$/) });
    const thumbnail = Buffer.from(photo!.thumbnail!.replace(/^data:image\/jpeg;base64,/, ''), 'base64');
    expect((await sharp(thumbnail).metadata()).width).toBe(96);

    const dataUrl = await contactPhotoThumbnail(client, 'kit-invitation', 'kit-contact', 48);
    expect(dataUrl).toMatch(/^data:image\/jpeg;base64,/);
  });

  it("types the generated document's file variable as File | Blob, what the link sends (checked by tsc)", () => {
    const exact: Equals<UploadContactPhotoMutationVariables['file'], File | Blob> = true;

    expect(exact).toBe(true);
  });
});

describe('a contacts screen with the kit (ContactPhotoList)', () => {
  async function givenPictures(client: ApolloClient, contactIds: string[]): Promise<void> {
    const jpeg = await (await twoColourImage(120, 80)).jpeg().toBuffer();
    for (const contactId of contactIds) await uploadContactPhoto(client, 'list-invitation', contactId, new File([jpeg], 'p.jpg', { type: 'image/jpeg' }));
  }

  it('gets the URL of each contact’s 48 px thumbnail on the gateway, in the order asked, null for a contact without a photo, in one request', async () => {
    const client = createContactPhotoClient({ url: stack.url, token: 'list-token' });
    await givenPictures(client, ['ann', 'bob']);
    const before = stack.simulator.httpRequestCount;

    const { photos, error } = await contactPhotoList(client, 'list-invitation', ['bob', 'nobody', 'ann']);

    expect(error).toBeUndefined();
    expect(photos.map((photo) => photo?.contactId ?? null)).toEqual(['bob', null, 'ann']);
    // Three metadata reads and three pictures, in one JSON batch.
    expect(stack.simulator.httpRequestCount - before).toBe(1);
    // Absolute on the gateway's origin (the gateway answers it relative), for a page on any origin.
    expect(new URL(photos[0]!.thumbnail!).origin).toBe(new URL(stack.url).origin);
    const thumbnail = Buffer.from(await (await fetch(photos[0]!.thumbnail!)).arrayBuffer());
    expect(await sharp(thumbnail).metadata()).toMatchObject({ format: 'jpeg', width: 48, height: 32 });
    expect(stack.simulator.httpRequestCount - before).toBe(1);
  });

  it('keeps the other entries when one contact’s read fails, and says which one and why', async () => {
    const client = createContactPhotoClient({ url: stack.url, token: 'list-token' });
    await givenPictures(client, ['ann', 'bob']);
    stack.simulator.fail({ contactId: 'bob', value: false, status: 403 });

    const { photos, error } = await contactPhotoList(client, 'list-invitation', ['ann', 'bob']);

    expect(photos.map((photo) => photo?.contactId ?? null)).toEqual(['ann', null]);
    expect(CombinedGraphQLErrors.is(error)).toBe(true);
    expect((error as CombinedGraphQLErrors).errors.map((failure) => [failure.path, failure.extensions?.['code']])).toEqual([[['contactPhotos', 1], 'FORBIDDEN']]);
  });

  it('types each entry as nullable, with exactly the fields the document selects (checked by tsc)', () => {
    type Entry = Awaited<ReturnType<typeof contactPhotoList>>['photos'][number];
    const nullable: Equals<null extends Entry ? true : false, true> = true;
    const exact: Equals<keyof NonNullable<Entry>, 'invitationId' | 'contactId' | 'id' | 'thumbnail'> = true;

    expect([nullable, exact]).toEqual([true, true]);
  });
});

describe("the kit's cache policy", () => {
  /** Two contacts of one invitation whose photos have the same Graph id (`96X96`). */
  async function readTwoContactsWithTheSamePhotoId(client: ApolloClient) {
    const writer = createContactPhotoClient({ url: stack.url, token: 'cache-token' });
    await updateContactPhoto(writer, 'cache-invitation', 'contact-a', { height: 96, width: 96 });
    await updateContactPhoto(writer, 'cache-invitation', 'contact-b', { height: 96, width: 96 });
    await client.query({ query: ContactPhotoDocument, variables: { invitationId: 'cache-invitation', contactId: 'contact-a' } });
    await client.query({ query: ContactPhotoDocument, variables: { invitationId: 'cache-invitation', contactId: 'contact-b' } });
    return client.readQuery({ query: ContactPhotoDocument, variables: { invitationId: 'cache-invitation', contactId: 'contact-a' } })?.contactPhoto;
  }

  it('keeps two contacts whose photos share an id apart', async () => {
    const client = createContactPhotoClient({ url: stack.url, token: 'cache-token' });

    const contactA = await readTwoContactsWithTheSamePhotoId(client);

    expect(contactA).toMatchObject({ id: '96X96', contactId: 'contact-a' });
    expect(await contactPhoto(client, 'cache-invitation', 'contact-b')).toMatchObject({ id: '96X96', contactId: 'contact-b' });
    const keys = Object.keys(client.cache.extract() as Record<string, unknown>).filter((key) => key.startsWith('ProfilePhoto:'));
    expect(keys).toHaveLength(2);
  });

  it("while Apollo Client's default (id-based) cache merges them into one", async () => {
    const client = new ApolloClient({
      link: new HttpLink({ uri: stack.url, headers: { authorization: 'Bearer cache-token' } }),
      cache: new InMemoryCache(),
    });

    const contactA = await readTwoContactsWithTheSamePhotoId(client);

    expect(contactA).toMatchObject({ id: '96X96', contactId: 'contact-b' });
  });
});

describe("the kit's token: a string, or a function asked for each request", () => {
  it('asks the token function before each request, so that a renewed token is used by the next one', async () => {
    const tokens = ['first-token', 'renewed-token'];
    let asked = 0;
    const client = createContactPhotoClient({ url: stack.url, token: async () => tokens[Math.min(asked++, tokens.length - 1)]! });

    await updateContactPhoto(client, 'token-invitation', 'token-contact', { height: 1 });
    await updateContactPhoto(client, 'token-invitation', 'token-contact', { height: 2 });

    expect(asked).toBe(2);
    expect(stack.simulator.requests.map((request) => request.headers.authorization)).toEqual(['Bearer first-token', 'Bearer renewed-token']);
  });

  it('sends a string token as it is, on every request', async () => {
    const client = createContactPhotoClient({ url: stack.url, token: 'kit-token' });

    await updateContactPhoto(client, 'token-invitation', 'token-contact', { height: 1 });

    expect(stack.simulator.requests.map((request) => request.headers.authorization)).toEqual(['Bearer kit-token']);
  });

  it('gets Graph refusing the token (passthrough) as UNAUTHENTICATED in CombinedGraphQLErrors', async () => {
    const client = createContactPhotoClient({ url: stack.url, token: () => 'expired-graph-token' });
    stack.simulator.fail({ status: 401, code: 'InvalidAuthenticationToken', message: 'Lifetime validation failed, the token is expired.' });

    const failure = await updateContactPhoto(client, 'token-invitation', 'token-contact', { height: 1 }).catch((error: unknown) => error);

    expect(CombinedGraphQLErrors.is(failure)).toBe(true);
    expect((failure as CombinedGraphQLErrors).errors[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
    expect(isUnauthenticated(failure)).toBe(true);
  });

  it('gets a sign-in refusal of a query or mutation as UNAUTHENTICATED in CombinedGraphQLErrors (Apollo Server answers 401 as application/graphql-response+json), and of an upload as a ServerError with status 401; a renewed token from the function then works', async () => {
    const signIn = await startSignInStack();
    try {
      const expired = await signIn.entra.userToken({ expiresInS: -300 });
      const tokens = [expired, expired, await signIn.entra.userToken({ expiresInS: 3600 })];
      let asked = 0;
      const client = createContactPhotoClient({ url: signIn.url, token: () => tokens[asked++]! });
      const file = new File([await (await twoColourImage(64, 64)).jpeg().toBuffer()], 'p.jpg', { type: 'image/jpeg' });

      const mutation = await updateContactPhoto(client, 'token-invitation', 'token-contact', { height: 1 }).catch((error: unknown) => error);
      const upload = await uploadContactPhoto(client, 'token-invitation', 'token-contact', file).catch((error: unknown) => error);
      const renewed = await updateContactPhoto(client, 'token-invitation', 'token-contact', { height: 64, width: 64 });

      expect(CombinedGraphQLErrors.is(mutation)).toBe(true);
      expect((mutation as CombinedGraphQLErrors).errors[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
      expect(ServerError.is(upload)).toBe(true);
      expect((upload as ServerError).statusCode).toBe(401);
      expect(JSON.parse((upload as ServerError).bodyText)).toMatchObject({ errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });
      expect([isUnauthenticated(mutation), isUnauthenticated(upload), isUnauthenticated(new Error('offline'))]).toEqual([true, true, false]);
      expect(renewed).toMatchObject({ id: '64X64' });
      expect(signIn.graph.requests).toHaveLength(1);
    } finally {
      await signIn.close();
    }
  });
});

describe('a contacts screen a page at a time with the kit (ContactList)', () => {
  async function givenContacts(): Promise<Buffer> {
    const jpeg = await (await twoColourImage(120, 80)).jpeg().toBuffer();
    stack.simulator.addContacts('page-invitation', [
      { id: 'c-cy', displayName: 'Cy Twombly' },
      { id: 'c-ann', displayName: 'Ann Arbor', picture: jpeg },
      { id: 'c-bob', displayName: 'Bob Ross', picture: jpeg },
    ]);
    return jpeg;
  }

  it('lists a page of contacts in name order with the URLs of their 48 px thumbnails on the gateway (null without a picture), and the next page from endCursor', async () => {
    await givenContacts();
    const client = createContactPhotoClient({ url: stack.url, token: 'page-token' });

    const first = await contactList(client, 'page-invitation', { first: 2 });
    const second = await contactList(client, 'page-invitation', { first: 2, after: first.contacts!.pageInfo.endCursor! });

    expect(first.error).toBeUndefined();
    expect(first.contacts!.edges.map(({ node }) => node.displayName)).toEqual(['Ann Arbor', 'Bob Ross']);
    const thumbnail = first.contacts!.edges[0]!.node.photo!.thumbnail!;
    expect(new URL(thumbnail).origin).toBe(new URL(stack.url).origin);
    expect(await sharp(Buffer.from(await (await fetch(thumbnail)).arrayBuffer())).metadata()).toMatchObject({ format: 'jpeg', width: 48 });
    expect(first.contacts!.pageInfo.hasNextPage).toBe(true);
    expect(second.contacts!.edges.map(({ node }) => [node.displayName, node.photo])).toEqual([['Cy Twombly', null]]);
    expect(second.contacts!.pageInfo.hasNextPage).toBe(false);
  });

  it("adds a page fetched with after to the list the kit's cache holds, and a fetch without after replaces it", async () => {
    await givenContacts();
    const client = createContactPhotoClient({ url: stack.url, token: 'page-token' });
    const held = () => client.readQuery({ query: ContactListDocument, variables: { invitationId: 'page-invitation', first: 2 } })?.contacts.edges.map(({ node }) => node.id);

    const read = (after?: string) => client.query({ query: ContactListDocument, variables: { invitationId: 'page-invitation', first: 2, ...(after && { after }) }, fetchPolicy: 'network-only' });

    const first = await read();
    await read(first.data!.contacts.pageInfo.endCursor!);
    const afterMore = held();
    await read();

    expect(afterMore).toEqual(['c-ann', 'c-bob', 'c-cy']);
    expect(held()).toEqual(['c-ann', 'c-bob']);
  });

  it("keeps the page when one contact's picture cannot be read, and says which at its path", async () => {
    await givenContacts();
    const client = createContactPhotoClient({ url: stack.url, token: 'page-token' });
    stack.simulator.fail({ contactId: 'c-bob', status: 403, times: Infinity });

    const { contacts, error } = await contactList(client, 'page-invitation', { first: 3 });

    expect(contacts!.edges.map(({ node }) => node.photo?.thumbnail ?? null)).toEqual([expect.stringMatching(/\/photos\//), null, null]);
    expect((error as CombinedGraphQLErrors).errors.map((failure) => [failure.path, failure.extensions?.['code']])).toEqual([[['contacts', 'edges', 1, 'node', 'photo'], 'FORBIDDEN']]);
  });
});
