import pathlib
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

# Op tests that are known to fail are listed, one node id a line, in known_failures.txt: they run and are
# reported as xfail, so a fix shows up as XPASS and the list can shrink.
_KNOWN = {l.strip() for l in (HERE / "known_failures.txt").read_text().splitlines()
          if l.strip() and not l.startswith("#")}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.nodeid in _KNOWN:
            item.add_marker(pytest.mark.xfail(reason="listed in tests/python/known_failures.txt", strict=False))
