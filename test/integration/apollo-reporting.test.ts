import { describe, expect, it } from '@jest/globals';
import { startRecordingServer } from '../support/local-server.js';
import { postGraphQL } from '../support/graphql.js';
import { startStack } from '../support/stack.js';

/** Runs a few operations against a gateway with `env`, stops it, and answers what reached `recorder`. */
async function reportsSentWith(env: (recorderUrl: string) => Record<string, string>) {
  const recorder = await startRecordingServer();
  try {
    const stack = await startStack({ env: env(recorder.url) });
    await postGraphQL(stack.url, '{ __typename }');
    await postGraphQL(stack.url, 'query Photo { contactPhoto(invitationId: "i", contactId: "c") { id } }', {}, { token: 't' });
    await stack.close(); // Apollo's usage reporting sends what it holds when the server stops.
    return recorder.requests;
  } finally {
    await recorder.close();
  }
}

const reportingUrls = (url: string) => ({ APOLLO_USAGE_REPORTING_URL: `${url}/usage`, APOLLO_SCHEMA_REPORTING_URL: `${url}/schema` });

describe('Apollo GraphOS reporting', () => {
  it('sends nothing when APOLLO_KEY and APOLLO_GRAPH_REF are absent', async () => {
    const requests = await reportsSentWith((url) => reportingUrls(url));

    expect(requests).toHaveLength(0);
  });

  it('sends usage reports, with the key, when both are set', async () => {
    const requests = await reportsSentWith((url) => ({
      ...reportingUrls(url),
      APOLLO_KEY: 'service:contact-photos:test-key',
      APOLLO_GRAPH_REF: 'contact-photos@test',
    }));

    // Apollo posts usage reports to its ingress path under the configured base URL.
    const usageReports = requests.filter((request) => request.url === '/usage/api/ingress/traces');
    expect(usageReports.length).toBeGreaterThan(0);
    expect(usageReports.every((request) => request.headers['x-api-key'] === 'service:contact-photos:test-key')).toBe(true);
  });
});
