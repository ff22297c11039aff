"""Rebuild the default sticker pack from Microsoft's Fluent Emoji (3D), MIT licensed.

    npm install                  # installs @lobehub/fluent-emoji-3d, pinned in package.json
    npm run build:stickers       # or: .venv/bin/python scripts/build_stickers.py

The npm package ships each emoji as a 256 px WebP named by its code points
(``assets/1f602.webp``). This script picks the emoji listed below, scales each to a
160 px PNG with Pillow (no metadata is written) and replaces
``entrypoints/stickers/default/NN_name.png``, with the licence and the attribution the
MIT licence asks for beside them. The PNGs are committed, so running the messenger
needs no Node; only changing the pack does. Why not OpenMoji or Twemoji: their npm
packages ship SVG only, which Pillow (and so the server's image checks) cannot read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "@lobehub/fluent-emoji-3d"
PACKAGE_DIR = ROOT / "node_modules" / PACKAGE
OUT_DIR = ROOT / "entrypoints" / "stickers" / "default"
SIDE = 160

# (code points as in the package's file names, sticker name); the order is the pack's.
STICKERS: tuple[tuple[str, str], ...] = (
    ("1f603", "grinning"),
    ("1f602", "tears_of_joy"),
    ("1f923", "rolling_on_the_floor"),
    ("1f60d", "heart_eyes"),
    ("1f618", "blowing_a_kiss"),
    ("1f970", "in_love"),
    ("1f609", "wink"),
    ("1f60e", "cool"),
    ("1f973", "party"),
    ("1f929", "star_struck"),
    ("1f917", "hug"),
    ("1f914", "thinking"),
    ("1f9d0", "monocle"),
    ("1f92a", "zany"),
    ("1f643", "upside_down"),
    ("1f644", "eye_roll"),
    ("1f92d", "oops"),
    ("1f92b", "shush"),
    ("1f634", "sleeping"),
    ("1f622", "crying"),
    ("1f62d", "sobbing"),
    ("1f97a", "pleading"),
    ("1f621", "angry"),
    ("1f92c", "swearing"),
    ("1f631", "scream"),
    ("1f92f", "mind_blown"),
    ("1f648", "see_no_evil"),
    ("1f44d", "thumbs_up"),
    ("1f44f", "clap"),
    ("1f44b", "wave"),
    ("2764-fe0f", "heart"),
    ("1f525", "fire"),
)

LICENSE = """\
The stickers in this folder are Fluent Emoji by Microsoft, from the npm package
{package} {version} (LobeHub's packaging of Microsoft's Fluent Emoji 3D),
scaled to {side} px. Both are released under the MIT License:

MIT License

Copyright (c) Microsoft Corporation.
Copyright (c) 2023 LobeHub

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""

ATTRIBUTION = """\
# Attribution

The default sticker pack ("Эмоции") is made of **Fluent Emoji** by Microsoft
(https://github.com/microsoft/fluentui-emoji), as packaged for npm by LobeHub in
`{package}` {version} (https://github.com/lobehub/fluent-emoji), under the MIT License;
see `LICENSE.txt` beside this file.

Changes: each 256 px WebP was scaled to a {side} px PNG. Rebuild with
`npm run build:stickers` (see `../README.md`).

| file | emoji | code points |
| --- | --- | --- |
{rows}
"""


def installed_version(package_dir: Path) -> str:
    """The version of the installed package; exits when it is missing or not the one
    package.json pins (a different version could draw different pictures)."""
    manifest = package_dir / "package.json"
    if not manifest.is_file():
        sys.exit(f"{package_dir} is missing: run `npm install` first")
    version = str(json.loads(manifest.read_text())["version"])
    pinned = json.loads((ROOT / "package.json").read_text()).get("devDependencies", {}).get(PACKAGE)
    if pinned is not None and pinned != version:
        sys.exit(f"{PACKAGE} {version} is installed but package.json pins {pinned}: run `npm install`")
    return version


def sticker(source: Path, side: int) -> Image.Image:
    """The emoji as an RGBA image of ``side`` px, drawn into a fresh image (no metadata)."""
    with Image.open(source) as image:
        image.load()
        scaled = image.convert("RGBA").resize((side, side), Image.Resampling.LANCZOS)
    clean = Image.new("RGBA", scaled.size)
    clean.paste(scaled)
    return clean


def build(package_dir: Path, out_dir: Path, side: int = SIDE) -> list[Path]:
    """Write the pack into ``out_dir``, replacing the PNGs of an earlier build."""
    version = installed_version(package_dir)
    sources = [(package_dir / "assets" / f"{code}.webp", code, name) for code, name in STICKERS]
    missing = [str(path) for path, _, _ in sources if not path.is_file()]
    if missing:
        sys.exit("missing in the package: " + ", ".join(missing))
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("[0-9][0-9]_*.png"):
        old.unlink()
    written = []
    rows = []
    for number, (source, code, name) in enumerate(sources, start=1):
        target = out_dir / f"{number:02d}_{name}.png"
        sticker(source, side).save(target, "PNG", optimize=True)
        written.append(target)
        emoji = "".join(chr(int(point, 16)) for point in code.split("-"))
        rows.append(f"| `{target.name}` | {emoji} | {code.upper().replace('-', ' ')} |")
    details = {"package": PACKAGE, "version": version, "side": side}
    (out_dir / "LICENSE.txt").write_text(LICENSE.format(**details))
    (out_dir / "ATTRIBUTION.md").write_text(ATTRIBUTION.format(rows="\n".join(rows), **details))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--package-dir", type=Path, default=PACKAGE_DIR, help=f"where {PACKAGE} is installed")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="the sticker folder to (re)write")
    args = parser.parse_args(argv)
    written = build(args.package_dir, args.out)
    total = sum(p.stat().st_size for p in written)
    print(f"wrote {len(written)} stickers ({total // 1024} KiB) and their licence to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
