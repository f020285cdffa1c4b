import { appendFileSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname } from 'node:path';

/**
 * A webhook receiver on loopback standing in for Slack/PagerDuty: every alert the functions
 * POST is appended to a JSON Lines file the tests read.
 */
export function startAlertSink(port: number, file: string): Promise<Server> {
  mkdirSync(dirname(file), { recursive: true });
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      try {
        appendFileSync(file, `${JSON.stringify(JSON.parse(body))}\n`);
        res.writeHead(200).end('ok');
      } catch {
        res.writeHead(400).end('not json');
      }
    });
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}
