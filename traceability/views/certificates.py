"""Pages: the farmer's certificates on her phone. From a lot's page she issues one (the form
prefilled from the lot), lists them, opens one, downloads its label or QR, and revokes it.
Co-operative managers do the same for their members' lots; platform admins read and revoke.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.choices import Role
from accounts.permissions import get_visible_or_404, role_required
from common.forms import add_service_error

from ..choices import CertificateBasis
from ..codes import grouped
from ..exceptions import CertificateError
from ..forms import CertificateForm, CertificateRevokeForm, SheetCopiesForm
from ..labels import LabelFile, LabelLayout, label_file, qr_file
from ..selectors.certificates import (
    certificate_prefill,
    certificate_trace_url,
    certificates_visible_to,
    kg_left_to_certify,
    lots_certifiable_by,
)
from ..services.certificates import issue_certificate, revoke_certificate

CERTIFICATE_ROLES = (Role.FARMER, Role.COOPERATIVE_MANAGER)  # platform admins hold every role
PAGE_SIZE = 30


@role_required(*CERTIFICATE_ROLES)
def certificate_list(request):
    certificates = certificates_visible_to(request.user)
    lot_id = request.GET.get("lot", "")
    if lot_id.isdigit():
        certificates = certificates.filter(lot_id=int(lot_id))
    else:
        lot_id = ""
    page = Paginator(certificates, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "traceability/certificates/certificate_list.html",
        {"page": page, "lot_id": lot_id},
    )


@role_required(*CERTIFICATE_ROLES)
def certificate_create(request, lot_pk: int):
    lot = get_visible_or_404(lots_certifiable_by(request.user), pk=lot_pk)
    prefill = certificate_prefill(lot)
    initial = {
        "quantity_kg": prefill.quantity_kg,
        "product_name": prefill.product_name,
        "origin": prefill.origin,
        "producer_name": prefill.producer_name,
        "producer_contact": prefill.producer_contact,
        "issued_on": prefill.issued_on,
    }
    form = CertificateForm(
        request.POST or None, initial=initial, producer_names=prefill.producer_names
    )
    if request.method == "POST" and form.is_valid():
        try:
            certificate = issue_certificate(lot=lot, by=request.user, **form.service_arguments())
        except CertificateError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Certificate issued. Print its label below."))
            return redirect("traceability:certificate_detail", pk=certificate.pk)
    return render(
        request,
        "traceability/certificates/certificate_form.html",
        {
            "form": form,
            "lot": lot,
            "kg_left": prefill.quantity_kg,
            "test_bases": " ".join(sorted(CertificateBasis.needing_test_record())),
        },
    )


@role_required(*CERTIFICATE_ROLES)
def certificate_detail(request, pk: int):
    certificate = get_visible_or_404(certificates_visible_to(request.user), pk=pk)
    return render(
        request,
        "traceability/certificates/certificate_detail.html",
        {
            "certificate": certificate,
            "code": grouped(certificate.trace_code.code),
            "trace_url": certificate_trace_url(certificate),
            "kg_left": kg_left_to_certify(certificate.lot),
            "copies_form": SheetCopiesForm(),
            "revoke_form": CertificateRevokeForm(),
        },
    )


@require_POST
@role_required(*CERTIFICATE_ROLES)
def certificate_revoke(request, pk: int):
    certificate = get_visible_or_404(certificates_visible_to(request.user), pk=pk)
    form = CertificateRevokeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the certificate is revoked."))
    else:
        try:
            revoke_certificate(
                certificate=certificate, by=request.user, reason=form.cleaned_data["reason"]
            )
        except CertificateError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, _("The certificate was revoked; its code no longer opens."))
    return redirect("traceability:certificate_detail", pk=certificate.pk)


def _download(file: LabelFile) -> HttpResponse:
    response = HttpResponse(file.content, content_type=file.content_type)
    response["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@role_required(*CERTIFICATE_ROLES)
def certificate_label(request, pk: int):
    certificate = get_visible_or_404(certificates_visible_to(request.user), pk=pk)
    layout = request.GET.get("layout", LabelLayout.LABEL)
    if layout not in set(LabelLayout):
        layout = LabelLayout.LABEL
    copies = None
    if layout == LabelLayout.A4:
        form = SheetCopiesForm(request.GET)
        copies = form.cleaned_data["copies"] if form.is_valid() else None
    return _download(label_file(certificate, layout=layout, copies=copies))


@role_required(*CERTIFICATE_ROLES)
def certificate_qr(request, pk: int):
    certificate = get_visible_or_404(certificates_visible_to(request.user), pk=pk)
    return _download(qr_file(certificate))


urlpatterns = [
    path("trace/certificates/", certificate_list, name="certificate_list"),
    path(
        "trace/lots/<int:lot_pk>/certificates/new/",
        certificate_create,
        name="certificate_create",
    ),
    path("trace/certificates/<int:pk>/", certificate_detail, name="certificate_detail"),
    path("trace/certificates/<int:pk>/revoke/", certificate_revoke, name="certificate_revoke"),
    path("trace/certificates/<int:pk>/label.pdf", certificate_label, name="certificate_label"),
    path("trace/certificates/<int:pk>/qr.png", certificate_qr, name="certificate_qr"),
]
