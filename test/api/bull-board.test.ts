import { expect } from 'chai';
import { HttpClient, signIn, uniqueEmail } from '../support/http-client';
import { startTestSystem, type TestSystem } from '../support/system';

describe('Bull Board at /admin/queues', () => {
  let system: TestSystem;
  const admin = uniqueEmail('operator');

  before(async () => {
    system = await startTestSystem({ worker: false, overrides: { ADMIN_EMAILS: admin } });
  });
  after(async () => {
    await system.close();
  });

  it('answers 401 without a session, for the page and for its API', async () => {
    const anonymous = new HttpClient(system.baseUrl);
    for (const path of ['/admin/queues', '/admin/queues/api/queues']) {
      const res = await anonymous.get<{ error: { code: string } }>(path);
      expect(res.status, path).to.equal(401);
      expect(res.body.error.code).to.equal('unauthenticated');
    }
  });

  it('answers 403 to a signed-in user who is not an operator', async () => {
    const user = await signIn(system.baseUrl, uniqueEmail('plain'));
    for (const path of ['/admin/queues', '/admin/queues/api/queues']) {
      const res = await user.get<{ error: { code: string } }>(path);
      expect(res.status, path).to.equal(403);
      expect(res.body.error.code).to.equal('forbidden');
    }
  });

  it('shows every queue to an operator', async () => {
    const operator = await signIn(system.baseUrl, admin);
    const page = await operator.get('/admin/queues');
    expect(page.status).to.equal(200);
    expect(page.headers.get('content-type')).to.contain('text/html');
    const api = await operator.get<{ queues: Array<{ name: string }> }>('/admin/queues/api/queues');
    expect(api.status).to.equal(200);
    expect(api.body.queues.map((q) => q.name).sort()).to.deep.equal(['gmail-watch', 'mailbox-sync', 'maintenance', 'reply']);
  });
});
