// VapiAI/example-webhook-handler (Node, fastify) for vapimon's conformance tests, on
// node:http with no dependencies: the same routes (src/routes/messages.js,
// src/routes/story-tool.js), the same x-vapi-secret check (src/utils/auth.js), statuses
// and bodies (JSON.stringify, as fastify's reply.send does). It listens on a free port,
// prints "listening URL", then one JSON line per request saying what it saw and did.
// The example picks a random story; this one always tells the first.
import http from 'node:http';

const stories = [
  {
    title: 'The Wise Old Owl',
    content:
      'In a dense forest lived a wise old owl who helped all the animals solve their problems with thoughtful advice.',
  },
];

function send(res, status, obj, seen) {
  const body = JSON.stringify(obj);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
  seen.status = status;
  console.log(JSON.stringify(seen));
}

function validateVapiSecret(request, reply, seen) {
  const vapiSecret = request.headers['x-vapi-secret'];
  if (!vapiSecret || vapiSecret !== process.env.VAPI_SECRET) {
    seen.verified = false;
    send(reply, 401, { error: 'Invalid or missing VAPI secret' }, seen);
    return false;
  }
  seen.verified = true;
  return true;
}

function messages(request, reply, body, seen) {
  if (!validateVapiSecret(request, reply, seen)) {
    return;
  }
  const { message } = body;
  if (!message || !message.type) {
    send(reply, 400, { error: 'Invalid message format' }, seen);
    return;
  }
  switch (message.type) {
    case 'transfer-destination-request': {
      const transferDestination = process.env.TRANSFER_DESTINATION;
      send(reply, 200, {
        destination: {
          type: 'number',
          message: 'Connecting you to our support line.',
          number: transferDestination,
        },
      }, seen);
      return;
    }
  }
  send(reply, 200, { success: true, message: `Processed ${message.type} message` }, seen);
}

function storyTool(request, reply, body, seen) {
  if (!validateVapiSecret(request, reply, seen)) {
    return;
  }
  const toolCallId = body.message?.toolCalls?.[0]?.id;
  seen.toolCallId = toolCallId ?? '';
  send(reply, 200, { results: [{ toolCallId, result: stories[0] }] }, seen);
}

const server = http.createServer((request, reply) => {
  const chunks = [];
  request.on('data', (c) => chunks.push(c));
  request.on('end', () => {
    const path = request.url.split('?')[0];
    const seen = { path, type: '' };
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      seen.type = body?.message?.type ?? '';
    } catch {
      send(reply, 400, {
        statusCode: 400,
        code: 'FST_ERR_CTP_INVALID_JSON_BODY',
        error: 'Bad Request',
        message: "Body is not valid JSON but content-type is set to 'application/json'",
      }, seen);
      return;
    }
    if (request.method === 'POST' && path === '/messages') {
      messages(request, reply, body, seen);
    } else if (request.method === 'POST' && path === '/story-tool') {
      storyTool(request, reply, body, seen);
    } else {
      send(reply, 404, { message: `Route ${request.method}:${path} not found`, error: 'Not Found', statusCode: 404 }, seen);
    }
  });
});

server.listen(0, '127.0.0.1', () => {
  console.log(`listening http://127.0.0.1:${server.address().port}`);
});
