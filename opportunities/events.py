"""What side effects (webhooks, e-mails) are told about an opportunity: a snapshot at the change."""


def opportunity_payload(opp) -> dict:
    return {
        "id": opp.pk,
        "name": opp.name,
        "organization": opp.organization_id,
        "contact": opp.contact_id,
        "pipeline": opp.pipeline_id,
        "stage": opp.stage_id,
        "status": opp.status,
        "amount": str(opp.amount),
        "currency": opp.currency,
        "probability": opp.probability,
        "expected_close_date": opp.expected_close_date.isoformat() if opp.expected_close_date else None,
        "owner": opp.owner_id,
        "lost_reason": opp.lost_reason_id,
        "closed_at": opp.closed_at.isoformat() if opp.closed_at else None,
        "version": opp.version,
        "archived": opp.archived_at is not None,
    }
