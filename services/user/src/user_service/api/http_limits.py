"""What one HTTP client may hold of the server, enforced where uvicorn reads the request.

uvicorn (0.54, with httptools) bounds none of these itself: `h11_max_incomplete_event_size`
applies to its h11 protocol only (which costs more CPU per request), httptools buffers a header
of any size, and no timer runs until a request's headers are complete, so a client that opens a
connection and trickles a header byte now and then holds it forever. `LimitedHttpToolsProtocol`
is uvicorn's httptools protocol with these limits (each a `USER_HTTP_*` setting):

- the request target (path and query) over `max_request_line_bytes`: 414;
- the request line and headers together over `max_header_bytes`, counted as they arrive, so a
  header never grows past the limit in memory: 431;
- more than `max_headers` header fields: 431;
- the headers not complete `header_timeout_seconds` after the connection opened or the request
  began: 408 (a connection that never sent a byte is just closed, as an idle keep-alive one is);
- a response finished while the request's body is still arriving (the app did not read it):
  the connection is closed, so a client trickling a body it was not asked for holds nothing.

Each refusal is an `application/problem+json` answer naming its setting, then the connection
closes; the app never sees the request. The body's own timeout (408) is the app's side of it:
`BodyLimitMiddleware`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ClassVar, Final, cast

import httptools
import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["HttpLimits", "LimitedHttpToolsProtocol"]

_log = logging.getLogger(__name__)

_SLUGS: Final = {
    408: "request-timeout",
    414: "uri-too-long",
    431: "header-fields-too-large",
}
# A header line's framing around its name and value: ": " and CRLF.
_HEADER_FRAMING_BYTES: Final = 4


@dataclass(frozen=True, slots=True)
class HttpLimits:
    max_request_line_bytes: int
    max_header_bytes: int
    max_headers: int
    header_timeout_seconds: float


class _Refused(Exception):  # noqa: N818 - a signal out of a parser callback, not an error
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def problem_bytes(status: int, detail: str) -> bytes:
    """A complete HTTP/1.1 problem+json answer that closes the connection."""
    phrase = HTTPStatus(status).phrase
    body = orjson.dumps(
        {
            "type": f"urn:threadline:problem:{_SLUGS.get(status, 'http-error')}",
            "title": phrase,
            "status": status,
            "detail": detail,
        }
    )
    head = (
        f"HTTP/1.1 {status} {phrase}\r\n"
        "content-type: application/problem+json\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with `HttpLimits`; pass `with_limits(...)` as ``http=``.

    Written for the per-request cost: one connection keeps at most one pending header timer,
    which on firing re-arms itself for whatever is left of the head then in progress, so a
    request costs a clock read rather than a timer; the header and URL callbacks are uvicorn's
    own lines plus the counting (2 to 3 µs a request more than uvicorn's protocol alone,
    measured with a seven-header request).
    """

    limits: ClassVar[HttpLimits]

    @classmethod
    def with_limits(cls, limits: HttpLimits) -> type[LimitedHttpToolsProtocol]:
        """The protocol class uvicorn instantiates per connection, carrying ``limits``."""
        return cast(
            "type[LimitedHttpToolsProtocol]", type(cls.__name__, (cls,), {"limits": limits})
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limits = self.limits
        self._max_request_line = limits.max_request_line_bytes
        self._max_header_bytes = limits.max_header_bytes
        self._max_headers = limits.max_headers
        self._header_timeout = limits.header_timeout_seconds
        # Between a message's end and the next one's headers: the bytes read belong to a head.
        self._reading_head = True
        self._head_bytes = 0
        self._header_bytes = 0
        self._message_begun = False
        self._message_complete = True
        # When the head in progress must be complete; None while none is.
        self._head_deadline: float | None = None
        self._header_timer: asyncio.TimerHandle | None = None
        self._refusal: _Refused | None = None

    # Connection ----------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # The first head's time runs from the connection's opening, not from its first byte.
        self._start_head_clock()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        # uvicorn's own data_received, but a refusal raised from a parser callback is answered
        # as what it is instead of as its generic 400.
        if self._reading_head:
            self._head_bytes += len(data)
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            refusal, self._refusal = self._refusal, None
            if refusal is not None:
                self._refuse(refusal.status, refusal.detail)
                return
            message = "Invalid HTTP request received."
            self.logger.warning(message)
            self.send_400_response(message)
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        # Still inside the head after all of this chunk: every byte read since it began is head.
        if self._reading_head and self._head_bytes > self._max_header_bytes:
            self._refuse(431, self._too_large_detail())

    # Parser callbacks ----------------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._message_begun = True
        self._message_complete = False
        self._header_bytes = 0
        if self._head_deadline is None:
            self._start_head_clock()

    def on_url(self, url: bytes) -> None:
        self.url += url  # uvicorn's on_url
        if len(self.url) > self._max_request_line:
            self._raise(
                414,
                f"the request target is longer than {self._max_request_line} bytes "
                "(USER_HTTP_MAX_REQUEST_LINE_BYTES)",
            )

    def on_header(self, name: bytes, value: bytes) -> None:
        # uvicorn's on_header, then the counting.
        name = name.lower()
        if name == b"expect" and value.lower() == b"100-continue":
            self.expect_100_continue = True
        self.headers.append((name, value))
        self._header_bytes += len(name) + len(value) + _HEADER_FRAMING_BYTES
        if len(self.headers) > self._max_headers:
            self._raise(
                431,
                f"the request has more than {self._max_headers} header fields "
                "(USER_HTTP_MAX_HEADERS)",
            )
        if len(self.url) + self._header_bytes > self._max_header_bytes:
            self._raise(431, self._too_large_detail())

    def on_headers_complete(self) -> None:
        self._head_deadline = None
        self._reading_head = False
        self._head_bytes = 0
        self._message_begun = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._message_complete = True
        self._reading_head = True
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self._message_complete and not self.transport.is_closing():
            # The app answered without reading the whole body: what is still arriving would
            # be read and dropped for as long as the client cares to trickle it.
            self.transport.close()

    # Refusals --------------------------------------------------------------------------------

    def _too_large_detail(self) -> str:
        return (
            f"the request line and headers are larger than {self._max_header_bytes} bytes "
            "(USER_HTTP_MAX_HEADER_BYTES)"
        )

    def _raise(self, status: int, detail: str) -> None:
        # httptools turns any exception in a callback into HttpParserCallbackError and stops
        # parsing; data_received answers what was kept here.
        self._refusal = _Refused(status, detail)
        raise self._refusal

    def _refuse(self, status: int, detail: str) -> None:
        self._head_deadline = None
        _log.warning(
            "http request refused",
            extra={"http.response.status_code": status, "reason": detail},
        )
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # A pipelined request refused while the one before it is still being answered:
            # that answer must not be interleaved; the connection closes after it.
            self.cycle.keep_alive = False
            self.flow.pause_reading()
            return
        self.transport.write(problem_bytes(status, detail))
        self.transport.close()

    # The header timeout ----------------------------------------------------------------------

    def _start_head_clock(self) -> None:
        self._head_deadline = self.loop.time() + self._header_timeout
        if self._header_timer is None:
            self._header_timer = self.loop.call_at(self._head_deadline, self._header_timeout_due)

    def _header_timeout_due(self) -> None:
        self._header_timer = None
        deadline = self._head_deadline
        if deadline is None or self.transport.is_closing():
            return  # no head in progress: the next one starts the clock again
        if self.loop.time() < deadline:
            # A later head than the one this timer was armed for: wait for what it has left.
            self._header_timer = self.loop.call_at(deadline, self._header_timeout_due)
            return
        if not self._message_begun and (self.cycle is None or self.cycle.response_complete):
            # Not one byte of a request: an idle connection, closed without an answer.
            self._head_deadline = None
            self.transport.close()
            return
        self._refuse(
            408,
            f"the request headers did not arrive within {self._header_timeout:g} s "
            "(USER_HTTP_HEADER_TIMEOUT_SECONDS)",
        )
