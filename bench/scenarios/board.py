"""Scenarios of the pipeline board: the page reps live on, one column's "more" cards, and one move
as the board's script posts it (JSON, with the card's version and the cards around the drop)."""

from django.urls import reverse

BUDGETS = {
    # user (session cached), pipeline, summary (2) + stages, one query for every column's first cards
    # (UNION ALL of a LIMIT per column), lost reasons, the pipelines menu: 9 for 10 deals or 100,000.
    "board_html": 10,
    "board_column_more": 8,
    # deal + permission, lock + stage + top position, the update, history row, outbox, the fresh card
    # and the totals of the two columns it touched: 18.
    "board_move": 20,
}


def scenarios(ctx):
    from opportunities.models import Opportunity
    from pipeline.models import Stage

    board_url = reverse("pipeline:board")
    open_stage_ids = list(getattr(ctx, "open_stage_ids", None) or [])
    if len(open_stage_ids) < 2:
        open_stage_ids = list(
            Stage.objects.filter(pipeline=ctx.pipeline, kind=Stage.Kind.OPEN)
            .order_by("order")
            .values_list("pk", flat=True)
        )
    first, second = open_stage_ids[0], open_stage_ids[1]
    more_url = reverse("pipeline:column_more", args=[ctx.pipeline.pk, first])

    def board_html():
        response = ctx.client.get(board_url)
        assert response.status_code == 200, response.status_code
        assert b"data-opportunity-id" in response.content
        return response

    def board_column_more():
        response = ctx.client.get(more_url, {"offset": 20})
        assert response.status_code == 200, response.status_code
        return response

    # One deal goes back and forth between the first two open stages with the version the board
    # rendered it with; not the deal core.move_service moves (the last of the sample).
    mover = {"pk": ctx.opportunity_ids[-2] if len(ctx.opportunity_ids) > 1 else ctx.opportunity_ids[0]}

    def board_move():
        if "version" not in mover:
            deal = Opportunity.objects.only("version", "stage_id").get(pk=mover["pk"])
            mover["version"], mover["stage"] = deal.version, deal.stage_id
        target = second if mover["stage"] == first else first
        response = ctx.client.post(
            reverse("pipeline:move", args=[mover["pk"]]),
            {"stage": target, "version": mover["version"], "filters": ""},
            headers={"Accept": "application/json"},
        )
        assert response.status_code == 200, (response.status_code, response.content[:300])
        data = response.json()
        assert data["stage"] == target
        mover["version"], mover["stage"] = data["version"], target
        return response

    return [
        ("board_html", board_html),
        ("board_column_more", board_column_more),
        ("board_move", board_move),
    ]
