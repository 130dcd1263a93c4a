"""A memo page with the approval panel, as a domain app's detail page would have it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.approvals.services import approval_submit
from apps.core.errors import Conflict

from .models import Memo


@login_required
def memo_detail(request, pk: int):
    memo = get_object_or_404(Memo.objects.visible_to(request.user), pk=pk)
    return render(request, "testapp/memo.html", {"memo": memo})


@login_required
@require_POST
def memo_submit(request, pk: int):
    memo = get_object_or_404(Memo.objects.visible_to(request.user), pk=pk)
    try:
        approval_submit(document=memo, by=request.user, comment=request.POST.get("comment", ""))
        messages.success(request, "Submitted")
    except (Conflict, PermissionDenied) as exc:
        messages.error(request, str(exc))
    return redirect(memo.get_absolute_url())
