"""Streaming multipart/form-data reader for one file field: the body never sits whole in memory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from email.message import Message

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from portal.errors import InvalidInput, PayloadTooLarge


class StreamedFile:
    """The ``file`` field of a multipart body, read chunk by chunk from the request stream."""

    def __init__(
        self,
        content_type: str,
        stream: AsyncIterator[bytes],
        field: str = "file",
        *,
        limit: int | None = None,
        what: str = "evidence uploads",
    ) -> None:
        kind, options = parse_options_header(content_type)
        boundary = options.get(b"boundary")
        if kind != b"multipart/form-data" or not boundary:
            raise InvalidInput("send the file as multipart/form-data with a 'file' field", field=field)
        self.field = field
        self.filename = ""
        # The whole body counts, not only the file part: other fields cannot smuggle in a huge body.
        self._limit = limit
        self._what = what
        self._received = 0
        self._stream = stream
        self._ready: list[bytes] = []  # data of the file part not yet handed out
        self._headers: list[tuple[bytes, bytes]] = []
        self._name = b""
        self._value = b""
        self._in_file = False
        self._found = False
        self._done = False
        try:
            self._parser = self._new_parser(boundary)
        except (FormParserError, ValueError) as exc:
            raise InvalidInput(f"the multipart boundary is not usable: {exc}", field=field) from exc

    def _new_parser(self, boundary: bytes) -> MultipartParser:
        return MultipartParser(
            boundary,
            {
                "on_part_begin": self._part_begin,
                "on_header_field": lambda d, s, e: self._set("_name", d[s:e]),
                "on_header_value": lambda d, s, e: self._set("_value", d[s:e]),
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
            },
        )

    def _set(self, attribute: str, data: bytes) -> None:
        setattr(self, attribute, getattr(self, attribute) + data)

    def _part_begin(self) -> None:
        self._headers, self._in_file = [], False

    def _header_end(self) -> None:
        self._headers.append((self._name.lower(), self._value))
        self._name, self._value = b"", b""

    def _headers_finished(self) -> None:
        disposition = dict(self._headers).get(b"content-disposition", b"")
        message = Message()
        message["content-disposition"] = disposition.decode("utf-8", "replace")
        name = message.get_param("name", header="content-disposition")
        if name == self.field and not self._found:
            self._in_file, self._found = True, True
            filename = message.get_filename() or ""
            self.filename = filename

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self._ready.append(bytes(data[start:end]))

    def _part_end(self) -> None:
        if self._in_file:
            self._in_file = False
            self._done = True

    def _count(self, length: int) -> None:
        if self._limit is not None:
            self._received += length
            if self._received > self._limit:
                raise PayloadTooLarge(f"{self._what} are limited to {self._limit // (1024 * 1024)} MB")

    def _parse(self, chunk: bytes | None) -> None:
        try:
            if chunk is None:
                self._parser.finalize()
            else:
                self._parser.write(chunk)
        except FormParserError as exc:  # the parser's errors all derive from it
            raise InvalidInput(f"the multipart body is malformed: {exc}", field=self.field) from exc

    async def _feed(self) -> bool:
        """Parse the next piece of the body; False when the body has ended."""
        chunk = await anext(self._stream, None)
        if chunk is not None:
            self._count(len(chunk))
        self._parse(chunk)
        return chunk is not None

    async def open(self) -> str:
        """Read up to the start of the file part; return its filename."""
        while not self._found:
            if not await self._feed():
                raise InvalidInput("the upload has no 'file' field", field=self.field)
        return self.filename

    async def chunks(self) -> AsyncIterator[bytes]:
        while True:
            while self._ready:
                yield self._ready.pop(0)
            if self._done:
                return
            if not await self._feed():
                if not self._done:
                    raise InvalidInput("the upload ended before the file did", field=self.field)

    # --- the file's bytes parsed off the event loop (the evidence upload: parsing on its writer thread) --------

    async def raw(self) -> AsyncIterator[bytes]:
        """After :meth:`open`: the rest of the body as it arrives, counted against the limit but not parsed. Hand
        each piece, in order, to :meth:`parse` (from one thread at a time), then call :meth:`end`."""
        async for chunk in self._stream:
            self._count(len(chunk))
            yield chunk
            if self._done:
                return  # the file has ended: the rest of the body is not read, as with chunks()

    def parse(self, raw: bytes) -> list[bytes]:
        """The file's bytes in ``raw``, after any that :meth:`open` had already parsed."""
        if raw and not self._done:
            self._parse(raw)
        ready, self._ready = self._ready, []
        return ready

    def end(self) -> list[bytes]:
        """The body has ended: the file's last bytes; InvalidInput if the body ended before the file did."""
        if not self._done:
            self._parse(None)
            if not self._done:
                raise InvalidInput("the upload ended before the file did", field=self.field)
        return self.parse(b"")
