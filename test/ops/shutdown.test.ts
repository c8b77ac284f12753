import { expect } from 'chai';
import http from 'node:http';
import { SendChecker } from '../support/send-checker';
import { signIn, uniqueEmail, waitFor } from '../support/http-client';
import { freeLoopbackPort } from '../support/free-port';
import { TEST_SECRETS, testDatabaseUrl } from '../support/config';
import { WEB_ENTRY, WorkerProcess } from '../support/worker-process';
import { rawMail } from '../faults/support/mails';
import { FaultRig } from '../faults/support/rig';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * SIGTERM with work in flight, on the real worker and web entry points as child processes. The
 * sandbox's `send.stored` hook holds Gmail's answer to a messages.send, which keeps a reply job in
 * flight for as long as the test likes.
 */
describe('graceful shutdown on SIGTERM', function () {
  this.timeout(180_000);

  describe('worker, with a job that finishes within the timeout', () => {
    let rig: FaultRig;
    before(async () => {
      // The send lease outlasts the hold below (with the fault tests' 2 s the send would be cut off by it).
      rig = await FaultRig.start({ workers: 1, overrides: { SHUTDOWN_TIMEOUT_MS: '20000', REPLY_SEND_LEASE_SECONDS: '8' } });
    });
    after(async () => {
      await rig?.close();
    });

    it('stops taking work (not ready, no new job), finishes the job in flight, exits 0; the work it left is done by the next worker', async () => {
      const port = /"port":(\d+)[^\n]*worker http listening/.exec(rig.worker.output(400))?.[1];
      expect(port, 'the worker logged its side port').to.be.a('string');
      const user = await rig.newUser('term');
      const contact = await rig.newContact(user, true);
      const checker = new SendChecker(rig.baseUrl);
      const terminated = rig.hooks.once('send.stored', {
        when: (e) => e.mailbox === user.email,
        run: async () => {
          process.kill(rig.worker.pid!, 'SIGTERM');
          // While the answer is held, the worker is shutting down but must not exit, and takes no new job.
          await waitFor('the worker to log its shutdown', async () => rig.worker.output(400).includes('"msg":"shutting down"'), 10_000, 50);
          const readiness = await fetch(`http://127.0.0.1:${port}/readyz`);
          expect(readiness.status, 'not ready while draining').to.equal(503);
          expect(await readiness.json()).to.deep.include({ status: 'draining' });
          await rig.deliver(checker, user, rawMail({ from: contact.email, to: user.email, subject: 'After SIGTERM', text: 'Arrived while it drained.' }), true, 'mail arriving during the drain');
          await sleep(1000);
          expect(rig.worker.running, 'still running while its job is in flight').to.equal(true);
        },
      });
      await rig.deliver(checker, user, rawMail({ from: contact.email, to: user.email, subject: 'In flight', text: 'Answer me while you stop.' }), true, 'mail in flight at SIGTERM');
      await terminated;
      await waitFor('the worker to exit', async () => !rig.worker.running, 30_000, 50);
      expect(rig.worker.lastExit, rig.worker.output(40)).to.deep.equal({ code: 0, signal: null });

      const lines = rig.worker.output(400).split('\n');
      const shutdownAt = lines.findIndex((l) => l.includes('"msg":"shutting down"'));
      const completedAt = lines.findIndex((l, i) => i > shutdownAt && l.includes('"queue":"reply"') && l.includes('"msg":"job completed"'));
      expect(completedAt, `the reply job completed after SIGTERM:\n${lines.slice(-40).join('\n')}`).to.be.greaterThan(shutdownAt);
      const sent = await rig.db('replies').where({ user_id: user.id }).select('status');
      expect(sent.map((r: { status: string }) => r.status)).to.deep.equal(['sent']);
      // The mail that came during the drain was left queued, not taken.
      const waiting = await rig.system.container.queues.byName['mailbox-sync'].getJobCounts('waiting', 'active', 'delayed');
      expect((waiting.waiting ?? 0) + (waiting.delayed ?? 0), 'the sync of the mail that came during the drain is still queued').to.be.at.least(1);

      await rig.worker.start();
      await rig.verify(checker, [user]);
    });
  });

  describe('worker, with a job that outlives the timeout', () => {
    let rig: FaultRig;
    before(async () => {
      rig = await FaultRig.start({ workers: 1, overrides: { SHUTDOWN_TIMEOUT_MS: '1500' } });
    });
    after(async () => {
      await rig?.close();
    });

    it('exits after SHUTDOWN_TIMEOUT_MS, and the job it cut off is run again by the next worker: answered once', async () => {
      const user = await rig.newUser('cutoff');
      const contact = await rig.newContact(user, true);
      const checker = new SendChecker(rig.baseUrl);
      const held = rig.hooks.once('send.stored', {
        when: (e) => e.mailbox === user.email,
        run: async () => {
          process.kill(rig.worker.pid!, 'SIGTERM');
          // Gmail took the mail, but its answer never reaches the worker before it gives up.
          await waitFor('the worker to give up', async () => !rig.worker.running, 20_000, 50);
        },
      });
      await rig.deliver(checker, user, rawMail({ from: contact.email, to: user.email, subject: 'Slow', text: 'Take your time.' }), true, 'mail in flight past the timeout');
      await held;
      expect(rig.worker.lastExit?.code, rig.worker.output(40)).to.equal(1);
      expect(rig.worker.output(400)).to.contain('"msg":"shutdown timed out"');
      await rig.worker.start();
      await rig.verify(checker, [user]);
    });
  });

  describe('web', () => {
    let web: WorkerProcess;
    let base: string;

    before(async () => {
      const port = await freeLoopbackPort();
      base = `http://127.0.0.1:${port}`;
      web = new WorkerProcess('web', {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: 'test',
        PORT: String(port),
        PUBLIC_URL: base,
        DATABASE_URL: testDatabaseUrl(),
        DATABASE_POOL_MAX: '3',
        REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0',
        REDIS_PREFIX: `${process.env.TEST_REDIS_PREFIX ?? 'gatest'}_webterm`,
        GOOGLE_CLIENT_ID: '',
        METADATA_SERVER_DETECTION: 'none',
        NO_GCE_CHECK: 'true',
        LOG_LEVEL: 'info',
        LOG_PRETTY: 'false',
        SHUTDOWN_TIMEOUT_MS: '20000',
        ...TEST_SECRETS,
      }, WEB_ENTRY);
      await web.start();
    });
    after(async () => {
      await web?.kill();
    });

    it('finishes a request in flight at SIGTERM, refuses new connections, and exits 0', async () => {
      const client = await signIn(base, uniqueEmail('webterm'));
      const body = JSON.stringify({ email: uniqueEmail('slow.contact'), name: 'Slow upload' });
      // A request whose body arrives slowly: half of it before SIGTERM, the rest after.
      const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = http.request(`${base}/api/contacts`, {
          method: 'POST',
          headers: { cookie: client.cookieHeader(), origin: base, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
        });
        req.on('response', (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        });
        req.on('error', reject);
        req.write(body.slice(0, 10));
        setTimeout(() => {
          process.kill(web.pid!, 'SIGTERM');
          setTimeout(async () => {
            try {
              expect(web.running, 'the web waits for the request in flight').to.equal(true);
              const refused = await fetch(`${base}/livez`).then(() => false, () => true);
              expect(refused, 'no new connection once shutting down').to.equal(true);
              req.end(body.slice(10));
            } catch (err) {
              reject(err as Error);
            }
          }, 800);
        }, 300);
      });
      const res = await answer;
      expect(res.status, res.text).to.equal(201);
      expect(JSON.parse(res.text)).to.include({ name: 'Slow upload' });
      await waitFor('the web to exit', async () => !web.running, 20_000, 50);
      expect(web.lastExit, web.output(30)).to.deep.equal({ code: 0, signal: null });
    });
  });
});
