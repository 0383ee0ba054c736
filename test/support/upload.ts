import type { GraphQLResult } from './graphql.js';

export interface UploadOptions {
  token?: string;
  /** Extra headers; `apollo-require-preflight: true` is sent unless `preflight` is false. */
  headers?: Record<string, string>;
  preflight?: boolean;
  /** The type the file is declared as (Apollo Sandbox declares every file application/octet-stream). */
  type?: string;
  filename?: string;
  /** Aborts the request (a caller who leaves). */
  signal?: AbortSignal;
}

export const UPLOAD_PHOTO = `mutation UploadContactPhoto($invitationId: ID!, $contactId: ID!, $file: Upload!) {
  uploadContactPhoto(invitationId: $invitationId, contactId: $contactId, file: $file) { id height width }
}`;

/**
 * POSTs a GraphQL multipart request (the spec's `operations`, `map`, then the file) with
 * Node's own FormData, as a browser does.
 */
export async function postUpload(
  url: string,
  query: string,
  variables: Record<string, unknown>,
  file: Buffer,
  options: UploadOptions = {},
): Promise<GraphQLResult> {
  const form = new FormData();
  form.append('operations', JSON.stringify({ query, variables: { ...variables, file: null } }));
  form.append('map', JSON.stringify({ 0: ['variables.file'] }));
  form.append('0', new Blob([file], { type: options.type ?? 'application/octet-stream' }), options.filename ?? 'photo.jpg');
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      ...(options.preflight !== false && { 'apollo-require-preflight': 'true' }),
      ...(options.token !== undefined && { authorization: `Bearer ${options.token}` }),
      ...options.headers,
    },
    body: form,
    ...(options.signal && { signal: options.signal }),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as GraphQLResult['body'] };
}
