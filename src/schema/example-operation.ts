/**
 * The example a developer starts from: pre-filled in the Sandbox landing page and printed as a
 * `curl` by `npm run demo`.
 */
export const EXAMPLE_MUTATION = `mutation UpdateContactPhoto($invitationId: ID!, $contactId: ID!, $input: ProfilePhotoInput!) {
  updateContactPhoto(invitationId: $invitationId, contactId: $contactId, input: $input) {
    id
    height
    width
  }
}`;

export const EXAMPLE_VARIABLES = {
  invitationId: 'invitation-1',
  contactId: 'AAMkAGI2THVSAAA=',
  input: { height: 240, width: 240 },
};
