"""Pages for coming into the platform as a co-operative: the application and its review,
an invitation link, and a member's own co-operative."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.addresses import client_address
from accounts.choices import Role
from accounts.permissions import get_visible_or_404, is_admin, role_required
from accounts.phone import mask_phone
from common.forms import add_service_error
from common.private_files import private_file_response
from common.request_limits import request_body_limit

from .. import selectors
from ..choices import ApplicationStatus
from ..exceptions import FarmsError
from ..forms import ApplicationReviewForm, CooperativeApplicationForm
from ..licences import licence_body_limit
from ..models import CooperativeApplication
from ..services import applications
from ..services import invitations as invitation_services

# Co-operative applications


def _details(form: CooperativeApplicationForm) -> applications.ApplicationDetails:
    data = form.cleaned_data
    return applications.ApplicationDetails(
        name=data["name"],
        registration_code=data["registration_code"],
        province=data["province"],
        region=data["region"],
        contact_name=data["contact_name"],
        contact_phone=data["contact_phone"],
        licence=data.get("licence") or None,
    )


@request_body_limit(licence_body_limit)
@login_required
def application_apply(request):
    """A signed-up person applies for her co-operative; one under way opens instead."""
    if (mine := selectors.open_application_of(request.user)) is not None:
        return redirect("farms:application_detail", pk=mine.pk)
    initial = {"contact_name": request.user.display_name, "contact_phone": request.user.phone}
    form = CooperativeApplicationForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            application = applications.apply_for_cooperative(
                applicant=request.user, details=_details(form)
            )
        except FarmsError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request, _("Your application was sent. The platform admin will review it.")
            )
            return redirect("farms:application_detail", pk=application.pk)
    return render(
        request,
        "farms/application_form.html",
        {
            "form": form,
            "past": selectors.applications_visible_to(request.user).filter(applicant=request.user)[
                :10
            ],
        },
    )


def _application_initial(application: CooperativeApplication) -> dict:
    return {
        field: getattr(application, field)
        for field in (
            "name",
            "registration_code",
            "province",
            "region",
            "contact_name",
            "contact_phone",
        )
    }


@never_cache
@request_body_limit(licence_body_limit)
@login_required
def application_detail(request, pk: int):
    """The applicant follows (and, when asked, corrects) her application; the platform admin
    reviews it here."""
    application = get_visible_or_404(selectors.applications_visible_to(request.user), pk=pk)
    mine = application.applicant_id == request.user.pk
    edit_form = None
    if mine and application.status == ApplicationStatus.CHANGES_REQUESTED:
        edit_form = CooperativeApplicationForm(
            request.POST or None,
            request.FILES or None,
            initial=_application_initial(application),
            licence_required=False,
        )
        if request.method == "POST" and edit_form.is_valid():
            try:
                applications.resubmit_application(
                    applicant=request.user,
                    application_id=application.pk,
                    details=_details(edit_form),
                )
            except FarmsError as error:
                add_service_error(edit_form, error)
            else:
                messages.success(request, _("Your application was sent again for review."))
                return redirect("farms:application_detail", pk=application.pk)
    review_form = None
    if is_admin(request.user) and application.status == ApplicationStatus.PENDING:
        review_form = ApplicationReviewForm()
    return render(
        request,
        "farms/application_detail.html",
        {"application": application, "edit_form": edit_form, "review_form": review_form},
    )


@require_POST
@role_required(Role.ADMIN)
def application_review(request, pk: int):
    application = get_visible_or_404(selectors.applications_visible_to(request.user), pk=pk)
    form = ApplicationReviewForm(request.POST)
    if form.is_valid():
        decision, reason = form.cleaned_data["decision"], form.cleaned_data["reason"]
        address = client_address(request)
        try:
            if decision == "approve":
                cooperative = applications.approve_application(
                    reviewed_by=request.user, application_id=pk, address=address
                )
                messages.success(
                    request,
                    _("%(cooperative)s was created, with the applicant as its manager.")
                    % {"cooperative": cooperative.name},
                )
            elif decision == "return":
                applications.request_changes(
                    reviewed_by=request.user, application_id=pk, reason=reason, address=address
                )
                messages.success(request, _("The application was returned for changes."))
            else:
                applications.decline_application(
                    reviewed_by=request.user, application_id=pk, reason=reason, address=address
                )
                messages.success(request, _("The application was declined."))
        except FarmsError as error:
            add_service_error(form, error)
        else:
            return redirect("farms:application_review_list")
    return render(
        request,
        "farms/application_detail.html",
        {"application": application, "edit_form": None, "review_form": form},
        status=400,
    )


@role_required(Role.ADMIN)
def application_review_list(request):
    return render(
        request,
        "farms/application_review_list.html",
        {"applications": selectors.applications_to_review()[:100]},
    )


@never_cache
@login_required
def application_licence(request, pk: int):
    """The licence photo: to the applicant and the platform admin only (404 for anyone else)."""
    application = get_visible_or_404(selectors.applications_visible_to(request.user), pk=pk)
    return private_file_response(
        application.licence,
        filename=f"licence-{application.pk}.jpg",
        content_type="image/jpeg",
        as_attachment=False,
    )


# An invitation link and a member's co-operative


@never_cache
def join(request, token: str):
    """The page an invitation SMS links to. Signed out: sign up with the invited number (or
    sign in), then come back here. Signed in with that number: accept or decline."""
    invitation = selectors.invitation_by_token(invitation_services.token_hash(token))
    if invitation is None:
        raise Http404(_("This invitation link is not valid."))
    here = request.get_full_path()
    context = {"invitation": invitation, "open": invitation.is_open(timezone.now())}
    user = request.user
    if not user.is_authenticated:
        local_number = invitation.phone.removeprefix("+86")
        context["sign_up_url"] = (
            f"{reverse('accounts:sign_up')}?{urlencode({'phone': local_number, 'next': here})}"
        )
        context["sign_in_url"] = f"{reverse('accounts:sign_in')}?{urlencode({'next': here})}"
        return render(request, "farms/join.html", context)
    if user.phone != invitation.phone:
        context["other_number"] = mask_phone(invitation.phone)
        return render(request, "farms/join.html", context, status=403)
    if request.method == "POST" and context["open"]:
        try:
            if request.POST.get("answer") == "accept":
                membership = invitation_services.accept_invitation(
                    user=user, invitation_id=invitation.pk, address=client_address(request)
                )
                messages.success(
                    request,
                    _("You are now a member of %(cooperative)s.")
                    % {"cooperative": membership.cooperative},
                )
                return redirect("farms:my_cooperative")
            invitation_services.decline_invitation(user=user, invitation_id=invitation.pk)
            messages.success(request, _("You declined the invitation."))
            return redirect("accounts:workspace")
        except FarmsError as error:
            context["error"] = error.message
    return render(request, "farms/join.html", context)


@login_required
def my_cooperative(request):
    """Her co-operative: its name, place and managers; where a farmer lands on joining."""
    cooperative = selectors.cooperative_of(request.user)
    managers = (
        selectors.members_of_cooperative(cooperative).filter(is_manager=True) if cooperative else []
    )
    return render(
        request,
        "farms/my_cooperative.html",
        {"cooperative": cooperative, "managers": managers},
    )
