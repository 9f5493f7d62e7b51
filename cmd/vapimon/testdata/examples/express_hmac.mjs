// The Express webhook server vapimon was seeded with, for vapimon's conformance tests, on
// node:http with no dependencies: POST /vapi/webhook parses the body as express.json()
// does and, when WEBHOOK_SECRET is set, checks x-vapi-signature as the hex HMAC-SHA256 of
// JSON.stringify(req.body), the re-serialised body, not the bytes received. It listens on
// a free port, prints "listening URL", then one JSON line per request.
import crypto from 'node:crypto';
import http from 'node:http';

function verifySignature(body, signature) {
  if (!process.env.WEBHOOK_SECRET || !signature) {
    return false;
  }
  const computed = crypto
    .createHmac('sha256', process.env.WEBHOOK_SECRET)
    .update(JSON.stringify(body))
    .digest('hex');
  return crypto.timingSafeEqual(Buffer.from(computed), Buffer.from(signature));
}

function text(res, status, type, body, seen) {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
  seen.status = status;
  console.log(JSON.stringify(seen));
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const path = req.url.split('?')[0];
    const seen = { path, type: '' };
    let body = {};
    if ((req.headers['content-type'] || '').includes('json')) {
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        text(res, 400, 'text/html; charset=utf-8', 'Bad Request', seen);
        return;
      }
    }
    seen.type = body?.message?.type ?? '';
    if (req.method !== 'POST' || path !== '/vapi/webhook') {
      text(res, 404, 'application/json; charset=utf-8', JSON.stringify({ error: 'Not found' }), seen);
      return;
    }
    try {
      if (process.env.WEBHOOK_SECRET) {
        const signature = req.headers['x-vapi-signature'];
        if (!verifySignature(body, signature)) {
          seen.verified = false;
          text(res, 401, 'text/html; charset=utf-8', 'Invalid signature', seen);
          return;
        }
        seen.verified = true;
      }
      text(res, 200, 'text/plain; charset=utf-8', 'OK', seen);
    } catch {
      seen.verified = false;
      text(res, 500, 'text/plain; charset=utf-8', 'Internal Server Error', seen);
    }
  });
});

server.listen(0, '127.0.0.1', () => {
  console.log(`listening http://127.0.0.1:${server.address().port}`);
});
