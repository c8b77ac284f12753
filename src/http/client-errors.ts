import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * Requests that Node's HTTP parser refuses before the app sees them (headers too large, a method
 * or a line it cannot parse) get the product's JSON error too, not an empty answer.
 */
const JSON_TYPE = 'application/json; charset=utf-8';

function errorBody(code: string, message: string): string {
  return JSON.stringify({ error: { code, message, details: [] } });
}

export function answerClientErrorsAsJson(server: Server): void {
  // Node answers these two itself with an empty body; the app answers them instead (host-header.ts).
  // Read by Node per request (the `requireHostHeader` option of createServer), not in its types.
  (server as Server & { requireHostHeader: boolean }).requireHostHeader = false;
  server.on('checkExpectation', (_req: IncomingMessage, res: ServerResponse) => {
    const body = errorBody('expectation_failed', 'the only expectation this server meets is Expect: 100-continue');
    res.writeHead(417, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(body), connection: 'close' });
    res.end(body);
  });
  server.on('clientError', (err: Error & { code?: string }, socket: Duplex) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const status = tooLarge ? 431 : 400;
    const body = tooLarge ? errorBody('headers_too_large', 'the request line or headers are too large') : errorBody('bad_request', 'the request is not valid HTTP');
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: ${JSON_TYPE}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
}
