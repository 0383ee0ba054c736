/** A user of the simulated tenant, who signs in on the simulator's sign-in page with one click. */
export interface TestUser {
  /** The object id (`oid`), fixed so that a test or a person can name the user. */
  oid: string;
  /** The display name (`name` in ID tokens). */
  name: string;
  /** The sign-in name (`preferred_username`), also matched by `login_hint`. */
  username: string;
}

/** The demo tenant's users (the sign-in page lists them, a button each). */
export const TEST_USERS: readonly TestUser[] = [
  { oid: '3f9c0d6e-5a51-4a4e-9f3b-6b0a3f1f0a01', name: 'Adele Vance', username: 'adele.vance@contoso.example' },
  { oid: '7b2e4c1a-8d3f-4b6e-a2c5-1e9d7f3b0a02', name: 'Megan Bowen', username: 'megan.bowen@contoso.example' },
  { oid: 'c5a1e8f2-3b7d-4e9a-8c6f-2d4b1a7e0a03', name: 'Alex Wilber', username: 'alex.wilber@contoso.example' },
];

/** The user an `oid` or a sign-in name (any case) names. */
export function findTestUser(nameOrOid: string | null | undefined): TestUser | undefined {
  if (!nameOrOid) return undefined;
  const wanted = nameOrOid.toLowerCase();
  return TEST_USERS.find((user) => user.oid === wanted || user.username === wanted);
}
