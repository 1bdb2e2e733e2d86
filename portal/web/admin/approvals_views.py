"""The approval queue: residents who signed up on the join page wait here for an admin."""

from flask import flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from portal.errors import DomainError, NotFound
from portal.onboarding import approvals, join
from portal.web.admin import bp
from portal.web.forms import RejectForm
from portal.web.inputs import db_int, page_arg
from portal.web.ui import render


@bp.context_processor
def approvals_badge() -> dict:
    """`pending_approvals_count()` for the admin nav: one query, only when the nav renders."""

    def pending_approvals_count() -> int:
        if "pending_approvals_count" not in g:
            g.pending_approvals_count = approvals.pending_count(g.estate) if g.get("estate") else 0
        return g.pending_approvals_count

    return {"pending_approvals_count": pending_approvals_count}


def _filters() -> approvals.ApprovalFilters:
    status = request.args.get("status", approvals.ApprovalFilters.status)
    return approvals.ApprovalFilters(q=request.args.get("q", ""), status=status)


def _queue(status_code: int = 200, bulk_error: str | None = None, selected: frozenset[int] = frozenset()):
    filters = _filters()
    page = page_arg()
    join_code = join.ensure_join_code(current_user, g.estate)
    return render(
        "admin/approvals.html",
        block="approval_table",
        approvals=approvals.list_approvals(g.estate, filters, page=page),
        filters=filters,
        join_code=join_code,
        join_link=url_for("onboarding.join", slug=g.estate.slug, _external=True),
        code_link=url_for("onboarding.join_by_code", code=join_code, _external=True),
        bulk_error=bulk_error,
        selected=selected,
        approval_status=approvals.effective_status,
    ), status_code


@bp.get("/approvals/")
def approvals_list():
    return _queue()


@bp.get("/approvals/<int:approval_id>")
def approval_detail(approval_id: int, form: RejectForm | None = None, status_code: int = 200):
    approval = approvals.get_approval(g.estate, approval_id)
    return render(
        "admin/approval_detail.html", approval=approval, decider=approvals.decider_of(approval),
        form=form or RejectForm(), status=approvals.effective_status(approval),
    ), status_code


@bp.post("/approvals/<int:approval_id>/approve")
def approval_approve(approval_id: int):
    try:
        approval = approvals.decide_one(g.access, approval_id, True, "")
    except NotFound:  # not a message to show: the 404 page
        raise
    except DomainError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for("admin.approval_detail", approval_id=approval_id))
    flash(_("%(name)s was approved and can sign in now.", name=approval.user.display_name), "success")
    return redirect(url_for("admin.approvals_list"))


@bp.post("/approvals/<int:approval_id>/reject")
def approval_reject(approval_id: int):
    approvals.get_approval(g.estate, approval_id)  # another estate's id: 404 before anything else
    form = RejectForm()
    if not form.validate_on_submit():
        return approval_detail(approval_id, form=form, status_code=422)
    try:
        approval = approvals.decide_one(g.access, approval_id, False, form.reason.data)
    except NotFound:  # not a message to show: the 404 page
        raise
    except DomainError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for("admin.approval_detail", approval_id=approval_id))
    flash(_("The request of %(name)s was rejected. They have been told why.", name=approval.user.display_name),
          "success")
    return redirect(url_for("admin.approvals_list"))


@bp.post("/approvals/bulk")
def approvals_bulk():
    ids = request.form.getlist("ids", type=db_int)
    approve = request.form.get("action") == "approve"
    try:
        result = approvals.decide(g.access, ids, approve, request.form.get("reason", ""))
    except NotFound:  # not a message to show: the 404 page
        raise
    except DomainError as exc:
        return _queue(422, bulk_error=exc.message, selected=frozenset(ids))
    if result.decided:
        n = len(result.decided)
        if approve:
            flash(ngettext("%(num)d request was approved.", "%(num)d requests were approved.", n), "success")
        else:
            flash(ngettext("%(num)d request was rejected.", "%(num)d requests were rejected.", n), "success")
    if result.skipped:
        flash(ngettext("%(num)d request had already been decided and was left as it was.",
                       "%(num)d requests had already been decided and were left as they were.",
                       len(result.skipped)), "warning")
    return redirect(url_for("admin.approvals_list"))
