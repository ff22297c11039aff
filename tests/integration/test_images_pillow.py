"""PillowImageProcessor: images are made in memory with Pillow itself."""

from __future__ import annotations

import io
import random
import struct
import threading
import time
import zlib
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from adapters.images_pillow import PillowImageProcessor
from messenger_core.errors import Invalid
from messenger_core.model import ImageInfo
from messenger_core.ports import ImageProcessor

ORIENTATION = 0x0112
MAKE = 0x010F


@pytest.fixture
def images() -> PillowImageProcessor:
    return PillowImageProcessor()


def _encode(image: Image.Image, format: str, **options: object) -> io.BytesIO:
    buffer = io.BytesIO()
    image.save(buffer, format, **options)
    buffer.seek(0)
    return buffer


def _decode(chunks: Iterator[bytes]) -> Image.Image:
    data = b"".join(chunks)
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _photo_with_exif(width: int, height: int, orientation: int = 1) -> io.BytesIO:
    """A JPEG whose left half is red and right half blue, with camera EXIF."""
    image = Image.new("RGB", (width, height), "blue")
    image.paste("red", (0, 0, width // 2, height))
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[MAKE] = "SpyCam"
    return _encode(image, "JPEG", exif=exif.tobytes(), quality=95)


@pytest.mark.parametrize(
    ("format", "mime", "mode"),
    [
        ("PNG", "image/png", "RGBA"),
        ("JPEG", "image/jpeg", "RGB"),
        ("WEBP", "image/webp", "RGB"),
        ("GIF", "image/gif", "P"),
    ],
)
def test_inspect_reads_size_and_type(images: PillowImageProcessor, format: str, mime: str, mode: str) -> None:
    port: ImageProcessor = images  # checked by mypy
    source = _encode(Image.new(mode, (321, 123)), format)
    assert port.inspect(source) == ImageInfo(width=321, height=123, mime=mime)
    assert not source.closed
    assert port.inspect(source) == ImageInfo(width=321, height=123, mime=mime)  # reusable


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello, this is a text file\n",
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 20,
        _encode(Image.new("RGB", (4, 4)), "BMP").getvalue(),
        _encode(Image.new("RGB", (4, 4)), "TIFF").getvalue(),
    ],
    ids=["empty", "text", "broken-png", "bmp", "tiff"],
)
def test_inspect_is_none_for_what_it_does_not_read(images: PillowImageProcessor, data: bytes) -> None:
    assert images.inspect(io.BytesIO(data)) is None


@settings(max_examples=200)
@given(st.binary(max_size=300))
def test_inspect_never_raises(data: bytes) -> None:
    result = PillowImageProcessor().inspect(io.BytesIO(data))
    assert result is None or isinstance(result, ImageInfo)


def test_inspect_refuses_images_over_the_pixel_limit() -> None:
    source = _encode(Image.new("RGB", (20, 20)), "PNG")
    assert PillowImageProcessor(max_pixels=399).inspect(source) is None
    assert not source.closed  # the caller's stream is the caller's to close
    assert PillowImageProcessor(max_pixels=400).inspect(source) is not None


def test_pillow_decompression_bomb_error_is_none_and_invalid(
    images: PillowImageProcessor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # bombs start at twice this
    bomb = _encode(Image.new("RGB", (20, 20)), "PNG").getvalue()
    assert images.inspect(io.BytesIO(bomb)) is None
    with pytest.raises(Invalid):
        images.avatar(io.BytesIO(bomb), 256)


@pytest.mark.parametrize(("width", "height"), [(1000, 500), (300, 900), (50, 40)])
def test_thumbnail_of_a_photo_is_a_bounded_jpeg(
    images: PillowImageProcessor, width: int, height: int
) -> None:
    thumb = _decode(images.thumbnail(_photo_with_exif(width, height), 200))
    assert thumb.format == "JPEG"
    assert max(thumb.size) == min(200, max(width, height))  # shrunk, never enlarged
    assert abs(thumb.width / thumb.height - width / height) < 0.02
    assert not thumb.getexif()


def test_thumbnail_with_transparency_is_png(images: PillowImageProcessor) -> None:
    source = _encode(Image.new("RGBA", (400, 400), (255, 0, 0, 0)), "PNG")
    thumb = _decode(images.thumbnail(source, 100))
    assert thumb.format == "PNG"
    assert thumb.size == (100, 100)
    assert thumb.getpixel((50, 50))[3] == 0  # type: ignore[index]


def test_thumbnail_of_first_gif_frame(images: PillowImageProcessor) -> None:
    frames = [Image.new("P", (300, 150), i) for i in range(3)]
    source = io.BytesIO()
    frames[0].save(source, "GIF", save_all=True, append_images=frames[1:])
    source.seek(0)
    assert _decode(images.thumbnail(source, 100)).size == (100, 50)


def test_thumbnail_applies_exif_orientation(images: PillowImageProcessor) -> None:
    # Orientation 6: the camera was turned, the viewer rotates 90° clockwise.
    thumb = _decode(images.thumbnail(_photo_with_exif(400, 200, orientation=6), 100))
    assert thumb.size == (50, 100)
    r, _, b = thumb.convert("RGB").getpixel((25, 10))  # type: ignore[misc]
    assert r > 200 and b < 60  # the red half is now on top


def test_thumbnail_of_a_non_image_is_invalid(images: PillowImageProcessor) -> None:
    with pytest.raises(Invalid) as caught:
        images.thumbnail(io.BytesIO(b"plain text"), 100)
    assert "file" in caught.value.fields


def test_thumbnail_of_a_truncated_image_is_invalid(images: PillowImageProcessor) -> None:
    data = _photo_with_exif(400, 400).getvalue()
    with pytest.raises(Invalid):
        images.thumbnail(io.BytesIO(data[: len(data) // 2]), 100)


@pytest.mark.parametrize(("width", "height"), [(600, 300), (300, 600), (100, 100), (40, 90)])
def test_avatar_is_a_256_square_png(images: PillowImageProcessor, width: int, height: int) -> None:
    avatar = _decode(images.avatar(_photo_with_exif(width, height), 256))
    assert avatar.format == "PNG"
    assert avatar.size == (256, 256)


def test_avatar_is_centre_cropped(images: PillowImageProcessor) -> None:
    # 900×300: red | white | blue thirds; the centre crop is the white square.
    image = Image.new("RGB", (900, 300), "white")
    image.paste("red", (0, 0, 300, 300))
    image.paste("blue", (600, 0, 900, 300))
    avatar = _decode(images.avatar(_encode(image, "PNG"), 64)).convert("RGB")
    for corner in [(1, 1), (62, 1), (1, 62), (62, 62), (32, 32)]:
        assert avatar.getpixel(corner) == (255, 255, 255)


def test_avatar_strips_exif_and_other_metadata(images: PillowImageProcessor) -> None:
    source = _photo_with_exif(800, 600, orientation=6)
    assert Image.open(source).getexif()[MAKE] == "SpyCam"  # the upload has it
    source.seek(0)
    data = b"".join(images.avatar(source, 256))
    avatar = Image.open(io.BytesIO(data))
    avatar.load()
    assert not avatar.getexif()
    assert b"SpyCam" not in data and b"Exif" not in data and b"eXIf" not in data
    assert not set(avatar.info) & {"exif", "icc_profile", "dpi", "Software"}


def test_avatar_of_a_non_image_is_invalid(images: PillowImageProcessor) -> None:
    with pytest.raises(Invalid) as caught:
        images.avatar(io.BytesIO(b"%PDF-1.7 not an image"), 256)
    assert caught.value.fields["file"].code == "not_an_image"
    assert caught.value.fields["file"].message.startswith("Not an image")


def test_outputs_come_as_bounded_chunks() -> None:
    from adapters.images_pillow import CHUNK_SIZE

    noisy = Image.frombytes("RGB", (512, 512), random.Random(0).randbytes(512 * 512 * 3))
    chunks = list(PillowImageProcessor().avatar(_encode(noisy, "PNG"), 512))
    assert len(chunks) > 1 and all(0 < len(c) <= CHUNK_SIZE for c in chunks)


# --- decompression bombs and big images ----------------------------------------------


def bomb_png(width: int, height: int) -> bytes:
    """A grayscale PNG of zeros, written by hand: a few dozen KB that decode to
    ``width`` × ``height`` pixels (without building the image in memory here)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grayscale
    packer = zlib.compressobj(9)
    row = bytes(width + 1)  # filter byte + pixels
    pixels = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def test_the_default_pixel_limit_is_40_megapixels() -> None:
    images = PillowImageProcessor()
    assert images.inspect(io.BytesIO(bomb_png(8000, 5000))) == ImageInfo(
        width=8000, height=5000, mime="image/png"
    )
    assert images.inspect(io.BytesIO(bomb_png(8000, 5001))) is None  # 40,008,000 pixels


def test_an_avatar_over_the_pixel_limit_is_invalid_and_says_why() -> None:
    bomb = bomb_png(8000, 8000)  # 64 MP: what a 250 KB upload can claim
    assert len(bomb) < 100_000
    with pytest.raises(Invalid) as caught:
        PillowImageProcessor().avatar(io.BytesIO(bomb), 256)
    error = caught.value.fields["file"]
    assert (error.code, error.params) == ("image_too_large", {"max_pixels": 40_000_000})
    assert error.message == "The image is too large: at most 40000000 pixels"
    with pytest.raises(Invalid):
        PillowImageProcessor().thumbnail(io.BytesIO(bomb), 320)


def test_a_40_megapixel_image_makes_a_thumbnail_and_an_avatar() -> None:
    images = PillowImageProcessor()
    thumb = _decode(images.thumbnail(io.BytesIO(bomb_png(8000, 5000)), 320))
    assert (thumb.format, thumb.size) == ("JPEG", (320, 200))
    assert _decode(images.avatar(io.BytesIO(bomb_png(5000, 8000)), 256)).size == (256, 256)


def _halves(mode: str, size: tuple[int, int], left: object, right: object) -> Image.Image:
    image = Image.new(mode, size, right)  # type: ignore[arg-type]
    image.paste(left, (0, 0, size[0] // 2, size[1]))  # type: ignore[arg-type]
    return image


def test_a_big_image_with_transparency_keeps_it_when_shrunk_in_bands(images: PillowImageProcessor) -> None:
    # 2400×1800: over the size from which images are shrunk a band of rows at a time.
    source = _encode(_halves("RGBA", (2400, 1800), (255, 0, 0, 255), (0, 0, 255, 0)), "PNG")
    thumb = _decode(images.thumbnail(source, 200))
    assert (thumb.format, thumb.size) == ("PNG", (200, 150))
    assert thumb.getpixel((20, 75)) == (255, 0, 0, 255)
    assert thumb.getpixel((180, 75))[3] == 0  # type: ignore[index]


def test_a_big_palette_image_with_a_transparent_colour_is_shrunk_right(images: PillowImageProcessor) -> None:
    palette = _halves("P", (2400, 1800), 1, 0)
    palette.putpalette([0, 255, 0, 255, 0, 0] + [0] * 762)  # 0 green, 1 red
    source = _encode(palette, "GIF", transparency=0)
    thumb = _decode(images.thumbnail(source, 200))
    assert (thumb.format, thumb.size) == ("PNG", (200, 150))
    assert thumb.getpixel((20, 75)) == (255, 0, 0, 255)
    assert thumb.getpixel((180, 75))[3] == 0  # type: ignore[index]
    avatar = _decode(images.avatar(_encode(palette, "GIF", transparency=0), 64)).convert("RGBA")
    assert avatar.getpixel((5, 32)) == (255, 0, 0, 255)
    assert avatar.getpixel((58, 32))[3] == 0  # type: ignore[index]


def test_a_big_jpeg_is_decoded_small_and_made_upright(images: PillowImageProcessor) -> None:
    # 4000×2000, orientation 6: decoded at 1/4 (draft), rotated after shrinking.
    thumb = _decode(images.thumbnail(_photo_with_exif(4000, 2000, orientation=6), 200))
    assert thumb.size == (100, 200)
    r, _, b = thumb.convert("RGB").getpixel((50, 20))  # type: ignore[misc]
    assert r > 200 and b < 60  # the red half is now on top


def test_at_most_max_decodes_images_are_decoded_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import adapters.images_pillow as module

    release = threading.Event()
    lock = threading.Lock()
    inside = {"now": 0, "most": 0, "entered": 0}
    shrink = module._reduced

    def held_shrink(image: Image.Image, factor: int) -> Image.Image:
        with lock:
            inside["now"] += 1
            inside["entered"] += 1
            inside["most"] = max(inside["most"], inside["now"])
        release.wait(30)
        try:
            return shrink(image, factor)
        finally:
            with lock:
                inside["now"] -= 1

    monkeypatch.setattr(module, "_reduced", held_shrink)
    images = PillowImageProcessor(max_decodes=2)
    data = _encode(Image.new("RGB", (64, 64), "red"), "PNG").getvalue()
    results: list[bytes] = []

    def make_thumbnail() -> None:
        results.append(b"".join(images.thumbnail(io.BytesIO(data), 32)))

    threads = [threading.Thread(target=make_thumbnail) for _ in range(5)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while inside["entered"] < 2:
        assert time.monotonic() < deadline, "no decode started"
        time.sleep(0.01)
    # Three more are waiting; without the bound they would be inside by now.
    time.sleep(0.3)
    assert inside["entered"] == 2
    release.set()
    for thread in threads:
        thread.join(30)
    assert inside["most"] == 2 and len(results) == 5
