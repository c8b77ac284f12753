import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../../src/observability/logger';
import { noFaults } from '../../src/sandbox/faults';
import type { HistoryRecord, Mailbox } from '../../src/sandbox/gmail-store';
import { PushDelivery } from '../../src/sandbox/pubsub-push';
import { createSigningKeys } from '../../src/sandbox/signing-keys';
import { waitFor } from '../support/http-client';

describe('sandbox Pub/Sub push tokens', () => {
  let server: Server;
  let endpoint: string;
  const tokens: string[] = [];

  before(async () => {
    server = createServer((req, res) => {
      tokens.push(String(req.headers.authorization ?? '').replace(/^Bearer /, ''));
      req.resume();
      res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/gmail`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('puts one signed token on the pushes of ten minutes, then signs a new one', async () => {
    let clock = Date.now();
    const keys = createSigningKeys(clock);
    const delivery = new PushDelivery({
      endpoint,
      audience: 'https://assistant.test/webhooks/gmail',
      serviceAccount: 'gmail-push@sandbox-project.iam.gserviceaccount.com',
      topicName: 'projects/sandbox-project/topics/gmail',
      keys,
      logger: createLogger({ level: 'silent', pretty: false }),
      clock: () => clock,
    });
    const mailbox = { address: 'ann@example.com', watch: { topicName: 'projects/sandbox-project/topics/gmail', labelIds: [], behavior: 'include', expiration: clock + 7 * 24 * 3600_000 }, faults: noFaults() } as unknown as Mailbox;
    const change = (id: number): HistoryRecord => ({ id, type: 'messageAdded', messageId: `m${id}`, threadId: `t${id}`, labelIds: ['INBOX'], changedLabelIds: [] });
    const payload = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { iat: number; exp: number };
    try {
      delivery.notify(mailbox, change(1));
      await waitFor('the first push', async () => tokens.length >= 1 || undefined);
      clock += 9 * 60_000;
      delivery.notify(mailbox, change(2));
      await waitFor('the second push', async () => tokens.length >= 2 || undefined);
      expect(tokens[1]).to.equal(tokens[0]);
      clock += 2 * 60_000;
      delivery.notify(mailbox, change(3));
      await waitFor('the third push', async () => tokens.length >= 3 || undefined);
      expect(tokens[2]).to.not.equal(tokens[0]);
      expect(payload(tokens[2]!).iat - payload(tokens[0]!).iat).to.be.within(660 - 1, 660 + 1);
      expect(payload(tokens[2]!).exp - payload(tokens[2]!).iat).to.equal(3600);
    } finally {
      await delivery.close();
    }
  });
});
