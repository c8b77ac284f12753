import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { uniqueEmail } from '../support/http-client';
import { startTestSystem, type TestSystem } from '../support/system';

const run = promisify(execFile);
const README = readFileSync(path.resolve(__dirname, '..', '..', 'README.md'), 'utf8');

/** The shell block of the README's walkthrough, as a reader copies it. */
function walkthrough(): string {
  const section = README.slice(README.indexOf('## Walkthrough with curl'));
  return /```sh\n([\s\S]*?)```/.exec(section)![1]!;
}

describe("the README's curl walkthrough, run as written against the sandbox", function () {
  this.timeout(60000);
  let system: TestSystem;
  let dir: string;

  before(async () => {
    system = await startTestSystem();
    dir = mkdtempSync(path.join(os.tmpdir(), 'ga-walkthrough-'));
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await system.close();
  });

  it('signs in, adds a contact, delivers a mail, reads the reply, deactivates', async () => {
    const user = uniqueEmail('alice');
    const script = walkthrough()
      .replace('B=http://localhost:3000', `B=${system.baseUrl}`)
      .replaceAll('alice@example.com', user)
      // The fixed pause becomes a bounded wait for the answer, so a slow machine does not fail it.
      .replace(/^sleep \d+$/m, `for i in $(seq 1 100); do curl -s -b jar "$B/api/contacts/$ID/messages" | grep -q '"message_direction":"sent"' && break; sleep 0.2; done`);
    expect(script).to.contain(`B=${system.baseUrl}`);
    const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', script], { cwd: dir, timeout: 50000 });
    const answers = stdout.split(/\n|(?<=\})(?=\{)/).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);

    const me = answers[0] as { email: string; is_subscription_active: boolean };
    expect(me.email).to.equal(user);
    expect(me.is_subscription_active).to.equal(true);
    const delivered = answers[1] as { id: string; thread_id: string };
    expect(delivered.thread_id).to.be.a('string');
    const history = (answers[2] as { items: Array<{ message_direction: string; subject: string; gmail_thread_id: string }> }).items;
    expect(history.map((m) => [m.message_direction, m.subject])).to.deep.equal([['sent', 'Re: Delivery'], ['received', 'Delivery']]);
    expect(history[0]!.gmail_thread_id).to.equal(delivered.thread_id);
    const sent = (answers[3] as { items: Array<{ thread_id: string; headers: Record<string, string> }> }).items;
    expect(sent).to.have.length(1);
    expect(sent[0]!.thread_id).to.equal(delivered.thread_id);
    const conversations = (answers[4] as { items: Array<{ contact: { email: string }; last_message: { subject: string } }> }).items;
    expect(conversations[0]!.contact.email).to.equal('anna@example.org');
    expect(conversations[0]!.last_message.subject).to.equal('Re: Delivery');
    expect(answers[5]).to.include({ email: 'anna@example.org', is_active: false });
  });
});
