"""A frozen Redis for unit tests: a TCP proxy in front of the test Redis that can stop passing bytes.

Frozen, it behaves as a redis-server under SIGSTOP does: connections are accepted (by the
kernel's backlog) and what is sent is taken, but nothing ever comes back. Thawed, what was
held is passed on, as a resumed server reads its sockets' backlog. Frozen from the start,
it is a Redis that accepts and never answers.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from urllib.parse import urlsplit


class FreezableRedis:
    def __init__(self, upstream_url: str, *, frozen: bool = False):
        parts = urlsplit(upstream_url)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 6379)
        self.db = parts.path.lstrip("/") or "0"
        self.frozen = frozen
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(128)
        self.port = self._listener.getsockname()[1]
        self._stopped = threading.Event()
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/{self.db}"

    def freeze(self) -> None:
        self.frozen = True

    def thaw(self) -> None:
        self.frozen = False

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self._sockets.append(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        while self.frozen and not self._stopped.is_set():  # a frozen server has not even said hello
            time.sleep(0.01)
        try:
            server = socket.create_connection(self.upstream, timeout=2)
        except OSError:
            client.close()
            return
        self._sockets.append(server)
        pairs = {client: server, server: client}
        try:
            while not self._stopped.is_set():
                if self.frozen:
                    time.sleep(0.01)  # hold every byte where it is
                    continue
                readable, _, _ = select.select(list(pairs), [], [], 0.05)
                for source in readable:
                    data = source.recv(65536)
                    if not data:
                        return
                    pairs[source].sendall(data)
        except OSError:
            return
        finally:
            client.close()
            server.close()

    def close(self) -> None:
        self._stopped.set()
        self._listener.close()
        for sock in self._sockets:
            try:
                sock.close()
            except OSError:
                pass

    def __enter__(self) -> "FreezableRedis":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
