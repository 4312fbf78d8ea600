"""Who the workbook is to WeCom: the corp id, one secret per app, and the API's base URL.

Everything comes from the environment, or from a local ``.env`` file for the values the
environment does not set (the environment wins). Nothing here is ever printed: the
secrets are registered with :mod:`wecom_eval.wecom.redact` as soon as they are read.

Apps (``WECOM_SECRET_<APP>``)
-----------------------------
Each WeCom app has its own secret and each secret its own access token, valid only for
that app's permissions (reference §1.1). One self-built app may hold several of the
permissions below; then put the same secret in several variables.

==========  =========================================================================
CONTACTS    department/list, department/simplelist, user/list (activation status),
            user/list_id and user/get_active_stat. The 通讯录同步 (contact-sync)
            secret; list_id and get_active_stat accept no other.
APPROVAL    oa/getapprovalinfo, oa/getapprovaldetail (审批 app, or an app granted
            审批数据权限).
CHECKIN     checkin/getcheckindata, checkin/getcheckin_daydata (an app listed under
            打卡 → 可调用接口的应用).
CUSTOMER    externalcontact/* (客户联系 secret, or an app in 客户联系 → 可调用应用).
SECURITY    security/member_oper_log/list (an app in 使用分析 → 可调用接口应用).
==========  =========================================================================
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from wecom_eval.errors import InputError, Problem
from wecom_eval.wecom.redact import register_secret

ENV_CORP_ID = "WECOM_CORP_ID"
ENV_BASE = "WECOM_API_BASE"
SECRET_PREFIX = "WECOM_SECRET_"
DEFAULT_BASE = "https://qyapi.weixin.qq.com"  # reference §1: all paths under /cgi-bin/


@dataclass(frozen=True)
class App:
    """A WeCom app whose secret the workbook uses, and where its permissions are granted."""

    name: str
    title: str
    grant: str  # where in the admin console the permission lives (for error messages)

    @property
    def env(self) -> str:
        return SECRET_PREFIX + self.name


APPS: dict[str, App] = {
    a.name: a
    for a in (
        App(
            "CONTACTS",
            "通讯录同步 (contact sync)",
            "管理工具 → 通讯录同步: copy its Secret (user/list_id and user/get_active_stat accept only "
            "this secret); department/list and user/list also work for a self-built app whose "
            "可见范围 is the whole company",
        ),
        App(
            "APPROVAL",
            "审批 (approvals)",
            "应用管理 → 审批 → API → 审批数据权限: add the app whose secret you use, or use the 审批 app's own Secret",
        ),
        App(
            "CHECKIN",
            "打卡 (attendance)",
            "应用管理 → 打卡 → API → 可调用接口的应用: add the self-built app whose secret you use "
            "(since 2023-12-01 new corps cannot use the 打卡 app's own secret)",
        ),
        App(
            "CUSTOMER",
            "客户联系 (customer contact)",
            "客户与上下游 → 客户联系 → API → 可调用接口的应用: add the app, or use the 客户联系 Secret; "
            "the members asked about must be in the app's 可见范围",
        ),
        App(
            "SECURITY",
            "使用分析 (member operation log)",
            "安全与管理 → 使用分析 → 成员操作记录 → API → 可调用接口应用: add the app and grant 获取成员操作记录",
        ),
    )
}

_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


def read_dotenv(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines of a ``.env`` file (``export`` prefix, quotes and ``#`` comments allowed).

    Raises
    ------
    InputError
        For a line that is neither blank, a comment nor ``KEY=VALUE`` (naming the line).
    """
    values: dict[str, str] = {}
    problems: list[Problem] = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8-sig").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            # never echo the line: it may hold a secret
            problems.append(Problem(f"{path}, line {number}", "(not shown)", "KEY=VALUE", "Fix or remove the line."))
            continue
        key, value = match.groups()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        else:
            value = re.sub(r"\s+#.*$", "", value)  # an unquoted value ends at a comment
        values[key] = value
    if problems:
        raise InputError(f"environment file {path}", problems)
    return values


def environment(env_file: Path | None = None, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The process environment over the values of ``env_file`` (when it exists)."""
    merged: dict[str, str] = {}
    if env_file is not None and Path(env_file).is_file():
        merged.update(read_dotenv(Path(env_file)))
    merged.update(os.environ if environ is None else environ)
    return merged


@dataclass(frozen=True, repr=False)
class Credentials:
    """The corp id, the secrets by app name, and the base URL of the API."""

    corp_id: str
    secrets: Mapping[str, str] = field(default_factory=dict)
    base_url: str = DEFAULT_BASE

    def __post_init__(self) -> None:
        register_secret(*self.secrets.values())
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))

    def __repr__(self) -> str:  # never show a secret
        return f"Credentials(corp_id={self.corp_id!r}, apps={sorted(self.secrets)}, base_url={self.base_url!r})"

    @classmethod
    def from_env(cls, *, env_file: Path | None = None, environ: Mapping[str, str] | None = None) -> Credentials:
        """Read ``WECOM_CORP_ID``, every ``WECOM_SECRET_<APP>`` and ``WECOM_API_BASE``.

        Raises
        ------
        InputError
            When ``WECOM_CORP_ID`` is not set (exit 2).
        """
        env = environment(env_file, environ)
        secrets = {k[len(SECRET_PREFIX) :]: v for k, v in env.items() if k.startswith(SECRET_PREFIX) and v}
        register_secret(*secrets.values())
        corp_id = env.get(ENV_CORP_ID, "").strip()
        if not corp_id:
            where = f" or in {env_file}" if env_file else ""
            raise InputError(
                "WeCom credentials",
                [
                    Problem(
                        f"environment variable {ENV_CORP_ID}",
                        None,
                        "your corp id (企业ID, starts with 'ww')",
                        f"Set it in the environment{where}; the admin console shows it under 我的企业 → 企业信息.",
                    )
                ],
            )
        return cls(corp_id, secrets, env.get(ENV_BASE, "").strip() or DEFAULT_BASE)

    def secret(self, app: str) -> str:
        """The secret of ``app``; a clear error names the variable to set."""
        self.require([app])
        return self.secrets[app]

    def require(self, apps: Iterable[str]) -> None:
        """Raise one :class:`InputError` naming every missing ``WECOM_SECRET_<APP>``."""
        problems = []
        for name in dict.fromkeys(apps):
            if self.secrets.get(name):
                continue
            app = APPS.get(name)
            if app is None:
                raise ValueError(f"unknown WeCom app {name!r}; apps are {', '.join(APPS)}")
            problems.append(
                Problem(
                    f"environment variable {app.env}",
                    None,
                    f"the secret of the app for {app.title}",
                    f"Admin console: {app.grant}. Or leave this source out with --sources.",
                )
            )
        if problems:
            raise InputError("WeCom credentials", problems)


__all__ = [
    "APPS",
    "App",
    "Credentials",
    "DEFAULT_BASE",
    "ENV_BASE",
    "ENV_CORP_ID",
    "SECRET_PREFIX",
    "environment",
    "read_dotenv",
]
