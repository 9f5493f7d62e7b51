"""VapiAI/server-example-python-flask's webhook for vapimon's conformance tests.

app/api/webhook.py, run as the example runs it (app.run(debug=True): jsonify indents by 2
and sorts keys), rewritten on http.server with no dependencies: POST /api/webhook/ answers
201 for every message type it knows and raises (500, Werkzeug's page) for the others;
POST /api/webhook gets Werkzeug's 308 to the slashed URL. It listens on a free port,
prints "listening URL", then one JSON line per request saying what it saw and did.
"""

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WERKZEUG_500 = (
    "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n"
    "<h1>Internal Server Error</h1>\n<p>The server encountered an internal error and was "
    "unable to complete your request. Either the server is overloaded or there is an error "
    "in the application.</p>\n"
)


def jsonify(value):
    # Flask's DefaultJSONProvider in debug mode: indent=2, sort_keys=True, ensure_ascii.
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=True) + "\n"


def get_character_inspiration(inspiration):
    fallback = {
        "result": "Sorry, I am dealing with a technical issue at the moment, perhaps because "
        "of heightened user traffic. Come back later and we can try this again. Apologies "
        "for that."
    }
    if inspiration:
        # The example queries its data directory when there is one; without it, it returns
        # json.dumps(fallback), a string, which jsonify then sends as a JSON string.
        return json.dumps(fallback)
    return fallback


async def get_random_name(params):  # the example asks randomuser.me; never awaited anyway
    return {"result": "Ada Lovelace"}


def function_call_handler(payload):
    function_call = payload.get("functionCall")
    if not function_call:
        raise ValueError("Invalid Request.")
    name = function_call.get("name")
    parameters = function_call.get("parameters")
    if name == "getCharacterInspiration":
        return get_character_inspiration(**parameters)
    elif name == "getRandomName":
        return get_random_name({"gender": "male", "nat": "US"})  # a coroutine, as in the example
    else:
        return None


def assistant_request_handler(payload):
    if payload and "call" in payload:
        assistant = {
            "name": "Paula",
            "model": {
                "provider": "openai",
                "model": "gpt-3.5-turbo",
                "temperature": 0.7,
                "systemPrompt": "You're Paula, an AI assistant who can help user draft beautiful emails to their clients based on the user requirements. Then Call sendEmail function to actually send the email.",
                "functions": [
                    {
                        "name": "sendEmail",
                        "description": "Send email to the given email address and with the given content.",
                        "parameters": {
                            "type": "object",
                            "properties": {
                                "email": {"type": "string", "description": "Email to which we want to send the content."},
                                "content": {"type": "string", "description": "Actual Content of the email to be sent."},
                            },
                            "required": ["email"],
                        },
                    }
                ],
            },
            "voice": {"provider": "11labs", "voiceId": "paula"},
            "firstMessage": "Hi, I'm Paula, your personal email assistant.",
        }
        return {"assistant": assistant}
    raise ValueError("Invalid call details provided.")


def webhook_route(payload):
    kind = payload["type"]
    if kind == "function-call":
        return function_call_handler(payload)
    elif kind == "status-update":
        return {}
    elif kind == "assistant-request":
        return assistant_request_handler(payload)
    elif kind == "end-of-call-report":
        return {}
    elif kind == "speech-update":
        return {}
    elif kind == "transcript":
        return None
    elif kind == "hang":
        return None
    raise ValueError("Unhandled message type")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, ctype, body, seen, headers=()):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        seen["status"] = status
        print(json.dumps(seen), flush=True)

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = self.path.split("?")[0]
        seen = {"path": path, "type": ""}
        host = self.headers.get("Host", "")
        if path == "/api/webhook":
            target = "http://%s/api/webhook/" % host
            page = (
                "<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n"
                '<p>You should be redirected automatically to the target URL: <a href="%s">%s</a>. If not, click the link.\n'
                % (target, target)
            )
            self.answer(308, "text/html; charset=utf-8", page, seen, [("Location", target)])
            return
        if path != "/api/webhook/":
            self.answer(404, "text/html; charset=utf-8", "<!doctype html>\n<title>404 Not Found</title>\n", seen)
            return
        try:
            payload = json.loads(raw).get("message")
            seen["type"] = payload.get("type", "") if isinstance(payload, dict) else ""
            body = jsonify(webhook_route(payload))
        except Exception:
            self.answer(500, "text/html; charset=utf-8", WERKZEUG_500, seen)
            return
        self.answer(201, "application/json", body, seen)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print("listening http://127.0.0.1:%d" % server.server_address[1], flush=True)
server.serve_forever()
