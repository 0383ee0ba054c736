export interface GraphQLResult {
  status: number;
  headers: Headers;
  body: {
    data?: Record<string, unknown> | null;
    errors?: Array<{ message: string; path?: string[]; extensions?: Record<string, unknown> }>;
  };
}

export interface PostOptions {
  /** Sent as `Authorization: Bearer <token>`; no header when absent. */
  token?: string;
  headers?: Record<string, string>;
}

/** POSTs a GraphQL operation as JSON, the way a frontend does. */
export async function postGraphQL(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  options: PostOptions = {},
): Promise<GraphQLResult> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(options.token !== undefined && { authorization: `Bearer ${options.token}` }),
      ...options.headers,
    },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as GraphQLResult['body'] };
}

export const UPDATE_PHOTO = `mutation UpdateContactPhoto($invitationId: ID!, $contactId: ID!, $input: ProfilePhotoInput!) {
  updateContactPhoto(invitationId: $invitationId, contactId: $contactId, input: $input) { id height width }
}`;

export const CONTACT_PHOTO = `query ContactPhoto($invitationId: ID!, $contactId: ID!) {
  contactPhoto(invitationId: $invitationId, contactId: $contactId) { id height width }
}`;

/** The `extensions.code` of the first error, or undefined. */
export function errorCode(result: GraphQLResult): unknown {
  return result.body.errors?.[0]?.extensions?.['code'];
}

/** The headers Apollo Sandbox's landing page is pre-filled with, read from the configuration it embeds. */
export function sandboxHeaders(html: string): unknown {
  const config = /var embeddedSandboxConfig = (.*);\n/.exec(html)?.[1];
  if (config === undefined) throw new Error('No embedded Sandbox configuration in the page.');
  return (JSON.parse(config) as { initialState: { headers?: unknown } }).initialState.headers;
}
