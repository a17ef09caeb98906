"""The README shows what the course looks like before anything else, and where to get help."""
import re
import struct
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_pictures_of_an_explorer_and_of_check_come_first_with_alt_text():
    before_setup = README.split("## Two commands")[0]
    images = re.findall(r"!\[([^\]]+)\]\(([^)]+)\)", before_setup)
    assert [path for _alt, path in images] == ["docs/images/explorer.png", "docs/images/check-feedback.png"]
    for alt, path in images:
        assert len(alt.split()) >= 12, f"{path}: the alt text should describe the picture"
        data = (ROOT / path).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
        width, height = struct.unpack(">II", data[16:24])
        assert width >= 400 and height >= 100, f"{path} is only {width}x{height} px"


def test_if_something_goes_wrong_points_at_lossbook_doctor():
    section = README.split("### If something goes wrong")[1].split("\n## ")[0]
    assert "lossbook doctor" in section and ".lossbook-lab.log" in section


def test_the_fast_test_lane_is_suggested():
    assert 'pytest -m "not slow"' in README and "make test" in README
