"""Screens held open over WebSockets, as people leave them: the cold-chain controller's wall
screen (ws/coldchain/, which reloads GET /api/coldchain/screen/ on every connect), the
warehouse's live page and every courier's phone and consumer's order page (ws/me/).

A screen connects once and listens; each push received is counted by screen kind. A socket
that closes or fails is an error (locust's "WS" rows) and is opened again a second later.
"""

import time
from urllib.parse import urlsplit

import websocket
from locust import constant, events, task
from locust.contrib.fasthttp import FastHttpUser

from .base import RATES, pool, tally

LISTEN_S = 30.0  # a receive waits this long; silence is normal (no push due)


def screens() -> list[tuple[str, str, str]]:
    """(kind, path, session) of every screen the run holds, in the order users take them."""
    data = pool()
    rows = [
        ("coldchain screen", "/ws/coldchain/", data["controller"]["session"]),
        ("warehouse page", "/ws/me/", data["packer"]["session"]),
    ]
    rows += [("courier phone", "/ws/me/", c["session"]) for c in data["couriers"][: RATES.couriers]]
    rows += [
        ("consumer order page", "/ws/me/", c["session"])
        for c in data["consumers"][: RATES.consumers]
    ]
    return rows


_taken = iter(())
open_sockets = 0


def _fire(name: str, started: float, error: Exception | None = None) -> None:
    events.request.fire(
        request_type="WS",
        name=name,
        response_time=(time.perf_counter() - started) * 1000,
        response_length=0,
        exception=error,
        context={},
    )


class Screen(FastHttpUser):
    fixed_count = RATES.screens
    wait_time = constant(1)

    def on_start(self) -> None:
        global _taken
        try:
            self.kind, self.path, self.session = next(_taken)
        except StopIteration:
            _taken = iter(screens())
            self.kind, self.path, self.session = next(_taken)
        cookie_name = pool().get("session_cookie", "sessionid")
        self.cookie = f"{cookie_name}={self.session}"
        base = urlsplit(self.host)
        scheme = "wss" if base.scheme == "https" else "ws"
        self.url = f"{scheme}://{base.netloc}{self.path}"
        self.origin = f"{base.scheme}://{base.netloc}"

    @task
    def hold(self) -> None:
        """Connect, then listen until the socket ends (the run's end, or a failure)."""
        global open_sockets
        started = time.perf_counter()
        try:
            sock = websocket.create_connection(
                self.url, cookie=self.cookie, origin=self.origin, timeout=LISTEN_S
            )
        except Exception as error:
            _fire(f"{self.kind}: connect", started, error)
            tally[f"ws connect failed {self.kind}"] += 1
            return
        _fire(f"{self.kind}: connect", started)
        tally[f"ws connected {self.kind}"] += 1
        open_sockets += 1
        tally["ws open max"] = max(tally["ws open max"], open_sockets)
        try:
            if self.kind == "coldchain screen":
                # What the screen does on every (re)connect: its state, so no push is lost.
                with self.client.get(
                    "/api/coldchain/screen/",
                    name="coldchain screen: state",
                    headers={"Cookie": self.cookie},
                    catch_response=True,
                ) as response:
                    if response.status_code != 200:
                        response.failure(f"{response.status_code}")
            self._listen(sock)
        finally:
            open_sockets -= 1
            sock.close()

    def _listen(self, sock) -> None:
        while True:
            try:
                message = sock.recv()
            except websocket.WebSocketTimeoutException:
                continue  # nothing pushed for a while: still open
            except Exception as error:
                _fire(f"{self.kind}: socket", time.perf_counter(), error)
                tally[f"ws lost {self.kind}"] += 1
                return
            if not message:
                _fire(f"{self.kind}: socket", time.perf_counter(), ConnectionError("closed"))
                tally[f"ws lost {self.kind}"] += 1
                return
            tally[f"ws pushes {self.kind}"] += 1
