"""--image and --file parts: files, URLs, figures, PIL images and bytes; one-line errors."""

import base64
import io
import os
import subprocess
import sys
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")  # before pyplot: no display in tests

import matplotlib.pyplot as plt
from PIL import Image

from agcloud_magic.engine.attachments import (
    MAX_IMAGE_SIDE,
    AttachmentError,
    file_part,
    image_part,
    sniff_image_type,
)
from agcloud_magic.errors import ConfigError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def decode(url: str) -> tuple[str, bytes]:
    """Split a data URL into its MIME type and decoded bytes."""
    header, payload = url.split(",", 1)
    assert header.startswith("data:") and header.endswith(";base64")
    return header[5:-7], base64.b64decode(payload, validate=True)


def encoded(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.fixture
def png_bytes():
    return encoded(Image.new("RGB", (30, 20), "red"), "PNG")


@pytest.fixture
def jpeg_bytes():
    return encoded(Image.new("RGB", (30, 20), "blue"), "JPEG")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def one_line_error(fn, *args, **kwargs) -> str:
    with pytest.raises(AttachmentError) as info:
        fn(*args, **kwargs)
    assert isinstance(info.value, ConfigError)
    text = str(info.value)
    assert "\n" not in text and text
    return text


# --------------------------------------------------------------------------- images


def test_image_from_file_round_trips(tmp_path, png_bytes):
    path = tmp_path / "plot.png"
    path.write_bytes(png_bytes)
    for source in (str(path), path):
        part = image_part(source)
        assert part["type"] == "input_image" and part["detail"] == "auto"
        assert decode(part["image_url"]) == ("image/png", png_bytes)


def test_image_home_expansion(tmp_path, monkeypatch, jpeg_bytes):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "photo.jpg").write_bytes(jpeg_bytes)
    part = image_part("~/photo.jpg", detail="low")
    assert decode(part["image_url"]) == ("image/jpeg", jpeg_bytes)
    assert part["detail"] == "low"


def test_image_type_from_magic_bytes_then_extension(tmp_path, jpeg_bytes):
    lying = tmp_path / "really_a_jpeg.png"
    lying.write_bytes(jpeg_bytes)
    assert decode(image_part(lying)["image_url"])[0] == "image/jpeg"
    unknown = tmp_path / "odd.webp"
    unknown.write_bytes(b"not sniffable")
    assert decode(image_part(unknown)["image_url"]) == ("image/webp", b"not sniffable")


def test_sniffing():
    assert sniff_image_type(b"GIF89a....") == "image/gif"
    assert sniff_image_type(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert sniff_image_type(b"RIFF\x00\x00\x00\x00WAVEfmt ") is None
    assert sniff_image_type(b"") is None


def test_image_url_passes_through():
    url = "https://example.org/cat.png?size=big"
    assert image_part(url, detail="HIGH") == {
        "type": "input_image",
        "image_url": url,
        "detail": "high",
    }
    data = "data:image/png;base64,AAAA"
    assert image_part(data)["image_url"] == data


def test_matplotlib_figure_by_name_and_object():
    fig, ax = plt.subplots(figsize=(4, 3), dpi=100)
    ax.plot([1, 3, 2])
    for part in (image_part("fig", namespace={"fig": fig}), image_part(fig), image_part(ax)):
        mime, data = decode(part["image_url"])
        assert mime == "image/png" and data.startswith(PNG_SIGNATURE)
        assert Image.open(io.BytesIO(data)).size == (400, 300)


def test_big_figure_is_downscaled():
    fig = plt.figure(figsize=(40, 12), dpi=150)  # 6000 x 1800 pixels at its own dpi
    fig.add_subplot().plot([0, 1])
    _, data = decode(image_part(fig)["image_url"])
    width, height = Image.open(io.BytesIO(data)).size
    assert max(width, height) <= MAX_IMAGE_SIDE and width > 2000
    assert fig.dpi == 150  # the user's figure is left as it was


def test_pil_images(png_bytes):
    small = Image.new("RGBA", (64, 32), (0, 255, 0, 128))
    mime, data = decode(image_part("img", namespace={"img": small})["image_url"])
    assert mime == "image/png"
    back = Image.open(io.BytesIO(data))
    assert back.size == (64, 32) and back.mode == "RGBA"
    assert back.getpixel((0, 0)) == (0, 255, 0, 128)
    # An image opened from a file (a PIL subclass) and a mode PNG cannot hold.
    opened = Image.open(io.BytesIO(png_bytes))
    assert decode(image_part(opened)["image_url"])[0] == "image/png"
    cmyk = Image.new("CMYK", (8, 8))
    assert Image.open(io.BytesIO(decode(image_part(cmyk)["image_url"])[1])).mode == "RGB"


def test_huge_pil_image_is_downscaled():
    huge = Image.new("RGB", (5000, 1250), "white")
    _, data = decode(image_part(huge)["image_url"])
    assert Image.open(io.BytesIO(data)).size == (2048, 512)
    assert huge.size == (5000, 1250)  # not shrunk in place


def test_raw_image_bytes(png_bytes, jpeg_bytes):
    namespace = {"p": png_bytes, "j": bytearray(jpeg_bytes), "m": memoryview(png_bytes)}
    assert decode(image_part("p", namespace=namespace)["image_url"]) == ("image/png", png_bytes)
    assert decode(image_part("j", namespace=namespace)["image_url"]) == ("image/jpeg", jpeg_bytes)
    assert decode(image_part("m", namespace=namespace)["image_url"]) == ("image/png", png_bytes)
    assert decode(image_part(jpeg_bytes)["image_url"]) == ("image/jpeg", jpeg_bytes)


def test_variable_holding_a_path(tmp_path, png_bytes):
    path = tmp_path / "a.png"
    path.write_bytes(png_bytes)
    part = image_part("chart", namespace={"chart": str(path)})
    assert decode(part["image_url"]) == ("image/png", png_bytes)


def test_no_heavy_imports():
    # Loading the module and sending bytes or URLs must not import matplotlib or PIL.
    code = (
        "import sys; from agcloud_magic.engine.attachments import image_part;"
        "image_part('https://x/y.png'); image_part(b'GIF89a' + bytes(10));"
        "print('matplotlib' in sys.modules, 'PIL' in sys.modules)"
    )
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.split() == ["False", "False"]


# --------------------------------------------------------------------------- image errors


def test_image_errors(tmp_path, png_bytes, monkeypatch):
    missing = tmp_path / "nope.png"
    assert one_line_error(image_part, str(missing)) == (
        f"--image {str(missing)!r}: no such file; check the path"
    )
    monkeypatch.chdir(tmp_path)
    text = one_line_error(image_part, "fig", namespace={})
    assert "no such file" in text and "no variable 'fig' in the notebook" in text
    assert "relative to" in text
    assert "is a directory" in one_line_error(image_part, str(tmp_path))
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    text = one_line_error(image_part, str(notes))
    assert "TXT is not an image type that can be sent" in text and "PNG, JPEG, GIF or WEBP" in text
    svg = tmp_path / "logo.svg"
    svg.write_text("<svg/>")
    assert "SVG is not an image type" in one_line_error(image_part, str(svg))
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    assert "the file is empty" in one_line_error(image_part, str(empty))
    big = tmp_path / "big.png"
    big.write_bytes(png_bytes + bytes(3 * 1024 * 1024))
    text = one_line_error(image_part, str(big), max_bytes=1024 * 1024)
    assert "3.0 MB is over the 1.0 MB limit" in text and "smaller" in text
    text = one_line_error(image_part, "x", namespace={"x": {"a": 1}})
    assert text == (
        "--image 'x': the variable holds a dict, not an image; use a file path, an http(s) URL, "
        "a matplotlib figure, a PIL image or image bytes"
    )
    assert "not a PNG, JPEG, GIF or WEBP image" in one_line_error(
        image_part, "b", namespace={"b": b"plain text"}
    )
    text = one_line_error(image_part, "https://x/y.png", detail="medium")
    assert text == "--detail 'medium' is not one of low, high, auto"
    assert "a data: URL must hold an image" in one_line_error(image_part, "data:text/plain,hi")
    huge = Image.new("RGB", (64, 64))
    assert "over the" in one_line_error(image_part, huge, max_bytes=10)


def test_unreadable_file(tmp_path, png_bytes, monkeypatch):
    path = tmp_path / "secret.png"
    path.write_bytes(png_bytes)

    def denied(self, *args, **kwargs):  # root may read anything: refuse at open instead
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", denied)
    text = one_line_error(image_part, str(path))
    assert "permission denied" in text and "permissions" in text
    text = one_line_error(file_part, str(path))
    assert "permission denied" in text


# --------------------------------------------------------------------------- files


def test_file_url():
    url = "https://example.org/report.pdf"
    assert file_part(url) == {"type": "input_file", "file_url": url}


@pytest.mark.parametrize(
    ("name", "mime"),
    [
        ("report.pdf", "application/pdf"),
        ("table.csv", "text/csv"),
        ("notes.TXT", "text/plain"),
        ("data.json", "application/json"),
        ("README.md", "text/markdown"),
        (
            "letter.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("blob.unknownext", "application/octet-stream"),
    ],
)
def test_local_file_round_trips(tmp_path, name, mime):
    content = b"%PDF-1.4 fake \x00\xff content for " + name.encode()
    path = tmp_path / name
    path.write_bytes(content)
    part = file_part(str(path))
    assert part["type"] == "input_file" and part["filename"] == name
    assert set(part) == {"type", "filename", "file_data"}
    assert decode(part["file_data"]) == (mime, content)


def test_file_from_namespace(tmp_path):
    data = b"a,b\n1,2\n"
    part = file_part("upload", namespace={"upload": ("sales.csv", data)})
    assert part["filename"] == "sales.csv" and decode(part["file_data"]) == ("text/csv", data)
    assert file_part(("dir/x.json", bytearray(b"{}")))["filename"] == "x.json"
    path = tmp_path / "r.pdf"
    path.write_bytes(b"%PDF")
    part = file_part("report", namespace={"report": path})
    assert decode(part["file_data"]) == ("application/pdf", b"%PDF")


def test_file_errors(tmp_path):
    missing = tmp_path / "gone.pdf"
    assert "no such file" in one_line_error(file_part, str(missing))
    assert "is a directory" in one_line_error(file_part, tmp_path)
    big = tmp_path / "big.csv"
    big.write_bytes(bytes(2 * 1024 * 1024))
    assert "2.0 MB is over the 1.0 MB limit" in one_line_error(
        file_part, str(big), max_bytes=1024 * 1024
    )
    text = one_line_error(file_part, "raw", namespace={"raw": b"data"})
    assert "bytes need a file name" in text and "(filename, bytes)" in text
    text = one_line_error(file_part, "n", namespace={"n": 42})
    assert text == (
        "--file 'n': the variable holds a int; use a file path, an http(s) URL or a "
        "(filename, bytes) tuple"
    )
    text = one_line_error(file_part, ("a.bin", bytes(100)), max_bytes=10)
    assert "over the" in text
