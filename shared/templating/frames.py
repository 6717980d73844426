"""The render pool's wire: length-prefixed frames on a Unix socket, each written in one call
and, when it fits, read in one.

In a web or worker process every blocking call lets another thread take the GIL, and getting
it back can take a switch interval (5 ms) when the process is busy, all that time holding a
render process whose answer is already there. So a job is one `sendall` and its answer, most
often, one `recv` that both waits (the kernel's SO_RCVTIMEO bounds each wait) and reads:
`multiprocessing.connection` spent four blocking calls a job (write, poll, header, body).
"""

from __future__ import annotations

import socket
import struct

_HEADER = struct.Struct("!Q")  # the payload's length
CHUNK = 1 << 16  # bytes one read asks for: an answer of a usual message fits


def send_frame(sock: socket.socket, payload: bytes) -> None:
    """Write one frame."""
    sock.sendall(_HEADER.pack(len(payload)) + payload)


def wait_slices(sock: socket.socket, seconds: float) -> None:
    """Make each blocking read of this socket give up after `seconds` (BlockingIOError)."""
    whole = int(seconds)
    micro = int((seconds - whole) * 1e6)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", whole, micro))


class FrameReader:
    """Reads the frames of one socket; bytes past a frame are kept for the next."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._buffer = bytearray()

    def read(self) -> bytes:
        """The next frame's payload. EOFError when the other end has closed; BlockingIOError
        when a wait ran past the socket's slice (call again: what was read is kept)."""
        while True:
            if len(self._buffer) >= _HEADER.size:
                (size,) = _HEADER.unpack_from(self._buffer)
                end = _HEADER.size + size
                if len(self._buffer) >= end:
                    payload = bytes(self._buffer[_HEADER.size : end])
                    del self._buffer[:end]
                    return payload
            chunk = self.sock.recv(CHUNK)
            if not chunk:
                raise EOFError
            self._buffer += chunk
