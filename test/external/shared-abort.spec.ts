import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * More than ten AI calls at once on one transport, in a process of its own: Node reports a
 * listener leak on the real `process`, which a Jest test cannot listen to (each test file gets a
 * copy of `process`), so the script runs the built module (`npm test` builds it first) and prints
 * each warning's name as its process raises it, printed or not.
 */
const SCRIPT = `
process.on('warning', (warning) => console.log('warning: ' + warning.name));
const { DEFAULT_AI_CLIENT_SETTINGS, createAiClients } = await import(${JSON.stringify(path.resolve('dist/src/external/ai-clients.js'))});
const { ExternalCallGuard } = await import(${JSON.stringify(path.resolve('dist/src/external/external-call-guard.js'))});
const { FakeOpenAiServer } = await import(${JSON.stringify(path.resolve('dist/test/helpers/fake-openai-server.js'))});
const fake = await FakeOpenAiServer.start({ embeddingDimension: 32 });
const embedder = { ...DEFAULT_AI_CLIENT_SETTINGS.embedder, provider: 'openai', model: 'fake-embedding-model', dimension: 32,
  baseUrl: fake.baseUrl, apiKey: 'test-key', maxRetries: 0 };
const clients = createAiClients({ ...DEFAULT_AI_CLIENT_SETTINGS, embedder }, new ExternalCallGuard('strict'));
const release = fake.pause('embeddings');
const calls = Array.from({ length: 16 }, (_, index) => clients.embedder.embed(['memory number ' + index]));
// Every call held at the server, each of them following the transport's closing signal.
await new Promise((resolve) => {
  const allArrived = () => fake.inFlight('embeddings') === calls.length && (stopWatching(), resolve());
  const stopWatching = fake.onRequest(allArrived);
  allArrived();
});
release();
const answers = await Promise.all(calls);
await clients.close();
await fake.close();
console.log('answered ' + answers.filter((batch) => batch[0].length === 32).length);
`;

describe('AI calls in flight on one transport', () => {
  it('run more than ten at once without a listener-leak warning, and all answer', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', SCRIPT], {
      timeout: 60_000,
    });

    expect(stdout).toMatch(/^answered 16$/m);
    expect(stdout).not.toContain('warning: MaxListenersExceededWarning');
  });
});
