"""Traceability's pages: the workspaces under /trace/, and the public trace pages (/t/<code>
and the GS1 Digital Link paths /01/<GTIN>/10/<lot>) with no sign-in. Each views module lists
its own routes."""

from .api import epcis_capture, epcis_query
from .views import certificates, epcis, gate, journey, partners, public, recalls

app_name = "traceability"

urlpatterns = [
    *certificates.urlpatterns,  # the farmer's certificates and their labels
    *gate.urlpatterns,  # the market gate: entry checks, rapid tests, laboratory results
    *journey.urlpatterns,  # one lot's journey, backward and forward
    *epcis_query.urlpatterns,  # /epcis/: the EPCIS 2.0 query interface (GS1's REST binding)
    *epcis.urlpatterns,  # a lot's or a shipment's EPCIS events as one document
    *public.urlpatterns,  # /t/<code>, the Digital Link paths and their JSON twin
    *recalls.urlpatterns,  # recalls: scope, notices, acknowledgements, report
    *epcis_capture.urlpatterns,  # EPCIS 2.0 capture: /epcis/capture and its jobs
    *partners.urlpatterns,  # partner systems' keys for the EPCIS interfaces
]
