"""Refusals of the traceability app. Each names the input at fault in `field` where one is."""

from django.utils.translation import gettext_lazy as _

from common.exceptions import DomainError, RefusalKind


class TraceabilityError(DomainError):
    default_message = _("The traceability request was refused.")


class UnknownTraceCode(TraceabilityError):
    """One answer for a code that never existed and one that was revoked elsewhere: the gate
    and the public page do not confirm which codes exist."""

    default_message = _("No label has this trace code.")
    kind = RefusalKind.NOT_FOUND
    field = "code"


# Certificates (traceability.services.certificates)


class CertificateError(TraceabilityError):
    default_message = _("The certificate was refused.")


class CertificateLotNotAvailable(CertificateError):
    """One answer for a lot that does not exist and one of another farmer's: nothing about
    the lot is confirmed."""

    default_message = _("Choose a harvest lot of one of your farms.")
    field = "lot"


class InvalidCertificateQuantity(CertificateError):
    default_message = _("Enter a quantity above 0 kg.")
    field = "quantity_kg"


class CertificateExceedsLot(CertificateError):
    default_message = _("This is more than the lot has left to certify.")
    field = "quantity_kg"


class CommitmentNotMade(CertificateError):
    default_message = _("Tick this commitment: a certificate carries all three.")


class InvalidCertificateBasis(CertificateError):
    default_message = _("Choose what the commitment rests on.")
    field = "basis"


class MissingTestRecord(CertificateError):
    default_message = _("A test basis needs the test report number and the test date.")
    field = "test_report_number"


class InvalidCertificateDate(CertificateError):
    default_message = _("The issue date cannot be in the future or before the harvest.")
    field = "issued_on"


class CertificateFieldMissing(CertificateError):
    default_message = _("Fill in this field.")


class CertificateTextTooLong(CertificateError):
    """Its message names the limit."""


class CertificateNotFound(CertificateError):
    """One answer for a certificate that does not exist and one the user may not see."""

    default_message = _("No such certificate.")
    kind = RefusalKind.NOT_FOUND


class CertificateAlreadyRevoked(CertificateError):
    default_message = _("This certificate was revoked already.")
    kind = RefusalKind.CONFLICT


class UnknownScan(TraceabilityError):
    """The scan a page's location refers to: unknown, or its token expired or was altered."""

    default_message = _("This page view is unknown or too old; open the page again.")
    kind = RefusalKind.NOT_FOUND
    field = "scan"


class InvalidScanLocation(TraceabilityError):
    default_message = _("Give a longitude between −180 and 180 and a latitude between −90 and 90.")
    kind = RefusalKind.INVALID
    field = "latitude"


class ScanAlreadyLocated(TraceabilityError):
    default_message = _("This page view already has its location.")
    kind = RefusalKind.CONFLICT
    field = "scan"


# --- The market gate (services/gate.py) ------------------------------------------------------


class UnknownLotCode(TraceabilityError):
    default_message = _("No harvest lot has this lot code.")
    field = "lot_code"


class InvalidVehiclePlate(TraceabilityError):
    default_message = _("Enter a Chinese vehicle plate, e.g. 京A12345 or 京AD12345.")
    field = "vehicle_plate"


class InvalidGrossWeight(TraceabilityError):
    default_message = _("Enter a gross weight above 0 kg and at most 100,000 kg.")
    field = "gross_weight_kg"


class InvalidArrivalTime(TraceabilityError):
    default_message = _("This time cannot be in the future.")
    field = "arrived_at"


class InvalidInhibition(TraceabilityError):
    default_message = _("Enter the inhibition as a percentage from 0 to 100.")
    field = "inhibition_pct"


class InvalidTestDetails(TraceabilityError):
    default_message = _("Fill this in.")


class NotGateStaff(TraceabilityError):
    """Only the staff of the market checks batches in at its gate."""

    default_message = _("Only the staff of this market may record its entry checks.")
    kind = RefusalKind.FORBIDDEN


class NotGateSupervisor(TraceabilityError):
    default_message = _("Only a supervisor of this market may do that.")
    kind = RefusalKind.FORBIDDEN


class RapidTestNotOpen(TraceabilityError):
    """A held batch waits for the laboratory; a closed one takes no more tests."""

    default_message = _("This batch is held: record the laboratory's result instead.")
    kind = RefusalKind.CONFLICT


class LaboratoryResultNotExpected(TraceabilityError):
    default_message = _("Only a batch held by a positive rapid test takes a laboratory result.")
    kind = RefusalKind.CONFLICT


class UnknownCertificateCode(UnknownTraceCode):
    """At the gate an unknown or revoked code is bad input on the form's `code` (400), with
    the public page's one message for both."""

    kind = RefusalKind.INVALID


# Recalls


class RecallLotNotFound(TraceabilityError):
    """One answer for a lot that does not exist and one the user may not recall (an id in the
    request's body, like common.exceptions.NotFoundOrNotYours)."""

    default_message = _("No lot you may recall has this number.")
    field = "lot"


class RecallAlreadyOpen(TraceabilityError):
    default_message = _("This lot already has an open recall.")
    kind = RefusalKind.CONFLICT
    field = "lot"


class InvalidRecall(TraceabilityError):
    """Bad input to a recall: the field at fault is named."""

    default_message = _("The recall was refused.")


class RecallNotFound(TraceabilityError):
    default_message = _("No recall you may see has this number.")
    kind = RefusalKind.NOT_FOUND


class RecallClosed(TraceabilityError):
    default_message = _("This recall is closed.")
    kind = RefusalKind.CONFLICT


class RecallForbidden(TraceabilityError):
    default_message = _(
        "Only the lot's co-operative managers, the supervisors of the markets where it was "
        "checked in or traded, and the platform admin may do this."
    )
    kind = RefusalKind.FORBIDDEN


class NotRecallParty(TraceabilityError):
    default_message = _("Only someone who was told of this recall may acknowledge it.")
    kind = RefusalKind.FORBIDDEN


class DispositionTooLarge(TraceabilityError):
    default_message = _("More than what is left of this record to account for.")
    field = "returned_kg"


class RecallReportNotReady(TraceabilityError):
    default_message = _("The report is made when the recall is closed.")
    kind = RefusalKind.CONFLICT
