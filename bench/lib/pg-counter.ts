import net from 'node:net';

/**
 * A TCP proxy in front of PostgreSQL that records every statement its clients send (simple
 * queries, and the text of each extended-protocol Parse; one Execute per Parse with node-pg's
 * unnamed statements). Used by bench/roundtrips.ts to count round trips per request.
 */
export class PgCounter {
  readonly statements: string[] = [];
  private readonly server: net.Server;

  constructor(private readonly target: { host: string; port: number }) {
    this.server = net.createServer((client) => this.relay(client));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as net.AddressInfo).port;
  }

  close(): void {
    this.server.close();
  }

  private relay(client: net.Socket): void {
    const upstream = net.connect(this.target.port, this.target.host);
    let buffer = Buffer.alloc(0);
    let started = false;
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (!started) {
          if (buffer.length < 4) break;
          const len = buffer.readInt32BE(0);
          if (buffer.length < len) break;
          buffer = buffer.subarray(len); // startup message: no type byte
          started = true;
          continue;
        }
        if (buffer.length < 5) break;
        const len = buffer.readInt32BE(1);
        if (buffer.length < 1 + len) break;
        const type = String.fromCharCode(buffer[0]!);
        const body = buffer.subarray(5, 1 + len);
        if (type === 'Q') this.statements.push(body.toString('utf8', 0, body.length - 1));
        if (type === 'P') {
          const nameEnd = body.indexOf(0);
          this.statements.push(body.toString('utf8', nameEnd + 1, body.indexOf(0, nameEnd + 1)));
        }
        buffer = buffer.subarray(1 + len);
      }
    });
    upstream.on('data', (chunk) => client.write(chunk));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  }
}
