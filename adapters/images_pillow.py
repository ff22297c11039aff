"""ImageProcessor over Pillow: PNG, JPEG, WebP and GIF only.

Thumbnails are JPEG, except for images with transparency, whose thumbnails are PNG so
the transparency survives; the first bytes tell them apart (PNG starts with
``\\x89PNG``, JPEG with ``\\xff\\xd8``). Avatars are always PNG. Both are drawn into a
fresh image, so no EXIF (GPS position, camera), ICC profile or text chunk of the
upload is ever written back out; the EXIF orientation is applied first. Of an
animated GIF or WebP only the first frame is used.

Decompression bombs: Pillow refuses images over twice its global
``Image.MAX_IMAGE_PIXELS`` (``DecompressionBombError``); on top of that each processor
refuses images over its own ``max_pixels``, read from the header before any pixel is
decoded, without changing Pillow's global.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import BinaryIO

from PIL import Image, ImageOps

from messenger_core.errors import Invalid, field
from messenger_core.model import ImageInfo

# The Pillow decoders we let near uploads.
FORMATS = ("PNG", "JPEG", "WEBP", "GIF")
MIME_BY_FORMAT = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",  # what the JPEG decoder calls a camera's multi-picture JPEG
    "WEBP": "image/webp",
    "GIF": "image/gif",
}
# A 48-megapixel phone photo fits; decoding it takes at most ~256 MB as RGBA.
DEFAULT_MAX_PIXELS = 64_000_000
CHUNK_SIZE = 64 * 1024


class _Unreadable(Exception):
    """The source is no image we read, or a broken or oversized one."""


class PillowImageProcessor:
    def __init__(self, *, max_pixels: int = DEFAULT_MAX_PIXELS, jpeg_quality: int = 85) -> None:
        self._max_pixels = max_pixels
        self._jpeg_quality = jpeg_quality

    def inspect(self, source: BinaryIO) -> ImageInfo | None:
        """Width, height and mime of the image, read from its header only; None when
        it is not a PNG/JPEG/WebP/GIF or is over the pixel limit."""
        try:
            with self._open(source) as image:
                return ImageInfo(
                    width=image.width, height=image.height, mime=MIME_BY_FORMAT[image.format or ""]
                )
        except _Unreadable:
            return None

    def thumbnail(self, source: BinaryIO, max_side: int) -> Iterator[bytes]:
        """A thumbnail whose sides are at most ``max_side`` (never enlarged): JPEG, or
        PNG when the image has transparency. Raises ``Invalid({"file": …})`` when the
        source cannot be decoded."""

        def shrink(upright: Image.Image) -> Image.Image:
            small = upright.convert("RGBA" if upright.has_transparency_data else "RGB")
            small.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
            return small

        small = self._decode(source, (max_side, max_side), shrink)
        if small.mode == "RGBA":
            return _encoded(small, "PNG", optimize=True)
        return _encoded(small, "JPEG", quality=self._jpeg_quality, optimize=True)

    def avatar(self, source: BinaryIO, side: int) -> Iterator[bytes]:
        """A ``side``×``side`` PNG, centre-cropped, with no metadata. Raises
        ``Invalid({"file": …})`` when the source is not an image."""

        def square(upright: Image.Image) -> Image.Image:
            mode = "RGBA" if upright.has_transparency_data else "RGB"
            return ImageOps.fit(upright.convert(mode), (side, side), Image.Resampling.LANCZOS)

        return _encoded(self._decode(source, (side, side), square), "PNG", optimize=True)

    def _open(self, source: BinaryIO) -> Image.Image:
        """Open (header only) an image of an accepted format within the pixel limit."""
        try:
            image = Image.open(source, formats=FORMATS)
        # Malformed input can make a decoder raise nearly anything, not only OSError;
        # DecompressionBombError is among them.
        except Exception as exc:
            raise _Unreadable() from exc
        if image.format not in MIME_BY_FORMAT or image.width * image.height > self._max_pixels:
            # No image.close(): it would close the caller's stream too.
            raise _Unreadable()
        return image

    def _decode(
        self,
        source: BinaryIO,
        at_least: tuple[int, int],
        make: Callable[[Image.Image], Image.Image],
    ) -> Image.Image:
        """Decode the upright image, apply ``make`` and return the result with no
        metadata; ``Invalid`` when any of it fails."""
        try:
            with self._open(source) as image:
                image.draft("RGB", at_least)  # a JPEG decodes straight to a smaller size
                made = make(ImageOps.exif_transpose(image))
        except Exception as exc:  # see _open: broken input fails in many ways
            raise Invalid({"file": field("not_an_image")}) from exc
        clean = Image.new(made.mode, made.size)  # empty info: no EXIF, ICC, text
        clean.paste(made)
        return clean


def _encoded(image: Image.Image, format: str, **options: object) -> Iterator[bytes]:
    # Encoded before returning, so that failures surface in the call, not mid-stream.
    buffer = io.BytesIO()
    image.save(buffer, format, **options)
    data = buffer.getvalue()
    return (data[i : i + CHUNK_SIZE] for i in range(0, len(data), CHUNK_SIZE))
