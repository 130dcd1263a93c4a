"""Scale data of the customer satisfaction surveys (`manage.py seed_scale`): about 20,000
answered surveys (``sizes["surveys"]``, else a tenth of ``sizes["customers"]``) over the last
36 months, and one in nine more sent and never answered, so that the scorecards (answered
surveys by owner and answer date) and the survey list have data at scale.

Consistent with the services, as far as generated data can be: a survey follows a completed
contract (its completion) or a service visit (its start) of the scale data, two hours later,
at most one per contract or visit; it goes to the customer's primary contact with an e-mail,
else the customer's e-mail (a customer with neither gets none); it belongs to the customer's
owner, else the contract's / the visit's rep; it expires after the link days; an answer comes
within five days of sending (never after the load's `now`). The scores lean to 4–5, the
likelihood to recommend follows the score. The tokens are not kept (nobody answers a scale
survey's link): each hash is the SHA-256 of a string of the seed and the row. The low scores
have no follow-up visit plan (the visits loader owns the plans).

Every value comes from ``ctx.rng("incentives.surveys")``; the candidates are read ordered by
kind and id, so the same seed and `now` give the same rows.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.db import connection

from apps.core.scale import ScaleContext

from .choices import SurveyStatus, SurveyTrigger
from .models import SatisfactionSurvey
from .surveys import link_days

COLUMNS = [
    "id", "customer_id", "contact_id", "email", "owner_id", "trigger", "contract_id",
    "visit_record_id", "token_hash", "status", "sent_at", "expires_at", "answered_at", "score",
    "nps", "comment", "follow_up_plan_id", "created_at", "updated_at",
]  # fmt: skip
MONTHS = 36
UNANSWERED_SHARE = 1 / 9
SCORES = [1, 2, 3, 4, 5]
SCORE_WEIGHTS = [3, 6, 16, 40, 35]
# Likelihood to recommend per score (the low end of a range, its width).
NPS_RANGE = {1: (0, 4), 2: (0, 6), 3: (4, 5), 4: (6, 5), 5: (8, 3)}
COMMENTS = {
    1: ["交货严重延误，非常不满意", "质量问题反复出现，售后推诿"],
    2: ["售后响应太慢", "发票和对账经常出错", "价格偏高，服务跟不上"],
    3: ["一般，还有改进空间", "交期不太稳定", ""],
    4: ["整体满意", "技术支持不错", "", ""],
    5: ["非常满意，会继续合作", "工程师专业，响应及时", "", "", ""],
}

_CANDIDATES = """
    WITH recipient AS (
        SELECT cu.id AS customer_id, cu.owner_id, pc.id AS contact_id,
               COALESCE(pc.email, NULLIF(cu.email, '')) AS email
          FROM customers_customer cu
          LEFT JOIN (
                SELECT DISTINCT ON (c.customer_id) c.customer_id, c.id, c.email
                  FROM customers_contact c
                 WHERE c.is_primary AND c.email <> ''
                 ORDER BY c.customer_id, c.id
          ) pc ON pc.customer_id = cu.id
    )
    SELECT 'c' AS kind, c.id, c.customer_id, COALESCE(r.owner_id, c.owner_id), r.contact_id,
           r.email, c.completed_at AS at
      FROM contracts_contract c
      JOIN recipient r ON r.customer_id = c.customer_id
     WHERE c.status = 'completed' AND c.completed_at >= %(since)s AND c.completed_at < %(now)s
       AND r.email IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM incentives_satisfactionsurvey s WHERE s.contract_id = c.id)
     UNION ALL
    SELECT 'v', v.id, v.customer_id, COALESCE(r.owner_id, v.owner_id), r.contact_id, r.email,
           v.started_at
      FROM visits_visitrecord v
      JOIN recipient r ON r.customer_id = v.customer_id
     WHERE v.purpose = 'service' AND v.started_at >= %(since)s AND v.started_at < %(now)s
       AND r.email IS NOT NULL
       AND NOT EXISTS (
            SELECT 1 FROM incentives_satisfactionsurvey s WHERE s.visit_record_id = v.id
       )
     ORDER BY 1, 2
"""


def load(ctx: ScaleContext) -> None:
    answered_count = ctx.sizes.get("surveys") or max(100, ctx.sizes.get("customers", 0) // 10)
    total = answered_count + int(answered_count * UNANSWERED_SHARE)
    rng = ctx.rng("incentives.surveys")
    now = ctx.now
    with connection.cursor() as cursor:
        cursor.execute(_CANDIDATES, {"since": now - timedelta(days=MONTHS * 30 + 18), "now": now})
        candidates = cursor.fetchall()
    if not candidates:
        ctx.log("  incentives_satisfactionsurvey: no completed contract or service visit")
        return
    chosen = rng.sample(candidates, min(total, len(candidates)))
    chosen.sort(key=lambda c: (c[6], c[0], c[1]))
    unanswered = set(rng.sample(range(len(chosen)), min(len(chosen), total - answered_count)))
    ids = ctx.reserve_ids(SatisfactionSurvey, len(chosen))
    days = link_days()
    rows = []
    for index, (pk, (kind, doc_id, customer_id, owner_id, contact_id, email, at)) in enumerate(
        zip(ids, chosen, strict=True)
    ):
        sent_at = at + timedelta(hours=2)
        expires_at = sent_at + timedelta(days=days)
        answered_at = score = nps = None
        comment = ""
        if index not in unanswered:
            answered_at = sent_at + timedelta(minutes=rng.randrange(20, 5 * 24 * 60))
            if answered_at >= now:
                answered_at = None
        if answered_at is not None:
            score = rng.choices(SCORES, SCORE_WEIGHTS)[0]
            low, width = NPS_RANGE[score]
            nps = low + rng.randrange(width) if rng.random() < 0.8 else None
            comment = rng.choice(COMMENTS[score])
        token = hashlib.sha256(f"scale-survey:{ctx.seed}:{pk}".encode()).hexdigest()
        updated = answered_at or sent_at
        rows.append([
            pk, customer_id, contact_id, email, owner_id,
            SurveyTrigger.CONTRACT_COMPLETED if kind == "c" else SurveyTrigger.SERVICE_VISIT,
            doc_id if kind == "c" else None, doc_id if kind == "v" else None, token,
            SurveyStatus.ANSWERED if answered_at else SurveyStatus.SENT, sent_at, expires_at,
            answered_at, score, nps, comment, None, sent_at, updated,
        ])  # fmt: skip
    ctx.copy(SatisfactionSurvey, COLUMNS, rows, expected=len(rows))
