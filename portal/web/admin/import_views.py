"""Estate admins: bulk CSV import of units and residents (upload → preview → confirm)."""

from flask import Response, flash, g, redirect, request, url_for
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from portal.errors import DomainError
from portal.imports import service as imports
from portal.imports.service import ImportKind
from portal.web.admin import bp
from portal.web.admin.people_forms import ImportConfirmForm, ImportForm
from portal.web.ui import render

UPLOAD_ENDPOINTS = {"admin.import_units", "admin.import_residents"}
# The file may be 5 MB; the multipart envelope around it adds a little.
UPLOAD_LIMIT = imports.MAX_BYTES + 64 * 1024


@bp.url_value_preprocessor
def limit_upload_size(endpoint, values):
    """Set before anything reads the body (the CSRF check does, before any view runs)."""
    if endpoint in UPLOAD_ENDPOINTS:
        request.max_content_length = UPLOAD_LIMIT


@bp.errorhandler(RequestEntityTooLarge)
def upload_too_large(exc):
    from portal.web.errors import error_response

    if request.endpoint in UPLOAD_ENDPOINTS:
        return error_response(413, imports.FILE_TOO_LARGE)
    return error_response(413)


def _import(kind: ImportKind, done_endpoint: str):
    form = ImportForm()
    if request.method == "POST" and "token" in request.form:
        confirm = ImportConfirmForm()
        if confirm.validate_on_submit():
            try:
                result = imports.confirm_import(current_user, g.estate, kind, confirm.token.data)
            except DomainError as exc:
                return render("admin/import.html", kind=kind, form=form, preview=None,
                              confirm_error=exc.message), exc.http_status
            if kind == ImportKind.UNITS:
                message = ngettext("%(num)d unit was imported.", "%(num)d units were imported.", result.count)
            else:
                message = ngettext("%(num)d resident was imported.", "%(num)d residents were imported.",
                                   result.count)
            flash(message, "success")
            return redirect(url_for(done_endpoint))
    preview = None
    if form.validate_on_submit():
        upload = form.file.data
        preview = imports.preview_import(current_user, g.estate, kind, upload.filename or "", upload.read())
    status = 422 if form.errors or (preview is not None and not preview.ok) else 200
    if preview is not None and imports.FILE_TOO_LARGE in preview.file_errors:
        status = 413
    return render("admin/import.html", kind=kind, form=form, preview=preview, confirm_error=None), status


@bp.route("/import/units", methods=["GET", "POST"])
def import_units():
    return _import(ImportKind.UNITS, "admin.units_list")


@bp.route("/import/residents", methods=["GET", "POST"])
def import_residents():
    return _import(ImportKind.RESIDENTS, "admin.residents_list")


def _template(kind: ImportKind) -> Response:
    return Response(imports.template_csv(kind), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{kind.value}-template.csv"'})


@bp.get("/import/units/template.csv")
def import_units_template():
    return _template(ImportKind.UNITS)


@bp.get("/import/residents/template.csv")
def import_residents_template():
    return _template(ImportKind.RESIDENTS)
