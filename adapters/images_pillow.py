"""ImageProcessor over Pillow: PNG, JPEG, WebP and GIF only.

Thumbnails are JPEG, except for images with transparency, whose thumbnails are PNG so
the transparency survives; the first bytes tell them apart (PNG starts with
``\\x89PNG``, JPEG with ``\\xff\\xd8``). Avatars are always PNG. Both are drawn into a
fresh image, so no EXIF (GPS position, camera), ICC profile or text chunk of the
upload is ever written back out; the EXIF orientation is applied first. Of an
animated GIF or WebP only the first frame is used.

Decompression bombs: an 8000×8000 PNG of 250 KB decodes to 256 MB. Pillow refuses images
over twice its global ``Image.MAX_IMAGE_PIXELS`` (``DecompressionBombError``); on top of
that each processor refuses images over its own ``max_pixels`` (40 megapixels, as a
48 MP phone photo is rare and Mattermost stops at 33), read from the header before any
pixel is decoded, without changing Pillow's global. What is decoded is bounded too:

- a JPEG is decoded straight at 1/2, 1/4 or 1/8 of its size (``draft``), no smaller than
  twice what is made of it;
- other formats are decoded whole (4 bytes a pixel: at most 160 MB), then shrunk by an
  integer factor (``reduce``) a band of rows at a time, so the one full-size copy is the
  decoded image itself (``reduce``/``resize`` of an image with alpha, or a palette
  conversion, would otherwise make a second one);
- at most ``max_decodes`` images are decoded at once per processor (2 by default), so a
  burst of big uploads costs at most ~2 × 160 MB, the rest wait their turn;
- after a big decode the C allocator is asked to give freed memory back to the system
  (glibc's ``malloc_trim``): Pillow's 16 MB blocks come from malloc, whose freed pages
  otherwise stay in the process long after the burst.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import io
import threading
from collections.abc import Callable, Iterator
from typing import BinaryIO

from PIL import Image

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
# A 40-megapixel image takes 160 MB decoded (Pillow keeps RGB in 4 bytes a pixel).
DEFAULT_MAX_PIXELS = 40_000_000
DEFAULT_MAX_DECODES = 2  # images decoded at once by one processor (a server shares it among workers)
BIG_DECODE_PIXELS = 4_000_000  # from this size on, freed memory is handed back after a decode
BAND_PIXELS = 1_000_000  # source pixels converted and shrunk at a time (~4 MB)
ORIENTATION = 0x0112  # the EXIF tag
UPRIGHT = {  # EXIF orientation → the transpose that makes the image upright
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
CHUNK_SIZE = 64 * 1024


# The English messages of the errors this adapter raises, by code.
class _Unreadable(Exception):
    """The source is no image we read, or a broken or oversized one: ``code`` (a field
    error code of the core: not_an_image, image_too_large) and ``params`` say which."""

    def __init__(self, code: str = "not_an_image", **params: object) -> None:
        super().__init__(code)
        self.code, self.params = code, params


def _invalid(code: str, **params: object) -> Invalid:
    return Invalid({"file": field(code, **params)})


class PillowImageProcessor:
    def __init__(
        self,
        *,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        jpeg_quality: int = 85,
        max_decodes: int = DEFAULT_MAX_DECODES,
    ) -> None:
        self._max_pixels = max_pixels
        self._jpeg_quality = jpeg_quality
        self._decoding = threading.BoundedSemaphore(max_decodes)

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
        source cannot be decoded or is over the pixel limit."""

        def shrink(image: Image.Image) -> Image.Image:
            factor = max(image.size) // (2 * max_side)
            small = _reduced(image, factor)
            small.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
            return small

        small = self._decode(source, max_side, shrink)
        if small.mode == "RGBA":
            return _encoded(small, "PNG", optimize=True)
        return _encoded(small, "JPEG", quality=self._jpeg_quality, optimize=True)

    def avatar(self, source: BinaryIO, side: int) -> Iterator[bytes]:
        """A ``side``×``side`` PNG, centre-cropped, with no metadata. Raises
        ``Invalid({"file": …})`` when the source is not an image or is over the pixel
        limit."""

        def square(image: Image.Image) -> Image.Image:
            small = _reduced(image, min(image.size) // (2 * side))
            width, height = small.size
            edge = min(width, height)
            box = ((width - edge) / 2, (height - edge) / 2, (width + edge) / 2, (height + edge) / 2)
            return small.resize((side, side), Image.Resampling.LANCZOS, box=box)

        return _encoded(self._decode(source, side, square), "PNG", optimize=True)

    def _open(self, source: BinaryIO) -> Image.Image:
        """Open (header only) an image of an accepted format within the pixel limit."""
        try:
            image = Image.open(source, formats=FORMATS)
        # Malformed input can make a decoder raise nearly anything, not only OSError;
        # DecompressionBombError is among them.
        except Exception as exc:
            raise _Unreadable() from exc
        if image.format not in MIME_BY_FORMAT:
            # No image.close(): it would close the caller's stream too.
            raise _Unreadable()
        if image.width * image.height > self._max_pixels:
            raise _Unreadable("image_too_large", max_pixels=self._max_pixels)
        return image

    def _decode(self, source: BinaryIO, side: int, make: Callable[[Image.Image], Image.Image]) -> Image.Image:
        """Decode the image (a JPEG at no less than twice ``side``), apply ``make`` to it,
        make the result upright and return it with no metadata; ``Invalid`` when any of
        it fails. Holds one of the processor's decoding slots meanwhile."""
        pixels = 0
        with self._decoding:
            try:
                with self._open(source) as image:
                    image.draft("RGB", (2 * side, 2 * side))  # a JPEG decodes straight to a smaller size
                    image.load()
                    pixels = image.width * image.height
                    orientation = image.getexif().get(ORIENTATION, 1)
                    made = make(image)
                    del image  # so the decoded pixels go when the file does, below
            except _Unreadable as exc:
                raise _invalid(exc.code, **exc.params) from exc
            except Exception as exc:  # see _open: broken input fails in many ways
                raise _invalid("not_an_image") from exc
            finally:
                if pixels >= BIG_DECODE_PIXELS:
                    _give_back_freed_memory()
        if orientation in UPRIGHT:
            made = made.transpose(UPRIGHT[orientation])
        clean = Image.new(made.mode, made.size)  # empty info: no EXIF, ICC, text
        clean.paste(made)
        return clean


def _output_mode(image: Image.Image) -> str:
    return "RGBA" if image.has_transparency_data else "RGB"


def _reduced(image: Image.Image, factor: int) -> Image.Image:
    """The image in RGB (RGBA when it has transparency), shrunk by ``factor`` (box
    filter, as ``Image.reduce``), made a band of rows at a time: converting a palette
    image, or reducing one with alpha (Pillow premultiplies it first), would otherwise
    copy the whole full-size image."""
    mode = _output_mode(image)
    factor = max(1, factor)
    if factor == 1 and image.width * image.height <= BIG_DECODE_PIXELS:
        return image.convert(mode)
    width, height = image.size
    out = Image.new(mode, (-(-width // factor), -(-height // factor)))
    band = max(1, BAND_PIXELS // width // factor) * factor  # rows: a multiple of the factor
    for top in range(0, height, band):
        part = image.crop((0, top, width, min(height, top + band)))
        if part.mode != mode:
            part = part.convert(mode)
        out.paste(part.reduce(factor) if factor > 1 else part, (0, top // factor))
    return out


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None on a C library without it (musl, macOS)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


def _give_back_freed_memory() -> None:
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def _encoded(image: Image.Image, format: str, **options: object) -> Iterator[bytes]:
    # Encoded before returning, so that failures surface in the call, not mid-stream.
    buffer = io.BytesIO()
    image.save(buffer, format, **options)
    data = buffer.getvalue()
    return (data[i : i + CHUNK_SIZE] for i in range(0, len(data), CHUNK_SIZE))
