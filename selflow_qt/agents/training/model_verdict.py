"""What a training says of the language model, and whether the next one leaves it out.

``model_record`` keeps a completed training's verdict on the model (its share of first guesses,
the never-typed lines it brought among the five shown, whether the agent uses its lines);
``model_skip`` reads the pattern's last verdict: where the model added nothing, the next training
trains no adapter until the pattern's data has grown by half.
"""

from __future__ import annotations

LM_RETRY_GROWTH = 1.5  # the model is tried again for a pattern once its data grew by half


def model_skip(
    pattern_id: int | None, n_events: int, workflow: str | None = None
) -> tuple[str | None, dict | None]:
    """Whether this training leaves the language model out, and why: it does when the pattern's
    last training showed the model added nothing (its lines were not used, or the agent with
    them was no better on the scored positions than without: no more first guesses, nor more
    never-typed lines among the five shown) and its data has not grown by half
    since.
    Returns (the reason or None, that training's record of the model)."""
    from selflow_qt.store.queries.training import last_model_verdict

    verdict = last_model_verdict(pattern_id, workflow)
    if verdict is None:
        return None, None
    _size, lm = verdict
    judged = int(lm.get("judged_size") or 0)
    share = float(lm.get("share") or 0.0)
    novel5 = float(lm.get("novel5") or 0.0)
    # the slice's verdict, or the ablation's: no first guess gained, nor a new line shown
    added_nothing = not lm.get("useful") or (share <= 0.0 and novel5 <= 0.0)
    if not lm.get("judged") or not added_nothing or n_events >= LM_RETRY_GROWTH * judged:
        return None, None
    again = int(LM_RETRY_GROWTH * judged) + 1
    return (
        f"the language model added {share:+.3f} to hit@1 on whole lines when it was last "
        f"trained for this pattern ({judged} events), so no adapter is trained; it is tried "
        f"again once the pattern has {again} events (now {n_events})"
    ), lm


def model_record(meta: dict, result: dict) -> dict:
    """What a completed training says of the language model, for the next one (``model_skip``)
    and the Training Center: its share, whether it is used, why it was left out."""
    if meta.get("lm_skipped"):  # the verdict it was left out on stands
        return {**meta["lm_verdict"], "skipped": meta["lm_skipped"]}
    ranker = result.get("ranker") or {}
    return {
        "share": result.get("lm_share"),
        "novel5": result.get("lm_novel5"),
        "mix_share": ranker.get("lm_model_share"),
        "useful": bool(ranker.get("lm_useful")),
        "judged": "lm_val_share" in ranker,  # else too few positions to judge, or left out
        "reason": ranker.get("lm_reason"),
        "skipped": meta.get("lm_skipped"),
        "judged_size": meta.get("lm_judged_size"),
    }
