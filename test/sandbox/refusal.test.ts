import { expect } from 'chai';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/observability/logger';
import { assertSandboxAllowed, createSandbox, SandboxRefusedError, type SandboxOptions } from '../../src/sandbox';

/** The sandbox never runs with NODE_ENV=production (the config side is in test/unit/config.test.ts). */
describe('sandbox refuses production', () => {
  const savedNodeEnv = process.env.NODE_ENV;
  afterEach(() => {
    if (savedNodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = savedNodeEnv;
  });

  const options = (): SandboxOptions => ({
    publicUrl: 'http://127.0.0.1:9',
    clientId: 'sandbox-client-id.apps.googleusercontent.com',
    clientSecret: 'sandbox-client-secret',
    redirectUris: ['http://127.0.0.1:9/auth/google/callback'],
    pushEndpoint: 'http://127.0.0.1:9/webhooks/gmail',
    pushAudience: 'http://127.0.0.1:9/webhooks/gmail',
    pushServiceAccount: 'gmail-push@sandbox-project.iam.gserviceaccount.com',
    topicName: 'projects/sandbox-project/topics/gmail-push',
    llmApiKey: 'sandbox-llm-key',
    logger: createLogger({ level: 'silent', pretty: false, destination: new Writable({ write: (_c, _e, done) => done() }) }),
  });

  it('assertSandboxAllowed throws SandboxRefusedError for production only', () => {
    expect(() => assertSandboxAllowed('production')).to.throw(SandboxRefusedError, /production/);
    expect(() => assertSandboxAllowed('test')).to.not.throw();
    expect(() => assertSandboxAllowed('development')).to.not.throw();
  });

  it('createSandbox refuses to be created with NODE_ENV=production', () => {
    process.env.NODE_ENV = 'production';
    expect(() => createSandbox(options())).to.throw(SandboxRefusedError);
  });

  it('createSandbox works outside production (and closes)', async () => {
    process.env.NODE_ENV = 'test';
    const sandbox = createSandbox(options());
    expect(sandbox.middleware).to.be.a('function');
    await sandbox.close();
  });
});
