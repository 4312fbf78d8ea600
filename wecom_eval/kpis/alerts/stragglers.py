"""``registration_stragglers`` alerts: counts of employees not registered after the grace days.

Counts only, per visible department and company-wide; the names are in the restricted
:func:`wecom_eval.kpis.registration.stragglers` list, never in an alert.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from wecom_eval import privacy
from wecom_eval.kpis._base import COMPANY, Context
from wecom_eval.kpis.alerts._rows import MESSAGES, Language, alert


def straggler_alerts(ctx: Context, *, day: dt.date, grace_days: int, language: Language) -> list[dict[str, Any]]:
    """The company's count of stragglers on ``day`` and each visible department's."""
    from wecom_eval.kpis.coverage import has_member_source
    from wecom_eval.kpis.registration import registration_raw, stragglers

    plan = ctx.plan
    late = stragglers(ctx.con, plan, data_through=day, grace_days=grace_days)
    if not len(late) or not has_member_source(ctx):  # without members registration is not measured: no alert
        return []
    reg_now = privacy.suppress(
        registration_raw(ctx, data_through=[day], by="department"),
        size="employees",
        by=["department_id"],
        within=["data_through"],
        keep=["department"],
        min_group_size=privacy.floor(plan),
    )
    visible_ids = set(reg_now.loc[~reg_now["suppressed"], "department_id"].astype(int))
    template = MESSAGES[language]["registration_stragglers"]
    space = "" if language == "en" else " "
    rows = [
        alert(
            "registration_stragglers",
            "medium",
            "company",
            None,
            COMPANY,
            kpi="registration",
            count=len(late),
            message=template.format(group=COMPANY + space, count=len(late), grace=grace_days),
        )
    ]
    counts = late.groupby(["department_id", "department"], as_index=False).size()
    for dep_id, dep, n in zip(counts["department_id"], counts["department"], counts["size"], strict=True):
        if int(dep_id) in visible_ids:
            rows.append(
                alert(
                    "registration_stragglers",
                    "medium",
                    "department",
                    int(dep_id),
                    str(dep),
                    kpi="registration",
                    count=int(n),
                    message=template.format(group=str(dep) + space, count=int(n), grace=grace_days),
                )
            )
    return rows


__all__ = ["straggler_alerts"]
