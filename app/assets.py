"""The frontend's files under versioned URLs, and the caching that versioning allows.

A phone that returns to a workshop should not download the app again, and a phone must
never run yesterday's module next to today's. Both follow from one content hash of
everything under frontend/, taken at start: the pages link `/static/<version>/js/…`, and
since a module's relative imports resolve against its own URL, every module a page imports
carries the version too. Under the current version a file is the file that was hashed, so
it may be cached for a year without asking again (`immutable`); a new deployment has a new
version, hence new URLs, and the old copies are simply never asked for again. The hash
covers the files only, so every instance serving the same frontend names the same version.

What is not cached for good is revalidated, with the ETag StaticFiles sends:

- a path without a version (a URL typed by hand, or built by a script without
  `import.meta.url`) is fresh for UNVERSIONED_SECONDS, then revalidated. Ten seconds cover
  a page load that asks for the same file twice; after a deployment such a file is stale
  for at most that long. Nothing of ours asks for one any more: frontend/js/locale.js
  fetches the locales beside itself, under the version, so a returning phone asks for
  nothing but the page (it revalidated the locale too, a round trip; docs/performance.md);
- an unknown version (a page from before a deployment, or from another instance in a
  rolling one): the current file is served, so the page still works, but with `no-cache`,
  so that nothing is kept under a version whose content this server cannot vouch for;
- a file changed since the server started (an edit during development): `no-cache` too,
  its new content under the old version must not be kept as if it were the old one.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import anyio
from starlette.datastructures import Headers
from starlette.responses import FileResponse, Response
from starlette.staticfiles import NotModifiedResponse, PathLike, StaticFiles
from starlette.types import Scope

from app.brotli_assets import MEDIA_TYPES as BROTLI_TYPES
from app.brotli_assets import BrotliBodies, accepts_brotli
from app.comment_free import MEDIA_TYPES as COMMENT_FREE_TYPES
from app.comment_free import CommentFreeBodies

VERSION_LENGTH = 12
VERSION = re.compile(rf"[0-9a-f]{{{VERSION_LENGTH}}}")
# A year, the most RFC 9111 asks a cache to keep; `immutable` also spares the revalidation
# a browser would otherwise do when the person reloads the page.
CACHED_FOR_GOOD = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
UNVERSIONED_SECONDS = 10
BRIEFLY_FRESH = f"max-age={UNVERSIONED_SECONDS}"
STATIC_PREFIX = "/static"


@dataclass(frozen=True)
class AssetVersion:
    """The frontend as hashed at start: the version, and each file's size and mtime then."""

    directory: Path
    version: str
    files: dict[str, tuple[int, int]]  # relative path ("js/dom.js") -> (size, mtime in ns)

    @classmethod
    def of(cls, directory: Path) -> AssetVersion:
        digest = hashlib.sha256()
        files: dict[str, tuple[int, int]] = {}
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            relative = path.relative_to(directory).as_posix()
            stat = path.stat()
            files[relative] = (stat.st_size, stat.st_mtime_ns)
            digest.update(relative.encode() + b"\0" + path.read_bytes() + b"\0")
        return cls(directory, digest.hexdigest()[:VERSION_LENGTH], files)

    def url(self, relative: str) -> str:
        """The versioned URL of a file under the frontend directory ("js/dom.js")."""
        return f"{STATIC_PREFIX}/{self.version}/{relative}"

    def unchanged(self, relative: str, stat: os.stat_result) -> bool:
        return self.files.get(relative) == (stat.st_size, stat.st_mtime_ns)


class VersionedStaticFiles(StaticFiles):
    """Starlette's StaticFiles (ETags, 304s, HEAD, ranges, safe paths) with a version segment
    allowed in front of the path, and a Cache-Control header on every file it serves."""

    def __init__(self, assets: AssetVersion) -> None:
        super().__init__(directory=assets.directory)
        self.assets = assets
        self.brotli = BrotliBodies()
        self.comment_free = CommentFreeBodies()

    async def get_response(self, path: str, scope: Scope) -> Response:
        """As StaticFiles answers, but a script or a style sheet goes without its comments
        (app/comment_free.py), and a file cached for good goes as brotli to a client that
        asks for it (app/brotli_assets.py): what is cached for good never changes, so its
        compressed body is made once. A range is StaticFiles' own, of the file as written
        under the file's own tag."""
        response = await super().get_response(path, scope)
        request = Headers(scope=scope)
        if (
            not isinstance(response, FileResponse)
            or response.status_code != 200
            or scope["method"] not in {"GET", "HEAD"}
            or "range" in request
            or response.stat_result is None
        ):
            return response
        stripped = response.media_type in COMMENT_FREE_TYPES
        compressed = (
            response.headers.get("cache-control") == CACHED_FOR_GOOD
            and response.media_type in BROTLI_TYPES
            and accepts_brotli(request.get("accept-encoding", ""))
        )
        if not stripped and not compressed:
            return response
        full_path = Path(response.path)
        stat = response.stat_result

        async def served() -> bytes:
            if stripped:
                return await self.comment_free.body(full_path, str(response.media_type), stat.st_size, stat.st_mtime_ns)
            return await anyio.Path(full_path).read_bytes()

        if compressed:
            body = await self.brotli.body(full_path.relative_to(self.assets.directory.resolve()).as_posix(), served)
        else:
            body = await served()
        # Another body, so another tag (RFC 9110 §8.8.3); no ranges of it, and the tag alone
        # validates it.
        headers = {
            name: value
            for name, value in response.headers.items()
            if name not in {"content-length", "accept-ranges", "etag", "last-modified"}
        }
        if compressed:
            headers.update({"content-encoding": "br", "vary": "Accept-Encoding"})
        if etag := response.headers.get("etag"):
            suffix = "-".join(["c"] * stripped + ["br"] * compressed)
            headers["etag"] = etag[:-1] + f'-{suffix}"' if etag.endswith('"') else f"{etag}-{suffix}"
        if self.is_not_modified(Headers(headers), request):  # revalidating this body
            return NotModifiedResponse(Headers(headers))
        return Response(body, headers=headers, media_type=response.media_type)

    def get_path(self, scope: Scope) -> str:
        path = super().get_path(scope)
        version, separator, rest = path.partition(os.sep)
        return rest if separator and VERSION.fullmatch(version) else path

    def file_response(
        self, full_path: PathLike, stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        # lookup_path gives the real path, inside the real directory (it refuses the rest).
        relative = Path(full_path).relative_to(self.assets.directory.resolve()).as_posix()
        response.headers["Cache-Control"] = self.cache_control(self.requested_version(scope), relative, stat_result)
        return response

    def requested_version(self, scope: Scope) -> str | None:
        first = super().get_path(scope).partition(os.sep)[0]
        return first if VERSION.fullmatch(first) else None

    def cache_control(self, version: str | None, relative: str, stat: os.stat_result) -> str:
        if not self.assets.unchanged(relative, stat):
            return REVALIDATE
        if version is None:
            return BRIEFLY_FRESH
        return CACHED_FOR_GOOD if version == self.assets.version else REVALIDATE
