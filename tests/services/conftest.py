"""Real servers on loopback for the alert tests: an SMTP server (aiosmtpd) that can be stopped,
started again on the same port, made to refuse, or made slow; and an HTTP receiver for webhooks."""

import asyncio
import email
import email.policy
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller


class LoopbackController(Controller):
    """aiosmtpd's Controller on port 0: it learns the port the system chose before it checks the
    server answers (the stock one would connect to port 0)."""

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class Inbox:
    """What the SMTP server received, and how it should answer the next messages."""

    def __init__(self):
        self.messages = []
        self.arrived = threading.Condition()
        self.reply = "250 OK"
        self.delay_first = 0.0
        self.controller = None
        self.port = 0

    async def handle_DATA(self, server, session, envelope):
        if not self.reply.startswith("250"):
            return self.reply
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.arrived:
            self.messages.append(message)
            first = len(self.messages) == 1
            self.arrived.notify_all()
        if first and self.delay_first:
            await asyncio.sleep(self.delay_first)
        return "250 OK"

    # The server's life

    def start(self):
        self.controller = LoopbackController(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        self.port = self.controller.port
        return self

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    # Reading what came

    def wait_for(self, count: int, timeout: float = 15.0) -> bool:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.arrived.wait(left)
        return True

    def to(self, address: str):
        return [message for message in self.messages if message["To"] == address]


@pytest.fixture
def smtp_server():
    inbox = Inbox().start()
    yield inbox
    inbox.stop()


class Receiver:
    """A webhook endpoint: keeps each POST (headers and body) and answers `status`."""

    def __init__(self):
        self.requests = []
        self.status = 204
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append((dict(self.headers), body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/diary"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook_receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


class SilentServer:
    """A TCP server that accepts and then hangs (or closes at once): a broken mail server."""

    def __init__(self, close_at_once: bool):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.close_at_once = close_at_once
        self.held = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            if self.close_at_once:
                conn.close()
            else:
                self.held.append(conn)

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture
def broken_mail_server(request):
    server = SilentServer(close_at_once=request.param == "closes")
    yield server
    server.close()
