"""Pages of the customer satisfaction surveys (客户满意度).

- In the app (login): the list of the surveys in the viewer's scope with its filters, the
  average satisfaction and the NPS of the filtered set, a page at a time or as an Excel file
  (``?format=xlsx``); one survey.
- Public (``/survey/<token>/``, no login): the customer's answer page. zh-Hans unless the
  visitor chose another language with the page's switch (the language cookie); an unknown
  token is a 404, an expired link a 410 page, an answered survey a "thank you" page; the
  answer is one-time (see `surveys.survey_answer`). CSRF protection stays on. The page shows
  the seller, the customer, the rep and what the survey is about, never an amount.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from apps.accounts.selectors import seller_name
from apps.leads import exports as xlsx

from . import selectors_surveys as selectors
from . import surveys
from .choices import SurveyTrigger
from .forms_surveys import SurveyAnswerForm, SurveyFilterForm
from .models import SatisfactionSurvey

PER_PAGE = 50
MAX_EXPORT_ROWS = 50_000


def _htmx_partial(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False)) and not request.htmx.history_restore_request


def _filters_text(form: SurveyFilterForm) -> str:
    """The filters row of the Excel file."""
    if not form.is_valid():
        return ""
    data, parts = form.cleaned_data, []
    if data.get("start") or data.get("end"):
        parts.append(
            _("Sent from %(start)s to %(end)s")
            % {"start": data["start"] or "…", "end": data["end"] or "…"}
        )
    for name in ("unit", "rep", "score", "trigger", "answered"):
        value = data.get(name)
        if value not in (None, ""):
            label = dict(form.fields[name].choices).get(value, value)
            parts.append(f"{form.fields[name].label}: {label}")
    return " · ".join(str(p) for p in parts) or _("All the surveys you may see")


def _workbook(qs, stats: selectors.SurveyStats, filters: str) -> bytes:
    """The filtered surveys, one row each (at most `MAX_EXPORT_ROWS`), and the figures."""
    rows = []
    for s in qs[:MAX_EXPORT_ROWS]:
        rows.append([
            timezone.localtime(s.sent_at).strftime("%Y-%m-%d %H:%M"),
            s.customer.name,
            s.contact.name if s.contact else "",
            s.email,
            s.owner.display_name,
            s.owner.org_unit.name if s.owner.org_unit else "",
            s.get_trigger_display(),
            s.contract.number if s.contract else "",
            s.get_status_display(),
            timezone.localtime(s.answered_at).strftime("%Y-%m-%d %H:%M") if s.answered_at else "",
            s.score,
            s.nps,
            s.comment,
        ])  # fmt: skip
    surveys_sheet = xlsx.Sheet(
        _("Surveys"), _("Customer satisfaction surveys"), filters,
        [
            xlsx.Column(_("Sent at")), xlsx.Column(_("Customer")), xlsx.Column(_("Contact")),
            xlsx.Column(_("Sent to")), xlsx.Column(_("Rep")), xlsx.Column(_("Team")),
            xlsx.Column(_("Sent after")), xlsx.Column(_("Contract")), xlsx.Column(_("Status")),
            xlsx.Column(_("Answered at")), xlsx.Column(_("Satisfaction (1–5)"), "count"),
            xlsx.Column(_("Likelihood to recommend (0–10)"), "count"),
            xlsx.Column(pgettext("survey", "Comment")),
        ],
        rows,
    )  # fmt: skip
    figures = xlsx.Sheet(
        _("Figures"), _("Customer satisfaction"), filters,
        [xlsx.Column(_("Figure")), xlsx.Column(_("Value"), "number")],
        [
            [_("Surveys sent"), stats.sent],
            [_("Answered"), stats.answered],
            [_("Response rate (%)"), stats.response_rate],
            [_("Average satisfaction (1–5)"), stats.average],
            [_("Promoters (9–10)"), stats.promoters],
            [_("Passives (7–8)"), stats.passives],
            [_("Detractors (0–6)"), stats.detractors],
            [_("NPS"), stats.nps],
        ],
    )  # fmt: skip
    return xlsx.workbook([figures, surveys_sheet])


@login_required
@require_GET
def survey_list(request: HttpRequest) -> HttpResponse:
    """The surveys in the viewer's scope, newest first, filtered; their figures above the
    table (the same selector as the Excel file and the API)."""
    form = SurveyFilterForm(request.GET or None, user=request.user)
    valid = form.is_valid() if request.GET else True
    filters = form.filters() if valid and request.GET else selectors.SurveyFilters()
    qs = selectors.survey_list(user=request.user, filters=filters)
    stats = selectors.survey_stats(qs)
    if valid and request.GET.get("format") == "xlsx":
        today = timezone.localdate()
        name = xlsx.filename(
            "satisfaction", filters.start or today, filters.end or today,
            filters.unit.pk if filters.unit else None, filters.rep,
        )  # fmt: skip
        return xlsx.xlsx_response(_workbook(qs, stats, _filters_text(form)), name)
    try:
        number = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        number = 1
    pages = max(1, -(-stats.sent // PER_PAGE))
    number = min(number, pages)
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    context = {
        "form": form,
        "stats": stats,
        "surveys": list(qs[(number - 1) * PER_PAGE : number * PER_PAGE]),
        "page_number": number,
        "pages": pages,
        "query": query.urlencode(),
        "triggers": SurveyTrigger.choices,
        "heads": bool(form.unit_objects) or bool(form.rep_objects),
    }
    partial = _htmx_partial(request)
    template = f"incentives/surveys/{'_results' if partial else 'list'}.html"
    response = render(request, template, context, status=200 if valid else 400)
    patch_vary_headers(response, ("HX-Request",))
    return response


@login_required
@require_GET
def survey_detail(request: HttpRequest, pk: int) -> HttpResponse:
    survey = selectors.survey_get(user=request.user, pk=pk)
    context = {
        "survey": survey,
        "about": surveys.about(survey),
        "low": survey.score is not None and surveys.is_low_score(survey.score, survey.nps),
        "expired": survey.answered_at is None and surveys.is_expired(survey),
    }
    return render(request, "incentives/surveys/detail.html", context)


# --- the public page ------------------------------------------------------------------------


def _public_language(request: HttpRequest) -> None:
    """zh-Hans, unless the visitor chose a language with the page's switch (the cookie);
    the browser's Accept-Language is not followed (the company's customers read Chinese)."""
    code = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    if code not in dict(settings.LANGUAGES):
        code = settings.LANGUAGE_CODE
    translation.activate(code)
    request.LANGUAGE_CODE = translation.get_language()


def _public(survey: SatisfactionSurvey, **extra) -> dict:
    return {
        "survey": survey,
        "seller": seller_name(),
        "about": surveys.about(survey),
        **extra,
    }


@never_cache
@require_http_methods(["GET", "POST"])
def survey_answer(request: HttpRequest, token: str) -> HttpResponse:
    """The customer's answer page (no login)."""
    _public_language(request)
    survey = selectors.public_survey(token)  # 404 for an unknown token
    done = "incentives/surveys/public_done.html"
    expired = "incentives/surveys/public_expired.html"
    if survey.status == "answered":
        return render(request, done, _public(survey, already=True))
    if surveys.is_expired(survey):
        return render(request, expired, _public(survey), status=410)
    form = SurveyAnswerForm(request.POST or None)
    page = "incentives/surveys/public.html"
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            survey = surveys.survey_answer(
                token=token, score=data["score"], nps=data["nps"], comment=data["comment"]
            )
        except surveys.SurveyAnswered:
            return render(request, done, _public(survey, already=True))
        except surveys.SurveyExpired:
            return render(request, expired, _public(survey), status=410)
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            return render(request, done, _public(survey, already=False))
    status = 400 if request.method == "POST" else 200
    return render(request, page, _public(survey, form=form), status=status)
