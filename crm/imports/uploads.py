"""Chunked, resumable uploads (files above IMPORT_CHUNK_THRESHOLD_BYTES): init -> chunk* -> complete.

Each chunk is stored on its own (under a name we choose) and recorded; a client that lost its connection
asks which chunks arrived and sends only the rest. Completing joins the chunks in order into one stored
file, removes them, and analyses the file like any upload.
"""

import io

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from . import limits
from .models import ImportJob, ImportStatus, ImportUploadChunk
from .services import ImportRefused, _fail, import_analyse, storage_name, too_big_message


def upload_init(*, by, original_name: str, size: int) -> ImportJob:
    if size <= 0:
        raise ImportRefused("The file is empty.")
    if size > limits.max_bytes():
        raise ImportRefused(too_big_message(size))
    return ImportJob.objects.create(
        created_by=by, original_name=(original_name or "upload")[-255:], file_size=size,
        status=ImportStatus.UPLOADING, source_label="web",
    )


def expected_chunks(job: ImportJob) -> int:
    return max(1, -(-job.file_size // limits.chunk_size()))


def received_chunks(job: ImportJob) -> list[int]:
    return list(job.chunks.order_by("index").values_list("index", flat=True))


def upload_chunk(*, job: ImportJob, index: int, data) -> list[int]:
    """Store chunk `index` (idempotent: a chunk already received is kept). Returns the received indexes."""
    if job.status != ImportStatus.UPLOADING:
        raise ImportRefused("This upload is already complete.")
    total = expected_chunks(job)
    if not 0 <= index < total:
        raise ImportRefused(f"Chunk {index} is outside this upload (it has {total} chunks).")
    size = data.size
    last = index == total - 1
    expected = job.file_size - limits.chunk_size() * (total - 1) if last else limits.chunk_size()
    if size != expected:
        raise ImportRefused(f"Chunk {index} has {size:,} bytes; {expected:,} were expected.")
    if not job.chunks.filter(index=index).exists():
        name = default_storage.save(f"imports/chunks/{job.uuid}/{index:06d}", data)
        try:
            with transaction.atomic():
                ImportUploadChunk.objects.create(job=job, index=index, size=size, file=name)
        except IntegrityError:  # the same chunk sent twice at once
            default_storage.delete(name)
    return received_chunks(job)


class _Joined(io.RawIOBase):
    """The chunks of an upload read one after the other as one stream."""

    def __init__(self, names):
        self.names = list(names)
        self.current = None

    def readable(self):
        return True

    def readinto(self, buffer):
        while True:
            if self.current is None:
                if not self.names:
                    return 0
                self.current = default_storage.open(self.names.pop(0), "rb")
            data = self.current.read(len(buffer))
            if data:
                buffer[: len(data)] = data
                return len(data)
            self.current.close()
            self.current = None

    def close(self):
        if self.current is not None:
            self.current.close()
        super().close()


def upload_complete(*, job: ImportJob) -> ImportJob:
    if job.status != ImportStatus.UPLOADING:
        raise ImportRefused("This upload is already complete.")
    chunks = list(job.chunks.order_by("index"))
    missing = sorted(set(range(expected_chunks(job))) - {chunk.index for chunk in chunks})
    if missing:
        raise ImportRefused(f"{len(missing)} chunk(s) have not arrived yet (first missing: {missing[0]}).")
    received = sum(chunk.size for chunk in chunks)
    if received != job.file_size:
        raise ImportRefused(f"Received {received:,} bytes, expected {job.file_size:,}.")
    if received > limits.max_bytes():
        return _fail(job, too_big_message(received))
    stream = io.BufferedReader(_Joined(chunk.file for chunk in chunks), buffer_size=1024 * 1024)
    content = File(stream, name="upload")
    content.size = received
    job.file = default_storage.save(storage_name(job), content)
    stream.close()
    for chunk in chunks:
        default_storage.delete(chunk.file)
    job.chunks.all().delete()
    job.file_size = default_storage.size(job.file)
    return import_analyse(job=job)
