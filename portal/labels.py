"""Words the templates translate from data (states, roles, statuses, categories), e.g. ``_(assessment.state)``.

They are listed here, marked with ``N_``, so that ``make messages`` extracts them into the catalogs.
"""

from __future__ import annotations


def N_(message: str) -> str:
    return message


ORGANISATION_STATUSES = (N_("pending"), N_("verified"), N_("rejected"))
ROLES = (N_("provider_editor"), N_("provider_admin"), N_("reviewer"), N_("signing_officer"), N_("regulator_admin"))
ASSESSMENT_STATES = (
    N_("draft"),
    N_("submitted"),
    N_("in_review"),
    N_("changes_requested"),
    N_("recommended"),
    N_("attested"),
    N_("rejected"),
    N_("withdrawn"),
)
ANSWER_STATUSES = (
    N_("implemented"),
    N_("partially_implemented"),
    N_("planned"),
    N_("not_implemented"),
    N_("not_applicable"),
)
PILLARS = (N_("security"), N_("privacy"))
CATEGORIES = (
    N_("telecom_operator"),
    N_("infrastructure_provider"),
    N_("cloud_hosting"),
    N_("equipment_manufacturer"),
    N_("device_manufacturer"),
    N_("software_producer"),
    N_("digital_platform"),
)
ATTESTATION_STATUSES = (N_("active"), N_("suspended"), N_("revoked"), N_("expired"), N_("superseded"))
CATALOG_STATUSES = (N_("published"), N_("retired"))
FINDING_VERDICTS = (N_("satisfied"), N_("not_satisfied"), N_("needs_clarification"))
REVIEW_STATUSES = (N_("unreviewed"), N_("recorded"), N_("carried"), N_("to_recheck"))
RECOMMENDATIONS = (N_("approve"), N_("reject"), N_("full"), N_("conditional"))
