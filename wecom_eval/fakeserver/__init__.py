"""A faithful fake WeCom server for tests, benchmarks and the offline demo.

>>> from wecom_eval.fakeserver import FakeWecom  # doctest: +SKIP
>>> with FakeWecom(demo_org, faults="busy=0.1") as server:  # doctest: +SKIP
...     server.base_url
"""

from __future__ import annotations

import typing

from wecom_eval import _lazy

if typing.TYPE_CHECKING:
    from wecom_eval.fakeserver.faults import Faults
    from wecom_eval.fakeserver.org import FakeOrg
    from wecom_eval.fakeserver.server import FakeWecom

# loaded on first use: building the command line imports no server
__getattr__ = _lazy.lazy_exports(
    __name__,
    {"faults": ("Faults",), "org": ("FakeOrg",), "server": ("FakeWecom",)},
    globals(),
)

__all__ = ["FakeOrg", "FakeWecom", "Faults"]
